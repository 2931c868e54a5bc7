"""The storage pipeline's database writes (SQLite and PostgreSQL): upsert, price history, gone."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crawlers.items import Listing as Item
from crawlers.pipelines.images import PENDING, ImageOutcome
from crawlers.pipelines.records import (
    content_hash,
    get_or_create_marketplace,
    mark_missed,
    start_run,
    upsert_listings,
)
from crawlers.pipelines.storage import StorageListingPipeline, summarize_stats
from crawlers.stats import CrawlStats, ImageCounts, ListingCounts
from storage.models import Listing, ListingImage, ListingPrice


def item(n: int, **changes) -> Item:
    values = dict(url=f"https://shop.example/p/{n}?utm_source=x", canonical_url=f"https://shop.example/p/{n}",
                  title=f"Thing {n}", price=Decimal("10.00"), currency="USD", seller="Acme",
                  image_urls=[f"https://shop.example/i/{n}.jpg"])
    values.update(changes)
    return Item(**values)


def store(database, marketplace_id: int, items: list[Item], outcomes=None):
    with database.session() as session:
        run_id = start_run(session, marketplace_id=marketplace_id, scan_id=None, params={}).id
        counts = upsert_listings(session, marketplace_id=marketplace_id, crawl_run_id=run_id, items=items,
                                 image_outcome=lambda url: (outcomes or {}).get(url, PENDING))
    return run_id, counts


@pytest.fixture
def marketplace_id(database) -> int:
    with database.session() as session:
        return get_or_create_marketplace(session, name="shop.example", base_url="https://shop.example",
                                         kind="shop").id


def test_content_hash_ignores_price_formatting_but_not_content():
    assert content_hash(item(1, price=Decimal("24.0"))) == content_hash(item(1, price=Decimal("24.00")))
    assert content_hash(item(1)) != content_hash(item(1, title="Thing one"))
    assert content_hash(item(1)) != content_hash(item(1, image_urls=[]))
    assert len(content_hash(item(1))) == 64


def test_upsert_inserts_then_updates_without_duplicates(database, marketplace_id):
    _, counts = store(database, marketplace_id, [item(1), item(2)])
    assert counts == {"new": 2}
    with database.session() as session:
        for row in session.execute(select(Listing)).scalars():
            row.needs_matching = False  # matching has seen them
    _, counts = store(database, marketplace_id, [item(1), item(2, price=Decimal("12.50"))])
    assert counts == {"unchanged": 1, "changed": 1}
    with database.session() as session:
        rows = {r.canonical_url: r for r in session.execute(select(Listing)).scalars()}
        assert len(rows) == 2
        one, two = rows["https://shop.example/p/1"], rows["https://shop.example/p/2"]
        assert not one.needs_matching and two.needs_matching
        assert two.price == Decimal("12.50") and two.first_seen <= two.last_seen
        prices = session.execute(select(ListingPrice.price).where(ListingPrice.listing_id == two.id)
                                 .order_by(ListingPrice.id)).scalars().all()
        assert prices == [Decimal("10.00"), Decimal("12.50")]
        assert session.scalar(select(func.count()).select_from(ListingPrice).where(
            ListingPrice.listing_id == one.id)) == 1


def test_external_id_is_the_key_when_the_site_gives_one(database, marketplace_id):
    store(database, marketplace_id, [item(1, external_id="42")])
    _, counts = store(database, marketplace_id, [item(1, external_id="42", canonical_url="https://shop.example/p/1-new")])
    assert counts == {"unchanged": 1}
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Listing)) == 1


def test_image_rows_follow_outcomes_and_keep_earlier_successes(database, marketplace_id):
    url = "https://shop.example/i/1.jpg"
    store(database, marketplace_id, [item(1)], outcomes={url: ImageOutcome("corrupt", error="truncated")})
    with database.session() as session:
        image = session.execute(select(ListingImage)).scalar_one()
        assert (image.status, image.error, image.position) == ("corrupt", "truncated", 0)
    store(database, marketplace_id, [item(1, image_urls=["https://shop.example/i/0.jpg", url])])
    with database.session() as session:
        rows = session.execute(select(ListingImage).order_by(ListingImage.position)).scalars().all()
        assert [(r.url.rsplit("/", 1)[-1], r.position, r.status) for r in rows] == [
            ("0.jpg", 0, "pending"), ("1.jpg", 1, "pending")]


def test_mark_missed_counts_misses_and_marks_gone_after_n_runs(database, marketplace_id):
    store(database, marketplace_id, [item(1), item(2), item(3)])
    for expected_gone in (0, 1):
        run_id, _ = store(database, marketplace_id, [item(1)])
        with database.session() as session:
            missed, gone = mark_missed(session, marketplace_id=marketplace_id, crawl_run_id=run_id,
                                       gone_after_runs=2, only_canonical_urls=None if expected_gone == 0 else
                                       ["https://shop.example/p/2"])
        assert gone == expected_gone
    with database.session() as session:
        rows = {r.canonical_url[-1]: r for r in session.execute(select(Listing)).scalars()}
        assert rows["1"].status == "active" and rows["1"].missed_runs == 0
        assert rows["2"].status == "gone" and rows["2"].gone_at is not None
        assert rows["3"].status == "active" and rows["3"].missed_runs == 1  # outside the recheck's scope
    _, counts = store(database, marketplace_id, [item(2)])
    assert counts["reappeared"] == 1
    with database.session() as session:
        back = session.execute(select(Listing).where(Listing.canonical_url.endswith("/2"))).scalar_one()
        assert back.status == "active" and back.missed_runs == 0 and back.gone_at is None


class _Spider:
    def __init__(self, scope: str, **attrs):
        self.crawl_scope = scope
        self.__dict__.update(attrs)


@pytest.mark.parametrize(
    ("scope", "reason", "attrs", "stored", "expected"),
    [
        ("full", "finished", {}, 3, ("full", None)),
        ("full", "shutdown", {}, 3, "skipped: crawl ended with 'shutdown'"),
        ("full", "finished", {"page_limit_reached": True}, 3, "skipped: page limit reached, the shop was not fully crawled"),
        ("full", "finished", {}, 0, "skipped: the crawl stored no listing"),
        ("full", "finished", {"failed_pages": 2}, 3, "skipped: 2 page(s) could not be fetched"),
        ("search", "finished", {}, 3, "skipped: search results prove nothing about listings they do not show"),
        ("recheck", "finished", {"gone_evidence": {"b", "a"}}, 0, ("recheck", ["a", "b"])),
    ],
)
def test_gone_scope_decisions(scope, reason, attrs, stored, expected):
    pipeline = StorageListingPipeline(crawler=None, database_url="sqlite://", crawl_run_id=None, scan_id=None,
                                      batch_size=10, gone_after_runs=2, params={})
    pipeline.counts["unchanged"] = stored
    assert pipeline.gone_scope(_Spider(scope, **attrs), reason) == expected


def test_summarize_stats_shape():
    summary = summarize_stats({
        "lookalike/pages": 5, "downloader/response_count": 9, "lookalike/listings/new": 2,
        "lookalike/dropped/no_title": 1, "lookalike/images/failed/bomb": 1, "lookalike/images/ok": 3,
        "netguard/refused/private_address": 2, "robotstxt/forbidden": 4, "finish_reason": "finished",
        "downloader/response_status_count/503": 1,
    })
    assert summary.pages == 5 and summary.listings.new == 2 and summary.listings_stored == 2
    assert summary.dropped == {"no_title": 1}
    assert summary.images == ImageCounts(ok=3, reused=0, failed={"bomb": 1})
    assert summary.refused == {"private_address": 2, "robots_txt": 4}
    assert summary.http_status == {"503": 1} and summary.error is None
    stored = summary.as_json()  # the crawl_runs.stats shape of docs/crawling.md
    assert stored["pages"] == 5 and stored["listings"]["new"] == 2 and stored["listings_stored"] == 2
    assert stored["images"] == {"ok": 3, "reused": 0, "failed": {"bomb": 1}}
    assert stored["scrapy"]["lookalike/pages"] == 5 and "error" not in stored and "retryable" not in stored
    assert CrawlStats.from_json(json.loads(json.dumps(stored))) == summary


@pytest.mark.parametrize(("stored", "expected"), [
    (None, CrawlStats()),
    ({}, CrawlStats()),
    ({"pages": 3}, CrawlStats(pages=3)),
    ({"pages": "3", "listings": [1], "images": {"ok": True, "failed": {"x": 2.0}}, "refused": 7},
     CrawlStats(images=ImageCounts(failed={"x": 2}))),
    ({"error": "no page answered", "retryable": False, "log": "/l"},
     CrawlStats(error="no page answered", retryable=False, log="/l")),
    ({"listings": {"changed": 2, "reappeared": 1, "gone": 4}},
     CrawlStats(listings=ListingCounts(changed=2, reappeared=1, gone=4))),
])
def test_stored_stats_read_back_typed_whatever_the_row_holds(stored, expected) -> None:
    assert CrawlStats.from_json(stored) == expected


def test_a_failure_is_stored_with_its_words_and_whether_to_retry() -> None:
    failed = CrawlStats(pages=2).failed("robots.txt denied 3 request(s)", retryable=False, log_tail="...")
    stored = failed.as_json()
    assert (stored["error"], stored["retryable"], stored["log_tail"]) == ("robots.txt denied 3 request(s)", False, "...")
    assert "log" not in stored and CrawlStats.from_json(stored).failure == "robots.txt denied 3 request(s)"
    assert CrawlStats(finish_reason="shutdown").failure == "shutdown" and CrawlStats().failure == "see its log"
    assert CrawlStats(listings=ListingCounts(changed=2, reappeared=1)).listings.changed_or_reappeared == 3
