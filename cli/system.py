"""``lookalike config`` and ``lookalike db``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cli import context
from core.settings import describe_sources
from storage.db import current_revisions


def config() -> None:
    """Print the settings in force and where each value came from (env, file or default)."""
    settings = context.settings()
    table = Table(title="Lookalike settings", show_lines=False)
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    table.add_column("from")
    for name, value, source, _doc in describe_sources(settings):
        table.add_row(name, str(value), source)
    Console().print(table)


def db_upgrade() -> None:
    """Apply database migrations (every command does this on first use too)."""
    db = context.database()
    typer.echo(f"database {db.url.split('@')[-1]} at revision {', '.join(sorted(current_revisions(db.engine)))}")
    db.dispose()
