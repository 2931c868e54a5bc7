"""``lookalike brands import|list|schema``: the brand registry."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lookalike.cli import context
from lookalike.imagestore import ImageStore
from lookalike.netguard import fetch_bytes
from lookalike.registry import import_registry, json_schema, list_brands, load_registry

brands_app = typer.Typer(help="The brand registry: what is protected.", no_args_is_help=True)


@brands_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="Registry YAML file (see data/registry.schema.json)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and report changes, store nothing."),
) -> None:
    """Validate a registry file whole, then import it in one transaction and report what changed."""
    settings = context.settings()
    store = ImageStore.from_settings(settings)

    def fetch(url: str) -> tuple[bytes, str | None]:
        return fetch_bytes(url, max_bytes=settings.max_image_bytes, user_agent=settings.rendered_user_agent,
                           allow_private=settings.allow_private_network, timeout=settings.download_timeout)

    registry = load_registry(file, store=store, fetch=fetch)
    db = context.database(settings)
    try:
        with db.session() as session:
            report = import_registry(session, registry, store)
            if dry_run:
                session.rollback()
    finally:
        db.dispose()
    console = Console(highlight=False, soft_wrap=True)
    for line in report.changes:
        console.print(Text(f"  {line}"))
    verb = "would change" if dry_run else "changed"
    if report.changed:
        console.print(f"{report.brands} brand(s) in {file}: {len(report.changes)} change(s) {verb}.")
    else:
        console.print(f"{report.brands} brand(s) in {file}: no changes.")


@brands_app.command("list")
def list_() -> None:
    """Show the registered brands."""
    db = context.database()
    try:
        with db.session() as session:
            rows = list_brands(session)
    finally:
        db.dispose()
    if not rows:
        typer.echo("No brands registered yet: run `lookalike brands import FILE`.")
        return
    table = Table(title=f"{len(rows)} registered brand(s)")
    for column in ("brand", "owner", "category", "aliases", "products", "images", "authorized sellers"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            Text(row["brand"]), Text(row["owner"]), Text(row["category"] or ""), Text(", ".join(row["aliases"])),
            str(row["products"]), str(row["images"]), Text(", ".join(row["authorized_sellers"])),
        )
    Console().print(table)


@brands_app.command("schema")
def schema() -> None:
    """Print the registry format as JSON Schema."""
    typer.echo(json.dumps(json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(brands_app, name="brands")
