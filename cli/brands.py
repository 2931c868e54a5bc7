"""``lookalike brands import|export|schema``: the brand registry (``brands list`` is in ``cli/lists.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import select

from cli import context
from core.errors import LookalikeError
from core.terminal import safe_text
from services.registry.edit import export_brand
from services.registry.images import IMAGE_FETCH_SECONDS, IMPORT_FETCH_BUDGET, policy_fetcher
from services.registry.load import load_registry
from services.registry.specification import json_schema
from services.registry.sync import import_registry
from storage.imagestore import ImageStore
from storage.models import Brand


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


def export(
    brand: str = typer.Argument(..., help="The brand's name."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder for <brand>.yaml and its photos."),
) -> None:
    """Write one brand as a registry file with its photos beside it; `brands import` of it changes nothing."""
    settings = context.settings()
    with context.database(settings) as db, db.session() as session:
        brand_id = session.scalar(select(Brand.id).where(Brand.name == brand))
        if brand_id is None:
            raise LookalikeError(f"no brand named {brand[:100]!r}")
        path = export_brand(session, ImageStore.from_settings(settings), brand_id, out)
    Console(highlight=False, soft_wrap=True, emoji=False).print(safe_text(f"{brand} written to {path}"))


def schema() -> None:
    """Print the registry format as JSON Schema."""
    typer.echo(json.dumps(json_schema(), indent=2))
