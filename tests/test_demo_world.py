"""The demo world generator: contract shape, labels, images, registry, determinism."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from PIL import Image

from data.demo.catalogue import make_brands
from data.demo.generate import generate_world, main
from data.demo.listings import RATES
from data.demo.vocab import CATEGORIES

SEED = 7
CLASSES = {"counterfeit", "lookalike", "accessory", "genuine", "clean"}
DISGUISES = {"exact", "misspelt", "spaced", "leetspeak", "homoglyph", "zero_width", "desc_only", "image_only",
             "reencoded", "crop", "mirror", "pad", "overlay", "collage", "rotate", "seller_impersonation", "dupe",
             "inspired_by", "replica_wording", "cheap_price"}
NEGATIVES = {"genuine", "unrelated", "ordinary_word", "near_phrase", "same_style_photo", "compatible_accessory",
             "other_brand_same_category"}
LISTING_KEYS = {"id", "shop", "title", "description", "price", "currency", "seller", "sku", "gtin", "mpn",
                "brand_text", "available", "images", "label"}
LABEL_KEYS = {"infringing", "brand", "sku", "class", "kinds", "split"}


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(out, seed=SEED, workers=2)
    return out


@pytest.fixture(scope="module")
def listings(world_dir: Path) -> list[dict]:
    lines = (world_dir / "listings.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def registry(world_dir: Path) -> dict:
    return yaml.safe_load((world_dir / "registry.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def world(world_dir: Path) -> dict:
    return json.loads((world_dir / "world.json").read_text(encoding="utf-8"))


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_listing_has_the_contract_shape(listings: list[dict], registry: dict, world: dict) -> None:
    shops = {s["slug"] for s in world["shops"]}
    skus = {b["name"]: {p["sku"] for p in b["products"]} for b in registry["brands"]}
    assert 600 <= len(listings) <= 900
    assert [r["id"] for r in listings] == [f"L{i:04d}" for i in range(1, len(listings) + 1)]
    for r in listings:
        assert set(r) == LISTING_KEYS, r["id"]
        assert set(r["label"]) == LABEL_KEYS, r["id"]
        assert r["shop"] in shops
        assert re.fullmatch(r"\d+\.\d{2}", r["price"]) and Decimal(r["price"]) > 0
        assert r["currency"] in {"USD", "EUR", "GBP"}
        assert isinstance(r["title"], str) and r["title"].strip()
        assert isinstance(r["description"], str) and isinstance(r["seller"], str) and r["seller"]
        assert isinstance(r["available"], bool)
        assert 1 <= len(r["images"]) <= 3
        for path in r["images"]:
            assert re.fullmatch(rf"listing-images/{r['id']}-\d\.(jpg|png|webp)", path), path
        label = r["label"]
        assert label["class"] in CLASSES
        assert label["infringing"] is (label["class"] in ("counterfeit", "lookalike"))
        assert label["split"] in ("dev", "holdout")
        assert label["kinds"] and set(label["kinds"]) <= DISGUISES | NEGATIVES, label["kinds"]
        if label["class"] == "clean":
            assert label["brand"] is None and label["sku"] is None
            assert len(label["kinds"]) == 1 and label["kinds"][0] in NEGATIVES - {"genuine", "compatible_accessory"}
        else:
            assert label["sku"] in skus[label["brand"]]
        if label["infringing"]:
            assert set(label["kinds"]) <= DISGUISES
        if label["class"] == "genuine":
            assert label["kinds"] == ["genuine"]
        if label["class"] == "accessory":
            assert label["kinds"] == ["compatible_accessory"]


def test_every_kind_occurs_in_both_splits(listings: list[dict]) -> None:
    per_split = {split: Counter(k for r in listings if r["label"]["split"] == split for k in r["label"]["kinds"])
                 for split in ("dev", "holdout")}
    for kind in sorted(DISGUISES | NEGATIVES):
        assert per_split["dev"][kind] >= 3, ("dev", kind)
        assert per_split["holdout"][kind] >= 2, ("holdout", kind)
    holdout = sum(r["label"]["split"] == "holdout" for r in listings) / len(listings)
    assert 0.18 <= holdout <= 0.35


def test_holdout_brands_are_held_out_whole(listings: list[dict], world: dict) -> None:
    held = set(world["holdout_brands"])
    assert len(held) == 2
    about_held = [r for r in listings if r["label"]["brand"] in held]
    assert about_held and all(r["label"]["split"] == "holdout" for r in about_held)


def test_images_exist_and_decode_with_their_extension(world_dir: Path, listings: list[dict],
                                                      registry: dict) -> None:
    formats = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
    paths = [p for r in listings for p in r["images"]]
    paths += [p for b in registry["brands"] for pr in b["products"] for p in pr["images"]]
    assert len(paths) == len(set(paths))
    for path in paths:
        with Image.open(world_dir / path) as im:
            assert im.format == formats[path.rsplit(".", 1)[1]], path
            im.load()
            assert 150 <= max(im.size) <= 1600, (path, im.size)
    on_disk = {str(p.relative_to(world_dir)) for p in (world_dir / "listing-images").iterdir()}
    assert on_disk == {p for r in listings for p in r["images"]}
    total = sum(p.stat().st_size for p in world_dir.rglob("*") if p.is_file())
    assert total < 60e6


def test_registry_loads_and_references_existing_photos(world_dir: Path, registry: dict) -> None:
    brands = registry["brands"]
    assert len(brands) >= 10
    assert len({b["category"] for b in brands}) >= 9
    ordinary = {w for c in CATEGORIES for w in c.ordinary_words}
    assert sum(b["name"] in ordinary for b in brands) >= 1
    assert any(len(b["name"]) == 4 and b["name"] not in ordinary for b in brands)
    assert any(len(b["name"]) >= 6 and b["name"] not in ordinary for b in brands)
    all_skus = [p["sku"] for b in brands for p in b["products"]]
    assert len(all_skus) == len(set(all_skus))
    for b in brands:
        assert b["owner"] and b["digest_to"] and all("@" in a for a in b["digest_to"])
        assert b["keywords"] and 1 <= len(b["authorized_sellers"]) <= 2
        assert 2 <= len(b["products"]) <= 4
        for p in b["products"]:
            assert p["name"].startswith(b["name"]) and p["currency"] in {"USD", "EUR", "GBP"} and p["msrp"] > 0
            assert 1 <= len(p["images"]) <= 3
            for image in p["images"]:
                assert re.fullmatch(rf"refs/{b['name'].lower()}/{p['sku'].lower()}-[abc]\.jpg", image)
                assert (world_dir / image).is_file()


def test_world_json_counts_match_the_listings(world: dict, listings: list[dict], registry: dict) -> None:
    assert world["seed"] == SEED
    assert world["brands"] == [b["name"] for b in registry["brands"]]
    assert sorted(s["markup"] for s in world["shops"]) == ["json-ld", "microdata", "opengraph"]
    counts = world["counts"]
    assert counts["listings"] == len(listings)
    assert counts["by_class"] == dict(sorted(Counter(r["label"]["class"] for r in listings).items()))
    assert counts["by_kind"] == dict(sorted(Counter(k for r in listings for k in r["label"]["kinds"]).items()))


def test_labels_agree_with_the_listing_content(listings: list[dict], registry: dict) -> None:
    brands = {b["name"]: b for b in registry["brands"]}
    msrp = {p["sku"]: (Decimal(str(p["msrp"])), p["currency"]) for b in brands.values() for p in b["products"]}

    def usd(amount: Decimal, currency: str) -> Decimal:
        return amount * RATES[currency]

    for r in listings:
        label = r["label"]
        text = f"{r['title']} {r['description']}"
        if label["class"] == "genuine":
            assert r["seller"] in brands[label["brand"]]["authorized_sellers"]
            assert label["brand"] in r["title"]
        if "seller_impersonation" in label["kinds"]:
            assert r["seller"] not in brands[label["brand"]]["authorized_sellers"]
        if "cheap_price" in label["kinds"]:
            ratio = usd(Decimal(r["price"]), r["currency"]) / usd(*msrp[label["sku"]])
            assert Decimal("0.1") <= ratio <= Decimal("0.75"), (r["id"], ratio)
        if "image_only" in label["kinds"]:
            assert label["brand"].lower() not in text.lower()
        if "desc_only" in label["kinds"]:
            assert label["brand"] not in r["title"] and label["brand"] in r["description"]
        if {"exact", "dupe", "inspired_by", "compatible_accessory"} & set(label["kinds"]):
            assert label["brand"] in r["title"] or label["brand"] in r["description"]
        for kind in ("spaced", "leetspeak", "homoglyph", "zero_width", "misspelt"):
            if kind in label["kinds"]:
                assert label["brand"] not in r["title"], (r["id"], kind)


def test_hard_negatives_and_hostile_text_are_there(listings: list[dict], registry: dict) -> None:
    ordinary = {w for c in CATEGORIES for w in c.ordinary_words}
    words = [b["name"].lower() for b in registry["brands"] if b["name"] in ordinary]
    for r in listings:
        if r["label"]["kinds"] == ["ordinary_word"]:
            assert any(w in r["title"].lower() for w in words), r["title"]
    titles = [r["title"] for r in listings]
    descriptions = [r["description"] for r in listings]
    assert any("<script>" in t or "<script>" in d for t, d in zip(titles, descriptions, strict=True))
    assert any(any(ord(ch) > 0x1F000 for ch in t + d) for t, d in zip(titles, descriptions, strict=True))
    assert any("\u200b" in t or "\u200c" in t or "\u200d" in t or "\u2060" in t or "\ufeff" in t for t in titles)
    assert max(len(d) for d in descriptions) > 5000


def test_same_seed_gives_byte_identical_files(world_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    again = tmp_path / "again"
    assert main(["--out", str(again), "--seed", str(SEED), "--workers", "1"]) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and f"seed {SEED}" in line and "listings" in line
    assert _tree_digest(again) == _tree_digest(world_dir)


def test_another_seed_gives_other_brand_names(world: dict) -> None:
    assert world["brands"] == [b.name for b in make_brands(random.Random(SEED))]
    others = [b.name for b in make_brands(random.Random(SEED + 1))]
    assert len(set(others) - set(world["brands"])) >= 8
