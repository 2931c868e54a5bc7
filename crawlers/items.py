"""Typed items that crawlers produce.  No Scrapy imports: Scrapy handles ``attrs`` items natively.

Formats are fixed here so that every parser, pipeline and test agrees:
- ``price`` is a ``Decimal`` in major units (``Decimal("24.00")``), never a float or a string;
- ``currency`` is an ISO 4217 code in upper case (``"USD"``), or ``None`` when the page does not say;
- every URL is absolute (``https://...``);
- ``availability`` is a schema.org ItemAvailability name without the prefix (``"InStock"``,
  ``"OutOfStock"``, ``"PreOrder"``...), or ``None``.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

#: Most image URLs one listing carries (main image first): every parser and platform adapter stops there. The
#: crawl downloads at most ``LOOKALIKE_MAX_IMAGES_PER_LISTING`` of them (``crawlers/settings.py``).
MAX_IMAGE_URLS = 20


@attrs.define(kw_only=True)
class Listing:
    """One product offer as a page shows it."""

    url: str
    """The URL that was fetched (absolute)."""
    canonical_url: str | None = None
    """rel=canonical or og:url when present and on the same site, tracking parameters stripped; else the url."""
    external_id: str | None = None
    """The site's own id for the offer (a Shopify product id, an ASIN...), when known."""
    title: str | None = None
    description: str | None = None
    """Plain text, whitespace collapsed, bounded in length."""
    price: Decimal | None = None
    currency: str | None = None
    seller: str | None = None
    """The seller or shop name as the page states it."""
    seller_id: str | None = None
    """The marketplace's own id of the seller, when the page states one."""
    seller_url: str | None = None
    """Absolute http(s) URL of the seller's page on the marketplace, when the page links it."""
    seller_feedback: str | None = None
    """The marketplace's feedback for the seller in words, as its API states it (``99.2% positive, score
    1534``); set by API connectors."""
    sku: str | None = None
    gtin: str | None = None
    """GTIN-8/12/13/14 digits only."""
    mpn: str | None = None
    brand: str | None = None
    """The brand as the page states it (may itself be a fake)."""
    image_urls: list[str] = attrs.field(factory=list)
    """Absolute image URLs, main image first, without duplicates; at most :data:`MAX_IMAGE_URLS`."""
    availability: str | None = None
    source: str | None = None
    """Which extractor produced the item: ``json-ld``, ``microdata``, ``rdfa``, ``opengraph``, ``html``,
    ``shopify``, ``woocommerce``, ``api`` (an API connector); several joined by ``+``."""
    marketplace: str | None = None
    """Name of the marketplace or shop the listing belongs to, set by the spider."""
