"""Evaluation on a small labelled world built here with Pillow, and the ``lookalike eval`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from PIL import ImageOps
from typer.testing import CliRunner

from matching.evaluate import evaluate_world, format_report, load_world
from matching.synthetic import photo


def _label(infringing, brand, klass, kinds, split="dev"):
    return {"infringing": infringing, "brand": brand, "sku": None, "class": klass, "kinds": kinds, "split": split}


def build_world(root: Path) -> Path:
    """Two brands, one product each, and a handful of labelled listings of every sort."""
    (root / "refs" / "fullips").mkdir(parents=True)
    (root / "refs" / "meadow").mkdir(parents=True)
    (root / "listing-images").mkdir()
    fullips, meadow = photo(11), photo(12)
    fullips.save(root / "refs/fullips/flp-001-a.jpg", quality=90)
    meadow.save(root / "refs/meadow/mea-001-a.jpg", quality=90)
    registry = {"brands": [
        {"name": "Fullips", "owner": "Et Al Beauty", "digest_to": ["a@example.com"], "category": "cosmetics",
         "keywords": ["lip", "plumper"], "aliases": ["Full Lips"], "authorized_sellers": ["Et Al Beauty Store"],
         "products": [{"name": "Fullips Lip Plumper", "sku": "FLP-001", "msrp": 24.0, "currency": "USD",
                       "images": ["refs/fullips/flp-001-a.jpg"]}]},
        {"name": "Meadow", "owner": "Meadow Home", "digest_to": ["b@example.com"], "category": "home fragrance",
         "keywords": ["diffuser", "candle"], "authorized_sellers": ["Meadow Home"],
         "products": [{"name": "Meadow Reed Diffuser", "sku": "MEA-001", "msrp": 30.0, "currency": "EUR",
                       "images": ["refs/meadow/mea-001-a.jpg"]}]},
    ]}
    (root / "registry.yaml").write_text(yaml.safe_dump(registry), encoding="utf-8")
    w, h = fullips.size
    images = {
        "L1": fullips.crop((int(0.15 * w), int(0.15 * h), w, h)),
        "L2": ImageOps.mirror(meadow),
        "L5": fullips,
        "L6": photo(99),
    }
    for lid, img in images.items():
        img.save(root / f"listing-images/{lid}-0.jpg", quality=80)
    rows = [
        ("L1", "Lip plumper 5 ml", "Fast shipping.", "shop1", "9.99", "USD",
         _label(True, "Fullips", "counterfeit", ["image_only", "crop", "cheap_price"])),
        ("L2", "Meadow reed diffuser", "100 ml", "shop2", "12", "EUR",
         _label(True, "Meadow", "counterfeit", ["exact", "mirror"], "holdout")),
        ("L3", "Wildflower meadow seed mix", "For your garden.", "seeds", "4", "USD",
         _label(False, None, "clean", ["ordinary_word"])),
        ("L4", "Silicone case compatible with Fullips", "", "cases", "5", "USD",
         _label(False, "Fullips", "accessory", ["compatible_accessory"])),
        ("L5", "Fullips Lip Plumper", "Official.", "Et Al Beauty Store", "24", "USD",
         _label(False, "Fullips", "genuine", ["genuine"])),
        ("L6", "F u l l i p s lip plumper [replica]", "", "shop3", "6", "USD",
         _label(True, "Fullips", "counterfeit", ["spaced", "replica_wording"])),
    ]
    with (root / "listings.jsonl").open("w", encoding="utf-8") as fh:
        for lid, title, desc, seller, price, cur, label in rows:
            fh.write(json.dumps({
                "id": lid, "shop": "bazaarly", "title": title, "description": desc, "price": price,
                "currency": cur, "seller": seller, "sku": None, "gtin": None, "mpn": None, "brand_text": None,
                "available": True, "images": [f"listing-images/{lid}-0.jpg"] if lid in images else [],
                "label": label}) + "\n")
    return root


def test_evaluate_small_world(tmp_path):
    world = load_world(build_world(tmp_path / "world"), workers=1)
    assert len(world.brands) == 2 and len(world.listings) == 6
    report = evaluate_world(world)
    assert report.confusion() == {"tp": 3, "fp": 0, "fn": 0, "tn": 3}
    assert report.prf() == (1.0, 1.0, 1.0)
    assert report.recall_by_kind()["crop"] == (1, 1)
    assert report.fpr_by_kind()["ordinary_word"] == (0, 1)
    text = format_report(report)
    assert "| all | 6 | 1.000 | 1.000 | 1.000 |" in text
    assert "| holdout | 1 |" in text
    assert "| 0.50 |" in text


@pytest.fixture
def eval_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    return tmp_path


def test_eval_command_prints_the_tables(eval_env):
    from lookalike.cli import app

    world = build_world(eval_env / "world")
    result = CliRunner().invoke(app, ["eval", "--world", str(world), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "| split | listings | precision | recall | F1 |" in result.output
    assert "Recall per disguise kind" in result.output


def test_eval_command_refuses_a_folder_that_is_not_a_world(eval_env):
    from lookalike.cli import main

    folder = eval_env / "junk"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    with pytest.raises(SystemExit) as info:
        main(["eval", "--world", str(folder)])
    assert info.value.code == 2
