"""CLI start-up time beside a bare interpreter: ``.venv/bin/python -m bench.cli [--runs N]``.

Each command runs ``--runs`` times in a fresh interpreter, interleaved with ``python -c pass`` (the
baseline, in the same run), against a temporary SQLite database migrated beforehand.  Reported per
command: the median wall time and the median CPU time (user + system of the child, which a busy machine
inflates less than wall time), in seconds, and both as a ratio to the baseline.  The target of issue 14.5
is ``--help``, ``review list`` and ``brands list`` under 0.5 s on an idle machine; what they load is
checked, without timing, by tests/test_cli_startup.py.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS: dict[str, list[str]] = {
    "lookalike --help": ["--help"],
    "lookalike review list": ["review", "list"],
    "lookalike brands list": ["brands", "list"],
}
#: The CLI the way the console script starts it (``lookalike`` is ``cli:main``).
ENTRY = "import sys; from cli import main; sys.argv[0] = 'lookalike'; main(sys.argv[1:])"
#: For scale: what every command paid before the imports were deferred (the libraries alone, no CLI).
EAGER = "import cv2, numpy, PIL.Image, pandas, pyarrow, alembic.command, sqlalchemy.orm, matching.matcher"
#: For scale: what ``review list`` and ``brands list`` loaded before their lean read path (the settings object,
#: the ORM models and the two services); they now read through core.configfile and storage.lean instead.
ORM_PATH = "import core.settings, storage.db, storage.models, services.review, services.registry.queries"


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one run of ``argv``; a failing run stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.decode(errors='replace')[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(runs: int) -> list[tuple[str, str, str, str, str]]:
    """Rows (command, median wall s, wall ratio, median CPU s, CPU ratio); the baseline row first."""
    with tempfile.TemporaryDirectory(prefix="lookalike-bench-cli-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOKALIKE_", "PREFECT_"))}
        env.update(LOOKALIKE_DATA_DIR=f"{tmp}/data", LOOKALIKE_DB_URL=f"sqlite:///{tmp}/db.sqlite",
                   LOOKALIKE_CONFIG=f"{tmp}/absent.toml", PYTHONPATH=str(ROOT), COLUMNS="120")
        baseline = [sys.executable, "-c", "pass"]
        commands = {name: [sys.executable, "-c", ENTRY, *args] for name, args in COMMANDS.items()}
        commands["(reference) import the heavy libraries"] = [sys.executable, "-c", EAGER]
        commands["(reference) import the settings, ORM and services"] = [sys.executable, "-c", ORM_PATH]
        _timed(commands["lookalike review list"], env)  # creates and migrates the database, warms the disk cache
        samples: dict[str, list[tuple[float, float]]] = {"python -c pass": []} | {name: [] for name in commands}
        for _ in range(runs):
            samples["python -c pass"].append(_timed(baseline, env))
            for name, argv in commands.items():
                samples[name].append(_timed(argv, env))
    base_wall = statistics.median(w for w, _ in samples["python -c pass"])
    base_cpu = statistics.median(c for _, c in samples["python -c pass"])
    rows = []
    for name, values in samples.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        rows.append((name, f"{wall:.3f}", f"{wall / base_wall:.1f}x", f"{cpu:.3f}", f"{cpu / max(base_cpu, 1e-3):.1f}x"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (median reported)")
    args = parser.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"CLI start-up, median of {args.runs} runs (load average {os.getloadavg()[0]:.1f}, "
                  f"{os.cpu_count()} CPUs)")
    for column in ("command", "wall s", "wall / python -c pass", "CPU s", "CPU / python -c pass"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for row in run(args.runs):
        table.add_row(*row)
    Console(width=120).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
