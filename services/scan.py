"""The nightly scan as library functions: what to visit, crawling it, matching what changed, the summary.

The Prefect flows in ``flows/`` are thin wrappers over these functions, and tests call them directly.

Stages, each safe to kill and run again:

1. **Targets** (:func:`load_targets`, :func:`plan_targets`): shops crawled from start URLs and marketplace
   profiles searched for every brand's marks, from a scan file and from parameters.
2. **Crawl** (:func:`crawl_target`): one Scrapy crawl in a child process (``crawlers.run.run_crawl``);
   listings are upserted by the crawl, new and changed ones flagged ``needs_matching``, and listings a
   whole-shop crawl no longer finds are marked gone after ``gone_after_runs`` crawls (by the crawl's
   storage pipeline, see ``crawlers/pipelines/storage.py``).
3. **Sign** (:mod:`services.signatures`): every stored image without a signature gets one, in a bounded
   process pool or on Dask, committed in small batches (a killed stage redoes only what was not committed).
   The crawl stored only the bytes.
4. **Match** (:func:`match_pending`): listings flagged ``needs_matching`` are scored against every brand in
   batches; each batch records its results with :func:`services.review.record_match` and clears the flag
   *in the same transaction*, so a killed run redoes only the unfinished batches.  On PostgreSQL each
   batch is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``, so several workers share the work.
5. **Summary** (:func:`scan_summary`): pages, listings new/changed/gone, suspects new/updated per brand.

The scan file's format is in :mod:`services.scantargets`.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.errors import LookalikeError
from core.settings import Settings
from crawlers.run import run_crawl
from crawlers.stats import CrawlStats
from matching.config import MatchConfig
from matching.matcher import Matcher
from matching.model import CLASSES
from services.matchdata import listing_input, listing_load_options, load_brand_profiles, product_ids
from services.review import CLEAN_CLASSES, Verdict, record_match
from services.scantargets import (  # noqa: F401 - re-exported: the scan's API in one place
    ScanFileError,
    ScanTarget,
    default_targets_file,
    group_by_site,
    load_targets,
    parse_targets,
    plan_targets,
    targets_from_options,
)
from services.signatures import sign_stored
from storage.db import Database
from storage.models import Brand, CrawlRun, Listing, Marketplace, Match, utcnow

#: Listings scored and recorded per transaction.
DEFAULT_BATCH_SIZE = 100
#: Classes a scorer may return.
KNOWN_CLASSES = frozenset(CLASSES) | CLEAN_CLASSES


# ------------------------------------------------------------------------------------------------ scan id


def new_scan_id(now: dt.datetime | None = None) -> str:
    """``scan-20261128T020000Z-1a2b3c``: groups the crawl runs of one scan."""
    now = now or utcnow()
    return f"scan-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


# ------------------------------------------------------------------------------------------------ crawl


@dataclass
class CrawlOutcome:
    """One crawl's result, from its ``crawl_runs`` row (``stats`` as the crawl recorded them)."""

    target: str
    crawl_run_id: int | None
    status: str
    marketplace: str | None = None
    stats: CrawlStats = field(default_factory=CrawlStats)

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly, ``stats`` in their stored shape (:meth:`crawlers.stats.CrawlStats.as_json`)."""
        return {"target": self.target, "crawl_run_id": self.crawl_run_id, "status": self.status,
                "marketplace": self.marketplace, "stats": self.stats.as_json()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrawlOutcome:
        return cls(target=data["target"], crawl_run_id=data.get("crawl_run_id"), status=data["status"],
                   marketplace=data.get("marketplace"), stats=CrawlStats.from_json(data.get("stats")))


def failed_outcome(target: ScanTarget, error: str) -> CrawlOutcome:
    """The outcome of a crawl that recorded nothing (it could not start, or its run was lost): failed,
    with ``error`` as its cause."""
    return CrawlOutcome(target=target.label, crawl_run_id=None, status="failed",
                        stats=CrawlStats(error=error[:500]))


def crawl_outcome(database: Database, crawl_run_id: int, *, target: str) -> CrawlOutcome:
    with database.session() as session:
        run = session.get(CrawlRun, crawl_run_id)
        if run is None:
            raise LookalikeError(f"crawl run {crawl_run_id} was not recorded")
        name = None
        if run.marketplace_id is not None:
            market = session.get(Marketplace, run.marketplace_id)
            name = market.name if market else None
        return CrawlOutcome(target=target, crawl_run_id=run.id, status=run.status, marketplace=name,
                            stats=CrawlStats.from_json(run.stats))


def recorded_outcome(database: Database, *, scan_id: str, target: ScanTarget) -> CrawlOutcome | None:
    """The last crawl of ``target`` recorded in scan ``scan_id`` (its ``crawl_runs`` row), None when none.

    How the nightly flow learns what a crawl run on another machine did: the shared database is the
    result.  A target's runs carry its :attr:`crawlers.run.CrawlRequest.target_key` (a scan plans each
    target once; a retry is a later run with the same key)."""
    key = target.crawl_request(scan_id=scan_id).target_key
    with database.session() as session:
        run_id = session.scalar(select(CrawlRun.id).where(CrawlRun.scan_id == scan_id, CrawlRun.target_key == key)
                                .order_by(CrawlRun.id.desc()).limit(1))
    return None if run_id is None else crawl_outcome(database, run_id, target=target.label)


@dataclass(frozen=True, slots=True)
class FinalState:
    """How a crawl run elsewhere (a run of the ``crawl-site`` flow on a worker) ended, as the
    orchestrator read it: the state's name (``Completed``, ``Failed``, ``Crashed``...) and message."""

    name: str
    completed: bool
    message: str = ""


def wait_until_final(run_ids: Sequence[Any], read_final: Callable[[Any], FinalState | None], *, timeout: float,
                     poll: float, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep) -> dict[Any, FinalState | None]:
    """Run id -> its final state, read with ``read_final(run_id)`` (None while the run is not final),
    every ``poll`` seconds until every run is final or ``timeout`` seconds have passed (then None for the
    runs not final).  A run found final is not read again."""
    final: dict[Any, FinalState | None] = dict.fromkeys(run_ids)
    deadline = clock() + timeout
    while True:
        for run_id in [r for r, state in final.items() if state is None]:
            final[run_id] = read_final(run_id)
        if all(state is not None for state in final.values()) or clock() > deadline:
            return final
        sleep(poll)


def outcome_of_run(database: Database, *, scan_id: str, target: ScanTarget, run_name: str,
                   final: FinalState | None, waited: float) -> CrawlOutcome:
    """The outcome of ``target``'s crawl run elsewhere: its last ``crawl_runs`` row in the scan when the
    run completed, else a failed outcome saying why (not final after ``waited`` seconds, ended in another
    state, or completed without recording a crawl)."""
    if final is None:
        return failed_outcome(target, f"flow run {run_name} not finished after {waited:g} s")
    if not final.completed:
        return failed_outcome(target, f"flow run {run_name} ended {final.name}: {final.message}")
    recorded = recorded_outcome(database, scan_id=scan_id, target=target)
    if recorded is None:
        return failed_outcome(target, f"flow run {run_name} completed but recorded no crawl in {scan_id}")
    return recorded


class CrawlFailed(LookalikeError):
    """A crawl ran and failed (the site was down, the child process died): worth a retry later."""


class CrawlRefused(LookalikeError):
    """A crawl ran and failed for a cause a retry would meet again (robots.txt denies every page, the
    pages are over the size limit, a redirect loop): not retried."""


def crawl_target(
    settings: Settings,
    target: ScanTarget,
    *,
    scan_id: str,
    database: Database,
    scrapy_overrides: dict[str, Any] | None = None,
    progress: Any = None,
) -> CrawlOutcome:
    """Run one crawl in a child process and return what it recorded.

    Raises ``LookalikeError`` when the crawl cannot run (a bad profile) and :class:`CrawlFailed` when it
    ran and failed (the flow retries both with backoff); what a failed crawl stored is kept (listings are
    upserted, so a retry or the next night completes them).  ``scrapy_overrides`` are Scrapy settings
    applied last (tests turn AutoThrottle off); ``progress`` receives crawl counters about once a second.
    """
    request = target.crawl_request(scan_id=scan_id, scrapy_overrides=scrapy_overrides)
    run_id = run_crawl(settings, request, progress=progress)
    outcome = crawl_outcome(database, run_id, target=target.label)
    if outcome.status == "failed":
        message = f"crawl {outcome.target} (run {run_id}) failed: {outcome.stats.failure[:300]}"
        # A cause that answers the same way again (robots.txt, the guard, oversize pages, a redirect
        # loop, no product markup) is not retried; a timeout or a refused connection may pass.
        raise CrawlFailed(message) if outcome.stats.retryable else CrawlRefused(message)
    return outcome


# ------------------------------------------------------------------------------------------------ match


@dataclass
class MatchStats:
    """What one matching pass did.  ``outcomes`` counts :data:`services.review.OUTCOMES`;
    ``per_brand`` maps brand name -> outcome -> count (only listings that score as suspects or change)."""

    listings: int = 0
    batches: int = 0
    errors: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    per_brand: dict[str, dict[str, int]] = field(default_factory=dict)
    failed_listings: list[int] = field(default_factory=list)

    def add(self, other: MatchStats) -> MatchStats:
        merged = MatchStats(
            listings=self.listings + other.listings,
            batches=self.batches + other.batches,
            errors=self.errors + other.errors,
            outcomes=dict(Counter(self.outcomes) + Counter(other.outcomes)),
            failed_listings=self.failed_listings + other.failed_listings,
        )
        for source in (self.per_brand, other.per_brand):
            for brand, counts in source.items():
                merged.per_brand[brand] = dict(Counter(merged.per_brand.get(brand, {})) + Counter(counts))
        return merged

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchStats:
        return cls(**data)


def pending_count(database: Database) -> int:
    """Listings waiting to be matched."""
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Listing).where(Listing.needs_matching.is_(True)))


# Errors a hostile listing can provoke in scoring: counted and skipped, never stopping a batch.
_LISTING_ERRORS = (ValueError, TypeError, KeyError, IndexError, ArithmeticError, LookalikeError)


def match_pending(
    database: Database,
    *,
    settings: Settings,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int | None = None,
    config: Any = None,
    matcher: Any = None,
    logger: Any = None,
    sign_first: bool = True,
) -> MatchStats:
    """Score every listing flagged ``needs_matching`` against every brand and record the results.

    Streams: one batch of ``batch_size`` listings per transaction, loaded, scored, recorded and
    unflagged together, so memory does not grow with the number of listings and a killed run loses at
    most the batch in flight.  Batches are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
    workers running this at once share the listings instead of scoring the same ones.  A listing whose
    content changed while it was scored keeps its flag (the next pass scores the new content).  A
    listing that cannot be scored is logged, counted in ``errors`` and left flagged for the next scan.
    ``matcher``: a ready :class:`matching.Matcher` over the registered brands (default: built here from
    the database, with ``config`` and the settings' currency rates).  ``sign_first``: run the signature stage
    (:func:`services.signatures.sign_stored`) before scoring, so every stored image has its signature; the
    nightly flow runs it as its own task and passes False.
    """
    stats = MatchStats()
    if sign_first:
        sign_stored(database, settings, logger=logger)
    with database.session() as session:
        profiles = load_brand_profiles(session)
        pids = product_ids(session)
    if not profiles:
        if logger:
            logger.warning("no brands registered: nothing to match (import a registry first)")
        return stats
    names = {p.brand_id: p.name for p in profiles}
    if matcher is None:
        matcher = Matcher(profiles, config=config or MatchConfig(), rates=dict(settings.currency_rates))
    claim = database.backend == "postgresql"
    last_id = 0
    while max_batches is None or stats.batches < max_batches:
        with database.session() as session:
            stmt = (
                select(Listing)
                .where(Listing.needs_matching.is_(True), Listing.id > last_id)
                .order_by(Listing.id)
                .limit(batch_size)
                .options(*listing_load_options())
            )
            if claim:
                stmt = stmt.with_for_update(skip_locked=True, of=Listing)
            batch = list(session.scalars(stmt))
            if not batch:
                break
            last_id = batch[-1].id
            for listing in batch:
                _match_one(session, matcher, listing, pids=pids, names=names, stats=stats, logger=logger)
        stats.batches += 1
    return stats


def match_listings(session: Session, matcher: Any, listings: Iterable[Listing], *, pids: dict[tuple[int, str], int],
                   names: dict[Any, str], stats: MatchStats, logger: Any = None, clear_flag: bool = True) -> None:
    """Score ``listings`` with ``matcher`` and record each result in ``session`` (the scan's matching step,
    also used by :mod:`services.rematch` with a matcher over one brand and ``clear_flag=False``: a listing
    scored against one brand still needs its full match)."""
    for listing in listings:
        _match_one(session, matcher, listing, pids=pids, names=names, stats=stats, logger=logger,
                   clear_flag=clear_flag)


def _match_one(session: Session, matcher: Any, listing: Listing, *, pids: dict[tuple[int, str], int],
               names: dict[Any, str], stats: MatchStats, logger: Any, clear_flag: bool = True) -> None:
    scored_hash = listing.content_hash
    try:  # scoring is pure: a failure here has written nothing
        results = list(matcher.score(listing_input(listing)))
        for result in results:
            if not math.isfinite(float(result.score)) or result.klass not in KNOWN_CLASSES:
                raise ValueError(f"scorer returned score {result.score!r}, class {result.klass!r}")
    except _LISTING_ERRORS as exc:
        stats.errors += 1
        stats.failed_listings.append(listing.id)
        if logger:
            logger.warning("listing %s could not be scored: %s", listing.id, str(exc)[:300])
        return
    for result in results:
        brand_id = int(result.brand_id)
        product_id = pids.get((brand_id, result.product_sku)) if result.product_sku else None
        outcome = record_match(session, listing, Verdict.from_result(result, product_id=product_id))
        stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
        if outcome in ("created", "updated", "reopened"):
            counts = stats.per_brand.setdefault(names.get(result.brand_id, str(brand_id)), {})
            counts[outcome] = counts.get(outcome, 0) + 1
    stats.listings += 1
    if not clear_flag:
        return
    # Only the content that was scored is done: a change written meanwhile keeps the flag.
    session.execute(
        update(Listing)
        .where(Listing.id == listing.id, Listing.content_hash == scored_hash)
        .values(needs_matching=False)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------------------------------------- summary


@dataclass
class ScanSummary:
    """The numbers ``lookalike scan`` prints and the flow publishes as an artifact."""

    scan_id: str
    crawls: list[CrawlOutcome] = field(default_factory=list)
    pages: int = 0
    listings_new: int = 0
    listings_changed: int = 0
    listings_unchanged: int = 0
    listings_gone: int = 0
    listings_matched: int = 0
    match_errors: int = 0
    suspects_new: int = 0
    suspects_updated: int = 0
    suspects_reopened: int = 0
    #: brand -> {"new": n, "updated": n, "reopened": n, "open": n} (open: matches with status new)
    per_brand: dict[str, dict[str, int]] = field(default_factory=dict)
    pending: int = 0

    @property
    def failed_crawls(self) -> list[CrawlOutcome]:
        return [crawl for crawl in self.crawls if not crawl.finished]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (the flow's result): each crawl as :meth:`CrawlOutcome.as_dict`."""
        return {**asdict(self), "crawls": [crawl.as_dict() for crawl in self.crawls]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanSummary:
        return cls(**{**data, "crawls": [CrawlOutcome.from_dict(c) for c in data.get("crawls", [])]})


def scan_summary(database: Database, *, scan_id: str, crawls: Sequence[CrawlOutcome],
                 matching: MatchStats) -> ScanSummary:
    """Put the stages' counts together; ``per_brand`` also holds each brand's open (``new``) matches."""
    summary = ScanSummary(scan_id=scan_id, crawls=list(crawls))
    for crawl in crawls:
        summary.pages += crawl.stats.pages
        summary.listings_new += crawl.stats.listings.new
        summary.listings_changed += crawl.stats.listings.changed_or_reappeared
        summary.listings_unchanged += crawl.stats.listings.unchanged
        summary.listings_gone += crawl.stats.listings.gone
    summary.listings_matched = matching.listings
    summary.match_errors = matching.errors
    summary.suspects_new = matching.outcomes.get("created", 0)
    summary.suspects_updated = matching.outcomes.get("updated", 0)
    summary.suspects_reopened = matching.outcomes.get("reopened", 0)
    with database.session() as session:
        open_counts = dict(session.execute(
            select(Brand.name, func.count(Match.id))
            .join(Match, Match.brand_id == Brand.id)
            .where(Match.status == "new")
            .group_by(Brand.name)
        ).all())
        brands = list(session.scalars(select(Brand.name).order_by(Brand.name)))
        summary.pending = session.scalar(
            select(func.count()).select_from(Listing).where(Listing.needs_matching.is_(True)))
    for brand in brands:
        counts = matching.per_brand.get(brand, {})
        summary.per_brand[brand] = {
            "new": counts.get("created", 0),
            "updated": counts.get("updated", 0),
            "reopened": counts.get("reopened", 0),
            "open": int(open_counts.get(brand, 0)),
        }
    return summary


def summary_rows(summary: ScanSummary) -> list[dict[str, Any]]:
    """The per-brand table (one dict per brand) for artifacts and the CLI."""
    return [{"brand": brand, **counts} for brand, counts in summary.per_brand.items()]


def summary_lines(summary: ScanSummary) -> list[str]:
    """The summary as plain lines (logs and the CLI)."""
    lines = [
        f"scan {summary.scan_id}: {len(summary.crawls)} crawl(s), {summary.pages} pages",
        f"listings: {summary.listings_new} new, {summary.listings_changed} changed, "
        f"{summary.listings_unchanged} unchanged, {summary.listings_gone} gone; {summary.listings_matched} matched"
        + (f", {summary.match_errors} could not be scored" if summary.match_errors else "")
        + (f", {summary.pending} still pending" if summary.pending else ""),
        f"suspects: {summary.suspects_new} new, {summary.suspects_updated} updated, "
        f"{summary.suspects_reopened} reopened",
    ]
    for crawl in summary.failed_crawls:
        lines.append(f"crawl {crawl.target}: {crawl.status}")
    for row in summary_rows(summary):
        lines.append(f"  {row['brand']}: {row['new']} new, {row['updated']} updated, "
                     f"{row['reopened']} reopened, {row['open']} open")
    return lines

