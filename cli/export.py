"""``lookalike export suspects|listings``: write the queue or the listings to CSV, JSON or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from core.errors import LookalikeError
from core.times import parse_since
from services import export as exporting


def export_command(
    kind: Annotated[str, typer.Argument(help="suspects (the review queue) or listings (every listing).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write (replaced atomically).")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, json or parquet (default: from -o's suffix).")]
    = None,
    brand: Annotated[str | None, typer.Option(help="Only this brand (name or id).")] = None,
    status: Annotated[str | None, typer.Option(
        help="suspects: new, confirmed, dismissed, reported or removed; listings: active or gone.")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", help="Lowest score (0..1) kept.")] = None,
    since: Annotated[str | None, typer.Option(help="Only rows last seen on or after this date (YYYY-MM-DD, UTC).")]
    = None,
    created_since: Annotated[str | None, typer.Option(
        "--created-since", help="suspects: only matches created on or after this date or ISO time (UTC).")] = None,
    changed_since: Annotated[str | None, typer.Option(
        "--changed-since", help="suspects: only matches created or changed (score, class, listing, status) on or "
        "after this date or ISO time (UTC).")] = None,
) -> None:
    """Export suspects or listings; text cells in CSV are neutralised against formula injection."""
    if kind not in exporting.KINDS:
        raise LookalikeError(f"unknown export {kind!r}: choose one of {', '.join(exporting.KINDS)}")
    fmt = exporting.resolve_format(fmt, output)
    since_at = parse_since(since)
    created_at = parse_since(created_since, "--created-since")
    changed_at = parse_since(changed_since, "--changed-since")
    with context.database() as db, db.session() as session:
        count = exporting.export(session, kind, output, fmt=fmt, brand=brand, status=status,
                                 min_score=min_score, since=since_at, created_since=created_at,
                                 changed_since=changed_at)
    typer.echo(f"wrote {count} {kind} to {output} ({fmt})")
