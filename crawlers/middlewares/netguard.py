"""The crawler's two thin adapters of :mod:`core.netpolicy`: a downloader middleware and a DNS resolver.

Listing pages are written by strangers; a link or image URL pointing at ``http://169.254.169.254/`` or
``http://127.0.0.1:5432/`` must not be fetched from the crawling machine (SSRF).

- :class:`GuardedResolver` (``TWISTED_DNS_RESOLVER``) is where the policy is enforced: Scrapy's HTTP
  handler connects only to the addresses a resolver hands it, and this one hands over only addresses
  that :func:`core.netpolicy.split_addresses` allows.  The address checked is the address connected to,
  so a name that answers a public address to one lookup and an internal one to the next (DNS
  rebinding) gets no connection.  IP literals go through it too.
- :class:`PrivateNetworkGuard` (downloader middleware) refuses early, with a reason in the stats, what
  can be judged without DNS: a scheme other than http(s), an IP literal that is not public, a name the
  resolver already refused in this crawl.

Exceptions: ``LOOKALIKE_ALLOW_PRIVATE_NETWORK`` (``Settings.allow_private_network``) allows everything,
and a (host, port) in ``spider.trusted_netlocs`` is allowed.  Only a start URL a person configured (a
scan file, ``--start-url``, a profile) is trusted, for the crawl it starts; recheck URLs, platform API
data and links found on pages never are (see :class:`crawlers.spiders.base.LookalikeSpider`).

Behind the operator's proxy (``http_proxy``/``https_proxy``, ``no_proxy`` honoured; Scrapy's
``HttpProxyMiddleware`` sends the requests through it) the resolver only sees the proxy's name, which
the operator configured and is therefore allowed.  So for a request that will go through a proxy the
middleware judges the final target itself: it resolves the host and refuses it unless an allowed address
is among the answers (:func:`internal_name`, the check the browser's guard makes too).  The proxy resolves the name again; a name that answers differently to the proxy than to the
crawler is the one case the policy cannot see behind a proxy (docs/sources.md).

Stats: ``netguard/refused_count`` and ``netguard/refused/<reason>`` (``scheme``, ``private_address``,
``unresolvable``, ``at_connect``: a name whose every address was refused by the resolver).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer, provider

from core.netpolicy import ALLOWED_SCHEMES, address_refusal, default_port, ip_literal, split_addresses

logger = logging.getLogger(__name__)

Netloc = tuple[str, int | None]


def effective_netloc(url: str) -> tuple[str, str, int] | None:
    """(scheme, lower-case host, port with the scheme's default filled in), or None for a malformed URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    return parts.scheme, (parts.hostname or "").lower(), port or default_port(parts.scheme)


async def internal_name(host: str, port: int) -> bool | None:
    """True when ``host`` resolves only to addresses the policy refuses, None when it does not resolve."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    allowed, refused = split_addresses(list(dict.fromkeys(str(i[4][0]) for i in infos)), allow_private=False)
    return not allowed


def proxy_netlocs(environ: Mapping[str, str] | None = None) -> set[tuple[str, int]]:
    """(host, port) of the operator's proxies (``http_proxy``, ``https_proxy``): allowed, as configured."""
    found = set()
    for url in urllib.request.getproxies_environment().values() if environ is None else \
            [v for k, v in environ.items() if k.lower() in ("http_proxy", "https_proxy")]:
        target = effective_netloc(url if "://" in url else f"http://{url}")
        if target is not None and target[1]:
            found.add((target[1], target[2]))
    return found


def proxy_for(url: str) -> str | None:
    """The proxy URL Scrapy's ``HttpProxyMiddleware`` sends ``url`` through (``no_proxy`` honoured), or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return None
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme.lower())
    if not proxy or urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxy


def is_trusted(host: str, port: int, trusted: set[Netloc]) -> bool:
    """True when (host, port) was trusted; a trusted entry with port None stands for the default ports."""
    return (host, port) in trusted or (port in (80, 443) and (host, None) in trusted)


class PrivateNetworkGuard:
    """Downloader middleware: early refusals with a reason, and the link between a spider and the resolver."""

    def __init__(self, *, allow_private: bool, crawler: Any) -> None:
        self.allow_private = allow_private
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateNetworkGuard:
        guard = cls(allow_private=crawler.settings.getbool("LOOKALIKE_ALLOW_PRIVATE_NETWORK"), crawler=crawler)
        crawler.signals.connect(guard.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def spider_opened(self, spider: Any) -> None:
        if GuardedResolver.active is not None:
            GuardedResolver.active.register(self)

    def spider_closed(self, spider: Any) -> None:
        if GuardedResolver.active is not None:
            GuardedResolver.active.unregister(self)

    @property
    def trusted(self) -> set[Netloc]:
        return getattr(self.crawler.spider, "trusted_netlocs", set())

    def count_refusal(self, reason: str) -> None:
        stats = self.crawler.stats
        stats.inc_value("netguard/refused_count")
        stats.inc_value(f"netguard/refused/{reason}")

    @staticmethod
    def refusal_reason(
        url: str,
        *,
        trusted: set[Netloc],
        allow_private: bool,
        internal: bool | None,
    ) -> str | None:
        """Why ``url`` is refused, or None to let it through (to the resolver's check).

        ``internal`` says whether the host is known to be a non-public address (None: it does not resolve).
        """
        target = effective_netloc(url)
        if target is None:
            return "scheme"
        scheme, host, port = target
        if scheme not in ALLOWED_SCHEMES or not host:
            return "scheme"
        if allow_private or is_trusted(host, port, trusted):
            return None
        if internal is None:
            return "unresolvable"
        return "private_address" if internal else None

    async def process_request(self, request: Request) -> None:
        target = effective_netloc(request.url)
        internal: bool | None = False
        if target is not None:
            literal = ip_literal(target[1])
            if literal is not None:
                internal = address_refusal(literal) is not None
            elif GuardedResolver.active is not None and GuardedResolver.active.refused_before(target[1]):
                internal = True
            elif proxy_for(request.url) is not None and not self.allow_private \
                    and not is_trusted(target[1], target[2], self.trusted):
                # Through a proxy the resolver never sees this name: judge the final target here.
                internal = await internal_name(target[1], target[2])
        reason = self.refusal_reason(request.url, trusted=self.trusted, allow_private=self.allow_private,
                                     internal=internal)
        if reason is None:
            return None
        self.count_refusal(reason)
        logger.info("Refused %s (%s)", request.url[:200], reason)
        raise IgnoreRequest(f"refused by the private-network guard: {reason}")


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:  # pragma: no cover - Twisted never cancels a resolution it started
        pass


@implementer(IHostnameResolver)
class GuardedResolver:
    """``TWISTED_DNS_RESOLVER``: resolves with the reactor's own resolver and passes on only allowed addresses.

    Allowed: every address when ``LOOKALIKE_ALLOW_PRIVATE_NETWORK`` is true or the (host, port) is trusted
    by a registered spider; otherwise the public ones (:func:`core.netpolicy.split_addresses`).  A name with
    no allowed address resolves to nothing, which Scrapy reports as a DNS lookup error.
    """

    #: The resolver installed in this process (one reactor per process), for the middleware to find.
    active: GuardedResolver | None = None

    def __init__(self, reactor: Any, *, allow_private: bool) -> None:
        self.reactor = reactor
        self.allow_private = allow_private
        self.original: IHostnameResolver = reactor.nameResolver
        self.guards: list[PrivateNetworkGuard] = []
        self._refused_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        # Scrapy passes its CrawlerProcess here, which has settings but no spider.
        return cls(reactor, allow_private=crawler.settings.getbool("LOOKALIKE_ALLOW_PRIVATE_NETWORK"))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)
        GuardedResolver.active = self

    def register(self, guard: PrivateNetworkGuard) -> None:
        if guard not in self.guards:
            self.guards.append(guard)

    def unregister(self, guard: PrivateNetworkGuard) -> None:
        if guard in self.guards:
            self.guards.remove(guard)

    def refused_before(self, host: str) -> bool:
        return host.lower() in self._refused_hosts

    def allowed(self, host: str, port: int, addresses: list[str]) -> list[str]:
        """The addresses of ``host`` that may be connected to on ``port`` (the whole policy decision)."""
        host = host.lower()
        if self.allow_private or any(is_trusted(host, port, g.trusted) for g in self.guards) \
                or (host, port) in proxy_netlocs():
            return addresses
        allowed, refused = split_addresses(addresses, allow_private=False)
        if refused:
            logger.warning("Refused to connect to %s:%d at %s (not public)", host[:100], port,
                           ", ".join(refused[:4]))
        if refused and not allowed:
            self._refused_hosts.add(host)
            for guard in self.guards:
                guard.count_refusal("at_connect")
        return allowed

    def resolveHostName(  # noqa: N802 - Twisted's interface
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> IHostResolution:
        found: list[Any] = []
        resolution = _Resolution(hostName)
        outer = resolutionReceiver
        guard = self

        @provider(IResolutionReceiver)
        class _Collect:
            @staticmethod
            def resolutionBegan(inner: IHostResolution) -> None:  # noqa: N802
                outer.resolutionBegan(resolution)

            @staticmethod
            def addressResolved(address: Any) -> None:  # noqa: N802
                found.append(address)

            @staticmethod
            def resolutionComplete() -> None:  # noqa: N802
                keep = set(guard.allowed(hostName, portNumber, [str(a.host) for a in found]))
                for address in found:
                    if str(address.host) in keep:
                        outer.addressResolved(address)
                outer.resolutionComplete()

        return self.original.resolveHostName(_Collect, hostName, portNumber, addressTypes, transportSemantics)
