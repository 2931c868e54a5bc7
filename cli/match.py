"""``lookalike match``: re-match the stored listings against the registry without a new crawl.

``lookalike match --brand B`` scores every stored listing against brand B alone; ``--all`` does so for
every brand; with neither, the jobs already queued (by registry imports) are run.  Progress is shown per
brand; the summary lists the matching outcomes.  See :mod:`services.rematch`.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli import context
from core.errors import LookalikeError
from core.terminal import safe_text
from services import rematch
from services.scan import DEFAULT_BATCH_SIZE


def match_command(
    brand: str | None = typer.Option(None, "--brand", help="Re-match every stored listing against this brand."),
    all_brands: bool = typer.Option(False, "--all", help="Re-match every stored listing against every brand."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", min=1, max=10_000,
                                   help="Listings scored and committed together."),
) -> None:
    """Match the listings already stored against a brand (registered after the crawl) or all brands."""
    if brand is not None and all_brands:
        raise LookalikeError("give --brand NAME or --all, not both")

    settings = context.settings()
    console = Console(stderr=True, highlight=False)
    with context.database(settings) as database:
        if brand is not None or all_brands:
            rematch.queue_on_demand(database, brand=brand)
        jobs = rematch.pending_jobs(database)
        if not jobs:
            Console(highlight=False).print("nothing to re-match: no job queued (give --brand NAME or --all)")
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            tasks: dict[int, int] = {}

            def show(job: dict) -> None:
                if job["id"] not in tasks:
                    label = safe_text(f"re-match {job['brand']}", limit=80).plain
                    tasks[job["id"]] = bar.add_task(label, total=max(job["total"], 1))
                bar.update(tasks[job["id"]], completed=job["done"], total=max(job["total"], job["done"], 1))

            stats = rematch.run_rematch_jobs(database, settings=settings, batch_size=batch_size, progress=show)
    out = Console(highlight=False, soft_wrap=True)
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(stats.outcomes.items())) or "none"
    out.print(f"re-matched {stats.listings} listing(s) in {stats.jobs} job(s); outcomes: {outcomes}; "
              f"errors: {stats.errors}")
    for name, counts in sorted(stats.per_brand.items()):
        out.print(safe_text(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))))
