"""Operator alerts: the nightly scan with one site refusing connections ends Failed naming it, still stores
and matches the other site, and alerts the operator; the suspect-spike rule."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from pathlib import Path

import pytest
from digest_support import T0, free_port, mail_settings, seed
from scan_support import full_demo_world, import_demo_registry, slice_world, test_settings
from sqlalchemy import func, select

from crawlers.stats import CrawlStats
from data.demo.marketplace import DemoMarketplace
from services import alerts
from services.scan import CrawlOutcome
from storage.db import Database
from storage.models import Listing, Match


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.mark.slow
def test_nightly_scan_with_a_refusing_site_ends_failed_and_names_it(
        prefect_harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    from prefect.states import StateType

    from flows.nightly import nightly_scan

    data_dir, db_url = tmp_path / "data", f"sqlite:///{tmp_path / 'lookalike.db'}"
    for name, value in {"DATA_DIR": str(data_dir), "DB_URL": db_url, "CONFIG": str(tmp_path / "absent.toml"),
                        "ALERT_TO": '["ops@example.com"]'}.items():
        monkeypatch.setenv(f"LOOKALIKE_{name}", value)
    settings = test_settings(data_dir, db_url)
    world = slice_world(full_demo_world(request.config), tmp_path / "world", step=13)
    import_demo_registry(settings, world)
    dead = f"http://127.0.0.1:{free_port()}/"  # nothing listens there: connection refused
    with DemoMarketplace(world, slow_seconds=0.0) as market:
        state = nightly_scan(start_urls=[market.url + "/", dead], crawl_retries=0, return_state=True)

    assert state.type == StateType.FAILED
    assert "127.0.0.1:" + dead.rsplit(":", 1)[1].strip("/") in state.message
    assert "refused" in state.message.lower() or "connect" in state.message.lower()
    assert market.url.rsplit(":", 1)[1] not in state.message.split("could not crawl", 1)[1]
    failure = state.result(raise_on_failure=False)
    assert isinstance(failure, alerts.ScanFailed)
    summary = failure.summary
    assert sorted(c["status"] for c in summary["crawls"]) == ["failed", "finished"]
    assert summary["listings_new"] > 0 and summary["listings_matched"] == summary["listings_new"]

    with Database.opened(db_url) as database, database.session() as s:
        assert s.scalar(select(func.count(Listing.id))) == summary["listings_new"]
        assert s.scalar(select(func.count(Match.id))) > 0
    (alert_file,) = (data_dir / "digests" / "alerts").glob("alert-*.eml")
    alert = email.message_from_bytes(alert_file.read_bytes(), policy=email.policy.default)
    assert alert["To"] == "ops@example.com" and "could not be crawled" in alert["Subject"]
    assert dead.rstrip("/") in alert.get_content()


def test_failure_reason_names_each_site_and_cause() -> None:
    crawls = [
        CrawlOutcome(target="http://a.test/", crawl_run_id=1, marketplace="a.test", status="finished"),
        CrawlOutcome(target="http://b.test/", crawl_run_id=2, marketplace=None, status="failed",
                     stats=CrawlStats(error="connection refused\r\nSubject: injected")),
    ]
    failures = alerts.crawl_failures(crawls)
    assert failures == [alerts.SiteFailure("http://b.test/", "connection refused Subject: injected")]
    assert alerts.failure_reason(failures) == "could not crawl 1 site(s): http://b.test/ (connection refused " \
                                              "Subject: injected)"


def test_spike_rule(db_url: str, tmp_path: Path) -> None:
    week = mail_settings(tmp_path, db_url, spike_window_nights=7, spike_factor=3.0, spike_min_new=4)
    night = mail_settings(tmp_path, db_url, spike_window_nights=1, spike_factor=3.0, spike_min_new=1)
    with Database.opened(db_url) as database:
        world = seed(database, week)
        tonight = T0 + dt.timedelta(days=10)
        with database.session() as s:  # in the night before tonight: 2 Fullips matches, 1 Glowra match
            for key in (("fl-1", "Fullips"), ("fl-2", "Fullips"), ("gl-1", "Glowra")):
                s.get(Match, world.matches[key]).created_at = tonight - dt.timedelta(hours=5)
        with database.session() as s:
            # one night's window: Fullips averaged 2, so 5 is no spike and 6 is; Glowra averaged 1: 3 is one
            assert alerts.spikes(s, {"Fullips": 5, "Glowra": 2}, before=tonight, settings=night) == []
            found = alerts.spikes(s, {"Fullips": 6, "Glowra": 3}, before=tonight, settings=night)
            assert [(x.brand, x.tonight, x.average) for x in found] == [("Fullips", 6, 2.0), ("Glowra", 3, 1.0)]
            # a week's window: averages below 1 count as 1, and fewer than spike_min_new is never a spike
            assert [x.brand for x in alerts.spikes(s, {"Fullips": 4, "Nordvik": 3}, before=tonight,
                                                   settings=week)] == ["Fullips"]
            # a brand registered less than the window ago has no recent average: never a spike
            assert alerts.spikes(s, {"Fullips": 40}, before=T0 - dt.timedelta(days=26), settings=week) == []


@pytest.mark.slow
def test_send_digests_flow_reports_counts_and_fails_when_smtp_refuses(
        prefect_harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from digest_support import SMTPTestServer
    from prefect.states import StateType

    from flows.digests import send_digests

    db_url = f"sqlite:///{tmp_path / 'lookalike.db'}"
    for name, value in {"DATA_DIR": str(tmp_path / "data"), "DB_URL": db_url, "SMTP_SECURITY": "none",
                        "CONFIG": str(tmp_path / "absent.toml"), "SMTP_RETRY_DELAY": "0"}.items():
        monkeypatch.setenv(f"LOOKALIKE_{name}", value)
    with Database.opened(db_url) as database:
        seed(database, mail_settings(tmp_path, db_url))
    with SMTPTestServer() as smtp:
        monkeypatch.setenv("LOOKALIKE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LOOKALIKE_SMTP_PORT", str(smtp.port))
        smtp.inbox.refuse = True
        refused = send_digests(return_state=True)
        assert refused.type == StateType.FAILED
        assert "2 digest(s) failed" in refused.message and "Alder Cosmetics" in refused.message
        smtp.inbox.refuse = False
        result = send_digests(force=True)
    assert result["counts"]["sent"] == 2 and result["counts"]["failed"] == 0
    assert len(smtp.inbox.messages) == 2
