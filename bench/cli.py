"""CLI start-up time beside a bare interpreter: ``.venv/bin/python -m bench.cli [--runs N]``.

Each command runs ``--runs`` times in a fresh interpreter, interleaved with ``python -c pass`` (the
baseline, in the same run), against a temporary SQLite database migrated beforehand and filled like a demo
night (``--brands`` brands with aliases, sellers and products, ``--matches`` matches of every class on two
marketplaces; the queue shows its first 200).  Reported per command: the median wall time and the median CPU
time (user + system of the child, which a busy machine inflates less than wall time), in seconds, and both as
a ratio to the baseline.  The target of issue 27 is ``--help``, ``review list`` and ``brands list`` each at
most 0.5 s; what they load is checked, without timing, by tests/test_cli_startup.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from matching.model import CLASSES
from storage.db import Database
from storage.models import AuthorizedSeller, Brand, Listing, Mark, Marketplace, Match, Owner, Product
from storage.vocabulary import MATCH_STATUSES

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
#: For scale: what the list commands would load through the ORM (the settings object, the models, the review
#: service); they read through SQLAlchemy Core (services.queries on storage.schema) instead.
ORM_PATH = "import core.settings, storage.db, storage.models, services.review"


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


def fill(url: str, *, brands: int, matches: int) -> None:
    """A registry of ``brands`` brands and ``matches`` matches of every class, seeded (not timed)."""
    rng = random.Random(7)
    now = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    with Database.opened(url) as db, db.session() as session:
        markets = [Marketplace(name="bazaarly", kind="marketplace"), Marketplace(name="shopfront", kind="shop")]
        session.add_all(markets)
        registered = []
        for n in range(brands):
            owner = Owner(name=f"Owner {n}", digest_classes=["counterfeit"] if n % 3 == 0 else [])
            brand = Brand(owner=owner, name=f"Brand {n:02d}", category="beauty", digest_to=[f"owner{n}@example.test"])
            session.add_all([owner, brand, Mark(brand=brand, text=f"Brnd {n}", kind="alias"),
                             AuthorizedSeller(brand=brand, name=f"Official {n}"),
                             *(Product(brand=brand, sku=f"B{n}-{k}", name=f"Product {k}") for k in range(3))])
            registered.append(brand)
        session.flush()
        for n in range(matches):
            listing = Listing(marketplace_id=markets[n % 2].id, canonical_url=f"https://x.test/{n}",
                              url=f"https://x.test/{n}", title=f"Listing {n} of a look-alike product",
                              price=Decimal(rng.randint(100, 9000)) / 100, currency="USD", seller=f"seller {n % 97}",
                              content_hash=f"{n}", first_seen=now, last_seen=now)
            session.add(listing)
            session.flush()
            session.add(Match(listing_id=listing.id, brand_id=registered[n % brands].id, score=round(rng.random(), 3),
                              klass=CLASSES[n % len(CLASSES)], status=MATCH_STATUSES[n % 7 % len(MATCH_STATUSES)],
                              listing_content_hash=f"{n}", created_at=now, updated_at=now))


def run(runs: int, *, brands: int = 16, matches: int = 2000) -> list[tuple[str, str, str, str, str]]:
    """Rows (command, median wall s, wall ratio, median CPU s, CPU ratio); the baseline row first."""
    with tempfile.TemporaryDirectory(prefix="lookalike-bench-cli-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOKALIKE_", "PREFECT_"))}
        env.update(LOOKALIKE_DATA_DIR=f"{tmp}/data", LOOKALIKE_DB_URL=f"sqlite:///{tmp}/db.sqlite",
                   LOOKALIKE_CONFIG=f"{tmp}/absent.toml", PYTHONPATH=str(ROOT), COLUMNS="120")
        baseline = [sys.executable, "-c", "pass"]
        commands = {name: [sys.executable, "-c", ENTRY, *args] for name, args in COMMANDS.items()}
        commands["(reference) import the heavy libraries"] = [sys.executable, "-c", EAGER]
        commands["(reference) import the settings, ORM and services"] = [sys.executable, "-c", ORM_PATH]
        fill(env["LOOKALIKE_DB_URL"], brands=brands, matches=matches)  # creates and migrates the database
        _timed(commands["lookalike review list"], env)  # warms the disk cache
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
    parser.add_argument("--brands", type=int, default=16, help="brands in the database (as the demo world)")
    parser.add_argument("--matches", type=int, default=2000, help="matches in the database")
    args = parser.parse_args(argv)

    table = Table(title=f"CLI start-up, median of {args.runs} runs, {args.brands} brands and {args.matches} matches "
                  f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)")
    for column in ("command", "wall s", "wall / python -c pass", "CPU s", "CPU / python -c pass"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for row in run(args.runs, brands=args.brands, matches=args.matches):
        table.add_row(*row)
    Console(width=120).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
