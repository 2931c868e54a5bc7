"""OpenGraph and product meta tags (``og:*``, ``product:*``, Facebook catalogue tags).

Read from every ``<meta property|name=... content=...>`` of the page, head or body (extruct's
OpenGraph extractor reads the head only and needs declared prefixes; shops often get both wrong).
"""

from __future__ import annotations

import lxml.etree
import lxml.html

from crawlers.items import MAX_IMAGE_URLS
from crawlers.pages.fields import Fields

_META_XPATH = lxml.etree.XPath("//meta[(@property or @name) and @content]")
MAX_META = 2000


def meta_tags(tree: lxml.html.HtmlElement) -> dict[str, list[str]]:
    """``{key (lower case): [content, ...]}`` for every meta tag, in document order."""
    tags: dict[str, list[str]] = {}
    for element in _META_XPATH(tree)[:MAX_META]:
        key = (element.get("property") or element.get("name") or "").strip().lower()
        content = element.get("content")
        if key and content is not None:
            tags.setdefault(key, []).append(content)
    return tags


def _first(tags: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        for value in tags.get(key, []):
            if value.strip():
                return value
    return None


def opengraph_fields(tags: dict[str, list[str]]) -> Fields:
    """Raw fields from meta tags.  A sale price wins over the regular one (it is what a buyer pays)."""
    fields = Fields()
    fields.title = _first(tags, "og:title", "twitter:title")
    fields.description = _first(tags, "og:description", "twitter:description")
    price_keys = (
        ("product:sale_price:amount", "product:sale_price:currency"),
        ("product:price:amount", "product:price:currency"),
        ("og:price:amount", "og:price:currency"),
        ("product:price", "product:currency"),
    )
    for amount_key, currency_key in price_keys:
        amount = _first(tags, amount_key)
        if amount:
            fields.price = amount
            fields.currency = _first(tags, currency_key, "product:price:currency", "og:price:currency")
            break
    fields.brand = _first(tags, "product:brand", "og:brand")
    fields.availability = _first(tags, "product:availability", "og:availability")
    fields.sku = _first(tags, "product:retailer_item_id", "product:sku")
    fields.mpn = _first(tags, "product:mfr_part_no")
    fields.gtin = _first(tags, "product:ean", "product:upc", "product:gtin", "product:isbn")
    fields.url = _first(tags, "og:url")
    images = []
    for key in ("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src"):
        images.extend(v for v in tags.get(key, [])[:MAX_IMAGE_URLS] if v.strip())
    fields.images = images
    return fields


def is_product_type(tags: dict[str, list[str]]) -> bool:
    """True when ``og:type`` says product (``product``, ``product.item``, ``og:product``)."""
    return any("product" in value.lower() for value in tags.get("og:type", []))
