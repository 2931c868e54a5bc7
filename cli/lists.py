"""``lookalike review list`` and ``lookalike brands list``: the two commands looked at many times a day.

Both read through :mod:`services.queries`, the query module of the review app, with SQLAlchemy Core on
:mod:`storage.schema` (no ORM, no pydantic-settings where the light settings read suffices), so that they start
in well under half a second (docs/performance.md).  A new or older database is created or migrated first, as
by every command.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli import context
from cli.text import T, visible
from core.money import money_text
from core.terminal import safe_text
from core.times import parse_since
from services.queries import brand_rows, queue_rows
from storage.vocabulary import MATCH_STATUSES


def review_list(
    brand: Annotated[str | None, typer.Option(help="Brand name (or id).")] = None,
    status: Annotated[str | None, typer.Option(help=f"One of {', '.join(MATCH_STATUSES)}.")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", help="Lowest score shown (0..1).")] = None,
    limit: Annotated[int, typer.Option(help="Most rows shown.")] = 200,
    created_since: Annotated[str | None, typer.Option(
        "--created-since", help="Only matches created on or after this date or ISO time (UTC).")] = None,
    changed_since: Annotated[str | None, typer.Option(
        "--changed-since", help="Only matches created or changed on or after this date or ISO time (UTC).")] = None,
) -> None:
    """List matches in queue order: suspects first, each class best score first."""
    created_at = parse_since(created_since, "--created-since") if created_since else None
    changed_at = parse_since(changed_since, "--changed-since") if changed_since else None
    with context.database(url=context.database_url()) as db, db.connection() as connection:
        rows = queue_rows(connection, brand=brand, status=status, min_score=min_score, limit=limit,
                          created_since=created_at, changed_since=changed_at)
    table = Table(title=f"{len(rows)} match(es)", show_lines=False, expand=True)
    for column in ("id", "score", "class", "status"):
        table.add_column(column, no_wrap=True)
    table.add_column("brand", ratio=1, min_width=8, overflow="fold")
    table.add_column("title", ratio=3, min_width=16, overflow="fold")
    table.add_column("price", no_wrap=True)
    table.add_column("seller @ site", ratio=2, min_width=10, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.match_id), f"{row.score:.2f}", T(row.klass), T(row.status), T(row.brand, 60),
            T(row.title, 80), T(money_text(row.price, row.currency)),
            T(f"{visible(row.seller, 40)} @ {visible(row.marketplace, 40)}"),
        )
    Console().print(table)


def brands_list() -> None:
    """Show the registered brands."""
    with context.database(url=context.database_url()) as db, db.connection() as connection:
        rows = brand_rows(connection)
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
