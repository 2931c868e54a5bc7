"""``lookalike review``: the analysts' queue (list, show, and the status commands).

Listing text is written by counterfeiters: everything from a page is shown as rich ``Text`` (never parsed
as markup), with control and invisible format characters (zero-width spaces, bidi overrides) written
out as ``\\uXXXX`` so that the analyst sees them instead of being fooled by them.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from cli import context
from core.money import money_text
from core.text import spell_out
from core.times import iso_utc, parse_since
from storage.vocabulary import MATCH_STATUSES

if TYPE_CHECKING:
    from services.quicklist import QueueRow
    from storage.models import Match


review_app = typer.Typer(help="Review suspects: list, show, confirm, dismiss, report, removed.",
                         no_args_is_help=True)

MAX_SHOWN = 300  # characters of one hostile field shown in a table cell


def visible(value: Any, limit: int = MAX_SHOWN) -> str:
    """``value`` as one safe line: control/format characters spelt out, length bounded."""
    if value is None:
        return "—"
    return spell_out(str(value), limit)


def T(value: Any, limit: int = MAX_SHOWN, style: str = "") -> Text:
    return Text(visible(value, limit), style=style)


def default_actor() -> str:
    user = os.environ.get("USER") or os.environ.get("USERNAME")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "analyst"


@review_app.command("list")
def list_command(
    brand: Annotated[str | None, typer.Option(help="Brand name (or id).")] = None,
    status: Annotated[str | None, typer.Option(help=f"One of {', '.join(MATCH_STATUSES)}.")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", help="Lowest score shown (0..1).")] = None,
    limit: Annotated[int, typer.Option(help="Most rows shown.")] = 200,
    created_since: Annotated[str | None, typer.Option(
        "--created-since", help="Only matches created on or after this date or ISO time (UTC).")] = None,
    changed_since: Annotated[str | None, typer.Option(
        "--changed-since", help="Only matches created or changed on or after this date or ISO time (UTC).")] = None,
) -> None:
    """List matches, best score first."""
    rows = None
    if not (created_since or changed_since):  # the fast path: no SQLAlchemy, no pydantic (start-up time)
        rows = _quick_rows(brand=brand, status=status, min_score=min_score, limit=limit)
    if rows is None:
        from services import review  # deferred: start-up time
        from services.quicklist import QueueRow

        created_at = changed_at = None
        if created_since or changed_since:
            created_at = parse_since(created_since, "--created-since") if created_since else None
            changed_at = parse_since(changed_since, "--changed-since") if changed_since else None
        with context.database() as db, db.session() as session:
            matches = review.list_matches(session, brand=brand, status=status, min_score=min_score, limit=limit,
                                          created_since=created_at, changed_since=changed_at)
            rows = [QueueRow.from_match(m) for m in matches]
    table = Table(title=f"{len(rows)} match(es)", show_lines=False, expand=True)
    for column in ("id", "score", "class", "status"):
        table.add_column(column, no_wrap=True)
    table.add_column("brand", ratio=1, min_width=8, overflow="fold")
    table.add_column("title", ratio=3, min_width=16, overflow="fold")
    table.add_column("price", no_wrap=True)
    table.add_column("seller @ site", ratio=2, min_width=10, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id), f"{row.score:.2f}", T(row.klass), T(row.status), T(row.brand, 60),
            T(row.title, 80), T(money_text(row.price, row.currency)),
            T(f"{visible(row.seller, 40)} @ {visible(row.marketplace, 40)}"),
        )
    Console().print(table)


def _quick_rows(**filters: Any) -> list[QueueRow] | None:
    """The queue through :mod:`services.quicklist`, or None when the database needs the full path."""
    reader = context.quick_reader()
    if reader is None:
        return None
    from services.quicklist import queue_rows
    from storage.lean import driver_errors

    with reader:
        try:
            return queue_rows(reader, **filters)
        except driver_errors():  # e.g. the database went away: the full path says so in its words
            return None


def _evidence(m: Match) -> Table:
    listing, brand, product = m.listing, m.brand, m.product
    side = Table(show_header=True, show_lines=True, expand=True)
    side.add_column("", style="bold", no_wrap=True)
    side.add_column("listing (as the page shows it)", overflow="fold", ratio=1)
    side.add_column(f"brand evidence: {visible(brand.name, 60)}", overflow="fold", ratio=1)
    side.add_row("name", T(listing.title), T(product.name if product else brand.name))
    side.add_row("price / MSRP", T(money_text(listing.price, listing.currency)),
                 T(money_text(product.msrp, product.currency) if product else None))
    side.add_row("seller", T(listing.seller),
                 T(", ".join(s.name for s in brand.authorized_sellers) or None, 400))
    side.add_row("brand stated", T(listing.brand_text), T(brand.name))
    side.add_row("sku / gtin / mpn", T(" / ".join(str(v or "—") for v in (listing.sku, listing.gtin, listing.mpn))),
                 T(product.sku if product else None))
    listing_images = Text("\n").join(
        T(f"{img.url} [{img.status}{' ' + img.sha256[:12] if img.sha256 else ''}]", 400) for img in listing.images
    ) if listing.images else T("\n".join(listing.image_urls or []) or None, 2000)
    reference_images = Text("\n").join(
        T(f"{ref.source} [{ref.sha256[:12]}]", 400) for ref in product.images
    ) if product and product.images else T(None)
    side.add_row("images", listing_images, reference_images)
    side.add_row("page", T(listing.url, 600), T(listing.marketplace.name))
    return side


def _signals_summary(signals: dict[str, Any]) -> Table:
    from services import review  # deferred: start-up time

    table = Table(title="signals", show_header=False, box=None)
    table.add_column("name", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in sorted(signals.items()):
        if key == review.SNAPSHOT_KEY:
            continue
        table.add_row(T(key, 60), T(value, 200))
    return table


@review_app.command("show")
def show_command(match_id: Annotated[int, typer.Argument(help="Match id (from `review list`).")]) -> None:
    """Show one match: the listing beside the brand's evidence, reasons, signals and history."""
    from services import review  # deferred: start-up time

    with context.database() as db:
        with db.session() as session:
            m = review.get_match(session, match_id)
            head = Text.assemble(
                (f"match {m.id}", "bold"), "  ", T(m.klass, style="bold red"), f"  score {m.score:.2f}  status ",
                T(m.status, style="bold"), "  listing ", T(m.listing.status),
                f"  first seen {_when(m.listing.first_seen)}  last seen {_when(m.listing.last_seen)}",
            )
            parts: list[Any] = [head, _evidence(m)]
            parts.append(Text("reasons", style="bold"))
            parts.extend(Text.assemble("  • ", T(r, 500)) for r in (m.reasons or []))
            if m.changes:
                parts.append(Text("changed since last review", style="bold"))
                parts.extend(Text.assemble("  • ", T(c, 500)) for c in m.changes)
            parts.append(_signals_summary(m.signals or {}))
            history = Table(title="history", show_header=True, box=None)
            for column in ("when", "who", "from", "to", "note"):
                history.add_column(column, overflow="fold")
            for e in m.events:
                history.add_row(_when(e.at), T(e.actor, 60), T(e.from_status), T(e.to_status), T(e.note, 600))
            parts.append(history)
        Console().print(Group(*parts))


def _when(value: Any) -> str:
    return iso_utc(value) or "—"


def _status_command(to_status: str, verb: str):
    def command(
        match_id: Annotated[int, typer.Argument(help="Match id (from `review list`).")],
        note: Annotated[str | None, typer.Option(help="Why: kept in the audit log.")] = None,
        by: Annotated[str | None, typer.Option("--by", help="Who decides (default: $USER).")] = None,
    ) -> None:
        from services import review  # deferred: start-up time

        with context.database() as db:
            with db.session() as session:
                m = review.get_match(session, match_id)
                before = m.status
                review.set_status(session, match_id, to_status, actor=by or default_actor(), note=note)
            console = Console()
            console.print(Text.assemble(f"match {match_id}: ", T(before), " -> ", T(to_status, style="bold")))

    command.__doc__ = f"{verb} (status {to_status}); written to the audit log."
    return command


for _status, _verb in (
    ("confirmed", "Confirm a match as infringing"),
    ("dismissed", "Dismiss a match as not infringing; it returns only if the listing changes materially"),
    ("reported", "Mark a match as reported to the marketplace"),
    ("removed", "Mark a reported listing as taken down"),
):
    review_app.command({"confirmed": "confirm", "dismissed": "dismiss", "reported": "report",
                        "removed": "removed"}[_status])(_status_command(_status, _verb))
# ``reopen`` puts a dismissed or confirmed match back in the queue by hand.
review_app.command("reopen")(_status_command("new", "Put a match back in the queue"))


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
