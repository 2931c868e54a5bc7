"""``lookalike sources``: the scan file's sources with their state, and ``sources add`` to add one.

    lookalike sources                      # name, kind, what it reads, last run, API calls left today, errors
    lookalike sources add ebay-us --connector ebay --site EBAY_US
    lookalike sources add etsy --connector etsy --daily-budget 5000
    lookalike sources add demo-js --profile jsdemo --base-url http://127.0.0.1:8080
    lookalike sources queries              # which queries find counterfeits (cli/queries.py)
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli import context
from cli.queries import queries as queries_command
from core.terminal import safe_text

sources_app = typer.Typer(help="Sources: API connectors, search profiles, browser profiles and shops, with their state.",
                          no_args_is_help=False, invoke_without_command=True)

FILE_OPTION = typer.Option(None, "--targets", "-t", help="The scan file (default: the configured scan file).")


@sources_app.callback()
def list_sources(ctx: typer.Context, targets: Path | None = FILE_OPTION) -> None:
    """List the scan file's sources: last run, API calls left today, waits and errors."""
    if ctx.invoked_subcommand is not None:
        return
    from services.sources import source_rows  # deferred: start-up time (`--help` loads no crawler module)

    settings = context.settings()
    with context.database(settings) as database:
        rows = source_rows(settings, database, targets_file=targets)
    if not rows:
        typer.echo("no named sources in the scan file (add one with `lookalike sources add`)")
        return
    table = Table(title="Sources")
    for column in ("name", "kind", "reads", "last run", "outcome", "calls today", "left", "waiting until",
                   "unfinished", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            safe_text(row.name), row.kind, safe_text(row.reads),
            row.last_run_at.strftime("%Y-%m-%d %H:%M UTC") if row.last_run_at else "never",
            safe_text(row.last_outcome or "-"),
            "-" if row.calls_today is None else f"{row.calls_today} / {row.daily_budget}",
            "-" if row.calls_left is None else str(row.calls_left),
            row.waiting_until.strftime("%H:%M:%S UTC") if row.waiting_until else "-",
            f"{row.unfinished_queries} queries" if row.unfinished_queries else "-",
            safe_text(row.last_error or "-"),
        )
    Console().print(table)


@sources_app.command("add")
def add(
    name: str = typer.Argument(..., help="A unique name (letters, digits, . _ - :); its state is kept under it."),
    connector: str | None = typer.Option(None, "--connector", help="An API connector: ebay, etsy or aliexpress."),
    site: str | None = typer.Option(None, "--site", help="eBay's marketplace id (EBAY_US, EBAY_GB...)."),
    profile: str | None = typer.Option(None, "--profile", help="A search profile (kind profile, or browser when it renders)."),
    start_url: list[str] = typer.Option([], "--start-url", help="A shop to crawl whole (repeatable)."),
    base_url: str | None = typer.Option(None, "--base-url", help="The API's or the profile's base URL."),
    daily_budget: int | None = typer.Option(None, "--daily-budget", min=0, help="API calls a UTC day."),
    per_second: float | None = typer.Option(None, "--per-second", min=0.01, help="Most API calls a second."),
    targets: Path | None = FILE_OPTION,
) -> None:
    """Add a source to the scan file (checked as the scan reads it; comments are not kept, a .bak is)."""
    from crawlers.profiles import load_profile  # deferred: start-up time
    from services.sources import add_source

    settings = context.settings()
    if sum(bool(x) for x in (connector, profile, start_url)) != 1:
        raise typer.BadParameter("give exactly one of --connector, --profile or --start-url")
    kind = "api" if connector else "shop" if start_url else \
        ("browser" if load_profile(profile or "", extra_dir=settings.profiles_dir).render == "browser" else "profile")
    entry = {"name": name, "kind": kind, "connector": connector, "site": site, "profile": profile,
             "start_urls": list(start_url), "base_url": base_url, "daily_budget": daily_budget,
             "per_second": per_second}
    path = add_source(settings, entry, targets_file=targets)
    typer.echo(f"added {kind} source {name} to {path}")


sources_app.command("queries")(queries_command)  # which queries find counterfeits (cli/queries.py)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
