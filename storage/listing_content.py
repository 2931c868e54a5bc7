"""What of a listing an analyst reviews: one field list, one price rule, for the change hash and the snapshot.

The crawl's storage pipeline hashes these fields (``listings.content_hash``: a listing whose hash moves is
matched again), and the review queue keeps a copy of the same fields on each match
(``matches.review_snapshot``) to say in sentences what changed since the last review. Both are built here,
from the values the ``listings`` row holds, so "the listing changed" and "changed since the last review"
cannot disagree: a price that differs only below the stored cent is the same price for both.

- :data:`REVIEWED_FIELDS`: title, description, price, currency, seller, image URLs.
- :func:`stored_price`: the price as ``listings.price`` keeps it (2 places, halves away from zero, as
  PostgreSQL's ``numeric`` rounds); :func:`price_key` its canonical text (``24.0`` and ``24.00`` are ``"24"``).
- :func:`content_hash`: sha256 hex of the fields (the same digest as before the rule moved here, for every
  price with at most two decimals).
- :func:`review_snapshot`: the JSON-ready copy a match keeps (the description as a digest of its text with
  whitespace collapsed; each image URL's content digest, so an image replaced at the same URL shows).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from core.text import one_line

__all__ = ["REVIEWED_FIELDS", "content_hash", "price_key", "review_snapshot", "reviewed_values", "stored_price"]

#: The listing fields review compares, in the order the content hash serialises them.
REVIEWED_FIELDS = ("title", "description", "price", "currency", "seller", "image_urls")
#: The scale of ``storage.models.Money`` (``listings.price``).
CENT = Decimal("0.01")
MAX_SNAPSHOT_IMAGES = 50
MAX_SNAPSHOT_TEXT = 2000


class _ListingRow(Protocol):
    title: str | None
    description: str | None
    price: Decimal | None
    currency: str | None
    seller: str | None
    image_urls: list[str] | None

    @property
    def images(self) -> list[Any]: ...


def stored_price(price: Decimal | str | None) -> Decimal | None:
    """The price as the ``listings`` row stores it (two places); None for no price or one that is not a number."""
    if price is None:
        return None
    try:
        value = Decimal(str(price))
        return value.quantize(CENT, rounding=ROUND_HALF_UP) if value.is_finite() else None
    except (InvalidOperation, ValueError):
        return None


def price_key(price: Decimal | str | None) -> str | None:
    """The one text of a stored price that the hash and the snapshot compare (``"24"``, ``"24.5"``, ``"9.99"``)."""
    value = stored_price(price)
    return None if value is None else format(value.normalize(), "f")


def reviewed_values(listing: Mapping[str, Any] | Any) -> dict[str, Any]:
    """The :data:`REVIEWED_FIELDS` of a listing row (or a mapping of its column values), price as :func:`price_key`."""
    get = listing.get if isinstance(listing, Mapping) else lambda name: getattr(listing, name, None)
    values = {name: get(name) for name in REVIEWED_FIELDS}
    values["price"] = price_key(values["price"])
    values["image_urls"] = [str(u) for u in values["image_urls"] or []]
    return values


def content_hash(listing: Mapping[str, Any] | Any) -> str:
    """sha256 hex of the reviewed fields, as ``listings.content_hash`` holds it."""
    values = reviewed_values(listing)
    payload = [values[name] for name in REVIEWED_FIELDS]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def review_snapshot(listing: _ListingRow) -> dict[str, Any]:
    """The copy of the reviewed fields a match keeps (``matches.review_snapshot``)::

        {"title": str | None, "price": "24" | None, "currency": "USD" | None, "seller": str | None,
         "image_urls": [str, ...], "image_sha256": {url: sha256}, "description_sha256": hex | None}
    """
    values = reviewed_values(listing)
    image_sha: dict[str, str] = {}
    for image in listing.images:
        if image.sha256 and len(image_sha) < MAX_SNAPSHOT_IMAGES:
            image_sha[image.url] = image.sha256
    description = one_line(values["description"])
    return {
        "title": values["title"][:MAX_SNAPSHOT_TEXT] if values["title"] is not None else None,
        "price": values["price"],
        "currency": values["currency"],
        "seller": values["seller"],
        "image_urls": values["image_urls"][:MAX_SNAPSHOT_IMAGES],
        "image_sha256": image_sha,
        "description_sha256": hashlib.sha256(description.encode()).hexdigest() if description else None,
    }
