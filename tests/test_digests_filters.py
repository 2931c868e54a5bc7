""""What is new" filters: ``export suspects`` and ``review list`` with ``--created-since`` / ``--changed-since``."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from digest_support import T0, mail_settings, seed
from typer.testing import CliRunner

from cli import app
from services.review import list_matches
from storage.db import Database
from storage.models import Match


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    with Database.opened(db_url) as database:
        world = seed(database, mail_settings(tmp_path, db_url))
        with database.session() as s:
            new = s.get(Match, world.matches[("fl-1", "Fullips")])
            new.created_at = new.updated_at = T0 + dt.timedelta(days=5)  # found on day 5
            changed = s.get(Match, world.matches[("nv-1", "Nordvik")])
            changed.updated_at = T0 + dt.timedelta(days=6)  # found on day 0, changed on day 6
        yield database, world


def test_list_matches_filters_on_match_times(world) -> None:
    database, w = world
    with database.session() as s:
        created = {m.id for m in list_matches(s, created_since=T0 + dt.timedelta(days=4))}
        changed = {m.id for m in list_matches(s, changed_since=(T0 + dt.timedelta(days=4)).date())}
        both = {m.id for m in list_matches(s, created_since=T0 + dt.timedelta(days=4),
                                           changed_since=T0 + dt.timedelta(days=4))}
        everything = {m.id for m in list_matches(s, changed_since=T0)}
    assert created == both == {w.matches[("fl-1", "Fullips")]}
    assert changed == {w.matches[("fl-1", "Fullips")], w.matches[("nv-1", "Nordvik")]}
    assert everything == set(w.matches.values())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_export_and_review_list_filters(world, settings_env: Path, tmp_path: Path) -> None:
    database, w = world
    runner = CliRunner()
    out = tmp_path / "changed.csv"
    result = runner.invoke(app, ["export", "suspects", "-o", str(out), "--changed-since", "2026-11-05"])
    assert result.exit_code == 0, result.output
    ids = {int(r["match_id"]) for r in csv.DictReader(out.read_text(encoding="utf-8").splitlines())}
    assert ids == {w.matches[("fl-1", "Fullips")], w.matches[("nv-1", "Nordvik")]}
    result = runner.invoke(app, ["export", "suspects", "-o", str(out), "--created-since", "2026-11-05T12:00"])
    assert {int(r["match_id"]) for r in csv.DictReader(out.read_text(encoding="utf-8").splitlines())} == {w.matches[("fl-1", "Fullips")]}
    listed = runner.invoke(app, ["review", "list", "--created-since", "2026-11-05"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "1 match(es)" in listed.output
    bad = runner.invoke(app, ["export", "suspects", "-o", str(out), "--created-since", "yesterday"])
    assert bad.exit_code != 0
    assert "--created-since 'yesterday' is not a date" in str(bad.exception) + bad.output
    wrong_kind = runner.invoke(app, ["export", "listings", "-o", str(out), "--changed-since", "2026-11-05"])
    assert "apply to suspects" in str(wrong_kind.exception) + wrong_kind.output
