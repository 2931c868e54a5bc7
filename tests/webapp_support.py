"""A small, fixed review world for the web app's tests (in-process and browser) and its screenshot.

Two owners with one brand each (Fullips of Et Al Beauty, Glowwe of Other Co), official photos and listing
photos in the image store, twelve Fullips suspects and three Glowwe suspects, one listing that matches
both brands, and one listing whose title, seller, description and URL carry script payloads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import socket
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageDraw

from core.settings import Settings, load_settings
from matching.evidence import Evidence, ImageRegion, TextSpan, evidence_to_json
from services import accounts
from storage.db import Database
from storage.imagestore import ImageStore, StoredImage, save_image_row
from storage.models import (
    AuthorizedSeller,
    Brand,
    Listing,
    ListingImage,
    Marketplace,
    Match,
    MatchEvent,
    Owner,
    Product,
    ReferenceImage,
)

T0 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
HOSTILE_TITLE = "Fullips <script>alert('title')</script> <img src=x onerror=alert('img')> plumper"
HOSTILE_SELLER = "<script>alert('seller')</script>Evil Shop"
HOSTILE_DESCRIPTION = "<img src=x onerror=alert('desc')> javascript:alert('desc') <b>bold</b>"
HOSTILE_URL = "javascript:alert('url')"


@dataclass
class World:
    settings: Settings
    fullips: int
    glowwe: int
    fullips_matches: list[int]
    glowwe_matches: list[int]
    hostile_match: int
    shared_listing: int
    glowwe_image: str  # sha256 of an official Glowwe photo
    fullips_image: str


def photo(seed: int, *, size: int = 320) -> bytes:
    """A deterministic PNG: coloured shapes on white, different for each seed."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.randrange(size - 60), rng.randrange(size - 60)
        draw.rectangle((x0, y0, x0 + rng.randrange(20, 60), y0 + rng.randrange(20, 60)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def make_settings(data_dir: Path, db_url: str) -> Settings:
    return load_settings(data_dir=data_dir, db_url=db_url)


def build_world(settings: Settings) -> World:
    store = ImageStore.from_settings(settings)
    with Database.opened(settings.database_url) as db, db.session() as s:
        def stored(seed: int) -> str:
            # Written as the store writes it, without signatures: the app shows photos, it does not match them.
            data = photo(seed)
            sha = hashlib.sha256(data).hexdigest()
            image = StoredImage(sha256=sha, path=f"{sha[:2]}/{sha}.png", width=320, height=320,
                                content_type="image/png", size_bytes=len(data))
            store.write(image, data)
            return save_image_row(s, image).sha256

        etal, other = Owner(name="Et Al Beauty"), Owner(name="Other Co")
        fullips = Brand(owner=etal, name="Fullips", keywords=["lip"])
        glowwe = Brand(owner=other, name="Glowwe", keywords=["glow"])
        s.add_all([etal, other, fullips, glowwe,
                   AuthorizedSeller(brand=fullips, name="Et Al Beauty Official Store")])
        fp = Product(brand=fullips, sku="FLP-001", name="Fullips Lip Plumper", msrp=Decimal("24.00"), currency="USD")
        gp = Product(brand=glowwe, sku="GLW-001", name="Glowwe Serum", msrp=Decimal("40.00"), currency="EUR")
        s.add_all([fp, gp])
        s.flush()
        f_ref = ReferenceImage(product_id=fp.id, sha256=stored(1), source="fullips.png", position=0)
        g_ref = ReferenceImage(product_id=gp.id, sha256=stored(2), source="glowwe.png", position=0)
        s.add_all([f_ref, g_ref])
        markets = [Marketplace(name="bazaarly", kind="marketplace"), Marketplace(name="shopmart", kind="shop")]
        s.add_all(markets)
        s.flush()

        def listing(n: int, title: str, *, seller: str, market: Marketplace, price: str,
                    url: str | None = None, description: str | None = None) -> Listing:
            row = Listing(marketplace_id=market.id, canonical_url=f"https://{market.name}.test/p/{n}",
                          url=url or f"https://{market.name}.test/p/{n}", title=title, description=description,
                          price=Decimal(price), currency="USD", seller=seller, content_hash=f"{n:064x}",
                          image_urls=[f"https://img.{market.name}.test/{n}.png"], first_seen=T0, last_seen=T0)
            s.add(row)
            s.flush()
            s.add(ListingImage(listing_id=row.id, url=row.image_urls[0], position=0, sha256=stored(100 + n),
                               status="ok"))
            return row

        def match(row: Listing, brand: Brand, product: Product, ref: ReferenceImage, score: float, klass: str,
                  *, created: dt.datetime = T0, mark_text: str = "Fu11ips") -> int:
            at = (row.title or "").find(mark_text)
            found = [
                Evidence("mark", 0.8, f"title '{mark_text}' reads as '{brand.name}' (leetspeak)",
                         spans=(TextSpan("title", at, at + len(mark_text)),) if at >= 0 else (),
                         disguise="leetspeak", details={"mark": brand.name}),
                Evidence("image", 0.9, f"image 1 copies {product.sku} photo a (an edited copy)",
                         regions=(ImageRegion(1, str(ref.id), (0.1, 0.15, 0.7, 0.8), None, "edited_copy",
                                              f"image 1 copies {product.sku} photo a (an edited copy)"),),
                         details={"kind": "edited_copy", "sku": product.sku, "inliers": 40}),
                Evidence("price", 0.3, "price 25% of MSRP",
                         details={"ratio": 0.25, "msrp": str(product.msrp), "msrp_currency": product.currency}),
            ]
            m = Match(listing_id=row.id, brand_id=brand.id, product_id=product.id, score=score, klass=klass,
                      evidence=evidence_to_json(found),
                      reasons=[f"name '{mark_text}' reads as '{brand.name}' (leetspeak)", "price 25% of MSRP"],
                      status="new", listing_content_hash=row.content_hash, changes=[], created_at=created,
                      updated_at=created)
            s.add(m)
            s.flush()
            s.add(MatchEvent(match_id=m.id, at=created, actor="lookalike", from_status=None, to_status="new",
                             note=f"found by scan: score {score:.2f} ({klass})"))
            return m.id

        fullips_ids, glowwe_ids = [], []
        for n in range(1, 13):
            klass = "counterfeit" if n <= 8 else "lookalike"
            row = listing(n, f"Fu11ips Lip Plumper no. {n}", seller=f"Deals {n % 3}", market=markets[n % 2],
                          price=f"{5 + n}.00")
            fullips_ids.append(match(row, fullips, fp, f_ref, round(0.995 - n * 0.01, 3), klass,
                                     created=T0 - dt.timedelta(days=n % 2)))
        for n in range(20, 23):
            row = listing(n, f"Glowwe Serum copy {n}", seller="Glow Deals", market=markets[0], price="9.00")
            glowwe_ids.append(match(row, glowwe, gp, g_ref, 0.93, "counterfeit", mark_text="Glowwe"))
        shared = listing(30, "Fu11ips and Glowwe gift set", seller="Bundle King", market=markets[1], price="12.00")
        fullips_ids.append(match(shared, fullips, fp, f_ref, 0.80, "lookalike"))
        glowwe_ids.append(match(shared, glowwe, gp, g_ref, 0.81, "lookalike", mark_text="Glowwe"))
        hostile = listing(40, HOSTILE_TITLE, seller=HOSTILE_SELLER, market=markets[0], price="3.00",
                          url=HOSTILE_URL, description=HOSTILE_DESCRIPTION)
        hostile_id = match(hostile, fullips, fp, f_ref, 0.70, "counterfeit", mark_text="Fullips")
        fullips_ids.append(hostile_id)
        return World(settings, fullips.id, glowwe.id, fullips_ids, glowwe_ids, hostile_id, shared.id,
                     g_ref.sha256, f_ref.sha256)


def add_users(settings: Settings) -> None:
    """``admin`` (admin), ``ana`` (analyst), ``etal`` (owner of Fullips), ``otherco`` (owner of Glowwe)."""
    with Database.opened(settings.database_url) as db, db.session() as s:
        accounts.add_user(s, "admin", PASSWORD, "admin")
        accounts.add_user(s, "ana", PASSWORD, "analyst")
        accounts.add_user(s, "etal", PASSWORD, "owner", ["Fullips"])
        accounts.add_user(s, "otherco", PASSWORD, "owner", ["Glowwe"])


class AppClient:
    """A synchronous driver of the ASGI app in process (httpx over ASGITransport, one event loop).

    Cookies persist between calls like a browser's; ``login`` fills the login form, CSRF token included.
    """

    def __init__(self, app, *, base_url: str = "http://testserver") -> None:
        import asyncio

        import httpx

        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)

    def request(self, method: str, url: str, **kwargs):
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.request("POST", url, **kwargs)

    def login(self, username: str, password: str = PASSWORD):
        import re

        form = self.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        return self.post("/login", data={"csrf": token, "username": username, "password": password,
                                         "next": "/queue"})

    def csrf(self, path: str = "/queue") -> str:
        import re

        return re.search(r'name="csrf-token" content="([^"]+)"', self.get(path).text).group(1)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The review app served by uvicorn in a thread on 127.0.0.1 (a free port)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the review app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
