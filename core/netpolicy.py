"""The one network policy: which addresses Lookalike may connect to, checked on the address connected to.

Listing pages, platform APIs and registries carry URLs written by strangers.  Lookalike connects only to
addresses that are globally routable on the public internet (:func:`address_refusal`); everything else
(loopback, private, shared 100.64.0.0/10 with the cloud metadata address 100.100.100.200, link-local,
multicast, reserved, documentation, benchmarking) is refused unless the caller allows private networks
(the demo, the tests, an intranet shop).  IPv6 forms that carry an IPv4 address (v4-mapped, 6to4
``2002::/16``, Teredo ``2001::/32``, NAT64 ``64:ff9b::/96``, ISATAP interface ids) are judged by the
address they carry; the IPv4-compatible ``::a.b.c.d`` form and local-use NAT64 ``64:ff9b:1::/48`` are
refused outright.

Two adapters apply it at connect time, so a name whose DNS answer changes between a check and the
connection (DNS rebinding) cannot slip through:

- the crawler's resolver (:class:`crawlers.middlewares.netguard.GuardedResolver`) hands Twisted only the
  allowed addresses of each name;
- :func:`fetch_bytes` (registry images) resolves once, checks, and connects to that address itself,
  sending the original name in the ``Host`` header and as TLS SNI (certificates are verified for it).

A resolver here is any ``(host, port) -> list of address strings`` callable (tests pass a stub).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from core.errors import LookalikeError

ALLOWED_SCHEMES = ("http", "https")
Resolver = Callable[[str, int], list[str]]
"""``(host, port) -> addresses`` (text, IPv4 or IPv6); raises ``OSError`` when the name does not resolve."""

_V4_REFUSED = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
))
"""IPv4 networks that are not public unicast (RFC 6890 and the multicast and future-use blocks)."""
_V6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_V6_REFUSED = tuple(ipaddress.ip_network(n) for n in (
    "2001:db8::/32", "2001:2::/48", "2001:10::/28", "2001:20::/28", "3fff::/20",
))
_TEREDO = ipaddress.ip_network("2001::/32")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ISATAP_IDS = (0x00005EFE, 0x02005EFE)


class UnsafeURL(LookalikeError):
    """The URL's scheme or address is not allowed."""


def _v4_refusal(ip: ipaddress.IPv4Address) -> str | None:
    if any(ip in net for net in _V4_REFUSED) or ip == ipaddress.IPv4Address("255.255.255.255"):
        return f"{ip} is not a public address"
    return None


def address_refusal(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why connecting to ``address`` is refused (a short phrase), or None when it is globally routable.

    Raises ``ValueError`` when ``address`` is not an IP address.
    """
    ip = ipaddress.ip_address(str(address).split("%", 1)[0].strip("[]"))
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_refusal(ip)
    if ip.ipv4_mapped is not None:
        return _v4_refusal(ip.ipv4_mapped)
    if ip in _NAT64:
        return _v4_refusal(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip not in _V6_GLOBAL_UNICAST:
        return f"{ip} is not a public address"
    if ip in _SIX_TO_FOUR:
        return _v4_refusal(ip.sixtofour)  # type: ignore[arg-type]
    if ip in _TEREDO:
        server, client = ip.teredo  # type: ignore[misc]
        return _v4_refusal(server) or _v4_refusal(client)
    if any(ip in net for net in _V6_REFUSED) or not ip.is_global:
        return f"{ip} is not a public address"
    if (int(ip) >> 32) & 0xFFFFFFFF in _ISATAP_IDS:
        return _v4_refusal(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return None


def is_internal_address(address: str) -> bool:
    """True when ``address`` (an IP address) is refused by the policy; see :func:`address_refusal`."""
    return address_refusal(address) is not None


def ip_literal(host: str) -> str | None:
    """``host`` as a normalised IP address when it is one (``[::1]`` -> ``::1``), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for ``host`` (TCP), addresses as text, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def split_addresses(addresses: Iterable[str], *, allow_private: bool) -> tuple[list[str], list[str]]:
    """(allowed, refused) addresses, each list in the given order: the policy as one function."""
    allowed, refused = [], []
    for address in addresses:
        try:
            bad = None if allow_private else address_refusal(address)
        except ValueError:
            bad = "not an address"
        (refused if bad else allowed).append(address)
    return allowed, refused


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def url_target(url: str) -> tuple[str, str, int]:
    """(scheme, lower-case host, port) of an http(s) URL; raises ``UnsafeURL`` for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL(f"refused malformed URL {url[:200]!r}") from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL(f"refused URL with scheme {parts.scheme or 'none'!r}: only http and https are fetched")
    if not parts.hostname:
        raise UnsafeURL(f"refused URL without a host: {url[:200]!r}")
    return parts.scheme, parts.hostname.lower(), port or default_port(parts.scheme)


def checked_addresses(host: str, port: int, *, allow_private: bool, resolver: Resolver | None = None) -> list[str]:
    """The addresses of ``host`` that may be connected to, in order; raises ``UnsafeURL`` when none may."""
    literal = ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = (resolver or system_resolver)(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeURL(f"cannot resolve host {host[:100]!r}: {exc}") from None
    allowed, refused = split_addresses(addresses, allow_private=allow_private)
    if not allowed:
        raise UnsafeURL(
            f"refused {host[:100]!r}: it is on a private, loopback, link-local or otherwise non-public "
            "network (set allow_private_network to allow it)" if refused else f"cannot resolve host {host[:100]!r}"
        )
    return allowed


def check_url(url: str, *, allow_private: bool = False, resolver: Resolver | None = None) -> None:
    """Raise ``UnsafeURL`` unless ``url`` is http(s) and (``allow_private`` or) has an allowed address.

    A pre-check for messages only: code that connects must connect to :func:`checked_addresses`."""
    _scheme, host, port = url_target(url)
    if not allow_private:
        checked_addresses(host, port, allow_private=False, resolver=resolver)


# -------------------------------------------------------------------------------- pinned fetching
MAX_REDIRECTS = 3
_READ_CHUNK = 64 * 1024


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a checked address, sending the URL's own host name in ``Host``."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = self.raw_sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the URL's host name as SNI and for certificate verification."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        super().__init__(host, port, timeout=timeout, context=context or ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        self.raw_sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(self.raw_sock, server_hostname=self.host)


class _Deadline:
    """Closes a connection's socket when the overall deadline passes (a slow-drip server cannot hold on)."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float) -> None:
        self.conn = conn
        self.fired = False
        self.timer = threading.Timer(max(seconds, 0.0), self._fire)
        self.timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        # http.client drops conn.sock once a response owns the connection: keep the socket it connected.
        sock = getattr(self.conn, "raw_sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()


@dataclass(frozen=True, slots=True)
class Fetched:
    """One HTTP answer as received: what evidence capture writes to a WARC file."""

    #: The URL finally answered (after redirects) and the checked address it was fetched from.
    url: str
    address: str
    status: int
    reason: str
    #: ``HTTP/1.1`` or ``HTTP/1.0``.
    http_version: str
    #: Response headers in order, as sent.
    headers: tuple[tuple[str, str], ...]
    #: Request headers sent for ``url``.
    request_headers: tuple[tuple[str, str], ...]
    body: bytes
    #: Each redirect before ``url``: (from URL, status).
    redirects: tuple[tuple[str, int], ...] = ()

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


def fetch(  # noqa: PLR0913 - every limit is a keyword the caller sets
    url: str,
    *,
    max_bytes: int,
    user_agent: str,
    accept: str = "*/*",
    allow_private: bool = False,
    timeout: float = 30.0,
    total_timeout: float | None = None,
    deadline: float | None = None,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Fetched:
    """GET ``url`` under the policy; returns the answer whatever its status (a 404 is an answer).

    ``timeout``: seconds for connecting and for each read; ``total_timeout``: seconds for the whole file,
    redirects included (default: ``timeout``); ``deadline``: an absolute ``time.monotonic()`` value the
    fetch never runs past (the caller's budget for a whole import).  Follows at most
    :data:`MAX_REDIRECTS` redirects, each checked like the first URL.  Refuses non-public addresses at
    connect time, bodies over ``max_bytes``, and reports every failure as one ``LookalikeError`` line.
    """
    started = time.monotonic()
    end = started + (total_timeout if total_timeout is not None else timeout)
    if deadline is not None:
        end = min(end, deadline)
    current = url
    redirects: list[tuple[str, int]] = []
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = url_target(current)
        addresses = checked_addresses(host, port, allow_private=allow_private, resolver=resolver)
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise LookalikeError(f"{url[:200]}: gave up, the download deadline passed")
        conn_cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        kwargs = {"context": ssl_context} if scheme == "https" else {}
        conn = conn_cls(host, port, address=addresses[0], timeout=min(timeout, remaining), **kwargs)
        parts = urlsplit(current)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = (("Host", parts.netloc), ("User-Agent", user_agent), ("Accept", accept))
        with _Deadline(conn, remaining) as watchdog:
            try:
                conn.request("GET", target, headers=dict(request_headers[1:]))
                response = conn.getresponse()
                if response.status in (301, 302, 303, 307, 308):
                    location = response.getheader("Location")
                    conn.close()
                    if not location:
                        raise LookalikeError(f"{url[:200]}: redirect without a Location")
                    redirects.append((current, response.status))
                    current = urljoin(current, location)
                    continue
                declared = response.getheader("Content-Length")
                if declared and declared.strip().isdigit() and int(declared) > max_bytes:
                    raise LookalikeError(f"{url[:200]}: larger than {max_bytes} bytes")
                body = bytearray()
                while len(body) <= max_bytes and not watchdog.fired:
                    chunk = response.read1(_READ_CHUNK)
                    if not chunk:
                        break
                    body += chunk
            except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
                if watchdog.fired or time.monotonic() >= end:
                    raise LookalikeError(f"{url[:200]}: gave up, the download deadline passed") from None
                raise LookalikeError(f"{url[:200]}: cannot fetch ({exc})") from None
            finally:
                conn.close()
        if watchdog.fired:
            raise LookalikeError(f"{url[:200]}: gave up, the download deadline passed")
        if len(body) > max_bytes:
            raise LookalikeError(f"{url[:200]}: larger than {max_bytes} bytes")
        return Fetched(
            url=current, address=addresses[0], status=response.status, reason=response.reason or "",
            http_version="HTTP/1.0" if response.version == 10 else "HTTP/1.1",
            headers=tuple(response.getheaders()), request_headers=request_headers, body=bytes(body),
            redirects=tuple(redirects),
        )
    raise LookalikeError(f"{url[:200]}: more than {MAX_REDIRECTS} redirects")


def fetch_bytes(url: str, *, max_bytes: int, user_agent: str, **limits: Any) -> tuple[bytes, str | None]:
    """GET a small file (a registry image) under the policy: (body, content type); only 200 is success.

    ``limits`` are :func:`fetch`'s keywords (``allow_private``, ``timeout``, ``total_timeout``,
    ``deadline``, ``resolver``, ``ssl_context``).
    """
    answer = fetch(url, max_bytes=max_bytes, user_agent=user_agent, accept="image/*", **limits)
    if answer.status != 200:
        raise LookalikeError(f"{url[:200]}: HTTP {answer.status}")
    return answer.body, answer.header("Content-Type")
