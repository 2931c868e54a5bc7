"""CLI start-up: each command loads only its own modules, and the list commands read through Core (issue 27).

The probe runs the ``lookalike`` command in a fresh interpreter and reads ``sys.modules`` when it ends, so a
heavy import added at the top of a module a fast command loads fails here.  No timing: the time itself is
measured by ``python -m bench.cli`` (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Top-level packages no fast path may load: images, data frames, migrations, crawling, orchestration.
HEAVY = ("cv2", "numpy", "PIL", "pandas", "pyarrow", "alembic", "scrapy", "twisted", "prefect", "dask",
         "distributed", "imagehash", "jinja2", "rapidfuzz")
#: The matching engine; ``matching.model`` and ``matching.evidence`` are plain data classes the queue uses.
LIGHT_MATCHING = {"matching", "matching.model", "matching.evidence"}
#: What the list commands never load: the ORM and its models, pydantic-settings, the ORM services.
ORM_PATH = ("sqlalchemy.orm", "pydantic_settings", "storage.models", "core.settings", "services.review",
            "services.registry", "services.export")
#: The modules of the command line itself that load before any command is chosen.
CLI_BASE = {"cli", "cli.lazy"}

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


def heavy(modules: set[str]) -> list[str]:
    """The heavy modules among ``modules`` (top-level names, or ``matching.*`` engine modules)."""
    found = {m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY}
    found |= {m for m in modules if m.startswith("matching.") and m not in LIGHT_MATCHING}
    return sorted(found)


def orm_path(modules: set[str]) -> list[str]:
    """The modules of :data:`ORM_PATH` among ``modules`` (a package or any of its submodules)."""
    return sorted({name for name in ORM_PATH for m in modules if m == name or m.startswith(name + ".")})


def commands_loaded(modules: set[str]) -> list[str]:
    """The command modules (``cli.*`` beyond the loader) among ``modules``."""
    return sorted(m for m in modules if m.startswith("cli.") and m not in CLI_BASE)


@pytest.mark.parametrize("args", [["--import-only"], ["--help"], ["review", "--help"], ["brands", "--help"],
                                  ["users", "--help"]])
def test_help_imports_no_command_module(tmp_path: Path, args: list[str]) -> None:
    """``--help`` of the CLI and of a group lists names and short help from the map in ``cli/__init__.py``."""
    code, modules, output = loaded_after(args, tmp_path)
    assert code == 0, output
    assert commands_loaded(modules) == []
    assert heavy(modules) == []
    assert not [m for m in modules if m.split(".")[0] in ("sqlalchemy", "services", "storage", "flows", "crawlers")]
    if args != ["--import-only"]:
        assert "Usage: lookalike" in output
    if args == ["--help"]:
        assert "review " in output and "Review suspects: list, show, confirm, dismiss, report, removed." in output


def test_a_command_loads_its_own_module_only(tmp_path: Path) -> None:
    """``review list --help`` loads ``cli.lists`` (and what it imports), not the other command modules."""
    code, modules, output = loaded_after(["review", "list", "--help"], tmp_path)
    assert code == 0, output
    assert commands_loaded(modules) == ["cli.context", "cli.lists", "cli.text"]
    assert heavy(modules) == [] and orm_path(modules) == []
    assert "--created-since" in output


#: Each list command on an empty database and what it prints, exactly.
EMPTY = {("review", "list"): "0 match(es)", ("brands", "list"): "No brands registered yet: run `lookalike brands "
         "import FILE`.", ("review", "list", "--status", "new"): "0 match(es)",
         ("review", "list", "--created-since", "2026-01-01"): "0 match(es)"}


@pytest.mark.parametrize("args", list(EMPTY))
def test_list_commands_read_through_core(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, modules, output = loaded_after(list(args), tmp_path)  # a new database: created and migrated by Alembic
    assert code == 0, output
    assert "alembic" in modules and "sqlalchemy" in modules  # the probe sees the migration
    first = output
    code, modules, output = loaded_after(list(args), tmp_path)  # now up to date: no Alembic
    assert code == 0, output
    assert "services.queries" in modules and "sqlite3" in modules  # the command did read the database
    assert heavy(modules) == []
    assert orm_path(modules) == []
    assert output == first
    assert output.strip().splitlines()[0].strip() == EMPTY[args]


def test_a_heavy_command_does_load_its_libraries(tmp_path: Path) -> None:
    """The probe sees what a command loads: ``export`` loads pandas when it runs (so the checks above can fail)."""
    code, modules, output = loaded_after(["export", "suspects", "-o", str(tmp_path / "s.csv")], tmp_path)
    assert code == 0, output
    assert "pandas" in {m.split(".")[0] for m in modules}
    assert "cli.export" in modules and "cli.scan" not in modules


def _walk(group: object, commands: dict, ctx: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    seen = []
    for name, (target, short_help) in commands.items():
        command = group.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command is not None, path + (name,)
        assert command.get_short_help_str(limit=10**6) == short_help, path + (name,)
        seen.append(path + (name,))
        if not isinstance(target, str):
            seen += _walk(command, target, ctx, path + (name,))
    return seen


def test_every_command_in_the_map_loads_with_its_own_short_help() -> None:
    """Each entry of ``cli.COMMANDS`` imports, and the short help ``--help`` shows is the command's own."""
    import typer

    from cli import COMMANDS, app

    group = typer.main.get_command(app)
    seen = _walk(group, COMMANDS, typer.Context(group))
    assert ("review", "list") in seen and ("stats", "takedowns") in seen and len(seen) == 49


def test_the_fast_revision_check_agrees_with_alembic(tmp_path: Path) -> None:
    """``Database.ensure_schema`` skips Alembic when ``alembic_version`` holds the declared heads."""
    from storage.db import Database, current_revisions, declared_heads, head_revisions, stored_revisions

    assert declared_heads() == head_revisions()
    with Database.opened(f"sqlite:///{tmp_path / 'db.sqlite'}") as db:
        assert stored_revisions(db.engine) == current_revisions(db.engine) == head_revisions()
    with Database.opened(f"sqlite:///{tmp_path / 'empty.sqlite'}", migrate=False) as db:
        assert stored_revisions(db.engine) == frozenset()


def test_the_core_tables_agree_with_the_models() -> None:
    """Every column of ``storage.schema`` is a column of ``storage.models`` with the same type."""
    from sqlalchemy import Numeric, String

    from storage import models, schema

    tables = models.Base.metadata.tables
    for table in schema.metadata.sorted_tables:
        assert table.name in tables, table.name
        for column in table.columns:
            assert column.name in tables[table.name].c, (table.name, column.name)
            model_type = tables[table.name].c[column.name].type
            assert type(column.type) is type(model_type), (table.name, column.name, column.type, model_type)
            if isinstance(model_type, String):
                assert column.type.length == model_type.length, (table.name, column.name)
            if isinstance(model_type, Numeric):
                assert (column.type.precision, column.type.scale) == (model_type.precision, model_type.scale)
            if hasattr(model_type, "timezone"):
                assert column.type.timezone == model_type.timezone, (table.name, column.name)


# ------------------------------------------------------------------ the list queries, and the ORM's queue


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


#: The queue order of the rows :func:`_fill` writes, by seller: counterfeits (equal scores: the older first),
#: the lookalike, the accessory, the resale, then a class the queue does not know.
QUEUE_ORDER = ["seller 0", "seller 5", "seller 2", "seller 3", "seller 1", "seller 4"]
FILTERS = [{}, {"status": "new"}, {"status": "confirmed"}, {"brand": "fullips"}, {"brand": " Zentro "},
           {"min_score": 0.91}, {"limit": 2}, {"brand": "glowwe", "min_score": 0.2, "status": "new", "limit": 5}]


def test_queue_rows_are_the_queue_of_the_orm(db_url: str) -> None:
    """``services.queries.queue_rows`` (Core) and ``services.review.list_matches`` (ORM, for exports) give the
    same matches in the same order, with the same errors; the order is the one :data:`QUEUE_ORDER` spells out."""
    from sqlalchemy import select

    from core.errors import LookalikeError
    from services import queries, review
    from storage.db import Database

    _fill(db_url)
    with Database.opened(db_url) as db, db.session() as session, db.connection() as connection:
        rows = queries.queue_rows(connection)
        assert [row.seller for row in rows] == QUEUE_ORDER
        first = rows[0]
        assert (first.klass, first.score, first.status, first.brand, first.title, first.marketplace) == (
            "counterfeit", 0.91, "new", "Fullips", "Item 0 [b]x[/b]", "Shop \u00e9l\u00e9gant")
        assert (str(first.price), first.currency, first.changed) == ("24.00", "USD", False)
        assert rows[2].price is None and rows[2].title is None
        brand_ids = sorted(connection.execute(select(queries.brands.c.id)).scalars())
        for filters in [*FILTERS, {"brand": brand_ids[0]}, {"brand": str(brand_ids[-1])}]:
            core = [(row.match_id, row.score, row.klass, row.status) for row in queries.queue_rows(connection, **filters)]
            orm = [(m.id, m.score, m.klass, m.status) for m in review.list_matches(session, **filters)]
            assert core == orm, filters
        assert [row.seller for row in queries.queue_rows(connection, status="new", min_score=0.9)] == [
            "seller 0", "seller 5", "seller 2", "seller 4"]
        fullips = queries.find_brand_id(connection, "FULLIPS")
        assert [row.seller for row in queries.queue_rows(connection, brand_ids={fullips})] == [
            "seller 0", "seller 1", "seller 4"]
        assert queries.queue_rows(connection, brand_ids=set()) == []
        for bad, message in (({"status": "open"}, "unknown status 'open': choose one of new, confirmed, dismissed, "
                              "reported, removed"), ({"brand": "nobody"}, "no brand named 'nobody'"),
                             ({"brand": 9999}, "no brand named 9999")):
            with pytest.raises(LookalikeError) as core_error:
                queries.queue_rows(connection, **bad)
            with pytest.raises(LookalikeError) as orm_error:
                review.list_matches(session, **bad)
            assert str(core_error.value) == str(orm_error.value) == message


def test_brand_rows(db_url: str) -> None:
    """The registry's summary rows, by name, with aliases and sellers in the order they were added."""
    from services.queries import brand_rows, find_brand_id
    from storage.db import Database

    _fill(db_url)
    with Database.opened(db_url) as db, db.connection() as connection:
        rows = brand_rows(connection)
        assert [row["brand"] for row in rows] == ["Fullips", "Zentro", "glowwe"] or \
            [row["brand"] for row in rows] == ["Fullips", "glowwe", "Zentro"]  # the backend's collation decides
        by_name = {row["brand"]: row for row in rows}
        assert by_name["Fullips"] == {
            "brand": "Fullips", "owner": "Et Al Beauty", "digest_to": ["a@etal.test", "b@etal.test"],
            "digest": "weekly, min 0.6, counterfeit+lookalike", "category": "beauty", "aliases": ["Ful1ips", "Abc Lips"],
            "products": 2, "images": 2, "authorized_sellers": ["Zeta Store", "Alpha Store"]}
        assert by_name["Zentro"] == {
            "brand": "Zentro", "owner": "Quiet Co", "digest_to": [], "digest": "off", "category": "tools",
            "aliases": ["Zen"], "products": 1, "images": 1, "authorized_sellers": []}
        assert by_name["glowwe"]["products"] == 0 and by_name["glowwe"]["digest"] == "weekly, min 0.6, counterfeit+lookalike"
        zentro = find_brand_id(connection, "zentro")
        assert [row["brand"] for row in brand_rows(connection, brand_ids={zentro})] == ["Zentro"]


def test_cli_lists_print_the_rows(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``review list`` prints the queue in order and ``brands list`` the registry, hostile text escaped."""
    from typer.testing import CliRunner

    from cli import app

    _fill(db_url)
    monkeypatch.setenv("LOOKALIKE_DB_URL", db_url)
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    runner = CliRunner()
    brands = runner.invoke(app, ["brands", "list"], env={"COLUMNS": "250"})
    assert brands.exit_code == 0, brands.output
    assert "beauty; Ful1ips, Abc Lips; Zeta Store, Alpha Store" in brands.output
    assert "a@etal.test, b@etal.test (weekly, min 0.6, counterfeit+lookalike)" in brands.output
    queue = runner.invoke(app, ["review", "list"], env={"COLUMNS": "250"})
    assert queue.exit_code == 0, queue.output
    lines = [line for line in queue.output.splitlines() if re.search(r"seller \d", line)]
    assert [re.search(r"seller (\d)", line)[1] for line in lines] == [s[-1] for s in QUEUE_ORDER]
    assert "24.00 USD" in lines[0] and "Item 0 [b]x[/b]" in lines[0]
    limited = runner.invoke(app, ["review", "list", "--brand", "Fullips", "--limit", "2"], env={"COLUMNS": "250"})
    assert limited.exit_code == 0 and "2 match(es)" in limited.output


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
