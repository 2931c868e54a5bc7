"""``lookalike crawl``: crawl shops or search a marketplace profile, store the listings, print a summary.

    lookalike crawl --start-url https://shop.example/ [--start-url ...]
    lookalike crawl --profile demo --base-url http://127.0.0.1:8000 --query fullips --query "ful1ips"
    lookalike crawl --start-url https://shop.example --platform shopify
    lookalike crawl --connector ebay --site EBAY_GB --query fullips   # credentials: docs/sources.md
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli import context


def crawl(
    start_url: list[str] = typer.Option([], "--start-url", help="A shop URL to crawl whole (repeatable)."),
    profile: str | None = typer.Option(None, "--profile", help="A marketplace profile name or YAML file."),
    query: list[str] = typer.Option([], "--query", "-q", help="A search query for --profile (repeatable)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Base URL for a profile that has none, or an API's."),
    connector: str | None = typer.Option(None, "--connector", help="Search a marketplace API: ebay, etsy or aliexpress (with --query)."),
    site: str | None = typer.Option(None, "--site", help="eBay's marketplace id for --connector ebay (EBAY_US...)."),
    platform: str | None = typer.Option(None, "--platform", help="Read the shop's catalogue JSON: shopify or woocommerce."),
    marketplace: str | None = typer.Option(None, "--marketplace", help="Store listings under this marketplace name."),
    max_pages: int | None = typer.Option(None, "--max-pages", min=1, help="Most pages to fetch."),
    recheck: bool = typer.Option(False, "--recheck", help="Only fetch the start URLs (known listings) to verify takedowns."),
    images: bool = typer.Option(True, "--images/--no-images", help="Download and hash listing images."),
    scan_id: str | None = typer.Option(None, "--scan-id", help="Group this crawl with others of one scan."),
) -> None:
    """Crawl and store listings; exits with status 1 when the crawl failed."""
    from crawlers.run import CrawlRequest, crawl_request, run_crawl

    settings = context.settings()
    request = CrawlRequest(
        start_urls=start_url or (), profile=profile, queries=query or (), base_url=base_url, platform=platform,
        marketplace=marketplace, max_pages=max_pages, scope="recheck" if recheck else "full", images=images,
        scan_id=scan_id, connector=connector, site=site,
    )
    crawl_request(request, profiles_dir=settings.profiles_dir)  # a bad URL or profile: one line, before anything
    context.database(settings).dispose()  # an unreachable database is one clear line, before any crawl
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("starting the crawler…")

        def show(counts: dict[str, int]) -> None:
            progress.update(task, description=(
                f"pages {counts.get('pages', 0)} · listings {counts.get('listings', 0)} · images "
                f"{counts.get('images_ok', 0)} ok / {counts.get('images_failed', 0)} failed · "
                f"dropped {counts.get('dropped', 0)} · errors {counts.get('errors', 0)}"))

        run_id = run_crawl(settings, request, progress=show)
    status = print_run_summary(Console(), settings, run_id)
    if status != "finished":
        raise typer.Exit(code=1)


def print_run_summary(console: Console, settings, run_id: int) -> str:
    """Print one crawl's summary table; returns its status."""
    from crawlers.stats import CrawlStats  # deferred: start-up time (`--help` loads no crawler module)
    from storage.models import CrawlRun, Marketplace

    with context.database(settings) as database, database.session() as session:
        run = session.get(CrawlRun, run_id)
        marketplace = session.get(Marketplace, run.marketplace_id) if run.marketplace_id else None
        stats, status = CrawlStats.from_json(run.stats), run.status
        name = marketplace.name if marketplace else "-"
    listings, images = stats.listings, stats.images
    table = Table(title=f"Crawl {run_id} of {name}: {status}", show_header=False)
    table.add_column("what")
    table.add_column("count", overflow="fold")
    rows = [
        ("pages", stats.pages),
        ("listings new / changed / unchanged", f"{listings.new} / {listings.changed} / {listings.unchanged}"),
        ("listings missed / gone", f"{listings.missed} / {listings.gone}"),
        ("images ok / reused", f"{images.ok} / {images.reused}"),
        ("images failed", _pairs(images.failed)),
        ("dropped items", _pairs(stats.dropped)),
        ("refused requests", _pairs(stats.refused)),
        ("HTTP statuses", _pairs(stats.http_status)),
        ("errors", stats.errors),
        ("gone check", stats.gone_check or "-"),
    ]
    if stats.source.budget:  # an API source: its quota
        source = stats.source
        rows.append(("API calls / left today", f"{source.calls} / {source.budget_left} of {source.budget}"
                     + (" (budget used: the rest resumes next run)" if source.budget_exhausted else "")))
        rows.append(("Retry-After waits / seconds waited", f"{source.retry_after} / {source.waited_seconds:g}"))
    if stats.error:
        rows.append(("failure", f"{stats.error} (log: {stats.log or '-'})"))
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    if status == "finished" and not stats.listings_stored:
        console.print("[yellow]warning:[/] the crawl stored no listing; check the start URL, robots.txt and "
                      f"the log in {Path(settings.data_dir) / 'logs'}")
    return status


def _pairs(values: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(values.items()) if v) or "none"


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl)
