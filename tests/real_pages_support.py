"""Where the saved real product pages are, and what a test does when they are not there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def need_real_pages(path: Path) -> Path:
    """``path`` if the saved real pages are there; else skip (a newcomer's clone), or fail where
    ``LOOKALIKE_REQUIRE_REAL_PAGES=1`` (set by CI, which has them: a missing folder must not pass as a skip)."""
    if path.is_dir():
        return path
    if os.environ.get("LOOKALIKE_REQUIRE_REAL_PAGES") == "1":
        pytest.fail(f"the real pages are required (LOOKALIKE_REQUIRE_REAL_PAGES=1) but {path} is not present")
    pytest.skip(f"{path} not present (it ships beside the repository in the workplace)")
