"""``lookalike domains``: look-alike domains found by discovery (docs/discovery.md): list, show, approve,
dismiss, and the feeds run by hand: ``monitor`` (CT logs once), ``import-nrd`` (a newly-registered list),
``permute`` (dnstwist permutations resolved within the budget), ``check`` (liveness and first look), and
``takedown`` (a pack for registrar and host abuse desks).

Domain names are written by counterfeiters: every name and reason is shown spelt out (control and invisible
characters as ``\\uXXXX``), with its punycode form beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli import context
from cli.review import T, default_actor, visible

#: Equal to storage.models.DOMAIN_STATUSES and services.discovery.decisions.DOMAIN_KINDS, written out so that
#: ``--help`` loads no SQLAlchemy (deferred: start-up time).
STATUSES = ("new", "approved", "dismissed")
KINDS = ("unchecked", "shop", "parked", "for_sale", "redirects_official", "internal", "unreachable", "other")

domains_app = typer.Typer(help="Look-alike domains from CT logs, new-domain lists and permutations.",
                          no_args_is_help=True)


def _matcher(session, settings):
    from services.discovery.candidates import domain_matcher  # deferred: start-up time

    return domain_matcher(session, min_score=settings.discovery_min_score)


@domains_app.command("list")
def list_command(
    brand: Annotated[str | None, typer.Option(help="Brand name (or id).")] = None,
    feed: Annotated[str | None, typer.Option(help="Feed: ct, nrd, permutation (or ct:<log>).")] = None,
    kind: Annotated[str | None, typer.Option("--class", help=f"One of {', '.join(KINDS)}.")] = None,
    status: Annotated[str | None, typer.Option(help=f"One of {', '.join(STATUSES)}.")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", help="Lowest score shown (0..1).")] = None,
    seen_since: Annotated[str | None, typer.Option(
        "--seen-since", help="Only domains first seen on or after this date or ISO time (UTC).")] = None,
    limit: Annotated[int, typer.Option(help="Most rows shown.")] = 200,
) -> None:
    """List candidate domains, best score first."""
    from services.discovery.decisions import CandidateFilter, list_candidates  # deferred: start-up time
    from services.export import parse_since

    since = parse_since(seen_since, "--seen-since") if seen_since else None
    filters = CandidateFilter(brand=brand, feed=feed, kind=kind, status=status, min_score=min_score,
                              seen_since=since)
    with context.database() as db, db.session() as session:
        rows = list_candidates(session, filters, limit=limit)
        table = Table(title=f"{len(rows)} candidate domain(s)", expand=True)
        for column in ("id", "score", "class", "status"):
            table.add_column(column, no_wrap=True)
        for column, ratio in (("domain", 3), ("brand", 1), ("disguise", 1), ("feeds", 2), ("first seen", 1)):
            table.add_column(column, ratio=ratio, overflow="fold")
        for c in rows:
            name = c.domain if c.domain == c.ascii_domain else f"{c.domain} ({c.ascii_domain})"
            table.add_row(str(c.id), f"{c.score:.2f}", T(c.kind), T(c.status), T(name, 200), T(c.brand.name, 60),
                          T(f"{c.disguise} {c.mark}", 80), T(", ".join(c.feeds), 200),
                          c.first_seen.strftime("%Y-%m-%d %H:%M"))
    Console().print(table)


@domains_app.command("show")
def show_command(ref: Annotated[str, typer.Argument(help="Candidate id or domain.")]) -> None:
    """A candidate's reasons, checks and audit trail."""
    from services.discovery.decisions import get_candidate, history  # deferred: start-up time

    console = Console()
    with context.database() as db, db.session() as session:
        c = get_candidate(session, ref)
        info = Table(show_header=False, expand=True)
        info.add_column("", style="bold", no_wrap=True)
        info.add_column("", overflow="fold")
        for label, value in (("domain", c.domain), ("punycode", c.ascii_domain), ("brand", c.brand.name),
                             ("score", f"{c.score:.2f}"), ("class", c.kind), ("status", c.status),
                             ("feeds", ", ".join(c.feeds)), ("first seen", c.first_seen.isoformat()),
                             ("first resolved", c.first_resolved.isoformat() if c.first_resolved else None)):
            info.add_row(label, T(value, 300))
        for reason in [*c.reasons, *((c.check or {}).get("reasons") or [])]:
            info.add_row("why", T(reason, 300))
        console.print(info)
        trail = Table(title="history", expand=True)
        for column in ("when", "who", "what", "detail"):
            trail.add_column(column, overflow="fold")
        for e in history(session, c.id):
            trail.add_row(e.at.strftime("%Y-%m-%d %H:%M"), T(e.actor, 60), T(e.action), T(e.detail, 300))
        console.print(trail)


def _decision(action: str):
    def command(
        ref: Annotated[str, typer.Argument(help="Candidate id or domain.")],
        note: Annotated[str | None, typer.Option(help="Why (kept in the audit trail).")] = None,
        by: Annotated[str | None, typer.Option(help="Who decides (default: your login name).")] = None,
    ) -> None:
        from services.discovery import decisions  # deferred: start-up time

        with context.database() as db, db.session() as session:
            candidate = getattr(decisions, action)(session, ref, actor=by or default_actor(), note=note)
            typer.echo(f"{visible(candidate.domain, 200)} ({visible(candidate.brand.name, 60)}): {candidate.status}")
    return command


domains_app.command("approve", help="Approve a candidate: the next night crawls it as a shop.")(_decision("approve"))
domains_app.command("dismiss", help="Dismiss a candidate until it changes (new certificate, address, home page)."
                    )(_decision("dismiss"))


@domains_app.command("import-nrd")
def import_nrd_command(
    source: Annotated[str, typer.Argument(help="A newly-registered-domain list: a path or an http(s) URL, "
                                              "zip or text.")],
) -> None:
    """Import a daily list of newly registered domains and keep those that spell a mark."""
    from services.discovery.nrd import import_nrd  # deferred: start-up time

    settings = context.settings()
    with context.database(settings) as db:
        with db.session() as session:
            matcher = _matcher(session, settings)
        typer.echo(import_nrd(db, source, matcher, settings=settings).line())


@domains_app.command("monitor")
def monitor_command(
    log: Annotated[list[str] | None, typer.Option(
        "--log", help="A CT log URL ('static:' before a Static CT API log); default: the ct_logs setting.")] = None,
    from_start: Annotated[bool, typer.Option(
        "--from-start", help="Read a log seen for the first time from entry 0 (default: from its current size).")
    ] = False,
) -> None:
    """Read every CT log once from where the last run stopped (the ct-monitor flow does it on a schedule)."""
    from services.discovery.ct import CtLog, LogFailed, configured_logs, follow_log  # deferred: start-up time

    settings = context.settings()
    logs = [CtLog.parse(text) for text in log] if log else configured_logs(settings)
    if not logs:
        typer.echo("no CT logs: set ct_logs (docs/discovery.md) or give --log", err=True)
        raise typer.Exit(2)
    failed = 0
    with context.database(settings) as db:
        with db.session() as session:
            matcher = _matcher(session, settings)
        for one in logs:
            try:
                typer.echo(follow_log(settings, db, one, matcher, from_start=from_start).line())
            except LogFailed as exc:
                failed += 1
                typer.echo(f"error: {exc}", err=True)
    if failed:
        raise typer.Exit(1)


@domains_app.command("permute")
def permute_command(
    brand: Annotated[str | None, typer.Option(help="Only this brand (name); default: every brand.")] = None,
) -> None:
    """Generate dnstwist permutations of the brands' domains and marks, resolve those that spell a mark within
    the rate and daily budget (discovery_resolver, discovery_queries_per_second, discovery_daily_budget), and
    keep the ones that resolve."""
    from services.discovery.candidates import domain_brands  # deferred: start-up time
    from services.discovery.permutations import permute_registry

    settings = context.settings()
    with context.database(settings) as db:
        with db.session() as session:
            matcher = _matcher(session, settings)
            brands = [b for b in domain_brands(session) if brand is None or b.name == brand]
        if not brands:
            typer.echo(f"no brand {brand!r} in the registry" if brand else "no brands in the registry", err=True)
            raise typer.Exit(2)
        typer.echo(permute_registry(settings, db, matcher, brands).line())


@domains_app.command("check")
def check_command(
    limit: Annotated[int, typer.Option(help="Most candidates checked in this run.")] = 100,
    recheck: Annotated[bool, typer.Option("--recheck", help="Check again those checked before (oldest first).")
                       ] = False,
) -> None:
    """Liveness and first look of candidates through the network policy: DNS, the home page, parked / for
    sale / redirects to the brand / shop; a name inside the network is recorded, never fetched."""
    from services.discovery.liveness import check_candidates  # deferred: start-up time

    settings = context.settings()
    with context.database(settings) as db:
        typer.echo(check_candidates(settings, db, limit=limit, recheck=recheck).line())


@domains_app.command("takedown")
def takedown_command(
    brand: Annotated[str, typer.Option(help="Brand name (or id).")],
    out: Annotated[Path, typer.Option(help="Where to write the pack (.zip).")],
    status: Annotated[list[str] | None, typer.Option(help="Candidate statuses packed (default: approved).")] = None,
    by: Annotated[str | None, typer.Option(help="Who builds the pack (default: your login name).")] = None,
) -> None:
    """A takedown pack for registrar and host abuse desks: the brand's approved look-alike domains with their
    addresses, evidence (home page WARC and screenshot), statements and a manifest of SHA-256 hashes."""
    from services.discovery.takedown import build_domain_pack  # deferred: start-up time

    settings = context.settings()
    with context.database(settings) as db:
        pack = build_domain_pack(db, settings, brand=brand, out=out, statuses=tuple(status or ("approved",)),
                                 actor=by or default_actor())
    typer.echo(f"{pack.items} domain(s) in {pack.path} (pack {pack.pack_id}, sha256 {pack.sha256})")


def register(app: typer.Typer) -> None:
    app.add_typer(domains_app, name="domains")
