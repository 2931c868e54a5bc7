"""``lookalike evidence``, ``lookalike takedown`` and ``lookalike stats``: proof, notices, outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from core.errors import LookalikeError
from core.terminal import visible
from services import evidence, takedowns


def evidence_capture(
    limit: Annotated[int | None, typer.Option(help="Capture at most this many matches.")] = None,
) -> None:
    """Capture every suspect or confirmed match that has no evidence yet (page as WARC, images, screenshot)."""
    settings = context.settings()
    with context.database(settings) as db:
        report = evidence.capture_pending(db, settings, limit=limit)
    typer.echo(f"captured {len(report.captured)} match(es); {len(report.failed)} page(s) could not be fetched")
    for line in report.failed[:20]:
        typer.echo(f"  {visible(line)}")


def evidence_verify() -> None:
    """Re-hash every evidence file; exit 1 naming each file that changed or went missing."""
    settings = context.settings()
    with context.database(settings) as db, db.session() as session:
        checked, problems = evidence.verify(session, settings)
    for problem in problems:
        typer.echo(visible(problem.line()), err=True)
    typer.echo(f"checked {checked} evidence file(s): {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


def evidence_prune() -> None:
    """Delete evidence of matches dismissed longer than evidence_prune_days ago."""
    settings = context.settings()
    with context.database(settings) as db, db.session() as session:
        captures, files = evidence.prune(session, settings)
    typer.echo(f"pruned {captures} capture(s), {files} file(s)")


def _parse_force(values: list[str]) -> dict[int, str]:
    forced: dict[int, str] = {}
    for value in values:
        match_id, sep, reason = value.partition(":")
        if not sep or not match_id.strip().isdigit() or not reason.strip():
            raise LookalikeError(f"--force takes MATCH_ID:REASON, not {value[:80]!r}")
        forced[int(match_id)] = reason.strip()
    return forced


def takedown_pack(
    brand: Annotated[str, typer.Option(help="The brand (name or id); a pack holds only its matches.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Zip file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="generic, ebay-vero, amazon or alibaba-ipp.")] = "generic",
    marketplace: Annotated[str | None, typer.Option(help="Only listings of this marketplace (its name).")] = None,
    status: Annotated[list[str], typer.Option(help="Match statuses to pack (repeatable).")] = ["confirmed"],  # noqa: B006
    force: Annotated[list[str], typer.Option(
        help="MATCH_ID:REASON packs a match the notice guard refused; the reason goes into the audit log.")] = [],  # noqa: B006
    actor: Annotated[str, typer.Option(help="Who builds the pack (audit log).")] = "cli",
) -> None:
    """Write a takedown pack (notice table, statements, evidence, manifest) and mark its matches reported."""
    settings = context.settings()
    with context.database(settings) as db:
        result = takedowns.build_pack(db, settings, brand=brand, out=output, fmt=fmt, marketplace=marketplace,
                                      statuses=status, force=_parse_force(force), actor=actor)
    typer.echo(f"wrote {output}: pack {result.pack_id}, {result.items} listing(s) in {result.batches} batch(es)")
    for refusal in result.refused:
        typer.echo(f"  refused match {refusal.match_id}: {'; '.join(refusal.reasons)}")
    if result.refused:
        typer.echo("  (pack one anyway with --force MATCH_ID:REASON)")


def takedown_verify() -> None:
    """Recheck reported listings inside the verification window and record removed / edited / still up."""
    settings = context.settings()
    with context.database(settings) as db:
        changed = takedowns.verify_removals(db, settings)
    typer.echo(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in changed.items()))


def stats_takedowns(
    by: Annotated[str, typer.Option(help="marketplace or brand")] = "marketplace",
) -> None:
    """Reported, removed, edited, still up after the window, median time to removal."""
    settings = context.settings()
    with context.database(settings) as db, db.session() as session:
        rows = takedowns.takedown_stats(session, by=by)
    if not rows:
        typer.echo("no takedowns reported yet")
        return
    typer.echo(f"{by:<30} reported removed edited still-up median-hours")
    for row in rows:
        median = "-" if row.median_hours_to_removal is None else f"{row.median_hours_to_removal:.1f}"
        typer.echo(f"{visible(row.group)[:30]:<30} {row.reported:>8} {row.removed:>7} {row.edited:>6} "
                   f"{row.still_up:>8} {median:>12}")
