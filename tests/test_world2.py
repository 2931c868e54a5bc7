"""The second, independent demo world (``data.world2``): deterministic, well-formed, served, evaluable.

One small world (4 brands, 1 product each, about 110 listings) is generated once for the module; the
end-to-end evaluation scores a slice of it (the slice keeps every brand, so every label still resolves).
"""

from __future__ import annotations

import json
import random
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from core.settings import load_settings
from crawlers.pages import ProductPage
from data.demo.marketplace import DemoMarketplace
from data.world2 import wording
from data.world2.brands import INNOCENT, make_brands
from data.world2.generate import HELD_OUT_SEEDS, TUNING_SEEDS, generate_world2, plan_world, seed_role
from data.world2.scenes import render
from matching.evaluate import DISGUISE_KINDS, NEGATIVE_KINDS, format_report
from services.evaluation import evaluate_world_dir, read_listings
from services.registry.load import load_registry
from services.signatures import SigningConfig
from storage.imagestore import ImageStore

SEED = TUNING_SEEDS[0]
CLASSES = {"genuine", "counterfeit", "lookalike", "accessory", "resale", "clean"}
EXTENSIONS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world2")
    generate_world2(out, seed=SEED, brands=4, products=1, workers=1)
    return out


@pytest.fixture(scope="module")
def listings(world_dir: Path) -> list[dict]:
    return read_listings(world_dir)


@pytest.fixture(scope="module")
def registry(world_dir: Path) -> dict:
    return yaml.safe_load((world_dir / "registry.yaml").read_text(encoding="utf-8"))


def test_the_same_seed_plans_the_same_world_and_draws_the_same_bytes(world_dir: Path, listings: list[dict]) -> None:
    again = plan_world(SEED, brands=4, products=1)
    assert again.records == listings
    jobs = dict(again.official + again.jobs)
    for path in random.Random(1).sample(sorted(jobs), k=8):  # a sample: drawing every image twice is slow
        assert render(jobs[path], world_dir) == (world_dir / path).read_bytes(), path
    other = plan_world(TUNING_SEEDS[1], brands=4, products=1)
    assert [b.name for b in other.brands] != [b.name for b in again.brands]


def test_every_label_resolves_and_uses_the_evaluators_kinds(listings: list[dict], registry: dict) -> None:
    skus = {b["name"]: {p["sku"] for p in b["products"]} for b in registry["brands"]}
    assert [r["id"] for r in listings] == [f"L{i:04d}" for i in range(1, len(listings) + 1)]
    for r in listings:
        label = r["label"]
        assert set(label) == {"infringing", "brand", "sku", "class", "kinds", "split"}, r["id"]
        assert label["class"] in CLASSES and label["split"] in ("dev", "holdout")
        assert label["infringing"] is (label["class"] in ("counterfeit", "lookalike"))
        assert label["kinds"] and set(label["kinds"]) <= set(DISGUISE_KINDS) | set(NEGATIVE_KINDS), label["kinds"]
        if label["infringing"]:
            assert set(label["kinds"]) <= set(DISGUISE_KINDS), r["id"]
        else:
            assert set(label["kinds"]) <= set(NEGATIVE_KINDS), r["id"]
        if label["class"] == "clean":
            assert label["brand"] is None and label["sku"] is None
        else:
            assert label["sku"] in skus[label["brand"]], r["id"]
        assert Decimal(r["price"]) > 0 and r["currency"] in {"USD", "EUR", "GBP"}
        assert r["title"].strip() and r["seller"].strip() and 1 <= len(r["images"]) <= 3
    kinds = {k for r in listings for k in r["label"]["kinds"]}
    for expected in ("image_only", "photo_mark", "pack_photo", "cheap_price", "genuine", "resale", "same_style_photo",
                     "shared_template", "other_brand_same_category", "unrelated"):
        assert expected in kinds, expected


def test_images_decode_with_their_extension_and_small_photos_are_small(world_dir: Path, listings: list[dict],
                                                                       registry: dict) -> None:
    paths = [p for r in listings for p in r["images"]]
    paths += [p for b in registry["brands"] for prod in b["products"] for p in prod["images"]]
    assert len(set(Path(p).name for p in paths)) == len(paths)  # the marketplace serves images by file name
    for path in paths:
        with Image.open(world_dir / path) as im:
            assert im.format == EXTENSIONS[path.rsplit(".", 1)[1]], path
            im.load()
    for r in listings:
        if "small_photo" in r["label"]["kinds"]:
            with Image.open(world_dir / r["images"][0]) as im:
                assert 420 <= max(im.size) <= 480, r["id"]


def test_the_registry_loads_with_its_photos(world_dir: Path, tmp_path: Path) -> None:
    settings = load_settings()
    store = ImageStore(tmp_path / "images", max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    loaded = load_registry(world_dir / "registry.yaml", store=store)
    assert len(loaded.brands) == 4
    assert all(p.images for b in loaded.brands for p in b.products)


def test_non_coined_marks_and_their_phrases_come_from_the_seed_roles_pool() -> None:
    tuning = {m for m, v in INNOCENT.items() if "tuning" in v["pool"]}
    held = {m for m, v in INNOCENT.items() if "held-out" in v["pool"]}
    assert tuning and held and not tuning & held
    for seed in HELD_OUT_SEEDS[:2]:
        names = {b.name for b in make_brands(random.Random(f"world2:{seed}"), pool="held-out") if b.style != "coined"}
        assert names and names <= held
    assert seed_role(TUNING_SEEDS[0]) == "tuning" and seed_role(HELD_OUT_SEEDS[0]) == "held-out"
    assert seed_role(99) == "other" and not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS)
    from cli.evaluate import HELD_OUT_WORLD2

    assert HELD_OUT_WORLD2 == HELD_OUT_SEEDS  # the CLI's copy (it avoids importing the generator) agrees


@pytest.mark.parametrize(("disguise", "mark", "check"), [
    ("homoglyph", "Gearline", lambda out: out != "Gearline" and not out.isascii()),
    ("spaced", "Gearline", lambda out: out.replace(" ", "").replace(".", "").replace("-", "").lower() == "gearline"),
    ("leetspeak", "Gearline", lambda out: out != "Gearline" and any(c in out for c in "4@39!10$7")),
    ("transposition", "Gearline", lambda out: sorted(out) == sorted("Gearline") and out != "Gearline"),
    ("truncation", "Gearline", lambda out: len(out) < len("Gearline") and out.lower() in "gearline"),
    ("added_words", "Gearline", lambda out: "gearline" in out.lower() and len(out) > len("Gearline")),
    ("misspelt", "Gearline", lambda out: out != "Gearline" and abs(len(out) - 8) <= 1),
    ("zero_width", "Gearline", lambda out: out != "Gearline" and "".join(c for c in out if c.isalpha()) == "Gearline"),
])
def test_disguises_change_the_mark_as_named(disguise: str, mark: str, check) -> None:
    for seed in range(20):
        assert check(wording.DISGUISES[disguise](mark, random.Random(seed))), (disguise, seed)


def test_product_pages_of_every_shop_parse_to_the_listing(world_dir: Path, listings: list[dict]) -> None:
    market = DemoMarketplace(world_dir, related=True)
    try:
        faulty = {market.world.faults.broken_markup, market.world.faults.missing_price}
        seen_markups = set()
        for record in listings:
            if record["id"].lower() in faulty:
                continue
            path = market.world.product_path(record)
            status, _, body, _ = market.respond(path)
            assert status == 200
            item = ProductPage(market.url + path, body).to_item()
            assert item is not None, record["id"]
            assert item.title == " ".join(record["title"].split()) or item.title.strip()
            assert item.price == Decimal(record["price"]) and item.currency == record["currency"]
            assert [u.rsplit("/", 1)[1] for u in item.image_urls[: len(record["images"])]] == \
                [Path(p).name for p in record["images"]]
            seen_markups.add(market.world.markup_of(record))
        assert seen_markups == {"json-ld", "microdata", "opengraph"}
    finally:
        market.stop()


def test_a_slice_of_the_world_evaluates_end_to_end(world_dir: Path, listings: list[dict], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    part = tmp_path / "slice"
    part.mkdir()
    shutil.copytree(world_dir / "refs", part / "refs")
    shutil.copy(world_dir / "registry.yaml", part / "registry.yaml")
    chosen = [r for r in listings if r["label"]["class"] in ("counterfeit", "genuine")][:12]
    chosen += [r for r in listings if "split_compound" in r["label"]["kinds"] or "unrelated" in r["label"]["kinds"]][:4]
    (part / "listing-images").mkdir()
    for r in chosen:
        for p in r["images"]:
            shutil.copy(world_dir / p, part / p)
    (part / "listings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chosen), encoding="utf-8")
    settings = load_settings()
    report = evaluate_world_dir(part, settings=settings, group="world2-slice",
                                signing=SigningConfig.from_settings(settings, workers=1, ocr=False))
    assert len(report.outcomes) == len(chosen) and report.image_errors == 0
    genuine = [o for o in report.outcomes if o.label["class"] == "genuine"]
    assert genuine and all(o.brand_class == "clean" for o in genuine)  # authorized sellers are never flagged
    exact = [o for o in report.outcomes if o.label["kinds"][:1] == ["exact"] and "desc_only" not in o.label["kinds"]]
    assert all(o.flagged(report.threshold) for o in exact)  # an exact mark in the title with the product's words
    assert "| world2-slice | all |" in format_report(report)


def test_eval_command_knows_the_second_world_and_refuses_its_held_out_seeds(tmp_path: Path, monkeypatch, capsys) -> None:
    from cli import app, main

    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    for args in (["--generator", "world2", "--seeds", str(HELD_OUT_SEEDS[0])], ["--generator", "world9", "--seeds", "1"]):
        with pytest.raises(SystemExit) as info:
            main(["eval", *args])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err
    result = CliRunner().invoke(app, ["eval", "--help"])
    assert "--generator" in result.output


@pytest.mark.slow
def test_the_crawler_reaches_every_product_of_the_served_world(world_dir: Path, listings: list[dict],
                                                               tmp_path: Path) -> None:
    from crawl_support import FAST_CRAWL
    from sqlalchemy import select

    from crawlers.run import CrawlRequest, run_crawl
    from storage.db import Database
    from storage.models import Listing

    db_url = f"sqlite:///{tmp_path / 'crawl.db'}"
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    with DemoMarketplace(world_dir, slow_seconds=0.1) as market:
        run_crawl(settings, CrawlRequest(start_urls=[market.url + "/"], scrapy_overrides=FAST_CRAWL))
        products = market.product_urls()
    with Database(db_url).session() as session:
        stored = {row.canonical_url: row for row in session.scalars(select(Listing))}
        assert set(products.values()) <= set(stored), "some products of the second world were not crawled"
        by_id = {r["id"]: r for r in listings}
        for lid, url in products.items():
            row = stored[url]
            assert row.title and len(row.images) >= len(by_id[lid]["images"]) - 1, lid
