"""Issue 31: a second night in which 80 listings answer 410. The shop stopped linking them, so the whole-site
crawl never asks for them; the recheck of unreached listings asks each one and marks it gone with the date."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scan_support import FAST_CRAWL, disposed_after, full_demo_world, slice_world, test_settings
from sqlalchemy import select

from data.demo.marketplace import DemoMarketplace, take_down
from services import scan
from services.recheck import recheck_unreached
from storage.db import Database
from storage.models import Listing

pytestmark = pytest.mark.slow


def test_a_second_night_rechecks_the_80_listings_the_shop_stopped_linking(tmp_path: Path,
                                                                          request: pytest.FixtureRequest) -> None:
    world = slice_world(full_demo_world(request.config), tmp_path / "world", step=3)
    settings = test_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'lookalike.db'}")
    # Stored URLs are never trusted; the demo shop is on loopback, so the recheck needs the allowance.
    settings = settings.model_copy(update={"allow_private_network": True})
    database = disposed_after(request, Database(settings.database_url).ensure_schema())
    port = 0

    def night() -> tuple[scan.CrawlOutcome, list[str], object]:
        nonlocal port
        with DemoMarketplace(world, port=port, slow_seconds=0.1) as market:
            port = int(market.url.rsplit(":", 1)[1])
            target, scan_id = scan.ScanTarget(start_urls=(market.url + "/",)), scan.new_scan_id()
            outcome = scan.crawl_target(settings, target, scan_id=scan_id, database=database,
                                        scrapy_overrides=FAST_CRAWL)
            crawled = [r.path for r in market.requests]
            report = recheck_unreached(settings, [outcome.crawl_run_id], scan_id=scan_id)
            rechecked = [r.path for r in market.requests[len(crawled):]]
        return outcome, crawled, (report, rechecked)

    first, _, (report, rechecked) = night()
    assert first.status == "finished" and first.stats.gone_check == "done (full)"
    with database.session() as session:
        listings = list(session.scalars(select(Listing).order_by(Listing.id)))
        assert len(listings) >= 200
        reached_all = report.up == [] and report.gone == [] and rechecked == []
        paths = {urlsplit(li.canonical_url).path: li.id for li in listings}
    assert reached_all  # the first night reached every listing: nothing to recheck

    removed_paths = sorted(paths)[5:85]
    assert len(removed_paths) == 80
    take_down(world, [p.rsplit("/", 1)[1] for p in removed_paths])

    second, crawled, (report, rechecked) = night()
    assert second.status == "finished"
    # What the issue saw: the whole-site crawl asked for none of the 80.
    assert not set(removed_paths) & {urlsplit(p).path for p in crawled}
    # The recheck asked each of them, and only what the crawl did not reach.
    assert set(removed_paths) <= {urlsplit(p).path for p in rechecked}
    assert len(report.gone) == 80 and report.up == []
    with database.session() as session:
        for path in removed_paths:
            listing = session.get(Listing, paths[path])
            assert listing.status == "gone" and listing.gone_at is not None
        still = [session.get(Listing, i) for p, i in paths.items() if p not in removed_paths]
        assert all(li.status == "active" for li in still)
