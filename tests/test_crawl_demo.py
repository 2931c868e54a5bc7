"""End to end: the generic spider and the search profile against the demo marketplace (a tiny world).

Each crawl runs in a child process (``crawlers.run.run_crawl``), as the flows run it.  Crawls use SQLite
only (a child process per crawl is the slow part); the database writes are tested on both backends in
``test_crawl_records.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crawl_support import FAST_CRAWL, remove_listing, set_price, write_tiny_world
from sqlalchemy import func, select

from core.settings import load_settings
from crawlers.run import CrawlRequest, run_crawl
from data.demo.marketplace import DemoMarketplace
from storage.db import Database
from storage.models import CrawlRun, Image, Listing, ListingImage, ListingPrice, Marketplace


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'crawl.db'}"


@pytest.fixture
def world(tmp_path: Path) -> Path:
    folder = tmp_path / "world"
    write_tiny_world(folder, listings=30)
    return folder


def crawl_settings(tmp_path: Path, db_url: str):
    return load_settings(data_dir=tmp_path / "data", db_url=db_url, gone_after_runs=2)


def listings_by_url(db: Database) -> dict[str, Listing]:
    with db.session() as session:
        return {row.canonical_url: row for row in session.execute(select(Listing)).scalars()}


def test_full_crawl_finds_every_product_survives_faults_and_recrawls(tmp_path: Path, db_url: str, world: Path):
    settings = crawl_settings(tmp_path, db_url)
    db = Database(db_url)
    with DemoMarketplace(world, slow_seconds=0.3) as market:
        faults = market.world.faults
        run_id = run_crawl(settings, CrawlRequest(start_urls=[market.url + "/"], scrapy_overrides=FAST_CRAWL))

        # --- coverage: every product served is stored once, under its clean canonical URL
        products = market.product_urls()
        stored = listings_by_url(db)
        assert set(products.values()) <= set(stored), "some products were not found"
        product_like = [url for url in stored if "/p/" in url]
        assert sorted(product_like) == sorted(products.values()), "a product was stored under a second URL"
        with db.session() as session:
            run = session.get(CrawlRun, run_id)
            assert run.status == "finished", run.stats.get("log_tail")
            assert run.stats["listings"]["new"] == len(stored)
            assert run.stats["gone_check"] == "done (full)"
            assert session.scalar(select(func.count()).select_from(ListingPrice)) == len(stored)
            assert session.scalar(select(func.count()).select_from(Marketplace)) == 1

        # --- politeness: robots.txt read, nothing it disallows requested, our user agent on every request
        paths = [r.path for r in market.requests]
        assert "/robots.txt" in paths
        assert market.disallowed_requests() == []
        assert run.stats["refused"]["robots_txt"] >= 1, "pages link to disallowed paths; they must be refused"
        assert all("Lookalike" in r.user_agent for r in market.requests)
        assert any(p.startswith("/sitemaps/") for p in paths)

        # --- faults: 503 once then retried, slow page, broken markup, missing price, bad images
        assert paths.count(faults.unavailable_once) == 2
        assert stored[products[faults.slow.upper()]].title
        assert stored[products[faults.broken_markup.upper()]].title
        missing = stored[products[faults.missing_price.upper()]]
        assert missing.price is None and missing.title
        with db.session() as session:
            statuses = {row.url.rsplit("/", 1)[-1]: row.status for row in session.execute(select(ListingImage)).scalars()}
            assert statuses.pop("bomb.png") == "bomb"
            truncated = f"{faults.truncated_image.upper()}-0.jpg"
            assert statuses.pop(truncated) in ("corrupt", "not_image")
            assert set(statuses.values()) == {"ok"}
            assert session.scalar(select(func.count()).select_from(Image)) == len(statuses)
        hostile = [row.title for row in stored.values() if "quoted" in (row.title or "")]
        assert hostile and all("<script" not in title for title in hostile)

        # --- second crawl: one price changed, one product removed; nothing duplicated
        changed_id, removed_id = "L0002", "L0003"
        set_price(world, changed_id, "99.00")
        remove_listing(world, removed_id)
        image_requests_before = sum(1 for r in market.requests if r.path.startswith("/img/L"))
        market.world.__init__(world, per_page=market.world.per_page)  # reload the edited world
        second = run_crawl(settings, CrawlRequest(start_urls=[market.url + "/"], scrapy_overrides=FAST_CRAWL))
        after = listings_by_url(db)
        assert set(after) == set(stored), "the second crawl duplicated or lost listings"
        with db.session() as session:
            stats = session.get(CrawlRun, second).stats
        assert stats["listings"]["new"] == 0
        assert stats["listings"]["changed"] >= 1
        assert stats["listings"]["missed"] == 1 and stats["listings"]["gone"] == 0
        changed = after[products[changed_id]]
        assert str(changed.price) in ("99.00", "99") and changed.needs_matching
        unchanged = [after[url] for lid, url in products.items() if lid not in (changed_id, removed_id)]
        assert all(row.last_crawl_run_id == second and row.missed_runs == 0 for row in unchanged)
        assert sum(row.content_hash != stored[row.canonical_url].content_hash for row in unchanged) == 0
        assert after[products[removed_id]].missed_runs == 1
        # images that were stored are not downloaded again (only the failed ones are retried)
        image_requests_after = sum(1 for r in market.requests if r.path.startswith("/img/L"))
        assert image_requests_after - image_requests_before <= 1
        with db.session() as session:
            history = session.execute(
                select(ListingPrice.price).where(ListingPrice.listing_id == changed.id).order_by(ListingPrice.id)
            ).scalars().all()
        assert [str(p) for p in history][-1] in ("99.00", "99") and len(history) == 2

        # --- a recheck of two known listing URLs: the removed one answers 404, its second miss: gone.
        # Recheck URLs are never trusted (they come from the database): a loopback shop needs the allowance.
        third = run_crawl(load_settings(data_dir=tmp_path / "data", db_url=db_url, gone_after_runs=2,
                                        allow_private_network=True),
                          CrawlRequest(start_urls=[products[removed_id], products[changed_id]], scope="recheck",
                                       scrapy_overrides=FAST_CRAWL))
        final = listings_by_url(db)
        gone = final[products[removed_id]]
        assert gone.status == "gone" and gone.gone_at is not None
        assert final[products[changed_id]].status == "active"
        with db.session() as session:
            stats = session.get(CrawlRun, third).stats
        assert stats["gone_check"] == "done (recheck)" and stats["listings"]["gone"] == 1
        assert stats["pages"] == 2 and stats["listings"]["unchanged"] == 1
    db.dispose()


def test_search_profile_finds_listings_and_marks_nothing_gone(tmp_path: Path, db_url: str, world: Path):
    settings = crawl_settings(tmp_path, db_url)
    db = Database(db_url)
    with DemoMarketplace(world, slow_seconds=0.1) as market:
        run_id = run_crawl(settings, CrawlRequest(profile="demo", base_url=market.url, queries=["serum", "no-such-thing"],
                           scrapy_overrides=FAST_CRAWL))
        searches = [r.path for r in market.requests if r.path.startswith("/search")]
        expected = {u for lid, u in market.product_urls().items()}
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        rows = session.execute(select(Listing)).scalars().all()
        marketplace = session.execute(select(Marketplace)).scalar_one()
    assert run.status == "finished", run.stats.get("log_tail")
    assert marketplace.name == "demo" and marketplace.kind == "marketplace"
    # 30 hits at 10 a page: three result pages for "serum", one for the query without hits
    assert len(searches) == 4
    assert {row.canonical_url for row in rows} == expected
    assert run.stats["gone_check"].startswith("skipped")
    assert run.stats["listings"]["missed"] == 0
    assert run.stats["images"]["ok"] >= len(expected) and run.stats["errors"] == 0
    assert json.dumps(run.stats)  # stored stats are plain JSON
    db.dispose()


def test_list_pages_are_not_read_as_products(world: Path):
    from crawlers.pages import ProductPage

    market = DemoMarketplace(world, card_prices=True)
    try:
        pages = [f"/shop/{shop['slug']}/c/all?page={n}" for shop in market.world.shops for n in (1, 2)]
        pages += ["/", "/search?q=serum", "/shop/bazaarly/"]
        misread = [path for path in pages
                   if ProductPage(market.url + path, market.respond(path)[2]).to_item() is not None]
    finally:
        market.stop()
    assert misread == []


def test_a_page_that_times_out_is_given_up_and_blocks_gone_marking(tmp_path: Path):
    folder = tmp_path / "small-world"
    write_tiny_world(folder, listings=9)
    db_url = f"sqlite:///{tmp_path / 'timeout.db'}"
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url, download_timeout=0.5)
    with DemoMarketplace(folder, slow_seconds=2.0) as market:
        slow_url = market.product_urls()[market.world.faults.slow.upper()]
        run_id = run_crawl(settings, CrawlRequest(start_urls=[market.url + "/"], images=False,
                           scrapy_overrides={**FAST_CRAWL, "RETRY_TIMES": 1}))
        slow_path = slow_url.removeprefix(market.url)
        attempts = sum(1 for r in market.requests if r.path == slow_path)
    db = Database(db_url)
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
    stored = listings_by_url(db)
    db.dispose()
    assert run.status == "finished", run.stats.get("log_tail")
    assert attempts == 2  # first try and one retry, both timed out
    assert slow_url not in stored
    assert set(market.product_urls().values()) - {slow_url} <= set(stored)
    assert run.stats["pages_failed"] == 1
    assert run.stats["gone_check"] == "skipped: 1 page(s) could not be fetched"


def test_robots_crawl_delay_is_honoured(tmp_path: Path):
    folder = tmp_path / "polite-world"
    write_tiny_world(folder, listings=3)
    db_url = f"sqlite:///{tmp_path / 'polite.db'}"
    with DemoMarketplace(folder, crawl_delay=0.1) as market:
        run_id = run_crawl(load_settings(data_dir=tmp_path / "data", db_url=db_url), CrawlRequest(start_urls=[market.url + "/"],
                           images=False, scrapy_overrides=FAST_CRAWL))
    db = Database(db_url)
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
    db.dispose()
    assert run.status == "finished", run.stats.get("log_tail")
    assert run.stats["scrapy"]["crawldelay/127.0.0.1"] == 0.1
    assert run.stats["listings"]["new"] >= 3


class RedirectingMarketplace(DemoMarketplace):
    """Answers a removed product's URL with a redirect to the shop's home page, as many shops do."""

    def respond(self, raw_path: str):
        status, ctype, body, headers = super().respond(raw_path)
        if status == 404 and "/p/" in raw_path:
            return 301, "text/html", b"", {"Location": raw_path.split("/p/")[0] + "/"}
        return status, ctype, body, headers


def test_recheck_counts_a_redirect_away_from_a_removed_listing_as_gone(tmp_path: Path):
    folder = tmp_path / "recheck-world"
    write_tiny_world(folder, listings=3)
    db_url = f"sqlite:///{tmp_path / 'recheck.db'}"
    # Recheck URLs are never trusted (they come from the database): a loopback shop needs the allowance.
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url, gone_after_runs=1,
                             allow_private_network=True)
    with RedirectingMarketplace(folder) as market:
        urls = market.product_urls()
        run_crawl(settings, CrawlRequest(start_urls=list(urls.values()), scope="recheck", images=False,
                  scrapy_overrides=FAST_CRAWL))
        remove_listing(folder, "L0002")
        market.world.__init__(folder, per_page=market.world.per_page)
        run_id = run_crawl(settings, CrawlRequest(start_urls=list(urls.values()), scope="recheck", images=False,
                           scrapy_overrides=FAST_CRAWL))
        redirected = [r for r in market.requests if r.status == 301]
    db = Database(db_url)
    rows = listings_by_url(db)
    with db.session() as session:
        stats = session.get(CrawlRun, run_id).stats
    db.dispose()
    assert len(redirected) == 1
    assert rows[urls["L0002"]].status == "gone"
    assert [rows[urls[lid]].status for lid in ("L0001", "L0003")] == ["active", "active"]
    assert stats["listings"]["gone"] == 1 and stats["gone_check"] == "done (recheck)"


def test_a_user_profile_with_selectors_reads_listings(tmp_path: Path):
    folder = tmp_path / "selector-world"
    write_tiny_world(folder, listings=6)
    profile = tmp_path / "mymarket.yaml"
    profile.write_text(
        "name: mymarket\n"
        "search:\n"
        "  url: /search?q={query}\n"
        "  result_links: {xpath: \"//ol//a/@href\"}\n"
        "  max_pages_per_query: 1\n"
        "  max_results_per_query: 4\n"
        "parser:\n"
        "  title: 'css:h1::text'\n"
        "  seller: 'xpath://p[@class=\"seller\"]/text()'\n"
        "  fallback: false\n", encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'selector.db'}"
    with DemoMarketplace(folder) as market:
        run_id = run_crawl(load_settings(data_dir=tmp_path / "data", db_url=db_url), CrawlRequest(profile=str(profile),
                           base_url=market.url, queries=["serum"], images=False, scrapy_overrides=FAST_CRAWL))
    db = Database(db_url)
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        rows = session.execute(select(Listing)).scalars().all()
    db.dispose()
    assert run.status == "finished", run.stats.get("log_tail")
    assert len(rows) == 4  # max_results_per_query
    assert all(row.title and row.title.startswith("Glowmint Serum") for row in rows)
    assert all(row.price is None for row in rows)  # no price selector and no fallback
    with_seller_line = [row for row in rows if "/kramwell/" not in row.url]  # kramwell: microdata, no <p>
    assert with_seller_line and all(row.seller for row in with_seller_line)
