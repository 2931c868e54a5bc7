"""The one scan planner (:func:`services.scantargets.plan_scan`): the CLI and the nightly flow plan with
it; every crawl is checked as the crawler will run it before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LookalikeError
from core.settings import load_settings
from services.scantargets import ScanTarget, plan_scan
from storage.db import Database
from storage.models import Brand, Mark, Owner


@pytest.fixture
def setup(tmp_path: Path, db_url: str):
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    with Database.opened(db_url) as db:
        yield settings, db, tmp_path


def add_brand(db: Database, name: str = "Fullips") -> None:
    with db.session() as session:
        owner = Owner(name="Et Al")
        session.add(Brand(name=name, owner=owner, keywords=[], digest_to=[], thresholds={},
                          marks=[Mark(text="Full Lips", kind="alias")]))


def test_file_then_options_profiles_get_the_registry_queries_and_the_base_url(setup):
    settings, db, tmp = setup
    add_brand(db)
    scan_file = tmp / "scan.yaml"
    scan_file.write_text("shops: [https://shop.example/]\nprofiles:\n  - name: demo\n    queries: [lip plumper]\n")
    plan = plan_scan(settings, db, targets_file=scan_file, start_urls=["https://other.example/a"],
                     base_url="http://127.0.0.1:8080")
    assert plan.source == scan_file and plan.skipped == []
    assert [t.key for t in plan.targets] == ["shop.example", "demo", "other.example"]
    demo = plan.targets[1]
    assert demo.base_url == "http://127.0.0.1:8080"  # --base-url for profiles that have none
    assert demo.queries[0] == "Fullips" and demo.queries[-1] == "lip plumper"
    assert plan.queries == len(demo.queries) - 1


def test_the_default_scan_file_is_read_only_without_targets(setup):
    settings, db, tmp = setup
    (settings.data_dir).mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "scan.yaml").write_text("shops: [https://shop.example/]\n")
    assert [t.start_urls for t in plan_scan(settings, db).targets] == [("https://shop.example/",)]
    only = plan_scan(settings, db, start_urls=["https://other.example/"])
    assert only.source is None and [t.key for t in only.targets] == ["other.example"]


def test_a_profile_with_nothing_to_search_is_skipped_in_words(setup):
    settings, db, _ = setup
    plan = plan_scan(settings, db, profiles=["demo"], base_url="http://127.0.0.1:8080")
    assert plan.targets == [] and plan.skipped == [
        "profile demo at http://127.0.0.1:8080 skipped: nothing to search for (no brands registered)"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_urls": ["http://shop.example:99999/"]}, "Port out of range"),
        ({"start_urls": ["http://[::1"]}, "Invalid IPv6 URL"),
        ({"start_urls": ["http://a b/"]}, "whitespace"),
        ({"profiles": ["demo"]}, "has no base_url"),
        ({"profiles": ["no-such-profile"], "base_url": "http://127.0.0.1:1"}, "no-such-profile"),
        ({"profiles": ["demo"], "base_url": "http://127.0.0.1:99999"}, "Port out of range"),
    ],
)
def test_bad_targets_fail_in_one_line_before_anything_runs(setup, kwargs, message):
    settings, db, _ = setup
    add_brand(db)
    with pytest.raises(LookalikeError, match=message) as caught:
        plan_scan(settings, db, **kwargs)
    assert "\n" not in str(caught.value)


def test_a_bad_url_in_the_scan_file_names_its_place(setup):
    settings, db, tmp = setup
    scan_file = tmp / "scan.yaml"
    scan_file.write_text("shops:\n  - https://ok.example/\n  - http://bad.example:70000/\n")
    with pytest.raises(LookalikeError, match=r"shops\.1: .*Port out of range"):
        plan_scan(settings, db, targets_file=scan_file)


def test_repeated_targets_are_planned_once(setup):
    settings, db, _ = setup
    plan = plan_scan(settings, db, start_urls=["https://shop.example/a", "https://shop.example/b"])
    assert plan.targets == [ScanTarget(start_urls=("https://shop.example/a", "https://shop.example/b"))]
