"""AliExpress affiliate product query (``aliexpress.affiliate.product.query``), signed per its docs.

Followed from AliExpress Open Platform's public documentation:

- the method: https://openservice.aliexpress.com/doc/api.htm#/api?cid=21407&path=aliexpress.affiliate.product.query&methodType=GET/POST
  (``keywords``, ``page_no`` from 1, ``page_size`` at most 50, ``target_currency``, ``tracking_id``;
  the answer is ``aliexpress_affiliate_product_query_response.resp_result.result`` with
  ``total_record_count`` and ``products.product[]``);
- signing: https://openservice.aliexpress.com/doc/doc.htm?nodeId=27493&docId=118729 (system parameters
  ``app_key``, ``timestamp`` in milliseconds, ``sign_method=sha256``; ``sign`` is the upper-case hex
  HMAC-SHA256, keyed with the app secret, of every parameter but ``sign`` sorted by name and written
  as name then value, with nothing between; requests go to ``/sync``).

The signed parameters travel in a POST form body, never in the URL, so the app key and the signature
stay out of Scrapy's request log.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from crawlers.connectors.base import (
    AnswerError,
    ApiCall,
    ConnectorConfig,
    Credentials,
    CredentialsRefused,
    SearchPage,
    child,
    currency,
    decimal,
    image_list,
    integer,
    items,
    mapping,
    text,
    web_url,
)
from crawlers.items import Listing
from crawlers.processors import clean_seller, strip_tracking

NAME = "aliexpress"
TITLE = "AliExpress affiliate product query"
DOC_URLS = (
    "https://openservice.aliexpress.com/doc/api.htm#/api?cid=21407&path=aliexpress.affiliate.product.query&methodType=GET/POST",
    "https://openservice.aliexpress.com/doc/doc.htm?nodeId=27493&docId=118729",
)
DEFAULT_BASE_URL = "https://api-sg.aliexpress.com"
CREDENTIALS = ("aliexpress_app_key", "aliexpress_app_secret")
OPTIONAL_CREDENTIALS = ("aliexpress_tracking_id",)
MAX_PAGE_SIZE = 50
MAX_RESULTS = 5000
DEFAULT_DAILY_CALLS = 5000
DEFAULT_PER_SECOND = 1.0
DETAILS = False
METHOD = "aliexpress.affiliate.product.query"
PATH = "/sync"
RESPONSE_KEY = "aliexpress_affiliate_product_query_response"
#: Error codes that mean the app key, signature or permission was refused (retrying cannot help).
REFUSED_CODES = frozenset({"IncompleteSignature", "InvalidApiKey", "InvalidAppKey", "AppKeyNotExist",
                           "InsufficientPermission", "IllegalAccessToken", "isv.appkey-not-exists"})

FIELD_MAP = (
    ("product_id", "external_id", ""),
    ("product_title", "title", ""),
    ("target_sale_price, target_sale_price_currency", "price, currency",
     "falls back to sale_price, sale_price_currency"),
    ("product_detail_url", "url, canonical_url", "not promotion_link (an affiliate redirect)"),
    ("product_main_image_url, product_small_image_urls.string[]", "image_urls", "main image first"),
    ("shop_id, shop_name, shop_url", "seller_id, seller, seller_url", "shop_name when the answer has it"),
)


def page_size(config: ConnectorConfig) -> int:
    return max(1, min(config.page_size, MAX_PAGE_SIZE, config.max_results_per_query))


def first_call(query: str, *, config: ConnectorConfig) -> ApiCall:
    return search_call(query, offset=0, config=config)


def search_call(query: str, *, offset: int, config: ConnectorConfig) -> ApiCall:
    size = page_size(config)
    form = [("method", METHOD), ("keywords", query), ("page_no", str(offset // size + 1)),
            ("page_size", str(size))]
    if config.currency:
        form.append(("target_currency", config.currency))
    return ApiCall(url=f"{config.base_url.rstrip('/')}{PATH}", method="POST", form=tuple(form), kind="search",
                   query=query, offset=offset)


def read_search(data: object, *, call: ApiCall, config: ConnectorConfig) -> SearchPage:
    answer = mapping(data, "the product query answer")
    if "error_response" in answer:
        code = text(child(answer, "error_response", "code")) or "error"
        message = text(child(answer, "error_response", "msg")) or ""
        error = CredentialsRefused if code in REFUSED_CODES else AnswerError
        raise error(f"AliExpress answered {code}: {message}".rstrip(": "))
    result = child(answer, RESPONSE_KEY, "resp_result")
    if not isinstance(result, dict):
        raise AnswerError(f"the answer has no {RESPONSE_KEY}.resp_result")
    if integer(result.get("resp_code")) not in (200, None):
        raise AnswerError(f"AliExpress answered {result.get('resp_code')!s:.20}: {text(result.get('resp_msg')) or ''}")
    body = result.get("result")
    listings, skipped = [], 0
    for entry in items(child(body, "products", "product")):
        listing = _listing(entry)
        if listing is None:
            skipped += 1
        else:
            listings.append(listing)
    total = integer(child(body, "total_record_count"))
    offset = call.offset + page_size(config)
    got = len(listings) + skipped
    done = got == 0 or (total is not None and offset >= total) or offset >= min(MAX_RESULTS, config.max_results_per_query)
    return SearchPage(listings=listings, next=None if done else search_call(call.query or "", offset=offset, config=config),
                      total=total, skipped=skipped)


def _listing(entry: object) -> Listing | None:
    if not isinstance(entry, dict):
        return None
    product_id, url = text(entry.get("product_id")), web_url(entry.get("product_detail_url"))
    if not product_id or not url:
        return None
    listing = Listing(url=url, canonical_url=strip_tracking(url), external_id=product_id, source="api",
                      title=text(entry.get("product_title")))
    for amount, code in (("target_sale_price", "target_sale_price_currency"), ("sale_price", "sale_price_currency")):
        price, unit = decimal(entry.get(amount)), currency(entry.get(code))
        if price is not None and unit is not None:
            listing.price, listing.currency = price, unit
            break
    listing.image_urls = image_list([entry.get("product_main_image_url"),
                                     *items(child(entry, "product_small_image_urls", "string"))])
    listing.seller_id = text(entry.get("shop_id"))
    listing.seller = clean_seller(entry.get("shop_name")) if isinstance(entry.get("shop_name"), str) else None
    listing.seller_url = web_url(entry.get("shop_url"))
    return listing


def read_detail(data: object, *, listings: dict[str, Listing]) -> list[Listing]:
    raise AnswerError("the AliExpress product query has no detail call")


def sign(params: dict[str, str], secret: str) -> str:
    """The documented signature: HMAC-SHA256 over sorted name+value pairs, upper-case hex."""
    message = "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def authorize(call: ApiCall, *, credentials: Credentials, token: str | None, now: float) -> ApiCall:
    params = dict(call.form)
    params.update(app_key=credentials["aliexpress_app_key"], timestamp=str(int(now * 1000)), sign_method="sha256")
    tracking = credentials.get("aliexpress_tracking_id")
    if tracking:
        params["tracking_id"] = tracking
    params["sign"] = sign(params, credentials["aliexpress_app_secret"])
    assert urlsplit(call.url).query == ""  # signed values never in the URL
    return ApiCall(url=call.url, method="POST", headers=call.headers + (("Content-Type", "application/x-www-form-urlencoded"),),
                   form=tuple(params.items()), kind=call.kind, query=call.query, offset=call.offset)
