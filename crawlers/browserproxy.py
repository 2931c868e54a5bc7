"""The local proxy every connection of the crawl's browser goes through: the network policy at connect time.

Chromium is launched with this proxy (``--proxy-server``; Playwright also removes Chromium's implicit
loopback bypass), so each connection it opens, whatever started it (a navigation, a redirect hop, a
script's fetch, a preconnect, a WebSocket), arrives here first as a ``CONNECT host:port`` (HTTPS, WSS) or
an absolute-form ``GET http://host/...`` (plain HTTP).  For each one the proxy:

1. asks :class:`crawlers.middlewares.browserguard.BrowserPolicy` for the addresses of the host that may be
   connected to (the one policy of :mod:`core.netpolicy`);
2. refuses with ``403`` when there are none, reporting the refusal (nothing is sent anywhere);
3. else connects to one of those checked addresses itself, so a name whose DNS answer changes between
   a check and the connection (rebinding) cannot lead the browser inside the network;
4. or, when the operator's ``http_proxy``/``https_proxy`` applies to the host (``no_proxy`` honoured),
   connects through that proxy, the policy having judged the final target first.

Plain-HTTP requests are forwarded one per connection (``Connection: close`` both ways), so a kept-alive
connection can never carry a second request to another host; the answer is cut at ``max_response_bytes``.
Tunnels are closed after ``timeout`` seconds without traffic.  Request heads are bounded
(:data:`HEAD_LIMIT`), request bodies are forwarded only with a ``Content-Length`` up to
``max_response_bytes``.  Credentials of an upstream proxy travel only in ``Proxy-Authorization`` to it and
are never logged.

The proxy answers only its own browser: it asks for a random secret of its own (``Proxy-Authorization:
Basic``, answered ``407`` without it), given to Chromium in its launch options, so another process of
the machine cannot use it to reach the crawl's trusted hosts or to ride on the operator's proxy
credentials.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import secrets
import socket
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from crawlers.middlewares.browserguard import BrowserPolicy

logger = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024
"""Largest request or response head read, in bytes."""
_CHUNK = 64 * 1024
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authorization",
                         "proxy-authenticate", "te", "trailer", "upgrade"})


@dataclass(frozen=True, slots=True)
class Upstream:
    """The operator's proxy for a target: where to connect, and the ``Proxy-Authorization`` to send."""

    host: str
    port: int
    authorization: str | None = None


class UpstreamProxies:
    """``http_proxy``, ``https_proxy`` and ``no_proxy`` (either case; lower case wins, as curl and urllib
    read them) from ``environ``; plain-HTTP proxy URLs only (``http://[user:password@]host[:port]``)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        found: dict[str, str] = {}
        for upper_first in (True, False):
            for name, value in environ.items():
                if value and name.lower().endswith("_proxy") and (name.isupper() == upper_first):
                    found[name.lower()[: -len("_proxy")]] = value
        self.no_proxy = found.get("no", "")
        self.proxies = {scheme: self._parse(found[scheme], scheme) for scheme in ("http", "https") if scheme in found}

    @staticmethod
    def _parse(value: str, scheme: str) -> Upstream:
        text = value if "://" in value else f"http://{value}"
        parts = urlsplit(text)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{scheme}_proxy must be an http://host:port URL for the browser")
        auth = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            auth = "Basic " + base64.b64encode(pair).decode("ascii")
        return Upstream(host=parts.hostname, port=parts.port or 80, authorization=auth)

    def __bool__(self) -> bool:
        return bool(self.proxies)

    def for_target(self, scheme: str, host: str) -> Upstream | None:
        """The proxy to reach ``host`` over ``scheme`` (``http``; ``https`` for tunnels), or None: direct."""
        upstream = self.proxies.get(scheme)
        if upstream is None:
            return None
        if self.no_proxy and urllib.request.proxy_bypass_environment(host, {"no": self.no_proxy}):
            return None
        return upstream


def split_host_port(authority: str) -> tuple[str, int] | None:
    """``host:port`` (``[v6]:port``) of a CONNECT request, host in lower case; None when malformed."""
    host, sep, port = authority.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    number = int(port)
    if not 0 < number < 65536:
        return None
    return host.strip("[]").lower(), number


class GuardProxy:
    """The proxy server (see the module docstring).  ``bind()`` reserves the port synchronously (Chromium's
    launch options need it), ``start()`` serves on the running event loop, ``close()`` stops everything.

    ``on_refused(reason, target)`` is called once per refused connection; ``count(name)`` counts events
    (``browser/proxy/...``) in the crawl's stats.
    """

    def __init__(self, policy: BrowserPolicy, *, on_refused: Callable[[str, str], None],
                 count: Callable[[str], None], upstreams: UpstreamProxies | None = None,
                 timeout: float = 30.0, max_response_bytes: int = 10 * 1024 * 1024) -> None:
        self.policy = policy
        self.on_refused = on_refused
        self.count = count
        self.upstreams = upstreams or UpstreamProxies({})
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._sock: socket.socket | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._start_lock = asyncio.Lock()
        #: The browser's credentials for this proxy (``browser_credentials``); a fresh secret per crawl.
        self.username = "lookalike"
        self.password = secrets.token_urlsafe(24)
        self._expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")

    def browser_credentials(self) -> dict[str, str]:
        """Playwright's ``proxy`` launch option for this proxy: server, username and password."""
        return {"server": self.bind(), "username": self.username, "password": self.password}

    def bind(self) -> str:
        """Reserve a free port on 127.0.0.1; returns the proxy's URL (``http://127.0.0.1:PORT``)."""
        if self._sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            sock.setblocking(False)
            self._sock = sock
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    async def start(self) -> None:
        async with self._start_lock:
            if self._server is None:
                self.bind()
                self._server = await asyncio.start_server(self._accepted, sock=self._sock, limit=HEAD_LIMIT)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None
        elif self._sock is not None:
            self._sock.close()
        self._sock = None

    # ------------------------------------------------------------------------------------ serving
    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            _close(writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            await _answer(writer, 400, "Bad Request")
            return
        headers = [(name.strip(), value.strip()) for name, sep, value in (line.partition(":") for line in lines[1:])
                   if sep and name.strip()]
        given = next((v for n, v in headers if n.lower() == "proxy-authorization"), "")
        if not hmac.compare_digest(given.encode("latin-1", "replace"), self._expected.encode("ascii")):
            self.count("browser/proxy/unauthenticated")
            writer.write(_head("HTTP/1.1 407 Proxy Authentication Required", [
                ("Proxy-Authenticate", 'Basic realm="lookalike"'), ("Content-Length", "0"), ("Connection", "close")]))
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
            return
        self.count("browser/proxy/connections")
        if method.upper() == "CONNECT":
            await self._tunnel(target, reader, writer)
        else:
            await self._forward(method, target, headers, reader, writer)

    async def _tunnel(self, authority: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = split_host_port(authority)
        if target is None:
            await _answer(writer, 400, "Bad Request")
            return
        host, port = target
        verdict = await self.policy.judge("https", host, port)
        if not verdict.allowed:
            self.on_refused(verdict.reason or "private_address", f"{host}:{port}")
            await _answer(writer, 403, "Forbidden by the network policy")
            return
        upstream = self.upstreams.for_target("https", host)
        try:
            if upstream is not None:
                remote_reader, remote_writer = await self._via_upstream(upstream, authority)
            else:
                remote_reader, remote_writer = await self._connect(verdict.addresses, port)
        except (OSError, TimeoutError, ConnectionError, ValueError):
            self.count("browser/proxy/connect_failed")
            await _answer(writer, 502, "Bad Gateway")
            return
        try:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            pipes = [asyncio.ensure_future(self._pipe(reader, remote_writer, limit=None)),
                     asyncio.ensure_future(self._pipe(remote_reader, writer, limit=None))]
            try:
                # One side done (closed, silent for ``timeout``): the tunnel is over.
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            _close(remote_writer)

    async def _forward(self, method: str, target: str, headers: list[tuple[str, str]],
                       reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            parts = urlsplit(target)
            port = parts.port or 80
        except ValueError:
            await _answer(writer, 400, "Bad Request")
            return
        host = (parts.hostname or "").lower()
        if parts.scheme.lower() != "http" or not host:
            await _answer(writer, 400, "Bad Request")
            return
        verdict = await self.policy.judge("http", host, port)
        if not verdict.allowed:
            self.on_refused(verdict.reason or "private_address", target)
            await _answer(writer, 403, "Forbidden by the network policy")
            return
        lowered = {name.lower(): value for name, value in headers}
        if "transfer-encoding" in lowered:
            await _answer(writer, 501, "Not Implemented")
            return
        length_text = lowered.get("content-length", "0")
        length = int(length_text) if length_text.isdigit() else -1
        if not 0 <= length <= self.max_response_bytes:
            await _answer(writer, 413, "Content Too Large")
            return
        upstream = self.upstreams.for_target("http", host)
        origin_form = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_line = f"{method} {target if upstream else origin_form} HTTP/1.1"
        kept = [(n, v) for n, v in headers if n.lower() not in _HOP_BY_HOP]
        if upstream is not None and upstream.authorization:
            kept.append(("Proxy-Authorization", upstream.authorization))
        kept.append(("Connection", "close"))
        try:
            if upstream is not None:
                remote_reader, remote_writer = await self._open(upstream.host, upstream.port)
            else:
                remote_reader, remote_writer = await self._connect(verdict.addresses, port)
        except (OSError, TimeoutError, ConnectionError):
            self.count("browser/proxy/connect_failed")
            await _answer(writer, 502, "Bad Gateway")
            return
        try:
            remote_writer.write(_head(request_line, kept))
            if length:
                remote_writer.write(await asyncio.wait_for(reader.readexactly(length), self.timeout))
            await remote_writer.drain()
            answer = await asyncio.wait_for(remote_reader.readuntil(b"\r\n\r\n"), self.timeout)
            status_line, *answer_lines = answer.decode("latin-1").split("\r\n")
            answer_headers = [(n.strip(), v.strip()) for n, sep, v in (line.partition(":") for line in answer_lines)
                              if sep and n.strip().lower() not in ("connection", "keep-alive", "proxy-connection")]
            answer_headers.append(("Connection", "close"))
            writer.write(_head(status_line, answer_headers))
            await self._pipe(remote_reader, writer, limit=self.max_response_bytes)
        finally:
            _close(remote_writer)

    # ---------------------------------------------------------------------------------- plumbing
    async def _open(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(asyncio.open_connection(host, port, limit=HEAD_LIMIT), self.timeout)

    async def _connect(self, addresses: tuple[str, ...], port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the first of the checked ``addresses`` that answers."""
        error: Exception = OSError("no address")
        for address in addresses:
            try:
                return await self._open(address, port)
            except (OSError, TimeoutError) as exc:
                error = exc
        raise error

    async def _via_upstream(self, upstream: Upstream, authority: str) -> tuple[asyncio.StreamReader,
                                                                                asyncio.StreamWriter]:
        """A tunnel to ``authority`` through the operator's proxy."""
        remote_reader, remote_writer = await self._open(upstream.host, upstream.port)
        headers = [("Host", authority)]
        if upstream.authorization:
            headers.append(("Proxy-Authorization", upstream.authorization))
        remote_writer.write(_head(f"CONNECT {authority} HTTP/1.1", headers))
        await remote_writer.drain()
        answer = await asyncio.wait_for(remote_reader.readuntil(b"\r\n\r\n"), self.timeout)
        status = answer.split(b" ", 2)[1:2]
        if status != [b"200"]:
            _close(remote_writer)
            raise ConnectionError(f"the upstream proxy answered {status[0].decode('latin-1') if status else '?'}")
        self.count("browser/proxy/upstream")
        return remote_reader, remote_writer

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, limit: int | None) -> None:
        """Copy ``source`` to ``sink`` until the end, ``timeout`` seconds of silence or ``limit`` bytes."""
        sent = 0
        try:
            while True:
                chunk = await asyncio.wait_for(source.read(_CHUNK), self.timeout)
                if not chunk:
                    break
                sent += len(chunk)
                if limit is not None and sent > limit:
                    self.count("browser/proxy/cut_at_size_limit")
                    break
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, TimeoutError, OSError):
            pass
        finally:
            if sink.can_write_eof():
                with contextlib.suppress(OSError, RuntimeError):
                    sink.write_eof()
            if limit is not None:
                _close(sink)


def _head(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    return (first_line + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n").encode("latin-1")


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    body = f"{status} {reason}\n".encode()
    writer.write(_head(f"HTTP/1.1 {status} {reason}", [("Content-Type", "text/plain"),
                                                       ("Content-Length", str(len(body))), ("Connection", "close")])
                 + body)
    with contextlib.suppress(ConnectionError, OSError):
        await writer.drain()


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
