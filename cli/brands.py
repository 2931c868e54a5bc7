"""``lookalike brands import|export|list|schema``: the brand registry."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli import context
from core.terminal import safe_text

#: Defaults shown in ``--help``; they equal services.registry.images' (tests/test_cli_startup.py checks), written
#: out here so that ``--help`` does not load the registry service (deferred: start-up time).
IMAGE_FETCH_SECONDS = 60.0
IMPORT_FETCH_BUDGET = 600.0

brands_app = typer.Typer(help="The brand registry: what is protected.", no_args_is_help=True)


@brands_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="Registry YAML file (see data/registry.schema.json)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and report changes, store nothing."),
    allow_images_outside: bool = typer.Option(
        False, "--allow-images-outside", help="Allow image paths outside the registry file's folder."),
    image_seconds: float = typer.Option(
        IMAGE_FETCH_SECONDS, "--image-seconds", min=1, help="Seconds one URL image may take, redirects included."),
    download_budget: float = typer.Option(
        IMPORT_FETCH_BUDGET, "--download-budget", min=1, help="Seconds all URL images of the file may take."),
) -> None:
    """Validate a registry file whole, then import it in one transaction and report what changed."""
    from services.registry.images import policy_fetcher  # deferred: start-up time
    from services.registry.load import load_registry  # deferred: start-up time
    from services.registry.sync import import_registry  # deferred: start-up time
    from storage.imagestore import ImageStore  # deferred: start-up time

    settings = context.settings()
    store = ImageStore.from_settings(settings)
    registry = load_registry(file, store=store, fetch=policy_fetcher(settings, seconds=image_seconds),
                             allow_outside_images=allow_images_outside, fetch_budget=download_budget)
    with context.database(settings) as db, db.session() as session:
        report = import_registry(session, registry, store)
        if dry_run:
            session.rollback()
    console = Console(highlight=False, soft_wrap=True, emoji=False)
    for line in report.lines():
        console.print(safe_text(f"  {line}", limit=600))
    verb = "would change" if dry_run else "changed"
    if report.changed:
        console.print(safe_text(f"{report.brands} brand(s) in {file}: {len(report.changes)} change(s) {verb}."))
    else:
        console.print(safe_text(f"{report.brands} brand(s) in {file}: no changes."))


@brands_app.command("export")
def export(
    brand: str = typer.Argument(..., help="The brand's name."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder for <brand>.yaml and its photos."),
) -> None:
    """Write one brand as a registry file with its photos beside it; `brands import` of it changes nothing."""
    from sqlalchemy import select  # deferred: start-up time

    from core.errors import LookalikeError  # deferred: start-up time
    from services.registry.edit import export_brand  # deferred: start-up time
    from storage.imagestore import ImageStore  # deferred: start-up time
    from storage.models import Brand  # deferred: start-up time

    settings = context.settings()
    with context.database(settings) as db, db.session() as session:
        brand_id = session.scalar(select(Brand.id).where(Brand.name == brand))
        if brand_id is None:
            raise LookalikeError(f"no brand named {brand[:100]!r}")
        path = export_brand(session, ImageStore.from_settings(settings), brand_id, out)
    Console(highlight=False, soft_wrap=True, emoji=False).print(safe_text(f"{brand} written to {path}"))


@brands_app.command("list")
def list_() -> None:
    """Show the registered brands."""
    rows = _quick_rows()  # the fast path: no SQLAlchemy, no pydantic (start-up time)
    if rows is None:
        from services.registry.queries import list_brands  # deferred: start-up time

        with context.database() as db, db.session() as session:
            rows = list_brands(session)
    if not rows:
        typer.echo("No brands registered yet: run `lookalike brands import FILE`.")
        return
    table = Table(title=f"{len(rows)} registered brand(s)")
    table.add_column("brand", no_wrap=True, max_width=40)  # a name is never cut in two, on any width
    table.add_column("owner", overflow="fold")
    table.add_column("digest", overflow="fold")
    table.add_column("products / images", justify="right")
    table.add_column("category, aliases, authorized sellers", overflow="fold")
    for row in rows:
        details = "; ".join(part for part in (
            row["category"] or "", ", ".join(row["aliases"]), ", ".join(row["authorized_sellers"])) if part)
        table.add_row(
            safe_text(row["brand"]), safe_text(row["owner"]),
            safe_text(f"{', '.join(row['digest_to']) or '(no address)'} ({row['digest']})"),
            f"{row['products']} / {row['images']}", safe_text(details or "-"),
        )
    Console(emoji=False).print(table)


def _quick_rows() -> list[dict] | None:
    """The brands through :mod:`services.quicklist`, or None when the database needs the full path."""
    reader = context.quick_reader()
    if reader is None:
        return None
    from services.quicklist import brand_rows
    from storage.lean import driver_errors

    with reader:
        try:
            return brand_rows(reader)
        except driver_errors():  # e.g. the database went away: the full path says so in its words
            return None


@brands_app.command("schema")
def schema() -> None:
    """Print the registry format as JSON Schema."""
    from services.registry.specification import json_schema  # deferred: start-up time

    typer.echo(json.dumps(json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(brands_app, name="brands")
