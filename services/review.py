"""The review queue: how scan results become matches, and how analysts move them through their statuses.

Rules (``docs/review.md`` tells the same story for analysts):

- A match is created once per (listing, brand), with status ``new``, and updated on later nights.
  Creation is an ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (listing_id, brand_id) constraint,
  followed by a locking ``SELECT``, so two workers scoring the same listing at once on PostgreSQL end
  with one match and no ``IntegrityError``.
- A ``dismissed`` match stays dismissed unless the listing changed *materially* since it was last scored
  (new title, new price or currency, a new image or a replaced image); then it comes back as ``new`` and
  ``Match.changes`` says what changed, in sentences.
- ``confirmed``, ``reported`` and ``removed`` matches keep their status and history; their score,
  class, reasons and evidence are refreshed.
- A clean result (class ``clean``/``genuine``, or a score below ``min_score``) never creates a match and
  never deletes one: an existing match gets the new score and reasons and keeps its status.
- Accessory and resale matches are created like suspects (an analyst may want to see them) but the queue
  ranks them below every suspect (:func:`services.queries.queue_order`), and a takedown notice may not name them unless
  forced (:func:`may_report`, :data:`NOTICE_SAFE_CLASSES`).
- ``Match.evidence`` holds the evidence the score came from (``matching.evidence.Evidence.to_json()``
  dicts: spans to highlight, disguise names, image regions, each signal's details), refreshed with the
  score; it is the one stored form of the findings (the review app, digests and takedowns read it back
  with ``evidence_from_json``). ``Match.reasons`` keeps the scorer's sentences, strongest first.
- Every status change writes a ``MatchEvent`` (who, when, from, to, note); so does a change of the
  listing seen on a match that keeps its status (``from_status == to_status``, the note says what changed).

To describe changes, the listing fields that were scored are kept in ``Match.review_snapshot``, built by
:func:`storage.listing_content.review_snapshot` from the same field list and price rule as the crawl's
``listings.content_hash``, so "the listing changed" and "changed since the last review" agree::

    {"title": str | None, "price": "24" | None, "currency": "USD" | None, "seller": str | None,
     "image_urls": [str, ...], "image_sha256": {url: sha256}, "description_sha256": hex | None}

``description_sha256`` is the sha256 of the description with whitespace collapsed (the description
itself is not copied).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import LookalikeError
from core.money import money_text
from core.text import one_line
from core.times import as_utc
from matching.evidence import Evidence, evidence_to_json
from matching.model import CLEAN_CLASSES, MatchResult
from matching.model import NOTICE_SAFE_CLASSES as NOTICE_SAFE_CLASSES  # re-exported for the takedown guard
from matching.model import may_report as may_report  # re-exported for the takedown guard
from services.queries import check_status, find_brand_id, queue_order
from storage.db import insert_or_ignore
from storage.listing_content import price_key, review_snapshot, stored_price
from storage.models import Brand, Listing, Match, MatchEvent, Product, utcnow
from storage.vocabulary import MATCH_STATUSES

#: Outcomes of :func:`record_match`.
OUTCOMES = ("created", "updated", "unchanged", "reopened", "suppressed")
#: Who the scan is, in the audit log.
SCAN_ACTOR = "lookalike"
#: Status changes an analyst (or the recheck flow) may make; ``new`` is also set by the scan on reopening.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"confirmed", "dismissed", "reported", "removed"}),
    "confirmed": frozenset({"new", "dismissed", "reported", "removed"}),
    "dismissed": frozenset({"new", "confirmed", "reported"}),
    "reported": frozenset({"confirmed", "removed"}),
    "removed": frozenset({"reported"}),
}

#: Where rows scored before migration 0010 kept the snapshot (inside the dropped ``signals``); 0010 moved it to
#: ``Match.review_snapshot``. (``review show`` still skips the key; it no longer occurs.)
SNAPSHOT_KEY = "listing_snapshot"
MAX_CHANGES = 30  # sentences kept in Match.changes
MAX_REASONS = 50
MAX_EVIDENCE = 30  # evidence records kept per match
MAX_TEXT = 1000  # characters kept per reason / note
MAX_QUOTED = 160  # characters of a title or seller quoted in a change sentence


# --------------------------------------------------------------------------------------------- snapshots


def _collapse(text: str | None) -> str:
    """Whitespace collapsed and invisible characters (zero-width, bidi marks) dropped (:func:`core.text.one_line`)."""
    return one_line(text)


def _price_text(price: Decimal | str | None) -> str | None:
    """A snapshot's price as a sentence shows it (``24.00``)."""
    value = stored_price(price)
    return None if value is None else f"{value:.2f}"


def _quote(text: str | None) -> str:
    text = one_line(text, MAX_QUOTED)
    return f"'{text}'" if text else "(none)"


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], bool]:
    """Compare two listing snapshots: (readable sentences, whether any change is material).

    Material: the title changed (beyond whitespace and invisible characters), the price (by the content
    hash's rule, :func:`storage.listing_content.price_key`) or currency changed, an image URL appeared, or an
    image at the same URL has new content. Described but not material: seller, description text, an image
    removed.
    """
    sentences: list[str] = []
    material = False
    if _collapse(old.get("title")) != _collapse(new.get("title")):
        sentences.append(f"title changed from {_quote(old.get('title'))} to {_quote(new.get('title'))}")
        material = True
    if (price_key(old.get("price")), old.get("currency")) != (price_key(new.get("price")), new.get("currency")):
        sentences.append(
            f"price changed from {money_text(_price_text(old.get('price')), old.get('currency'), missing='no price')} "
            f"to {money_text(_price_text(new.get('price')), new.get('currency'), missing='no price')}"
        )
        material = True
    old_urls = list(old.get("image_urls") or [])
    new_urls = list(new.get("image_urls") or [])
    old_set, new_set = set(old_urls), set(new_urls)
    old_sha = old.get("image_sha256") or {}
    new_sha = new.get("image_sha256") or {}
    for url in new_urls:
        if url not in old_set:
            sentences.append(f"new image {url}")
            material = True
        elif old_sha.get(url) and new_sha.get(url) and old_sha[url] != new_sha[url]:
            sentences.append(f"image replaced at {url}")
            material = True
    sentences.extend(f"image removed {url}" for url in old_urls if url not in new_set)
    if _collapse(old.get("seller")) != _collapse(new.get("seller")):
        sentences.append(f"seller changed from {_quote(old.get('seller'))} to {_quote(new.get('seller'))}")
    if old.get("description_sha256") != new.get("description_sha256"):
        sentences.append("description changed")
    return sentences, material


# ------------------------------------------------------------------------------------------ recording


@dataclass(frozen=True, slots=True)
class Verdict:
    """Tonight's result of scoring one listing against one brand, as :func:`record_match` stores it.

    ``score`` is 0..1; ``klass`` is the scorer's class (:data:`matching.model.CLASSES`, or ``genuine``);
    ``evidence`` the findings it came from; ``reasons`` sentences."""

    brand_id: int
    product_id: int | None
    score: float
    klass: str
    evidence: tuple[Evidence, ...] = ()
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_result(cls, result: MatchResult, *, product_id: int | None) -> Verdict:
        """A scorer's :class:`~matching.model.MatchResult` for a stored brand (``brand_id`` an int)."""
        return cls(brand_id=int(result.brand_id), product_id=product_id, score=result.score, klass=result.klass,
                   evidence=tuple(result.evidence), reasons=tuple(result.reasons))

    def is_clean(self, min_score: float | None) -> bool:
        """Clean: the class is in :data:`CLEAN_CLASSES`, or the score is below ``min_score``."""
        return self.klass in CLEAN_CLASSES or (min_score is not None and self.score < min_score)


@dataclass(frozen=True, slots=True)
class _Stored:
    """A verdict and the listing in the forms the match row holds (JSON round-tripped, bounded)."""

    score: float
    klass: str
    product_id: int | None
    reasons: list[str]
    evidence: list[dict[str, Any]]
    snapshot: dict[str, Any]


def _finite(value: Any) -> Any:
    """Non-finite floats (NaN, infinity) become ``None``: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_finite(v) for v in value]
    return value


def _as_json(value: Any) -> Any:
    """A JSON round trip, so stored values compare equal to what is read back (tuples, Decimals...)."""
    return _finite(json.loads(json.dumps(_finite(value), default=str)))


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _event(session: Session, match: Match, *, actor: str, from_status: str | None, to_status: str,
           note: str | None, at: dt.datetime) -> None:
    session.add(MatchEvent(match_id=match.id, at=at, actor=_clip(actor, 200), from_status=from_status,
                           to_status=to_status, note=_clip(note) if note else None))


def _stored(listing: Listing, verdict: Verdict) -> _Stored:
    """Validate a verdict (``LookalikeError`` for a listing without id, a bad class or score) and bring it into
    its stored form."""
    if listing.id is None:
        raise LookalikeError("record_match needs a stored listing (flush it first)")
    if not verdict.klass or len(verdict.klass) > 20:
        raise LookalikeError(f"invalid match class {verdict.klass!r}")
    score = float(verdict.score)
    if not math.isfinite(score):
        raise LookalikeError(f"invalid score {score!r} for listing {listing.id}")
    return _Stored(
        score=score, klass=verdict.klass, product_id=verdict.product_id,
        reasons=[_clip(str(r)) for r in list(verdict.reasons)[:MAX_REASONS]],
        evidence=_as_json(evidence_to_json(verdict.evidence[:MAX_EVIDENCE])),
        snapshot=review_snapshot(listing),
    )


def _locked_match(session: Session, listing_id: int, brand_id: int) -> Match | None:
    stmt = (
        select(Match)
        .where(Match.listing_id == listing_id, Match.brand_id == brand_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one_or_none()


def _create(session: Session, listing: Listing, brand_id: int, stored: _Stored, *, actor: str,
            now: dt.datetime) -> bool:
    """Insert the match (status ``new``) with its first event; False when another worker created it first."""
    new_id = insert_or_ignore(session, Match, {
        "listing_id": listing.id, "brand_id": brand_id, "product_id": stored.product_id, "score": stored.score,
        "klass": stored.klass, "reasons": stored.reasons,
        "evidence": stored.evidence, "review_snapshot": stored.snapshot, "status": "new",
        "listing_content_hash": listing.content_hash,
        "changes": [], "created_at": now, "updated_at": now,
    }, conflict=["listing_id", "brand_id"])
    if new_id is None:
        return False
    created = session.get(Match, new_id, populate_existing=True)
    assert created is not None
    _event(session, created, actor=actor, from_status=None, to_status="new", at=now,
           note=f"found by scan: score {stored.score:.2f} ({stored.klass})")
    return True


def _listing_changes(match: Match, listing: Listing, snapshot: dict[str, Any]) -> tuple[list[str], bool]:
    """What changed in the listing since the match was last scored: (sentences, whether material)."""
    if match.listing_content_hash == listing.content_hash:
        return [], False
    old_snapshot = match.review_snapshot
    if isinstance(old_snapshot, dict):
        return describe_changes(old_snapshot, snapshot)
    return ["listing changed (no earlier copy to compare)"], True  # scored before snapshots existed


def _scoring_changed(match: Match, stored: _Stored) -> bool:
    return (
        not math.isclose(match.score, stored.score, abs_tol=1e-9)
        or match.klass != stored.klass
        or match.product_id != stored.product_id
        or list(match.reasons or []) != stored.reasons
        or list(match.evidence or []) != stored.evidence
        or match.review_snapshot != stored.snapshot
    )


def _refresh(match: Match, listing: Listing, stored: _Stored, sentences: list[str], now: dt.datetime) -> None:
    match.score, match.klass, match.product_id = stored.score, stored.klass, stored.product_id
    match.reasons, match.evidence = stored.reasons, stored.evidence
    match.review_snapshot = stored.snapshot
    match.listing_content_hash = listing.content_hash
    match.updated_at = now
    if sentences:
        match.changes = (list(match.changes or []) + sentences)[-MAX_CHANGES:]


def _after_refresh(session: Session, match: Match, *, clean: bool, material: bool, sentences: list[str],
                   actor: str, now: dt.datetime) -> str:
    """The status rule after a refresh: a dismissed match reopens on a material change of a suspect; any
    other match keeps its status and logs what changed in the listing."""
    if match.status == "dismissed":
        if material and not clean:
            match.status = "new"
            _event(session, match, actor=actor, from_status="dismissed", to_status="new", at=now,
                   note="reopened: " + "; ".join(sentences))
            return "reopened"
        return "suppressed"
    if sentences:
        _event(session, match, actor=actor, from_status=match.status, to_status=match.status, at=now,
               note="listing changed: " + "; ".join(sentences))
    return "updated"


def record_match(
    session: Session,
    listing: Listing,
    verdict: Verdict,
    *,
    actor: str = SCAN_ACTOR,
    now: dt.datetime | None = None,
    min_score: float | None = None,
) -> str:
    """Record tonight's ``verdict`` on ``listing``; returns the outcome (:data:`OUTCOMES`).

    ``created`` (a new match, status ``new``), ``updated`` (score, evidence, reasons or listing changed; status
    kept), ``unchanged`` (nothing to write), ``reopened`` (a dismissed match came back as ``new`` after a
    material change), ``suppressed`` (nothing was put in front of an analyst: a clean verdict with no match, or
    a dismissed match refreshed without reopening). A verdict is clean per :meth:`Verdict.is_clean`.
    The listing must be flushed (have an id). Writes happen in the caller's transaction, and the match row
    stays locked until it ends (PostgreSQL): a worker recording many matches in one transaction should take
    them in a stable order (listing id, then brand id) so that two workers cannot deadlock.
    """
    stored = _stored(listing, verdict)
    now = now or utcnow()
    clean = verdict.is_clean(min_score)
    match = _locked_match(session, listing.id, verdict.brand_id)
    if match is None:
        if clean:
            return "suppressed"
        if _create(session, listing, verdict.brand_id, stored, actor=actor, now=now):
            return "created"
        match = _locked_match(session, listing.id, verdict.brand_id)  # another worker was first: update it
        assert match is not None
    sentences, material = _listing_changes(match, listing, stored.snapshot)
    if not sentences and match.listing_content_hash == listing.content_hash and not _scoring_changed(match, stored):
        return "unchanged"
    _refresh(match, listing, stored, sentences, now)
    return _after_refresh(session, match, clean=clean, material=material, sentences=sentences, actor=actor, now=now)


# -------------------------------------------------------------------------------------- analyst actions


def set_status(session: Session, match_id: int, to_status: str, *, actor: str, note: str | None = None) -> Match:
    """Move a match to ``to_status`` (see ``TRANSITIONS``), writing the audit event; returns the match.

    A status change by a person also clears ``Match.changes`` (they have now seen them; the event log
    keeps them). Raises ``LookalikeError`` for an unknown match, an unknown status, or a transition
    that is not allowed.
    """
    if to_status not in MATCH_STATUSES:
        raise LookalikeError(f"unknown status {to_status!r}: choose one of {', '.join(MATCH_STATUSES)}")
    if not actor or not actor.strip():
        raise LookalikeError("a status change needs an actor (--by NAME)")
    match = session.scalars(
        select(Match).where(Match.id == match_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if match is None:
        raise LookalikeError(f"no match with id {match_id}")
    if match.status == to_status:
        raise LookalikeError(f"match {match_id} is already {to_status}")
    allowed = TRANSITIONS.get(match.status, frozenset())
    if to_status not in allowed:
        choices = ", ".join(sorted(allowed)) or "nothing"
        raise LookalikeError(f"match {match_id} is {match.status}: it can go to {choices}, not {to_status}")
    now = utcnow()
    _event(session, match, actor=actor.strip(), from_status=match.status, to_status=to_status, note=note, at=now)
    match.status = to_status
    match.updated_at = now
    if actor.strip() != SCAN_ACTOR:
        match.changes = []
    return match


# ------------------------------------------------------------------------------------------- queries


def find_brand(session: Session, brand: str | int) -> Brand:
    """A brand by id or by name (case-insensitive); ``LookalikeError`` when there is none."""
    return session.get_one(Brand, find_brand_id(session, brand))


def list_matches(
    session: Session,
    *,
    brand: str | int | None = None,
    status: str | None = None,
    min_score: float | None = None,
    since: dt.datetime | dt.date | None = None,
    limit: int | None = None,
    created_since: dt.datetime | dt.date | None = None,
    changed_since: dt.datetime | dt.date | None = None,
) -> list[Match]:
    """Matches in queue order (:func:`services.queries.queue_order`), with listing, marketplace, brand and product loaded.

    ``brand`` is a brand name or id; ``since`` keeps matches whose listing was last seen at or after it
    (a date means midnight UTC); ``min_score`` is inclusive.  ``created_since`` keeps matches created at
    or after it; ``changed_since`` those created or changed (score, class, listing or status) at or after it.
    """
    stmt = (
        select(Match)
        .join(Match.listing)
        .options(
            selectinload(Match.listing).selectinload(Listing.marketplace),
            selectinload(Match.brand),
            selectinload(Match.product).selectinload(Product.images),
        )
        .order_by(*queue_order(Match))
    )
    if brand is not None:
        stmt = stmt.where(Match.brand_id == find_brand(session, brand).id)
    if check_status(status) is not None:
        stmt = stmt.where(Match.status == status)
    if min_score is not None:
        stmt = stmt.where(Match.score >= min_score)
    if since is not None:
        stmt = stmt.where(Listing.last_seen >= as_utc(since))
    if created_since is not None:
        stmt = stmt.where(Match.created_at >= as_utc(created_since))
    if changed_since is not None:
        stmt = stmt.where(Match.updated_at >= as_utc(changed_since))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def get_match(session: Session, match_id: int) -> Match:
    """One match with everything ``review show`` needs; ``LookalikeError`` when absent."""
    stmt = (
        select(Match)
        .where(Match.id == match_id)
        .options(
            selectinload(Match.listing).selectinload(Listing.images),
            selectinload(Match.listing).selectinload(Listing.marketplace),
            selectinload(Match.brand),
            selectinload(Match.product).selectinload(Product.images),
            selectinload(Match.events),
        )
    )
    match = session.scalars(stmt).one_or_none()
    if match is None:
        raise LookalikeError(f"no match with id {match_id}")
    return match
