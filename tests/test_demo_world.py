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
CLASSES = {"counterfeit", "lookalike", "accessory", "resale", "genuine", "clean"}
DISGUISES = {"exact", "misspelt", "spaced", "leetspeak", "homoglyph", "zero_width", "desc_only", "image_only",
             "photo_mark", "reencoded", "crop", "mirror", "pad", "overlay", "collage", "rotate", "background",
             "colour_shift", "seller_impersonation", "dupe", "inspired_by", "replica_wording", "cheap_price"}
ACCESSORY_KINDS = {"compatible_accessory", "refill", "compatible_part"}
RESALE_KINDS = {"resale", "second_hand", "grey_market"}
CLEAN_KINDS = {"unrelated", "ordinary_word", "mark_in_word", "near_phrase", "same_style_photo", "shared_template",
               "other_brand_same_category"}
NEGATIVES = {"genuine"} | ACCESSORY_KINDS | RESALE_KINDS | CLEAN_KINDS
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
    assert 700 <= len(listings) <= 1200
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
            assert len(label["kinds"]) == 1 and label["kinds"][0] in CLEAN_KINDS
        else:
            assert label["sku"] in skus[label["brand"]]
        if label["infringing"]:
            assert set(label["kinds"]) <= DISGUISES
        if label["class"] == "genuine":
            assert label["kinds"] == ["genuine"]
        if label["class"] == "accessory":
            assert len(label["kinds"]) == 1 and label["kinds"][0] in ACCESSORY_KINDS
        if label["class"] == "resale":
            assert label["kinds"][0] == "resale" and label["kinds"][1] in {"second_hand", "grey_market"}


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
        if "photo_mark" in label["kinds"]:
            assert label["brand"].lower() not in text.lower() and r["images"]
        if label["class"] == "resale":
            assert r["seller"] not in brands[label["brand"]]["authorized_sellers"]
            assert label["brand"] in r["title"]
        if {"exact", "dupe", "inspired_by"} & set(label["kinds"]) or label["class"] == "accessory":
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
    embedded = [b["name"].casefold() for b in registry["brands"] if b["name"] not in ordinary]
    inside = [r for r in listings if r["label"]["kinds"] == ["mark_in_word"]]
    assert len(inside) >= 6
    for r in inside:  # the mark sits inside a longer ordinary word, never as a word of its own
        words = re.findall(r"\w+", r["title"].casefold())
        assert any(m in w and m != w for w in words for m in embedded), r["title"]
    langs = {r["title"] for r in listings if r["label"]["class"] in ("resale", "accessory")}
    assert any("gebraucht" in t or "für" in t for t in langs) and any("compatible con" in t or "usado" in t
                                                                       for t in langs)
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


def test_seeds_are_marked_for_tuning_or_held_out(world: dict) -> None:
    from data.demo.generate import HELD_OUT_SEEDS, TUNING_SEEDS, seed_role

    assert world["seed_role"] == "tuning" and SEED in TUNING_SEEDS
    assert not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS) and len(HELD_OUT_SEEDS) >= 2
    assert seed_role(HELD_OUT_SEEDS[0]) == "held-out" and seed_role(12345) == "other"
    from cli.evaluate import HELD_OUT

    assert HELD_OUT == HELD_OUT_SEEDS  # the CLI's copy (it avoids importing the generator) agrees


def test_another_seed_gives_other_brand_names(world: dict) -> None:
    assert world["brands"] == [b.name for b in make_brands(random.Random(SEED))]
    others = [b.name for b in make_brands(random.Random(SEED + 1))]
    assert len(set(others) - set(world["brands"])) >= 8


def _studio_photo() -> Image.Image:
    from data.demo.packshots import Fonts, Look, draw_packshot

    look = Look(shape="bottle", body=(28, 92, 140), accent=(250, 210, 80), label=(255, 255, 255), ink=(20, 20, 24))
    return draw_packshot(look=look, mark="Testmark", line="serum 30 ml", size=400, fonts=Fonts(), scene="studio",
                         supersample=1)


@pytest.mark.parametrize("seed", range(6))
def test_tight_crop_cuts_ten_to_thirty_percent(seed: int) -> None:
    from data.demo.photo_edits import crop

    image = Image.new("RGB", (500, 400), (255, 255, 255))
    out = crop(image, random.Random(seed))
    for before, after in zip(image.size, out.size, strict=True):
        assert 0.69 <= after / before <= 0.91


def test_replaced_background_keeps_the_product_and_changes_the_backdrop() -> None:
    import numpy as np

    from data.demo.photo_edits import replace_background

    photo = _studio_photo()
    out = replace_background(photo, random.Random(3))
    a, b = np.asarray(photo, dtype=np.int16), np.asarray(out, dtype=np.int16)
    assert out.size == photo.size
    # corners and the middle of the left edge (a studio gradient) are new ...
    for y, x in ((2, 2), (2, 397), (397, 2), (200, 2)):
        assert np.abs(a[y, x] - b[y, x]).sum() > 30, (y, x)
    # ... while the label in the middle of the product is untouched
    assert np.abs(a[250:270, 190:210] - b[250:270, 190:210]).max() == 0


def test_colour_shift_changes_the_colours_not_the_layout() -> None:
    import numpy as np

    from data.demo.photo_edits import colour_shift

    photo = _studio_photo()
    out = colour_shift(photo, random.Random(5))
    a, b = np.asarray(photo, dtype=np.float32), np.asarray(out, dtype=np.float32)
    body = (slice(300, 340), slice(130, 150))  # the blue bottle body, left of the label
    assert np.abs(a[body].mean(axis=(0, 1)) - b[body].mean(axis=(0, 1))).max() > 25
    grey_a, grey_b = a.mean(axis=2), b.mean(axis=2)
    assert np.corrcoef((grey_a - grey_a.mean()).ravel(), (grey_b - grey_b.mean()).ravel())[0, 1] > 0.5


def test_shared_template_is_the_official_template_with_another_name(world_dir: Path, listings: list[dict]) -> None:
    import numpy as np

    shared = [r for r in listings if r["label"]["kinds"] == ["shared_template"]]
    assert len(shared) >= 10
    refs = {p.name: p for p in (world_dir / "refs").rglob("*-a.jpg")}
    close = 0
    for r in shared:
        with Image.open(world_dir / r["images"][0]) as im:
            mine = np.asarray(im.convert("L").resize((64, 64)), dtype=np.float32)
        best = min(np.abs(mine - np.asarray(Image.open(p).convert("L").resize((64, 64)), dtype=np.float32)).mean()
                   for p in refs.values())
        close += best < 12
    assert close / len(shared) >= 0.8  # same template, only the label text differs


def test_product_pages_show_other_listings_photos_outside_the_listings_own(world_dir: Path) -> None:
    import urllib.request

    from data.demo.marketplace import DemoMarketplace

    seen_markups = set()
    with DemoMarketplace(world_dir) as market:
        world = market.world
        for item in world.listings[:40]:
            markup = world.markup_of(item)
            html = urllib.request.urlopen(market.product_urls()[item["id"]], timeout=10).read().decode()
            own = {Path(p).name for p in item["images"]}
            shown = set(re.findall(r"/img/([\w.-]+)", html))
            others = shown - own - {"bomb.png"}
            assert others - {"banner-sale.png", "shop-logo.png", "badge-trusted.png"}, item["id"]
            for name in others - {"banner-sale.png", "shop-logo.png", "badge-trusted.png"}:
                assert not name.startswith(item["id"] + "-")
            assert 'class="related"' in html and 'class="recently-viewed"' in html and 'class="sponsored"' in html
            if markup == "json-ld":
                assert '"isRelatedTo"' in html and '"ItemList"' in html
            if markup == "microdata":
                assert 'itemprop="isRelatedTo"' in html
            seen_markups.add(markup)
        assert seen_markups == {"json-ld", "microdata", "opengraph"}
    with DemoMarketplace(world_dir, related=False) as market:
        item = market.world.listings[0]
        html = urllib.request.urlopen(market.product_urls()[item["id"]], timeout=10).read().decode()
        assert set(re.findall(r"/img/([\w.-]+)", html)) - {"bomb.png"} == {Path(p).name for p in item["images"]}
