"""What one crawl did, as a typed record: :class:`CrawlStats`, stored as ``crawl_runs.stats``.

Written by the storage pipeline when the spider closes (:func:`crawlers.pipelines.storage.summarize_stats`
from Scrapy's stats, plus the failure in words), completed by :func:`crawlers.run.run_crawl` when the
child process died or overran; read back with :meth:`CrawlStats.from_json` by the scan, the recheck,
alerts and ``lookalike crawl``, never by dict paths.  The stored JSON shape is documented in
``docs/crawling.md``; :meth:`CrawlStats.as_json` writes exactly it.  Pure: no Scrapy, no storage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingCounts:
    """Listings of the crawl by what happened to them (``missed``/``gone``: after the gone check)."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    reappeared: int = 0
    missed: int = 0
    gone: int = 0

    @property
    def changed_or_reappeared(self) -> int:
        """Listings whose content changed, and those back after being gone: both need matching again."""
        return self.changed + self.reappeared


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageCounts:
    """Listing photos: fetched and stored, reused from the store, failed by reason."""

    ok: int = 0
    reused: int = 0
    failed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceCounts:
    """An API source's use of its quota in the crawl (all 0/False for crawls of pages)."""

    calls: int = 0
    budget: int = 0
    budget_left: int = 0
    #: True when the daily budget ran out before every query was done (they resume the next night).
    budget_exhausted: bool = False
    #: 429/503 answers that asked for a wait, and the seconds waited before calls (pacing included).
    retry_after: int = 0
    waited_seconds: float = 0.0
    unfinished_queries: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlStats:
    """The counts and outcome of one crawl (every count 0 and every text None when unknown)."""

    pages: int = 0
    responses: int = 0
    listings: ListingCounts = field(default_factory=ListingCounts)
    #: new + changed + unchanged
    listings_stored: int = 0
    #: lines logged at ERROR
    errors: int = 0
    download_errors: dict[str, int] = field(default_factory=dict)
    http_status: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    images: ImageCounts = field(default_factory=ImageCounts)
    dropped: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    tracking_params_stripped: int = 0
    #: what the browser did in a ``render: browser`` crawl (``blocked/<reason>``, ``aborted/<kind>``...)
    browser: dict[str, int] = field(default_factory=dict)
    #: what an API source used of its quota (``crawlers.middlewares.apiquota``)
    source: SourceCounts = field(default_factory=SourceCounts)
    page_limit_reached: bool = False
    pages_failed: int = 0
    #: ``done (full)``, ``skipped: <why>``...; None before the spider closed
    gone_check: str | None = None
    finish_reason: str | None = None
    #: Why the crawl failed, in words (None: it did not fail).
    error: str | None = None
    #: False when a retry would meet the same answer (robots.txt, the guard, oversize pages...).
    retryable: bool = True
    #: The child's log file and its last lines (written when the child process failed).
    log: str | None = None
    log_tail: str | None = None
    #: Every Scrapy stat, JSON-safe.
    scrapy: dict[str, Any] = field(default_factory=dict)

    @property
    def failure(self) -> str:
        """The cause of a failed crawl in words: its error, else how it finished, else where to look."""
        return self.error or self.finish_reason or "see its log"

    def failed(self, error: str, *, retryable: bool = True, **more: Any) -> CrawlStats:
        """These stats with the failure recorded (``more``: ``log``, ``log_tail``)."""
        return dataclasses.replace(self, error=error, retryable=retryable, **more)

    def as_json(self) -> dict[str, Any]:
        """The stored shape (``crawl_runs.stats``, docs/crawling.md); the failure keys only when it failed."""
        data = dataclasses.asdict(self)
        for key in ("error", "retryable"):
            if self.error is None:
                del data[key]
        for key in ("log", "log_tail"):
            if data[key] is None:
                del data[key]
        scrapy = data.pop("scrapy")
        return {**data, "scrapy": scrapy}

    @classmethod
    def from_json(cls, data: Any) -> CrawlStats:
        """Stats as stored; a missing or malformed value reads as 0, empty or None (a row of an older
        version, a crawl that died early, a hand-made row), never as an error."""
        data = data if isinstance(data, Mapping) else {}
        listings = data.get("listings") if isinstance(data.get("listings"), Mapping) else {}
        images = data.get("images") if isinstance(data.get("images"), Mapping) else {}
        return cls(
            pages=_int(data.get("pages")),
            responses=_int(data.get("responses")),
            listings=ListingCounts(**{f.name: _int(listings.get(f.name)) for f in dataclasses.fields(ListingCounts)}),
            listings_stored=_int(data.get("listings_stored")),
            errors=_int(data.get("errors")),
            download_errors=_counts(data.get("download_errors")),
            http_status=_counts(data.get("http_status")),
            retries=_int(data.get("retries")),
            images=ImageCounts(ok=_int(images.get("ok")), reused=_int(images.get("reused")),
                               failed=_counts(images.get("failed"))),
            dropped=_counts(data.get("dropped")),
            refused=_counts(data.get("refused")),
            tracking_params_stripped=_int(data.get("tracking_params_stripped")),
            browser=_counts(data.get("browser")),
            source=_source(data.get("source")),
            page_limit_reached=data.get("page_limit_reached") is True,
            pages_failed=_int(data.get("pages_failed")),
            gone_check=_text(data.get("gone_check")),
            finish_reason=_text(data.get("finish_reason")),
            error=_text(data.get("error")),
            retryable=data.get("retryable") is not False,
            log=_text(data.get("log")),
            log_tail=_text(data.get("log_tail")),
            scrapy=dict(data["scrapy"]) if isinstance(data.get("scrapy"), Mapping) else {},
        )


def _source(value: Any) -> SourceCounts:
    value = value if isinstance(value, Mapping) else {}
    waited = value.get("waited_seconds")
    return SourceCounts(calls=_int(value.get("calls")), budget=_int(value.get("budget")),
                        budget_left=_int(value.get("budget_left")),
                        budget_exhausted=value.get("budget_exhausted") is True,
                        retry_after=_int(value.get("retry_after")),
                        waited_seconds=float(waited) if isinstance(waited, int | float) and not isinstance(waited, bool)
                        else 0.0,
                        unfinished_queries=_int(value.get("unfinished_queries")))


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _counts(value: Any) -> dict[str, int]:
    return {str(k): _int(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
