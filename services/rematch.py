"""Re-matching stored listings against one brand: a brand registered after the crawl gets its matches at
once, without a new crawl.

The scan scores only new and changed listings (``needs_matching``), so a brand registered later, or a
product whose names or photos changed, would never be scored against what is already stored.  Here:

- :func:`queue_rematch` records a :class:`storage.models.RematchJob` for a brand: every listing stored so
  far (ids up to the newest one) is to be scored against that brand alone.  The registry import queues
  one for every brand it created or whose marks, keywords, products, names, photos or thresholds
  changed (:func:`queue_after_import`); ``lookalike match --brand B`` / ``--all`` queue on demand.
- :func:`run_rematch_jobs` runs the pending jobs: batches of listings in id order, each scored with a
  matcher over the job's brand (the scan's own :func:`services.scan.match_listings`) and recorded in one
  transaction with the job's cursor and progress, so a killed run resumes at the next batch.  The nightly
  scan runs it after its own matching.

A job left ``running`` by a killed process is picked up again.  Gone listings are skipped (nothing to
report); listings still flagged ``needs_matching`` are skipped too (the scan's matching scores them
against every brand anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import LookalikeError
from core.settings import Settings
from matching.config import MatchConfig
from matching.matcher import Matcher
from services.matchdata import listing_load_options, load_brand_profiles, product_ids
from services.registry.changes import Change, ChangeKind
from services.scan import DEFAULT_BATCH_SIZE, MatchStats, match_listings
from storage.db import Database
from storage.models import Brand, Listing, RematchJob, utcnow

#: Kinds of registry change that do not change what a brand matches.
NO_MATCH_EFFECT = frozenset({ChangeKind.OWNER, ChangeKind.DIGEST, ChangeKind.DOMAINS})

ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass
class RematchStats:
    """What :func:`run_rematch_jobs` did: jobs finished, listings scored and matching outcomes."""

    jobs: int = 0
    listings: int = 0
    errors: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    per_brand: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_match_stats(self) -> MatchStats:
        """The same counts as the scan's :class:`services.scan.MatchStats` (to add to its summary)."""
        return MatchStats(listings=self.listings, errors=self.errors, outcomes=dict(self.outcomes),
                          per_brand={b: dict(c) for b, c in self.per_brand.items()})


def queue_rematch(session: Session, brand: Brand, *, reason: str) -> RematchJob:
    """Queue a re-match of every listing stored so far against ``brand``; returns the job.

    A pending job of the brand is widened to the listings stored now instead of queuing a second one.
    """
    newest = session.scalar(select(func.max(Listing.id))) or 0
    pending = session.scalar(select(RematchJob).where(RematchJob.brand_id == brand.id,
                                                      RematchJob.status == "pending"))
    if pending is not None:
        pending.upto_listing_id = max(pending.upto_listing_id, newest)
        if reason not in pending.reason:
            pending.reason = f"{pending.reason}; {reason}"[:200]
        return pending
    job = RematchJob(brand_id=brand.id, reason=reason[:200], status="pending", upto_listing_id=newest,
                     last_listing_id=0, total=0, done=0, errors=0)
    session.add(job)
    session.flush()
    return job


def brands_to_rematch(changes: Iterable[Change]) -> dict[str, str]:
    """``{brand name: reason}`` for the brands whose registry changes can change their matches.

    ``changes`` are an import's :class:`services.registry.changes.Change` records; a brand created is
    ``brand registered``, any other change of a kind in :data:`NO_MATCH_EFFECT` is ``registry changed``.
    """
    wanted: dict[str, str] = {}
    for change in changes:
        if change.brand is None or change.kind in NO_MATCH_EFFECT:
            continue
        if change.kind is ChangeKind.CREATED:
            wanted[change.brand] = "brand registered"
        else:
            wanted.setdefault(change.brand, "registry changed")
    return wanted


def queue_after_import(session: Session, changes: Iterable[Change]) -> list[RematchJob]:
    """Queue a re-match for every brand of an import whose changes can change its matches (call in the
    import's transaction, after its flush)."""
    wanted = brands_to_rematch(changes)
    if not wanted:
        return []
    brands = session.scalars(select(Brand).where(Brand.name.in_(list(wanted))).order_by(Brand.id))
    return [queue_rematch(session, brand, reason=wanted[brand.name]) for brand in brands]


def queue_on_demand(database: Database, *, brand: str | None = None) -> list[int]:
    """``lookalike match --brand B`` (one brand) or ``--all`` (``brand=None``): queue and return job ids.

    Raises ``LookalikeError`` for an unknown brand or an empty registry."""
    with database.session() as session:
        stmt = select(Brand).order_by(Brand.id)
        if brand is not None:
            stmt = stmt.where(Brand.name == brand)
        brands = list(session.scalars(stmt))
        if not brands:
            if brand is not None:
                raise LookalikeError(f"no brand named {brand[:200]!r} (see: lookalike brands list)")
            raise LookalikeError("no brands registered: import a registry first (lookalike brands import FILE)")
        return [queue_rematch(session, b, reason="on demand").id for b in brands]


def pending_jobs(database: Database) -> list[dict[str, Any]]:
    """Jobs not finished yet, oldest first, as dicts (id, brand, reason, status, done, total)."""
    with database.session() as session:
        rows = session.execute(
            select(RematchJob, Brand.name).join(Brand, Brand.id == RematchJob.brand_id)
            .where(RematchJob.status.in_(("pending", "running"))).order_by(RematchJob.id)
        ).all()
        return [_job_dict(job, name) for job, name in rows]


def _job_dict(job: RematchJob, brand: str) -> dict[str, Any]:
    return {"id": job.id, "brand": brand, "reason": job.reason, "status": job.status, "done": job.done,
            "total": job.total, "errors": job.errors}


def _candidates(job: RematchJob) -> Any:
    return select(Listing).where(
        Listing.id > job.last_listing_id, Listing.id <= job.upto_listing_id,
        Listing.status == "active", Listing.needs_matching.is_(False),
    )


def run_rematch_jobs(
    database: Database,
    *,
    settings: Settings,
    batch_size: int = DEFAULT_BATCH_SIZE,
    config: Any = None,
    progress: ProgressCallback | None = None,
    logger: Any = None,
) -> RematchStats:
    """Run every pending (or interrupted) job to the end; ``progress`` gets the job's dict after each batch.

    Each batch (``batch_size`` listings) is scored, recorded and the job's cursor moved in one
    transaction.  A job whose brand was deleted disappears with it (the foreign key cascades)."""
    stats = RematchStats()
    with database.session() as session:
        job_ids = list(session.scalars(select(RematchJob.id).where(
            RematchJob.status.in_(("pending", "running"))).order_by(RematchJob.id)))
    for job_id in job_ids:
        with database.session() as session:
            job = session.get(RematchJob, job_id)
            if job is None or job.status not in ("pending", "running"):
                continue
            profile = next((p for p in load_brand_profiles(session) if p.brand_id == job.brand_id), None)
            pids = product_ids(session)
            if job.status == "pending":
                job.status, job.started_at = "running", utcnow()
                job.total = session.scalar(select(func.count()).select_from(_candidates(job).subquery())) or 0
        if profile is None:
            continue
        matcher = Matcher([profile], config=config or MatchConfig(), rates=dict(settings.currency_rates))
        names = {profile.brand_id: profile.name}
        while True:
            batch_stats = MatchStats()
            with database.session() as session:
                job = session.get(RematchJob, job_id)
                batch = list(session.scalars(_candidates(job).order_by(Listing.id).limit(batch_size)
                                             .options(*listing_load_options())))
                if not batch:
                    job.status, job.finished_at = "done", utcnow()
                    job.total = max(job.total, job.done)
                    info = _job_dict(job, profile.name)
                    break
                match_listings(session, matcher, batch, pids=pids, names=names, stats=batch_stats,
                               logger=logger, clear_flag=False)
                job.last_listing_id = batch[-1].id
                job.done += len(batch)
                job.errors += batch_stats.errors
                info = _job_dict(job, profile.name)
            _add(stats, batch_stats)
            if progress:
                progress(info)
        stats.jobs += 1
        if progress:
            progress(info)
        if logger:
            logger.info("re-match of %s done: %d listings, %d errors", profile.name, info["done"], info["errors"])
    return stats


def _add(total: RematchStats, batch: MatchStats) -> None:
    total.listings += batch.listings
    total.errors += batch.errors
    for outcome, count in batch.outcomes.items():
        total.outcomes[outcome] = total.outcomes.get(outcome, 0) + count
    for brand, counts in batch.per_brand.items():
        mine = total.per_brand.setdefault(brand, {})
        for outcome, count in counts.items():
            mine[outcome] = mine.get(outcome, 0) + count
