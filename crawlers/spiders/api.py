"""The API spider: searches a marketplace's official API for each query and yields its listings.

Navigation only: the connector module (:mod:`crawlers.connectors`) builds every call and reads every
answer; the credentials are applied by :mod:`crawlers.middlewares.apiauth` just before a call is sent,
quotas and pacing are kept by :mod:`crawlers.middlewares.apiquota`.  Listings go through the same
pipelines as pages (validation, images behind the network policy, storage) and the run is recorded in
``crawl_runs`` like any crawl.  Its scope is ``search``: a listing missing from today's results is not gone.

It takes its queries exactly as the search spider does (a list of strings), so a query planner can feed
either.  ``resume`` (query -> offset) continues the queries a night left unfinished, before the others.

``scrapy crawl api -a connector=ebay -a queries=fullips,"lip plumper"``
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from core.errors import LookalikeError
from crawlers.connectors import connector as connector_module
from crawlers.connectors.base import AnswerError, ApiCall, ConnectorConfig, CredentialsRefused
from crawlers.items import Listing
from crawlers.middlewares.apiauth import CALL_META, end_run
from crawlers.settings import lookalike_settings
from crawlers.spiders.base import LookalikeSpider, split_arg
from crawlers.spiders.search import MAX_QUERIES

#: Deepest JSON nesting read from an answer (deeper answers are malformed, not parsed).
MAX_JSON_DEPTH = 64


class ApiSearchSpider(LookalikeSpider):
    name = "api"
    marketplace_kind = "marketplace"
    crawl_scope = "search"

    def __init__(
        self,
        *args: Any,
        connector: str | None = None,
        queries: Any = None,
        base_url: str | None = None,
        site: str | None = None,
        page_size: int | str | None = None,
        max_results_per_query: int | str | None = None,
        details: bool | str = True,
        resume: dict[str, int] | None = None,
        **kwargs: Any,
    ) -> None:
        if not connector:
            raise ValueError("the api spider needs a connector (-a connector=ebay)")
        try:
            self.connector = connector_module(connector)
        except LookalikeError as exc:
            raise ValueError(str(exc)) from None
        self.base_url_arg = base_url
        super().__init__(*args, marketplace=kwargs.pop("marketplace", None) or self.connector.NAME,
                         base_url=base_url, **kwargs)
        self.queries = list(dict.fromkeys(q.strip() for q in split_arg(queries) if q.strip()))[:MAX_QUERIES]
        if not self.queries:
            raise ValueError("the api spider needs at least one query (-a queries=a,b)")
        self.site = site
        self.page_size = int(page_size) if page_size else self.connector.MAX_PAGE_SIZE
        self.max_results_per_query = int(max_results_per_query) if max_results_per_query else 200
        self.details = details not in (False, "false", "0", "no")
        self.resume = {q: int(o) for q, o in (resume or {}).items() if isinstance(o, int) and o >= 0}
        #: Queries not finished, with the offset to continue from (the next night's ``resume``).
        self.open_queries: dict[str, int] = {}
        #: Per query, the listings its answers gave, and per listing its (external id, canonical URL): the
        #: same notes the search spider keeps for the query record pipeline.
        self.query_links: dict[str, list[str]] = {q: [] for q in self.queries}
        self.found_listings: dict[str, tuple[str | None, str]] = {}
        self.config: ConnectorConfig | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ApiSearchSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = lookalike_settings(crawler.settings)
        base_url = spider.base_url_arg or getattr(settings, f"{spider.connector.NAME}_api_url")
        site = spider.site or (settings.ebay_marketplace_id if spider.connector.NAME == "ebay" else None)
        spider.config = ConnectorConfig(base_url=base_url, site=site, page_size=spider.page_size,
                                        max_results_per_query=spider.max_results_per_query,
                                        details=spider.details and spider.connector.DETAILS)
        spider.marketplace_base_url = base_url
        spider.trust([base_url])  # the API a person configured; image URLs from its answers are not trusted
        return spider

    # ------------------------------------------------------------------------------------ requests
    def request_for(self, call: ApiCall, **kwargs: Any) -> scrapy.Request:
        """A Scrapy request for a connector's call (credentials are added by the auth middleware)."""
        return scrapy.Request(
            call.url, method=call.method, headers=dict(call.headers),
            body=urlencode(call.form) if call.form else None,
            meta={CALL_META: call, "dont_obey_robotstxt": True}, dont_filter=True, **kwargs,
        )

    def resume_point(self) -> dict[str, int]:
        """Queries left unfinished (reached or not), with the offset each continues from."""
        return dict(self.open_queries)

    async def start(self) -> AsyncIterator[Any]:
        assert self.config is not None
        ordered = [q for q in self.resume if q in self.queries] + [q for q in self.queries if q not in self.resume]
        for query in ordered:
            self.open_queries[query] = self.resume.get(query, 0)
        self.crawler.stats.set_value("lookalike/source/unfinished_queries", len(self.open_queries))
        for query in ordered:
            self.crawler.stats.inc_value("lookalike/search/queries")
            offset = self.resume.get(query, 0)
            try:
                call = (self.connector.search_call(query, offset=offset, config=self.config) if offset
                        else self.connector.first_call(query, config=self.config))
            except ValueError:  # a stored offset the API's rules no longer allow: start the query again
                call = self.connector.first_call(query, config=self.config)
            yield self.request_for(call, callback=self.parse_search, errback=self.search_failed)

    # ------------------------------------------------------------------------------------- answers
    def answer(self, response: Response) -> Any:
        """The JSON of an answer; ``AnswerError`` for one that is not JSON or nested deeper than allowed."""
        try:
            data = json.loads(response.body)
        except (ValueError, RecursionError):
            raise AnswerError("the answer is not JSON") from None
        if _depth_over(data, MAX_JSON_DEPTH):
            raise AnswerError(f"the answer is nested deeper than {MAX_JSON_DEPTH} levels")
        return data

    def parse_search(self, response: Response) -> Iterator[Any]:
        call: ApiCall = response.meta[CALL_META]
        stats = self.crawler.stats
        stats.inc_value("lookalike/pages")
        stats.inc_value("lookalike/search/result_pages")
        try:
            page = self.connector.read_search(self.answer(response), call=call, config=self.config)
        except CredentialsRefused as exc:
            self.refused(str(exc))
            return
        except AnswerError as exc:
            stats.inc_value("lookalike/api/answers_malformed")
            self.logger.warning("%s: %s", self.connector.NAME, exc)
            return  # the query stays open: the next night tries it again
        stats.inc_value("lookalike/api/entries_skipped", page.skipped)
        for note in page.notes:
            stats.inc_value(f"lookalike/api/{note}")
        stats.inc_value("lookalike/search/results", len(page.listings))
        listings = {listing.external_id or listing.url: listing for listing in page.listings}
        for listing in page.listings:
            key = listing.canonical_url or listing.url
            self.query_links.setdefault(call.query or "", []).append(key)
            self.found_listings[key] = (listing.external_id, key)
        covered: set[str] = set()
        for detail in page.details:
            ids = [i for i in (detail.query or "").split(",") if i in listings]
            covered.update(ids)
            batch = {i: listings[i] for i in ids}
            yield self.request_for(detail, callback=self.parse_detail, errback=self.detail_failed,
                                   cb_kwargs={"listings": batch})
        for key, listing in listings.items():
            if key not in covered:
                yield self.finished(listing)
        if page.next is not None:
            self.open_queries[call.query or ""] = page.next.offset
            yield self.request_for(page.next, callback=self.parse_search, errback=self.search_failed)
        else:
            self.open_queries.pop(call.query or "", None)
            self.crawler.stats.set_value("lookalike/source/unfinished_queries", len(self.open_queries))

    def parse_detail(self, response: Response, listings: dict[str, Listing]) -> Iterator[Any]:
        self.crawler.stats.inc_value("lookalike/pages")
        try:
            completed = self.connector.read_detail(self.answer(response), listings=listings)
        except CredentialsRefused as exc:
            self.refused(str(exc))
            completed = list(listings.values())
        except AnswerError as exc:
            self.crawler.stats.inc_value("lookalike/api/answers_malformed")
            self.logger.warning("%s: %s", self.connector.NAME, exc)
            completed = list(listings.values())
        for listing in completed:
            yield self.finished(listing)

    def detail_failed(self, failure: Any) -> Iterator[Any]:
        """A detail call that failed leaves the listings as the search answer gave them."""
        self.crawler.stats.inc_value("lookalike/api/details_failed")
        for listing in failure.request.cb_kwargs.get("listings", {}).values():
            yield self.finished(listing)

    def search_failed(self, failure: Any) -> None:
        """A search call that failed (or was held back by the quota) leaves its query open for next time."""
        self.crawler.stats.inc_value("lookalike/api/searches_failed")

    def finished(self, listing: Listing) -> Listing:
        listing.marketplace = self.marketplace_name
        self.crawler.stats.inc_value("lookalike/listings_parsed")
        return listing

    def refused(self, message: str) -> None:
        """The API refused the credentials: the run ends now, with the reason in its record."""
        end_run(self.crawler, "credentials_refused", message)


def _depth_over(data: Any, limit: int) -> bool:
    """True when ``data`` nests lists and objects deeper than ``limit`` (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
    return False
