"""Issue 30's bar, end to end in one run: a look-alike domain from a new-domain list is checked through the
network policy, approved in the review app, crawled by the next nightly scan, and its suspects appear in the
queue and in the owner's digest (with the domain in the "new look-alike domains" section)."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from webapp_support import AppClient

import core.netpolicy as netpolicy
from core.settings import load_settings
from services import accounts
from services.discovery.candidates import domain_matcher
from services.discovery.liveness import check_candidates
from services.discovery.nrd import import_nrd
from services.registry.load import load_registry
from services.registry.sync import import_registry
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import DomainCandidate, Listing, Match
from tests.discovery_support import write_registry
from webapp.app import create_app

pytestmark = pytest.mark.slow

REGISTRY = """\
brands:
  - name: Fullips
    owner: Et Al Beauty
    digest_to: [brand@etal.example]
    category: cosmetics
    keywords: [lip, plumper, gloss]
    domains: [fullips.com]
    products:
      - {name: Fullips Lip Plumper, sku: FLP-001, msrp: 24.0, currency: USD}
      - {name: Fullips Night Mask, sku: FLP-002, msrp: 19.5, currency: USD}
"""
LOOKALIKE = "fullips-outlet.shop"
PUBLIC_ADDRESS = "93.184.216.34"  # where the test pretends the look-alike domain lives (bent to loopback)


def _product(name: str, price: str) -> bytes:
    data = {"@context": "https://schema.org", "@type": "Product", "name": name, "sku": name[-3:],
            "offers": {"@type": "Offer", "price": price, "priceCurrency": "USD"}}
    return (f"<html><head><title>{name}</title><script type='application/ld+json'>{json.dumps(data)}</script>"
            f"</head><body><h1>{name}</h1><p>{name}, cheap, original quality.</p>"
            f"<button>Add to cart</button></body></html>").encode()


@pytest.fixture
def rogue_shop() -> Iterator[tuple[str, int]]:
    """The rogue shop on 127.0.0.1: its look-alike domain's home page redirects to it."""
    pages = {"/": b"<html><title>Fullips Outlet</title><body><h1>Fullips outlet - 70% off</h1>"
                  b"<a href='/p/plumper'>Fullips Lip Plumper</a> <a href='/p/mask'>Fullips Night Mask</a>"
                  b"<button>Add to cart</button></body></html>",
             "/p/plumper": _product("Fullips Lip Plumper", "6.99"), "/p/mask": _product("Fullips Night Mask", "4.50"),
             "/robots.txt": b"User-agent: *\nAllow: /\n"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            host = (self.headers.get("Host") or "").split(":")[0]
            if host == LOOKALIKE:
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = pages.get(self.path.split("?")[0])
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_discovered_shop_approved_in_the_review_app_reaches_the_next_nights_queue_and_digest(
        prefect_harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rogue_shop) -> None:
    from flows.nightly import nightly_scan

    shop_url, port = rogue_shop
    data_dir, db_url = tmp_path / "data", f"sqlite:///{tmp_path / 'lookalike.db'}"
    for key, value in {"DATA_DIR": str(data_dir), "DB_URL": db_url, "CONFIG": str(tmp_path / "absent.toml"),
                       "ALLOW_PRIVATE_NETWORK": "true", "EVIDENCE_SCREENSHOTS": "false"}.items():
        monkeypatch.setenv(f"LOOKALIKE_{key}", value)
    settings = load_settings()
    store = ImageStore.from_settings(settings)
    with Database.opened(db_url) as database:
        with database.session() as session:
            import_registry(session, load_registry(write_registry(tmp_path, REGISTRY), store=store), store)
            accounts.add_user(session, "ana", "correct horse battery", "analyst")
        # 1. Discovered: a day's list of newly registered domains holds the look-alike.
        listing = tmp_path / "nrd.txt"
        listing.write_text(f"example.org\n{LOOKALIKE}\npanorama-tours.com\n", encoding="utf-8")
        with database.session() as session:
            matcher = domain_matcher(session)
        assert import_nrd(database, str(listing), matcher, settings=settings).new_candidates == 1
        # 2. Checked through the policy: the name resolves to a public address (bent to the loopback shop).
        real = socket.create_connection
        monkeypatch.setattr(netpolicy.socket, "create_connection",
                            lambda address, *a, **k: real(("127.0.0.1", port) if address[0] == PUBLIC_ADDRESS
                                                          else address, *a, **k))
        resolver = lambda host, _port: [PUBLIC_ADDRESS] if host == LOOKALIKE else ["127.0.0.1"]  # noqa: E731
        assert check_candidates(settings, database, resolver=resolver).kinds == {"shop": 1}
        monkeypatch.setattr(netpolicy.socket, "create_connection", real)
        with database.session() as session:
            candidate = session.scalar(select(DomainCandidate))
            assert candidate.check["final_url"] == shop_url and candidate.check["names_brand"]
            candidate_id = candidate.id

    # 3. Approved in the review app.
    app = create_app(settings)
    client = AppClient(app)
    try:
        assert client.login("ana").status_code == 303
        page = client.get(f"/domains/{candidate_id}")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert client.post(f"/domains/{candidate_id}/decide",
                           data={"action": "approve", "csrf": token}).status_code == 303
    finally:
        client.close()
        app.state.review.database.dispose()

    # 4. The next night: crawled as a shop, matched, queued, and told to the owner.
    summary = nightly_scan(send_digests=True, crawl_retries=0)
    assert [c["target"] for c in summary["crawls"]] == [shop_url] and summary["suspects_new"] >= 2
    with Database.opened(db_url) as database, database.session() as session:
        queued = {session.get(Listing, m.listing_id).url for m in session.scalars(select(Match))}
    assert {f"{shop_url}p/plumper", f"{shop_url}p/mask"} <= queued
    digests = list((data_dir / "digests").glob("*.eml"))
    assert len(digests) == 1
    message = email.message_from_bytes(digests[0].read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "Fullips Lip Plumper" in text and "Fullips Night Mask" in text
    assert "== New look-alike domains ==" in text and LOOKALIKE in text


def test_ct_monitor_flow_runs_each_log_and_a_failing_log_fails_alone(prefect_harness, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.discovery import ct_monitor
    from tests.discovery_support import FakeRfc6962Log, certificate, rfc6962_json_entry, serve

    db_url = f"sqlite:///{tmp_path / 'lookalike.db'}"
    for key, value in {"DATA_DIR": str(tmp_path / "data"), "DB_URL": db_url, "CONFIG": str(tmp_path / "absent.toml"),
                       "ALLOW_PRIVATE_NETWORK": "true"}.items():
        monkeypatch.setenv(f"LOOKALIKE_{key}", value)
    store = ImageStore(tmp_path / "images", max_bytes=1_000_000, max_pixels=1_000_000)
    with Database.opened(db_url) as database, database.session() as session:
        import_registry(session, load_registry(write_registry(tmp_path, REGISTRY), store=store), store)
    good = FakeRfc6962Log([rfc6962_json_entry(certificate(["fullips-deals.store", "cdn.example.net"]))])
    broken = FakeRfc6962Log([])
    broken.broken = True
    with serve({"good": good, "bad": broken}) as base:
        monkeypatch.setenv("LOOKALIKE_CT_LOGS", json.dumps([f"{base}/bad", f"{base}/good"]))
        result = ct_monitor(from_start=True)
    assert list(result["failed"]) == [f"rfc6962:{base}/bad"] and "not JSON" in result["failed"][f"rfc6962:{base}/bad"]
    assert [r["entries"] for r in result["runs"]] == [1]
    with Database.opened(db_url) as database, database.session() as session:
        assert [c.domain for c in session.scalars(select(DomainCandidate))] == ["fullips-deals.store"]
