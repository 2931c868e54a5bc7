"""The dashboard's figures: the fight against knock-offs at a glance, for an owner (their brands) or an analyst.

Every chart of the review app's dashboard and of the digest's head is drawn from one :class:`Table`
built here, so the picture and its numbers (shown one click away, and as CSV) are the same rows:

* ``suspects``: suspects found per night (the UTC day a match was first scored), by marketplace and class;
* ``decisions``: review decisions per day (confirmed, dismissed, reported, removed, reopened);
* ``takedowns``: per marketplace, notices filed and what became of them (removed, edited, still up after
  the verification window), with the median time to removal (from :func:`services.takedowns.takedown_stats`);
* ``sellers``: the sellers with the most suspects.

The scope is a set of brand ids (an owner's brands; None for every brand): nothing outside it is counted.
Days are UTC days on both SQLite and PostgreSQL, so a night's count is the same whatever the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, select, true
from sqlalchemy.orm import Session

from services.export import neutralise_cell
from services.review import SCAN_ACTOR
from services.takedowns import takedown_stats
from storage.models import Brand, Listing, Marketplace, Match, MatchEvent, utcnow

#: Days of history the dashboard shows by default, and the most it may be asked for.
DEFAULT_DAYS = 30
MAX_DAYS = 366
#: Sellers in the "top sellers" table.
TOP_SELLERS = 10
#: Statuses that say an analyst judged the listing infringing.
DECIDED_AGAINST = ("confirmed", "reported", "removed")


@dataclass(frozen=True, slots=True)
class Table:
    """One chart's numbers: a name (its URL), a title, column names and rows of plain values."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def as_csv(self) -> bytes:
        """The rows as CSV (cells that a spreadsheet would run as formulas are neutralised)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([neutralise_cell("" if v is None else str(v)) for v in row])
        return out.getvalue().encode("utf-8")


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Every table of the dashboard for one scope and period."""

    since: dt.date
    until: dt.date
    #: The brands in scope, as (id, name), for the page's brand selector.
    brands: tuple[tuple[int, str], ...]
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


TABLE_NAMES = ("suspects", "decisions", "takedowns", "sellers")


def _utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column, as the database computes it."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def _scope(brand_ids: Collection[int] | None) -> ColumnElement[bool]:
    if brand_ids is None:
        return true()
    return Match.brand_id.in_(sorted(brand_ids)) if brand_ids else false()


def period(days: int = DEFAULT_DAYS, *, now: dt.datetime | None = None) -> tuple[dt.date, dt.datetime]:
    """The first day shown and the moment it starts (UTC midnight), for the last ``days`` days."""
    days = max(1, min(int(days), MAX_DAYS))
    today = (now or utcnow()).astimezone(dt.UTC).date()
    first = today - dt.timedelta(days=days - 1)
    return first, dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)


def suspects_per_night(session: Session, brand_ids: Collection[int] | None, *, since: dt.datetime,
                       until: dt.datetime) -> Table:
    day = _utc_day(session, Match.created_at)
    stmt = (
        select(day, Marketplace.name, Match.klass, func.count(Match.id))
        .join(Listing, Listing.id == Match.listing_id).join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .where(_scope(brand_ids), Match.created_at >= since, Match.created_at <= until)
        .group_by(day, Marketplace.name, Match.klass).order_by(day, Marketplace.name, Match.klass)
    )
    rows = tuple((str(d), m, k, int(n)) for d, m, k, n in session.execute(stmt))
    return Table("suspects", "Suspects found per night, by marketplace", ("night", "marketplace", "class", "suspects"),
                 rows, note="a suspect counts on the night it was first scored")


def decisions_per_day(session: Session, brand_ids: Collection[int] | None, *, since: dt.datetime,
                      until: dt.datetime) -> Table:
    day = _utc_day(session, MatchEvent.at)
    stmt = (
        select(day, MatchEvent.to_status, func.count(MatchEvent.id))
        .join(Match, Match.id == MatchEvent.match_id)
        .where(_scope(brand_ids), MatchEvent.at >= since, MatchEvent.at <= until,
               MatchEvent.actor != SCAN_ACTOR)
        .group_by(day, MatchEvent.to_status).order_by(day, MatchEvent.to_status)
    )
    rows = tuple((str(d), s, int(n)) for d, s, n in session.execute(stmt))
    return Table("decisions", "Decisions per day", ("day", "decision", "matches"), rows,
                 note="status changes made by people and by the takedown recheck")


def takedowns_by_marketplace(session: Session, brand_ids: Collection[int] | None) -> Table:
    ids: Sequence[int] | None = None if brand_ids is None else sorted(brand_ids)
    stats = takedown_stats(session, by="marketplace", brand_ids=ids)
    rows = tuple((s.group, s.reported, s.removed, s.edited, s.still_up, s.reported - s.removed - s.edited - s.still_up,
                  s.median_hours_to_removal) for s in stats)
    return Table("takedowns", "Takedown notices and what became of them",
                 ("marketplace", "reported", "removed", "edited", "still_up", "waiting", "median_hours_to_removal"),
                 rows, note="still up = still there after the verification window; waiting = inside it")


def top_sellers(session: Session, brand_ids: Collection[int] | None, *, since: dt.datetime, until: dt.datetime,
                limit: int = TOP_SELLERS) -> Table:
    suspects = func.count(Match.id)
    stmt = (
        select(Listing.seller, Marketplace.name, suspects,
               func.sum(case((Match.status.in_(DECIDED_AGAINST), 1), else_=0)))
        .join(Listing, Listing.id == Match.listing_id).join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .where(_scope(brand_ids), Match.created_at >= since, Match.created_at <= until, Listing.seller.is_not(None))
        .group_by(Listing.seller, Marketplace.name).order_by(suspects.desc(), Listing.seller, Marketplace.name)
        .limit(limit)
    )
    rows = tuple((seller, market, int(n), int(confirmed or 0)) for seller, market, n, confirmed in session.execute(stmt))
    return Table("sellers", f"Top {limit} sellers by suspects", ("seller", "marketplace", "suspects", "confirmed"), rows)


def build_dashboard(session: Session, brand_ids: Collection[int] | None, *, days: int = DEFAULT_DAYS,
                    brand_id: int | None = None, now: dt.datetime | None = None) -> Dashboard:
    """Every table for ``brand_ids`` (None: every brand), narrowed to one brand if ``brand_id`` is given.

    The caller checks that ``brand_id`` is inside ``brand_ids`` (the review app answers 404 otherwise);
    here a brand outside them narrows to nothing."""
    scope = brand_ids
    if brand_id is not None:
        scope = frozenset({brand_id}) if brand_ids is None or brand_id in brand_ids else frozenset()
    now = now or utcnow()
    first, since = period(days, now=now)
    names_stmt = select(Brand.id, Brand.name).order_by(Brand.name)
    if brand_ids is not None:
        names_stmt = names_stmt.where(Brand.id.in_(sorted(brand_ids)) if brand_ids else false())
    tables = (
        suspects_per_night(session, scope, since=since, until=now),
        decisions_per_day(session, scope, since=since, until=now),
        takedowns_by_marketplace(session, scope),
        top_sellers(session, scope, since=since, until=now),
    )
    return Dashboard(since=first, until=now.astimezone(dt.UTC).date(),
                     brands=tuple((int(i), n) for i, n in session.execute(names_stmt)), tables=tables)
