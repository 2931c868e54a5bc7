"""The network policy (:mod:`core.netpolicy`) for the requests a browser makes, the counterpart of
:mod:`crawlers.middlewares.netguard` for pages rendered by Chromium.

scrapy-playwright's own requests (a page's scripts, its XHR/fetch calls, frames, redirects) never pass
through Scrapy's downloader middlewares or its DNS resolver, so the crawler's guard cannot see them.  Two
layers judge them with the same policy instead:

- **before a request is made** (:meth:`BrowserGuard.route`, a Playwright route installed on every page):
  the URL's scheme, then its host: trusted (a start URL or profile a person configured), or an address
  the policy allows (IP literal, else the name resolved).  A refused request is aborted in the browser:
  nothing leaves the machine.  Images, fonts and media are aborted here too unless the profile loads them.
- **when a connection is opened** (:class:`crawlers.browserproxy.GuardProxy`): Chromium reaches the
  network only through a local proxy that resolves each host, keeps the allowed addresses and connects
  to one of them.  This catches what routes do not see (Playwright does not route the hops of a
  redirect, nor preconnects or WebSockets) and a name whose DNS answer changes between the two checks.

Both count refusals under ``browser/blocked`` (and ``browser/blocked/<reason>``) and in the crawler's
``netguard/refused_count`` / ``netguard/refused/<reason>``, so a crawl record shows them with the rest.
Reasons: ``scheme``, ``private_address``, ``unresolvable`` (as netguard) and, for the budget of one page,
``page_budget`` (counted as ``browser/aborted/page_budget``, not as a policy refusal).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.netpolicy import ip_literal, split_addresses
from crawlers.middlewares.netguard import Netloc, is_trusted

logger = logging.getLogger(__name__)

#: Schemes a page may fetch over the network (``data:``/``blob:`` never reach the network or a route).
BROWSER_SCHEMES = ("http", "https", "ws", "wss")
#: Resource types (Playwright's names) a page does not load unless its profile asks for them.
HEAVY_RESOURCES = ("image", "font", "media")
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}

AsyncResolver = Callable[[str, int], Any]
"""``async (host, port) -> list of address strings``; raises ``OSError`` when the name does not resolve."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The policy's answer for one (host, port): the addresses that may be connected to, or why none."""

    addresses: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None


def url_netloc(url: str) -> tuple[str, str, int] | None:
    """(scheme, lower-case host, port with the scheme's default), or None for a malformed URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


async def system_resolve(host: str, port: int) -> list[str]:
    """The operating system's addresses for ``host`` (TCP), resolved off the event loop's thread."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class BrowserPolicy:
    """:mod:`core.netpolicy` for one crawl's browser: ``allow_private`` (``Settings.allow_private_network``)
    and the (host, port) pairs the spider trusts (``trusted()``, read at each decision)."""

    def __init__(self, *, allow_private: bool, trusted: Callable[[], set[Netloc]],
                 resolver: AsyncResolver = system_resolve) -> None:
        self.allow_private = allow_private
        self.trusted = trusted
        self.resolver = resolver

    async def judge(self, scheme: str, host: str, port: int) -> Verdict:
        """The addresses of ``host`` that may be connected to on ``port``, in order, or a refusal reason."""
        if scheme not in BROWSER_SCHEMES or not host:
            return Verdict(reason="scheme")
        literal = ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = await self.resolver(host, port)
            except (OSError, UnicodeError):
                return Verdict(reason="unresolvable")
        open_to_all = self.allow_private or is_trusted(host, port, self.trusted())
        allowed, refused = split_addresses(addresses, allow_private=open_to_all)
        if allowed:
            return Verdict(addresses=tuple(allowed))
        return Verdict(reason="private_address" if refused else "unresolvable")

    async def judge_url(self, url: str) -> Verdict:
        target = url_netloc(url)
        if target is None:
            return Verdict(reason="scheme")
        return await self.judge(*target)


@dataclass
class PageState:
    """What the guard knows about one page: the resource types it may load, its byte budget and use."""

    load: frozenset[str] = frozenset()
    max_bytes: int = 10 * 1024 * 1024
    received: int = 0
    over_budget: bool = False
    routed: bool = False
    page: Any = None
    blocked: list[str] = field(default_factory=list)

    def add_bytes(self, count: int) -> bool:
        """Count ``count`` bytes received for the page; True when this pushed it over its budget."""
        self.received += max(count, 0)
        if self.received > self.max_bytes and not self.over_budget:
            self.over_budget = True
            return True
        return False


class BrowserGuard:
    """Judges and counts every request of the pages of one crawl (see the module docstring)."""

    def __init__(self, policy: BrowserPolicy, *, stats: Any) -> None:
        self.policy = policy
        self.stats = stats

    def count_refusal(self, reason: str, url: str, *, where: str) -> None:
        """Count a request or connection the policy refused (``where``: ``route`` or ``proxy``)."""
        for key in ("browser/blocked", f"browser/blocked/{reason}", f"browser/blocked_at/{where}",
                    "netguard/refused_count", f"netguard/refused/{reason}"):
            self.stats.inc_value(key)
        logger.info("Browser: refused %s (%s, at the %s)", url[:200], reason, where)

    def router(self, state: PageState) -> Callable[[Any, Any], Any]:
        """The route handler for one page (``page.route("**/*", handler)``)."""

        async def handle(route: Any, request: Any) -> None:
            await self.route(route, request, state)

        return handle

    async def route(self, route: Any, request: Any, state: PageState) -> None:
        """Abort ``request`` when the policy refuses it, when it is a heavy resource the page does not
        load, or when the page is over its byte budget; else hand it on (``route.fallback()``) to
        scrapy-playwright's handler, which sets the crawl's headers and lets it go."""
        url = request.url
        resource = request.resource_type
        if state.over_budget:
            self.stats.inc_value("browser/aborted/page_budget")
            await route.abort("blockedbyclient")
            return
        if resource in HEAVY_RESOURCES and resource not in state.load:
            self.stats.inc_value(f"browser/aborted/{resource}")
            await route.abort("blockedbyclient")
            return
        verdict = await self.policy.judge_url(url)
        if not verdict.allowed:
            state.blocked.append(url[:200])
            self.count_refusal(verdict.reason or "private_address", url, where="route")
            await route.abort("blockedbyclient")
            return
        self.stats.inc_value("browser/requests_allowed")
        await route.fallback()


def heavy_resources_loaded(load: Collection[str]) -> frozenset[str]:
    """The heavy resource types of ``load`` (a profile's list), validated."""
    unknown = set(load) - set(HEAVY_RESOURCES)
    if unknown:
        raise ValueError(f"unknown resource type(s) {sorted(unknown)}: use {', '.join(HEAVY_RESOURCES)}")
    return frozenset(load)
