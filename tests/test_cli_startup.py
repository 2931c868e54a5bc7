"""CLI start-up: the heavy libraries load only in the commands that use them (issue 14.5).

Each check runs the ``lookalike`` command in a fresh interpreter and reads ``sys.modules`` when it ends, so
a heavy import added at the top of any ``cli/*.py`` module, or of a module the fast commands import,
fails here.  No timing: the time itself is measured by ``python -m bench.cli`` (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Top-level packages no fast path may load: images, data frames, migrations, crawling, orchestration.
HEAVY = ("cv2", "numpy", "PIL", "pandas", "pyarrow", "alembic", "scrapy", "twisted", "prefect", "dask",
         "distributed", "imagehash", "jinja2", "rapidfuzz")
#: The matching engine; ``matching.model`` and ``matching.evidence`` are plain data classes the queue shows.
LIGHT_MATCHING = {"matching", "matching.model", "matching.evidence"}
#: What the full database path loads (creating or migrating a database, or any other command); the fast
#: ``review list`` / ``brands list`` on an up-to-date database load none of it (storage.lean, services.quicklist,
#: core.configfile): no SQLAlchemy, no pydantic-settings, no ORM models, no services with ORM queries.
#: (pydantic itself stays: typer 0.29 converts every command's parameters with pydantic TypeAdapters.)
FULL_PATH = ("sqlalchemy", "pydantic_settings", "storage.models", "storage.db",
             "core.settings", "services.review", "services.registry")

PROBE = """
import json, sys
sys.argv = ["lookalike", *json.loads(sys.argv[1])]
code = 0
try:
    if sys.argv[1:] != ["--import-only"]:
        import cli
        cli.main(sys.argv[1:])
    else:
        import cli  # noqa: F401
except SystemExit as exc:
    code = exc.code or 0
sys.stdout.flush()
print("\\n@@MODULES@@" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_after(args: list[str], env_dir: Path) -> tuple[int, set[str], str]:
    """Run ``lookalike ARGS`` in a fresh interpreter; its exit code, the modules loaded, and its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOKALIKE_", "PREFECT_"))}
    env.update(LOOKALIKE_DATA_DIR=str(env_dir / "data"), LOOKALIKE_DB_URL=f"sqlite:///{env_dir / 'db.sqlite'}",
               LOOKALIKE_CONFIG=str(env_dir / "absent.toml"), COLUMNS="120", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert "@@MODULES@@" in proc.stdout, proc.stderr[-2000:]
    output, _, tail = proc.stdout.rpartition("\n@@MODULES@@")
    result = json.loads(tail)
    return result["code"], set(result["modules"]), output + proc.stderr


def heavy(modules: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    """The heavy modules among ``modules`` (top-level names, or ``matching.*`` engine modules)."""
    found = {m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY and m.split(".")[0] not in allowed}
    found |= {m for m in modules if m.startswith("matching.") and m not in LIGHT_MATCHING}
    return sorted(found)


@pytest.mark.parametrize("args", [["--import-only"], ["--help"], ["review", "--help"], ["brands", "--help"],
                                  ["review", "list", "--help"], ["scan", "--help"], ["export", "--help"]])
def test_help_loads_no_heavy_module_and_no_database(tmp_path: Path, args: list[str]) -> None:
    code, modules, output = loaded_after(args, tmp_path)
    assert code == 0, output
    assert heavy(modules) == []
    assert not [m for m in modules if m.split(".")[0] in ("sqlalchemy", "services", "storage", "flows", "crawlers")]
    if args != ["--import-only"]:
        assert "Usage" in output


def full_path(modules: set[str]) -> list[str]:
    """The modules of :data:`FULL_PATH` among ``modules`` (a package or any of its submodules)."""
    return sorted({name for name in FULL_PATH for m in modules if m == name or m.startswith(name + ".")})


@pytest.mark.parametrize("args", [["review", "list"], ["brands", "list"], ["review", "list", "--status", "new"]])
def test_fast_commands_load_only_the_database(tmp_path: Path, args: list[str]) -> None:
    code, modules, output = loaded_after(args, tmp_path)  # a new database: created and migrated by Alembic
    assert code == 0, output
    assert "alembic" in modules and "sqlalchemy" in modules  # the full path: the probe sees it
    first = output
    code, modules, output = loaded_after(args, tmp_path)  # now up to date: the lean read path, DB-API only
    assert code == 0, output
    assert "sqlite3" in modules and "storage.lean" in modules  # the command did open the database
    assert heavy(modules) == []
    assert full_path(modules) == []
    assert output == first
    assert "0 match(es)" in output or "No brands registered" in output


def test_a_date_filter_still_takes_the_full_path(tmp_path: Path) -> None:
    """``--created-since`` parses dates with pandas and filters through the ORM: the probe sees both."""
    args = ["review", "list", "--created-since", "2026-01-01"]
    loaded_after(args, tmp_path)
    code, modules, output = loaded_after(args, tmp_path)
    assert code == 0, output
    assert "sqlalchemy" in modules and "storage.models" in modules


def test_a_heavy_command_does_load_its_libraries(tmp_path: Path) -> None:
    """The probe sees deferred imports: ``export`` loads pandas when it runs (so the checks above can fail)."""
    code, modules, output = loaded_after(["export", "suspects", "-o", str(tmp_path / "s.csv")], tmp_path)
    assert code == 0, output
    assert "pandas" in {m.split(".")[0] for m in modules}


def test_help_defaults_equal_the_services_constants() -> None:
    """The CLI writes a few constants out for ``--help``; they must stay those of the services."""
    from cli import brands, match, review, scan, users
    from services import scan as scan_service
    from services.registry import images as registry_images
    from storage import models

    assert brands.IMAGE_FETCH_SECONDS == registry_images.IMAGE_FETCH_SECONDS
    assert brands.IMPORT_FETCH_BUDGET == registry_images.IMPORT_FETCH_BUDGET
    assert match.DEFAULT_BATCH_SIZE == scan.DEFAULT_BATCH_SIZE == scan_service.DEFAULT_BATCH_SIZE
    assert review.MATCH_STATUSES == models.MATCH_STATUSES
    from storage import lean

    assert lean.MATCH_STATUSES == models.MATCH_STATUSES
    assert models.Money.scale == lean.MONEY_SCALE
    assert users.USER_ROLES == models.USER_ROLES


def test_the_fast_revision_check_agrees_with_alembic(tmp_path: Path) -> None:
    """``Database.ensure_schema`` skips Alembic when ``alembic_version`` holds the declared heads."""
    from storage.db import Database, current_revisions, declared_heads, head_revisions, stored_revisions

    assert declared_heads() == head_revisions()
    with Database.opened(f"sqlite:///{tmp_path / 'db.sqlite'}") as db:
        assert stored_revisions(db.engine) == current_revisions(db.engine) == head_revisions()
    with Database.opened(f"sqlite:///{tmp_path / 'empty.sqlite'}", migrate=False) as db:
        assert stored_revisions(db.engine) == frozenset()


# ------------------------------------------------------------------ the lean read path agrees with the ORM


def _fill(db_url: str) -> None:
    """A registry and a queue with what the fast queries must get right: several brands and owners, aliases
    and sellers added out of name order, a brand with no product, every class, equal scores, a null price
    and title, digest preferences on and off."""
    import datetime as dt
    from decimal import Decimal

    from storage.db import Database
    from storage.models import (
        AuthorizedSeller,
        Brand,
        Image,
        Listing,
        Mark,
        Marketplace,
        Match,
        Owner,
        Product,
        ReferenceImage,
    )

    t0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
    with Database.opened(db_url) as db, db.session() as s:
        etal = Owner(name="Et Al Beauty", digest_frequency="weekly", digest_min_score=0.6,
                     digest_classes=["counterfeit", "lookalike"])
        quiet = Owner(name="Quiet Co", digest_enabled=False)
        zentro = Brand(owner=quiet, name="Zentro", category="tools")
        fullips = Brand(owner=etal, name="Fullips", category="beauty", digest_to=["a@etal.test", "b@etal.test"])
        glowwe = Brand(owner=etal, name="glowwe")
        s.add_all([etal, quiet, zentro, fullips, glowwe])
        s.flush()
        s.add_all([Mark(brand=fullips, text="Ful1ips", kind="alias"), Mark(brand=fullips, text="FULLIPS", kind="wordmark"),
                   Mark(brand=fullips, text="Abc Lips", kind="alias"), Mark(brand=zentro, text="Zen", kind="alias"),
                   AuthorizedSeller(brand=fullips, name="Zeta Store"), AuthorizedSeller(brand=fullips, name="Alpha Store")])
        products = [Product(brand=fullips, sku="F-1", name="Plumper"), Product(brand=fullips, sku="F-2", name="Gloss"),
                    Product(brand=zentro, sku="Z-1", name="Drill")]
        s.add_all(products)
        for n, product in enumerate([products[0], products[0], products[2]]):
            sha = f"{n:064x}"
            s.add(Image(sha256=sha, path=f"{sha}.png", size_bytes=10, width=1, height=1))
            s.flush()
            s.add(ReferenceImage(product=product, sha256=sha, source=f"refs/{n}.png"))
        market = Marketplace(name="bazaarly", kind="marketplace")
        shop = Marketplace(name="Shop \u00e9l\u00e9gant")
        s.add_all([market, shop])
        s.flush()
        cases = [("counterfeit", 0.91, fullips, Decimal("24.00")), ("resale", 0.95, fullips, Decimal("19.99")),
                 ("lookalike", 0.91, glowwe, None), ("accessory", 0.5, zentro, Decimal("0.10")),
                 ("unrelated", 0.99, fullips, Decimal("1234567.5")), ("counterfeit", 0.91, zentro, Decimal("3"))]
        for n, (klass, score_, brand, price) in enumerate(cases):
            listing = Listing(marketplace_id=(market if n % 2 else shop).id, canonical_url=f"https://x.test/{n}",
                              url=f"https://x.test/{n}", title=None if price is None else f"Item {n} [b]x[/b]",
                              price=price, currency=None if price is None else "USD", seller=f"seller {n}",
                              content_hash=f"{n}", first_seen=t0, last_seen=t0)
            s.add(listing)
            s.flush()
            s.add(Match(listing_id=listing.id, brand_id=brand.id, score=score_, klass=klass,
                        status="confirmed" if n == 1 else "new", listing_content_hash=f"{n}"))


FILTERS = [{}, {"status": "new"}, {"status": "confirmed"}, {"brand": "fullips"}, {"brand": " Zentro "},
           {"min_score": 0.91}, {"limit": 2}, {"brand": "glowwe", "min_score": 0.2, "status": "new", "limit": 5}]


def test_fast_rows_equal_the_orm_rows(db_url: str) -> None:
    """``services.quicklist`` on a DB-API connection gives the rows, order and errors of the ORM services."""
    from core.errors import LookalikeError
    from services import quicklist, review
    from services.registry.queries import list_brands
    from storage.db import Database
    from storage.lean import open_reader

    _fill(db_url)
    with Database.opened(db_url) as db, db.session() as session, open_reader(db_url) as reader:
        assert reader is not None
        brand_ids = sorted(b["id"] for b in [{"id": i} for (i,) in reader.select(["brands.id"], "FROM brands")])
        for filters in [*FILTERS, {"brand": brand_ids[0]}, {"brand": str(brand_ids[-1])}]:
            orm = [quicklist.QueueRow.from_match(m) for m in review.list_matches(session, **filters)]
            assert quicklist.queue_rows(reader, **filters) == orm, filters
        assert len(quicklist.queue_rows(reader)) == 6
        assert quicklist.brand_rows(reader) == list_brands(session)
        for bad in ({"status": "open"}, {"brand": "nobody"}, {"brand": 9999}):
            with pytest.raises(LookalikeError) as fast:
                quicklist.queue_rows(reader, **bad)
            with pytest.raises(LookalikeError) as full:
                review.list_matches(session, **bad)
            assert str(fast.value) == str(full.value)


def test_fast_and_full_cli_output_are_identical(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same table from the lean path and from the ORM path (``quick_reader`` forced to None)."""
    from typer.testing import CliRunner

    from cli import app, context

    _fill(db_url)
    monkeypatch.setenv("LOOKALIKE_DB_URL", db_url)
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    runner = CliRunner()
    commands = [["brands", "list"], ["review", "list"], ["review", "list", "--brand", "Fullips", "--limit", "2"],
                ["review", "list", "--status", "new", "--min-score", "0.9"]]
    opened: list[object] = []
    real = context.quick_reader

    def spy() -> object:
        opened.append(reader := real())
        return reader

    monkeypatch.setattr(context, "quick_reader", spy)
    fast = [runner.invoke(app, args, env={"COLUMNS": "250"}) for args in commands]
    assert len(opened) == len(commands) and all(r is not None for r in opened)  # the lean path was taken
    monkeypatch.setattr(context, "quick_reader", lambda: None)
    full = [runner.invoke(app, args, env={"COLUMNS": "250"}) for args in commands]
    for args, a, b in zip(commands, fast, full, strict=True):
        assert a.exit_code == b.exit_code == 0, (args, a.output, b.output)
        assert a.output == b.output, args
    assert "Zeta Store, Alpha Store" in fast[0].output or "Zeta Store" in fast[0].output


def test_lean_columns_agree_with_the_models() -> None:
    """Every ``storage.lean.COLUMNS`` entry is a column of ``storage.models`` of the kind it says."""
    from sqlalchemy import JSON, Boolean, Float, Integer, Numeric, String

    from storage import lean, models

    kinds = {"int": Integer, "str": String, "float": Float, "bool": Boolean, "json": JSON}
    tables = models.Base.metadata.tables
    for name, kind in lean.COLUMNS.items():
        table, column = name.split(".")
        assert table in tables and column in tables[table].c, name
        type_ = tables[table].c[column].type
        if kind == "money":
            assert isinstance(type_, Numeric) and not isinstance(type_, Float), name
            assert type_.asdecimal is not False and type_.scale == lean.MONEY_SCALE, name
        else:
            assert isinstance(type_, kinds[kind]), (name, type_)
            if kind == "float":
                assert not isinstance(type_, Numeric) or isinstance(type_, Float), name
    assert lean.MATCH_STATUSES == models.MATCH_STATUSES


def test_the_lean_reader_declines_what_it_does_not_handle(tmp_path: Path) -> None:
    """A missing file, an unmigrated or out-of-date database, URL forms SQLAlchemy handles its own way: None."""
    import sqlite3

    from storage.db import Database
    from storage.lean import connect_arguments, open_reader

    assert open_reader(f"sqlite:///{tmp_path / 'missing.db'}") is None
    sqlite3.connect(tmp_path / "blank.db").close()
    assert open_reader(f"sqlite:///{tmp_path / 'blank.db'}") is None
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Database.opened(url).__enter__().dispose()
    with open_reader(url) as reader:
        assert reader is not None
    connection = sqlite3.connect(tmp_path / "db.sqlite")
    connection.execute("DELETE FROM alembic_version WHERE version_num IN "
                       "(SELECT version_num FROM alembic_version LIMIT 1)")  # one head behind
    connection.commit()
    connection.close()
    assert open_reader(url) is None
    for other in ("sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro", "mysql://u@h/d",
                  "postgresql+asyncpg://u@h/d", "postgresql://u@h/d?host=a&host=b"):
        assert connect_arguments(other) is None, other
    assert connect_arguments("postgresql+psycopg://us%40r:p%3Aw@127.0.0.1:5433/db?sslmode=disable") == (
        "postgresql", {"host": "127.0.0.1", "dbname": "db", "user": "us@r", "password": "p:w", "port": 5433,
                       "sslmode": "disable"})


# ------------------------------------------------------------ the light settings read agrees with Settings


@pytest.mark.parametrize("file_text, env", [
    (None, {}),
    ("data_dir = '~/lk'\n", {}),
    ("[lookalike]\ndata_dir = 'rel/dir'\ndb_url = 'sqlite:///from-file.db'\n", {}),
    ("db_url = 'sqlite:///from-file.db'\n", {"LOOKALIKE_DB_URL": "postgresql://u@h/d"}),
    ("data_dir = 'file-dir'\n", {"lookalike_data_dir": "/env/dir"}),
    ("db_url = ''\n", {"LOOKALIKE_DATA_DIR": "~/x"}),
    (None, {"LOOKALIKE_DB_URL": "", "XDG_DATA_HOME": "/xdg"}),
    ("other = 1\n[lookalike]\nscan_workers = 2\n", {"LOOKALIKE_SCAN_WORKERS": "3"}),
])
def test_the_light_settings_read_agrees_with_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      file_text: str | None, env: dict[str, str]) -> None:
    from core.configfile import read_database_settings
    from core.settings import Settings

    for key in list(os.environ):
        if key.upper().startswith("LOOKALIKE_") or key == "XDG_DATA_HOME":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    if file_text is not None:
        (tmp_path / "lookalike.toml").write_text(file_text)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    light, full = read_database_settings(), Settings()
    assert light is not None
    assert (light.data_dir, light.db_url, light.database_url) == (full.data_dir, full.db_url, full.database_url)


@pytest.mark.parametrize("file_text", ["data_dir = [1, 2]\n", "db_url = 5\n", "not toml [\n"])
def test_the_light_settings_read_leaves_odd_values_to_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               file_text: str) -> None:
    """A value only pydantic can judge: the light read declines (None) and the full Settings decides."""
    from core.configfile import read_database_settings

    path = tmp_path / "conf.toml"
    path.write_text(file_text)
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(path))
    monkeypatch.delenv("LOOKALIKE_DB_URL", raising=False)
    monkeypatch.delenv("LOOKALIKE_DATA_DIR", raising=False)
    assert read_database_settings() is None
