"""Recheck: are the listings analysts confirmed or reported still up?  How a takedown is verified.

The ``recheck`` flow re-visits those listings with the crawler's ``recheck`` scope (the known listing
URLs only, no link following; robots.txt, throttling and the network guard as in any crawl), one crawl
per marketplace, with ``gone_after_runs`` set to 1 for that crawl:

- a page that answers 404 or 410, or no longer shows a product (also after a redirect away from it),
  marks its listing ``gone`` with ``gone_at``; a *reported* match on it then moves to ``removed`` with
  an audit event (the takedown worked).  Only an answer in this recheck counts: a listing that was
  already gone before it (missed by full scans) is reported as unknown, not removed;
- a page that still shows the product updates the listing (``last_seen``, and any change of content,
  which the next scan matches again);
- a network error, a timeout, a 5xx, a 401/403, robots.txt or the network guard refusing the URL
  proves nothing: the listing is left as it was.

Unreached listings (:func:`recheck_unreached`): a shop that takes a listing down stops linking it, so a
whole-site crawl never asks for it again and could only count misses. After a *complete* whole-site crawl
(its gone check ran for the ``full`` scope: it finished, hit no page limit, lost no page), the marketplace's
active listings it did not reach, at most ``Settings.unreached_recheck_max`` (suspects first, then the
longest unseen), are rechecked the same night: a 404/410 marks the listing gone with the date, and a
reported match on it moves to ``removed`` as above; a page still up resets its misses.

Recheck URLs come from the database, so a shop's API or page wrote them: the crawl never trusts their
host (no private-network exception; see :mod:`crawlers.middlewares.netguard`), so a stored URL that
points at an internal address is refused, not fetched, and cannot verify a takedown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.settings import Settings
from core.times import as_utc
from crawlers.run import CrawlRequest, run_crawl
from crawlers.stats import CrawlStats
from services.review import set_status
from services.scan import CrawlFailed
from storage.db import Database
from storage.models import CrawlRun, Listing, Marketplace, Match

#: Match statuses whose listings are rechecked by default.
RECHECK_STATUSES = ("reported", "confirmed")
#: Who the recheck is in the audit log.
RECHECK_ACTOR = "lookalike-recheck"


@dataclass(frozen=True, slots=True)
class RecheckGroup:
    """The listings of one marketplace to recheck: its name and the listings' (id, URL)."""

    marketplace: str
    listings: tuple[tuple[int, str], ...]

    @property
    def urls(self) -> list[str]:
        return [url for _, url in self.listings]

    def as_dict(self) -> dict:
        return {"marketplace": self.marketplace, "listings": [list(x) for x in self.listings]}

    @classmethod
    def from_dict(cls, data: dict) -> RecheckGroup:
        return cls(marketplace=data["marketplace"], listings=tuple((int(i), str(u)) for i, u in data["listings"]))


@dataclass
class RecheckReport:
    """What a recheck found: listing ids still up, gone, and not answered; sentences of what changed."""

    up: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def recheck_groups(session: Session, *, statuses: Sequence[str] = RECHECK_STATUSES) -> list[RecheckGroup]:
    """Listings with a match in ``statuses`` (each once), grouped by marketplace, by id."""
    rows = session.execute(
        select(Marketplace.name, Listing.id, Listing.url)
        .join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .where(Listing.id.in_(select(Match.listing_id).where(Match.status.in_(list(statuses)))))
        .order_by(Marketplace.name, Listing.id)
    )
    groups: dict[str, list[tuple[int, str]]] = {}
    for name, listing_id, url in rows:
        groups.setdefault(name, []).append((listing_id, url))
    return [RecheckGroup(name, tuple(items)) for name, items in groups.items()]


def unreached_group(session: Session, crawl_run_id: int, *, limit: int) -> RecheckGroup | None:
    """The listings a complete whole-site crawl did not reach, to recheck (None when the crawl was not
    complete, or reached everything)."""
    run = session.get(CrawlRun, crawl_run_id)
    if run is None or run.marketplace_id is None or run.status != "finished" or limit <= 0:
        return None
    if CrawlStats.from_json(run.stats).gone_check != "done (full)":
        return None  # a search, a recheck, or a crawl cut short: it proves nothing about what it missed
    market = session.get(Marketplace, run.marketplace_id)
    suspect = Listing.id.in_(select(Match.listing_id).where(Match.status != "dismissed"))
    rows = session.execute(
        select(Listing.id, Listing.url)
        .where(Listing.marketplace_id == run.marketplace_id, Listing.status == "active",
               or_(Listing.last_crawl_run_id.is_(None), Listing.last_crawl_run_id != run.id),
               # not seen since this crawl started either: a later crawl of the same site that reached it
               # (two crawls of one marketplace in a night) proves it is still linked
               Listing.last_seen < run.started_at)
        .order_by(suspect.desc(), Listing.last_seen, Listing.id).limit(limit)
    ).all()
    if not rows or market is None:
        return None
    return RecheckGroup(market.name, tuple((int(i), str(u)) for i, u in rows))


def recheck_unreached(settings: Settings, crawl_run_ids: Sequence[int | None], *,
                      scan_id: str | None = None) -> RecheckReport:
    """After tonight's crawls: recheck what each complete whole-site crawl did not reach (see the module doc)."""
    from services.scan import CrawlFailed  # services.scan imports the crawler runner: only when needed

    report = RecheckReport()
    for run_id in crawl_run_ids:
        if run_id is None:
            continue
        with _session(settings) as session:
            group = unreached_group(session, run_id, limit=settings.unreached_recheck_max)
        if group is None:
            continue
        since = dt.datetime.now(dt.UTC)
        try:
            recheck_crawl(settings, group, scan_id=scan_id)
        except CrawlFailed as exc:
            report.unknown.extend(i for i, _ in group.listings)
            report.changes.append(f"unreached listings of {group.marketplace} not rechecked: {str(exc)[:200]}")
            continue
        with _session(settings) as session:
            found = verify_takedowns(session, group, since=since)
        report.up += found.up
        report.gone += found.gone
        report.unknown += found.unknown
        report.changes += found.changes
    return report


def recheck_settings(settings: Settings) -> Settings:
    """The settings of a recheck crawl: one miss (404/410, not a product) is enough to mark a listing gone."""
    return settings.model_copy(update={"gone_after_runs": 1})


def recheck_crawl(settings: Settings, group: RecheckGroup, *, scan_id: str | None = None) -> int:
    """Run the recheck crawl of one marketplace in a child process; returns its crawl run id.

    Raises :class:`services.scan.CrawlFailed` when the crawl ran and failed (worth a retry)."""

    run_id = run_crawl(recheck_settings(settings), CrawlRequest(start_urls=group.urls, scope="recheck",
                                                                marketplace=group.marketplace, scan_id=scan_id))
    with _session(settings) as session:
        run = session.get(CrawlRun, run_id)
        if run is not None and run.status == "failed":
            error = CrawlStats.from_json(run.stats).failure
            raise CrawlFailed(f"recheck of {group.marketplace} (run {run_id}) failed: {error[:300]}")
    return run_id


@contextlib.contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    with Database(settings.database_url) as database, database.session() as session:
        yield session


def verify_takedowns(session: Session, group: RecheckGroup, *, since: dt.datetime) -> RecheckReport:
    """After the recheck crawl (started at ``since``): sort the group's listings into up, gone and
    unknown, and move the reported matches of gone listings to ``removed``."""
    report = RecheckReport()
    since = as_utc(since)
    for listing_id, _url in group.listings:
        listing = session.get(Listing, listing_id)
        if listing is None:
            continue
        gone_at = as_utc(listing.gone_at)
        if listing.status == "gone" and (gone_at is None or gone_at < since):
            # Gone before this recheck (missed by full scans): no answer for this URL now, so no proof.
            report.unknown.append(listing_id)
        elif listing.status == "gone":
            report.gone.append(listing_id)
            report.changes.append(f"listing {listing_id} is gone ({listing.url})")
            for match in session.scalars(
                select(Match).where(Match.listing_id == listing_id, Match.status == "reported")
            ):
                set_status(session, match.id, "removed", actor=RECHECK_ACTOR,
                           note=f"listing gone on recheck of {listing.url}")
                report.changes.append(f"match {match.id} ({listing.url}): takedown verified, now removed")
        elif as_utc(listing.last_seen) >= since:
            report.up.append(listing_id)
        else:
            report.unknown.append(listing_id)
    return report
