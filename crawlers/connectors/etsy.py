"""Etsy Open API v3: active listings by keywords, then their images and shops in one batch call.

Followed from Etsy's public documentation:

- search: https://developers.etsy.com/documentation/reference#operation/findAllListingsActive
  (``GET /v3/application/listings/active``, ``keywords``, ``limit`` 1..100, ``offset``; the answer is
  ``{"count": N, "results": [ShopListing...]}``);
- images and shop names: https://developers.etsy.com/documentation/reference#operation/getListingsByListingIds
  (``GET /v3/application/listings/batch?listing_ids=...&includes=Images,Shop``; at most 100 ids);
- price: ``Money`` is ``{"amount", "divisor", "currency_code"}``, the price being amount / divisor;
- auth: https://developers.etsy.com/documentation/essentials/authentication (the ``x-api-key`` header
  carries the app's keystring and shared secret joined by a colon);
- quotas: https://developers.etsy.com/documentation/essentials/rate-limits (per app: 10 requests a
  second and 10,000 a day unless Etsy raised them).

Etsy's API terms (https://www.etsy.com/legal/api) forbid scraping etsy.com: this connector is the way
Lookalike reads Etsy.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from crawlers.connectors.base import (
    AnswerError,
    ApiCall,
    ConnectorConfig,
    Credentials,
    CredentialsRefused,
    SearchPage,
    child,
    currency,
    image_list,
    integer,
    items,
    long_text,
    mapping,
    text,
    web_url,
)
from crawlers.items import Listing
from crawlers.processors import clean_seller, strip_tracking

NAME = "etsy"
TITLE = "Etsy Open API v3"
DOC_URLS = (
    "https://developers.etsy.com/documentation/reference#operation/findAllListingsActive",
    "https://developers.etsy.com/documentation/reference#operation/getListingsByListingIds",
    "https://developers.etsy.com/documentation/essentials/authentication",
)
DEFAULT_BASE_URL = "https://openapi.etsy.com"
CREDENTIALS = ("etsy_keystring", "etsy_shared_secret")
MAX_PAGE_SIZE = 100
MAX_RESULTS = 10_000
DEFAULT_DAILY_CALLS = 10_000
DEFAULT_PER_SECOND = 5.0
DETAILS = True
SEARCH_PATH = "/v3/application/listings/active"
BATCH_PATH = "/v3/application/listings/batch"

FIELD_MAP = (
    ("listing_id", "external_id", ""),
    ("title", "title", ""),
    ("description", "description", "plain text"),
    ("price.amount / price.divisor, price.currency_code", "price, currency", "integer amount over divisor"),
    ("url", "url, canonical_url", "tracking parameters stripped; listings without it are skipped"),
    ("shop_id", "seller_id", ""),
    ("shop.shop_name, shop.url (batch, includes=Shop)", "seller, seller_url", ""),
    ("images[].url_fullxfull by rank (batch, includes=Images)", "image_urls", "main image (rank 1) first"),
    ("state", "availability", "active -> InStock"),
)


def page_size(config: ConnectorConfig) -> int:
    return max(1, min(config.page_size, MAX_PAGE_SIZE, config.max_results_per_query))


def first_call(query: str, *, config: ConnectorConfig) -> ApiCall:
    return search_call(query, offset=0, config=config)


def search_call(query: str, *, offset: int, config: ConnectorConfig) -> ApiCall:
    params = {"keywords": query, "limit": page_size(config), "offset": offset}
    return ApiCall(url=f"{config.base_url.rstrip('/')}{SEARCH_PATH}?{urlencode(params)}", kind="search",
                   query=query, offset=offset)


def read_search(data: object, *, call: ApiCall, config: ConnectorConfig) -> SearchPage:
    answer = mapping(data, "the search answer")
    if "error" in answer and "results" not in answer:
        raise _error(answer)
    listings, skipped = [], 0
    for entry in items(answer.get("results")):
        listing = _listing(entry)
        if listing is None:
            skipped += 1
        else:
            listings.append(listing)
    details = []
    if config.details and listings:
        ids = ",".join(listing.external_id or "" for listing in listings[:MAX_PAGE_SIZE])
        params = urlencode({"listing_ids": ids, "includes": "Images,Shop"})
        details.append(ApiCall(url=f"{config.base_url.rstrip('/')}{BATCH_PATH}?{params}", kind="detail", query=ids))
    total = integer(answer.get("count"))
    offset = call.offset + page_size(config)
    got = len(listings) + skipped
    done = got == 0 or (total is not None and offset >= total) or offset >= min(MAX_RESULTS, config.max_results_per_query)
    nxt = None if done else search_call(call.query or "", offset=offset, config=config)
    return SearchPage(listings=listings, details=details, next=nxt, total=total, skipped=skipped)


def _listing(entry: object) -> Listing | None:
    if not isinstance(entry, dict):
        return None
    listing_id, url = text(entry.get("listing_id")), web_url(entry.get("url"))
    if not listing_id or not url:
        return None
    listing = Listing(url=url, canonical_url=strip_tracking(url), external_id=listing_id, source="api")
    _apply(listing, entry)
    return listing


def money(value: object) -> tuple[Decimal | None, str | None]:
    """(price, currency) of Etsy's ``Money``: ``amount / divisor``; (None, None) when not in that shape."""
    amount, divisor = integer(child(value, "amount")), integer(child(value, "divisor"))
    code = currency(child(value, "currency_code"))
    if amount is None or divisor is None or divisor <= 0 or amount < 0 or code is None:
        return None, None
    return Decimal(amount) / Decimal(divisor), code


def _apply(listing: Listing, entry: dict) -> None:
    listing.title = text(entry.get("title")) or listing.title
    listing.description = long_text(entry.get("description")) or listing.description
    price, code = money(entry.get("price"))
    if price is not None:
        listing.price, listing.currency = price, code
    listing.seller_id = text(entry.get("shop_id")) or listing.seller_id
    if entry.get("state") == "active":
        listing.availability = "InStock"
    shop = entry.get("shop")
    if isinstance(shop, dict):
        listing.seller = clean_seller(shop.get("shop_name")) or listing.seller
        shop_url = web_url(shop.get("url"))
        listing.seller_url = strip_tracking(shop_url) if shop_url else listing.seller_url
    images = [i for i in items(entry.get("images")) if isinstance(i, dict)]
    images.sort(key=lambda i: integer(i.get("rank")) or 10**6)
    found = image_list([i.get("url_fullxfull") or i.get("url_570xN") for i in images])
    if found:
        listing.image_urls = found


def read_detail(data: object, *, listings: dict[str, Listing]) -> list[Listing]:
    """The listings of a batch answer (``{"count", "results"}``) completed with images and shop names."""
    answer = mapping(data, "the batch answer")
    if "error" in answer and "results" not in answer:
        raise _error(answer)
    for entry in items(answer.get("results")):
        listing = listings.get(text(child(entry, "listing_id")) or "")
        if listing is not None and isinstance(entry, dict):
            _apply(listing, entry)
    return list(listings.values())


def _error(answer: object) -> AnswerError:
    message = text(child(answer, "error")) or "error"
    if "api key" in message.lower() or "invalid" in message.lower() and "key" in message.lower():
        return CredentialsRefused(f"Etsy refused the API key: {message}")
    return AnswerError(f"Etsy answered: {message}")


def authorize(call: ApiCall, *, credentials: Credentials, token: str | None, now: float) -> ApiCall:
    return call.with_headers(("x-api-key", f"{credentials['etsy_keystring']}:{credentials['etsy_shared_secret']}"))
