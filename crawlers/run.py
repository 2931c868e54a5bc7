"""Run one crawl in a child process and return its ``crawl_runs`` id.

Twisted's reactor cannot be restarted in a process, and a Prefect worker or a test runs many crawls, so
each crawl is a fresh ``python -m crawlers.run`` child.  The parent creates the ``crawl_runs`` row first
(so the id is known even if the child dies), sends the child its settings and what to crawl as JSON on
stdin, reads progress lines from its stdout, writes its log to ``<data_dir>/logs/crawl-<id>.log`` and,
if the child failed without finishing the row, marks the run ``failed`` with the log's last lines.

    from crawlers.run import CrawlRequest, run_crawl
    run_id = run_crawl(settings, CrawlRequest(start_urls=["https://shop.example/"]))
    run_id = run_crawl(settings, CrawlRequest(profile="demo", base_url="http://127.0.0.1:8000", queries=["fullips"]))
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from core.errors import LookalikeError
from crawlers.connectors import connector
from crawlers.stats import CrawlStats

SPIDERS = {
    "api": "crawlers.spiders.api.ApiSearchSpider",
    "generic": "crawlers.spiders.generic.GenericProductSpider",
    "search": "crawlers.spiders.search.ProfileSearchSpider",
    "shopify": "crawlers.spiders.platform.ShopifySpider",
    "woocommerce": "crawlers.spiders.platform.WooCommerceSpider",
}
PLATFORMS = ("shopify", "woocommerce")
LOG_TAIL_CHARS = 2000

ProgressCallback = Callable[[dict[str, int]], None]
MAX_URL_CHARS = 2048
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def validate_start_url(url: str) -> str:
    """``url`` stripped when it is a fetchable http(s) URL, else ``LookalikeError`` in one line.

    Checked fully before anything runs: the scheme (http, https), a host (a DNS name of valid labels,
    IDNA allowed, or an IP literal; brackets closed), a port in 1..65535, no whitespace or control
    characters, at most :data:`MAX_URL_CHARS` characters.  Whether the address may be fetched is the
    network guard's decision at connect time, not this one's.
    """
    text = url.strip() if isinstance(url, str) else ""
    shown = repr(text[:200])
    if not text:
        raise LookalikeError("start URL is empty")
    if len(text) > MAX_URL_CHARS:
        raise LookalikeError(f"start URL longer than {MAX_URL_CHARS} characters: {shown}")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise LookalikeError(f"start URL contains whitespace or control characters: {shown}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise LookalikeError(f"start URL is malformed ({exc}): {shown}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise LookalikeError(f"not an http(s) URL: {shown}")
    host = parts.hostname or ""
    if not host:
        raise LookalikeError(f"start URL has no host: {shown}")
    if port == 0:
        raise LookalikeError(f"start URL port must be 1-65535: {shown}")
    if not _valid_host(host):
        raise LookalikeError(f"start URL host {host[:100]!r} is not a valid host name or address: {shown}")
    return text


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


@attrs.frozen(kw_only=True)
class CrawlRequest:
    """One crawl: what to crawl and how (see :func:`crawl_request` for the rules).

    - ``start_urls``: shop pages (a whole shop for ``scope="full"``, known listing URLs for ``recheck``);
    - ``profile`` (a name or a YAML path) with ``queries`` and ``base_url``: a marketplace search;
    - ``platform``: ``shopify`` or ``woocommerce`` for start-URL crawls of those platforms' APIs;
    - ``marketplace``: the name listings are stored under (default: from the site or the profile);
    - ``max_pages``: page limit (default ``LOOKALIKE_MAX_PAGES``); ``images``: fetch listing photos;
    - ``scan_id``: the scan the crawl belongs to; ``scrapy_overrides``: Scrapy settings applied last;
    - ``timeout``: seconds before the child process is killed (None: no limit);
    - ``connector`` (``ebay``, ``etsy``, ``aliexpress``) with ``queries``: an API search (``base_url``
      default: the connector's setting), for the scan file's source ``source`` (its quota and resume
      point live in ``source_states``), on ``site`` (eBay's marketplace id), with ``daily_budget`` calls
      a day and ``per_second`` at most (defaults: the connector's published quota), ``page_size`` results
      an answer (capped at the API's maximum), ``max_results_per_query`` and ``details`` (fetch each
      listing's detail answer where the API has one).
    """

    start_urls: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    profile: str | None = None
    queries: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    base_url: str | None = None
    marketplace: str | None = None
    platform: str | None = None
    scope: str = "full"
    max_pages: int | None = None
    images: bool = True
    scan_id: str | None = None
    scrapy_overrides: dict[str, Any] = attrs.field(factory=dict, converter=lambda v: dict(v or {}))
    timeout: float | None = None
    connector: str | None = None
    source: str | None = None
    site: str | None = None
    daily_budget: int | None = None
    per_second: float | None = None
    page_size: int | None = None
    max_results_per_query: int | None = None
    details: bool = True

    @property
    def target_key(self) -> str:
        """Which crawl this is (:func:`target_key` of its start URLs, profile and base URL; an API search
        counts its connector and source as its profile), stored as ``crawl_runs.target_key``: every run of
        the same request, retries included, has the same key."""
        profile = self.profile or (f"api:{self.connector}:{self.source or ''}:{self.site or ''}"
                                   if self.connector else None)
        return target_key(self.start_urls, profile, self.base_url)


def target_key(start_urls: Sequence[str], profile: str | None, base_url: str | None) -> str:
    """sha256 hex of a crawl's identity: its start URLs in order, its profile and its base URL (the
    queries are not part of it: a scan plans one crawl per profile and base URL whatever it searches)."""
    identity = json.dumps([list(start_urls), profile, base_url], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def crawl_request(request: CrawlRequest, *, profiles_dir: Path | None = None) -> tuple[str, dict[str, Any]]:
    """(spider name, spider keyword arguments) for ``request``; raises ``LookalikeError`` in one line for
    a request that cannot run (pure: no network, reads only profile files)."""
    from crawlers.profiles import load_profile

    start_urls = [u.strip() for u in request.start_urls if u and u.strip()]
    queries = [q.strip() for q in request.queries if q and q.strip()]
    if request.scope not in ("full", "recheck"):
        raise LookalikeError(f"unknown scope {request.scope!r} (known: full, recheck)")
    if request.profile and start_urls:
        raise LookalikeError("give either start URLs or a profile, not both")
    if request.connector:
        connector(request.connector)
        if request.profile or start_urls:
            raise LookalikeError("an API connector searches by itself: give no start URL or profile with it")
        if request.base_url:
            validate_start_url(request.base_url)
        if not queries:
            raise LookalikeError(f"the {request.connector} connector searches: give at least one --query")
        return "api", {"connector": request.connector, "queries": queries, "base_url": request.base_url,
                       "site": request.site, "marketplace": request.marketplace or request.source,
                       "page_size": request.page_size, "max_results_per_query": request.max_results_per_query,
                       "details": request.details}
    if request.base_url:
        validate_start_url(request.base_url)
    if request.profile:
        loaded = load_profile(request.profile, extra_dir=profiles_dir, base_url=request.base_url)
        if not loaded.base_url:
            raise LookalikeError(f"profile {loaded.name!r} has no base_url: give one with --base-url")
        validate_start_url(loaded.base_url)
        if loaded.kind in PLATFORMS:
            return loaded.kind, {"start_urls": [loaded.base_url], "marketplace": request.marketplace or loaded.name,
                                 "max_pages": request.max_pages}
        if not queries:
            raise LookalikeError(f"profile {loaded.name!r} searches the marketplace: give at least one --query")
        return "search", {"profile": loaded.model_dump(mode="json"), "queries": queries,
                          "marketplace": request.marketplace}
    if not start_urls:
        raise LookalikeError("nothing to crawl: give --start-url URL (repeatable) or --profile NAME")
    start_urls = [validate_start_url(url) for url in start_urls]
    if queries:
        raise LookalikeError("--query needs a --profile (start-URL crawls read whole shops)")
    if request.platform:
        if request.platform not in PLATFORMS:
            raise LookalikeError(f"unknown platform {request.platform!r} (known: {', '.join(PLATFORMS)})")
        return request.platform, {"start_urls": start_urls, "marketplace": request.marketplace,
                                  "max_pages": request.max_pages}
    return "generic", {"start_urls": start_urls, "marketplace": request.marketplace, "scope": request.scope,
                       "max_pages": request.max_pages}


def run_crawl(settings: Any, request: CrawlRequest, *, progress: ProgressCallback | None = None) -> int:
    """Crawl in a child process; returns the ``crawl_runs`` id (its row has the status and stats).

    ``settings`` is a Lookalike :class:`~core.settings.Settings`.  ``progress`` receives the counters of
    :func:`crawlers.extensions.progress.progress_counts` about once a second.  Raises ``LookalikeError``
    for a request that cannot run (before any row is written); a crawl that runs and fails returns its
    id with status ``failed`` and ``stats.error`` in words (``stats.retryable`` says whether a retry may
    help).  A child that outlives ``request.timeout`` seconds is killed and its run marked failed.
    """
    from crawlers.pipelines.records import start_run
    from storage.db import Database
    from storage.models import CrawlRun, SourceState, utcnow

    spider, kwargs = crawl_request(request, profiles_dir=settings.profiles_dir)
    params = {"spider": spider, "start_urls": list(request.start_urls), "profile": request.profile,
              "queries": list(request.queries), "base_url": request.base_url,
              "scope": kwargs.get("scope") or ("search" if spider in ("search", "api") else "full")}
    source_overrides: dict[str, Any] = {}
    if spider == "api":
        params.update(connector=request.connector, source=request.source, site=request.site)
        source_overrides = api_overrides(settings, request)
    with Database.opened(settings.database_url) as db:
        with db.session() as session:
            run_id = start_run(session, marketplace_id=None, scan_id=request.scan_id, params=params,
                               target_key=request.target_key).id
        payload = {
            "settings": json.loads(settings.model_dump_json()),
            "spider": spider,
            "kwargs": kwargs,
            "overrides": {
                "LOOKALIKE_CRAWL_RUN_ID": run_id,
                "LOOKALIKE_SCAN_ID": request.scan_id,
                "LOOKALIKE_CRAWL_PARAMS": params,
                "LOOKALIKE_PROGRESS_INTERVAL": 1.0 if progress else 0.0,
                "LOOKALIKE_IMAGES_ENABLED": request.images,
                **source_overrides,
                **request.scrapy_overrides,
            },
        }
        log_path = settings.data_dir / "logs" / f"crawl-{run_id}.log"
        if spider == "api":
            with db.session() as session:
                state = session.get(SourceState, source_name(request))
                payload["kwargs"]["resume"] = dict(state.resume or {}) if state is not None else {}
        returncode = _run_child(payload, log_path=log_path, progress=progress, timeout=request.timeout)
        with db.session() as session:
            run = session.get(CrawlRun, run_id)
            if run.status == "running" or returncode != 0:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:] if log_path.exists() else ""
                error = (f"the crawl took longer than {request.timeout:g} s and was stopped"
                         if returncode == TIMED_OUT else f"crawler process exited with status {returncode}")
                stats = CrawlStats.from_json(run.stats)  # what the child recorded, if it got that far
                run.status = "failed"
                run.finished_at = run.finished_at or utcnow()
                run.stats = stats.failed(stats.error or error, retryable=stats.retryable, log_tail=tail,
                                         log=str(log_path)).as_json()
        return run_id


def api_overrides(settings: Any, request: CrawlRequest) -> dict[str, Any]:
    """Scrapy settings of an API crawl: its connector, its source's quota, one call in flight.

    Raises ``LookalikeError`` naming the credentials that are missing (never their values)."""
    module = connector(request.connector or "")
    missing = [name for name in module.CREDENTIALS if not settings.api_credential(name)]
    if missing:
        raise LookalikeError(f"{module.TITLE} needs {', '.join(missing)}: set "
                             f"{', '.join('LOOKALIKE_' + name.upper() for name in missing)} or put files with "
                             "those names in api_secrets_dir (see docs/sources.md)")
    overrides: dict[str, Any] = {
        "LOOKALIKE_API_CONNECTOR": module.NAME,
        "LOOKALIKE_SOURCE_DAILY_BUDGET": request.daily_budget or module.DEFAULT_DAILY_CALLS,
        "LOOKALIKE_SOURCE_PER_SECOND": request.per_second or module.DEFAULT_PER_SECOND,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,  # the quota middleware paces; one call at a time keeps waits exact
        "AUTOTHROTTLE_ENABLED": False,
    }
    overrides["LOOKALIKE_SOURCE_NAME"] = source_name(request)
    return overrides


def source_name(request: CrawlRequest) -> str:
    """The ``source_states`` row of an API crawl: the scan file's source, else the connector (and site)."""
    return request.source or ":".join(p for p in (request.connector or "", request.site or "") if p)


TIMED_OUT = -9
"""``_run_child``'s return code for a child killed at its deadline."""


def _run_child(payload: dict[str, Any], *, log_path: Path, progress: ProgressCallback | None,
               timeout: float | None) -> int:
    """Run the child; its stdout (progress lines) is read in a thread so the deadline holds even while
    the child is silent."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    with log_path.open("w", encoding="utf-8") as log, subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "crawlers.run"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True,
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        reader = threading.Thread(target=_read_progress, args=(child.stdout, progress), daemon=True,
                                  name="crawl-progress")
        try:
            child.stdin.write(json.dumps(payload))
            child.stdin.close()
            reader.start()
            return child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            return TIMED_OUT
        except BaseException:  # Ctrl-C in the parent: stop the child too
            child.terminate()
            child.wait()
            raise
        finally:
            reader.join(timeout=5)


def _read_progress(stream: Any, progress: ProgressCallback | None) -> None:
    for line in stream:
        if progress is None or not line.startswith("{"):
            continue
        try:
            counts = json.loads(line).get("progress")
        except ValueError:
            continue
        if isinstance(counts, dict):
            progress(counts)


def _child_main() -> int:
    """Entry point of the child: run the crawl described on stdin with Scrapy's process runner."""
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings as ScrapySettings
    from scrapy.utils.misc import load_object

    from core.settings import load_settings
    from crawlers.profiles import Profile
    from crawlers.settings import scrapy_settings

    payload = json.loads(sys.stdin.read())
    settings = load_settings(**payload["settings"])
    values = scrapy_settings(settings, overrides=payload["overrides"])
    spider_cls = load_object(SPIDERS[payload["spider"]])
    kwargs = dict(payload["kwargs"])
    if isinstance(kwargs.get("profile"), dict):
        kwargs["profile"] = Profile(**kwargs["profile"])
    process = AsyncCrawlerProcess(ScrapySettings(values))
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, **kwargs)
    process.start()
    reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
    return 0 if reason == "finished" else 1


if __name__ == "__main__":
    sys.exit(_child_main())
