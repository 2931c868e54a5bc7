"""Review app server time on a big queue, and what one keyboard decision costs.

Run: ``.venv/bin/python -m bench.webapp [--matches 100000] [--requests 40]`` (needs PostgreSQL on
127.0.0.1:5432 as ``postgres``; a throwaway database is created and dropped).

Setup (seeded): 12 owners, 40 brands, 6 marketplaces, ``matches`` matches over ``0.9 * matches`` listings
(a tenth of the listings match two brands), 5 classes, statuses mostly ``new``, creation times spread
over 30 nights; each listing has one stored photo row.

Measured in process (httpx over ASGI, so the time is the app's: routing, session lookup, queries,
templates), as an analyst and as an owner of one brand, ``requests`` times each after two warm-ups:

- queue, first page (default filter: open work, best score first);
- queue, filtered (brand + class + score range + marketplace);
- match page;
- the dashboard (every chart's table for the last 30 nights) and one chart drawn as SVG;
- baseline in the same run: the 404 page of a missing match (the session lookup and one indexed query):
  the ratios say what the queue and match pages add over the app's floor.

Keyboard decisions: Chromium (when ``/usr/bin/chromium`` exists) loads the queue, presses ``c`` ten
times, and every request the page makes after loading is counted with its header and body bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import insert

PG = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CLASSES = ("counterfeit", "lookalike", "accessory", "resale", "clean")
PASSWORD = "bench password 1"


def populate(url: str, matches: int, seed: int = 11) -> dict[str, int]:
    from services import accounts
    from storage.db import Database
    from storage.models import Brand, Image, Listing, ListingImage, Marketplace, Match, Owner

    rng = random.Random(seed)
    t0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
    n_listings = int(matches * 0.9)
    with Database.opened(url) as db, db.session() as s:
        s.execute(insert(Owner), [{"id": i, "name": f"Owner {i}", "created_at": t0} for i in range(1, 13)])
        s.execute(insert(Brand), [{"id": i, "owner_id": 1 + i % 12, "name": f"Brand{i:02d}", "keywords": [],
                                   "digest_to": [], "thresholds": {}, "created_at": t0, "updated_at": t0}
                                  for i in range(1, 41)])
        s.execute(insert(Marketplace), [{"id": i, "name": f"market{i}", "kind": "marketplace", "created_at": t0}
                                        for i in range(1, 7)])
        shas = [f"{i:064x}" for i in range(1, 51)]
        s.execute(insert(Image), [{"sha256": h, "path": f"{h[:2]}/{h}.jpg", "content_type": "image/jpeg",
                                   "size_bytes": 1000, "width": 100, "height": 100, "hashes": {},
                                   "created_at": t0} for h in shas])
        chunk = 5000
        for start in range(0, n_listings, chunk):
            rows, images = [], []
            for i in range(start + 1, min(n_listings, start + chunk) + 1):
                seen = t0 + dt.timedelta(days=rng.randrange(30), minutes=rng.randrange(600))
                rows.append({"id": i, "marketplace_id": 1 + i % 6, "canonical_url": f"https://m.test/p/{i}",
                             "url": f"https://m.test/p/{i}", "title": f"Listing {i} {rng.choice(CLASSES)} lip kit",
                             "description": "text " * 20, "price": Decimal(rng.randrange(300, 9000)) / 100,
                             "currency": "USD", "seller": f"Seller {rng.randrange(2000)}", "image_urls": [],
                             "content_hash": f"{i:064x}", "status": "active", "missed_runs": 0,
                             "first_seen": seen, "last_seen": seen, "needs_matching": False})
                images.append({"listing_id": i, "url": f"https://img.m.test/{i}.jpg", "position": 0,
                               "sha256": shas[i % 50], "status": "ok"})
            s.execute(insert(Listing), rows)
            s.execute(insert(ListingImage), images)
        pairs: set[tuple[int, int]] = set()
        listing_ids = list(range(1, n_listings + 1))
        for listing_id in listing_ids:
            pairs.add((listing_id, 1 + rng.randrange(40)))
        while len(pairs) < matches:
            pairs.add((rng.choice(listing_ids), 1 + rng.randrange(40)))
        ordered = sorted(pairs)
        for start in range(0, len(ordered), chunk):
            rows = []
            for offset, (listing_id, brand_id) in enumerate(ordered[start : start + chunk]):
                created = t0 + dt.timedelta(days=rng.randrange(30))
                rows.append({"id": start + offset + 1, "listing_id": listing_id, "brand_id": brand_id,
                             "score": round(rng.uniform(0.5, 1.0), 4), "klass": rng.choice(CLASSES),
                             "evidence": [], "reasons": ["bench reason"],
                             "status": rng.choices(("new", "confirmed", "dismissed"), (8, 1, 1))[0],
                             "listing_content_hash": f"{listing_id:064x}", "changes": [], "created_at": created,
                             "updated_at": created})
            s.execute(insert(Match), rows)
        accounts.add_user(s, "analyst", PASSWORD, "analyst")
        accounts.add_user(s, "owner", PASSWORD, "owner", ["Brand07"])
    return {"listings": n_listings, "matches": matches}


class Client:
    def __init__(self, app) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")

    def get(self, path: str) -> httpx.Response:
        return self.loop.run_until_complete(self.http.get(path))

    def login(self, username: str) -> None:
        import re

        token = re.search(r'name="csrf" value="([^"]+)"', self.get("/login").text).group(1)
        response = self.loop.run_until_complete(self.http.post("/login", data={
            "csrf": token, "username": username, "password": PASSWORD, "next": "/queue"}))
        assert response.status_code == 303, response.text[:200]

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


def timed(client: Client, path: str, n: int, *, status: int = 200) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, response bytes) of ``n`` GETs after two warm-ups."""
    for _ in range(2):
        assert client.get(path).status_code == status, path
    samples = []
    size = 0
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        size = len(response.content)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))], size


def keyboard_cost(settings, decisions: int = 10) -> str:
    """Requests and bytes per ``c`` press, measured in Chromium against the app on a loopback port."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        return "Chromium not installed: skipped"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from playwright.sync_api import sync_playwright
    from webapp_support import LiveServer

    from webapp.app import create_app

    app = create_app(settings)
    seen: list[tuple[str, int]] = []
    with LiveServer(app) as live, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True, args=["--no-sandbox"])
        page = browser.new_page(base_url=live.url)
        page.goto("/queue")
        page.fill("input[name=username]", "analyst")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/queue")
        page.wait_for_load_state("networkidle")

        def record(request) -> None:
            seen.append((request.resource_type, sum(request.sizes().values())))

        page.on("requestfinished", record)
        first = int(page.get_attribute("#queue tr.row", "data-id"))
        for _ in range(decisions):
            page.keyboard.press("c")
            page.wait_for_timeout(50)
        page.wait_for_function(f"() => document.querySelectorAll('#queue tr.row.decided').length >= {decisions}")
        page.wait_for_load_state("networkidle")
        browser.close()
    app.state.review.database.dispose()
    calls = [b for kind, b in seen if kind in ("fetch", "xhr", "document")]
    images = [b for kind, b in seen if kind == "image"]
    return (f"{len(calls) / decisions:.1f} request(s) and {sum(calls) / decisions:,.0f} bytes (headers + bodies, "
            f"both ways) per decision over {decisions} presses from match {first}; plus {len(images)} lazy "
            f"thumbnail(s), {sum(images):,} bytes, scrolled into view")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webapp", description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args(argv)

    import psycopg

    from core.settings import load_settings
    from webapp.app import create_app

    name = f"lookalike_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        start = time.perf_counter()
        sizes = populate(url, args.matches)
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True) as conn:
            conn.execute("ANALYZE")
        print(f"populated {sizes['matches']:,} matches over {sizes['listings']:,} listings "
              f"in {time.perf_counter() - start:.0f} s")
        with tempfile.TemporaryDirectory() as data_dir:
            settings = load_settings(data_dir=Path(data_dir), db_url=url)
            app = create_app(settings)
            rows = []
            for who, filtered in (("analyst", "/queue?brand=7&klass=counterfeit&min_score=0.8&max_score=0.95"
                                              "&marketplace=3"),
                                  ("owner", "/queue?klass=counterfeit&min_score=0.8&marketplace=3")):
                client = Client(app)
                client.login(who)
                base = timed(client, "/matches/0", args.requests, status=404)
                first_page = timed(client, "/queue", args.requests)
                filtered_page = timed(client, filtered, args.requests)
                match_page = timed(client, "/matches/4242" if who == "analyst" else _owner_match(client),
                                   args.requests)
                dashboard = timed(client, "/dashboard", args.requests)
                chart = timed(client, "/dashboard/suspects.svg", args.requests)
                client.close()
                for label, (p50, p95, size) in (("404 page (baseline)", base), ("queue, first page", first_page),
                                                ("queue, filtered", filtered_page), ("match page", match_page),
                                                ("dashboard", dashboard), ("dashboard chart (SVG)", chart)):
                    rows.append((who, label, p50, p95, p50 / base[0], size))
            app.state.review.database.dispose()
            print(f"\n{'who':8} {'page':24} {'p50 ms':>8} {'p95 ms':>8} {'x 404':>8} {'bytes':>8}")
            for who, label, p50, p95, ratio, size in rows:
                print(f"{who:8} {label:24} {p50:8.1f} {p95:8.1f} {ratio:8.1f} {size:8,}")
            print("\nkeyboard:", keyboard_cost(settings))
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def _owner_match(client: Client) -> str:
    import re

    found = re.search(r'data-href="(/matches/\d+)', client.get("/queue").text)
    assert found, "the owner's queue is empty"
    return found.group(1)


if __name__ == "__main__":
    sys.exit(main())
