"""The profile search spider: searches a marketplace for each query and reads the listings it finds.

Nightly scans use it instead of crawling whole marketplaces.  Navigation comes from the profile (search
URL template, result-link and next-page selectors, limits per query); the listing pages are read by the
profile's parser.  Its scope is ``search``: a listing missing from today's results is not "gone".

A profile with ``render: browser`` has its pages rendered by Chromium (:mod:`crawlers.browser`): the
spider only adds the rendering meta to its requests and switches the site's download handler; the
responses are the rendered DOM, navigated and parsed exactly like served HTML.

``scrapy crawl search -a profile=demo -a base_url=http://127.0.0.1:8000 -a queries=fullips,ful1ips``
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response, TextResponse

from crawlers.processors import absolute_url, strip_tracking
from crawlers.profiles import Profile, SelectorSpec, load_profile
from crawlers.spiders.base import LookalikeSpider, split_arg
from crawlers.spiders.links import same_site_as
from crawlers.spiders.parsing import listing_parser

MAX_QUERIES = 500


def select_urls(selector: Selector, spec: SelectorSpec, *, base_url: str) -> list[str]:
    """Absolute http(s) URLs a selector picks: attribute/text results as they are, elements by ``@href``."""
    picked = selector.css(spec.css) if spec.css is not None else selector.xpath(spec.xpath or "")
    urls: list[str] = []
    for node in picked:
        value = node.root if isinstance(node.root, str) else node.attrib.get("href")
        url = absolute_url(value, base=base_url)
        if url and url not in urls:
            urls.append(url)
    return urls


class ProfileSearchSpider(LookalikeSpider):
    name = "search"
    marketplace_kind = "marketplace"
    crawl_scope = "search"

    def __init__(
        self,
        *args: Any,
        profile: Profile | str | None = None,
        queries: Any = None,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        if profile is None:
            raise ValueError("the search spider needs a profile (-a profile=NAME)")
        if not isinstance(profile, Profile):
            profile = load_profile(profile, base_url=base_url)
        elif base_url:
            profile = Profile(**{**profile.model_dump(), "base_url": base_url})
        if profile.search is None or not profile.base_url:
            raise ValueError(f"profile {profile.name!r} needs a search section and a base_url")
        kwargs.setdefault("parser", listing_parser(profile.parser))
        super().__init__(*args, marketplace=kwargs.pop("marketplace", None) or profile.name,
                         base_url=profile.base_url, **kwargs)
        self.profile = profile
        self.queries = list(dict.fromkeys(q for q in split_arg(queries) if q.strip()))[:MAX_QUERIES]
        if not self.queries:
            raise ValueError("the search spider needs at least one query (-a queries=a,b)")
        self.marketplace_kind = profile.kind
        self.trust([profile.base_url])
        self.results_taken: dict[str, int] = {}
        #: Per query, the listing links its result pages gave (read by the query record pipeline).
        self.query_links: dict[str, list[str]] = {q: [] for q in self.queries}
        #: Per requested listing link, the listing it became: (external id, canonical URL).
        self.found_listings: dict[str, tuple[str | None, str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ProfileSearchSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # The profile sets this site's pace; settings are not frozen yet at this point.
        profile = spider.profile
        if profile.requests_per_minute:
            crawler.settings.set("DOWNLOAD_DELAY", max(profile.download_delay,
                                 crawler.settings.getfloat("DOWNLOAD_DELAY")), priority="spider")
        crawler.settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", min(profile.concurrency,
                             crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")), priority="spider")
        if profile.render == "browser":
            # Imported here: Playwright loads only for crawls that render pages.
            from crawlers.browser import browser_crawl_settings

            crawler.settings.setdict(browser_crawl_settings(profile, crawler.settings), priority="spider")
        return spider

    def render_meta(self) -> dict[str, Any]:
        """``Request.meta`` for a page of the profile: the browser's for ``render: browser``, else none."""
        if self.profile.render != "browser":
            return {}
        from crawlers.browser import browser_meta

        return browser_meta(self.profile, max_page_bytes=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    async def start(self) -> AsyncIterator[Any]:
        for query in self.queries:
            self.crawler.stats.inc_value("lookalike/search/queries")
            yield scrapy.Request(
                self.profile.search_url(query),
                callback=self.parse_results,
                cb_kwargs={"query": query, "page": 1},
                dont_filter=True,
                meta=self.render_meta(),
            )

    def parse_results(self, response: Response, query: str, page: int) -> Iterator[Any]:
        self.crawler.stats.inc_value("lookalike/pages")
        self.crawler.stats.inc_value("lookalike/search/result_pages")
        if not isinstance(response, TextResponse):
            return
        search = self.profile.search
        assert search is not None
        for url in select_urls(response.selector, search.result_links, base_url=response.url):
            if not same_site_as(url, [self.profile.base_url or response.url]):
                self.crawler.stats.inc_value("lookalike/search/offsite_results")  # ads, click trackers
                continue
            taken = self.results_taken.get(query, 0)
            if taken >= search.max_results_per_query:
                self.crawler.stats.inc_value("lookalike/search/results_over_limit")
                break
            self.results_taken[query] = taken + 1
            self.crawler.stats.inc_value("lookalike/search/results")
            link = strip_tracking(url)
            self.query_links.setdefault(query, []).append(link)
            # Several queries find the same listing: the dupe filter fetches it once.
            yield scrapy.Request(link, callback=self.parse_listing, meta=self.render_meta())
        if search.next_page is None or page >= search.max_pages_per_query:
            return
        if self.results_taken.get(query, 0) >= search.max_results_per_query:
            return
        for url in select_urls(response.selector, search.next_page, base_url=response.url)[:1]:
            yield scrapy.Request(url, callback=self.parse_results, cb_kwargs={"query": query, "page": page + 1},
                                 meta=self.render_meta())

    def parse_listing(self, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value("lookalike/pages")
        listing = self.listing_from(response)
        if listing is not None:
            requested = (response.meta.get("redirect_urls") or [response.request.url])[0]
            self.found_listings[requested] = (listing.external_id, listing.canonical_url or listing.url)
            yield listing
