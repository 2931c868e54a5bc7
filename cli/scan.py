"""``lookalike scan``: the nightly scan once, in this process, with a progress display and a summary.

Runs the ``nightly-scan`` Prefect flow in Prefect's ephemeral mode (no server needed; it starts a
temporary one, which takes 10 to 20 s), or against the server in ``PREFECT_API_URL`` when set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from cli import context
from core.errors import LookalikeError
from core.prefect_env import configure_prefect_env, prepare_prefect_database
from core.terminal import safe_text
from services import scan, scantargets
from services.alerts import ScanFailed
from storage.db import Database
from storage.models import CrawlRun, Listing

if TYPE_CHECKING:
    from core.settings import Settings
    from storage.db import Database

#: Seconds between two refreshes of the progress display.
PROGRESS_INTERVAL = 1.0


def _progress_line(database: Database, scan_id: str) -> str:
    with database.session() as session:
        runs = list(session.execute(select(CrawlRun.id, CrawlRun.status).where(CrawlRun.scan_id == scan_id)))
        run_ids = [r.id for r in runs]
        seen = session.scalar(select(func.count()).select_from(Listing)
                              .where(Listing.last_crawl_run_id.in_(run_ids))) if run_ids else 0
        pending = session.scalar(select(func.count()).select_from(Listing).where(Listing.needs_matching.is_(True)))
    running = sum(1 for r in runs if r.status == "running")
    done = len(runs) - running
    stage = "crawling" if running or not runs else "matching"
    return (f"{stage}: crawls {done} done, {running} running · {seen} listings seen · "
            f"{pending} waiting to be matched")


@contextmanager
def progress_display(console: Console, database_url: str, scan_id: str) -> Iterator[None]:
    """Show the scan's progress, read from the database every second, until the block ends."""

    stop = threading.Event()
    with console.status("starting Prefect (ephemeral mode takes 10-20 s)...") as status:

        def poll() -> None:
            with Database(database_url) as database:
                while not stop.wait(PROGRESS_INTERVAL):
                    try:
                        status.update(_progress_line(database, scan_id))
                    except SQLAlchemyError:  # a busy database only delays the display
                        continue

        thread = threading.Thread(target=poll, name="scan-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)


def run_scan_flow(
    settings: Settings,
    *,
    start_urls: list[str],
    profiles: list[str],
    base_url: str | None,
    targets_file: Path | None,
    match_workers: int = 1,
    batch_size: int = scan.DEFAULT_BATCH_SIZE,
    dask_address: str | None = None,
    verbose: bool = False,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run the nightly-scan flow in this process and return its summary (a ``ScanSummary`` dict)."""
    configure_prefect_env(settings.data_dir)
    prepare_prefect_database()  # two scans in a fresh data folder must not both create Prefect's database
    if not verbose:  # the progress display replaces Prefect's INFO lines on the console (the UI keeps them)
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # Imported here for a reason: Prefect reads its settings from the environment when it is first imported,
    # so configure_prefect_env (above) must run before (core/prefect_env.py).
    from flows.nightly import nightly_scan

    scan_id = scan.new_scan_id()
    console = console or Console(stderr=True)
    show: Callable[[], Any] = (lambda: progress_display(console, settings.database_url, scan_id)) \
        if console.is_terminal else _nothing
    with show():
        try:
            return nightly_scan(
                targets_file=str(targets_file) if targets_file else None,
                start_urls=start_urls,
                profiles=profiles,
                base_url=base_url,
                match_workers=match_workers,
                batch_size=batch_size,
                dask_address=dask_address,
                scan_id=scan_id,
            )
        except ScanFailed as exc:  # a site could not be crawled: the run is Failed, the summary tells which
            return exc.summary


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    """The scan summary: totals, failed crawls, and a table of suspects per brand."""
    result = scan.ScanSummary.from_dict(summary)
    lines = scan.summary_lines(result)
    for line in lines[:3]:
        console.print(safe_text(line, limit=600))
    for crawl in result.failed_crawls:
        console.print(safe_text(f"crawl {crawl.target}: {crawl.status} {crawl.stats.error or ''}".rstrip(),
                                limit=600, style="red"))
    rows = scan.summary_rows(result)
    if rows:
        table = Table("brand", "new", "updated", "reopened", "open", title="Suspects per brand")
        for row in rows:
            table.add_row(safe_text(row["brand"]), str(row["new"]), str(row["updated"]), str(row["reopened"]),
                          str(row["open"]))
        console.print(table)


def failed_crawls(summary: dict[str, Any]) -> int:
    return sum(1 for c in summary.get("crawls", []) if c.get("status") != "finished")


def scan_command(
    start_url: list[str] = typer.Option(None, "--start-url", help="Shop to crawl from this URL (repeatable)."),
    profile: list[str] = typer.Option(None, "--profile", help="Marketplace profile to search (repeatable)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Base URL for profiles that have none."),
    targets: Path | None = typer.Option(
        None, "--targets", help="Scan file (scan.yaml) listing shops and profiles. Default: <data_dir>/scan.yaml "
        "when no --start-url or --profile is given."),
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="Matching workers at once (PostgreSQL)."),
    batch_size: int = typer.Option(scan.DEFAULT_BATCH_SIZE, "--batch-size", min=1, max=10_000,
                                   help="Listings matched and committed together."),
    dask: str | None = typer.Option(
        None, "--dask", help="Match through Dask: a scheduler address (tcp://host:8786) or 'local'. "
        "Needs a Prefect server (PREFECT_API_URL): Dask workers cannot share the ephemeral one."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's run log on the console."),
) -> None:
    """Run the nightly scan once: crawl, match new and changed listings, queue suspects, print a summary."""
    settings = context.settings()
    start_urls, profiles = list(start_url or []), list(profile or [])
    if targets is None and not start_urls and not profiles and not scan.default_targets_file(settings).is_file():
        raise LookalikeError(f"nothing to scan: give --start-url URL, --profile NAME or --targets FILE "
                             f"(or write {scan.default_targets_file(settings)})")
    # Plan (and so validate) everything before Prefect starts, so a typo costs no server start-up; the
    # flow's plan-scan task plans again with the same function.
    with context.database(settings) as database:
        scantargets.plan_scan(settings, database, targets_file=targets, start_urls=start_urls, profiles=profiles,
                              base_url=base_url)
    if dask and not os.environ.get("PREFECT_API_URL"):
        raise LookalikeError("--dask needs a Prefect server: start one (prefect server start) and set "
                             "PREFECT_API_URL; Dask workers cannot reach Prefect's ephemeral server")
    console = Console(highlight=False, soft_wrap=True)
    summary = run_scan_flow(settings, start_urls=start_urls, profiles=profiles, base_url=base_url,
                            targets_file=targets, match_workers=workers, batch_size=batch_size,
                            dask_address=dask, verbose=verbose)
    print_summary(console, summary)
    console.print("Next: lookalike review list   (the queue), lookalike export suspects --format csv -o FILE")
    if failed_crawls(summary):
        raise typer.Exit(1)
