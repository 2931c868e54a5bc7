"""Shopify and WooCommerce adapters: pure tables, then a crawl of local servers answering the documented
response shapes (Shopify ``/products.json`` + ``/meta.json``; WooCommerce Store API v1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from crawl_support import FAST_CRAWL
from sqlalchemy import select

from core.settings import load_settings
from crawlers.platforms import shopify, woocommerce
from crawlers.run import CrawlRequest, run_crawl
from storage.db import Database
from storage.models import CrawlRun, Listing, Marketplace


def shopify_product(n: int) -> dict:
    return {
        "id": 7000 + n, "title": f"Glow Serum {n}", "handle": f"glow-serum-{n}",
        "body_html": f"<p>Serum <b>number</b> {n}</p><script>alert(1)</script>", "vendor": "Glowmint",
        "product_type": "Serum", "tags": ["skin"],
        "variants": [{"id": 1, "title": "50 ml", "sku": f"GS-{n}-50", "price": "29.00", "available": False},
                     {"id": 2, "title": "30 ml", "sku": f"GS-{n}-30", "price": "19.50", "available": True}],
        "images": [{"id": 2, "src": f"//cdn.example.com/b{n}.jpg", "position": 2},
                   {"id": 1, "src": f"https://cdn.example.com/a{n}.jpg", "position": 1}],
    }


def woo_product(n: int) -> dict:
    return {
        "id": 300 + n, "name": f"Lip Kit {n}", "slug": f"lip-kit-{n}", "parent": 0, "type": "simple",
        "permalink": f"/product/lip-kit-{n}/?utm_source=feed", "sku": f"LK-{n}",
        "short_description": "<p>Short</p>", "description": f"<p>Long &amp; glossy {n}</p>",
        "prices": {"price": "2450", "regular_price": "2900", "sale_price": "2450", "currency_code": "EUR",
                   "currency_symbol": "€", "currency_minor_unit": 2, "currency_decimal_separator": ",",
                   "currency_thousand_separator": ".", "currency_prefix": "", "currency_suffix": " €"},
        "images": [{"id": 9, "src": f"https://shop.example/wp-content/uploads/lk{n}.jpg", "thumbnail": "", "alt": ""}],
        "brands": [{"id": 1, "name": "Fullips", "slug": "fullips"}],
        "is_in_stock": n % 2 == 0, "is_purchasable": True,
    }


def test_shopify_adapter():
    [listing] = shopify.listings_from_products({"products": [shopify_product(1), {"title": "no handle"}]},
                                               base_url="https://s.example", shop_name="Glow Shop", currency="USD")
    assert listing.url == "https://s.example/products/glow-serum-1"
    assert listing.external_id == "7001" and listing.sku == "GS-1-50"
    assert listing.price == Decimal("19.50") and listing.currency == "USD"
    assert listing.image_urls == ["https://cdn.example.com/a1.jpg", "https://cdn.example.com/b1.jpg"]
    assert listing.availability == "InStock" and listing.brand == "Glowmint" and listing.seller == "Glow Shop"
    assert "alert" not in (listing.description or "") and "<" not in (listing.description or "")
    assert shopify.listings_from_products({"products": "nope"}, base_url="https://s.example") == []
    assert shopify.shop_info({"name": "Glow Shop", "currency": "usd"}) == ("Glow Shop", "USD")
    assert shopify.products_url("https://s.example/", page=3) == "https://s.example/products.json?limit=250&page=3"


@pytest.mark.parametrize(
    ("prices", "expected"),
    [({"price": "2450", "currency_minor_unit": 2}, Decimal("24.50")),
     ({"price": "1500", "currency_minor_unit": 0}, Decimal("1500")),
     ({"price": "abc", "currency_minor_unit": 2}, None),
     ({"price": "-5", "currency_minor_unit": 2}, None),
     ({"price": "100", "currency_minor_unit": 9}, None),
     ("2450", None)],
)
def test_woocommerce_minor_units(prices, expected):
    assert woocommerce.minor_units_price(prices) == expected


def test_woocommerce_adapter():
    [listing] = woocommerce.listings_from_products([woo_product(2), {"name": "no permalink"}, "junk"],
                                                   base_url="https://w.example", shop_name="W")
    assert listing.url == "https://w.example/product/lip-kit-2/?utm_source=feed"
    assert listing.canonical_url == "https://w.example/product/lip-kit-2/"
    assert (listing.price, listing.currency, listing.sku, listing.brand) == (Decimal("24.50"), "EUR", "LK-2", "Fullips")
    assert listing.description == "Long & glossy 2" and listing.availability == "InStock"
    assert woocommerce.total_pages(b"3") == 3 and woocommerce.total_pages(None) is None
    assert woocommerce.listings_from_products({"code": "rest_no_route"}, base_url="https://w.example") == []


class PlatformServer:
    """A local shop answering Shopify's and WooCommerce's public JSON, with a request log."""

    def __init__(self, *, shopify_count: int, woo_count: int) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                status, body, headers = outer.answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.shopify = [shopify_product(n) for n in range(shopify_count)]
        self.woo = [woo_product(n) for n in range(woo_count)]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, raw: str) -> tuple[int, object, dict[str, str]]:
        parts = urlsplit(raw)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/robots.txt":
            return 404, {}, {}
        if parts.path == "/meta.json":
            return 200, {"id": 1, "name": "Glow Shop", "currency": "CAD", "domain": "glow.example"}, {}
        if parts.path == "/products.json":
            limit, page = int(query.get("limit", 30)), int(query.get("page", 1))
            return 200, {"products": self.shopify[(page - 1) * limit: page * limit]}, {}
        if parts.path == woocommerce.API_PATH:
            per, page = int(query.get("per_page", 10)), int(query.get("page", 1))
            pages = max(1, -(-len(self.woo) // per))
            return 200, self.woo[(page - 1) * per: page * per], {"X-WP-Total": str(len(self.woo)),
                                                                  "X-WP-TotalPages": str(pages)}
        return 404, {"code": "not_found"}, {}

    def __enter__(self) -> PlatformServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def platform_server() -> Iterator[PlatformServer]:
    with PlatformServer(shopify_count=260, woo_count=120) as server:
        yield server


def test_platform_crawls_page_through_whole_catalogues(tmp_path: Path, platform_server: PlatformServer):
    db_url = f"sqlite:///{tmp_path / 'p.db'}"
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    overrides = {**FAST_CRAWL, "LOOKALIKE_IMAGES_ENABLED": False}
    shop_run = run_crawl(settings, CrawlRequest(start_urls=[platform_server.url], platform="shopify", marketplace="glow",
                         scrapy_overrides=overrides, images=False))
    woo_run = run_crawl(settings, CrawlRequest(start_urls=[platform_server.url + "/shop/"], platform="woocommerce",
                        marketplace="lips", images=False, scrapy_overrides=overrides))
    db = Database(db_url)
    with db.session() as session:
        for run_id in (shop_run, woo_run):
            run = session.get(CrawlRun, run_id)
            assert run.status == "finished", run.stats.get("log_tail")
        by_market = {m.name: m for m in session.execute(select(Marketplace)).scalars()}
        assert by_market["glow"].kind == "shopify" and by_market["lips"].kind == "woocommerce"
        glow = session.execute(select(Listing).where(Listing.marketplace_id == by_market["glow"].id)).scalars().all()
        lips = session.execute(select(Listing).where(Listing.marketplace_id == by_market["lips"].id)).scalars().all()
    db.dispose()
    assert len(glow) == 260 and len(lips) == 120
    assert {row.currency for row in glow} == {"CAD"} and {row.seller for row in glow} == {"Glow Shop"}
    assert {row.currency for row in lips} == {"EUR"} and all(row.external_id for row in lips)
    assert "/products.json?limit=250&page=2" in platform_server.requests
    assert "/products.json?limit=250&page=3" in platform_server.requests  # the empty page ends the paging
    assert not any("page=4" in p and "products.json" in p for p in platform_server.requests)
    woo_pages = [p for p in platform_server.requests if p.startswith(woocommerce.API_PATH)]
    assert len(woo_pages) == 2  # X-WP-TotalPages says 2
