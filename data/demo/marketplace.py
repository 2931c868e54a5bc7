"""The demo marketplace: a local HTTP server that serves a demo world as several shops, with real faults.

``DemoMarketplace(world_dir)`` serves the listings of ``world_dir/listings.jsonl`` (the demo world
contract) on 127.0.0.1 and a free port, one shop per entry of ``world.json``'s ``shops``, each with its
own page markup:

- ``json-ld``: schema.org JSON-LD only; pagination by ``<link rel="next">`` in the head only;
- ``microdata``: schema.org microdata only; pagination by a "Next »" text link;
- ``opengraph``: OpenGraph product tags and plain HTML; pagination by ``<a rel="next">``.

Paths: ``/`` (shop list and search form), ``/shop/<slug>/`` (categories), ``/shop/<slug>/c/<cat>?page=N``,
``/shop/<slug>/p/<id>`` (product; ``<id>`` is the listing id in lower case; category cards show prices
as real shops do; ``card_prices=False`` hides them), ``/search?q=&page=``
(all shops; ``a.result-link`` and ``a[rel=next]``), ``/js/...`` and ``/jsr/...`` (the search-only
JavaScript marketplace of :mod:`data.demo.jsmarket`, linked from nowhere), ``/ebay/...`` (the search-only
marketplace behind an eBay-shaped API, :mod:`data.demo.ebayapi`), ``/img/<file>``, ``/robots.txt``, ``/sitemap.xml``
(an index of ``/sitemaps/<slug>.xml``, listing categories and every second product, so the rest must be
found through the category pages), and disallowed paths that pages link to (``/cart/...``,
``/private/...``).

Faults (chosen by position, so the same listings for the same world): a category page that answers 503
once, a slow product page (``slow_seconds``), a product whose first image is truncated, one that also
shows a decompression-bomb PNG, one with broken markup (truncated JSON-LD, unclosed tags), one without a
price, and product links carrying tracking parameters (``?utm_source=...&ref=...``), each page declaring
its clean URL as rel=canonical.  All listing text is HTML-escaped (it is hostile by design).

Product pages also carry, as real shops do, cards of *other* listings with their photos: a "You may also
like" strip (``section.related``), "Recently viewed" (``aside.recently-viewed``), a sponsored slot
(``div.sponsored``) and a carousel right under the gallery (``div.carousel``), plus a shop banner, a logo
and a badge image.  In JSON-LD shops the Product also names related products (``isRelatedTo``, with their
images) and a second JSON-LD block holds an ``ItemList`` of them; in microdata shops the related cards are
nested ``isRelatedTo``/``isSimilarTo`` Products inside the main Product scope; OpenGraph shops show them as
plain HTML cards only.  The listing's own photos are only those of ``listings.jsonl`` (``related=False``
turns the extra cards off), so a crawl that stores any other photo as the listing's own is caught.

``requests`` logs every request (method, path with query, status, user agent), so tests can check that
nothing robots.txt disallows was fetched.  Use as a context manager, or ``serve_forever()`` for the CLI.
"""

from __future__ import annotations

import html
import json
import struct
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from data.demo.ebayapi import EbayApi
from data.demo.jsmarket import JsMarket

ROBOTS_DISALLOWED = ("/cart/", "/private/")
CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
                 ".gif": "image/gif"}
MARKUPS = ("json-ld", "microdata", "opengraph")


@dataclass
class RequestRecord:
    """One request as it arrived; ``status`` is filled in once the answer is ready (0 until then)."""

    method: str
    path: str
    status: int
    user_agent: str


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A crawler that gave up (timeout) closes the connection mid-answer: expected, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Faults:
    """Which listing ids / paths carry which fault (filled from the world, deterministically)."""

    unavailable_once: str = ""
    slow: str = ""
    truncated_image: str = ""
    bomb_image: str = ""
    broken_markup: str = ""
    missing_price: str = ""
    answered_503: set[str] = field(default_factory=set)


def bomb_png(*, width: int = 40_000, height: int = 40_000) -> bytes:
    """A small PNG that declares ``width`` x ``height`` pixels (1.6 G by default): a decompression bomb
    for any decoder that trusts the header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"\x00" * (width // 8 + 1) * 64, 9)  # a few rows; the header is what matters
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _json_for_script(value: Any) -> str:
    """JSON safe inside <script>: no "</script>" breakout, no HTML comment tricks."""
    return (json.dumps(value, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


class DemoWorld:
    """The listings and shops of a world folder, arranged for serving."""

    def __init__(self, world_dir: Path, *, per_page: int = 8, related: bool = True) -> None:
        self.dir = Path(world_dir)
        meta = json.loads((self.dir / "world.json").read_text(encoding="utf-8"))
        self.shops: list[dict[str, Any]] = list(meta["shops"])
        self.listings: list[dict[str, Any]] = [
            json.loads(line) for line in (self.dir / "listings.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        self.per_page = per_page
        #: Show cards of other listings (related, recently viewed, sponsored, carousel) on product pages.
        self.related = related
        self.by_id = {item["id"].lower(): item for item in self.listings}
        self.by_shop: dict[str, list[dict[str, Any]]] = {s["slug"]: [] for s in self.shops}
        for item in self.listings:
            self.by_shop.setdefault(item["shop"], []).append(item)
        self.shop_by_slug = {s["slug"]: s for s in self.shops}
        self.faults = self._choose_faults()
        self._pictured: _Pool | None = None
        self._pictured_by_shop: dict[str, _Pool] = {}
        self._haystacks: list[tuple[dict[str, Any], str]] | None = None

    def haystacks(self) -> list[tuple[dict[str, Any], str]]:
        """(listing, its searchable text casefolded), built once."""
        if self._haystacks is None:
            self._haystacks = [(item, " ".join(str(item.get(k) or "") for k in ("title", "description", "brand_text",
                                                                                 "seller")).casefold())
                               for item in self.listings]
        return self._haystacks

    def _choose_faults(self) -> Faults:
        """Spread the faults over different listings, the same ones for the same world."""
        ordered = [item["id"].lower() for item in self.listings]
        with_images = [i for i in ordered if self.by_id[i].get("images")]
        jsonld = [i for i in ordered if self.markup_of(self.by_id[i]) == "json-ld"] or ordered
        picks: list[str] = []

        def pick(pool: list[str]) -> str:
            for candidate in pool:
                if candidate not in picks:
                    picks.append(candidate)
                    return candidate
            return ""

        faults = Faults()
        faults.broken_markup = pick(jsonld)
        faults.truncated_image = pick(with_images)
        faults.bomb_image = pick(with_images)
        faults.missing_price = pick(ordered[len(ordered) // 2:])
        faults.slow = pick(ordered[len(ordered) // 3:])
        first_shop = self.shops[0]["slug"] if self.shops else ""
        faults.unavailable_once = f"/shop/{first_shop}/c/all?page=2" if self.pages_of(first_shop) > 1 \
            else f"/shop/{first_shop}/c/all?page=1"
        return faults

    def markup_of(self, item: dict[str, Any]) -> str:
        shop = self.shop_by_slug.get(item["shop"], {})
        markup = shop.get("markup", "json-ld")
        return markup if markup in MARKUPS else "json-ld"

    def listed(self, slug: str) -> list[dict[str, Any]]:
        """The shop's listings it still links to: a shop that takes a listing down stops linking it (its
        page answers 410 to whoever still has the URL)."""
        gone = taken_down(self.dir)
        items = self.by_shop.get(slug, [])
        return [i for i in items if i["id"].lower() not in gone] if gone else items

    def pages_of(self, slug: str) -> int:
        count = len(self.listed(slug))
        return max(1, -(-count // self.per_page))

    def product_path(self, item: dict[str, Any]) -> str:
        return f"/shop/{quote(item['shop'])}/p/{quote(item['id'].lower())}"

    def related_items(self, item: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """Other listings shown on ``item``'s page, by strip: ``related`` (4, same shop), ``recent`` (2),
        ``sponsored`` (1, any shop) and ``carousel`` (3); chosen by position, so the same for the same world.
        Only listings with photos are shown."""
        if not self.related:
            return {}
        if self._pictured is None:  # once: a large world has too many listings to filter on every page
            self._pictured = _Pool([i for i in self.listings if i.get("images")])
            self._pictured_by_shop = {slug: _Pool([i for i in self._pictured.items if i["shop"] == slug])
                                      for slug in self.by_shop}
        pictured = self._pictured.without(item)
        if not pictured:
            return {}
        gone = taken_down(self.dir)
        same_shop = self._pictured_by_shop[item["shop"]].without(item) or pictured
        n = int(item["id"].lstrip("Ll") or 0) if item["id"][1:].isdigit() else len(item["id"])

        def take(pool: _PoolView, start: int, count: int) -> list[dict[str, Any]]:
            return [pool[(start + k) % len(pool)] for k in range(min(count, len(pool)))]

        strips = {"related": take(same_shop, n * 7, 4), "recent": take(pictured, n * 13 + 5, 2),
                  "sponsored": take(pictured, n * 31 + 11, 1), "carousel": take(same_shop, n * 3 + 17, 3)}
        if gone:
            strips = {name: [i for i in cards if i["id"].lower() not in gone] for name, cards in strips.items()}
        return strips

    def product_paths(self) -> dict[str, str]:
        """Listing id -> clean product path, for every product served (coverage is measured on these)."""
        return {item["id"]: self.product_path(item) for item in self.listings}


class _Pool:
    """Listings in world order, with each one's position, so "all but this one" is a view, not a copy."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.position = {id(item): n for n, item in enumerate(items)}

    def without(self, item: dict[str, Any]) -> _PoolView:
        return _PoolView(self.items, self.position.get(id(item)))


class _PoolView:
    """``items`` with the one at ``skip`` (if any) left out, indexable."""

    def __init__(self, items: list[dict[str, Any]], skip: int | None) -> None:
        self.items, self.skip = items, skip

    def __len__(self) -> int:
        return len(self.items) - (self.skip is not None)

    def __getitem__(self, k: int) -> dict[str, Any]:
        return self.items[k + 1 if self.skip is not None and k >= self.skip else k]


#: A file in the world folder naming listing ids the demo shops have taken down (one per line): their
#: pages answer 410 Gone, as a marketplace does after a takedown.  ``lookalike demo takedowns`` writes it.
TAKEN_DOWN_FILE = "taken-down.txt"


def taken_down(world_dir: Path) -> frozenset[str]:
    """Listing ids the demo shops have removed (read on each request, so another process can add some)."""
    try:
        text = (world_dir / TAKEN_DOWN_FILE).read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def take_down(world_dir: Path, listing_ids: list[str]) -> None:
    """Make the demo shops remove these listings (append to :data:`TAKEN_DOWN_FILE`)."""
    with (world_dir / TAKEN_DOWN_FILE).open("a", encoding="utf-8") as fh:
        fh.writelines(f"{i}\n" for i in listing_ids)


class DemoMarketplace:
    """The server; ``with DemoMarketplace(world_dir) as market: market.url``."""

    def __init__(self, world_dir: Path, *, host: str = "127.0.0.1", port: int = 0, slow_seconds: float = 1.0,
                 per_page: int = 8, card_prices: bool = True, crawl_delay: float | None = None,
                 related: bool = True) -> None:
        self.world = DemoWorld(world_dir, per_page=per_page, related=related)
        self.slow_seconds = slow_seconds
        #: Show prices on category cards, as most real shops do (a harder test for product detection).
        self.card_prices = card_prices
        #: ``Crawl-delay`` announced in robots.txt (None: none).
        self.crawl_delay = crawl_delay
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._jsmarket: JsMarket | None = None
        self._ebayapi: EbayApi | None = None
        self._server = _QuietServer((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def product_urls(self) -> dict[str, str]:
        """Listing id -> absolute clean product URL."""
        return {lid: self.url + path for lid, path in self.world.product_paths().items()}

    def disallowed_requests(self) -> list[RequestRecord]:
        """Requests for paths robots.txt disallows (a polite crawler makes none)."""
        return [r for r in self.requests if r.path.startswith(ROBOTS_DISALLOWED)]

    # -------------------------------------------------------------------------------- lifecycle
    def start(self) -> DemoMarketplace:
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-marketplace", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (if started) and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> DemoMarketplace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def jsmarket(self) -> JsMarket:
        """The search-only JavaScript marketplace under ``/js/`` (:mod:`data.demo.jsmarket`), built on first use."""
        with self._lock:
            if self._jsmarket is None:
                self._jsmarket = JsMarket(self.world.listings)
            return self._jsmarket

    @property
    def ebayapi(self) -> EbayApi:
        """The search-only marketplace behind an eBay-shaped API under ``/ebay/`` (:mod:`data.demo.ebayapi`)."""
        with self._lock:
            if self._ebayapi is None:
                self._ebayapi = EbayApi(self.world.listings)
            return self._ebayapi

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self.requests.append(entry)

    # ---------------------------------------------------------------------------------- routing
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        market = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "DemoMarketplace/1.0"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib name: only the eBay-shaped API's token takes one
                self.do_GET(method="POST")

            def do_GET(self, method: str = "GET") -> None:  # noqa: N802 - stdlib name
                entry = RequestRecord(method, self.path, 0, self.headers.get("User-Agent", ""))
                market.record(entry)  # on arrival, so a request the client gave up on is logged too
                length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024) if method == "POST" else 0
                sent = self.rfile.read(length) if length else b""
                try:
                    parts = urlsplit(self.path)
                    api = market.ebayapi.respond(method, parts.path, parse_qs(parts.query),
                                                 {k.lower(): v for k, v in self.headers.items()}, sent,
                                                 origin=market.url) if parts.path.startswith("/ebay") else None
                    if api is None and method != "GET":
                        api = (405, "text/plain", b"method not allowed", {})
                    status, ctype, body, headers = api if api is not None else market.respond(self.path)
                except Exception as exc:  # a bug in the demo must show as a 500, not kill the thread
                    status, ctype, body, headers = 500, "text/plain", f"error: {type(exc).__name__}".encode(), {}
                entry.status = status
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def respond(self, raw_path: str) -> tuple[int, str, bytes, dict[str, str]]:
        """(status, content type, body, extra headers) for a GET of ``raw_path``."""
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        page = _int(query.get("page", ["1"])[0])
        world = self.world
        if path == "/robots.txt":
            lines = ["User-agent: *", *[f"Disallow: {p}" for p in ROBOTS_DISALLOWED],
                     *([f"Crawl-delay: {self.crawl_delay}"] if self.crawl_delay else []),
                     f"Sitemap: {self.url}/sitemap.xml", ""]
            return 200, "text/plain; charset=utf-8", "\n".join(lines).encode(), {}
        if path == "/sitemap.xml":
            return 200, "application/xml", self.sitemap_index().encode(), {}
        if path.startswith("/sitemaps/") and path.endswith(".xml"):
            slug = path[len("/sitemaps/"):-4]
            if slug in world.shop_by_slug:
                return 200, "application/xml", self.shop_sitemap(slug).encode(), {}
        if path.startswith(("/js/", "/jsr/")) or path in ("/js", "/jsr"):
            answer = self.jsmarket.respond(path, query, origin=self.url)
            if answer is not None:
                return answer
        if path == "/":
            return self.html(self.home_page())
        if path == "/search":
            return self.html(self.search_page(query.get("q", [""])[0][:200], page))
        if path.startswith("/img/"):
            return self.image(path[len("/img/"):])
        if path.startswith(ROBOTS_DISALLOWED):
            return self.html(_layout("Private", "<p>Nothing for robots here.</p>"))
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2 and segments[0] == "shop" and segments[1] in world.shop_by_slug:
            slug = segments[1]
            if len(segments) == 2:
                return self.html(self.shop_page(slug))
            if len(segments) == 4 and segments[2] == "c" and segments[3] in ("all", "new"):
                key = f"/shop/{slug}/c/{segments[3]}?page={page}"
                with self._lock:
                    first_time = key == world.faults.unavailable_once and key not in world.faults.answered_503
                    if first_time:
                        world.faults.answered_503.add(key)
                if first_time:
                    return 503, "text/html; charset=utf-8", b"<h1>Busy, try again</h1>", {"Retry-After": "0"}
                return self.html(self.category_page(slug, segments[3], page))
            if len(segments) == 4 and segments[2] == "p":
                item = world.by_id.get(segments[3])
                if item is not None and item["shop"] == slug and item["id"].lower() in taken_down(world.dir):
                    return 410, "text/html; charset=utf-8", b"<h1>This listing was removed</h1>", {}
                if item is not None and item["shop"] == slug:
                    if item["id"].lower() == world.faults.slow:
                        time.sleep(self.slow_seconds)
                    return self.html(self.product_page(item))
        return 404, "text/html; charset=utf-8", b"<h1>Not found</h1>", {}

    def html(self, text: str) -> tuple[int, str, bytes, dict[str, str]]:
        return 200, "text/html; charset=utf-8", text.encode("utf-8"), {}

    def image(self, name: str) -> tuple[int, str, bytes, dict[str, str]]:
        if name == "bomb.png":
            return 200, "image/png", bomb_png(), {}
        if name in DECOR_IMAGES:
            return 200, "image/png", decor_png(name), {}
        if "/" in name or name.startswith("."):
            return 404, "text/plain", b"not found", {}
        file = self.world.dir / "listing-images" / name
        if not file.is_file():
            return 404, "text/plain", b"not found", {}
        data = file.read_bytes()
        truncated = self.world.faults.truncated_image
        if truncated and name.lower().startswith(f"{truncated}-0."):
            data = data[: max(16, len(data) * 2 // 3)]
        return 200, CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream"), data, {}

    # ------------------------------------------------------------------------------------ pages
    def home_page(self) -> str:
        shops = "".join(f'<li><a href="/shop/{_e(s["slug"])}/">{_e(s["name"])}</a></li>' for s in self.world.shops)
        body = (f'<form action="/search"><input name="q"><button>Search</button></form><ul>{shops}</ul>'
                '<p><a href="/private/admin">Staff</a></p>')
        return _layout("Demo marketplace", body)

    def shop_page(self, slug: str) -> str:
        shop = self.world.shop_by_slug[slug]
        body = (f'<h1>{_e(shop["name"])}</h1><ul><li><a href="/shop/{_e(slug)}/c/all">All products</a></li>'
                f'<li><a href="/shop/{_e(slug)}/c/new?utm_source=home&amp;utm_medium=nav">New in</a></li></ul>')
        return _layout(shop["name"], body)

    def category_page(self, slug: str, category: str, page: int) -> str:
        world = self.world
        items = world.listed(slug)
        if category == "new":
            items, pages = items[: world.per_page], 1
        else:
            pages = world.pages_of(slug)
        page = min(max(page, 1), pages)
        chunk = items[(page - 1) * world.per_page: page * world.per_page] if category == "all" else items
        cards = []
        for n, item in enumerate(chunk):
            href = world.product_path(item)
            if n % 3 == 1:  # duplicate URLs: the same product behind tracking parameters
                href += "?" + urlencode({"utm_source": "category", "utm_campaign": "demo", "ref": f"{slug}-{page}"})
            price = "" if not self.card_prices or item["id"].lower() == world.faults.missing_price else \
                f' <span class="price">{_e(_price_text(item.get("price"), item.get("currency") or "USD"))}</span>'
            cards.append(f'<li class="card"><a href="{_e(href)}">{_e(item.get("title"))}</a>{price}</li>')
        markup = world.shop_by_slug[slug].get("markup", "json-ld")
        base = f"/shop/{slug}/c/{category}"
        head, nav = "", ""
        if page < pages:
            nxt = f"{base}?page={page + 1}"
            if markup == "json-ld":
                head = f'<link rel="next" href="{_e(nxt)}">'
            elif markup == "microdata":
                nav = f'<a class="pager" href="{_e(nxt)}">Next &raquo;</a>'
            else:
                nav = f'<a rel="next" href="{_e(nxt)}">&rsaquo;</a>'
        body = (f'<h1>{_e(world.shop_by_slug[slug]["name"])}: {_e(category)}</h1><ul>{"".join(cards)}</ul>'
                f'<nav>{nav}</nav><p><a href="/private/wholesale">Wholesale</a></p>')
        return _layout(f"{category} - page {page}", body, head=head)

    def search_page(self, query: str, page: int, per_page: int = 10) -> str:
        tokens = [t for t in query.casefold().split() if t]
        gone = taken_down(self.world.dir)
        hits = [item for item, text in self.world.haystacks()
                if tokens and all(t in text for t in tokens) and item["id"].lower() not in gone]
        pages = max(1, -(-len(hits) // per_page))
        page = min(max(page, 1), pages)
        rows = "".join(
            f'<li><a class="result-link" href="{_e(self.world.product_path(item) + "?ref=search")}">'
            f'{_e(item.get("title"))}</a></li>'
            for item in hits[(page - 1) * per_page: page * per_page]
        )
        nxt = f'<a rel="next" href="/search?{_e(urlencode({"q": query, "page": page + 1}))}">Next</a>' \
            if page < pages else ""
        return _layout(f"Search: {query}", f"<h1>{len(hits)} results</h1><ol>{rows}</ol><nav>{nxt}</nav>")

    def sitemap_index(self) -> str:
        entries = "".join(f"<sitemap><loc>{self.url}/sitemaps/{_e(s['slug'])}.xml</loc></sitemap>"
                          for s in self.world.shops)
        return ('<?xml version="1.0" encoding="UTF-8"?>'
                f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>')

    def shop_sitemap(self, slug: str) -> str:
        urls = [f"{self.url}/shop/{slug}/", f"{self.url}/shop/{slug}/c/all"]
        listed = {id(item) for item in self.world.listed(slug)}
        urls += [self.url + self.world.product_path(item) for item in self.world.by_shop.get(slug, [])[::2]
                 if id(item) in listed]
        entries = "".join(f"<url><loc>{_e(u)}</loc></url>" for u in urls)
        return ('<?xml version="1.0" encoding="UTF-8"?>'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>')

    def product_page(self, item: dict[str, Any]) -> str:
        world = self.world
        lid = item["id"].lower()
        markup = world.markup_of(item)
        canonical = self.url + world.product_path(item)
        images = [f"{self.url}/img/{_e(Path(p).name)}" for p in item.get("images") or []]
        if lid == world.faults.bomb_image:
            images.append(f"{self.url}/img/bomb.png")
        price = None if lid == world.faults.missing_price else item.get("price")
        currency = item.get("currency") or "USD"
        strips = world.related_items(item)
        related = [dict(other, url=self.url + world.product_path(other),
                        image=f"{self.url}/img/{_e(Path(other['images'][0]).name)}")
                   for other in strips.get("related", [])]
        render = {"json-ld": _jsonld_product, "microdata": _microdata_product, "opengraph": _opengraph_product}
        head, body = render[markup](item, canonical=canonical, images=images, price=price, currency=currency,
                                    related=related)
        head = f'<link rel="canonical" href="{_e(canonical)}">' + head
        if strips:
            body = self.decorate(body, strips, markup=markup)
        shop = world.shop_by_slug.get(item["shop"], {"name": item["shop"]})
        body += (f'<p><a href="/cart/add?item={_e(lid)}" rel="nofollow">Add to cart</a> '
                 f'<a href="/shop/{_e(item["shop"])}/c/all">More from {_e(shop["name"])}</a></p>')
        if lid == world.faults.broken_markup:
            head = head.replace("}</script>", "</script>", 1)  # truncated JSON-LD
            body = "<div><span><p>" + body + "<table><tr><td>unclosed"
        return _layout(item.get("title") or "Product", body, head=head)


    def card(self, other: dict[str, Any], *, css: str) -> str:
        """A card linking to another listing's page, with its first photo (never the page's own)."""
        href = self.url + self.world.product_path(other)
        src = f"{self.url}/img/{_e(Path(other['images'][0]).name)}"
        return (f'<li class="{css}"><a href="{_e(href)}"><img src="{src}" alt="{_e(other.get("title"))}" '
                f'loading="lazy"><span class="card-title">{_e(other.get("title"))}</span></a>'
                f'<span class="price">{_e(_price_text(other.get("price"), other.get("currency") or "USD"))}</span></li>')

    def decorate(self, body: str, strips: dict[str, list[dict[str, Any]]], *, markup: str) -> str:
        """Wrap a product body with a banner, a carousel, sponsored, related and recently viewed cards."""
        base = self.url
        banner = (f'<div class="promo-banner"><a href="/shop/{_e(strips["related"][0]["shop"])}/c/new">'
                  f'<img src="{base}/img/banner-sale.png" alt="Sale"></a>'
                  f'<img class="logo" src="{base}/img/shop-logo.png" alt="logo"></div>') if strips.get("related") \
            else ""
        carousel = "".join(self.card(o, css="slide") for o in strips.get("carousel", []))
        sponsored = "".join(self.card(o, css="ad-card") for o in strips.get("sponsored", []))
        related = "" if markup == "microdata" else "".join(self.card(o, css="card") for o in strips.get("related", []))
        recent = "".join(self.card(o, css="card") for o in strips.get("recent", []))
        badge = f'<img class="badge" src="{base}/img/badge-trusted.png" alt="Trusted seller">'
        return (banner + f'<div class="carousel"><ul>{carousel}</ul></div>' + body + badge
                + f'<div class="sponsored"><h3>Sponsored</h3><ul>{sponsored}</ul></div>'
                + (f'<section class="related"><h2>You may also like</h2><ul>{related}</ul></section>' if related else "")
                + f'<aside class="recently-viewed"><h2>Recently viewed</h2><ul>{recent}</ul></aside>')


DECOR_IMAGES = ("banner-sale.png", "shop-logo.png", "badge-trusted.png")


def decor_png(name: str) -> bytes:
    """A small flat PNG for a banner, logo or badge (not a product photo)."""
    size = {"banner-sale.png": (600, 120), "shop-logo.png": (120, 120), "badge-trusted.png": (64, 64)}[name]
    colour = {"banner-sale.png": (230, 40, 60), "shop-logo.png": (30, 90, 160), "badge-trusted.png": (40, 160, 80)}
    w, h = size
    row = b"\x00" + bytes(colour[name]) * w
    raw = zlib.compress(row * h, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------- markups

def _price_text(price: Any, currency: str) -> str:
    return f"{currency} {price}" if price not in (None, "") else "Price on request"


def _related_products(related: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"@type": "Product", "name": o.get("title"), "url": o["url"], "image": o["image"]} for o in related]


def _jsonld_product(item: dict[str, Any], *, canonical: str, images: list[str], price: Any,
                    currency: str, related: list[dict[str, Any]] = ()) -> tuple[str, str]:
    offer: dict[str, Any] = {"@type": "Offer", "url": canonical, "priceCurrency": currency,
                             "availability": "https://schema.org/" + ("InStock" if item.get("available", True)
                                                                      else "OutOfStock"),
                             "seller": {"@type": "Organization", "name": item.get("seller")}}
    if price not in (None, ""):
        offer["price"] = str(price)
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Product", "name": item.get("title"),
                            "description": item.get("description"), "image": images, "offers": offer}
    for key, prop in (("sku", "sku"), ("gtin", "gtin13"), ("mpn", "mpn")):
        if item.get(key):
            data[prop] = item[key]
    if item.get("brand_text"):
        data["brand"] = {"@type": "Brand", "name": item["brand_text"]}
    if related:
        data["isRelatedTo"] = _related_products(related)
    head = f'<script type="application/ld+json">{_json_for_script(data)}</script>'
    if related:
        listing = {"@context": "https://schema.org", "@type": "ItemList", "name": "You may also like",
                   "itemListElement": [{"@type": "ListItem", "position": n, "item": p}
                                       for n, p in enumerate(_related_products(related), start=1)]}
        head += f'<script type="application/ld+json">{_json_for_script(listing)}</script>'
    return head, _plain_product_body(item, images=images, price=price, currency=currency)


def _microdata_product(item: dict[str, Any], *, canonical: str, images: list[str], price: Any,
                       currency: str, related: list[dict[str, Any]] = ()) -> tuple[str, str]:
    ids = "".join(f'<meta itemprop="{prop}" content="{_e(item[key])}">'
                  for key, prop in (("sku", "sku"), ("gtin", "gtin13"), ("mpn", "mpn")) if item.get(key))
    brand = (f'<div itemprop="brand" itemscope itemtype="https://schema.org/Brand">'
             f'<span itemprop="name">{_e(item["brand_text"])}</span></div>') if item.get("brand_text") else ""
    gallery = "".join(f'<img itemprop="image" src="{u}" alt="">' for u in images)
    price_html = (f'<span itemprop="price" content="{_e(price)}">{_e(_price_text(price, currency))}</span>'
                  if price not in (None, "") else "<span>Price on request</span>")
    availability = "InStock" if item.get("available", True) else "OutOfStock"
    body = (
        f'<div itemscope itemtype="https://schema.org/Product">'
        f'<link itemprop="url" href="{_e(canonical)}">'
        f'<h1 itemprop="name">{_e(item.get("title"))}</h1>{gallery}{ids}{brand}'
        f'<div itemprop="description">{_e(item.get("description"))}</div>'
        f'<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        f'<meta itemprop="priceCurrency" content="{_e(currency)}">{price_html}'
        f'<link itemprop="availability" href="https://schema.org/{availability}">'
        f'<div itemprop="seller" itemscope itemtype="https://schema.org/Organization">'
        f'Sold by <span itemprop="name">{_e(item.get("seller"))}</span></div></div>'
        + _microdata_related(related) + '</div>'
    )
    return "", body


def _microdata_related(related: list[dict[str, Any]]) -> str:
    """Related products nested in the main Product scope, as many shop themes do."""
    if not related:
        return ""
    cards = "".join(
        f'<li itemprop="{"isRelatedTo" if n % 2 == 0 else "isSimilarTo"}" itemscope '
        f'itemtype="https://schema.org/Product"><a itemprop="url" href="{_e(o["url"])}">'
        f'<img itemprop="image" src="{o["image"]}" alt=""><span itemprop="name">{_e(o.get("title"))}</span></a></li>'
        for n, o in enumerate(related))
    return f'<section class="related"><h2>You may also like</h2><ul>{cards}</ul></section>'



def _opengraph_product(item: dict[str, Any], *, canonical: str, images: list[str], price: Any,
                       currency: str, related: list[dict[str, Any]] = ()) -> tuple[str, str]:
    tags = [("og:type", "product"), ("og:title", item.get("title")), ("og:description", item.get("description")),
            ("og:url", canonical)]
    tags += [("og:image", u) for u in images]
    if price not in (None, ""):
        tags += [("product:price:amount", price), ("product:price:currency", currency)]
    if item.get("brand_text"):
        tags.append(("product:brand", item["brand_text"]))
    head = "".join(f'<meta property="{_e(k)}" content="{_e(v)}">' for k, v in tags if v not in (None, ""))
    return head, _plain_product_body(item, images=images, price=price, currency=currency)


def _plain_product_body(item: dict[str, Any], *, images: list[str], price: Any, currency: str) -> str:
    """The visible product page of the shops whose data sits in the head (JSON-LD, OpenGraph)."""
    gallery = "".join(f'<img src="{u}" alt="">' for u in images)
    return (f'<h1>{_e(item.get("title"))}</h1><div class="gallery">{gallery}</div>'
            f'<p class="price">{_e(_price_text(price, currency))}</p>'
            f'<div class="description">{_e(item.get("description"))}</div>'
            f'<p class="seller">Sold by {_e(item.get("seller"))}</p>')


def _layout(title: str, body: str, *, head: str = "") -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>{head}</head>'
            f'<body><header><a href="/">Demo marketplace</a> <a href="/search?q=sale">Sale</a></header>'
            f"<main>{body}</main></body></html>")


def _int(value: str) -> int:
    try:
        return max(1, min(int(value), 10_000))
    except ValueError:
        return 1
