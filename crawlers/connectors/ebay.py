"""eBay Browse API: keyword search (``item_summary/search``) and item details (``item/{item_id}``).

Followed exactly from eBay's public documentation:

- search: https://developer.ebay.com/api-docs/buy/browse/resources/item_summary/methods/search
  (``q``; ``limit`` 1..200; ``offset`` 0 or a multiple of ``limit``; at most 10,000 items per query;
  the answer's ``next`` is the URI of the next page; ``X-EBAY-C-MARKETPLACE-ID`` picks the site);
- the answer: https://developer.ebay.com/api-docs/buy/browse/types/gct:SearchPagedCollection<gct:ItemSummary>
  and https://developer.ebay.com/api-docs/buy/browse/types/gct:ItemSummary;
- details: https://developer.ebay.com/api-docs/buy/browse/resources/item/methods/getItem (description,
  ``image`` and every ``additionalImages``, ``brand``, ``gtin``, ``mpn``, ``seller``);
- auth: an application token from the client-credentials grant,
  https://developer.ebay.com/api-docs/static/oauth-client-credentials-grant.html (``POST
  /identity/v1/oauth2/token``, HTTP Basic of client id and secret, ``grant_type=client_credentials``,
  scope ``https://api.ebay.com/oauth/api_scope``; the answer's ``expires_in`` is in seconds);
- quotas: https://developer.ebay.com/develop/get-started/api-call-limits (Browse: 5,000 calls a day
  for a new application; raised on request).
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from crawlers.connectors.base import (
    AnswerError,
    ApiCall,
    ConnectorConfig,
    Credentials,
    CredentialsRefused,
    SearchPage,
    child,
    decimal,
    image_list,
    integer,
    items,
    long_text,
    mapping,
    text,
    web_url,
)
from crawlers.items import Listing
from crawlers.processors import clean_gtin, clean_seller, strip_tracking

NAME = "ebay"
TITLE = "eBay Browse API"
DOC_URLS = (
    "https://developer.ebay.com/api-docs/buy/browse/resources/item_summary/methods/search",
    "https://developer.ebay.com/api-docs/buy/browse/resources/item/methods/getItem",
    "https://developer.ebay.com/api-docs/static/oauth-client-credentials-grant.html",
)
DEFAULT_BASE_URL = "https://api.ebay.com"
DEFAULT_SITE = "EBAY_US"
CREDENTIALS = ("ebay_client_id", "ebay_client_secret")
MAX_PAGE_SIZE = 200
#: Items one query may page through (offset + limit), per the search method's documentation.
MAX_RESULTS = 10_000
DEFAULT_DAILY_CALLS = 5000
DEFAULT_PER_SECOND = 5.0
DETAILS = True
SCOPE = "https://api.ebay.com/oauth/api_scope"
SEARCH_PATH = "/buy/browse/v1/item_summary/search"
ITEM_PATH = "/buy/browse/v1/item/"
TOKEN_PATH = "/identity/v1/oauth2/token"
#: Seconds before a token's stated expiry at which it is renewed.
TOKEN_MARGIN = 300

#: API field -> Listing field (docs/sources.md prints this table).
FIELD_MAP = (
    ("itemId", "external_id", "search and item"),
    ("title", "title", "search and item"),
    ("price.value, price.currency", "price, currency", "decimal string and ISO 4217 code"),
    ("itemWebUrl", "url, canonical_url", "canonical without the query (tracking only); items without it are skipped"),
    ("image.imageUrl, additionalImages[].imageUrl", "image_urls", "main image first; the item answer's images replace the summary's"),
    ("seller.username", "seller, seller_id", ""),
    ("seller.feedbackPercentage, seller.feedbackScore", "seller_feedback", "e.g. '99.2% positive, score 1534'"),
    ("description (item; shortDescription when absent)", "description", "HTML to plain text"),
    ("brand, gtin, mpn (item)", "brand, gtin, mpn", ""),
    ("estimatedAvailabilities[0].estimatedAvailabilityStatus (item)", "availability", "IN_STOCK -> InStock"),
)

_AVAILABILITY = {"IN_STOCK": "InStock", "LIMITED_STOCK": "LimitedAvailability", "OUT_OF_STOCK": "OutOfStock"}


def first_call(query: str, *, config: ConnectorConfig) -> ApiCall:
    return search_call(query, offset=0, config=config)


def page_size(config: ConnectorConfig) -> int:
    return max(1, min(config.page_size, MAX_PAGE_SIZE, config.max_results_per_query))


def search_call(query: str, *, offset: int, config: ConnectorConfig) -> ApiCall:
    limit = page_size(config)
    if offset % limit or offset + limit > MAX_RESULTS:
        raise ValueError(f"eBay offset {offset} is not a multiple of limit {limit} within {MAX_RESULTS}")
    url = f"{config.base_url.rstrip('/')}{SEARCH_PATH}?{urlencode({'q': query, 'limit': limit, 'offset': offset})}"
    return ApiCall(url=url, headers=_site(config), kind="search", query=query, offset=offset)


def _site(config: ConnectorConfig) -> tuple[tuple[str, str], ...]:
    return (("X-EBAY-C-MARKETPLACE-ID", config.site or DEFAULT_SITE),)


def read_search(data: object, *, call: ApiCall, config: ConnectorConfig) -> SearchPage:
    answer = mapping(data, "the search answer")
    if "errors" in answer and "itemSummaries" not in answer:
        raise _error(answer)
    listings: list[Listing] = []
    details: list[ApiCall] = []
    skipped = 0
    for entry in items(answer.get("itemSummaries")):
        listing = _listing(entry)
        if listing is None:
            skipped += 1
            continue
        listings.append(listing)
        if config.details:
            details.append(ApiCall(url=f"{config.base_url.rstrip('/')}{ITEM_PATH}{quote(listing.external_id or '', safe='')}",
                                   headers=_site(config), kind="detail", query=listing.external_id))
    total = integer(answer.get("total"))
    nxt, notes = _next(answer, call=call, config=config, total=total, got=len(listings) + skipped)
    return SearchPage(listings=listings, details=details, next=nxt, total=total, skipped=skipped, notes=notes)


def _next(answer: object, *, call: ApiCall, config: ConnectorConfig, total: int | None,
          got: int) -> tuple[ApiCall | None, tuple[str, ...]]:
    """The next search call: the answer's ``next`` when it is on the configured API and keeps the offset
    rule, else the documented next offset; None when the query is done or at its limits."""
    limit = page_size(config)
    offset = call.offset + limit
    stated = child(answer, "next")
    if not stated or got == 0:
        return None, ()
    if (total is not None and offset >= total) or offset + limit > min(MAX_RESULTS, config.max_results_per_query
                                                                         + limit - 1):
        return None, ()
    ours = search_call(call.query or "", offset=offset, config=config)
    url = web_url(stated)
    if url is None:
        return ours, ("next_rebuilt",)
    api, given = urlsplit(config.base_url), urlsplit(url)
    if (given.scheme, given.netloc) != (api.scheme, api.netloc):
        return ours, ("next_offsite",)  # never send the token to another host
    params = parse_qs(given.query)
    if params.get("offset") != [str(offset)] or params.get("limit") != [str(limit)]:
        return ours, ("next_rebuilt",)  # the offset rule broken: continue where the rule says
    return ApiCall(url=url, headers=_site(config), kind="search", query=call.query, offset=offset), ()


def _listing(entry: object) -> Listing | None:
    if not isinstance(entry, dict):
        return None
    item_id, url = text(entry.get("itemId")), web_url(entry.get("itemWebUrl"))
    if not item_id or not url:
        return None
    # eBay's item URL is the item: its query only carries tracking (hash, amdata, _trkparms...).
    listing = Listing(url=url, canonical_url=strip_tracking(url).split("?", 1)[0], external_id=item_id, source="api")
    _apply(listing, entry)
    return listing


def _apply(listing: Listing, entry: dict, *, every_image: bool = False) -> None:
    """Fill ``listing`` from a search summary or an item answer (both share these fields); the item
    answer has ``every_image`` (its images replace the summary's smaller copies of the same photos)."""
    listing.title = text(entry.get("title")) or listing.title
    price = decimal(child(entry, "price", "value"))
    code = child(entry, "price", "currency")
    if price is not None and isinstance(code, str) and len(code) == 3 and code.isalpha():
        listing.price, listing.currency = price, code.upper()
    images = [child(entry, "image", "imageUrl")] + [child(i, "imageUrl") for i in items(entry.get("additionalImages"))]
    found = image_list(images)
    if found:
        listing.image_urls = found if every_image else image_list(found + listing.image_urls)
    seller = clean_seller(child(entry, "seller", "username"))
    if seller:
        listing.seller, listing.seller_id = seller, seller
    percentage, score = child(entry, "seller", "feedbackPercentage"), integer(child(entry, "seller", "feedbackScore"))
    parts = []
    if decimal(percentage) is not None:
        parts.append(f"{decimal(percentage)}% positive")
    if score is not None:
        parts.append(f"score {score}")
    if parts:
        listing.seller_feedback = ", ".join(parts)


def read_detail(data: object, *, listings: dict[str, Listing]) -> list[Listing]:
    """The listings of an ``item/{item_id}`` answer completed with its description, images and codes."""
    answer = mapping(data, "the item answer")
    if "errors" in answer and "itemId" not in answer:
        raise _error(answer)
    item_id = text(answer.get("itemId"))
    listing = listings.get(item_id or "") or (next(iter(listings.values())) if len(listings) == 1 else None)
    if listing is None:
        raise AnswerError("the item answer is for an item that was not asked for")
    _apply(listing, answer, every_image=True)
    listing.description = long_text(answer.get("description")) or long_text(answer.get("shortDescription"))
    listing.brand = text(answer.get("brand")) or listing.brand
    listing.gtin = clean_gtin(answer.get("gtin")) or listing.gtin
    listing.mpn = text(answer.get("mpn")) or listing.mpn
    status = child((items(answer.get("estimatedAvailabilities")) or [{}])[0], "estimatedAvailabilityStatus")
    listing.availability = _AVAILABILITY.get(status if isinstance(status, str) else "", listing.availability)
    return [listing]


def _error(answer: object) -> AnswerError:
    """eBay's error answer (``errors[].errorId``, ``message``): 1001 is an invalid or expired token."""
    first = (items(child(answer, "errors")) or [{}])[0]
    code = integer(child(first, "errorId"))
    message = text(child(first, "message")) or "no message"
    if code in (1001, 1002, 1003, 1004, 1100):
        return CredentialsRefused(f"eBay refused the access: error {code} ({message})")
    return AnswerError(f"eBay answered error {code} ({message})")


# ------------------------------------------------------------------------------------------- auth
def token_call(*, config: ConnectorConfig, credentials: Credentials) -> ApiCall:
    basic = base64.b64encode(f"{credentials['ebay_client_id']}:{credentials['ebay_client_secret']}".encode()).decode()
    return ApiCall(url=f"{config.base_url.rstrip('/')}{TOKEN_PATH}", method="POST", kind="token",
                   headers=(("Authorization", f"Basic {basic}"),
                            ("Content-Type", "application/x-www-form-urlencoded")),
                   form=(("grant_type", "client_credentials"), ("scope", SCOPE)))


def read_token(data: object, *, now: float) -> tuple[str, float]:
    """(access token, time to renew it) from the token answer; ``CredentialsRefused`` for an error answer."""
    answer = mapping(data, "the token answer")
    if "error" in answer:
        raise CredentialsRefused(f"eBay refused the client credentials: {text(answer.get('error')) or 'error'}")
    token, expires = answer.get("access_token"), integer(answer.get("expires_in"))
    if not isinstance(token, str) or not token or len(token) > 8192 or expires is None or expires <= 0:
        raise AnswerError("the token answer has no access_token and expires_in")
    return token, now + max(expires - TOKEN_MARGIN, expires / 2)


def authorize(call: ApiCall, *, credentials: Credentials, token: str | None, now: float) -> ApiCall:
    if call.kind == "token":
        return call
    return call.with_headers(("Authorization", f"Bearer {token}"))
