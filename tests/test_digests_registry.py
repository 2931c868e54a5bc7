"""Owner digest preferences in the registry (``owners:``), and ``brands list`` showing owner and addresses."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from services.registry.changes import Change, ChangeKind
from services.registry.load import load_registry
from services.registry.specification import RegistryInvalid
from services.registry.sync import import_registry
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import Owner

REGISTRY = """\
brands:
  - name: Fullips
    owner: Et Al Beauty
    digest_to: [owner@example.com, legal@example.com]
    products:
      - {name: Fullips Lip Plumper, sku: FLP-1, images: [refs/a.png]}
  - name: Zentro
    owner: Zentro Ltd
    digest_to: [z@example.com]
    products:
      - {name: Zentro One, sku: Z-1, images: [refs/a.png]}
owners:
  - name: Et Al Beauty
    digest: {frequency: weekly, min_score: 0.6, classes: [counterfeit, lookalike], enabled: true}
  - name: Zentro Ltd
    digest: {enabled: false}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "refs").mkdir(exist_ok=True)
    PILImage.new("RGB", (64, 64), (200, 20, 90)).save(tmp_path / "refs" / "a.png")
    path = tmp_path / "registry.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_owner_preferences_are_imported_and_reimport_changes_nothing(db_url: str, tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images", max_bytes=10**7, max_pixels=10**7)
    registry = load_registry(write(tmp_path, REGISTRY), store=store)
    with Database.opened(db_url) as database:
        with database.session() as s:
            report = import_registry(s, registry, store)
        assert Change(None, "digest_frequency", ChangeKind.DIGEST, "'daily' -> 'weekly'", owner="Et Al Beauty") \
            in report.changes
        assert "owner Et Al Beauty: digest_frequency 'daily' -> 'weekly'" in report.lines()
        with database.session() as s:
            owners = {o.name: o for o in s.scalars(select(Owner))}
            etal, zentro = owners["Et Al Beauty"], owners["Zentro Ltd"]
            assert (etal.digest_frequency, etal.digest_min_score, etal.digest_classes, etal.digest_enabled) == \
                ("weekly", 0.6, ["counterfeit", "lookalike"], True)
            assert (zentro.digest_frequency, zentro.digest_enabled) == ("daily", False)
        with database.session() as s:
            again = import_registry(s, load_registry(write(tmp_path, REGISTRY), store=store), store)
        assert not [c for c in again.changes if c.owner is not None] and not again.changes


@pytest.mark.parametrize(("owners", "problem"), [
    ("  - name: Nobody Inc\n", "owners[0].name: no brand in this file has owner 'Nobody Inc'"),
    ("  - name: Zentro Ltd\n  - name: Zentro Ltd\n", "owners[1].name: duplicate owner 'Zentro Ltd'"),
    ("  - name: Zentro Ltd\n    digest: {frequency: hourly}\n", "owners[0].digest.frequency"),
    ("  - name: Zentro Ltd\n    digest: {min_score: 2}\n", "owners[0].digest.min_score"),
    ("  - name: Zentro Ltd\n    digest: {classes: [clean]}\n", "owners[0].digest.classes[0]"),
])
def test_bad_owner_preferences_are_reported_with_their_place(tmp_path: Path, owners: str, problem: str) -> None:
    text = REGISTRY.split("owners:")[0] + "owners:\n" + owners
    store = ImageStore(tmp_path / "images", max_bytes=10**7, max_pixels=10**7)
    with pytest.raises(RegistryInvalid) as err:
        load_registry(write(tmp_path, text), store=store)
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_brands_list_shows_owner_digest_addresses_and_preferences(settings_env: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    runner = CliRunner()
    path = write(tmp_path, REGISTRY)
    assert runner.invoke(app, ["brands", "import", str(path)]).exit_code == 0
    listed = runner.invoke(app, ["brands", "list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "owner@example.com, legal@example.com" in listed.output and "Et Al Beauty" in listed.output
    assert "weekly, min 0.6, counterfeit+lookalike" in listed.output and "off" in listed.output
