"""A local fake of eBay's Browse API in its documented shapes (token, item_summary/search, item/{id}),
with the faults a night meets: tokens that expire or are revoked mid-run, 429 with Retry-After, a
``next`` that breaks the offset rule, entries with missing or wrongly typed fields, a huge or deeply
nested answer, and image URLs pointing inside the network.  Every request is recorded with its time."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from PIL import Image

CLIENT_ID = "fake-client-id-7f3a"
CLIENT_SECRET = "fake-client-secret-9b1c-SECRET"


def jpeg(seed: int) -> bytes:
    image = Image.new("RGB", (64, 48), ((seed * 40) % 256, (seed * 90) % 256, (seed * 150) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


@dataclass
class Hit:
    at: float
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Faults:
    token_lifetime: int = 7200
    revoke_after_calls: int | None = None  # revoke the current token after this many API calls
    retry_after_on_call: int | None = None  # answer 429 with Retry-After to this API call number
    retry_after_seconds: int = 2
    broken_next: bool = False
    bad_entries: bool = False
    internal_image_url: str | None = None
    refuse_all_tokens: bool = False


@dataclass
class FakeEbay:
    """``with FakeEbay(items=120) as api: api.url``: ``items`` listings match any query but ``deep``
    (a deeply nested answer) and ``huge`` (an answer of 5,000 summaries)."""

    items: int = 30
    faults: Faults = field(default_factory=Faults)
    hits: list[Hit] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)
    api_calls: int = 0
    waits: list[tuple[float, float]] = field(default_factory=list)  # (from, until) of each Retry-After

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeEbay:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls_during_waits(self) -> list[Hit]:
        return [h for h in self.hits if not h.path.endswith("/token")
                and any(start < h.at < until for start, until in self.waits)]

    # ------------------------------------------------------------------------------------ answers
    def summary(self, n: int) -> dict[str, Any]:
        image = self.faults.internal_image_url if self.faults.internal_image_url and n == 1 else f"{self.url}/img/{n}.jpg"
        entry: dict[str, Any] = {
            "itemId": f"v1|{100000 + n}|0", "title": f"Fullips lip plumper no. {n}",
            "price": {"value": f"{9 + n}.99", "currency": "USD"},
            "image": {"imageUrl": image},
            "itemWebUrl": f"https://www.ebay.example/itm/{100000 + n}?hash=item{n}&_trkparms=x",
            "seller": {"username": f"seller_{n % 4}", "feedbackPercentage": "98.5", "feedbackScore": 100 + n},
        }
        if self.faults.bad_entries and n % 5 == 0:
            entry["title"] = {"not": "a string"}
            entry["price"] = {"value": ["12"], "currency": 5}
            entry["seller"] = "nobody"
        if self.faults.bad_entries and n % 7 == 0:
            del entry["itemWebUrl"]
        return entry

    def search(self, params: dict[str, list[str]]) -> tuple[int, Any]:
        q = params.get("q", [""])[0]
        limit, offset = int(params.get("limit", ["50"])[0]), int(params.get("offset", ["0"])[0])
        if limit > 200 or offset % limit or offset + limit > 10_000:
            return 400, {"errors": [{"errorId": 12001, "message": "offset must be a multiple of limit"}]}
        if q == "deep":
            return 200, '{"x":' * 5000 + '{"itemSummaries": []}' + "}" * 5000  # raw JSON text
        if q == "huge":
            return 200, {"total": 5000, "limit": limit, "offset": 0,
                         "itemSummaries": [self.summary(1)] * 5000}
        page = [self.summary(n) for n in range(offset + 1, min(self.items, offset + limit) + 1)]
        answer: dict[str, Any] = {"href": "", "total": self.items, "limit": limit, "offset": offset,
                                  "itemSummaries": page}
        if offset + limit < self.items:
            bad = offset + limit + (1 if self.faults.broken_next else 0)
            answer["next"] = f"{self.url}/buy/browse/v1/item_summary/search?q={q}&limit={limit}&offset={bad}"
        return 200, answer

    def item(self, item_id: str) -> tuple[int, Any]:
        n = int(item_id.split("|")[1]) - 100000
        answer = self.summary(n)
        answer.update(description=f"<p>Genuine-looking <b>Fullips</b> kit {n}</p>", brand="Fullips",
                      additionalImages=[{"imageUrl": f"{self.url}/img/{n + 1000}.jpg"}],
                      estimatedAvailabilities=[{"estimatedAvailabilityStatus": "IN_STOCK"}])
        return 200, answer

    # ------------------------------------------------------------------------------------ handler
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) \
                    else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "image/jpeg" if isinstance(body, bytes) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                self.handle_any("POST", form)

            def do_GET(self) -> None:  # noqa: N802
                self.handle_any("GET", {})

            def handle_any(self, method: str, form: dict[str, list[str]]) -> None:
                parts = urlsplit(self.path)
                params = parse_qs(parts.query)
                now = time.time()
                with api.lock:
                    api.hits.append(Hit(now, method, parts.path, params, {k.lower(): v for k, v in self.headers.items()}))
                if parts.path.startswith("/img/"):
                    return self.send(200, jpeg(int(parts.path[5:].split(".")[0])))
                if parts.path == "/identity/v1/oauth2/token":
                    expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                    if api.faults.refuse_all_tokens or self.headers.get("Authorization") != expected \
                            or form.get("grant_type") != ["client_credentials"]:
                        return self.send(401, {"error": "invalid_client",
                                               "error_description": "client authentication failed"})
                    with api.lock:
                        token = f"v^1.1#i^1#token-{len(api.tokens) + 1}"
                        api.tokens[token] = now + api.faults.token_lifetime
                    return self.send(200, {"access_token": token, "expires_in": api.faults.token_lifetime,
                                           "token_type": "Application Access Token"})
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                with api.lock:
                    valid = api.tokens.get(token, 0) > now
                    if valid:
                        api.api_calls += 1
                        number = api.api_calls
                        if api.faults.revoke_after_calls and number == api.faults.revoke_after_calls:
                            api.tokens[token] = 0
                if not valid:
                    return self.send(401, {"errors": [{"errorId": 1001, "message": "Invalid access token"}]})
                if not self.headers.get("X-EBAY-C-MARKETPLACE-ID"):
                    return self.send(400, {"errors": [{"errorId": 13000, "message": "no marketplace id"}]})
                if api.faults.retry_after_on_call == number:
                    seconds = api.faults.retry_after_seconds
                    with api.lock:
                        api.waits.append((now, now + seconds))
                    return self.send(429, {"errors": [{"errorId": 2001, "message": "Too many requests"}]},
                                     {"Retry-After": str(seconds)})
                if parts.path == "/buy/browse/v1/item_summary/search":
                    return self.send(*api.search(params))
                if parts.path.startswith("/buy/browse/v1/item/"):
                    return self.send(*api.item(unquote(parts.path.rsplit("/", 1)[1])))
                return self.send(404, {"errors": [{"errorId": 11001, "message": "not found"}]})

        return Handler


class Recorder:
    """A server inside the network that must never be reached: it records every request."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ForwardProxy:
    """The operator's plain-HTTP forward proxy: records the absolute-form target of every request and
    forwards it (directly, never through another proxy)."""

    def __init__(self) -> None:
        targets = self.targets = []
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def forward(self) -> None:
                targets.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("proxy-connection", "connection", "host", "content-length")}
                request = urllib.request.Request(self.path, data=body, headers=headers, method=self.command)
                try:
                    with opener.open(request, timeout=10) as answer:
                        status, data, kind = answer.status, answer.read(), answer.headers.get("Content-Type", "")
                        extra = {}
                except urllib.error.HTTPError as error:
                    status, data, kind = error.code, error.read(), error.headers.get("Content-Type", "")
                    extra = {k: v for k, v in error.headers.items() if k.lower() == "retry-after"}
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


ETSY_KEYSTRING = "fake-etsy-keystring-1a2b"
ETSY_SECRET = "fake-etsy-shared-secret-3c4d"


class FakeEtsy:
    """Etsy Open API v3's listings/active and listings/batch in their documented shapes; the x-api-key
    must be ``keystring:shared_secret`` (else 403 with Etsy's error shape)."""

    def __init__(self, items: int = 7) -> None:
        self.hits: list[Hit] = []
        api = self

        def listing(n: int, *, full: bool) -> dict[str, Any]:
            entry: dict[str, Any] = {"listing_id": 5000 + n, "shop_id": 900 + n % 2, "state": "active",
                                     "title": f"Fullips lip plumper {n}", "description": f"Lip plumper number {n}",
                                     "url": f"https://www.etsy.example/listing/{5000 + n}/fullips?ref=search",
                                     "price": {"amount": 1000 + n, "divisor": 100, "currency_code": "USD"}}
            if full:
                entry["shop"] = {"shop_id": 900 + n % 2, "shop_name": f"Shop{n % 2}", "url": "https://www.etsy.example/shop/x"}
                entry["images"] = [{"rank": 1, "url_fullxfull": f"{api.url}/img/{n}.jpg"}]
            return entry

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def send(self, status: int, body: Any) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "image/jpeg" if isinstance(body, bytes) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                params = parse_qs(parts.query)
                api.hits.append(Hit(time.time(), "GET", parts.path, params, {k.lower(): v for k, v in self.headers.items()}))
                if parts.path.startswith("/img/"):
                    return self.send(200, jpeg(int(parts.path[5:].split(".")[0])))
                if self.headers.get("x-api-key") != f"{ETSY_KEYSTRING}:{ETSY_SECRET}":
                    return self.send(403, {"error": "Invalid API key: should be in the format 'keystring:shared_secret'."})
                if parts.path == "/v3/application/listings/active":
                    limit, offset = int(params["limit"][0]), int(params["offset"][0])
                    if limit > 100:
                        return self.send(400, {"error": "limit must be at most 100"})
                    rows = [listing(n, full=False) for n in range(offset + 1, min(items, offset + limit) + 1)]
                    return self.send(200, {"count": items, "results": rows})
                if parts.path == "/v3/application/listings/batch":
                    ids = [int(i) - 5000 for i in params["listing_ids"][0].split(",")]
                    return self.send(200, {"count": len(ids), "results": [listing(n, full=True) for n in ids]})
                return self.send(404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
