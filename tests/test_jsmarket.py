"""The demo's JavaScript marketplace (data/demo/jsmarket.py) without a browser: catalogue, search, API, shells.

Crawling it through Chromium is tested in tests/browser/test_browser_crawl.py.
"""

from __future__ import annotations

import json

from crawlers.pages import ProductPage
from data.demo.jsmarket import JsMarket


def test_the_javascript_marketplace_catalogue() -> None:
    listings = [{"id": f"L{n:04d}", "title": f"Item {n}", "images": [f"listing-images/L{n:04d}-0.jpg"],
                 "label": {"class": "clean"}} for n in range(1, 31)]
    market = JsMarket(listings, filler=200)
    assert len(market.items) == 210 and len(market.item_paths()) == 10
    assert {item["world_id"] for item in market.items if "world_id" in item} == {
        f"L{n:04d}" for n in range(2, 31, 3)}
    # Title matches come first; every word must match.
    hits = market.search("lip plumper")
    assert hits and all("lip plumper" in (h["title"] + " " + h["description"]).casefold() for h in hits)
    assert market.search("") == [] and market.search("no-such-word-anywhere") == []
    # The index folds case and compatibility forms and drops invisible characters, not other scripts' letters.
    hidden = JsMarket([{"id": "L0001", "title": "x"}, {"id": "L0002", "title": "Su\u2060mmit ＢＯＴＴＬＥ"},
                       {"id": "L0003", "title": "x"}, {"id": "L0004", "title": "x"},
                       {"id": "L0005", "title": "Ѕummit bottle"}], filler=0)
    assert [h["id"] for h in hidden.search("summit bottle")] == ["j-l0002"]
    status, kind, body, _ = market.respond("/js/api/search", {"q": ["item 29"]}, origin="http://m")
    assert status == 200 and kind == "application/json" and b'"total": 1' in body
    assert market.respond("/elsewhere", {}, origin="http://m") is None


def test_every_page_is_an_empty_shell_until_its_script_runs() -> None:
    listings = [{"id": "L0001", "title": "x"}, {"id": "L0002", "title": "Glowmint Serum", "price": "9.50",
                 "currency": "EUR", "images": ["listing-images/L0002-0.jpg"], "brand_text": "Glowmint"}]
    market = JsMarket(listings, filler=5)
    status, _kind, shell, _ = market.respond("/js/item/j-l0002", {}, origin="http://m")
    assert status == 200 and b"Glowmint" not in shell
    assert ProductPage("http://m/js/item/j-l0002", shell).to_item() is None
    item = json.loads(market.respond("/js/api/item/j-l0002", {}, origin="http://m")[2])
    assert item["title"] == "Glowmint Serum" and item["images"] == ["http://m/img/L0002-0.jpg"]
    # The server-rendered twin carries the same listing in its HTML, which the parser reads as it is.
    twin = ProductPage("http://m/jsr/item/j-l0002", market.respond("/jsr/item/j-l0002", {}, origin="http://m")[2])
    listing = twin.to_item()
    assert listing is not None and listing.title == "Glowmint Serum" and str(listing.price) == "9.50"
    assert listing.currency == "EUR" and listing.brand == "Glowmint"
    assert market.respond("/js/item/nope", {}, origin="http://m")[0] == 404
