"""The large-world generator (``data.demo.scale``): deterministic, exact counts, served and crawled whole.

Small sizes only: a 4-brand round is about 270 listings, so 400 listings take two rounds (the second cut
short) and, with one more shop every 100 listings, four shops (the demo world's three and ``market-003``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from crawl_support import FAST_CRAWL
from PIL import Image
from sqlalchemy import func, select

from core.settings import load_settings
from crawlers.run import CrawlRequest, run_crawl
from data.demo import scale
from data.demo.marketplace import DemoMarketplace
from storage.db import Database
from storage.models import CrawlRun, Listing, ListingImage

BIG, SMALL, IMAGE_SIZE = 400, 40, 320


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scale") / "world"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scale, "LISTINGS_PER_SHOP", 100)
        scale.generate_scale_world(out, listings=BIG, seed=7, brands=4, workers=2, image_size=IMAGE_SIZE)
    return out


def _records(world: Path) -> list[dict]:
    return [json.loads(line) for line in (world / "listings.jsonl").read_text(encoding="utf-8").splitlines()]


def test_exact_count_over_rounds_and_shops_with_counts_that_add_up(big: Path) -> None:
    records = _records(big)
    meta = json.loads((big / "world.json").read_text(encoding="utf-8"))
    assert len(records) == BIG == meta["counts"]["listings"]
    assert meta["scale"]["rounds"] == 2, "400 listings of 4 brands take two demo-world rounds"
    assert len({r["id"] for r in records}) == BIG
    assert [r["id"] for r in records[:2]] == ["L000001", "L000002"]
    assert [s["slug"] for s in meta["shops"]] == ["bazaarly", "kramwell", "tindeo", "market-003"]
    assert {s["markup"] for s in meta["shops"]} == {"json-ld", "microdata", "opengraph"}
    assert Counter(r["shop"] for r in records) == Counter(meta["counts"]["by_shop"])
    assert set(meta["counts"]["by_shop"]) == {s["slug"] for s in meta["shops"]}, "every shop holds listings"
    assert sum(len(r["images"]) for r in records) == meta["counts"]["listing_images"]
    assert Counter(r["label"]["class"] for r in records) == Counter(meta["counts"]["by_class"])
    # the demo world's mix: every class, infringing ones a large share
    by_class = meta["counts"]["by_class"]
    assert set(by_class) == {"genuine", "counterfeit", "lookalike", "accessory", "resale", "clean"}
    assert by_class["counterfeit"] + by_class["lookalike"] > 0.25 * BIG
    registry = yaml.safe_load((big / "registry.yaml").read_text(encoding="utf-8"))
    assert len(registry["brands"]) == 4 == meta["counts"]["brands"]


def test_photos_exist_decode_and_are_small_and_many(big: Path) -> None:
    records = _records(big)
    paths = [p for r in records for p in r["images"]]
    assert paths and all((big / p).is_file() for p in paths)
    digests = Counter((big / p).read_bytes() for p in paths)
    assert len(digests) > 0.7 * len(paths), "most listing photos are distinct"
    refs = {p.read_bytes() for p in (big / "refs").rglob("*.jpg")}
    for path in paths:
        data = (big / path).read_bytes()
        with Image.open(big / path) as im:
            im.load()
            if data not in refs:  # byte copies of official photos keep their size
                assert max(im.size) <= IMAGE_SIZE, path


def test_same_arguments_give_the_same_bytes_and_a_smaller_world_is_a_prefix(big: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    scale.generate_scale_world(first, listings=SMALL, seed=7, brands=4, workers=1, image_size=IMAGE_SIZE)
    scale.generate_scale_world(second, listings=SMALL, seed=7, brands=4, workers=2, image_size=IMAGE_SIZE)
    assert _files(first) == _files(second), "one worker or two, the same files"
    # streaming: the first listings of a larger world (same shops) are the same listings, with the same photos
    larger = tmp_path / "larger"
    scale.generate_scale_world(larger, listings=2 * SMALL, seed=7, brands=4, workers=1, image_size=IMAGE_SIZE)
    small_records, larger_records = _records(first), _records(larger)[:SMALL]
    assert [r["id"] for r in small_records] == [r["id"] for r in larger_records]
    assert [r["label"] for r in small_records] == [r["label"] for r in larger_records]
    assert all((first / p).read_bytes() == (larger / p).read_bytes() for r in small_records for p in r["images"])
    assert (first / "registry.yaml").read_bytes() == (big / "registry.yaml").read_bytes()
    other = tmp_path / "c"
    scale.generate_scale_world(other, listings=SMALL, seed=8, brands=4, workers=1, image_size=IMAGE_SIZE)
    assert (other / "listings.jsonl").read_bytes() != (first / "listings.jsonl").read_bytes()


def test_held_out_seeds_and_empty_worlds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="held out"):
        scale.generate_scale_world(tmp_path / "w", listings=10, seed=101)
    with pytest.raises(ValueError, match="at least one"):
        scale.generate_scale_world(tmp_path / "w", listings=0)


def test_shops_grow_with_the_world() -> None:
    assert len(scale.scale_shops(1_000)) == 3
    assert len(scale.scale_shops(100_000)) == 100_000 // scale.LISTINGS_PER_SHOP
    assert len({s["slug"] for s in scale.scale_shops(1_000_000)}) == 400


def test_served_and_crawled_whole(big: Path, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'crawl.db'}"
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    records = _records(big)
    with DemoMarketplace(big, slow_seconds=0.0) as market:
        assert len(market.world.listings) == BIG
        page = market.respond(market.world.product_path(records[-1]))
        assert page[0] == 200 and b"recently-viewed" in page[2]
        run_id = run_crawl(settings, CrawlRequest(start_urls=[market.url + "/"],
                                                  scrapy_overrides={**FAST_CRAWL, "LOG_LEVEL": "WARNING"}))
        products = market.product_urls()
    db = Database(db_url)
    try:
        with db.session() as session:
            run = session.get(CrawlRun, run_id)
            assert run.status == "finished", (run.stats or {}).get("log_tail")
            stored = set(session.scalars(select(Listing.canonical_url)))
            assert set(products.values()) <= stored, "every served listing is stored"
            ok = session.scalar(select(func.count()).select_from(ListingImage).where(ListingImage.status == "ok"))
    finally:
        db.dispose()
    # every listing photo but the marketplace's truncated one is stored (the bomb is an extra, refused URL)
    assert ok == sum(len(r["images"]) for r in records) - 1


@pytest.mark.postgres
def test_the_scale_bench_runs_every_stage_and_two_matching_processes_share_the_listings(
        big: Path, postgres_admin_url: str) -> None:
    """``python -m bench.scale --world W --match-workers 2`` on PostgreSQL: every stored listing is matched
    exactly once (two processes claiming batches with SKIP LOCKED score no listing twice)."""
    from bench import scale as bench_scale

    result = bench_scale.run(BIG, world=big, seed=7, brands=4, image_size=IMAGE_SIZE, admin_url=postgres_admin_url,
                             keep=False, match_workers=2)
    stages = {s.name: s for s in result["stages"]}
    assert list(stages) == ["registry", "crawl", "signatures", "matching"]
    assert not any(s.partial for s in stages.values())
    assert result["listings"] == BIG
    assert stages["matching"].items == result["listings"], "each listing scored once, by one of the two"
    assert "2 worker processes" in stages["matching"].note
    assert result["match_errors"] == 0 and sum(result["outcomes"].values()) > 0
