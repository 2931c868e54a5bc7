"""Crawls of JavaScript marketplaces through Chromium (profiles with ``render: browser``).

Each crawl runs as the product runs it (``crawlers.run.run_crawl``: a child process, Scrapy, scrapy-playwright,
the system Chromium) against local servers.  The recorder is an address the network policy refuses; the
proof that the browser never reached it is the recorder's own count of accepted connections.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from crawl_support import FAST_CRAWL, write_tiny_world
from jsshop_support import ForwardingProxy, JsShop, Recorder
from sqlalchemy import select

from core.settings import load_settings
from crawlers.pages import ProductPage
from crawlers.run import CrawlRequest, run_crawl
from data.demo.marketplace import DemoMarketplace
from storage.db import Database
from storage.models import CrawlRun, Listing

pytestmark = pytest.mark.slow

PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                   "all_proxy", "ALL_PROXY")


@pytest.fixture(autouse=True)
def _browser_and_no_proxy(chromium: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOKALIKE_BROWSER_EXECUTABLE", str(chromium))
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _profile(tmp_path: Path, *, url: str = "/search?q={query}", load: str = "[]") -> Path:
    path = tmp_path / "jsshop.yaml"
    path.write_text(
        "name: jsshop\nkind: marketplace\n"
        f'search:\n  url: "{url}"\n  result_links: {{css: "a.result-link"}}\n'
        "requests_per_minute: 0\nconcurrency: 2\nparser: structured\nrender: browser\n"
        f'browser:\n  wait_for: {{css: "#app[data-state=ready]"}}\n  wait_seconds: 5\n  load: {load}\n',
        encoding="utf-8")
    return path


def _crawl(tmp_path: Path, request: CrawlRequest) -> tuple[CrawlRun, list[Listing]]:
    db_url = f"sqlite:///{tmp_path / 'crawl.db'}"
    run_id = run_crawl(load_settings(data_dir=tmp_path / "data", db_url=db_url), request)
    db = Database(db_url)
    try:
        with db.session() as session:
            run = session.get(CrawlRun, run_id)
            listings = list(session.scalars(select(Listing).order_by(Listing.title)))
            session.expunge_all()
    finally:
        db.dispose()
    return run, listings


def test_a_refused_sub_request_is_counted_as_blocked_and_never_made(tmp_path: Path) -> None:
    recorder = Recorder()
    shop = JsShop(recorder.url)
    try:
        run, listings = _crawl(tmp_path, CrawlRequest(
            profile=str(_profile(tmp_path)), base_url=shop.url, queries=["glowmint"], images=False,
            scrapy_overrides={**FAST_CRAWL, "RETRY_TIMES": 0, "LOOKALIKE_BROWSER_PAGES_PER_CONTEXT": 2}))
    finally:
        shop.close()
        recorder.close()
    assert run.status == "finished", run.stats.get("log_tail") or run.stats
    # Never made: the refused address accepted no connection at all, whichever way the page reached for it.
    assert recorder.connections == 0 and recorder.hits == []
    browser = run.stats["browser"]
    assert browser["blocked_at/route"] >= 2        # the beacon (fetch) and the iframe of the search page
    assert browser["blocked_at/proxy"] >= 3        # the /api/hop redirect of two items, the /go/3 navigation
    assert browser["blocked"] == browser["blocked_at/route"] + browser["blocked_at/proxy"]
    assert run.stats["refused"]["private_address"] >= browser["blocked_at/route"]
    assert browser["pages_opened"] == browser["pages_closed"] == browser["pages"] == 4
    assert browser["contexts_recycled"] == 1  # 2 pages a context: the first closed, the second at the end
    # The rendered DOM went to the ordinary page classes: the listings the script built, not empty shells.
    assert [(row.title, row.price, row.currency, row.seller, row.sku) for row in listings] == [
        ("Glowmint Night Cream", Decimal("24.50"), "GBP", "Blue Fox", "GM-NC50"),
        ("Glowmint Serum 30 ml", Decimal("19.90"), "EUR", "Lumen Goods", "GM-30"),
    ]
    assert {row.sku: row.image_urls for row in listings} == {"GM-30": [f"{shop.url}/img/1.png"],
                                                             "GM-NC50": [f"{shop.url}/img/2.png"]}
    # Photos are read from the DOM but not loaded by the page (the profile does not load images).
    assert browser["aborted/image"] >= 2 and not any(p.startswith("/img/") for p in shop.requests)
    # Without the browser the same page is an empty shell: nothing to parse.
    assert ProductPage(f"{shop.url}/item/1", shop.shell("item", "1")).to_item() is None


def test_every_page_is_bounded_and_closed(tmp_path: Path) -> None:
    recorder = Recorder()
    shop = JsShop(recorder.url)
    try:
        run, listings = _crawl(tmp_path, CrawlRequest(
            profile=str(_profile(tmp_path, url="/{query}")), base_url=shop.url,
            queries=["slow", "big", "dom", "popup"], images=False,
            # 20 s: far under the minute /slow keeps dripping, far over what a loaded machine needs to render
            scrapy_overrides={**FAST_CRAWL, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20,
                              "DOWNLOAD_MAXSIZE": 1024 * 1024}))
    finally:
        shop.close()
        recorder.close()
    assert recorder.connections == 0
    browser = run.stats["browser"]
    assert browser["pages"] == 4
    assert browser["page_timeouts"] == 1                  # /slow: its HTML never ends; cut at DOWNLOAD_TIMEOUT
    assert browser["over_page_budget"] == 2               # /big fetched 3.2 MB, /dom built 4 M characters
    assert browser["popups_closed"] == 1                  # /popup opened a window
    assert browser["pages_opened"] == browser["pages_closed"] == 4
    assert [row.title for row in listings] == []          # the popup page is no product; the others failed


def test_images_load_only_when_the_profile_asks(tmp_path: Path) -> None:
    recorder = Recorder()
    shop = JsShop(recorder.url)
    try:
        run, _listings = _crawl(tmp_path, CrawlRequest(
            profile=str(_profile(tmp_path, load="[image]")), base_url=shop.url, queries=["glowmint"],
            images=False, scrapy_overrides={**FAST_CRAWL, "RETRY_TIMES": 0}))
    finally:
        shop.close()
        recorder.close()
    assert "aborted/image" not in run.stats["browser"]
    assert sorted(p for p in shop.requests if p.startswith("/img/")) == ["/img/1.png", "/img/2.png"]
    assert recorder.connections == 0


def test_the_browser_goes_through_the_operators_proxy_and_the_policy_still_judges_the_target(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    shop = JsShop(recorder.url)
    proxy = ForwardingProxy()
    monkeypatch.setenv("http_proxy", proxy.url.replace("http://", "http://crawler:s3cret-pw@"))
    monkeypatch.setenv("no_proxy", "example.invalid")
    try:
        run, listings = _crawl(tmp_path, CrawlRequest(
            profile=str(_profile(tmp_path)), base_url=shop.url, queries=["glowmint"], images=False,
            scrapy_overrides={**FAST_CRAWL, "RETRY_TIMES": 0, "HTTPPROXY_ENABLED": False}))
    finally:
        shop.close()
        recorder.close()
        proxy.close()
    assert run.status == "finished", run.stats.get("log_tail") or run.stats
    assert len(listings) == 2
    # Every page and its API calls went through the operator's proxy, with its credentials...
    assert f"GET {shop.url}/api/item/1" in proxy.lines and f"GET {shop.url}/item/2" in proxy.lines
    assert set(proxy.authorizations) == {"Basic Y3Jhd2xlcjpzM2NyZXQtcHc="}
    # ...but nothing for the refused address reached it, nor the address itself.
    assert not any(recorder.url in line for line in proxy.lines)
    assert recorder.connections == 0
    log = (tmp_path / "data" / "logs" / f"crawl-{run.id}.log").read_text(encoding="utf-8")
    assert "s3cret-pw" not in log and "Y3Jhd2xlcjpzM2NyZXQtcHc" not in log


def test_the_demo_javascript_marketplace_is_found_by_search_only(tmp_path: Path) -> None:
    world = tmp_path / "world"
    write_tiny_world(world, listings=30)
    with DemoMarketplace(world) as market:
        expected = set(market.jsmarket.item_paths().values())
        run, listings = _crawl(tmp_path, CrawlRequest(
            profile="jsdemo", base_url=market.url, queries=["glowmint serum"], images=False,
            scrapy_overrides={**FAST_CRAWL, "RETRY_TIMES": 0}))
        shell = market.respond("/js/item/j-l0002")[2]
    assert run.status == "finished", run.stats.get("log_tail") or run.stats
    # Every cross-listed Glowmint serum (all 10 of the 30 world listings listed there) and nothing else.
    assert {row.url.removeprefix(market.url) for row in listings} == expected and len(expected) == 10
    assert all(row.title.startswith("Glowmint Serum") and row.price and row.currency == "USD" for row in listings)
    assert ProductPage(f"{market.url}/js/item/j-l0002", shell).to_item() is None
    assert run.stats["browser"]["blocked/private_address"] >= 1  # its analytics call

