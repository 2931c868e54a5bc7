"""The demo's search-only marketplace behind an API in eBay's shape, served by the demo marketplace under
``/ebay``: the Browse API's token, ``item_summary/search`` and ``item/{item_id}`` answers in the documented
shapes (see :mod:`crawlers.connectors.ebay`), over a catalogue too big to read whole.

There are no pages at all: the only way in is the API's search.  Catalogue: the world's listings at
positions ``CROSS_LISTED_EVERY`` apart, offset from the JavaScript marketplace's (``v1|<n>|0`` ids, the
world id kept for scoring), and :data:`FILLER_LISTINGS` ordinary listings of no registered brand (the
JavaScript marketplace's filler generator, another seed).  Search matches every word of ``q`` in a
listing's title, description, brand or seller, title matches first (as :mod:`data.demo.jsmarket`).

Paths (``<base>`` is ``/ebay``):

- ``POST <base>/identity/v1/oauth2/token``: client credentials (HTTP Basic of :data:`DEMO_CLIENT_ID` and
  :data:`DEMO_CLIENT_SECRET`; anything else is 401 ``invalid_client``) -> an application token;
- ``GET <base>/buy/browse/v1/item_summary/search?q=&limit=&offset=`` with ``Authorization: Bearer`` and
  ``X-EBAY-C-MARKETPLACE-ID``; ``limit`` 1..200, ``offset`` a multiple of ``limit``, offset + limit at
  most 10,000 (else 400 with eBay's error shape); ``next`` while more results remain;
- ``GET <base>/buy/browse/v1/item/<item_id>``: the item with its description and every image.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from data.demo.jsmarket import filler_listings, search_form

BASE = "/ebay"
FILLER_LISTINGS = 3000
CROSS_LISTED_EVERY = 3
CROSS_LISTED_AT = 2
"""Position (mod ``CROSS_LISTED_EVERY``) of the world's listings listed here (the JS marketplace takes 1)."""
DEMO_CLIENT_ID = "lookalike-demo-client"
DEMO_CLIENT_SECRET = "lookalike-demo-secret"  # noqa: S105 - the demo's own fake API, served on loopback
TOKEN_LIFETIME = 7200

Answer = tuple[int, str, bytes, dict[str, str]]


class EbayApi:
    """The catalogue and the answers of the eBay-shaped demo API for one demo world's listings."""

    def __init__(self, listings: list[dict[str, Any]], *, filler: int = FILLER_LISTINGS, seed: int = 1) -> None:
        self.items: list[dict[str, Any]] = []
        for position, item in enumerate(listings):
            if position % CROSS_LISTED_EVERY == CROSS_LISTED_AT:
                self.items.append({**item, "world_id": item["id"]})
        pictures = [item["images"][0] for item in listings
                    if item.get("images") and (item.get("label") or {}).get("class") == "clean"]
        self.items += filler_listings(filler, seed=seed + 101, pictures=pictures)
        random.Random(seed).shuffle(self.items)
        for number, item in enumerate(self.items, start=1):
            item["api_id"] = f"v1|{300000000 + number}|0"
        self.by_id = {item["api_id"]: item for item in self.items}
        self._haystacks = [(item, search_form(" ".join(str(item.get(k) or "") for k in ("title", "description",
                                                                                          "brand_text", "seller"))),
                            search_form(str(item.get("title") or ""))) for item in self.items]
        self.tokens: set[str] = set()
        self._lock = threading.Lock()

    def search(self, query: str) -> list[dict[str, Any]]:
        tokens = [t for t in search_form(query).split() if t]
        if not tokens:
            return []
        in_title, elsewhere = [], []
        for item, text, title in self._haystacks:
            if all(t in text for t in tokens):
                (in_title if all(t in title for t in tokens) else elsewhere).append(item)
        return in_title + elsewhere

    def item_urls(self, origin: str) -> dict[str, str]:
        """World listing id -> the ``itemWebUrl`` of its copy here (what a crawl should store)."""
        return {item["world_id"]: self.web_url(item, origin) for item in self.items if "world_id" in item}

    @staticmethod
    def web_url(item: dict[str, Any], origin: str) -> str:
        return f"{origin}{BASE}/itm/{item['api_id'].split('|')[1]}"

    # -------------------------------------------------------------------------------------- answers
    def respond(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes,
                *, origin: str) -> Answer | None:
        """The answer for ``path`` under ``/ebay`` (None: not one of ours)."""
        if not (path.startswith(BASE + "/") or path == BASE):
            return None
        rest = path[len(BASE):]
        if rest == "/identity/v1/oauth2/token":
            return self.token(method, headers, body)
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            valid = bearer in self.tokens
        if not valid:
            return _error(401, 1001, "Invalid access token")
        if not headers.get("x-ebay-c-marketplace-id"):
            return _error(400, 13000, "The X-EBAY-C-MARKETPLACE-ID header is missing")
        if rest == "/buy/browse/v1/item_summary/search" and method == "GET":
            return self.search_answer(query, origin=origin)
        if rest.startswith("/buy/browse/v1/item/") and method == "GET":
            item = self.by_id.get(unquote(rest[len("/buy/browse/v1/item/"):]))
            return _json(self.item_answer(item, origin=origin)) if item else _error(404, 11001, "The item was not found")
        return _error(404, 2002, "Resource not found")

    def token(self, method: str, headers: dict[str, str], body: bytes) -> Answer:
        expected = "Basic " + base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
        if method != "POST" or headers.get("authorization") != expected or b"grant_type=client_credentials" not in body:
            return _json({"error": "invalid_client", "error_description": "client authentication failed"}, status=401)
        token = "v^1.1#i^1#demo-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        return _json({"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Application Access Token"})

    def search_answer(self, query: dict[str, list[str]], *, origin: str) -> Answer:
        q = query.get("q", [""])[0][:200]
        try:
            limit, offset = int(query.get("limit", ["50"])[0]), int(query.get("offset", ["0"])[0])
        except ValueError:
            return _error(400, 12001, "limit and offset must be integers")
        if not 1 <= limit <= 200 or offset < 0 or offset % limit or offset + limit > 10_000:
            return _error(400, 12001, "offset must be zero or a multiple of limit, within 10,000 results")
        hits = self.search(q)
        answer: dict[str, Any] = {
            "href": f"{origin}{BASE}/buy/browse/v1/item_summary/search?{urlencode({'q': q, 'limit': limit, 'offset': offset})}",
            "total": len(hits), "limit": limit, "offset": offset,
            "itemSummaries": [self.summary(item, origin=origin) for item in hits[offset:offset + limit]],
        }
        if offset + limit < min(len(hits), 10_000):
            answer["next"] = (f"{origin}{BASE}/buy/browse/v1/item_summary/search?"
                              f"{urlencode({'q': q, 'limit': limit, 'offset': offset + limit})}")
        return _json(answer)

    def summary(self, item: dict[str, Any], *, origin: str) -> dict[str, Any]:
        images = [f"{origin}/img/{quote(Path(p).name)}" for p in item.get("images") or []]
        entry: dict[str, Any] = {
            "itemId": item["api_id"], "title": item.get("title"),
            "itemHref": f"{origin}{BASE}/buy/browse/v1/item/{quote(item['api_id'], safe='')}",
            "itemWebUrl": self.web_url(item, origin), "condition": "New", "conditionId": "1000",
            "buyingOptions": ["FIXED_PRICE"],
            "seller": {"username": item.get("seller") or "seller", "feedbackPercentage": "98.9",
                       "feedbackScore": 100 + len(str(item.get("seller") or ""))},
        }
        if item.get("price") not in (None, ""):
            entry["price"] = {"value": str(item["price"]), "currency": item.get("currency") or "USD"}
        if images:
            entry["image"] = {"imageUrl": images[0]}
            entry["additionalImages"] = [{"imageUrl": url} for url in images[1:]]
        return entry

    def item_answer(self, item: dict[str, Any], *, origin: str) -> dict[str, Any]:
        answer = self.summary(item, origin=origin)
        answer.update(description=item.get("description") or "", brand=item.get("brand_text"),
                      gtin=item.get("gtin"), mpn=item.get("mpn"),
                      estimatedAvailabilities=[{"estimatedAvailabilityStatus":
                                                "IN_STOCK" if item.get("available", True) else "OUT_OF_STOCK"}])
        return {k: v for k, v in answer.items() if v is not None}


def _json(data: Any, *, status: int = 200) -> Answer:
    return status, "application/json", json.dumps(data, ensure_ascii=False).encode("utf-8"), {}


def _error(status: int, error_id: int, message: str) -> Answer:
    return _json({"errors": [{"errorId": error_id, "domain": "API_BROWSE", "category": "REQUEST",
                              "message": message}]}, status=status)
