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
  class, reasons and signals are refreshed.
- A clean result (class ``clean``/``genuine``, or a score below ``min_score``) never creates a match and
  never deletes one: an existing match gets the new score and reasons and keeps its status.
- Every status change writes a ``MatchEvent`` (who, when, from, to, note); so does a change of the
  listing seen on a match that keeps its status (``from_status == to_status``, the note says what changed).

To describe changes, the listing fields that were scored are kept in ``Match.signals["listing_snapshot"]``::

    {"title": str | None, "price": "24.00" | None, "currency": "USD" | None, "seller": str | None,
     "image_urls": [str, ...], "image_sha256": {url: sha256}, "description_sha256": hex | None}

``description_sha256`` is the sha256 of the description with whitespace collapsed (the description
itself is not copied).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lookalike.errors import LookalikeError
from storage.db import insert_or_ignore
from storage.models import MATCH_STATUSES, Brand, Listing, Match, MatchEvent, Product, utcnow

#: Outcomes of :func:`record_match`.
OUTCOMES = ("created", "updated", "unchanged", "reopened", "suppressed")
#: Classes that mean "not a suspect" for this brand.
CLEAN_CLASSES = frozenset({"clean", "genuine"})
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

SNAPSHOT_KEY = "listing_snapshot"
MAX_CHANGES = 30  # sentences kept in Match.changes
MAX_REASONS = 50
MAX_TEXT = 1000  # characters kept per reason / note
MAX_QUOTED = 160  # characters of a title or seller quoted in a change sentence
MAX_SNAPSHOT_IMAGES = 50
MAX_SNAPSHOT_TEXT = 2000


# --------------------------------------------------------------------------------------------- snapshots


def _collapse(text: str | None) -> str:
    """Whitespace collapsed and invisible format characters (zero-width, bidi marks) dropped."""
    if not text:
        return ""
    kept = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(kept.split())


def _price_text(price: Decimal | str | None) -> str | None:
    if price is None:
        return None
    try:
        return f"{Decimal(str(price)):.2f}"
    except (InvalidOperation, ValueError):
        return None


def listing_snapshot(listing: Listing) -> dict[str, Any]:
    """The compact, JSON-ready copy of the listing fields that review compares between nights."""
    image_sha: dict[str, str] = {}
    for image in listing.images:
        if image.sha256 and len(image_sha) < MAX_SNAPSHOT_IMAGES:
            image_sha[image.url] = image.sha256
    description = _collapse(listing.description)
    return {
        "title": listing.title[:MAX_SNAPSHOT_TEXT] if listing.title is not None else None,
        "price": _price_text(listing.price),
        "currency": listing.currency,
        "seller": listing.seller,
        "image_urls": [str(u) for u in (listing.image_urls or [])[:MAX_SNAPSHOT_IMAGES]],
        "image_sha256": image_sha,
        "description_sha256": hashlib.sha256(description.encode()).hexdigest() if description else None,
    }


def _quote(text: str | None) -> str:
    if text is None or text == "":
        return "(none)"
    text = " ".join(text.split())
    if len(text) > MAX_QUOTED:
        text = text[: MAX_QUOTED - 1] + "…"
    return f"'{text}'"


def _money(price: str | None, currency: str | None) -> str:
    if price is None:
        return "no price"
    return f"{price} {currency}" if currency else price


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], bool]:
    """Compare two listing snapshots: (readable sentences, whether any change is material).

    Material: the title changed (beyond whitespace and invisible characters), the price or currency
    changed, an image URL appeared, or an image at the same URL has new content. Described but not
    material: seller, description text, an image removed.
    """
    sentences: list[str] = []
    material = False
    if _collapse(old.get("title")) != _collapse(new.get("title")):
        sentences.append(f"title changed from {_quote(old.get('title'))} to {_quote(new.get('title'))}")
        material = True
    old_price, new_price = _price_text(old.get("price")), _price_text(new.get("price"))
    if (old_price, old.get("currency")) != (new_price, new.get("currency")):
        sentences.append(
            f"price changed from {_money(old_price, old.get('currency'))} "
            f"to {_money(new_price, new.get('currency'))}"
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


def record_match(
    session: Session,
    *,
    listing: Listing,
    brand_id: int,
    product_id: int | None,
    score: float,
    klass: str,
    signals: dict[str, Any],
    reasons: Sequence[str],
    actor: str = SCAN_ACTOR,
    now: dt.datetime | None = None,
    min_score: float | None = None,
) -> str:
    """Record tonight's result of scoring ``listing`` against one brand; returns the outcome.

    ``score`` is 0..1; ``klass`` is the scorer's class (``counterfeit``, ``lookalike``, ``accessory``,
    ``clean``); a result is *clean* when the class is in ``CLEAN_CLASSES`` or ``score < min_score``.
    Outcomes: ``created`` (a new match, status ``new``), ``updated`` (score, reasons or listing changed;
    status kept), ``unchanged`` (nothing to write), ``reopened`` (a dismissed match came back as ``new``
    after a material change), ``suppressed`` (nothing was put in front of an analyst: a clean result with
    no match, or a dismissed match refreshed without reopening).
    The listing must be flushed (have an id). Writes happen in the caller's transaction, and the match
    row stays locked until it ends (PostgreSQL): a worker recording many matches in one transaction
    should take them in a stable order (listing id, then brand id) so that two workers cannot deadlock.
    """
    if listing.id is None:
        raise LookalikeError("record_match needs a stored listing (flush it first)")
    if not klass or len(klass) > 20:
        raise LookalikeError(f"invalid match class {klass!r}")
    score = float(score)
    if not math.isfinite(score):
        raise LookalikeError(f"invalid score {score!r} for listing {listing.id}")
    now = now or utcnow()
    clean = klass in CLEAN_CLASSES or (min_score is not None and score < min_score)
    snapshot = listing_snapshot(listing)
    signals_json = _as_json({k: v for k, v in dict(signals).items() if k != SNAPSHOT_KEY})
    stored_signals = {**signals_json, SNAPSHOT_KEY: snapshot}
    reasons_json = [_clip(str(r)) for r in list(reasons)[:MAX_REASONS]]

    def existing() -> Match | None:
        stmt = (
            select(Match)
            .where(Match.listing_id == listing.id, Match.brand_id == brand_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return session.scalars(stmt).one_or_none()

    match = existing()
    if match is None:
        if clean:
            return "suppressed"
        new_id = insert_or_ignore(session, Match, {
            "listing_id": listing.id, "brand_id": brand_id, "product_id": product_id, "score": score,
            "klass": klass, "signals": stored_signals, "reasons": reasons_json, "status": "new",
            "listing_content_hash": listing.content_hash, "changes": [], "created_at": now,
            "updated_at": now,
        }, conflict=["listing_id", "brand_id"])
        if new_id is not None:
            created = session.get(Match, new_id, populate_existing=True)
            assert created is not None
            _event(session, created, actor=actor, from_status=None, to_status="new", at=now,
                   note=f"found by scan: score {score:.2f} ({klass})")
            return "created"
        match = existing()  # another worker created it first: update it like any later night
        assert match is not None

    listing_changed = match.listing_content_hash != listing.content_hash
    old_snapshot = (match.signals or {}).get(SNAPSHOT_KEY)
    sentences: list[str] = []
    material = False
    if listing_changed:
        if isinstance(old_snapshot, dict):
            sentences, material = describe_changes(old_snapshot, snapshot)
        else:  # scored before snapshots existed: the hash is all we know
            sentences, material = ["listing changed (no earlier copy to compare)"], True

    scoring_changed = (
        not math.isclose(match.score, score, abs_tol=1e-9)
        or match.klass != klass
        or match.product_id != product_id
        or list(match.reasons or []) != reasons_json
        or {k: v for k, v in (match.signals or {}).items() if k != SNAPSHOT_KEY} != signals_json
        or old_snapshot != snapshot
    )
    if not listing_changed and not scoring_changed:
        return "unchanged"

    match.score, match.klass, match.product_id = score, klass, product_id
    match.reasons, match.signals = reasons_json, stored_signals
    match.listing_content_hash = listing.content_hash
    match.updated_at = now
    if sentences:
        match.changes = (list(match.changes or []) + sentences)[-MAX_CHANGES:]

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
    if isinstance(brand, int) or (isinstance(brand, str) and brand.isdigit()):
        found = session.get(Brand, int(brand))
        if found is not None:
            return found
    if isinstance(brand, str):
        found = session.scalars(select(Brand).where(func.lower(Brand.name) == brand.strip().lower())).first()
        if found is not None:
            return found
    raise LookalikeError(f"no brand named {brand!r}")


def check_status(status: str | None) -> str | None:
    if status is not None and status not in MATCH_STATUSES:
        raise LookalikeError(f"unknown status {status!r}: choose one of {', '.join(MATCH_STATUSES)}")
    return status


def as_utc(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    """A timezone-aware UTC datetime; naive values (as SQLite returns them) are taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def list_matches(
    session: Session,
    *,
    brand: str | int | None = None,
    status: str | None = None,
    min_score: float | None = None,
    since: dt.datetime | dt.date | None = None,
    limit: int | None = None,
) -> list[Match]:
    """Matches, best score first, with listing, marketplace, brand and product loaded.

    ``brand`` is a brand name or id; ``since`` keeps matches whose listing was last seen at or after it
    (a date means midnight UTC); ``min_score`` is inclusive.
    """
    stmt = (
        select(Match)
        .join(Match.listing)
        .options(
            selectinload(Match.listing).selectinload(Listing.marketplace),
            selectinload(Match.brand),
            selectinload(Match.product).selectinload(Product.images),
        )
        .order_by(Match.score.desc(), Match.id)
    )
    if brand is not None:
        stmt = stmt.where(Match.brand_id == find_brand(session, brand).id)
    if check_status(status) is not None:
        stmt = stmt.where(Match.status == status)
    if min_score is not None:
        stmt = stmt.where(Match.score >= min_score)
    if since is not None:
        stmt = stmt.where(Listing.last_seen >= as_utc(since))
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
