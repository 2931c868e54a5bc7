"""Run one crawl in a child process and return its ``crawl_runs`` id.

Twisted's reactor cannot be restarted in a process, and a Prefect worker or a test runs many crawls, so
each crawl is a fresh ``python -m crawlers.run`` child.  The parent creates the ``crawl_runs`` row first
(so the id is known even if the child dies), sends the child its settings and what to crawl as JSON on
stdin, reads progress lines from its stdout, writes its log to ``<data_dir>/logs/crawl-<id>.log`` and,
if the child failed without finishing the row, marks the run ``failed`` with the log's last lines.

    from crawlers.run import run_crawl
    run_id = run_crawl(settings, start_urls=["https://shop.example/"])
    run_id = run_crawl(settings, profile="demo", base_url="http://127.0.0.1:8000", queries=["fullips"])
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from lookalike.errors import LookalikeError

SPIDERS = {
    "generic": "crawlers.spiders.generic.GenericProductSpider",
    "search": "crawlers.spiders.search.ProfileSearchSpider",
    "shopify": "crawlers.spiders.platform.ShopifySpider",
    "woocommerce": "crawlers.spiders.platform.WooCommerceSpider",
}
PLATFORMS = ("shopify", "woocommerce")
LOG_TAIL_CHARS = 2000

ProgressCallback = Callable[[dict[str, int]], None]


def crawl_request(
    *,
    start_urls: Iterable[str] = (),
    profile: str | None = None,
    queries: Iterable[str] = (),
    base_url: str | None = None,
    marketplace: str | None = None,
    platform: str | None = None,
    scope: str = "full",
    max_pages: int | None = None,
    profiles_dir: Path | None = None,
) -> tuple[str, dict[str, Any]]:
    """(spider name, spider keyword arguments) for what was asked; raises ``LookalikeError`` for a request
    that cannot run (pure: no network, reads only profile files)."""
    from crawlers.profiles import load_profile

    start_urls = [u.strip() for u in start_urls if u and u.strip()]
    queries = [q.strip() for q in queries if q and q.strip()]
    if profile and start_urls:
        raise LookalikeError("give either start URLs or a profile, not both")
    if profile:
        loaded = load_profile(profile, extra_dir=profiles_dir, base_url=base_url)
        if not loaded.base_url:
            raise LookalikeError(f"profile {loaded.name!r} has no base_url: give one with --base-url")
        if loaded.kind in PLATFORMS:
            return loaded.kind, {"start_urls": [loaded.base_url], "marketplace": marketplace or loaded.name,
                                 "max_pages": max_pages}
        if not queries:
            raise LookalikeError(f"profile {loaded.name!r} searches the marketplace: give at least one --query")
        return "search", {"profile": loaded.model_dump(mode="json"), "queries": queries,
                          "marketplace": marketplace}
    if not start_urls:
        raise LookalikeError("nothing to crawl: give --start-url URL (repeatable) or --profile NAME")
    for url in start_urls:
        if not url.lower().startswith(("http://", "https://")):
            raise LookalikeError(f"start URL must be http(s): {url[:200]!r}")
    if queries:
        raise LookalikeError("--query needs a --profile (start-URL crawls read whole shops)")
    if platform:
        if platform not in PLATFORMS:
            raise LookalikeError(f"unknown platform {platform!r} (known: {', '.join(PLATFORMS)})")
        return platform, {"start_urls": start_urls, "marketplace": marketplace, "max_pages": max_pages}
    return "generic", {"start_urls": start_urls, "marketplace": marketplace, "scope": scope,
                       "max_pages": max_pages}


def run_crawl(
    settings: Any,
    *,
    start_urls: Iterable[str] = (),
    profile: str | None = None,
    queries: Iterable[str] = (),
    scan_id: str | None = None,
    base_url: str | None = None,
    marketplace: str | None = None,
    platform: str | None = None,
    scope: str = "full",
    max_pages: int | None = None,
    images: bool = True,
    scrapy_overrides: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    timeout: float | None = None,
) -> int:
    """Crawl in a child process; returns the ``crawl_runs`` id (its row has the status and stats).

    ``settings`` is a Lookalike :class:`~lookalike.settings.Settings`.  ``scope`` is ``full`` or ``recheck``
    for start-URL crawls (see :mod:`crawlers.pipelines.storage`).  ``scrapy_overrides`` are Scrapy
    settings applied last (tests turn AutoThrottle off there).  ``progress`` receives the counters of
    :func:`crawlers.extensions.progress.progress_counts` about once a second.  Raises ``LookalikeError``
    for a request that cannot run; a crawl that runs and fails returns its id with status ``failed``.
    """
    from crawlers.pipelines.records import start_run
    from storage.db import Database
    from storage.models import CrawlRun, utcnow

    start_urls, queries = list(start_urls), list(queries)
    spider, kwargs = crawl_request(
        start_urls=start_urls, profile=profile, queries=queries, base_url=base_url, marketplace=marketplace,
        platform=platform, scope=scope, max_pages=max_pages, profiles_dir=settings.profiles_dir,
    )
    params = {"spider": spider, "start_urls": start_urls, "profile": profile, "queries": queries,
              "base_url": base_url, "scope": kwargs.get("scope") or ("search" if spider == "search" else "full")}
    db = Database(settings.database_url).ensure_schema()
    try:
        with db.session() as session:
            run_id = start_run(session, marketplace_id=None, scan_id=scan_id, params=params).id
        payload = {
            "settings": json.loads(settings.model_dump_json()),
            "spider": spider,
            "kwargs": kwargs,
            "overrides": {
                "LOOKALIKE_CRAWL_RUN_ID": run_id,
                "LOOKALIKE_SCAN_ID": scan_id,
                "LOOKALIKE_CRAWL_PARAMS": params,
                "LOOKALIKE_PROGRESS_INTERVAL": 1.0 if progress else 0.0,
                "LOOKALIKE_IMAGES_ENABLED": images,
                **(scrapy_overrides or {}),
            },
        }
        log_path = settings.data_dir / "logs" / f"crawl-{run_id}.log"
        returncode = _run_child(payload, log_path=log_path, progress=progress, timeout=timeout)
        with db.session() as session:
            run = session.get(CrawlRun, run_id)
            if run.status == "running" or returncode != 0:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:] if log_path.exists() else ""
                run.status = "failed"
                run.finished_at = run.finished_at or utcnow()
                run.stats = {**(run.stats or {}), "error": f"crawler process exited with status {returncode}",
                             "log_tail": tail, "log": str(log_path)}
        return run_id
    finally:
        db.dispose()


def _run_child(payload: dict[str, Any], *, log_path: Path, progress: ProgressCallback | None,
               timeout: float | None) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    with log_path.open("w", encoding="utf-8") as log, subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "crawlers.run"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True,
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(json.dumps(payload))
            child.stdin.close()
            for line in child.stdout:
                if progress is None or not line.startswith("{"):
                    continue
                try:
                    counts = json.loads(line).get("progress")
                except ValueError:
                    continue
                if isinstance(counts, dict):
                    progress(counts)
            return child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            return -9
        except BaseException:  # Ctrl-C in the parent: stop the child too
            child.terminate()
            child.wait()
            raise


def _child_main() -> int:
    """Entry point of the child: run the crawl described on stdin with Scrapy's process runner."""
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings as ScrapySettings
    from scrapy.utils.misc import load_object

    from crawlers.profiles import Profile
    from crawlers.settings import scrapy_settings
    from lookalike.settings import load_settings

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
