"""Database writes of the storage pipeline, as plain functions over a SQLAlchemy session.

- :func:`content_hash`: sha256 of what an analyst reviews (title, description, price, currency, seller,
  image URLs) as the row stores it, by the rule of :mod:`storage.listing_content` that the review snapshot
  shares; a listing whose hash changes gets ``needs_matching=True``.
- :func:`upsert_listings`: insert or update a batch, keyed by (marketplace, external id) when the site
  gives one, else (marketplace, canonical URL); first/last seen, price history, image rows.
- :func:`mark_missed`: after a crawl, count a miss for the listings it was responsible for and did not
  see, and mark ``gone`` those missed ``gone_after_runs`` times in a row.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crawlers.items import Listing as ListingItem
from storage import listing_content
from storage.db import insert_or_ignore
from storage.imagestore import save_image_row
from storage.models import CrawlRun, Listing, ListingImage, ListingPrice, Marketplace, utcnow

MAX_URL = 2000


def content_hash(item: ListingItem) -> str:
    """sha256 hex of the reviewable content of the row ``item`` is stored as (``24.0`` and ``24.00`` are equal,
    and so are two prices that differ only below the stored cent)."""
    return listing_content.content_hash(_columns(item))


def get_or_create_marketplace(session: Session, *, name: str, base_url: str | None, kind: str) -> Marketplace:
    insert_or_ignore(session, Marketplace, {"name": name[:200], "base_url": base_url, "kind": kind,
                                            "created_at": utcnow()}, conflict=["name"])
    marketplace = session.execute(select(Marketplace).where(Marketplace.name == name[:200])).scalar_one()
    if base_url and marketplace.base_url != base_url:
        marketplace.base_url = base_url
    return marketplace


def _bounded(value: str | None, size: int) -> str | None:
    return value[:size] if value else value


def _columns(item: ListingItem) -> dict[str, Any]:
    """Listing columns from an item (strings cut to the column sizes)."""
    return {
        "url": item.url[:MAX_URL],
        "external_id": _bounded(item.external_id, 200),
        "title": item.title,
        "description": item.description,
        "price": listing_content.stored_price(item.price),
        "currency": _bounded(item.currency, 3),
        "seller": _bounded(item.seller, 300),
        "seller_id": _bounded(item.seller_id, 200),
        "seller_url": _bounded(item.seller_url, MAX_URL),
        "seller_feedback": _bounded(item.seller_feedback, 200),
        "sku": _bounded(item.sku, 200),
        "gtin": _bounded(item.gtin, 50),
        "mpn": _bounded(item.mpn, 200),
        "brand_text": _bounded(item.brand, 300),
        "availability": _bounded(item.availability, 40),
        "image_urls": [u[:MAX_URL] for u in item.image_urls],
    }


def _existing(session: Session, marketplace_id: int, items: Sequence[ListingItem]) -> dict[str, Listing]:
    """Existing rows for a batch, by ``id:<external id>`` and ``url:<canonical url>``."""
    urls = [(i.canonical_url or i.url)[:MAX_URL] for i in items]
    ids = [i.external_id[:200] for i in items if i.external_id]
    clauses = [Listing.canonical_url.in_(urls)]
    if ids:
        clauses.append(Listing.external_id.in_(ids))
    rows = session.execute(
        select(Listing).where(Listing.marketplace_id == marketplace_id, or_(*clauses))
    ).scalars()
    found: dict[str, Listing] = {}
    for row in rows:
        found[f"url:{row.canonical_url}"] = row
        if row.external_id:
            found[f"id:{row.external_id}"] = row
    return found


def upsert_listings(
    session: Session,
    *,
    marketplace_id: int,
    crawl_run_id: int,
    items: Sequence[ListingItem],
    image_outcome: Callable[[str], Any],
    now: dt.datetime | None = None,
) -> Counter[str]:
    """Store a batch; returns counts ``new``, ``changed``, ``unchanged``, ``reappeared``.

    ``image_outcome(url)`` gives an object with ``status``, ``sha256`` and ``error`` for each image URL.
    """
    now = now or utcnow()
    counts: Counter[str] = Counter()
    existing = _existing(session, marketplace_id, items)
    stored: list[tuple[Listing, ListingItem]] = []
    for item in items:
        canonical = (item.canonical_url or item.url)[:MAX_URL]
        digest = content_hash(item)
        row = existing.get(f"id:{item.external_id[:200]}") if item.external_id else None
        row = row or existing.get(f"url:{canonical}")
        if row is None:
            values = {**_columns(item), "marketplace_id": marketplace_id, "canonical_url": canonical,
                      "content_hash": digest, "status": "active", "missed_runs": 0, "first_seen": now,
                      "last_seen": now, "last_crawl_run_id": crawl_run_id, "needs_matching": True}
            insert_or_ignore(session, Listing, values, conflict=["marketplace_id", "canonical_url"])
            row = session.execute(select(Listing).where(
                Listing.marketplace_id == marketplace_id, Listing.canonical_url == canonical)).scalar_one()
            if row.last_crawl_run_id == crawl_run_id:
                counts["new"] += 1
                session.add(ListingPrice(listing_id=row.id, price=row.price, currency=row.currency, seen_at=now))
            else:  # another crawl inserted it between our select and insert: treat as an update
                _update(session, row, item, digest, crawl_run_id, now, counts)
        else:
            _update(session, row, item, digest, crawl_run_id, now, counts)
        existing[f"url:{canonical}"] = row
        if row.external_id:
            existing[f"id:{row.external_id}"] = row
        stored.append((row, item))
    _sync_images(session, stored, image_outcome)
    return counts


def _update(session: Session, row: Listing, item: ListingItem, digest: str, crawl_run_id: int,
            now: dt.datetime, counts: Counter[str]) -> None:
    columns = _columns(item)
    if row.price != columns["price"] or row.currency != columns["currency"]:
        session.add(ListingPrice(listing_id=row.id, price=columns["price"], currency=columns["currency"],
                                 seen_at=now))
    changed = row.content_hash != digest
    if row.status == "gone":
        counts["reappeared"] += 1
        row.needs_matching = True
    for name, value in columns.items():
        setattr(row, name, value)
    row.content_hash = digest
    row.status = "active"
    row.gone_at = None
    row.missed_runs = 0
    row.last_seen = now
    row.last_crawl_run_id = crawl_run_id
    if changed:
        row.needs_matching = True
    counts["changed" if changed else "unchanged"] += 1


def _sync_images(session: Session, stored: Sequence[tuple[Listing, ListingItem]],
                 image_outcome: Callable[[str], Any]) -> None:
    """One ``listing_images`` row per image URL of each listing, positions as on the page; rows of URLs a
    listing no longer shows are deleted.  One query for the whole batch."""
    current: dict[int, dict[str, ListingImage]] = {}
    ids = [row.id for row, _ in stored]
    for image in session.execute(select(ListingImage).where(ListingImage.listing_id.in_(ids))).scalars():
        current.setdefault(image.listing_id, {})[image.url] = image
    for row, item in stored:
        urls = [u[:MAX_URL] for u in dict.fromkeys(item.image_urls)]
        mine = current.get(row.id, {})
        for url, image in mine.items():
            if url not in urls:
                session.delete(image)
        for position, url in enumerate(urls):
            outcome = image_outcome(url)
            image = mine.get(url)
            if image is None:
                image = ListingImage(listing_id=row.id, url=url)
                session.add(image)
            image.position = position
            if outcome.status == "pending" and image.status == "ok":
                continue  # not fetched this time (limit, images off): keep what an earlier crawl stored
            image.status = outcome.status
            image.sha256 = outcome.sha256
            image.error = outcome.error


def mark_missed(
    session: Session,
    *,
    marketplace_id: int,
    crawl_run_id: int,
    gone_after_runs: int,
    now: dt.datetime | None = None,
    only_canonical_urls: Iterable[str] | None = None,
) -> tuple[int, int]:
    """Count a miss for the active listings of the marketplace this crawl did not see (all of them, or
    only those in ``only_canonical_urls``), and mark ``gone`` those missed ``gone_after_runs`` times.

    Returns (missed, newly gone).
    """
    now = now or utcnow()
    not_seen = [
        Listing.marketplace_id == marketplace_id,
        Listing.status == "active",
        or_(Listing.last_crawl_run_id.is_(None), Listing.last_crawl_run_id != crawl_run_id),
    ]
    if only_canonical_urls is not None:
        urls = list(only_canonical_urls)
        if not urls:
            return 0, 0
        not_seen.append(Listing.canonical_url.in_(urls))
    missed = session.execute(
        update(Listing).where(*not_seen).values(missed_runs=Listing.missed_runs + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    gone = session.execute(
        update(Listing).where(*not_seen, Listing.missed_runs >= gone_after_runs)
        .values(status="gone", gone_at=now).execution_options(synchronize_session=False)
    ).rowcount
    return int(missed or 0), int(gone or 0)


def save_images(session: Session, stored_images: Iterable[Any]) -> None:
    """The ``images`` rows of newly stored images (``StoredImage``), get-or-create by sha256. Their
    signatures are not computed here: the signature stage (``services/signatures.py``) finds them pending."""
    for stored in {image.sha256: image for image in stored_images}.values():
        save_image_row(session, stored)


def start_run(session: Session, *, marketplace_id: int | None, scan_id: str | None, params: dict[str, Any],
              target_key: str | None = None) -> CrawlRun:
    run = CrawlRun(marketplace_id=marketplace_id, scan_id=scan_id, params=params, target_key=target_key,
                   status="running", stats={})
    session.add(run)
    session.flush()
    return run
