"""Helpers for the crawl tests: a tiny demo world (the demo world contract, a few dozen listings) and the
crawl settings tests use (no AutoThrottle, no backoff, no delays)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

from PIL import Image

SHOPS = [
    {"slug": "bazaarly", "name": "Bazaarly", "markup": "json-ld"},
    {"slug": "kramwell", "name": "Kramwell", "markup": "microdata"},
    {"slug": "tindeo", "name": "Tindeo", "markup": "opengraph"},
]
HOSTILE = '<script>alert(1)</script> "quoted" & </script><!--'

#: Scrapy settings for fast, deterministic test crawls.
FAST_CRAWL = {
    "AUTOTHROTTLE_ENABLED": False,
    "LOOKALIKE_RETRY_BACKOFF_BASE": 0.0,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "INFO",
}


def _jpeg(rng: random.Random, size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(6):
        x, y = rng.randrange(size[0] - 8), rng.randrange(size[1] - 8)
        image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 8, y + 8))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def write_tiny_world(out: Path, *, listings: int = 30, seed: int = 3) -> dict[str, Any]:
    """A small world folder: world.json, listings.jsonl and listing-images/ (no registry: crawls only)."""
    rng = random.Random(seed)
    (out / "listing-images").mkdir(parents=True, exist_ok=True)
    records = []
    for n in range(1, listings + 1):
        lid = f"L{n:04d}"
        images = []
        for k in range(1 + n % 2):
            name = f"listing-images/{lid}-{k}.jpg"
            (out / name).write_bytes(_jpeg(rng))
            images.append(name)
        records.append({
            "id": lid, "shop": SHOPS[n % 3]["slug"],
            "title": f"Glowmint Serum {n} {HOSTILE if n == 5 else ''}".strip(),
            "description": f"Hydrating serum number {n}. Fast shipping.",
            "price": f"{10 + n}.50", "currency": "USD", "seller": ["Lumen Goods", "Acme Outlet", "Northwind", "Blue Fox"][n % 4],
            "sku": f"SKU-{n}", "gtin": None, "mpn": None, "brand_text": "Glowmint" if n % 2 else None,
            "available": True, "images": images,
            "label": {"infringing": False, "brand": None, "sku": None, "class": "clean", "kinds": ["unrelated"],
                      "split": "dev"},
        })
    (out / "listings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    world = {"seed": seed, "brands": [], "shops": SHOPS, "counts": {"listings": listings}}
    (out / "world.json").write_text(json.dumps(world), encoding="utf-8")
    return world


def set_price(world_dir: Path, listing_id: str, price: str) -> None:
    """Change one listing's price in a world folder (a second crawl then sees a changed listing)."""
    path = world_dir / "listings.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if row["id"] == listing_id:
            row["price"] = price
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def remove_listing(world_dir: Path, listing_id: str) -> None:
    path = world_dir / "listings.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows if r["id"] != listing_id), encoding="utf-8")
