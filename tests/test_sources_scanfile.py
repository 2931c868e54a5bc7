"""Sources as one concept: ``sources:`` in the scan file (kind shop | profile | api | browser), planned with
the registry's queries, and ``lookalike sources`` showing each one's state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from core.settings import load_settings
from crawlers.run import CrawlRequest
from services.scantargets import ScanFileError, ScanTarget, parse_targets, plan_scan
from storage.db import Database
from storage.models import Brand, CrawlRun, Mark, Owner, SourceState, utcnow

SCAN = """
shops: [https://shop.example/]
sources:
  - {name: ebay-us, kind: api, connector: ebay, site: EBAY_US, daily_budget: 300, per_second: 2}
  - {name: etsy, kind: api, connector: etsy, queries: [lip plumper]}
  - {name: js, kind: browser, profile: jsdemo, base_url: "http://127.0.0.1:8080"}
  - {name: demo, kind: profile, profile: demo, base_url: "http://127.0.0.1:8080"}
  - {name: my-shop, kind: shop, start_urls: ["https://other.example/"]}
"""


def test_sources_sit_beside_shops_and_profiles() -> None:
    targets = parse_targets(SCAN)
    assert [t.key for t in targets] == ["shop.example", "api:ebay-us", "api:etsy", "jsdemo", "demo", "other.example"]
    ebay = targets[1]
    assert (ebay.kind, ebay.connector, ebay.site, ebay.daily_budget, ebay.per_second) == ("api", "ebay", "EBAY_US", 300, 2)
    assert ebay.label == "source ebay-us (api)"
    request = ebay.crawl_request(scan_id="s1")
    assert isinstance(request, CrawlRequest) and request.connector == "ebay" and request.source == "ebay-us"
    assert ScanTarget.from_dict(ebay.as_dict()) == ebay  # through Prefect's JSON unchanged
    assert request.target_key != targets[2].crawl_request().target_key


@pytest.mark.parametrize(("entry", "message"), [
    ("{name: a, kind: api}", "an api source needs connector"),
    ("{name: a, kind: api, connector: amazon}", "unknown connector 'amazon'"),
    ("{name: a, kind: shop, start_urls: ['https://s.example/'], queries: [x]}", "a shop source takes no queries"),
    ("{name: a, kind: api, connector: ebay, site: us}", "site must be a marketplace id such as EBAY_US"),
    ("{name: a, kind: ftp, connector: ebay}", "sources.0.kind"),
    ("{name: 'a b', kind: api, connector: ebay}", "sources.0.name"),
    ("{name: a, kind: api, connector: ebay, daily_budget: -1}", "sources.0.daily_budget"),
    ("{name: a, kind: profile}", "a profile source needs profile"),
])
def test_a_bad_source_is_one_line_naming_its_place(entry: str, message: str) -> None:
    with pytest.raises(ScanFileError, match=message):
        parse_targets(f"sources:\n  - {entry}\n")


def test_repeated_source_names_are_refused() -> None:
    with pytest.raises(ScanFileError, match="source names must be unique: a"):
        parse_targets("sources:\n  - {name: a, kind: api, connector: ebay}\n  - {name: a, kind: api, connector: etsy}\n")


def test_api_sources_search_the_registry_and_wait_for_their_credentials(tmp_path: Path, db_url: str, monkeypatch):
    for name in ("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET", "ETSY_KEYSTRING", "ETSY_SHARED_SECRET"):
        monkeypatch.delenv(f"LOOKALIKE_{name}", raising=False)
    monkeypatch.setenv("LOOKALIKE_ETSY_KEYSTRING", "k")
    monkeypatch.setenv("LOOKALIKE_ETSY_SHARED_SECRET", "s")
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    scan = tmp_path / "scan.yaml"
    scan.write_text(SCAN)
    with Database.opened(db_url) as db:
        with db.session() as session:
            session.add(Brand(name="Fullips", owner=Owner(name="Et Al"), keywords=[], digest_to=[], thresholds={},
                              marks=[Mark(text="Full Lips", kind="alias")]))
        plan = plan_scan(settings, db, targets_file=scan)
    by_source = {t.source: t for t in plan.targets if t.source}
    assert by_source["etsy"].queries[0] == "Fullips" and by_source["etsy"].queries[-1] == "lip plumper"
    assert "ebay-us" not in by_source  # no eBay credentials: skipped in words, the others still run
    assert any(s.startswith("source ebay-us (api) skipped: eBay Browse API needs ebay_client_id, ebay_client_secret")
               for s in plan.skipped)
    assert {"js", "demo", "my-shop"} <= set(by_source)


def test_a_profile_source_must_say_how_its_profile_renders(tmp_path: Path, db_url: str):
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    scan = tmp_path / "scan.yaml"
    scan.write_text("sources:\n  - {name: js, kind: profile, profile: jsdemo, base_url: 'http://127.0.0.1:8080'}\n")
    with Database.opened(db_url) as db, pytest.raises(ScanFileError, match="renders 'browser'; use kind: browser"):
        plan_scan(settings, db, targets_file=scan)


def test_lookalike_sources_lists_each_source_with_its_state(settings_env: Path, db_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["sources", "add", "ebay-us", "--connector", "ebay", "--site", "EBAY_US",
                               "--daily-budget", "300"]).exit_code == 0
    assert runner.invoke(app, ["sources", "add", "js", "--profile", "jsdemo"]).exit_code == 0
    bad = runner.invoke(app, ["sources", "add", "js", "--connector", "etsy"])
    assert bad.exit_code != 0 and "source names must be unique: js" in str(bad.exception or bad.output)
    with Database.opened(db_url) as db, db.session() as session:
        run = CrawlRun(status="failed", stats={"error": "eBay Browse API refused the key (HTTP 401)"}, params={})
        session.add(run)
        session.flush()
        session.add(SourceState(name="ebay-us", day=utcnow().date().isoformat(), calls_today=120,
                                resume={"fullips": 200, "full lips": 0}, last_run_id=run.id, last_run_at=utcnow(),
                                last_outcome="credentials_refused",
                                last_error="eBay Browse API refused the key (HTTP 401)",
                                not_before=utcnow() + dt.timedelta(minutes=5), updated_at=utcnow()))
    result = runner.invoke(app, ["sources"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "ebay-us" in line)
    for shown in ("api", "eBay Browse API EBAY_US", "credentials_refused", "120 / 300", "180", "2 queries",
                  "refused the key (HTTP 401)", "UTC"):
        assert shown in line, (shown, line)
    js = next(line for line in result.output.splitlines() if "│ js" in line)
    assert "browser" in js and "never" in js
