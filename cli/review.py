"""``lookalike review show`` and the status commands (``confirm``, ``dismiss``, ...): one match at a time.

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
from cli.text import T, visible
from core.money import money_text
from core.times import iso_utc
from services import review

if TYPE_CHECKING:
    from storage.models import Match


#: The commands of ``lookalike review`` but ``list`` (``cli/lists.py``); the group is declared in ``cli/__init__.py``.
review_app = typer.Typer(add_completion=False)


def default_actor() -> str:
    user = os.environ.get("USER") or os.environ.get("USERNAME")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "analyst"


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
