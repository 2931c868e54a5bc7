"""Pipeline: record what each search query found, one ``query_runs`` row per query of a search crawl.

The search spider notes, per query, the listing links its result pages gave (``query_links``) and, per
fetched link, the listing it became (``found_listings``: external id and canonical URL, the storage
pipeline's keys).  When the spider has closed, after the storage pipeline flushed its last batch, this
pipeline turns those notes into rows: results, the stored listings found (ids), and the new ones among
them (first seen since the crawl started).  Suspects are counted after matching
(:func:`services.querystats.count_suspects`).  Spiders without queries are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from scrapy import signals
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crawlers.settings import lookalike_settings
from storage.db import Database
from storage.models import CrawlRun, Listing, QueryRun, utcnow

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200


class QueryRecordPipeline:
    def __init__(self, *, crawler: Any, database_url: str) -> None:
        self.crawler = crawler
        self.database_url = database_url

    @classmethod
    def from_crawler(cls, crawler: Any) -> QueryRecordPipeline:
        settings = lookalike_settings(crawler.settings)
        pipeline = cls(crawler=crawler,
                       database_url=crawler.settings.get("LOOKALIKE_DATABASE_URL") or settings.database_url)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any) -> Any:
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        links: Mapping[str, list[str]] | None = getattr(spider, "query_links", None)
        run_id = self.crawler.stats.get_value("lookalike/crawl_run_id")
        if not links or not run_id:
            return
        found: Mapping[str, tuple[str | None, str]] = getattr(spider, "found_listings", {})
        database = Database(self.database_url)
        try:
            with database.session() as session:
                written = record_queries(session, crawl_run_id=int(run_id), source=spider.marketplace_name,
                                         links=links, found=found)
            self.crawler.stats.set_value("lookalike/search/queries_recorded", written)
        except Exception:  # the record helps the next plan; losing it must not fail the crawl
            logger.exception("could not record the crawl's search queries")
        finally:
            database.dispose()


def record_queries(session: Session, *, crawl_run_id: int, source: str, links: Mapping[str, Iterable[str]],
                   found: Mapping[str, tuple[str | None, str]]) -> int:
    """Write one ``query_runs`` row per query of ``links`` (query -> requested listing URLs), resolving the
    listings ``found`` (requested URL -> external id, canonical URL) to stored rows; returns the rows."""
    run = session.get(CrawlRun, crawl_run_id)
    if run is None or run.marketplace_id is None:
        return 0
    keys = {found[url] for urls in links.values() for url in urls if url in found}
    stored = _stored(session, run.marketplace_id, keys)
    started = run.started_at
    written = 0
    for query, urls in links.items():
        ids: list[int] = []
        new = 0
        for url in dict.fromkeys(urls):
            listing = stored.get(found[url]) if url in found else None
            if listing is None or listing.id in ids:
                continue
            ids.append(listing.id)
            first_seen = listing.first_seen
            if first_seen is not None and started is not None:
                if first_seen.tzinfo is None:  # SQLite gives naive UTC back
                    first_seen = first_seen.replace(tzinfo=started.tzinfo)
                if started.tzinfo is None:
                    started = started.replace(tzinfo=first_seen.tzinfo)
                new += first_seen >= started
        text = " ".join(query.split())[:MAX_QUERY_CHARS]
        session.add(QueryRun(crawl_run_id=crawl_run_id, scan_id=run.scan_id, source=source[:200], query=text,
                             query_key=text.casefold()[:MAX_QUERY_CHARS], ran_at=utcnow(),
                             results=len(list(urls)), new_listings=new, suspects=None, listing_ids=ids))
        written += 1
    return written


def _stored(session: Session, marketplace_id: int,
            keys: set[tuple[str | None, str]]) -> dict[tuple[str | None, str], Listing]:
    """Stored listings of the marketplace by (external id, canonical URL), as the storage pipeline keys them."""
    out: dict[tuple[str | None, str], Listing] = {}
    keys_list = sorted(keys, key=lambda k: (k[0] or "", k[1]))
    for start in range(0, len(keys_list), 400):
        chunk = keys_list[start:start + 400]
        ids = [k[0][:200] for k in chunk if k[0]]
        urls = [k[1][:2000] for k in chunk]
        clauses = [Listing.canonical_url.in_(urls)] + ([Listing.external_id.in_(ids)] if ids else [])
        rows = session.scalars(select(Listing).where(Listing.marketplace_id == marketplace_id, or_(*clauses))).all()
        by_id = {row.external_id: row for row in rows if row.external_id}
        by_url = {row.canonical_url: row for row in rows}
        for key in chunk:
            row = (by_id.get(key[0][:200]) if key[0] else None) or by_url.get(key[1][:2000])
            if row is not None:
                out[key] = row
    return out
