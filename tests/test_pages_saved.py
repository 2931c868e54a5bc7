"""Saved-page cases (web-poet idiom): ``tests/pages/<case>/`` holds ``page.html``, ``url.txt`` and the
hand-editable ``expected.json`` (the full Listing, price as a decimal string; ``null`` for "not a
product page").  Add a case by adding a folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from crawlers.items import Listing
from crawlers.pages import ProductPage

CASES_DIR = Path(__file__).parent / "pages"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())


def listing_as_json(item: Listing | None) -> dict[str, Any] | None:
    if item is None:
        return None
    data = attrs.asdict(item)
    data["price"] = None if item.price is None else str(item.price)
    return data


def test_every_case_is_complete() -> None:
    assert len(CASES) >= 8
    for case in CASES:
        missing = [name for name in ("page.html", "url.txt", "expected.json") if not (case / name).is_file()]
        assert not missing, f"{case.name} lacks {missing}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_saved_page(case: Path) -> None:
    url = (case / "url.txt").read_text(encoding="utf-8").strip()
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    item = ProductPage(url, (case / "page.html").read_bytes()).to_item()
    assert listing_as_json(item) == expected


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_saved_page_as_text_gives_the_same_item(case: Path) -> None:
    url = (case / "url.txt").read_text(encoding="utf-8").strip()
    html = (case / "page.html").read_text(encoding="utf-8")
    assert ProductPage(url, html).to_item() == ProductPage(url, html.encode("utf-8")).to_item()
