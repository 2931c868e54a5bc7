"""Helpers for the digest tests: a small seeded database of two owners, and an SMTP server on loopback.

The world: owner *Alder Cosmetics* has brands Fullips and Glowra; owner *Birch Outdoor* has brand Nordvik.
Listings on two marketplaces; one listing (``shared``) is matched by Fullips and by Nordvik; one has
a hostile title (script tag, formula prefix, CR/LF with a fake header).  Every listing and product has a
photo in the image store.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import io
import socket
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from PIL import Image as PILImage

from core.settings import Settings
from matching.evidence import Evidence, evidence_to_json
from storage.db import Database
from storage.imagestore import ImageStore, save_image_row
from storage.models import (
    Brand,
    Listing,
    ListingImage,
    Marketplace,
    Match,
    Owner,
    Product,
    ReferenceImage,
)

HOSTILE_TITLE = '=HYPERLINK("http://evil") <script>alert(1)</script> Fullips\r\nBcc: victim@example.com'
T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)


def photo(store: ImageStore, session, colour: tuple[int, int, int], size: int = 400) -> str:
    """A stored JPEG of one colour with its ``images`` row; returns its sha256."""
    buf = io.BytesIO()
    PILImage.new("RGB", (size, size), colour).save(buf, format="JPEG")
    data = buf.getvalue()
    stored = store.put(data)
    save_image_row(session, stored)
    return stored.sha256


@dataclass
class World:
    owners: dict[str, int] = field(default_factory=dict)
    brands: dict[str, int] = field(default_factory=dict)
    #: (listing key, brand name) -> match id
    matches: dict[tuple[str, str], int] = field(default_factory=dict)
    listings: dict[str, int] = field(default_factory=dict)


def seed(database: Database, settings: Settings) -> World:
    world = World()
    store = ImageStore.from_settings(settings)
    with database.session() as s:
        alder = Owner(name="Alder Cosmetics")
        birch = Owner(name="Birch Outdoor")
        s.add_all([alder, birch])
        s.flush()
        world.owners = {"Alder Cosmetics": alder.id, "Birch Outdoor": birch.id}
        specs = [("Fullips", alder, ["alder@example.com"], (200, 30, 60)),
                 ("Glowra", alder, ["alder@example.com", "legal@alder.example"], (240, 200, 40)),
                 ("Nordvik", birch, ["birch@example.com"], (20, 90, 160))]
        for name, owner, to, colour in specs:
            brand = Brand(name=name, owner=owner, digest_to=to, keywords=[], thresholds={},
                          created_at=T0 - dt.timedelta(days=30))
            s.add(brand)
            s.flush()
            product = Product(brand_id=brand.id, sku=f"{name[:3].upper()}-1", name=f"{name} Classic",
                              msrp=Decimal("30.00"), currency="USD")
            s.add(product)
            s.flush()
            s.add(ReferenceImage(product_id=product.id, sha256=photo(store, s, colour), source="ref.jpg", position=0))
            world.brands[name] = brand.id
        markets = {"shop-a": Marketplace(name="shop-a", base_url="http://shop-a.test"),
                   "shop-b": Marketplace(name="shop-b", base_url="http://shop-b.test")}
        s.add_all(markets.values())
        s.flush()
        listings = [  # key, market, title, matched brands with (score, class)
            ("fl-1", "shop-a", "Fullips lip plumper cheap", {"Fullips": (0.95, "counterfeit")}),
            ("fl-2", "shop-b", "Ful1ips plumping gloss", {"Fullips": (0.72, "lookalike")}),
            ("gl-1", "shop-a", "Glowra glow serum", {"Glowra": (0.88, "counterfeit")}),
            ("nv-1", "shop-b", "Nordvik trail jacket", {"Nordvik": (0.91, "counterfeit")}),
            ("shared", "shop-a", "Gift bundle: lip gloss and trail jacket", {"Fullips": (0.81, "counterfeit"),
                                                              "Nordvik": (0.64, "lookalike")}),
            ("hostile", "shop-b", HOSTILE_TITLE, {"Glowra": (0.77, "lookalike")}),
        ]
        for i, (key, market, title, matched) in enumerate(listings):
            listing = Listing(marketplace_id=markets[market].id, canonical_url=f"http://{market}.test/p/{key}",
                              url=f"http://{market}.test/p/{key}", title=title, price=Decimal("9.99"),
                              currency="USD", seller=f"seller {i}", content_hash=hashlib.sha256(key.encode()).hexdigest(),
                              image_urls=[f"http://{market}.test/img/{key}.jpg"], needs_matching=False)
            s.add(listing)
            s.flush()
            sha = photo(store, s, (10 + 30 * i, 200 - 20 * i, 90))
            s.add(ListingImage(listing_id=listing.id, url=f"http://{market}.test/img/{key}.jpg", position=0,
                               sha256=sha, status="ok"))
            world.listings[key] = listing.id
            for brand, (score, klass) in matched.items():
                match = Match(listing_id=listing.id, brand_id=world.brands[brand], score=score, klass=klass,
                              evidence=evidence_to_json([  # digests read the typed evidence, not ``reasons``
                                  Evidence("mark", 0.8, f"title names {brand}"),
                                  Evidence("price", 0.2, "price 67% below MSRP"),
                                  Evidence("context", 0.0, "no lip words")]),  # did not count: not shown
                              reasons=["stored sentence"], status="new",
                              listing_content_hash=listing.content_hash, changes=[], created_at=T0, updated_at=T0)
                s.add(match)
                s.flush()
                world.matches[(key, brand)] = match.id
    return world


# ------------------------------------------------------------------------------------------ SMTP server


class Inbox:
    """What the loopback SMTP server received: one (envelope recipients, parsed message) per message.

    ``refuse``: answer every message with a 451 (temporary) error; ``on_data``: called with the
    message bytes after it is recorded and before the reply (a test kills the sender there)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse = False
        self.on_data = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refuse:
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        if self.on_data is not None:
            self.on_data(envelope.content)
        return "250 OK"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPTestServer:
    """aiosmtpd on 127.0.0.1 and a free port; ``with SMTPTestServer() as server: server.port``."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                     data_size_limit=50 * 1024 * 1024)

    def __enter__(self) -> SMTPTestServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def mail_settings(tmp_path: Path, db_url: str, **overrides) -> Settings:
    values = {"data_dir": tmp_path / "data", "db_url": db_url, "smtp_security": "none",
              "smtp_retry_delay": 0.0, "review_url": "https://review.example/app", "smtp_from": "digests@lookalike.test"}
    values.update(overrides)
    return Settings(**values)


def parts_text(message: EmailMessage) -> tuple[str, str, str, list[str]]:
    """(plain text, html, csv, attachment file names) of a digest."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    csv_text, names = "", []
    for part in message.walk():
        name = part.get_filename()
        if name:
            names.append(name)
        if part.get_content_type() == "text/csv":
            csv_text = part.get_payload(decode=True).decode("utf-8-sig")
    return text, html, csv_text, names

