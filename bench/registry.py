"""Registry import at scale: ``.venv/bin/python -m bench.registry [--brands 10000] [--db-url URL]``.

Writes a registry of N brands (each: an owner shared by 50 brands, an alias, an authorised seller, a
keyword, two products with MSRPs, no images: image hashing is measured in ``bench.hashing``), then times,
in one run on one fresh database:

- ``validate``: ``load_registry`` (YAML parse, schema and semantic checks);
- ``first import``: ``import_registry`` into an empty database, committed;
- ``re-import``: the same file again, committed (must report no change).

Prints seconds, brands per second and the ratio to a baseline measured in the same run: PyYAML's
pure-Python ``yaml.safe_load`` of the same file (what the registry loader used before).  The database is SQLite in a temporary folder unless
``--db-url`` names another (a PostgreSQL database that may be emptied).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml


def write_registry(path: Path, brands: int) -> None:
    rows = []
    for n in range(brands):
        rows.append({
            "name": f"Brand{n:05d}",
            "owner": f"Owner {n // 50:04d} Ltd",
            "digest_to": [f"owner{n // 50}@example.com"],
            "keywords": ["serum"],
            "aliases": [f"Brand {n:05d}"],
            "authorized_sellers": [f"Brand{n:05d} Official"],
            "products": [
                {"name": f"Brand{n:05d} Serum", "sku": f"B{n}-1", "msrp": 20 + n % 7, "currency": "USD"},
                {"name": f"Brand{n:05d} Cream", "sku": f"B{n}-2", "msrp": 30 + n % 5, "currency": "EUR"},
            ],
        })
    path.write_text(yaml.safe_dump({"brands": rows}, sort_keys=False), encoding="utf-8")


def run(brands: int, db_url: str | None = None) -> list[tuple[str, float, str]]:
    from services.registry.load import load_registry
    from services.registry.sync import import_registry
    from storage.db import Database
    from storage.imagestore import ImageStore

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "registry.yaml"
        write_registry(path, brands)
        store = ImageStore(folder / "images", max_bytes=5_000_000, max_pixels=40_000_000)
        url = db_url or f"sqlite:///{folder / 'bench.db'}"
        rows = []
        started = time.perf_counter()
        yaml.safe_load(path.read_text(encoding="utf-8"))
        rows.append(("baseline: yaml.safe_load", time.perf_counter() - started, "PyYAML's pure-Python safe loader"))
        with Database.opened(url) as db:
            started = time.perf_counter()
            registry = load_registry(path, store=store)
            rows.append(("validate", time.perf_counter() - started, ""))
            for label in ("first import", "re-import"):
                started = time.perf_counter()
                with db.session() as session:
                    report = import_registry(session, registry, store)
                rows.append((label, time.perf_counter() - started, f"{len(report.changes)} change(s)"))
        return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registry", description=__doc__.splitlines()[0])
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--db-url", default=None)
    args = parser.parse_args(argv)
    rows = run(args.brands, args.db_url)
    baseline = rows[0][1]
    for label, seconds, note in rows:
        print(f"{label:26s} {seconds:8.2f} s  {args.brands / seconds:9.0f} brands/s  "
              f"{seconds / baseline:5.2f}x baseline  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
