"""``lookalike networks find|list|eval``: seller networks, relistings and their impact (see docs/networks.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli import context
from core.text import one_line

networks_app = typer.Typer(help="Seller networks: sellers linked by shared evidence, relistings, impact.",
                           no_args_is_help=True)


@networks_app.command("find")
def find_command() -> None:
    """Recompute networks and flag relistings now (the nightly scan does this after matching)."""
    from services import networks, relistings  # deferred: start-up time

    settings = context.settings()
    with context.database(settings) as database:
        first = networks.recompute_networks(database, rates=settings.currency_rates)
        found = relistings.detect_relistings(database)
        final = networks.recompute_networks(database, rates=settings.currency_rates)
    typer.echo(f"sellers: {first.sellers} ({first.sellers_read} read again); links: {final.links} "
               f"({final.strong_links} strong); networks: {final.networks} ({first.new_networks} new, "
               f"{first.grown_networks} grown, {first.dissolved} dissolved)")
    typer.echo(f"relistings: {found.new} new ({found.found} found over {found.down} listings taken down)")


@networks_app.command("list")
def list_command(limit: Annotated[int, typer.Option(help="Most networks shown.")] = 20) -> None:
    """Networks by impact, largest first, with why."""
    from sqlalchemy import select  # deferred: start-up time

    from storage.models import Network  # deferred: start-up time

    console = Console(highlight=False, soft_wrap=True)
    with context.database() as database, database.session() as session:
        rows = list(session.scalars(select(Network).where(Network.status == "active")
                                    .order_by(Network.impact.desc(), Network.id).limit(limit)))
        table = Table(title=f"{len(rows)} network(s)")
        for column in ("id", "sellers", "live listings", "relistings", "impact", "why"):
            table.add_column(column, overflow="fold")
        for n in rows:
            where = ", ".join(f"{one_line(m, 40)} {c}" for m, c in (n.marketplaces or {}).items())
            table.add_row(str(n.id), str(n.sellers), Text(where), str(n.relistings), f"{n.impact:.1f}",
                          Text(one_line((n.impact_reasons or [""])[0], 200)))
    console.print(table)


@networks_app.command("eval")
def eval_command(seeds: Annotated[list[int] | None, typer.Option("--seed", help="Seeds of the demo world's "
                                                                    "networks (default: the held-out seeds).")] = None
                 ) -> None:
    """Pairwise precision and recall of "same network", and relistings found, on the demo world's networks."""
    from data.demo.networks import HELD_OUT_SEEDS, network_world  # deferred: start-up time
    from matching.networks.evaluate import evaluate_relistings, evaluate_world  # deferred: start-up time

    for seed in seeds or list(HELD_OUT_SEEDS):
        world = network_world(seed)
        scores, groups, _ = evaluate_world(world)
        relist, _ = evaluate_relistings(world, groups)
        typer.echo(f"seed {seed} ({world['role']}): {len(world['sellers'])} sellers; pairs precision "
                   f"{scores.precision:.3f} recall {scores.recall:.3f} ({scores.correct_pairs}/{scores.true_pairs} "
                   f"true, {scores.predicted_pairs} predicted); relistings detected {relist.detected:.3f} "
                   f"precision {relist.precision:.3f} ({relist.correct}/{relist.true})")


def register(app: typer.Typer) -> None:
    app.add_typer(networks_app, name="networks")
