"""A night of many listings, stage by stage, on PostgreSQL: ``python -m bench.scale --listings 10000``.

Generates a large demo world of exactly ``--listings`` listings (:mod:`data.demo.scale`: the demo world's
registry of ``--brands`` brands, default 16, and its mix of classes repeated in rounds; its generation is
timed but is not a stage of the night; ``--world DIR`` reuses one written by ``python -m data.demo.scale``),
serves it with the demo marketplace on 127.0.0.1 (a thread of this process), and runs the nightly scan's
stages in this process against a new PostgreSQL database (created for the run, dropped after it):

- ``registry``: ``services.registry`` load + import of the world's brands (reference images signed there);
- ``crawl``: ``crawlers.run.run_crawl`` over the marketplace (Scrapy in a child process, 16 concurrent
  requests, no delay, images stored, no decode; the page limit raised to fit the world);
- ``signatures``: ``services.signatures.sign_stored`` (default settings: one process per core);
- ``matching``: ``services.scan.match_pending`` (one worker, the default batch size, one matcher built
  once; ``--match-workers N``: N processes, each with its own matcher, claiming batches with
  ``FOR UPDATE SKIP LOCKED`` as the nightly flow's matching workers do).  ``--match-sample N`` matches a
  random N of the stored listings (a seeded sample, the rest unflagged first) and reports the rate over
  the sample: a sample, not the whole stage.

``--deadline HH:MM`` (UTC) stops whatever stage is running at that time, ``--stop STAGE=HH:MM`` (``crawl``,
``signatures``, ``matching``; repeatable) stops that stage at its own time, so each gets a share of a fixed
night: the crawl through Scrapy's
``CLOSESPIDER_TIMEOUT`` (then its pages so far are the stored ones), signatures and matching between
chunks (signatures then run in chunks, one process pool each: 5,000 images first, then as many as half the
time left allows at the rate measured so far, so a long stage starts few pools).  A stage cut short is
marked ``partial``: its rate over the part it did is a measured figure, its total is not; later stages
run on what was stored.

Reported per stage: seconds, items, items per second, the database size after it (``pg_database_size``)
the peak resident memory so far (this process, which also serves the marketplace, and its largest
child: the crawler, a signing worker) and the load average at its end (the rates move with the load on a
shared machine).  Then bytes per listing and per stored image.  ``--json PATH`` writes the figures.  The
run's temporary folder (image store, generated world) is deleted at the end unless ``--keep``.  Ratios between stages, not absolute rates, are what carries to another machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_SCRAPY = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 16,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOOKALIKE_RETRY_BACKOFF_BASE": 0.0, "LOG_LEVEL": "WARNING"}
SIGN_CHUNK = 5_000
"""Images of the first signing call when a deadline is set (the stage stops between chunks; later chunks
are sized from the measured rate, see :func:`sign_chunk`)."""
STOPPABLE = ("crawl", "signatures", "matching")
MATCH_BATCHES = 5
"""Batches per matching call (the stage checks the deadline between calls)."""


@dataclass
class Stage:
    name: str
    seconds: float
    items: int
    unit: str
    partial: bool = False
    db_mb: float = 0.0
    peak_mb: float = 0.0
    peak_child_mb: float = 0.0
    note: str = ""
    load: str = ""
    """``/proc/loadavg``'s 1, 5 and 15-minute load averages at the end of the stage."""

    @property
    def rate(self) -> float:
        return self.items / max(self.seconds, 1e-9)


def _admin(sql: str, admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def _loadavg() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else ""


def sign_chunk(done: int, seconds: float, left: float) -> int:
    """Images for the next signing call: :data:`SIGN_CHUNK` until a rate is measured, then what half of
    the ``left`` seconds allow at the rate so far (at least :data:`SIGN_CHUNK`): each chunk starts a process
    pool, so a stage of 100,000 images starts a few pools, not twenty, and a slower rate still ends near
    the deadline."""
    if done <= 0 or seconds <= 0:
        return SIGN_CHUNK
    return max(SIGN_CHUNK, int(done / seconds * left / 2))


def _folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _peak_mb() -> tuple[float, float]:
    """Peak RSS in MB of this process and of its largest finished child (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, child


def deadline_at(text: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``HH:MM`` (UTC, today, or tomorrow if already past) as a ``time.time()`` value; None for None."""
    if not text:
        return None
    now = now or dt.datetime.now(dt.UTC)
    hour, minute = (int(part) for part in text.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= now:
        at += dt.timedelta(days=1)
    return at.timestamp()


def run(listings: int, *, world: Path | None, seed: int, brands: int, image_size: int, admin_url: str,
        keep: bool, match_sample: int = 0, deadlines: dict[str, float] | None = None,
        match_workers: int = 1) -> dict[str, Any]:
    """Run the stages; returns ``{"stages": [Stage...], ...sizes...}``."""
    work = Path(tempfile.mkdtemp(prefix="lookalike-scale-"))
    generated_seconds = None
    if world is None:
        from data.demo.scale import generate_scale_world

        world = work / "world"
        started = time.perf_counter()
        generate_scale_world(world, listings=listings, seed=seed, brands=brands, image_size=image_size,
                             workers=os.cpu_count() or 2)
        generated_seconds = time.perf_counter() - started
        print(f"world of {listings} listings generated in {generated_seconds:.0f} s", file=sys.stderr)
    db_name = f"lookalike_scale_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{db_name}"', admin_url)
    db_url = admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    try:
        result = _stages(world, work / "data", db_url, match_sample=match_sample, seed=seed,
                         deadlines=deadlines or {}, match_workers=match_workers)
        meta = json.loads((world / "world.json").read_text(encoding="utf-8"))
    finally:
        if not keep:
            _admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)', admin_url)
            shutil.rmtree(work, ignore_errors=True)  # the image store (and a generated world): gigabytes
    result.update(world=str(world), world_listings=meta["counts"]["listings"], brands=meta["counts"]["brands"],
                  shops=len(meta["shops"]), generated_seconds=generated_seconds)
    return result


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.time()


def match_until(db: Any, settings: Any, deadline: float | None) -> tuple[Any, bool]:
    """Match pending listings with one matcher built once, :data:`MATCH_BATCHES` batches a call, until
    none is left or ``deadline`` (a ``time.time()`` value) has passed; returns the stats and whether the
    deadline cut the stage short."""
    from matching import Matcher
    from matching.config import MatchConfig
    from services import scan
    from services.matchdata import load_brand_profiles

    with db.session() as session:
        profiles = load_brand_profiles(session)
    matcher = Matcher(profiles, config=MatchConfig(), rates=dict(settings.currency_rates))
    matched = scan.MatchStats()
    while True:
        if deadline is not None and time.time() >= deadline:
            return matched, True
        part = scan.match_pending(db, settings=settings, matcher=matcher, sign_first=False,
                                  max_batches=MATCH_BATCHES)
        matched = matched.add(part)
        if part.batches < MATCH_BATCHES:
            return matched, False


def _match_worker(db_url: str, data_dir: str, deadline: float | None) -> tuple[dict[str, Any], bool]:
    """One matching worker process: its own connection pool and matcher; batches are claimed with
    ``FOR UPDATE SKIP LOCKED``, so the workers share the listings."""
    from core.settings import load_settings
    from storage.db import Database

    settings = load_settings(data_dir=Path(data_dir), db_url=db_url)
    with Database.opened(settings.database_url) as db:
        matched, partial = match_until(db, settings, deadline)
    return matched.as_dict(), partial


def _match_in_processes(db_url: str, data_dir: Path, deadline: float | None, workers: int) -> tuple[Any, bool]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from services import scan

    matched, partial = scan.MatchStats(), False
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_match_worker, db_url, str(data_dir), deadline) for _ in range(workers)]
        for future in futures:
            stats, cut = future.result()
            matched = matched.add(scan.MatchStats.from_dict(stats))
            partial = partial or cut
    return matched, partial


def _stages(world: Path, data_dir: Path, db_url: str, *, match_sample: int, seed: int,
            deadlines: dict[str, float], match_workers: int = 1) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from core.settings import load_settings
    from crawlers.run import CrawlRequest, run_crawl
    from crawlers.stats import CrawlStats
    from data.demo.marketplace import DemoMarketplace
    from services.registry.load import load_registry
    from services.registry.sync import import_registry
    from services.signatures import SigningStats, sign_pending, sign_stored
    from storage.db import Database
    from storage.imagestore import ImageStore
    from storage.models import CrawlRun, Image, Listing

    settings = load_settings(data_dir=data_dir, db_url=db_url)
    stages: list[Stage] = []
    with Database.opened(settings.database_url) as db:
        def done(stage: Stage) -> None:
            with db.session() as session:
                stage.db_mb = (session.scalar(text("SELECT pg_database_size(current_database())")) or 0) / 1e6
            stage.peak_mb, stage.peak_child_mb = _peak_mb()
            stage.load = _loadavg()
            stages.append(stage)
            print(f"{stage.name}: {stage.items} {stage.unit} in {stage.seconds:.1f} s "
                  f"({stage.rate:.1f}/s){' PARTIAL' if stage.partial else ''}", file=sys.stderr)

        store = ImageStore.from_settings(settings)
        started = time.perf_counter()
        registry = load_registry(world / "registry.yaml", store=store)
        with db.session() as session:
            report = import_registry(session, registry, store)
        done(Stage("registry", time.perf_counter() - started, report.brands, "brands"))

        with DemoMarketplace(world, slow_seconds=0.0) as market:
            n_world = len(market.world.listings)
            overrides = {**BENCH_SCRAPY, "LOOKALIKE_MAX_PAGES": 2 * n_world + 1_000}
            left = _left(deadlines.get("crawl"))
            if left is not None:
                overrides["CLOSESPIDER_TIMEOUT"] = max(1, int(left))
            started = time.perf_counter()
            run_id = run_crawl(settings, CrawlRequest(start_urls=[market.url + "/"], scrapy_overrides=overrides))
            seconds = time.perf_counter() - started
        with db.session() as session:
            run_row = session.get(CrawlRun, run_id)
            stats = CrawlStats.from_json(run_row.stats)
            partial = stats.finish_reason == "closespider_timeout"
            if run_row.status != "finished" and not partial:
                raise SystemExit(f"crawl failed: {stats.error}")
            pages = stats.pages
            crawled = session.scalar(select(func.count()).select_from(Listing)) or 0
        done(Stage("crawl", seconds, pages, "pages", partial=partial,
                   note=f"{crawled} listings stored of {n_world} served"))

        started = time.perf_counter()
        deadline = deadlines.get("signatures")
        if deadline is None:
            signing = sign_stored(db, settings)
            partial = False
        else:
            from services.signatures import SigningConfig

            signing, partial = SigningStats(), False
            config = SigningConfig.from_settings(settings)
            while True:
                if time.time() >= deadline:
                    partial = True
                    break
                chunk = sign_chunk(signing.signed + signing.failed, time.perf_counter() - started,
                                   deadline - time.time())
                part = sign_pending(db, store=store, config=config, limit=chunk)
                signing.signed += part.signed
                signing.failed += part.failed
                if part.signed + part.failed == 0:
                    break
        done(Stage("signatures", time.perf_counter() - started, signing.signed, "images", partial=partial))

        with db.session() as session:
            n_listings = session.scalar(select(func.count()).select_from(Listing)) or 0
            note = ""
            if match_sample and match_sample < n_listings:
                # A seeded sample: every listing but match_sample of them is marked as already matched.
                session.execute(text(
                    "UPDATE listings SET needs_matching = false WHERE id NOT IN (SELECT id FROM listings "
                    "ORDER BY md5(id::text || :seed) LIMIT :n)"), {"seed": str(seed), "n": match_sample})
                note = f"a random sample of {match_sample} of {n_listings} listings"
        started = time.perf_counter()
        deadline = deadlines.get("matching")
        if match_workers <= 1:
            matched, partial = match_until(db, settings, deadline)
        else:
            matched, partial = _match_in_processes(db_url, data_dir, deadline, match_workers)
            note = "; ".join(filter(None, [note, f"{match_workers} worker processes"]))
        done(Stage("matching", time.perf_counter() - started, matched.listings, "listings", partial=partial,
                   note=note))

        with db.session() as session:
            n_images = session.scalar(select(func.count()).select_from(Image)) or 0
            db_bytes = session.scalar(text("SELECT pg_database_size(current_database())")) or 0
    own, child = _peak_mb()
    image_bytes = _folder_bytes(settings.images_dir) if settings.images_dir.exists() else 0
    return {"stages": stages, "listings": n_listings, "images": n_images, "db_bytes": db_bytes,
            "image_bytes": image_bytes, "peak_mb": own, "peak_child_mb": child, "outcomes": matched.outcomes,
            "sign_failed": signing.failed, "match_errors": matched.errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=10_000, help="listings of the generated world (default 10000)")
    parser.add_argument("--world", type=Path, help="a world written by python -m data.demo.scale to reuse")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--brands", type=int, default=16, help="registered brands of the generated world (default 16)")
    parser.add_argument("--image-size", type=int, default=480, help="long side of generated listing photos at most")
    parser.add_argument("--match-sample", type=int, default=0,
                        help="match only a random N of the stored listings (a sample; default: all)")
    parser.add_argument("--match-workers", type=int, default=1,
                        help="matching worker processes sharing the listings (default 1)")
    parser.add_argument("--deadline", help="HH:MM UTC: stop the running stage then and report what was done")
    parser.add_argument("--stop", action="append", default=[], metavar="STAGE=HH:MM",
                        help="stop crawl, signatures or matching at this UTC time (repeatable)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--pg", default=PG_ADMIN_URL, help="PostgreSQL URL of a database to connect to for "
                        "CREATE DATABASE (default: local postgres)")
    parser.add_argument("--keep", action="store_true", help="keep the run's database")
    args = parser.parse_args(argv)
    deadlines = dict.fromkeys(STOPPABLE, deadline_at(args.deadline)) if args.deadline else {}
    for item in args.stop:
        stage, _, at = item.partition("=")
        if stage not in STOPPABLE or not at:
            parser.error(f"--stop takes STAGE=HH:MM with STAGE one of {', '.join(STOPPABLE)}")
        deadlines[stage] = min(deadlines.get(stage) or float("inf"), deadline_at(at))
    from rich.console import Console
    from rich.table import Table

    result = run(args.listings, world=args.world, seed=args.seed, brands=args.brands, image_size=args.image_size,
                 admin_url=args.pg, keep=args.keep, match_sample=args.match_sample,
                 deadlines=deadlines, match_workers=args.match_workers)
    stages: list[Stage] = result["stages"]
    total = sum(s.seconds for s in stages)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    table = Table(title=f"Nightly scan of a {result['world_listings']}-listing world ({result['brands']} brands, "
                  f"{result['shops']} shops): {result['listings']} listings, {result['images']} images stored, on "
                  f"PostgreSQL (load average {' '.join(load)}, {os.cpu_count()} CPUs)")
    for column in ("stage", "seconds", "share", "items", "items/s", "DB MB after", "peak MB (self/child)", "load after",
                   "note"):
        table.add_column(column, justify="left" if column in ("stage", "note") else "right")
    for s in stages:
        table.add_row(s.name + (" (partial)" if s.partial else ""), f"{s.seconds:.1f}", f"{s.seconds / total:.0%}",
                      f"{s.items} {s.unit}", f"{s.rate:.1f}", f"{s.db_mb:.1f}",
                      f"{s.peak_mb:.0f}/{s.peak_child_mb:.0f}", s.load, s.note)
    console = Console(width=160)
    console.print(table)
    listings, images = max(result["listings"], 1), max(result["images"], 1)
    console.print(f"peak memory: {result['peak_mb']:.0f} MB this process (marketplace included), "
                  f"{result['peak_child_mb']:.0f} MB largest child; database {result['db_bytes'] / 1e6:.1f} MB "
                  f"({result['db_bytes'] / listings:.0f} bytes per stored listing); image store "
                  f"{result['image_bytes'] / 1e6:.1f} MB ({result['image_bytes'] / images:.0f} bytes per image)")
    console.print(f"outcomes {result['outcomes']}; signature failures {result['sign_failed']}; "
                  f"matching errors {result['match_errors']}")
    if args.json:
        figures = {**result, "stages": [asdict(s) | {"rate": s.rate} for s in stages], "load_average": load,
                   "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
