"""Downloader middleware: refuse requests to internal networks and to schemes other than http(s).

Listing pages are written by strangers; a link or image URL pointing at ``http://169.254.169.254/`` or
``http://127.0.0.1:5432/`` must not be fetched from the crawling machine (SSRF).  A request is refused
(``IgnoreRequest``) when its scheme is not http/https, or its host is or resolves to a loopback, private,
link-local, multicast or reserved address, unless:

- ``LOOKALIKE_ALLOW_PRIVATE_NETWORK`` is true (``Settings.allow_private_network``), or
- its (host, port) is one the crawl was pointed at (``spider.trusted_netlocs``: the start URLs' or the
  profile's own host, which is how the demo marketplace and the tests on 127.0.0.1 work).

Stats: ``netguard/refused_count`` and ``netguard/refused/<reason>`` (``scheme``, ``private_address``,
``unresolvable``).  Resolution is cached per host for the crawl; note that the address is checked when
the request is made, so a host whose DNS answer changes between check and connect (DNS rebinding) is not
covered: run crawlers on a machine without sensitive internal services where that matters.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from lookalike.netguard import is_internal_address

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")


class PrivateNetworkGuard:
    def __init__(self, *, allow_private: bool, crawler: Any) -> None:
        self.allow_private = allow_private
        self.crawler = crawler
        self._internal_by_host: dict[str, bool | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateNetworkGuard:
        return cls(allow_private=crawler.settings.getbool("LOOKALIKE_ALLOW_PRIVATE_NETWORK"), crawler=crawler)

    @staticmethod
    def refusal_reason(
        url: str,
        *,
        trusted: set[tuple[str, int | None]],
        allow_private: bool,
        internal: bool | None,
    ) -> str | None:
        """Why ``url`` is refused, or None to let it through.

        ``internal`` says whether the host resolves to an internal address (None: it does not resolve).
        """
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            return "scheme"
        if parts.scheme not in ALLOWED_SCHEMES or not host:
            return "scheme"
        if allow_private or (host, port) in trusted:
            return None
        if internal is None:
            return "unresolvable"
        return "private_address" if internal else None

    async def host_is_internal(self, host: str) -> bool | None:
        """True/False, or None when the host does not resolve; cached per host for this crawl."""
        if host in self._internal_by_host:
            return self._internal_by_host[host]
        result: bool | None
        try:
            result = is_internal_address(host.strip("[]"))
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
                result = any(is_internal_address(str(info[4][0])) for info in infos) if infos else None
            except (OSError, UnicodeError, ipaddress.AddressValueError):
                result = None
        self._internal_by_host[host] = result
        return result

    async def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        trusted: set[tuple[str, int | None]] = getattr(spider, "trusted_netlocs", set())
        try:
            parts = urlsplit(request.url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            host, port = "", None
        internal: bool | None = False
        if host and parts.scheme in ALLOWED_SCHEMES and not self.allow_private and (host, port) not in trusted:
            internal = await self.host_is_internal(host)
        reason = self.refusal_reason(request.url, trusted=trusted, allow_private=self.allow_private,
                                     internal=internal)
        if reason is None:
            return None
        stats = self.crawler.stats
        stats.inc_value("netguard/refused_count")
        stats.inc_value(f"netguard/refused/{reason}")
        logger.info("Refused %s (%s)", request.url[:200], reason)
        raise IgnoreRequest(f"refused by the private-network guard: {reason}")
