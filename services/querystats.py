"""The per-query record of planned search: what each query found on each source, night after night.

The crawl writes one ``query_runs`` row per query (:mod:`crawlers.pipelines.queries`: results, the stored
listings found, the new ones among them).  After matching, :func:`count_suspects` counts each row's
suspects: the listings it found that have a match not dismissed.  The planner reads the totals
(:func:`records_for`), and ``lookalike sources queries`` shows them (:func:`query_report`), with the
listings confirmed by analysts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import Listing, Match, QueryRun, utcnow

#: Match statuses that mean an analyst confirmed the listing infringes.
CONFIRMED_STATUSES = ("confirmed", "reported", "removed")
#: Rows counted per call of :func:`count_suspects` (a night has at most sources x query budget).
MAX_ROWS_PER_COUNT = 20_000
#: Days of record the planner ranks by (older runs no longer count).
RECORD_DAYS = 90


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """What one query found on one source over its past runs (totals of its ``query_runs`` rows)."""

    runs: int = 0
    results: int = 0
    new_listings: int = 0
    suspects: int = 0
    #: The suspects its last counted run found (listing ids): what only this query finds ranks it.
    suspect_ids: frozenset[Hashable] = frozenset()


def _listings_with(session: Session, ids: set[int], statuses: Sequence[str] | None = None,
                   exclude: Sequence[str] = ()) -> set[int]:
    out: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        query = select(Match.listing_id).where(Match.listing_id.in_(ordered[start:start + 500]))
        if statuses is not None:
            query = query.where(Match.status.in_(statuses))
        if exclude:
            query = query.where(Match.status.not_in(exclude))
        out.update(session.scalars(query.distinct()))
    return out


def count_suspects(database: Database, *, scan_id: str | None = None) -> int:
    """Count the suspects of every query row not counted yet (of ``scan_id`` when given); returns the rows
    counted.  Run after matching; a row one of whose listings still waits for matching stays uncounted
    until a later call.  A counted row stays counted."""
    with database.session() as session:
        query = select(QueryRun).where(QueryRun.suspects.is_(None))
        if scan_id is not None:
            query = query.where(QueryRun.scan_id == scan_id)
        rows = session.scalars(query.order_by(QueryRun.id).limit(MAX_ROWS_PER_COUNT)).all()
        ids = {i for row in rows for i in (row.listing_ids or []) if isinstance(i, int)}
        suspects = _listings_with(session, ids, exclude=("dismissed",))
        waiting = _waiting(session, ids)
        counted = 0
        for row in rows:
            found = set(row.listing_ids or [])
            if found & waiting:
                continue  # a listing it found is not matched yet: counted after the next matching
            row.suspects = len(found & suspects)
            counted += 1
        return counted


def _waiting(session: Session, ids: set[int]) -> set[int]:
    """Of ``ids``, the listings still waiting to be matched."""
    out: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        out.update(session.scalars(select(Listing.id).where(Listing.id.in_(ordered[start:start + 500]),
                                                            Listing.needs_matching.is_(True))))
    return out


def records_for(session: Session, source: str, *, days: int = RECORD_DAYS,
                now: dt.datetime | None = None) -> dict[str, QueryRecord]:
    """Every query's totals on ``source`` over the last ``days`` days, by case-folded text (runs count only
    rows whose suspects are counted, so a night not matched yet does not sink a query), with the suspects
    of its last run that found any (``suspect_ids``: listings still matched and not dismissed).  A query
    that found counterfeits last year but nothing since is judged by what it finds now."""
    since = (now or utcnow()) - dt.timedelta(days=days)
    recent = (QueryRun.source == source, QueryRun.suspects.is_not(None), QueryRun.ran_at >= since)
    rows = session.execute(
        select(QueryRun.query_key, func.count(QueryRun.id), func.sum(QueryRun.results),
               func.sum(QueryRun.new_listings), func.sum(QueryRun.suspects))
        .where(*recent).group_by(QueryRun.query_key)).all()
    latest: dict[str, list[int]] = {}
    last_rows = session.execute(
        select(QueryRun.query_key, QueryRun.listing_ids)
        .where(*recent, QueryRun.suspects > 0).order_by(QueryRun.id)).all()
    for key, ids in last_rows:
        latest[key] = [i for i in (ids or []) if isinstance(i, int)]
    suspects_now = _listings_with(session, {i for ids in latest.values() for i in ids}, exclude=("dismissed",))
    return {key: QueryRecord(runs=int(runs), results=int(results or 0), new_listings=int(new or 0),
                             suspects=int(suspects or 0),
                             suspect_ids=frozenset(i for i in latest.get(key, ()) if i in suspects_now))
            for key, runs, results, new, suspects in rows}


@dataclass(frozen=True, slots=True)
class QueryLine:
    """One query of one source in ``lookalike sources queries``."""

    source: str
    query: str
    runs: int
    results: int
    new_listings: int
    suspects: int
    #: Listings it found whose match an analyst confirmed (or reported, or saw removed).
    confirmed: int
    last_run: dt.datetime | None
    #: Runs whose suspects are not counted yet (matching has not run since).
    pending: int


def query_report(session: Session, *, source: str | None = None, limit: int = 1000) -> list[QueryLine]:
    """Queries by source, those that found the most suspects first (then confirmed, then results)."""
    query = select(QueryRun).order_by(QueryRun.id)
    if source is not None:
        query = query.where(QueryRun.source == source)
    groups: dict[tuple[str, str], list[QueryRun]] = {}
    for row in session.scalars(query):
        groups.setdefault((row.source, row.query_key), []).append(row)
    ids = {i for rows in groups.values() for row in rows for i in (row.listing_ids or []) if isinstance(i, int)}
    confirmed = _listings_with(session, ids, statuses=CONFIRMED_STATUSES)
    lines: list[QueryLine] = []
    for (src, _key), rows in groups.items():
        counted = [r for r in rows if r.suspects is not None]
        found = {i for r in rows for i in (r.listing_ids or [])}
        lines.append(QueryLine(
            source=src, query=rows[-1].query, runs=len(rows), results=sum(r.results for r in rows),
            new_listings=sum(r.new_listings for r in rows), suspects=sum(r.suspects or 0 for r in counted),
            confirmed=len(found & confirmed), last_run=max(r.ran_at for r in rows),
            pending=len(rows) - len(counted)))
    lines.sort(key=lambda q: (q.source, -q.suspects, -q.confirmed, -q.results, q.query.casefold()))
    return lines[:limit]
