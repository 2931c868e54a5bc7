"""A night of many listings, stage by stage, on PostgreSQL: ``python -m bench.scale --listings 10000``.

Generates a demo world of about ``--listings`` listings (``data.demo.generate.generate_world`` with as many
brands as that takes: the seed-7 world has 12 brands and 878 listings, so about 73 listings a brand; the
generator stops at 16 brands, about 1,170 listings; the real count is reported), serves it with the demo marketplace on 127.0.0.1, and runs the nightly scan's
stages in this process against a new PostgreSQL database (created for the run, dropped after it):

- ``registry``: ``services.registry`` load + import of the world's brands (reference images signed there);
- ``crawl``: ``crawlers.run.run_crawl`` over the marketplace (Scrapy, images stored, no decode);
- ``signatures``: ``services.signatures.sign_stored`` (default settings: one process per core);
- ``matching``: ``services.scan.match_pending`` (one worker, the default batch size).

Reported per stage: seconds, items and items per second; then peak resident memory (this process and its
largest child, MB), the database size (``pg_database_size``, MB), the image store size, and bytes per
listing and per stored image.  ``--world DIR`` reuses a generated world (generation is not a stage of the
night).  Ratios between stages, not absolute rates, are what carries to another machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

#: Listings per brand of the demo generator (seed-7 world: 878 listings over 12 brands).
LISTINGS_PER_BRAND = 73
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_SCRAPY = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 16,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOOKALIKE_RETRY_BACKOFF_BASE": 0.0, "LOG_LEVEL": "WARNING"}


def _admin(sql: str, admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def _folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _peak_mb() -> tuple[float, float]:
    """Peak RSS in MB of this process and of its largest finished child (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, child


def run(listings: int, *, world: Path | None, seed: int, admin_url: str, keep: bool) -> dict[str, Any]:
    """Run the stages; returns ``{"stages": [(name, seconds, items, unit)], ...sizes...}``."""
    from data.demo.generate import generate_world

    work = Path(tempfile.mkdtemp(prefix="lookalike-scale-"))
    if world is None:
        world = work / "world"
        from data.demo.catalogue import OWNER_NAMES
        from data.demo.vocab import CATEGORIES

        # The demo generator gives each brand its own owner name and draws each category at most twice: 16
        # brands, about 1,170 listings, is its largest world; a larger one needs a large-world generator
        # (data/demo/scale.py, not written yet).
        brands = min(max(4, round(listings / LISTINGS_PER_BRAND)), 2 * len(CATEGORIES), len(OWNER_NAMES))
        if brands * LISTINGS_PER_BRAND < listings * 0.9:
            print(f"the demo generator stops at {brands} brands (about {brands * LISTINGS_PER_BRAND} listings)",
                  file=sys.stderr)
        started = time.perf_counter()
        generate_world(world, seed=seed, brands=brands, workers=os.cpu_count() or 2)
        print(f"world of {brands} brands generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    db_name = f"lookalike_scale_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{db_name}"', admin_url)
    db_url = admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    try:
        return _stages(world, work / "data", db_url)
    finally:
        if not keep:
            _admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)', admin_url)


def _stages(world: Path, data_dir: Path, db_url: str) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from core.settings import load_settings
    from crawlers.run import CrawlRequest, run_crawl
    from data.demo.marketplace import DemoMarketplace
    from services import scan
    from services.registry import import_registry, load_registry
    from services.signatures import sign_stored
    from storage.db import Database
    from storage.imagestore import ImageStore
    from storage.models import CrawlRun, Image, Listing

    settings = load_settings(data_dir=data_dir, db_url=db_url)
    stages: list[tuple[str, float, int, str]] = []
    with Database.opened(settings.database_url) as db:
        store = ImageStore.from_settings(settings)
        started = time.perf_counter()
        registry = load_registry(world / "registry.yaml", store=store)
        with db.session() as session:
            report = import_registry(session, registry, store)
        stages.append(("registry", time.perf_counter() - started, report.brands, "brands"))

        with DemoMarketplace(world, slow_seconds=0.0) as market:
            started = time.perf_counter()
            run_id = run_crawl(settings, CrawlRequest(start_urls=[market.url + "/"], scrapy_overrides=BENCH_SCRAPY))
            seconds = time.perf_counter() - started
        with db.session() as session:
            run_row = session.get(CrawlRun, run_id)
            if run_row.status != "finished":
                raise SystemExit(f"crawl failed: {(run_row.stats or {}).get('error')}")
            pages = int((run_row.stats or {}).get("pages", 0))
        stages.append(("crawl", seconds, pages, "pages"))

        started = time.perf_counter()
        signing = sign_stored(db, settings)
        stages.append(("signatures", time.perf_counter() - started, signing.signed, "images"))

        started = time.perf_counter()
        matched = scan.match_pending(db, settings=settings)
        stages.append(("matching", time.perf_counter() - started, matched.listings, "listings"))

        with db.session() as session:
            n_listings = session.scalar(select(func.count()).select_from(Listing)) or 0
            n_images = session.scalar(select(func.count()).select_from(Image)) or 0
            db_bytes = session.scalar(text("SELECT pg_database_size(current_database())")) or 0
    own, child = _peak_mb()
    image_bytes = _folder_bytes(settings.images_dir) if settings.images_dir.exists() else 0
    return {"stages": stages, "listings": n_listings, "images": n_images, "db_bytes": db_bytes,
            "image_bytes": image_bytes, "peak_mb": own, "peak_child_mb": child, "outcomes": matched.outcomes,
            "sign_failed": signing.failed, "match_errors": matched.errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=10_000, help="about this many listings (default 10000)")
    parser.add_argument("--world", type=Path, help="a generated demo world to reuse")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg", default=PG_ADMIN_URL, help="PostgreSQL URL of a database to connect to for "
                        "CREATE DATABASE (default: local postgres)")
    parser.add_argument("--keep", action="store_true", help="keep the run's database")
    args = parser.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    result = run(args.listings, world=args.world, seed=args.seed, admin_url=args.pg, keep=args.keep)
    total = sum(s[1] for s in result["stages"])
    table = Table(title=f"Nightly scan of {result['listings']} listings, {result['images']} images on PostgreSQL "
                  f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)")
    for column in ("stage", "seconds", "share", "items", "items/s"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for name, seconds, items, unit in result["stages"]:
        table.add_row(name, f"{seconds:.1f}", f"{seconds / total:.0%}", f"{items} {unit}",
                      f"{items / max(seconds, 1e-9):.1f}")
    table.add_row("total", f"{total:.1f}", "100%", f"{result['listings']} listings",
                  f"{result['listings'] / max(total, 1e-9):.1f}")
    console = Console(width=130)
    console.print(table)
    listings, images = max(result["listings"], 1), max(result["images"], 1)
    console.print(f"peak memory: {result['peak_mb']:.0f} MB this process, {result['peak_child_mb']:.0f} MB largest "
                  f"child; database {result['db_bytes'] / 1e6:.1f} MB ({result['db_bytes'] / listings:.0f} bytes "
                  f"per listing); image store {result['image_bytes'] / 1e6:.1f} MB "
                  f"({result['image_bytes'] / images:.0f} bytes per image)")
    console.print(f"outcomes {result['outcomes']}; signature failures {result['sign_failed']}; "
                  f"matching errors {result['match_errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
