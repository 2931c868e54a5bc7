"""The registry as discovery sees it, and candidates stored with their audit trail.

:func:`domain_matcher` builds one :class:`matching.domains.DomainMatcher` from the brands in the database
(marks, trade words, official domains); :func:`record_hits` stores what a feed found: one
``domain_candidates`` row per (brand, domain), its feeds and first/last seen kept, every change written to
``domain_events``.  A dismissed candidate stays dismissed until its fingerprint changes
(:func:`note_change`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matching.config import MatchConfig
from matching.domains import DomainBrand, DomainHit, DomainMatcher
from matching.lexicon import Lexicon, everyday_lexicon
from storage.models import Brand, DomainCandidate, DomainEvent, utcnow

SYSTEM_ACTOR = "discovery"


def domain_brands(session: Session) -> list[DomainBrand]:
    """Every registered brand as plain data for the domain matcher."""
    brands = session.scalars(select(Brand).options(selectinload(Brand.marks), selectinload(Brand.products))
                             .order_by(Brand.id)).all()
    out = []
    for brand in brands:
        marks = tuple(m.text for m in sorted(brand.marks, key=lambda m: (m.kind != "name", m.id or 0)))
        words = [*brand.keywords, brand.category or "",
                 *(w for p in brand.products for w in p.name.split())]
        out.append(DomainBrand(brand_id=brand.id, name=brand.name, marks=marks,
                               official_domains=tuple(brand.official_domains or ()),
                               keywords=tuple(w for w in words if w)))
    return out


def domain_matcher(session: Session, *, min_score: float | None = None,
                   is_word: Callable[[str], bool] | None = None) -> DomainMatcher:
    """A matcher over the database's brands.  ``is_word``: dictionary words (default: the everyday lexicon
    of the listing matcher); marks are ordinary words by the matcher's English lexicon.  ``min_score``: the
    ``discovery_min_score`` setting (default: :class:`~matching.domains.DomainConfig`'s)."""
    everyday = everyday_lexicon()
    defaults = MatchConfig().domains
    config = dataclasses.replace(defaults, min_score=min_score) if min_score is not None else defaults
    return DomainMatcher(domain_brands(session), is_word=is_word or everyday.is_ordinary,
                         is_ordinary=Lexicon().is_ordinary, is_attested=None if is_word else everyday.is_attested,
                         config=config)


def audit(session: Session, candidate: DomainCandidate, action: str, detail: str = "", *,
           actor: str = SYSTEM_ACTOR, now: dt.datetime | None = None) -> None:
    session.add(DomainEvent(candidate_id=candidate.id, actor=actor[:200], action=action, detail=detail[:1000],
                            at=now or utcnow()))


def record_hits(session: Session, hits: Iterable[DomainHit], *, feed: str, now: dt.datetime | None = None,
                resolved_at: dt.datetime | None = None,
                certificate: str | None = None) -> list[DomainCandidate]:
    """Store each hit as a candidate of its brand (new, or seen again by ``feed``); returns the new ones.

    ``resolved_at``: when the name was seen to resolve (permutations); ``certificate``: the SHA-256 of the
    certificate it was seen in (CT), a part of the fingerprint."""
    now = now or utcnow()
    created = []
    for hit in hits:
        candidate = session.scalar(select(DomainCandidate).where(
            DomainCandidate.brand_id == hit.brand_id, DomainCandidate.domain == hit.domain))
        if candidate is None:
            candidate = DomainCandidate(
                brand_id=hit.brand_id, domain=hit.domain, ascii_domain=hit.ascii_domain, feeds=[feed],
                mark=hit.mark[:200], disguise=hit.disguise[:40], score=hit.score, reasons=list(hit.reasons),
                first_seen=now, last_seen=now, first_resolved=resolved_at, status="new", kind="unchecked",
                check={}, fingerprint="")
            session.add(candidate)
            session.flush()
            audit(session, candidate, "found", f"{feed}: {hit.disguise} {hit.mark!r}, score {hit.score:.2f}",
                   now=now)
            created.append(candidate)
            if certificate:
                note_change(session, candidate, "certificate", certificate, "a new certificate", now=now)
            continue
        candidate.last_seen = now
        if feed not in candidate.feeds:
            candidate.feeds = [*candidate.feeds, feed][:20]
            audit(session, candidate, "seen", f"also in {feed}", now=now)
        if resolved_at is not None and candidate.first_resolved is None:
            candidate.first_resolved = resolved_at
        if hit.score > candidate.score:
            candidate.score, candidate.reasons = hit.score, list(hit.reasons)
        if certificate:
            note_change(session, candidate, "certificate", certificate, "a new certificate", now=now)
    return created


def note_change(session: Session, candidate: DomainCandidate, part: str, value: str, what: str, *,
                now: dt.datetime | None = None) -> None:
    """Record one part of what the domain looks like now (``certificate``, ``addresses``, ``home_page``).

    The candidate's fingerprint sums up the parts; a dismissed candidate whose fingerprint is no longer the
    one it was dismissed with comes back as ``new``, and ``what`` (``a new certificate``) says why."""
    parts = dict((candidate.check or {}).get("parts") or {})
    if parts.get(part) == value:
        return
    parts[part] = value[:200]
    candidate.check = {**(candidate.check or {}), "parts": parts}
    candidate.fingerprint = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    if candidate.status == "dismissed" and candidate.dismissed_fingerprint != candidate.fingerprint:
        candidate.status = "new"
        audit(session, candidate, "reopened", f"changed since dismissed: {what}", now=now)
