"""Shopify storefront JSON: ``/products.json`` (paged with ``?limit=250&page=N``) and ``/meta.json``.

``/products.json`` answers ``{"products": [{"id", "title", "handle", "body_html", "vendor",
"product_type", "tags", "variants": [{"id", "title", "sku", "price": "24.00", "available",
"barcode"?}], "images": [{"src", "position"}]}]}``; it gives no currency, which ``/meta.json``
(``{"name", "currency", "domain", ...}``) does.  One listing per product (not per variant): the lowest
variant price, the first variant's SKU, in stock when any variant is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from crawlers.items import Listing
from crawlers.platforms import external_id, image_urls
from crawlers.processors import (
    absolute_url,
    clean_gtin,
    clean_short,
    clean_text,
    normalize_currency,
    parse_price,
    strip_tracking,
)

PAGE_SIZE = 250
"""Products per page (Shopify's maximum)."""


def products_url(base_url: str, *, page: int, limit: int = PAGE_SIZE) -> str:
    return f"{base_url.rstrip('/')}/products.json?{urlencode({'limit': limit, 'page': page})}"


def meta_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/meta.json"


def shop_info(data: Any) -> tuple[str | None, str | None]:
    """(shop name, ISO currency) from ``/meta.json``; Nones for an unknown shape."""
    if not isinstance(data, dict):
        return None, None
    return clean_short(data.get("name")), normalize_currency(data.get("currency"))


def listings_from_products(data: Any, *, base_url: str, shop_name: str | None = None,
                           currency: str | None = None) -> list[Listing]:
    """Listings from a ``/products.json`` answer; malformed products are skipped, never raised on."""
    products = data.get("products") if isinstance(data, dict) else None
    if not isinstance(products, list):
        return []
    return [listing for p in products if isinstance(p, dict)
            if (listing := _listing(p, base_url=base_url, shop_name=shop_name, currency=currency))]


def _listing(product: dict[str, Any], *, base_url: str, shop_name: str | None, currency: str | None) -> Listing | None:
    handle = product.get("handle")
    title = clean_short(product.get("title"))
    if not isinstance(handle, str) or not handle or not title:
        return None
    url = absolute_url(f"/products/{handle}", base=base_url)
    if url is None:
        return None
    variants = [v for v in product.get("variants") or [] if isinstance(v, dict)]
    prices = [p for v in variants if (p := parse_price(v.get("price"), structured=True)) is not None]
    price: Decimal | None = min(prices) if prices else None
    first = variants[0] if variants else {}
    images = image_urls(sorted((i for i in product.get("images") or [] if isinstance(i, dict)),
                               key=lambda i: i.get("position") if isinstance(i.get("position"), int) else 0),
                        base_url=base_url)
    available = [v.get("available") for v in variants if isinstance(v.get("available"), bool)]
    return Listing(
        url=url,
        canonical_url=strip_tracking(url),
        external_id=external_id(product.get("id")),
        title=title,
        description=clean_text(product.get("body_html")),
        price=price,
        currency=currency if price is not None else None,
        seller=shop_name,
        sku=clean_short(first.get("sku")),
        gtin=clean_gtin(first.get("barcode")),
        brand=clean_short(product.get("vendor")),
        image_urls=images,
        availability=("InStock" if any(available) else "OutOfStock") if available else None,
        source="shopify",
    )
