"""Helpers for the scan and flow tests: a small slice of the real demo world, served and scanned.

The demo world (seed 7) is generated once and kept in pytest's cache, keyed by a digest of the generator's
source, so every test module and every later run reuses it; each test then gets its own *slice* (every
n-th listing, registry and images shared by symlink) that it may mutate.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.settings import Settings, load_settings
from services.registry.load import load_registry
from services.registry.sync import import_registry
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import Brand, Listing, Match

REPO = Path(__file__).resolve().parent.parent
FAST_CRAWL = {
    "AUTOTHROTTLE_ENABLED": False,
    "LOOKALIKE_RETRY_BACKOFF_BASE": 0.0,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}


def _generator_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO / "data" / "demo").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def full_demo_world(config: pytest.Config) -> Path:
    """The seed-7 demo world, generated once per generator version (pytest cache)."""
    name = f"lookalike-demo-world-{_generator_digest()}"
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    folder = cache.mkdir(name) if cache is not None else Path(tempfile.gettempdir()) / name
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "world.json").is_file():
        from data.demo.generate import generate_world

        staging = folder.with_name(folder.name + f".tmp{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        generate_world(staging, seed=7)
        shutil.rmtree(folder, ignore_errors=True)
        try:
            staging.rename(folder)
        except OSError:  # another test process put it there first
            shutil.rmtree(staging, ignore_errors=True)
            if not (folder / "world.json").is_file():
                raise
    return folder


def slice_world(full: Path, out: Path, *, step: int = 9) -> Path:
    """A world with every ``step``-th listing of ``full``; listing images linked, the registry's photos copied
    (the registry refuses photos that resolve outside its folder, as a symlinked ``refs`` would)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("registry.yaml", "world.json"):
        shutil.copyfile(full / name, out / name)
    shutil.copytree(full / "refs", out / "refs")
    (out / "listing-images").symlink_to(full / "listing-images", target_is_directory=True)
    lines = [line for line in (full / "listings.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    (out / "listings.jsonl").write_text("\n".join(lines[::step]) + "\n", encoding="utf-8")
    return out


def world_listings(world: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (world / "listings.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]


def edit_listing(world: Path, listing_id: str, **changes: Any) -> None:
    """Change fields of one served listing (a new server instance then serves the change)."""
    rows = world_listings(world)
    for row in rows:
        if row["id"] == listing_id:
            row.update(changes)
    (world / "listings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def drop_listing(world: Path, listing_id: str) -> None:
    rows = [r for r in world_listings(world) if r["id"] != listing_id]
    (world / "listings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def disposed_after(request: pytest.FixtureRequest, database: Database) -> Database:
    """``database``, disposed when the test ends, passed or failed (no connection left to the GC)."""
    request.addfinalizer(database.dispose)
    return database


def test_settings(data_dir: Path, db_url: str) -> Settings:
    return load_settings(data_dir=data_dir, db_url=db_url)


test_settings.__test__ = False  # a helper, not a test


def import_demo_registry(settings: Settings, world: Path) -> None:
    store = ImageStore.from_settings(settings)
    registry = load_registry(world / "registry.yaml", store=store)
    with Database(settings.database_url).ensure_schema() as database, database.session() as session:
        import_registry(session, registry, store)


def match_set(database: Database) -> dict[tuple[str, str], tuple[str, str, float]]:
    """(listing canonical URL path, brand) -> (class, status, score rounded): the queue, comparable across
    databases and ports."""
    from urllib.parse import urlsplit

    with database.session() as session:
        rows = session.execute(
            select(Listing.canonical_url, Brand.name, Match.klass, Match.status, Match.score)
            .join(Match, Match.listing_id == Listing.id).join(Brand, Brand.id == Match.brand_id)
        ).all()
    out: dict[tuple[str, str], tuple[str, str, float]] = {}
    for url, brand, klass, status, score in rows:
        key = (urlsplit(url).path, brand)
        assert key not in out, f"duplicate match for {key}"
        out[key] = (klass, status, round(score, 6))
    return out
