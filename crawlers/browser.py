"""JavaScript-rendered marketplaces: scrapy-playwright driving the system's Chromium, inside the network policy.

A profile with ``render: browser`` (:mod:`crawlers.profiles`) is crawled by the same search spider as any
other; its requests carry :func:`browser_meta`, and :func:`browser_crawl_settings` points the site's
scheme at :class:`GuardedBrowserHandler`, a scrapy-playwright download handler that

- launches Debian's Chromium (``LOOKALIKE_BROWSER_EXECUTABLE``, Playwright's own browser download is never
  used) headless, with background networking, component updates, sync, QUIC and non-proxied WebRTC off,
  and with every connection going through :class:`crawlers.browserproxy.GuardProxy`;
- installs on every page the route of :class:`crawlers.middlewares.browserguard.BrowserGuard` (the policy
  before a request is made; images, fonts and media aborted unless the profile loads them);
- bounds every page: ``DOWNLOAD_TIMEOUT`` seconds for the whole render, ``DOWNLOAD_MAXSIZE`` bytes
  received by the page (all its resources, counted from Chromium's network events) and the same for the
  rendered DOM; pages at once ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT`` (the profile's ``concurrency``); each
  context used for ``LOOKALIKE_BROWSER_PAGES_PER_CONTEXT`` pages, then closed when its last page is done,
  the next context's pages waiting for that (one context at a time, ``PLAYWRIGHT_MAX_CONTEXTS``); popups closed at once, service workers and
  downloads off;
- owns its pages: a page is closed when its response is built, on an error, on a timeout, always; no
  callback ever receives a live page (scrapy-playwright's ``playwright_include_page`` is used only so that
  this handler, not a callback, holds the page and closes it).

The response is the rendered DOM as HTML, so the spider hands it to the same page classes
(:mod:`crawlers.pages`) as a page served as HTML.

Stats (besides scrapy-playwright's ``playwright/...``): ``browser/pages``, ``browser/pages_opened``,
``browser/pages_closed``, ``browser/page_timeouts``, ``browser/over_page_budget``,
``browser/render_wait_timeouts``, ``browser/popups_closed``, ``browser/contexts_recycled``,
``browser/aborted/<type>``, and the refusals
``browser/blocked`` (see :mod:`crawlers.middlewares.browserguard`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod
from twisted.internet.error import TimeoutError as DownloadTimeoutError

from crawlers.browserproxy import GuardProxy, UpstreamProxies
from crawlers.middlewares.browserguard import BrowserGuard, BrowserPolicy, PageState
from crawlers.profiles import Profile, SelectorSpec

logger = logging.getLogger(__name__)

HANDLER_PATH = "crawlers.browser.GuardedBrowserHandler"
CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
)
"""Chromium flags of every launch: no traffic of its own, no UDP around the proxy, /dev/shm not relied on."""
_STATE_KEY = "lookalike_browser_state"
_LOAD_KEY = "lookalike_browser_load"
_GENERATION_KEY = "lookalike_browser_generation"
CONTEXT_OPTIONS = {"service_workers": "block", "accept_downloads": False}
"""Every browser context's options: service workers would fetch outside the pages' routes; downloads are
not pages."""


class PageTooLarge(Exception):
    """The rendered DOM is larger than the page budget."""


def playwright_selector(spec: SelectorSpec) -> str:
    """A profile selector in Playwright's syntax (``css=...`` or ``xpath=...``)."""
    return f"css={spec.css}" if spec.css is not None else f"xpath={spec.xpath}"


async def render(page: Page, selector: str | None, timeout_ms: float, max_chars: int) -> bool:
    """Wait until ``selector`` is in the DOM (or, without one, until the network is idle), at most
    ``timeout_ms``, then measure the rendered DOM in the browser, before it is copied out of it.

    Returns False when the wait ran out (the page is then read as it is: an empty result list is an
    answer too); raises :class:`PageTooLarge` when the DOM has more than ``max_chars`` characters."""
    rendered = True
    try:
        if selector:
            await page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
        else:
            await page.wait_for_load_state("networkidle", timeout=timeout_ms)
    except PlaywrightTimeoutError:
        rendered = False
    length = await page.evaluate("() => document.documentElement ? document.documentElement.outerHTML.length : 0")
    if not isinstance(length, int) or length > max_chars:
        raise PageTooLarge(f"the rendered page has {length} characters, more than {max_chars}")
    return rendered


def browser_meta(profile: Profile, *, max_page_bytes: int) -> dict[str, Any]:
    """``Request.meta`` for a page of ``profile`` to be rendered (a fresh dict for every request)."""
    spec = profile.browser
    selector = playwright_selector(spec.wait_for) if spec.wait_for is not None else None
    return {
        "playwright": True,
        "playwright_page_methods": [PageMethod(render, selector, spec.wait_seconds * 1000, max_page_bytes)],
        _LOAD_KEY: list(spec.load),
    }


def launch_options(executable: str, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Playwright launch options for the system Chromium; ``--no-sandbox`` only when running as root
    (Chromium refuses to start its sandbox as root)."""
    args = [*CHROMIUM_ARGS]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")
    options = dict(extra or {})
    options.update(executable_path=executable, headless=True,
                   args=[*args, *[a for a in options.get("args", []) if a not in args]])
    return options


def browser_crawl_settings(profile: Profile, settings: Any) -> dict[str, Any]:
    """The Scrapy settings a crawl of ``profile`` adds when it renders pages: the handler for the site's
    scheme and the pages per context (the profile's concurrency)."""
    scheme = urlsplit(profile.base_url or "https://").scheme or "https"
    handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
    handlers[scheme] = HANDLER_PATH
    return {"DOWNLOAD_HANDLERS": handlers,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": min(profile.concurrency,
                                                    settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT") or 4),
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": settings.getfloat("DOWNLOAD_TIMEOUT") * 1000}


class GuardedBrowserHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler with the network policy, bounds and page ownership of this module."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.crawler = crawler
        self.max_page_bytes = settings.getint("DOWNLOAD_MAXSIZE") or 10 * 1024 * 1024
        self.page_timeout = settings.getfloat("DOWNLOAD_TIMEOUT") or 30.0
        policy = BrowserPolicy(allow_private=settings.getbool("LOOKALIKE_ALLOW_PRIVATE_NETWORK"),
                               trusted=lambda: getattr(crawler.spider, "trusted_netlocs", set()))
        self.guard = BrowserGuard(policy, stats=crawler.stats)
        self.proxy = GuardProxy(
            policy, on_refused=lambda reason, target: self.guard.count_refusal(reason, target, where="proxy"),
            count=crawler.stats.inc_value, upstreams=UpstreamProxies(os.environ),
            # A backstop above the page's own budget, which is counted first and drops the page.
            timeout=self.page_timeout, max_response_bytes=2 * self.max_page_bytes,
        )
        options = launch_options(settings.get("LOOKALIKE_BROWSER_EXECUTABLE") or "/usr/bin/chromium",
                                 extra=self.config.launch_options)
        # Every connection through the guard proxy; Playwright adds Chromium's "<-loopback>" rule, so
        # loopback addresses go through it too.
        options["proxy"] = self.proxy.browser_credentials()
        self.config.launch_options = options
        self._guarded_contexts: set[int] = set()
        #: Contexts are used for a bounded number of pages, then closed once their last page is done and a
        #: fresh one takes over (memory a context gathers, caches and history, goes with it).
        self.pages_per_context = max(1, settings.getint("LOOKALIKE_BROWSER_PAGES_PER_CONTEXT") or 200)
        self._generation = 0
        self._assigned = 0
        self._pending: dict[int, int] = {}
        #: Set when a retired generation's last page is done and its context closed: the next generation's
        #: pages wait for it, so two contexts never run side by side.
        self._drained: dict[int, asyncio.Event] = {}
        crawler.signals.connect(self._start_proxy, signal=signals.engine_started)

    async def _start_proxy(self) -> None:
        await self.proxy.start()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            await self.proxy.close()

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        await self.proxy.start()
        state = PageState(load=frozenset(request.meta.pop(_LOAD_KEY, None) or ()), max_bytes=self.max_page_bytes)
        request.meta[_STATE_KEY] = state
        request.meta[_GENERATION_KEY] = generation = self._next_generation()
        previous = self._drained.get(generation - 1)
        if previous is not None:
            await previous.wait()
        await self._close_retired()
        request.meta["playwright_context"] = f"lookalike-{generation}"
        request.meta["playwright_context_kwargs"] = dict(CONTEXT_OPTIONS)
        request.meta["playwright_include_page"] = True  # so that this handler holds the page and closes it
        request.meta["playwright_page_init_callback"] = self._init_page
        stats = self.crawler.stats
        stats.inc_value("browser/pages")
        try:
            response = await asyncio.wait_for(super().download_request(request), self.page_timeout)
        except TimeoutError:
            stats.inc_value("browser/page_timeouts")
            raise DownloadTimeoutError(f"rendering {request.url[:200]} took longer than {self.page_timeout:g} s") \
                from None
        except PageTooLarge as exc:
            stats.inc_value("browser/over_page_budget")
            raise IgnoreRequest(f"{request.url[:200]}: {exc}") from None
        finally:
            await self._release(request, state)
        if not state.routed:
            raise IgnoreRequest(f"{request.url[:200]}: the page's network guard could not be installed")
        if state.over_budget or len(response.body) > self.max_page_bytes:
            stats.inc_value("browser/over_page_budget")
            raise IgnoreRequest(f"{request.url[:200]}: the page received more than {self.max_page_bytes} bytes")
        methods = request.meta.get("playwright_page_methods") or ()
        if methods and methods[0].result is False:
            stats.inc_value("browser/render_wait_timeouts")
        return response

    def _next_generation(self) -> int:
        """The context generation of the next page: a new one after ``pages_per_context`` pages."""
        if self._assigned >= self.pages_per_context:
            if self._pending.get(self._generation):
                self._drained[self._generation] = asyncio.Event()
            self._generation += 1
            self._assigned = 0
        self._assigned += 1
        self._pending[self._generation] = self._pending.get(self._generation, 0) + 1
        return self._generation

    async def _release(self, request: Request, state: PageState) -> None:
        """Close the request's page, whatever happened; nothing live stays in the request's meta.  The last
        page of a retired context generation closes the context too."""
        page = request.meta.pop("playwright_page", None) or state.page
        request.meta.pop("playwright_page_init_callback", None)
        request.meta.pop(_STATE_KEY, None)
        state.page = None
        if page is not None and not page.is_closed():
            with contextlib.suppress(PlaywrightError):
                await page.close()
        generation = request.meta.pop(_GENERATION_KEY, None)
        if generation is not None:
            self._pending[generation] -= 1
            await self._close_retired()

    async def _close_retired(self) -> None:
        """Close the contexts of retired generations whose pages are all done, and let the pages waiting
        for them go on (a generation may retire while busy, or idle: both end here)."""
        for generation in [g for g, count in self._pending.items() if count <= 0 and g < self._generation]:
            del self._pending[generation]
            wrapper = self.context_wrappers.get(f"lookalike-{generation}")
            try:
                if wrapper is not None:
                    self.crawler.stats.inc_value("browser/contexts_recycled")
                    with contextlib.suppress(PlaywrightError):
                        await wrapper.context.close()
            finally:
                drained = self._drained.pop(generation, None)
                if drained is not None:
                    drained.set()

    async def _init_page(self, page: Page, request: Request) -> None:
        """Guard a new page before it loads anything (scrapy-playwright calls this right after creating it)."""
        state: PageState = request.meta[_STATE_KEY]
        state.page = page
        stats = self.crawler.stats
        stats.inc_value("browser/pages_opened")
        page.on("close", lambda _page: stats.inc_value("browser/pages_closed"))
        page.on("popup", self._close_popup)
        context = page.context
        if id(context) not in self._guarded_contexts:
            # Pages without scrapy-playwright's route (popups) fall back to the context's: the same guard.
            await context.route("**", self.guard.router(PageState(max_bytes=self.max_page_bytes)))
            self._guarded_contexts.add(id(context))
        # Registered after scrapy-playwright's own route, so it runs first (Playwright runs the newest first).
        await page.route("**", self.guard.router(state))
        state.routed = True
        session = await context.new_cdp_session(page)
        # Our session needs no copies of response bodies: a tiny buffer keeps the renderer from holding them.
        await session.send("Network.enable", {"maxTotalBufferSize": 1024, "maxResourceBufferSize": 1024})
        session.on("Network.dataReceived", lambda event: self._received(session, state, event))

    def _received(self, session: Any, state: PageState, event: dict[str, Any]) -> None:
        if state.add_bytes(int(event.get("dataLength") or 0)):
            logger.info("Browser: a page received more than %d bytes; stopping it", state.max_bytes)
            asyncio.ensure_future(_stop_loading(session))

    def _close_popup(self, popup: Page) -> None:
        self.crawler.stats.inc_value("browser/popups_closed")
        asyncio.ensure_future(_close_quietly(popup))


async def _stop_loading(session: Any) -> None:
    with contextlib.suppress(PlaywrightError):
        await session.send("Page.stopLoading")


async def _close_quietly(page: Page) -> None:
    with contextlib.suppress(PlaywrightError):
        await page.close()
