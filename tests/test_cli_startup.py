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
#: What opening an up-to-date database adds: SQLAlchemy and its driver (Alembic only when migrating).
DATABASE = ("sqlalchemy",)

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
    assert not [m for m in modules if m.split(".")[0] in DATABASE + ("services", "storage", "flows", "crawlers")]
    if args != ["--import-only"]:
        assert "Usage" in output


@pytest.mark.parametrize("args", [["review", "list"], ["brands", "list"], ["review", "list", "--status", "new"]])
def test_fast_commands_load_only_the_database(tmp_path: Path, args: list[str]) -> None:
    code, modules, output = loaded_after(args, tmp_path)  # a new database: created and migrated by Alembic
    assert code == 0, output
    assert "alembic" in modules
    code, modules, output = loaded_after(args, tmp_path)  # now up to date: the revision check needs no Alembic
    assert code == 0, output
    assert "sqlalchemy" in modules  # the command did open the database: the check below means something
    assert heavy(modules, allowed=DATABASE) == []
    assert "0 match(es)" in output or "No brands registered" in output


def test_a_heavy_command_does_load_its_libraries(tmp_path: Path) -> None:
    """The probe sees deferred imports: ``export`` loads pandas when it runs (so the checks above can fail)."""
    code, modules, output = loaded_after(["export", "suspects", "-o", str(tmp_path / "s.csv")], tmp_path)
    assert code == 0, output
    assert "pandas" in {m.split(".")[0] for m in modules}


def test_help_defaults_equal_the_services_constants() -> None:
    """The CLI writes a few constants out for ``--help``; they must stay those of the services."""
    from cli import brands, match, review, scan, users
    from services import registry
    from services import scan as scan_service
    from storage import models

    assert brands.IMAGE_FETCH_SECONDS == registry.IMAGE_FETCH_SECONDS
    assert brands.IMPORT_FETCH_BUDGET == registry.IMPORT_FETCH_BUDGET
    assert match.DEFAULT_BATCH_SIZE == scan.DEFAULT_BATCH_SIZE == scan_service.DEFAULT_BATCH_SIZE
    assert review.MATCH_STATUSES == models.MATCH_STATUSES
    assert users.USER_ROLES == models.USER_ROLES


def test_the_fast_revision_check_agrees_with_alembic(tmp_path: Path) -> None:
    """``Database.ensure_schema`` skips Alembic when ``alembic_version`` holds the declared heads."""
    from storage.db import Database, current_revisions, declared_heads, head_revisions, stored_revisions

    assert declared_heads() == head_revisions()
    with Database.opened(f"sqlite:///{tmp_path / 'db.sqlite'}") as db:
        assert stored_revisions(db.engine) == current_revisions(db.engine) == head_revisions()
    with Database.opened(f"sqlite:///{tmp_path / 'empty.sqlite'}", migrate=False) as db:
        assert stored_revisions(db.engine) == frozenset()
