"""Browser tests: Playwright for Python driving Debian's Chromium against the app on a free loopback port.

Chromium comes from the system (``/usr/bin/chromium``, or ``LOOKALIKE_CHROMIUM``); Playwright's own browser
download is never used. Where Chromium is missing the tests skip with that reason, unless
``LOOKALIKE_REQUIRE_BROWSER=1`` (set by CI), where they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("LOOKALIKE_CHROMIUM", "/usr/bin/chromium"))


def _require_browser() -> None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    if os.environ.get("LOOKALIKE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"Chromium is required (LOOKALIKE_REQUIRE_BROWSER=1) but {CHROMIUM} is missing")
    pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium); browser tests skipped")


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests, closed when they end: Playwright's sync API keeps an event loop
    running in this thread, which would break every later test that runs its own (Starlette's TestClient)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def chromium() -> Path:
    """The system Chromium, for tests that launch it themselves (crawls of ``render: browser`` profiles)."""
    _require_browser()
    return CHROMIUM
