"""``lookalike digest send|list``: the brand owners' digests (see docs/digests.md)."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli import context
from core.errors import LookalikeError
from core.text import one_line
from services import digests
from services.digestmail import html_for_browser
from storage.models import Owner


def send_command(
    owner: Annotated[str | None, typer.Option(help="Only this owner (name as in the registry).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Build the digests, record and send nothing "
                                          "(with --out: write them there).")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the digests as .eml files into this folder "
                                             "instead of sending them.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Ignore the owners' daily/weekly frequency.")] = False,
) -> None:
    """Build each owner's digest of new and changed matches and deliver it exactly once.

    Delivery: SMTP when smtp_host is set, else .eml files in digests_dir (default <data_dir>/digests).
    Exit status 1 when a digest failed (its items wait for the next run).
    """

    settings = context.settings()
    with context.database(settings) as database:
        run = digests.send_digests(database, settings, owner=owner, dry_run=dry_run, out_dir=out, force=force)
    for line in run.lines():
        typer.echo(line)
    if run.counts["failed"]:
        raise typer.Exit(1)


def list_command(
    owner: Annotated[str | None, typer.Option(help="Only this owner.")] = None,
    limit: Annotated[int, typer.Option(help="Most digests shown.")] = 50,
) -> None:
    """The latest digests: owner, when, status, items, Message-ID."""
    with context.database() as database, database.session() as session:
        rows = digests.list_digests(session, owner=owner, limit=limit)
        table = Table(title=f"{len(rows)} digest(s)")
        for column in ("id", "owner", "#", "built (UTC)", "status", "items", "delivery", "Message-ID / file"):
            table.add_column(column, overflow="fold")
        for d in rows:
            owner_name = session.get(Owner, d.owner_id).name
            table.add_row(str(d.id), Text(one_line(owner_name, 80)), str(d.sequence), f"{d.built_at:%Y-%m-%d %H:%M}",
                          d.status, str((d.counts or {}).get("items", 0)), d.delivery,
                          Text(d.path or d.message_id) + (Text(f"\n{d.error}") if d.error else Text("")))
    Console(highlight=False).print(table)


def preview_command(
    eml: Annotated[Path, typer.Argument(help="A digest .eml file (from digest send --out or the demo).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")],
) -> None:
    """Write a digest's HTML part with its photos embedded, to open in a browser."""

    try:
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        html = html_for_browser(message)
        output.write_text(html, encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise LookalikeError(f"cannot preview {eml}: {getattr(exc, 'strerror', None) or exc}") from None
    typer.echo(f"wrote {output}")
