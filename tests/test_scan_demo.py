"""The scan end to end against the demo marketplace: rescans, changed listings and dismissed matches.

Stages are called as library functions (crawl in a child process, then matching), as the flow does.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scan_support import (
    FAST_CRAWL,
    disposed_after,
    edit_listing,
    full_demo_world,
    import_demo_registry,
    match_set,
    slice_world,
    test_settings,
    world_listings,
)
from sqlalchemy import select

from data.demo.marketplace import DemoMarketplace
from services import scan
from services.review import set_status
from storage.db import Database
from storage.models import Listing, Match

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_world(request: pytest.FixtureRequest) -> Path:
    return full_demo_world(request.config)


class Scanner:
    """Scans one world folder, always on the same port (a new server instance each time)."""

    def __init__(self, world: Path, settings, database: Database) -> None:
        self.world, self.settings, self.database, self.port = world, settings, database, 0

    def scan(self) -> tuple[scan.CrawlOutcome, scan.MatchStats]:
        with DemoMarketplace(self.world, port=self.port, slow_seconds=0.1) as market:
            self.port = int(market.url.rsplit(":", 1)[1])
            target, scan_id = scan.ScanTarget(start_urls=(market.url + "/",)), scan.new_scan_id()
            outcome = scan.crawl_target(self.settings, target, scan_id=scan_id, database=self.database,
                                        scrapy_overrides=FAST_CRAWL)
        # What a machine that did not run the crawl reads: the same outcome, found by the target's key.
        assert scan.recorded_outcome(self.database, scan_id=scan_id, target=target) == outcome
        stats = scan.match_pending(self.database, settings=self.settings)
        return outcome, stats


def _path(item: dict) -> str:
    return f"/shop/{item['shop']}/p/{item['id'].lower()}"


def _match_of(database: Database, path: str) -> Match:
    with database.session() as session:
        listing = next(r for r in session.scalars(select(Listing)) if urlsplit(r.canonical_url).path == path)
        return session.scalars(select(Match).where(Match.listing_id == listing.id)).one()


def test_rescans_keep_the_queue_and_reopen_only_what_changed(demo_world: Path, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    world = slice_world(demo_world, tmp_path / "world", step=9)
    settings = test_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'lookalike.db'}")
    import_demo_registry(settings, world)
    database = disposed_after(request, Database(settings.database_url).ensure_schema())
    scanner = Scanner(world, settings, database)
    served = world_listings(world)

    first, matched = scanner.scan()
    assert first.status == "finished" and first.stats.listings.new >= 0.9 * len(served)
    assert matched.listings == first.stats.listings.new and matched.outcomes.get("created", 0) > 5
    queue = match_set(database)

    # Unchanged shops: nothing new, nothing changed, nothing rescored.
    second, rematched = scanner.scan()
    assert (second.stats.listings.new, second.stats.listings.changed_or_reappeared) == (0, 0)
    assert second.stats.listings.unchanged == first.stats.listings.new
    assert rematched.listings == 0 and rematched.outcomes == {}
    assert match_set(database) == queue

    # Three suspects with one match each: X dismissed then repriced, Y dismissed and untouched,
    # Z left open and retitled.
    single = [item for item in served if sum(1 for key in queue if key[0] == _path(item)) == 1]
    x, y, z = single[:3]
    for item in (x, y):
        with database.session() as session:
            set_status(session, _match_of(database, _path(item)).id, "dismissed", actor="analyst")
    edit_listing(world, x["id"], price="1.11")
    edit_listing(world, z["id"], title=z["title"] + " (restocked)")

    third, changed = scanner.scan()
    assert third.stats.listings.changed_or_reappeared == 2 and third.stats.listings.new == 0
    assert changed.listings == 2
    assert changed.outcomes.get("created", 0) == 0
    assert changed.outcomes.get("reopened") == 1 and changed.outcomes.get("updated") == 1
    match_x, match_y, match_z = (_match_of(database, _path(item)) for item in (x, y, z))
    assert match_x.status == "new" and any("price changed" in c for c in match_x.changes)
    assert match_y.status == "dismissed" and match_y.changes == []
    assert match_z.status == "new" and any("title changed" in c for c in match_z.changes)
    after = match_set(database)
    assert set(after) == set(queue)
    assert {k: v for k, v in after.items() if k[0] not in {_path(x), _path(y), _path(z)}} == \
        {k: v for k, v in queue.items() if k[0] not in {_path(x), _path(y), _path(z)}}
