"""The Prefect flows in process (``prefect_test_harness``): the nightly scan and the recheck of reported
listings, against the demo marketplace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from crawl_support import write_tiny_world
from scan_support import (
    disposed_after,
    drop_listing,
    full_demo_world,
    import_demo_registry,
    slice_world,
    test_settings,
)
from sqlalchemy import func, select

from data.demo.marketplace import DemoMarketplace
from services.review import set_status
from storage.db import Database
from storage.models import Brand, Listing, Mark, Match, MatchEvent, Owner, Product, QueryRun

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect server (and database) for the module's flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The settings the flows read from the environment: a fresh data folder and SQLite database."""
    data_dir, db_url = tmp_path / "data", f"sqlite:///{tmp_path / 'lookalike.db'}"
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("LOOKALIKE_DB_URL", db_url)
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    # The demo shop is on loopback and recheck URLs are never trusted: the tests allow private networks.
    monkeypatch.setenv("LOOKALIKE_ALLOW_PRIVATE_NETWORK", "true")
    return test_settings(data_dir, db_url)


def test_nightly_scan_then_recheck_verifies_a_takedown(prefect_harness, env, request: pytest.FixtureRequest,
                                                       tmp_path: Path) -> None:
    from flows.nightly import nightly_scan
    from flows.recheck import recheck_reported

    world = slice_world(full_demo_world(request.config), tmp_path / "world", step=13)
    import_demo_registry(env, world)
    with DemoMarketplace(world, slow_seconds=0.1) as market:
        port = int(market.url.rsplit(":", 1)[1])
        summary = nightly_scan(start_urls=[market.url + "/"])
    assert [c["status"] for c in summary["crawls"]] == ["finished"]
    assert summary["pages"] > 0 and summary["listings_new"] > 0
    assert summary["listings_matched"] == summary["listings_new"] and summary["pending"] == 0
    assert summary["suspects_new"] > 0
    assert sum(b["new"] for b in summary["per_brand"].values()) == summary["suspects_new"]

    database = disposed_after(request, Database(env.database_url))
    with database.session() as session:
        matches = list(session.scalars(select(Match).order_by(Match.score.desc())))
        reported, confirmed = matches[0], matches[1]
        set_status(session, reported.id, "reported", actor="analyst")
        set_status(session, confirmed.id, "confirmed", actor="analyst")
        taken_down = session.get(Listing, reported.listing_id)
        still_up = session.get(Listing, confirmed.listing_id)
        up_seen_before = still_up.last_seen
    listing_id = urlsplit(taken_down.canonical_url).path.rsplit("/", 1)[1].upper()
    drop_listing(world, listing_id)  # the marketplace took it down: its page now answers 404

    with DemoMarketplace(world, port=port, slow_seconds=0.1):
        result = recheck_reported()
    assert result["gone"] == [taken_down.id] and result["up"] == [still_up.id] and result["unknown"] == []
    with database.session() as session:
        gone = session.get(Listing, taken_down.id)
        assert gone.status == "gone" and gone.gone_at is not None
        assert session.get(Match, reported.id).status == "removed"
        assert session.get(Match, confirmed.id).status == "confirmed"
        up = session.get(Listing, still_up.id)
        assert up.status == "active" and up.last_seen > up_seen_before
        events = list(session.scalars(select(MatchEvent).where(MatchEvent.match_id == reported.id)
                                      .order_by(MatchEvent.id)))
        assert [(e.from_status, e.to_status) for e in events][-1] == ("reported", "removed")
        assert events[-1].actor == "lookalike-recheck"


def test_nightly_scan_with_nothing_to_crawl_still_matches_pending(prefect_harness, env) -> None:
    from flows.nightly import nightly_scan

    Database(env.database_url).ensure_schema().dispose()
    summary = nightly_scan()
    assert summary["crawls"] == [] and summary["listings_matched"] == 0


def test_only_crawls_that_ran_and_failed_are_retried() -> None:
    from prefect.states import Failed

    from core.errors import LookalikeError
    from flows.common import worth_retrying
    from services.scan import CrawlFailed

    assert worth_retrying(None, None, Failed(data=CrawlFailed("site answered 503 to everything")))
    assert worth_retrying(None, None, Failed(data=OSError("disk full")))
    assert not worth_retrying(None, None, Failed(data=LookalikeError("no profile named 'ebya'")))


def test_nightly_scan_plans_each_profiles_queries_and_counts_their_suspects(prefect_harness, env, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.nightly import nightly_scan

    monkeypatch.setenv("LOOKALIKE_QUERY_BUDGET", "4")
    world = tmp_path / "world"
    write_tiny_world(world, listings=9)
    database = Database(env.database_url).ensure_schema()
    with database.session() as session:
        session.add(Brand(name="Glowmint", owner=Owner(name="Glow Labs"), keywords=[], digest_to=[], thresholds={},
                          marks=[Mark(text="Glow Mint", kind="alias")],
                          products=[Product(sku="G-1", name="Glowmint Hydrating Serum")]))
    with DemoMarketplace(world, slow_seconds=0.1) as market:
        summary = nightly_scan(profiles=["demo"], base_url=market.url)
    assert [c["status"] for c in summary["crawls"]] == ["finished"]
    with database.session() as session:
        rows = {r.query: r for r in session.scalars(select(QueryRun).where(QueryRun.scan_id == summary["scan_id"]))}
        suspects = session.scalar(select(func.count(Match.id)))
    database.dispose()
    # The budget's four best queries: the marks, the product name, its noun; every one counted after matching.
    assert set(rows) == {"Glowmint", "Glow Mint", "Glowmint Hydrating Serum", "Hydrating Serum"}
    assert rows["Glowmint"].results == 9 and all(r.suspects is not None for r in rows.values())
    assert rows["Glowmint"].suspects == suspects > 0
