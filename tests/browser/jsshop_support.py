"""Local servers for the browser-crawl tests: a JavaScript shop whose pages try every way out of the
network policy, a recorder that counts each request it receives, and a forwarding proxy.

The shop (``JsShop``) renders everything client-side from its own JSON API, and every page also reaches
for the recorder (an address the policy refuses: loopback on a port nobody trusted):

- ``/search?q=``: a result list built from ``/api/search``; it sends a beacon to the recorder with
  ``fetch`` and shows the recorder in an ``<iframe>`` (both seen by the page's route);
- ``/item/<n>``: a product built from ``/api/item/<n>``; the page also fetches ``/api/hop``, which
  redirects to the recorder (a redirect hop: Playwright does not route it, the guard proxy refuses it);
- ``/go/<n>`` (listed among the results): a navigation that redirects to the recorder;
- ``/slow``: HTML that never finishes arriving; ``/big``: a page whose script fetches more than a page may
  receive; ``/dom``: a page whose script builds a DOM larger than a page may be; ``/popup``: a page that
  opens a window; ``/photos``: a product with photos (images are not loaded unless a profile asks).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a browser that gave up closes connections mid-answer


class Recorder:
    """Answers 200 to anything and records every request line (the proof that nothing was made)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _any(self) -> None:
                outer.hits.append(f"{self.command} {self.path}")
                body = b"secret"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_CONNECT = _any  # noqa: N815

        self.server = _CountingServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def connections(self) -> int:
        """TCP connections accepted, a request sent on them or not."""
        return self.server.accepted

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _CountingServer(_Server):
    accepted = 0

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.accepted += 1
        return True


ITEMS = {
    "1": {"title": "Glowmint Serum 30 ml", "price": "19.90", "currency": "EUR", "brand": "Glowmint",
          "sku": "GM-30", "seller": "Lumen Goods"},
    "2": {"title": "Glowmint Night Cream", "price": "24.50", "currency": "GBP", "brand": "Glowmint",
          "sku": "GM-NC50", "seller": "Blue Fox"},
}
SYMBOLS = {"EUR": "\u20ac", "GBP": "\u00a3", "USD": "US $"}

_RENDER = """
<script>
(function () {
  var app = document.getElementById("app");
  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) { n.textContent = text; }
    return n;
  }
  function done() { app.setAttribute("data-state", "ready"); }
  var view = app.getAttribute("data-view");
  if (view === "search") {
    fetch(RECORDER + "/beacon?from=search", {mode: "no-cors"}).catch(function () {});
    document.body.appendChild(el("iframe", {src: RECORDER + "/frame"}));
    fetch("/api/search").then(function (r) { return r.json(); }).then(function (rows) {
      var list = el("ol");
      rows.forEach(function (row) {
        var li = el("li"); li.appendChild(el("a", {"class": "result-link", href: row.href}, row.title));
        list.appendChild(li);
      });
      app.appendChild(list); done();
    });
  } else if (view === "item") {
    fetch("/api/hop").catch(function () {});
    fetch("/api/item/" + app.getAttribute("data-id")).then(function (r) { return r.json(); }).then(function (it) {
      app.appendChild(el("h1", {}, it.title));
      app.appendChild(el("div", {"class": "price"}, it.price_text));
      var dl = el("dl");
      [["Brand", it.brand], ["SKU", it.sku], ["Sold by", it.seller]].forEach(function (p) {
        dl.appendChild(el("dt", {}, p[0] + ":")); dl.appendChild(el("dd", {}, p[1]));
      });
      app.appendChild(dl);
      (it.images || []).forEach(function (src) { app.appendChild(el("img", {src: src, width: "500", height: "500"})); });
      done();
    });
  } else if (view === "big") {
    fetch("/api/big").then(function (r) { return r.text(); }).then(function (t) {
      app.appendChild(el("h1", {}, "Big " + t.length)); done();
    }).catch(function () { done(); });
  } else if (view === "dom") {
    var block = new Array(2001).join("x");
    for (var i = 0; i < 2000; i++) { app.appendChild(el("p", {}, block)); }
    app.appendChild(el("h1", {}, "Huge page")); done();
  } else if (view === "popup") {
    window.open("/item/1", "_blank");
    app.appendChild(el("h1", {}, "Popup page")); done();
  }
})();
</script>"""


class JsShop:
    """The shop (see the module docstring); ``requests`` lists the paths it was asked for."""

    def __init__(self, recorder_url: str) -> None:
        self.requests: list[str] = []
        self.recorder_url = recorder_url
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                if self.path == "/slow":
                    self._slow()
                    return
                status, kind, body, headers = outer.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _slow(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                try:
                    self.wfile.write(b"<html><body><h1>Slow")
                    for _ in range(120):
                        self.wfile.write(b" .")
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:
                    return

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def shell(self, view: str, item_id: str = "") -> bytes:
        return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Shop</title></head><body>'
                f'<div id="app" data-view="{view}" data-id="{item_id}"></div>'
                f'<script>var RECORDER = {json.dumps(self.recorder_url)};</script>{_RENDER}</body></html>').encode()

    def answer(self, raw: str) -> tuple[int, str, bytes, dict[str, str]]:
        parts = urlsplit(raw)
        path = parts.path
        html = "text/html; charset=utf-8"
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n", {}
        if path == "/search":
            return 200, html, self.shell("search"), {}
        if path == "/api/search":
            rows = [{"href": f"/item/{n}", "title": item["title"]} for n, item in ITEMS.items()]
            rows.append({"href": "/go/3", "title": "Redirected listing"})
            return 200, "application/json", json.dumps(rows).encode(), {}
        if path.startswith("/item/") and path[6:] in ITEMS:
            return 200, html, self.shell("item", path[6:]), {}
        if path.startswith("/api/item/") and path[10:] in ITEMS:
            item = dict(ITEMS[path[10:]])
            item["price_text"] = f"{SYMBOLS[item['currency']]}{item['price']}"
            item["images"] = [f"{self.url}/img/{path[10:]}.png"]
            return 200, "application/json", json.dumps(item).encode(), {}
        if path == "/api/hop" or path.startswith("/go/"):
            return 302, "text/plain", b"", {"Location": f"{self.recorder_url}/redirected{path}"}
        if path == "/api/big":
            return 200, "text/plain", b"0123456789abcdef" * (200 * 1024), {}
        if path in ("/big", "/dom", "/popup"):
            return 200, html, self.shell(path[1:]), {}
        if path.startswith("/img/"):
            return 200, "image/png", _PNG, {}
        return 404, html, b"<h1>Not found</h1>", {}


_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                     "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5b1c0a50000000049454e44ae426082")


class ForwardingProxy:
    """An operator's HTTP proxy: forwards absolute-form GETs and CONNECT tunnels, recording each request
    line and its ``Proxy-Authorization``."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.authorizations: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                outer.lines.append(f"GET {self.path}")
                outer.authorizations.append(self.headers.get("Proxy-Authorization"))
                parts = urlsplit(self.path)
                upstream = socket.create_connection((parts.hostname, parts.port or 80), timeout=10)
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                upstream.sendall(f"GET {target} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
                data = b""
                while chunk := upstream.recv(65536):
                    data += chunk
                upstream.close()
                self.wfile.write(data)
                self.close_connection = True

            def do_CONNECT(self) -> None:  # noqa: N802
                outer.lines.append(f"CONNECT {self.path}")
                outer.authorizations.append(self.headers.get("Proxy-Authorization"))
                self.send_response(403)
                self.end_headers()

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
