"""Scrapy settings for Lookalike's crawlers: every Scrapy default Lookalike changes lives here.

Two ways in:

- ``scrapy crawl generic -a start_urls=...`` inside ``crawlers/`` reads this module (``scrapy.cfg``);
  the components then build Lookalike's :class:`~core.settings.Settings` from ``LOOKALIKE_*`` and
  ``lookalike.toml`` themselves (in ``from_crawler``, never at import time).
- :func:`scrapy_settings` (used by :mod:`crawlers.run`) starts from this module and overlays the values
  derived from a given ``Settings`` object, so a Prefect flow or a test decides everything explicitly.

Safety defaults that differ from Scrapy's: robots.txt obeyed, the telnet console and the remote-control
HTTP server (which runs code sent to it) off, bounded downloads and redirects, retries with backoff, and
the HTTP cache only when asked for.
"""

from __future__ import annotations

from typing import Any

BOT_NAME = "lookalike"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# ------------------------------------------------------------------------------------------ safety
TELNETCONSOLE_ENABLED = False
"""Scrapy's telnet console gives a Python shell into the crawler: off."""
REMOTE_CONTROL_ENABLED = False
"""Scrapy 2.19's remote-control HTTP server executes code posted to it: off."""
ROBOTSTXT_OBEY = True
LOOKALIKE_OBEY_CRAWL_DELAY = True
"""Honour robots.txt Crawl-delay (see middlewares.crawldelay), up to LOOKALIKE_MAX_CRAWL_DELAY seconds."""
LOOKALIKE_MAX_CRAWL_DELAY = 30.0
LOOKALIKE_ALLOW_PRIVATE_NETWORK = False
"""See :mod:`crawlers.middlewares.netguard`; the host:port of configured start URLs and profiles is allowed."""
TWISTED_DNS_RESOLVER = "crawlers.middlewares.netguard.GuardedResolver"
"""Checks the address actually connected to against the network policy (no DNS rebinding)."""

# --------------------------------------------------------------------------------------- politeness
USER_AGENT = "Lookalike/0.1 (brand-protection crawler; +https://github.com/lookalike-brand-protection/lookalike)"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
COOKIES_ENABLED = False
CONCURRENT_ITEMS = 16
"""A page yields at most a few listings; Scrapy starts this many item workers per response."""

# ---------------------------------------------------------------------------------- bounds, retries
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
LOOKALIKE_RETRY_BACKOFF_BASE = 1.0
"""Seconds before the first retry; each further retry waits twice as long (see middlewares.backoff)."""
LOOKALIKE_RETRY_BACKOFF_MAX = 60.0
SCHEDULER = "crawlers.middlewares.backoff.BackoffScheduler"
"""Holds retries back for their backoff without holding a downloader slot (see middlewares.backoff)."""
DEPTH_LIMIT = 0
"""No depth limit: long pagination chains are normal; LOOKALIKE_MAX_PAGES bounds a crawl instead."""
URLLENGTH_LIMIT = 2048
CLOSESPIDER_PAGECOUNT = 0
LOOKALIKE_MAX_PAGES = 5000
"""Pages (HTML/JSON responses) a generic crawl fetches at most; images are not counted."""

HTTPCACHE_ENABLED = False
HTTPCACHE_DIR = "httpcache"

# ------------------------------------------------------------------------------------ components
SPIDER_MIDDLEWARES = {
    "crawlers.middlewares.tracking.TrackingParamsMiddleware": 550,
}
DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.netguard.PrivateNetworkGuard": 60,
    "crawlers.middlewares.crawldelay.CrawlDelayMiddleware": 110,
    "crawlers.middlewares.backoff.RetryBackoffMiddleware": 560,
    "crawlers.middlewares.apiquota.SourceQuotaMiddleware": 570,
    "crawlers.middlewares.apiauth.ApiAuthMiddleware": 580,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.validate.ValidateListingPipeline": 100,
    "crawlers.pipelines.images.ListingImagesPipeline": 300,
    "crawlers.pipelines.storage.StorageListingPipeline": 800,
    "crawlers.pipelines.queries.QueryRecordPipeline": 900,
}
ADDONS = {
    "crawlers.settings.LookalikeSettingsAddon": 0,
}
"""Applies ``LOOKALIKE_*`` / ``lookalike.toml`` to a hand-run ``scrapy crawl`` (see the addon)."""
EXTENSIONS = {
    "crawlers.extensions.progress.ProgressReporter": 500,
}
LOOKALIKE_PROGRESS_INTERVAL = 0.0
"""Seconds between progress lines on stdout (0: off); ``crawlers.run`` turns it on."""

# ------------------------------------------- API sources (crawlers.spiders.api; both middlewares off otherwise)
LOOKALIKE_API_CONNECTOR = ""
"""The connector of an ``api`` crawl (``ebay``, ``etsy``, ``aliexpress``): switches on the auth middleware."""
LOOKALIKE_SOURCE_NAME = ""
"""The scan file's source a crawl runs for: switches on the quota middleware (``source_states``)."""
LOOKALIKE_SOURCE_DAILY_BUDGET = 5000
"""API calls the source may make in one UTC day (the connector's published quota unless the source says)."""
LOOKALIKE_SOURCE_PER_SECOND = 5.0
"""Most API calls a second to the source."""
LOOKALIKE_SOURCE_MAX_WAIT = 600.0
"""Longest Retry-After a run waits out; a longer one ends the run (the next one waits for the rest)."""

LOOKALIKE_IMAGES_ENABLED = True
LOOKALIKE_MAX_IMAGES_PER_LISTING = 6
LOOKALIKE_IMAGE_MAX_REDIRECTS = 3
LOOKALIKE_STORAGE_BATCH_SIZE = 50
LOOKALIKE_STRIP_TRACKING = True
"""Drop tracking query parameters (utm_*, fbclid...) from followed links (see middlewares.tracking)."""

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
"""Scrapy's default since 2.13, spelled out: scrapy-playwright (render: browser) needs the asyncio reactor."""

# ---------------------------------------------- the browser, for profiles with render: browser (crawlers.browser)
LOOKALIKE_BROWSER_EXECUTABLE = "/usr/bin/chromium"
"""The system Chromium (``Settings.browser_executable``); Playwright never downloads a browser of its own."""
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_MAX_CONTEXTS = 1
"""One browser context at a time: a context serves LOOKALIKE_BROWSER_PAGES_PER_CONTEXT pages, and the
next one's pages wait until its last page is done and it is closed (crawlers.browser)."""
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
"""Pages rendering at once (a profile's ``concurrency`` lowers it)."""
PLAYWRIGHT_CONTEXTS: dict[str, Any] = {}
"""No context at start-up: the handler opens its own, with ``crawlers.browser.CONTEXT_OPTIONS``."""
LOOKALIKE_BROWSER_PAGES_PER_CONTEXT = 200
"""Pages a browser context serves before it is closed (when its last page is done) and a fresh one opens."""
PLAYWRIGHT_DOWNLOAD_TIMEOUT = 5_000
"""Milliseconds scrapy-playwright waits for a download a navigation started (downloads are refused)."""
PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER = True

LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 60.0
FEED_EXPORT_ENCODING = "utf-8"


def scrapy_settings(settings: Any, *, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Scrapy settings for one crawl: this module's values with ``settings`` (a Lookalike
    :class:`~core.settings.Settings`) applied, then ``overrides`` (Scrapy setting names).

    Lookalike-only values travel as ``LOOKALIKE_*`` Scrapy settings so that components read them in
    ``from_crawler`` like any other setting.
    """
    values = {name: value for name, value in globals().items() if name.isupper()}
    values.update(derived_settings(settings))
    values.update(overrides or {})
    return values


def derived_settings(settings: Any) -> dict[str, Any]:
    """The Scrapy settings a Lookalike ``Settings`` decides (user agent, robots.txt, limits, the
    private-network allowance, the database), keyed by Scrapy setting name."""
    return dict(
        USER_AGENT=settings.rendered_user_agent,
        ROBOTSTXT_OBEY=settings.obey_robots_txt,
        CONCURRENT_REQUESTS_PER_DOMAIN=settings.concurrent_requests_per_domain,
        DOWNLOAD_DELAY=settings.download_delay,
        DOWNLOAD_TIMEOUT=settings.download_timeout,
        DOWNLOAD_MAXSIZE=settings.max_page_bytes,
        HTTPCACHE_ENABLED=settings.http_cache,
        HTTPCACHE_DIR=str(settings.data_dir / "httpcache"),
        LOOKALIKE_ALLOW_PRIVATE_NETWORK=settings.allow_private_network,
        LOOKALIKE_BROWSER_EXECUTABLE=str(settings.browser_executable),
        LOOKALIKE_DATABASE_URL=settings.database_url,
        LOOKALIKE_SETTINGS_JSON=settings.model_dump_json(),
    )


class LookalikeSettingsAddon:
    """Scrapy add-on: a ``scrapy crawl`` run by hand inside ``crawlers/`` gets the values of
    :func:`derived_settings` from ``LOOKALIKE_*`` and ``lookalike.toml`` (at the project priority, so
    ``-s NAME=value`` on the command line still wins).  A crawl started by :mod:`crawlers.run` carries
    its settings already (``LOOKALIKE_SETTINGS_JSON``) and is left alone."""

    def update_settings(self, settings: Any) -> None:
        if settings.get("LOOKALIKE_SETTINGS_JSON"):
            return
        from core.settings import load_settings  # here: reading lookalike.toml is not for import time

        for name, value in derived_settings(load_settings()).items():
            settings.set(name, value, priority="project")


def lookalike_settings(crawler_settings: Any) -> Any:
    """The Lookalike ``Settings`` a crawl runs with: the JSON :func:`scrapy_settings` put in
    ``LOOKALIKE_SETTINGS_JSON``, else (``scrapy crawl`` by hand) ``LOOKALIKE_*`` and ``lookalike.toml``.
    """
    import json

    from core.settings import load_settings

    raw = crawler_settings.get("LOOKALIKE_SETTINGS_JSON")
    if raw:
        return load_settings(**json.loads(raw))
    return load_settings()
