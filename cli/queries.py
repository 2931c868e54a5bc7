"""``lookalike sources queries``: which search queries find counterfeits, per source.

The command is registered in the ``sources`` group of :mod:`cli.sources`.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cli import context
from core.terminal import safe_text, visible


def queries(
    source: str | None = typer.Option(None, "--source", help="Only this source (a marketplace profile's name)."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Queries shown per source at most."),
    plan: bool = typer.Option(False, "--plan", help="Also show the queries the next scan will send to each "
                              "source, best first, within the query budget."),
) -> None:
    """Each query's record per source: runs, results, new listings, suspects and confirmed matches, the
    queries that find counterfeits first.  Queries that never find anything sink in the next plan."""
    from services import queryplan, querystats  # deferred: start-up time (SQLAlchemy, the normaliser)

    settings = context.settings()
    with context.database(settings) as db, db.session() as session:
        lines = querystats.query_report(session, source=source)
        planned: dict[str, list[queryplan.RankedQuery]] = {}
        if plan:
            sources = [source] if source else sorted({line.source for line in lines})
            for name in sources:
                planned[name] = queryplan.plan_for_source(session, name, budget=settings.query_budget)
    if not lines and not planned:
        typer.echo("no search query has run yet" + (f" on {visible(source, limit=80)}" if source else "")
                   + ": a scan of a marketplace profile records them")
        return
    console = Console()
    by_source: dict[str, list[querystats.QueryLine]] = {}
    for line in lines:
        by_source.setdefault(line.source, []).append(line)
    for name, rows in by_source.items():
        table = Table(title=f"{visible(name, limit=80)}: {len(rows)} quer{'y' if len(rows) == 1 else 'ies'}",
                      expand=False)
        table.add_column("query", overflow="fold", min_width=16)
        for column in ("runs", "results", "new", "suspects", "confirmed", "last run"):
            table.add_column(column, justify="right" if column != "last run" else "left", no_wrap=True)
        for row in rows[:limit]:
            suspects = str(row.suspects) + (f" (+{row.pending} not matched yet)" if row.pending else "")
            table.add_row(safe_text(row.query, limit=100), str(row.runs), str(row.results), str(row.new_listings),
                          suspects, str(row.confirmed),
                          row.last_run.strftime("%Y-%m-%d %H:%M") if row.last_run else "—")
        if len(rows) > limit:
            table.caption = f"{len(rows) - limit} more (--limit)"
        console.print(table)
    for name, ranked in planned.items():
        table = Table(title=f"next plan for {visible(name, limit=80)}: {len(ranked)} of at most "
                      f"{settings.query_budget} queries")
        for column in ("#", "query", "kind", "brand", "state", "score"):
            table.add_column(column, overflow="fold")
        for n, item in enumerate(ranked[:limit], start=1):
            table.add_row(str(n), safe_text(item.candidate.text, limit=100), item.candidate.kind,
                          safe_text(item.candidate.brand, limit=60), item.state, f"{item.score:.2f}")
        console.print(table)

