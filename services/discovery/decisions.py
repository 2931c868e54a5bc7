"""What operators do with candidates: list them (owners see only their brands'), approve one (it becomes a
crawl target for the next night, see :func:`approved_targets`), dismiss one (until it changes, see
:func:`services.discovery.candidates.note_change`).  Every decision is written to ``domain_events``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from core.errors import LookalikeError
from services.accounts import Principal
from storage.models import DOMAIN_STATUSES, Brand, DomainCandidate, DomainEvent, utcnow

#: Candidate classes the liveness check sets (``unchecked`` until it runs).
DOMAIN_KINDS = ("unchecked", "shop", "parked", "for_sale", "redirects_official", "internal", "unreachable",
                "other")


@dataclass(frozen=True, slots=True)
class CandidateFilter:
    """Filters of the Domains list: brand (name or id), feed prefix (``ct``, ``nrd``, ``permutation``), class,
    status, lowest score, first seen on or after."""

    brand: str | None = None
    feed: str | None = None
    kind: str | None = None
    status: str | None = None
    min_score: float | None = None
    seen_since: dt.datetime | None = None


def _scoped(query: Select, principal: Principal | None) -> Select:
    """Only the brands ``principal`` may see (None: the operator at the command line, every brand)."""
    if principal is not None and principal.brand_ids is not None:
        query = query.where(DomainCandidate.brand_id.in_(sorted(principal.brand_ids) or [-1]))
    return query


def list_candidates(session: Session, filters: CandidateFilter = CandidateFilter(), *,
                    principal: Principal | None = None, limit: int = 500) -> list[DomainCandidate]:
    """Candidates matching ``filters``, best score first, newest first among equals."""
    if filters.status is not None and filters.status not in DOMAIN_STATUSES:
        raise LookalikeError(f"unknown status {filters.status!r}: use one of {', '.join(DOMAIN_STATUSES)}")
    if filters.kind is not None and filters.kind not in DOMAIN_KINDS:
        raise LookalikeError(f"unknown class {filters.kind!r}: use one of {', '.join(DOMAIN_KINDS)}")
    query = select(DomainCandidate).join(Brand).options(joinedload(DomainCandidate.brand))
    query = _scoped(query, principal)
    if filters.brand:
        key = filters.brand.strip()
        query = query.where(Brand.id == int(key)) if key.isdigit() else query.where(Brand.name == key)
    if filters.kind:
        query = query.where(DomainCandidate.kind == filters.kind)
    if filters.status:
        query = query.where(DomainCandidate.status == filters.status)
    if filters.min_score is not None:
        query = query.where(DomainCandidate.score >= filters.min_score)
    if filters.seen_since is not None:
        query = query.where(DomainCandidate.first_seen >= filters.seen_since)
    query = query.order_by(DomainCandidate.score.desc(), DomainCandidate.first_seen.desc(), DomainCandidate.id)
    rows = list(session.scalars(query.limit(max(1, min(limit, 5000)) * (4 if filters.feed else 1))))
    if filters.feed:
        rows = [c for c in rows if any(f == filters.feed or f.startswith(filters.feed + ":") for f in c.feeds)]
    return rows[:limit]


def get_candidate(session: Session, ref: str | int, *, principal: Principal | None = None) -> DomainCandidate:
    """A candidate by id, or by domain when exactly one brand has it; ``LookalikeError`` otherwise (also for
    a candidate of a brand ``principal`` may not see: the message does not say it exists)."""
    text = str(ref).strip()
    query = _scoped(select(DomainCandidate), principal)
    if text.isdigit():
        rows = list(session.scalars(query.where(DomainCandidate.id == int(text))))
    else:
        rows = list(session.scalars(query.where(
            (DomainCandidate.domain == text.lower()) | (DomainCandidate.ascii_domain == text.lower()))))
    if not rows:
        raise LookalikeError(f"no candidate domain {text[:100]!r}")
    if len(rows) > 1:
        raise LookalikeError(f"{text[:100]!r} is a candidate of {len(rows)} brands: give its id "
                             f"({', '.join(str(c.id) for c in rows)})")
    return rows[0]


def _decide(session: Session, candidate: DomainCandidate, status: str, *, actor: str, note: str | None,
            principal: Principal | None) -> DomainCandidate:
    if principal is not None and not principal.can_decide:
        raise LookalikeError("owners can look at candidates; analysts and admins decide")
    before = candidate.status
    candidate.status = status
    candidate.decided_at = utcnow()
    candidate.decided_by = actor[:200]
    if status == "dismissed":
        candidate.dismissed_fingerprint = candidate.fingerprint
    detail = f"{before} -> {status}" + (f": {note.strip()[:500]}" if note and note.strip() else "")
    session.add(DomainEvent(candidate_id=candidate.id, actor=actor[:200], action=status, detail=detail))
    session.flush()
    return candidate


def approve(session: Session, ref: str | int, *, actor: str, note: str | None = None,
            principal: Principal | None = None) -> DomainCandidate:
    """Approve a candidate: the next night crawls it as a shop (:func:`approved_targets`)."""
    return _decide(session, get_candidate(session, ref, principal=principal), "approved", actor=actor,
                   note=note, principal=principal)


def dismiss(session: Session, ref: str | int, *, actor: str, note: str | None = None,
            principal: Principal | None = None) -> DomainCandidate:
    """Dismiss a candidate until it changes (a new certificate, a new address, a changed home page)."""
    return _decide(session, get_candidate(session, ref, principal=principal), "dismissed", actor=actor,
                   note=note, principal=principal)


def history(session: Session, candidate_id: int) -> Sequence[DomainEvent]:
    return session.scalars(select(DomainEvent).where(DomainEvent.candidate_id == candidate_id)
                           .order_by(DomainEvent.at, DomainEvent.id)).all()


def start_url(candidate: DomainCandidate) -> str:
    """Where a crawl of the candidate starts: the home page the liveness check reached, else https."""
    final = (candidate.check or {}).get("final_url")
    if isinstance(final, str) and final.startswith(("http://", "https://")):
        return final
    return f"https://{candidate.ascii_domain}/"


def approved_start_urls(session: Session) -> list[str]:
    """The start URL of every approved candidate (one per domain), for the scan plan."""
    rows = session.scalars(select(DomainCandidate).where(DomainCandidate.status == "approved")
                           .order_by(DomainCandidate.decided_at, DomainCandidate.id)).all()
    return list(dict.fromkeys(start_url(c) for c in rows))
