"""Platform spiders: read a Shopify or WooCommerce shop's whole catalogue from its public JSON.

Faster and more exact than crawling the shop's pages: one request per 100-250 products.  Scope
``full``: the catalogue is complete, so listings it no longer shows count as missed.

``scrapy crawl shopify -a start_urls=https://shop.example`` / ``scrapy crawl woocommerce -a ...``
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.platforms import shopify, woocommerce
from crawlers.spiders.base import LookalikeSpider, split_arg
from crawlers.spiders.links import origin

DEFAULT_MAX_PAGES = 40


class PlatformSpider(LookalikeSpider):
    crawl_scope = "full"

    def __init__(self, *args: Any, start_urls: Any = None, max_pages: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        urls = split_arg(start_urls)
        if len(urls) != 1 or not urls[0].lower().startswith(("http://", "https://")):
            raise ValueError("a platform crawl takes exactly one shop URL (https://shop.example)")
        self.shop_url = origin(urls[0])
        self.start_urls = [self.shop_url]
        self.max_pages = int(max_pages) if max_pages else DEFAULT_MAX_PAGES
        self.marketplace_name = self.marketplace_name or self.default_marketplace(self.shop_url)
        self.marketplace_base_url = self.shop_url
        self.trust([self.shop_url])
        self.page_limit_reached = False
        self.failed_pages = 0

    def decode(self, response: Response) -> Any:
        try:
            return json.loads(response.body)
        except ValueError:
            self.crawler.stats.inc_value("lookalike/platform/bad_json")
            return None

    def page_failed(self, failure: Failure) -> None:
        # A missing catalogue page means the catalogue is incomplete: no listing may count as missed.
        self.failed_pages += 1
        self.crawler.stats.inc_value("lookalike/pages_failed")


class ShopifySpider(PlatformSpider):
    name = "shopify"
    marketplace_kind = "shopify"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(shopify.meta_url(self.shop_url), callback=self.parse_meta, errback=self.meta_failed)

    def parse_meta(self, response: Response) -> Iterator[Any]:
        name, currency = shopify.shop_info(self.decode(response))
        yield self.page(1, shop_name=name, currency=currency)

    def meta_failed(self, failure: Failure) -> Iterator[Any]:
        yield self.page(1, shop_name=None, currency=None)

    def page(self, number: int, *, shop_name: str | None, currency: str | None) -> scrapy.Request:
        return scrapy.Request(shopify.products_url(self.shop_url, page=number), callback=self.parse_products,
                              errback=self.page_failed,
                              cb_kwargs={"number": number, "shop_name": shop_name, "currency": currency})

    def parse_products(self, response: Response, number: int, shop_name: str | None,
                       currency: str | None) -> Iterator[Any]:
        self.crawler.stats.inc_value("lookalike/pages")
        data = self.decode(response)
        listings = shopify.listings_from_products(data, base_url=self.shop_url, shop_name=shop_name or
                                                  self.marketplace_name, currency=currency)
        for listing in listings:
            listing.marketplace = self.marketplace_name
            yield listing
        products = data.get("products") if isinstance(data, dict) else None
        if products:
            if number < self.max_pages:
                yield self.page(number + 1, shop_name=shop_name, currency=currency)
            else:
                self.page_limit_reached = True
                self.crawler.stats.set_value("lookalike/page_limit_reached", self.max_pages)


class WooCommerceSpider(PlatformSpider):
    name = "woocommerce"
    marketplace_kind = "woocommerce"

    async def start(self) -> AsyncIterator[Any]:
        yield self.page(1)

    def page(self, number: int) -> scrapy.Request:
        return scrapy.Request(woocommerce.products_url(self.shop_url, page=number), callback=self.parse_products,
                              errback=self.page_failed, cb_kwargs={"number": number},
                              headers={"Accept": "application/json"})

    def parse_products(self, response: Response, number: int) -> Iterator[Any]:
        self.crawler.stats.inc_value("lookalike/pages")
        data = self.decode(response)
        for listing in woocommerce.listings_from_products(data, base_url=self.shop_url,
                                                          shop_name=self.marketplace_name):
            listing.marketplace = self.marketplace_name
            yield listing
        pages = woocommerce.total_pages(response.headers.get("X-WP-TotalPages"))
        more = number < pages if pages is not None else bool(data)
        if more:
            if number < self.max_pages:
                yield self.page(number + 1)
            else:
                self.page_limit_reached = True
                self.crawler.stats.set_value("lookalike/page_limit_reached", self.max_pages)
