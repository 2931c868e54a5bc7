"""The raw fields one extractor reads from a page, before normalisation and merging."""

from __future__ import annotations

from typing import Any

import attrs

FIELD_NAMES = (
    "title", "description", "price", "currency", "sku", "gtin", "mpn", "brand", "images", "availability",
    "seller", "seller_id", "seller_url", "url", "external_id",
)


@attrs.define(kw_only=True)
class Fields:
    """Values as one source states them (strings, numbers, nested leftovers); every field optional.

    ``images`` is a list of URLs as written (maybe relative); ``url`` is the URL the source declares for
    the product (og:url, a JSON-LD ``url``); ``price`` and ``currency`` belong together (one offer).
    """

    title: Any = None
    description: Any = None
    price: Any = None
    currency: Any = None
    sku: Any = None
    gtin: Any = None
    mpn: Any = None
    brand: Any = None
    images: list[Any] = attrs.field(factory=list)
    availability: Any = None
    seller: Any = None
    #: The marketplace's id of the seller and the URL of the seller's page, as the source states them.
    seller_id: Any = None
    seller_url: Any = None
    url: Any = None
    external_id: Any = None

    def is_empty(self) -> bool:
        return not any(getattr(self, name) not in (None, "", []) for name in FIELD_NAMES)
