"""What the hostile-input tests share: a loopback HTTP server whose routes play an attack, and a
listener that stands in for an internal service (it records every request it gets)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[["Request"], tuple[int, dict[str, str], bytes]]


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self.path = handler.path
        self.headers = dict(handler.headers.items())


class Server:
    """``ThreadingHTTPServer`` on 127.0.0.1 and a free port; ``routes`` maps a path prefix to a function."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes = routes or {}
        self.requests: list[Request] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                request = Request(self)
                outer.requests.append(request)
                for prefix, route in sorted(outer.routes.items(), key=lambda kv: -len(kv[0])):
                    if self.path.startswith(prefix):
                        status, headers, body = route(request)
                        break
                else:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not here"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_route(data: Any, headers: dict[str, str] | None = None) -> Route:
    def route(request: Request) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json", **(headers or {})}, json.dumps(data).encode()
    return route


def text_route(body: str, status: int = 200, content_type: str = "text/html") -> Route:
    def route(request: Request) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": content_type}, body.encode()
    return route
