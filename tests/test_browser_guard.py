"""The browser's network policy without a browser: the policy's verdicts, the guard proxy (refusals,
pinned connections, bounds, the operator's proxy) and the proxy variables.  Local servers only."""

from __future__ import annotations

import asyncio
import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from crawlers.browserproxy import GuardProxy, UpstreamProxies, split_host_port
from crawlers.middlewares.browserguard import BrowserPolicy, PageState, heavy_resources_loaded


class Origin:
    """A local web server recording its requests (and its accepted connections)."""

    def __init__(self, body: bytes = b"hello") -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.connections = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append((self.path, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                outer.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin():
    server = Origin()
    yield server
    server.close()


def _policy(table: dict[str, list[str]], *, trusted: set[tuple[str, int | None]] = frozenset(),
            allow_private: bool = False) -> BrowserPolicy:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such name")
        return table[host]

    return BrowserPolicy(allow_private=allow_private, trusted=lambda: set(trusted), resolver=resolve)


def _authorized(proxy: GuardProxy, data: bytes) -> bytes:
    """``data`` with the proxy's own credentials added after the request line (as Chromium sends them)."""
    line, sep, rest = data.partition(b"\r\n")
    token = base64.b64encode(f"{proxy.username}:{proxy.password}".encode())
    return line + sep + b"Proxy-Authorization: Basic " + token + b"\r\n" + rest


async def _exchange(proxy_url: str, data: bytes) -> bytes:
    host, port = proxy_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


def _run_proxy(policy: BrowserPolicy, requests: list[bytes], *, authorize: bool = True,
               **options: Any) -> tuple[list[bytes], list[tuple[str, str]], dict[str, int]]:
    refused: list[tuple[str, str]] = []
    counts: dict[str, int] = {}

    async def main() -> list[bytes]:
        proxy = GuardProxy(policy, on_refused=lambda reason, target: refused.append((reason, target)),
                           count=lambda name: counts.__setitem__(name, counts.get(name, 0) + 1), **options)
        url = proxy.bind()
        await proxy.start()
        try:
            return [await _exchange(url, _authorized(proxy, request) if authorize else request)
                    for request in requests]
        finally:
            await proxy.close()

    return asyncio.run(main()), refused, counts


# ------------------------------------------------------------------------------------------ the policy
@pytest.mark.parametrize(
    ("url", "table", "trusted", "allow_private", "expected"),
    [
        ("https://shop.test/p/1", {"shop.test": ["93.184.216.34"]}, set(), False, ("93.184.216.34",)),
        ("http://inside.test/", {"inside.test": ["10.0.0.5"]}, set(), False, "private_address"),
        ("http://mixed.test/", {"mixed.test": ["127.0.0.1", "93.184.216.34"]}, set(), False, ("93.184.216.34",)),
        ("http://169.254.169.254/latest/meta-data/", {}, set(), False, "private_address"),
        ("http://[::1]:8080/", {}, set(), False, "private_address"),
        ("http://gone.test/", {}, set(), False, "unresolvable"),
        ("ftp://shop.test/", {"shop.test": ["93.184.216.34"]}, set(), False, "scheme"),
        ("http://127.0.0.1:8000/p", {}, {("127.0.0.1", 8000)}, False, ("127.0.0.1",)),
        ("http://127.0.0.1:8001/p", {}, {("127.0.0.1", 8000)}, False, "private_address"),   # another port
        ("http://10.0.0.5/", {}, set(), True, ("10.0.0.5",)),
        ("wss://shop.test/socket", {"shop.test": ["93.184.216.34"]}, set(), False, ("93.184.216.34",)),
    ],
)
def test_the_policy_judges_every_browser_url(url, table, trusted, allow_private, expected) -> None:
    verdict = asyncio.run(_policy(table, trusted=trusted, allow_private=allow_private).judge_url(url))
    assert (verdict.addresses if verdict.allowed else verdict.reason) == expected


def test_page_budget_and_resource_types() -> None:
    state = PageState(max_bytes=100)
    assert not state.add_bytes(60) and state.add_bytes(41) and state.over_budget and not state.add_bytes(5)
    assert heavy_resources_loaded(["image"]) == frozenset({"image"})
    with pytest.raises(ValueError, match="unknown resource"):
        heavy_resources_loaded(["script"])


# ---------------------------------------------------------------------------------------- the proxy
def test_a_refused_target_gets_403_and_no_connection(origin: Origin) -> None:
    policy = _policy({"inside.test": ["127.0.0.1"]})
    answers, refused, _ = _run_proxy(policy, [
        f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\n\r\n".encode(),
        f"GET http://inside.test:{origin.port}/secret HTTP/1.1\r\nHost: inside.test\r\n\r\n".encode(),
        b"CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n",
    ])
    assert all(answer.startswith(b"HTTP/1.1 403") for answer in answers)
    assert refused == [("private_address", f"127.0.0.1:{origin.port}"),
                       ("private_address", f"http://inside.test:{origin.port}/secret"),
                       ("private_address", "169.254.169.254:80")]
    assert origin.connections == 0


def test_only_its_own_browser_may_use_the_proxy(origin: Origin) -> None:
    policy = _policy({}, trusted={("127.0.0.1", origin.port)})
    request = f"GET http://127.0.0.1:{origin.port}/p/1 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    answers, _, counts = _run_proxy(policy, [request, request.replace(b"Host: x", b"Proxy-Authorization: Basic eDp5")],
                                    authorize=False)
    assert all(a.startswith(b"HTTP/1.1 407") and b'Proxy-Authenticate: Basic realm="lookalike"' in a for a in answers)
    assert counts["browser/proxy/unauthenticated"] == 2 and origin.connections == 0


def test_an_allowed_request_goes_to_the_checked_address_once(origin: Origin) -> None:
    # "shop.test" exists only in the policy's resolver: the proxy connects to the address it checked.
    policy = _policy({"shop.test": ["127.0.0.1"]}, trusted={("shop.test", origin.port)})
    answers, refused, counts = _run_proxy(policy, [
        f"GET http://shop.test:{origin.port}/p/1?x=1 HTTP/1.1\r\nHost: shop.test:{origin.port}\r\n"
        "Proxy-Connection: keep-alive\r\n\r\n"
        # A second request on the same connection is never forwarded (one request per connection).
        f"GET http://shop.test:{origin.port}/p/2 HTTP/1.1\r\nHost: shop.test:{origin.port}\r\n\r\n".encode(),
    ])
    assert answers[0].startswith(b"HTTP/1.1 200") and answers[0].endswith(b"hello")
    assert b"Connection: close" in answers[0]
    assert [path for path, _ in origin.requests] == ["/p/1?x=1"]
    headers = {k.lower(): v for k, v in origin.requests[0][1].items()}
    assert "proxy-authorization" not in headers and "proxy-connection" not in headers
    assert headers["connection"] == "close" and refused == []
    assert counts["browser/proxy/connections"] == 1


def test_answers_are_cut_at_the_size_bound_and_odd_requests_refused() -> None:
    big = Origin(body=b"x" * 300_000)
    try:
        policy = _policy({}, trusted={("127.0.0.1", big.port)})
        answers, _, counts = _run_proxy(policy, [
            f"GET http://127.0.0.1:{big.port}/big HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
            f"POST http://127.0.0.1:{big.port}/up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode(),
            f"POST http://127.0.0.1:{big.port}/up HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n".encode(),
            b"GET ftp://127.0.0.1/ HTTP/1.1\r\n\r\n",
            b"NONSENSE\r\n\r\n",
        ], max_response_bytes=100_000)
    finally:
        big.close()
    assert len(answers[0]) < 110_000 and counts["browser/proxy/cut_at_size_limit"] == 1
    assert [a.split(b"\r\n", 1)[0] for a in answers[1:]] == [
        b"HTTP/1.1 501 Not Implemented", b"HTTP/1.1 413 Content Too Large", b"HTTP/1.1 400 Bad Request",
        b"HTTP/1.1 400 Bad Request"]


def test_tunnels_go_through_the_operators_proxy_after_the_policy(origin: Origin) -> None:
    seen: list[bytes] = []

    async def fake_upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        writer.write(await reader.read(5))  # echo the first bytes through the tunnel
        await writer.drain()
        writer.close()

    async def main() -> list[bytes]:
        server = await asyncio.start_server(fake_upstream, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        upstreams = UpstreamProxies({"HTTPS_PROXY": f"http://ops:pa%3Ass@127.0.0.1:{port}", "no_proxy": ".corp"})
        policy = _policy({"shop.test": ["93.184.216.34"], "inside.test": ["10.1.1.1"], "intranet.corp": ["8.8.8.8"]})
        proxy = GuardProxy(policy, on_refused=lambda *_: None, count=lambda _: None, upstreams=upstreams)
        url = proxy.bind()
        await proxy.start()
        try:
            return [await _exchange(url, _authorized(proxy, b"CONNECT shop.test:443 HTTP/1.1\r\n\r\nhello")),
                    await _exchange(url, _authorized(proxy, b"CONNECT inside.test:443 HTTP/1.1\r\n\r\n"))]
        finally:
            await proxy.close()
            server.close()

    answers = asyncio.run(main())
    assert answers[0] == b"HTTP/1.1 200 Connection established\r\n\r\nhello"
    assert answers[1].startswith(b"HTTP/1.1 403")
    assert len(seen) == 1 and seen[0].startswith(b"CONNECT shop.test:443 HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic " + base64.b64encode(b"ops:pa:ss") in seen[0]


def test_proxy_variables() -> None:
    both = UpstreamProxies({"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:2",
                            "https_proxy": "proxy.corp:3128", "NO_PROXY": "localhost,.internal"})
    assert both.for_target("http", "shop.test").host == "lower"
    assert both.for_target("https", "shop.test").port == 3128
    assert both.for_target("https", "api.internal") is None and both.for_target("http", "localhost") is None
    assert not UpstreamProxies({}) and UpstreamProxies({}).for_target("http", "x") is None
    with pytest.raises(ValueError, match="http://host:port"):
        UpstreamProxies({"https_proxy": "https://tls.proxy:443"})
    assert split_host_port("[::1]:443") == ("::1", 443) and split_host_port("Shop.Test:8443") == ("shop.test", 8443)
    assert split_host_port("nohost") is None and split_host_port("x:99999") is None


# ------------------------------------------------------------------------------ context generations
class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str) -> None:
        self.values[key] = self.values.get(key, 0) + 1


class _Context:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


def _generations(pages_per_context: int):
    from types import SimpleNamespace

    from crawlers.browser import GuardedBrowserHandler

    handler = object.__new__(GuardedBrowserHandler)  # the generation logic alone, no browser
    handler.pages_per_context = pages_per_context
    handler._generation, handler._assigned, handler._pending, handler._drained = 0, 0, {}, {}
    handler.context_wrappers = {}
    handler.crawler = SimpleNamespace(stats=_Stats())
    return handler, SimpleNamespace


def test_a_context_serves_a_bounded_number_of_pages_and_never_overlaps_the_next() -> None:
    handler, namespace = _generations(2)

    async def main() -> list[str]:
        events: list[str] = []
        first = _Context()
        handler.context_wrappers["lookalike-0"] = namespace(context=first)
        assert [handler._next_generation(), handler._next_generation()] == [0, 0]
        assert handler._next_generation() == 1            # the third page: a new generation...
        waiting = handler._drained[0]                     # ...that waits while the first has pages open
        assert not waiting.is_set() and not first.closed
        handler._pending[0] -= 1
        await handler._close_retired()
        assert not first.closed                            # one page of generation 0 still open
        handler._pending[0] -= 1
        await handler._close_retired()
        events.append(f"closed={first.closed} released={waiting.is_set()}")
        # An idle switch: generation 1 has no page open when the next generation starts.
        second = _Context()
        handler.context_wrappers["lookalike-1"] = namespace(context=second)
        handler._pending[1] = 0
        handler._assigned = 2
        assert handler._next_generation() == 2 and 1 not in handler._drained
        await handler._close_retired()
        events.append(f"idle closed={second.closed}")
        return events

    assert asyncio.run(main()) == ["closed=True released=True", "idle closed=True"]
    assert handler.crawler.stats.values == {"browser/contexts_recycled": 2}
