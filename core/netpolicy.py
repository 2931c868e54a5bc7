"""Refuse URLs that point inside the network (SSRF guard) and fetch small files politely.

Listing pages and registries carry URLs written by strangers.  A URL whose host resolves to a
loopback, private, link-local, multicast or reserved address, or whose scheme is not http(s), is
refused unless the caller allows private networks (the demo, the tests, an intranet shop).
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from lookalike.errors import LookalikeError


class UnsafeURL(LookalikeError):
    """The URL's scheme or address is not allowed."""


def is_internal_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve(host: str) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"cannot resolve host {host[:100]!r}: {exc}") from None


def host_is_internal(host: str) -> bool:
    """True when ``host`` is, or resolves to, any internal address."""
    try:
        return is_internal_address(host.strip("[]"))
    except ValueError:
        return any(is_internal_address(a) for a in resolve(host))


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Raise ``UnsafeURL`` unless ``url`` is http(s) and (``allow_private`` or) on a public host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"refused URL with scheme {parts.scheme or 'none'!r}: only http and https are fetched")
    if not parts.hostname:
        raise UnsafeURL(f"refused URL without a host: {url[:200]!r}")
    if not allow_private and host_is_internal(parts.hostname):
        raise UnsafeURL(
            f"refused {parts.hostname!r}: it is on a private, loopback or link-local network "
            "(set allow_private_network to allow it)"
        )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 3

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib's signature
        check_url(newurl, allow_private=self.allow_private)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_bytes(
    url: str, *, max_bytes: int, user_agent: str, allow_private: bool = False, timeout: float = 30.0
) -> tuple[bytes, str | None]:
    """GET a small file (a registry image); returns (body, content type).

    Refuses internal addresses (also after redirects), bodies over ``max_bytes``, and errors with one
    clear ``LookalikeError`` line.
    """
    check_url(url, allow_private=allow_private)
    opener = urllib.request.build_opener(_CheckedRedirects(allow_private))
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            content_type = response.headers.get("Content-Type")
    except urllib.error.HTTPError as exc:
        raise LookalikeError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LookalikeError(f"{url}: cannot fetch ({reason})") from None
    if len(body) > max_bytes:
        raise LookalikeError(f"{url}: larger than {max_bytes} bytes")
    return body, content_type
