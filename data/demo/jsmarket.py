"""The demo's search-only marketplace rendered by JavaScript, served by the demo marketplace under ``/js/``.

Every page is an empty shell (``<div id="app">`` and a script): the search results and the product pages
are built in the browser by ``jsmarket.js`` from a JSON API, so a static parser sees nothing, as on
Temu-like marketplaces.  There is no category page or sitemap: the only way in is search, and the
catalogue is too big to crawl whole (:data:`FILLER_LISTINGS` ordinary listings from no brand of the
registry beside the world's listings that are cross-listed here).

Paths (``<base>`` is ``/js``):

- ``<base>/`` a search box; ``<base>/search?q=&page=`` and ``<base>/item/<id>``: shells;
- ``<base>/app.js``: the script; ``<base>/api/search?q=&page=`` (``{total, page, pages, results: [{id,
  title, price, currency, image}]}``) and ``<base>/api/item/<id>`` (the listing as JSON, images as absolute
  URLs): the API the script reads;
- ``/jsr/...``: the same marketplace rendered on the server (the same markup the script builds), the
  plain-HTML twin the browser bench compares against (``bench/browser.py``).

Catalogue: the world's listings at positions ``CROSS_LISTED_EVERY`` apart (every third: sellers list on
several marketplaces), with ids ``j-<world id>``, and the filler, ids ``j-f<n>``, titled from the demo's
product types with generic sellers and photos of the world's clean listings.  Search matches every word of
the query in a listing's title, description, brand or seller, as a marketplace's index does after
folding case and compatibility forms (NFKC) and dropping invisible format characters (``Su\u2060mmit``
is found by "summit"; look-alike letters of other scripts are not folded); listings whose title holds
every word come first, then catalogue order.  Each page also calls an analytics address outside the
marketplace (``analytics_url``), which the crawler's network policy refuses.
"""

from __future__ import annotations

import html
import json
import random
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from data.demo.vocab import CATEGORIES, GENERIC_SELLERS, RETAILERS

BASE = "/js"
STATIC_BASE = "/jsr"
FILLER_LISTINGS = 4000
CROSS_LISTED_EVERY = 3
PER_PAGE = 20
SCRIPT = Path(__file__).with_name("jsmarket.js")
DEFAULT_ANALYTICS = "http://127.0.0.1:9/collect"
"""Another port of loopback (the discard service): outside the marketplace, so refused by the policy."""
_ADJECTIVES = ("Classic", "Premium", "Everyday", "Compact", "Deluxe", "Travel", "Eco", "Value", "Pro", "Mini",
               "Family size", "Refill", "Gift set", "Basic", "Original style")

Answer = tuple[int, str, bytes, dict[str, str]]


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


class JsMarket:
    """The catalogue and the answers of the JavaScript marketplace for one demo world's listings."""

    def __init__(self, listings: list[dict[str, Any]], *, filler: int = FILLER_LISTINGS, seed: int = 0,
                 analytics_url: str = DEFAULT_ANALYTICS) -> None:
        self.analytics_url = analytics_url
        self.items: list[dict[str, Any]] = []
        for position, item in enumerate(listings):
            if position % CROSS_LISTED_EVERY == 1:
                self.items.append({**item, "id": f"j-{item['id'].lower()}", "world_id": item["id"]})
        pictures = [item["images"][0] for item in listings
                    if item.get("images") and (item.get("label") or {}).get("class") == "clean"]
        self.items += filler_listings(filler, seed=seed, pictures=pictures)
        random.Random(seed).shuffle(self.items)
        self.by_id = {item["id"]: item for item in self.items}
        self._haystacks = [(item, search_form(" ".join(str(item.get(k) or "") for k in ("title", "description",
                                                                                          "brand_text", "seller"))),
                            search_form(str(item.get("title") or ""))) for item in self.items]

    # ------------------------------------------------------------------------------------ catalogue
    def search(self, query: str) -> list[dict[str, Any]]:
        """Listings matching every word of ``query``: title matches first, then catalogue order."""
        tokens = [t for t in search_form(query).split() if t]
        if not tokens:
            return []
        in_title, elsewhere = [], []
        for item, text, title in self._haystacks:
            if all(t in text for t in tokens):
                (in_title if all(t in title for t in tokens) else elsewhere).append(item)
        return in_title + elsewhere

    def item_paths(self) -> dict[str, str]:
        """World listing id -> the path of its cross-listed copy here (what a crawl should find)."""
        return {item["world_id"]: f"{BASE}/item/{quote(item['id'])}" for item in self.items if "world_id" in item}

    # -------------------------------------------------------------------------------------- answers
    def respond(self, path: str, query: dict[str, list[str]], *, origin: str) -> Answer | None:
        """The answer for ``path`` under ``/js`` or ``/jsr`` (None: not one of ours).  ``origin`` is the
        marketplace's ``http://host:port``, for absolute image URLs."""
        words = query.get("q", [""])[0][:200]
        page = _page(query.get("page", ["1"])[0])
        if path.startswith(STATIC_BASE + "/") or path == STATIC_BASE:
            return self._static(path[len(STATIC_BASE):] or "/", words, page, origin=origin)
        if not (path.startswith(BASE + "/") or path == BASE):
            return None
        rest = path[len(BASE):] or "/"
        if rest == "/app.js":
            return 200, "text/javascript; charset=utf-8", SCRIPT.read_bytes(), {"Cache-Control": "max-age=3600"}
        if rest == "/api/search":
            return _json(self.results_page(words, page, origin=origin))
        if rest.startswith("/api/item/"):
            item = self.by_id.get(rest[len("/api/item/"):])
            return _json(self.item_json(item, origin=origin)) if item else _json({"error": "not found"}, status=404)
        if rest == "/":
            return _html(self.shell("home"))
        if rest == "/search":
            return _html(self.shell("search"))
        if rest.startswith("/item/") and rest[len("/item/"):] in self.by_id:
            return _html(self.shell("item", item_id=rest[len("/item/"):]))
        return 404, "text/html; charset=utf-8", b"<h1>Not found</h1>", {}

    def results_page(self, words: str, page: int, *, origin: str) -> dict[str, Any]:
        hits = self.search(words)
        pages = max(1, -(-len(hits) // PER_PAGE))
        page = min(page, pages)
        rows = [{"id": item["id"], "title": item.get("title"), "price": item.get("price"),
                 "currency": item.get("currency") or "USD", "image": _image_url(item, origin)}
                for item in hits[(page - 1) * PER_PAGE: page * PER_PAGE]]
        return {"total": len(hits), "page": page, "pages": pages, "results": rows}

    @staticmethod
    def item_json(item: dict[str, Any], *, origin: str) -> dict[str, Any]:
        return {"id": item["id"], "title": item.get("title"), "description": item.get("description"),
                "price": item.get("price"), "currency": item.get("currency") or "USD", "seller": item.get("seller"),
                "brand": item.get("brand_text"), "sku": item.get("sku"), "gtin": item.get("gtin"),
                "mpn": item.get("mpn"), "available": bool(item.get("available", True)),
                "images": [f"{origin}/img/{quote(Path(p).name)}" for p in item.get("images") or []]}

    def shell(self, view: str, *, item_id: str = "") -> str:
        """The page every URL answers with: no listing in it, only what the script needs to fetch one."""
        return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Market</title></head><body>'
                f'<header><a href="{BASE}/">Market</a></header>'
                f'<div id="app" aria-busy="true" data-view="{_e(view)}" data-id="{_e(item_id)}" data-base="{BASE}" '
                f'data-analytics="{_e(self.analytics_url)}"></div>'
                f'<noscript>This marketplace needs JavaScript.</noscript>'
                f'<script src="{BASE}/app.js"></script></body></html>')

    # ------------------------------------------------------------------ the server-rendered twin
    def _static(self, rest: str, words: str, page: int, *, origin: str) -> Answer:
        if rest == "/search":
            data = self.results_page(words, page, origin=origin)
            rows = "".join(
                f'<li class="result"><img src="{_e(r["image"])}" alt="" width="120" height="120" loading="lazy">'
                f'<a class="result-link" href="{STATIC_BASE}/item/{_e(quote(r["id"]))}">{_e(r["title"])}</a>'
                f'<span class="price">{_e(_price(r))}</span></li>' for r in data["results"])
            nxt = (f'<nav><a rel="next" href="{STATIC_BASE}/search?{_e(urlencode({"q": words, "page": data["page"] + 1}))}">'
                   f'Next</a></nav>') if data["page"] < data["pages"] else ""
            body = f'<h1>{data["total"]} results for \u201c{_e(words)}\u201d</h1><ol id="results">{rows}</ol>{nxt}'
            return _html(_static_page(body))
        if rest.startswith("/item/") and rest[len("/item/"):] in self.by_id:
            item = self.item_json(self.by_id[rest[len("/item/"):]], origin=origin)
            gallery = "".join(f'<img src="{_e(src)}" alt="{_e(item["title"])} photo {n}" width="600" height="600">'
                              for n, src in enumerate(item["images"], start=1))
            specs = "".join(f"<dt>{label}:</dt><dd>{_e(value)}</dd>" for label, value in (
                ("Brand", item["brand"]), ("SKU", item["sku"]), ("MPN", item["mpn"]), ("EAN", item["gtin"]),
                ("Sold by", item["seller"])) if value)
            body = (f'<div class="product"><div class="gallery">{gallery}</div><h1 class="title">{_e(item["title"])}</h1>'
                    f'<div class="price">{_e(_price(item))}</div><dl class="specs">{specs}</dl>'
                    f'<div class="availability">{"In stock" if item["available"] else "Out of stock"}</div>'
                    f'<div class="description">{_e(item["description"])}</div></div>')
            return _html(_static_page(body))
        return 404, "text/html; charset=utf-8", b"<h1>Not found</h1>", {}


def search_form(text: str) -> str:
    """``text`` as the search index holds it: NFKC, invisible format characters dropped, case folded."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf").casefold()


def filler_listings(count: int, *, seed: int, pictures: list[str]) -> list[dict[str, Any]]:
    """``count`` ordinary listings of the demo's product types, from no registered brand."""
    rng = random.Random(seed * 7919 + count)
    types = [(category, product) for category in CATEGORIES for product in category.products]
    sellers = [*GENERIC_SELLERS, *RETAILERS]
    items = []
    for n in range(1, count + 1):
        category, product = types[rng.randrange(len(types))]
        adjective = rng.choice(_ADJECTIVES)
        low, high = product.price
        title = " ".join(part for part in (adjective, product.noun.lower(), product.size) if part)
        items.append({
            "id": f"j-f{n:05d}", "title": title[:1].upper() + title[1:],
            "description": f"{title}. {rng.choice(category.keywords).capitalize()} essentials, ships in 2 days.",
            "price": f"{rng.uniform(low * 0.4, high * 1.1):.2f}", "currency": rng.choice(("USD", "EUR", "GBP")),
            "seller": rng.choice(sellers), "brand_text": None, "sku": f"GEN-{n:05d}", "gtin": None, "mpn": None,
            "available": rng.random() > 0.1, "images": [pictures[n % len(pictures)]] if pictures else [],
            "label": {"infringing": False, "brand": None, "sku": None, "class": "clean", "kinds": ["filler"],
                      "split": "dev"},
        })
    return items


def _price(item: dict[str, Any]) -> str:
    if item.get("price") in (None, ""):
        return "Price on request"
    symbol = {"USD": "US $", "EUR": "\u20ac", "GBP": "\u00a3"}.get(item.get("currency") or "USD")
    return f"{symbol or (str(item.get('currency')) + ' ')}{item['price']}"


def _image_url(item: dict[str, Any], origin: str) -> str:
    images = item.get("images") or []
    return f"{origin}/img/{quote(Path(images[0]).name)}" if images else ""


def _page(value: str) -> int:
    try:
        return max(1, min(int(value), 10_000))
    except ValueError:
        return 1


def _json(data: Any, *, status: int = 200) -> Answer:
    return status, "application/json", json.dumps(data, ensure_ascii=False).encode("utf-8"), {}


def _html(text: str) -> Answer:
    return 200, "text/html; charset=utf-8", text.encode("utf-8"), {}


def _static_page(body: str) -> str:
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Market</title></head><body>'
            f'<header><a href="{STATIC_BASE}/">Market</a></header>'
            f'<div id="app" aria-busy="false" data-state="ready">{body}</div></body></html>')
