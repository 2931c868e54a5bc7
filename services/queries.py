"""The reads the faces share: the review queue's order and rows, and the registry's summary rows.

``lookalike review list`` and ``brands list`` and the review app's queue read through this module, so a
row, an order, a filter or an error message is defined once.  The queries are SQLAlchemy Core on the
tables of :mod:`storage.schema` (no ORM: the CLI's start-up time, docs/performance.md); they run on a
``Connection`` or on an ORM ``Session`` alike, on SQLite and PostgreSQL.

- The queue order (:func:`queue_key`, :func:`queue_order`): suspects (counterfeit, lookalike), then the
  brand's coined mark on other goods, then accessories, then resales, then anything else
  (``matching.model.CLASS_RANK``); within a class the best score first; ties by the oldest match.  The ORM
  queries (``services.review.list_matches``, the review app's filters) use the same functions on
  ``storage.models.Match``.
- Tenant scope (:func:`in_scope`): ``brand_ids`` None means every brand (admins, analysts, the CLI); a set
  keeps only matches of those brands (an owner's account); an empty set keeps nothing.  The review app turns
  its principal into ``brand_ids`` (``webapp/queries.py``) and passes it to every query here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, false, func, select, true

from core.errors import LookalikeError
from core.times import as_utc
from matching.model import CLASS_RANK
from storage.schema import (
    authorized_sellers,
    brands,
    listings,
    marketplaces,
    marks,
    matches,
    owners,
    products,
    reference_images,
)
from storage.vocabulary import MATCH_STATUSES

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Connection
    from sqlalchemy.orm import Session

    Reader = Connection | Session


# ---------------------------------------------------------------------------------------- the queue order


def queue_key(m: Any) -> ColumnElement[float]:
    """The queue order as one value, lowest first: ``2 * class rank - score`` (a score is 0..1, so the class
    decides first and the best score second).  One value, so that the review app finds "next" with one keyset
    lookup.  ``m`` is ``storage.models.Match`` or ``storage.schema.matches.c``."""
    rank = case(dict(CLASS_RANK), value=m.klass, else_=len(CLASS_RANK))
    return rank * 2 - m.score


def queue_order(m: Any) -> tuple[Any, ...]:
    """``ORDER BY`` clauses of the review queue (:func:`queue_key`, then the oldest match first)."""
    return queue_key(m).asc(), m.id.asc()


def in_scope(brand_id: Any, brand_ids: Collection[int] | None) -> ColumnElement[bool]:
    """The WHERE clause that keeps the rows whose ``brand_id`` column is in scope (see the module docstring)."""
    if brand_ids is None:
        return true()
    return brand_id.in_(sorted(brand_ids)) if brand_ids else false()


def check_status(status: str | None) -> str | None:
    """``status`` when it is a match status (or None); ``LookalikeError`` otherwise."""
    if status is not None and status not in MATCH_STATUSES:
        raise LookalikeError(f"unknown status {status!r}: choose one of {', '.join(MATCH_STATUSES)}")
    return status


def find_brand_id(db: Reader, brand: str | int) -> int:
    """The id of a brand given by id or by name (case-insensitive); ``LookalikeError`` when there is none."""
    if isinstance(brand, int) or (isinstance(brand, str) and brand.isdigit()):
        found = db.execute(select(brands.c.id).where(brands.c.id == int(brand))).scalar()
        if found is not None:
            return found
    if isinstance(brand, str):
        found = db.execute(select(brands.c.id).where(func.lower(brands.c.name) == brand.strip().lower())
                           .order_by(brands.c.id).limit(1)).scalar()
        if found is not None:
            return found
    raise LookalikeError(f"no brand named {brand!r}")


# --------------------------------------------------------------------------------------------- the queue


@dataclass
class QueueRow:
    """One match as the queue shows it (``review list``, the review app's queue and bulk pages).

    ``price`` is the listing's amount (``Decimal``) in ``currency`` (ISO 4217); ``changed``: the listing changed
    since the last review; ``thumbnail``: the sha256 of the listing's first stored photo (the review app fills
    it in)."""

    match_id: int
    score: float
    klass: str
    status: str
    brand: str
    title: str | None
    price: Decimal | None
    currency: str | None
    seller: str | None
    marketplace: str
    listing_url: str
    created_at: dt.datetime
    changed: bool
    listing_id: int
    thumbnail: str | None = None


def queue_rows(
    db: Reader,
    *,
    brand: str | int | None = None,
    status: str | None = None,
    min_score: float | None = None,
    created_since: dt.datetime | dt.date | None = None,
    changed_since: dt.datetime | dt.date | None = None,
    limit: int | None = None,
    ids: Sequence[int] | None = None,
    brand_ids: Collection[int] | None = None,
) -> list[QueueRow]:
    """Matches in queue order, filtered: ``brand`` a name or id; ``status`` a match status; ``min_score``
    inclusive; ``created_since`` matches created at or after it, ``changed_since`` those created or changed
    (score, class, listing or status) at or after it (a date means midnight UTC); ``ids`` only these matches;
    ``brand_ids`` the tenant scope (:func:`in_scope`)."""
    m, listing = matches.c, listings.c
    stmt = (
        select(m.id, m.score, m.klass, m.status, brands.c.name, listing.title, listing.price, listing.currency,
               listing.seller, marketplaces.c.name, listing.url, m.created_at, func.json_array_length(m.changes),
               listing.id)
        .select_from(matches)
        .join(listings, listing.id == m.listing_id)
        .join(brands, brands.c.id == m.brand_id)
        .join(marketplaces, marketplaces.c.id == listing.marketplace_id)
        .where(in_scope(m.brand_id, brand_ids))
        .order_by(*queue_order(m))
    )
    if brand is not None:
        stmt = stmt.where(m.brand_id == find_brand_id(db, brand))
    if check_status(status) is not None:
        stmt = stmt.where(m.status == status)
    if min_score is not None:
        stmt = stmt.where(m.score >= min_score)
    if created_since is not None:
        stmt = stmt.where(m.created_at >= as_utc(created_since))
    if changed_since is not None:
        stmt = stmt.where(m.updated_at >= as_utc(changed_since))
    if ids is not None:
        stmt = stmt.where(m.id.in_(list(ids)))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [QueueRow(*row[:11], as_utc(row[11]), bool(row[12]), row[13]) for row in db.execute(stmt)]


# ------------------------------------------------------------------------------------------ the registry


def digest_summary(enabled: bool | None, frequency: str | None, min_score: float | None,
                   classes: list[str] | None) -> str:
    """``daily``, ``weekly, min 0.6, counterfeit+lookalike`` or ``off``: an owner's digest preferences."""
    if enabled is False:
        return "off"
    parts = [frequency or "daily"]
    if min_score is not None:
        parts.append(f"min {min_score:g}")
    if classes:
        parts.append("+".join(classes))
    return ", ".join(parts)


def brand_rows(db: Reader, *, brand_ids: Collection[int] | None = None) -> list[dict[str, Any]]:
    """A summary row per registered brand in scope, by name: ``brand``, ``owner``, ``digest_to`` (addresses),
    ``digest`` (:func:`digest_summary`), ``category``, ``aliases`` and ``authorized_sellers`` (in the order
    they were added), ``products`` and ``images`` (counts)."""
    scope = in_scope(brands.c.id, brand_ids)
    found = db.execute(
        select(brands.c.id, brands.c.name, brands.c.category, brands.c.digest_to, owners.c.name,
               owners.c.digest_enabled, owners.c.digest_frequency, owners.c.digest_min_score,
               owners.c.digest_classes)
        .join(owners, owners.c.id == brands.c.owner_id).where(scope).order_by(brands.c.name)).all()
    in_brands = in_scope(marks.c.brand_id, brand_ids)
    aliases: dict[int, list[str]] = {}
    for brand_id, text in db.execute(select(marks.c.brand_id, marks.c.text)
                                     .where(marks.c.kind == "alias", in_brands).order_by(marks.c.id)):
        aliases.setdefault(brand_id, []).append(text)
    sellers: dict[int, list[str]] = {}
    for brand_id, name in db.execute(select(authorized_sellers.c.brand_id, authorized_sellers.c.name)
                                     .where(in_scope(authorized_sellers.c.brand_id, brand_ids))
                                     .order_by(authorized_sellers.c.id)):
        sellers.setdefault(brand_id, []).append(name)
    product_counts = dict(db.execute(
        select(products.c.brand_id, func.count(products.c.id))
        .where(in_scope(products.c.brand_id, brand_ids)).group_by(products.c.brand_id)).all())
    image_counts = dict(db.execute(
        select(products.c.brand_id, func.count(reference_images.c.id))
        .join(reference_images, reference_images.c.product_id == products.c.id)
        .where(in_scope(products.c.brand_id, brand_ids)).group_by(products.c.brand_id)).all())
    return [
        {
            "brand": name,
            "owner": owner,
            "digest_to": list(digest_to or []),
            "digest": digest_summary(enabled, frequency, min_score, classes),
            "category": category,
            "aliases": aliases.get(brand_id, []),
            "products": product_counts.get(brand_id, 0),
            "images": image_counts.get(brand_id, 0),
            "authorized_sellers": sellers.get(brand_id, []),
        }
        for brand_id, name, category, digest_to, owner, enabled, frequency, min_score, classes in found
    ]
