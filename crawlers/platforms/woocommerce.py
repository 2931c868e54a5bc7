"""WooCommerce Store API: ``/wp-json/wc/store/v1/products?per_page=100&page=N``.

Each product: ``{"id", "name", "slug", "permalink", "sku", "short_description", "description",
"prices": {"price": "2400", "regular_price", "sale_price", "currency_code": "USD",
"currency_minor_unit": 2, ...}, "images": [{"src", "thumbnail", "alt"}], "brands": [{"name"}]?,
"is_in_stock", "is_purchasable"}``; prices are strings in minor units.  The answer's
``X-WP-TotalPages`` header gives the number of pages.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from crawlers.items import Listing
from crawlers.platforms import external_id, image_urls
from crawlers.processors import absolute_url, clean_short, clean_text, normalize_currency, strip_tracking

PAGE_SIZE = 100
"""Products per page (the Store API's maximum)."""
API_PATH = "/wp-json/wc/store/v1/products"


def products_url(base_url: str, *, page: int, per_page: int = PAGE_SIZE) -> str:
    return f"{base_url.rstrip('/')}{API_PATH}?{urlencode({'per_page': per_page, 'page': page})}"


def total_pages(header: bytes | str | None) -> int | None:
    """The ``X-WP-TotalPages`` header as an int; None when absent or odd."""
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    try:
        value = int(str(header).strip()) if header is not None else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value < 100_000 else None


def minor_units_price(prices: Any) -> Decimal | None:
    """``{"price": "2400", "currency_minor_unit": 2}`` -> ``Decimal("24.00")``; None when odd."""
    if not isinstance(prices, dict):
        return None
    raw, minor = prices.get("price"), prices.get("currency_minor_unit", 2)
    if not isinstance(raw, str | int) or isinstance(raw, bool) or not isinstance(minor, int) or not 0 <= minor <= 4:
        return None
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e14"):
        return None
    return (amount / (Decimal(10) ** minor)).quantize(Decimal(1) / (Decimal(10) ** minor))


def listings_from_products(data: Any, *, base_url: str, shop_name: str | None = None) -> list[Listing]:
    """Listings from a Store API products answer (a JSON list); malformed products are skipped."""
    if not isinstance(data, list):
        return []
    return [listing for p in data if isinstance(p, dict)
            if (listing := _listing(p, base_url=base_url, shop_name=shop_name))]


def _listing(product: dict[str, Any], *, base_url: str, shop_name: str | None) -> Listing | None:
    title = clean_short(product.get("name"))
    url = absolute_url(product.get("permalink"), base=base_url)
    if not title or url is None:
        return None
    prices = product.get("prices")
    price = minor_units_price(prices)
    images = image_urls(product.get("images") or [], base_url=base_url)
    brands = [b.get("name") for b in product.get("brands") or [] if isinstance(b, dict)]
    in_stock = product.get("is_in_stock")
    return Listing(
        url=url,
        canonical_url=strip_tracking(url),
        external_id=external_id(product.get("id")),
        title=title,
        description=clean_text(product.get("description")) or clean_text(product.get("short_description")),
        price=price,
        currency=normalize_currency(prices.get("currency_code")) if isinstance(prices, dict) and price is not None else None,
        seller=shop_name,
        sku=clean_short(product.get("sku")),
        brand=clean_short(brands[0]) if brands else None,
        image_urls=images,
        availability=("InStock" if in_stock else "OutOfStock") if isinstance(in_stock, bool) else None,
        source="woocommerce",
    )
