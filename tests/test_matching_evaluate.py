"""Evaluation through the production path on a small labelled world built here with Pillow, the pure
metrics (reliability, threshold for a precision, calibration), and the ``lookalike eval`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from PIL import ImageOps
from typer.testing import CliRunner

from core.settings import load_settings
from matching.evaluate import (
    EvalReport,
    ListingOutcome,
    calibration_table,
    format_calibration,
    format_report,
)
from matching.synthetic import photo
from services.evaluation import analyst_decisions, evaluate_world_dir, import_world, pooled, score_world
from services.signatures import SigningConfig
from storage.db import Database
from storage.imagestore import ImageStore


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
        ("L7", "Fullips Lip Plumper - used, like new", "Bought from Et Al Beauty Store, opened once.", "anna_12",
         "14", "USD", _label(False, "Fullips", "resale", ["resale", "second_hand"])),
    ]
    with (root / "listings.jsonl").open("w", encoding="utf-8") as fh:
        for lid, title, desc, seller, price, cur, label in rows:
            fh.write(json.dumps({
                "id": lid, "shop": "bazaarly", "title": title, "description": desc, "price": price,
                "currency": cur, "seller": seller, "sku": None, "gtin": None, "mpn": None, "brand_text": None,
                "available": True, "images": [f"listing-images/{lid}-0.jpg"] if lid in images else [],
                "label": label}) + "\n")
    return root


def _signing() -> SigningConfig:
    settings = load_settings()
    return SigningConfig.from_settings(settings, workers=1, ocr=False)


def test_the_world_is_scored_through_the_production_path(tmp_path, eval_env):
    world = build_world(tmp_path / "world")
    settings = load_settings()
    store = ImageStore(tmp_path / "images", max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    with Database.opened(f"sqlite:///{tmp_path / 'eval.db'}") as database:
        imported = import_world(database, world, store=store, signing=_signing(), group="tiny")
        assert sorted(imported.listing_ids.values()) == [f"L{i}" for i in range(1, 8)]
        assert imported.signed == 4 and imported.image_errors == 0  # the 4 listing photos (refs: at import)
        report = score_world(database, imported, settings=settings)
    assert len(report.outcomes) == 7 and {o.group for o in report.outcomes} == {"tiny"}
    assert report.confusion() == {"tp": 3, "fp": 0, "fn": 0, "tn": 4}
    assert report.prf() == (1.0, 1.0, 1.0)
    assert report.recall_by_kind()["crop"] == (1, 1)
    assert report.fpr_by_kind()["ordinary_word"] == (0, 1)
    by_id = {o.listing_id: o for o in report.outcomes}
    assert by_id["L1"].brand_class == "counterfeit" and by_id["L1"].brand_score >= report.threshold
    assert by_id["L4"].brand_class == "accessory" and by_id["L7"].brand_class == "resale"
    text = format_report(report)
    assert "| tiny | all | 7 | 1.000 | 1.000 | 1.000 | 0.000 |" in text
    assert "| resale | 0 | 0 | 0 | 0 | 1 | 0 | 1.000 (1/1) |" in text  # a column for other_goods
    assert "Threshold for precision >= 0.97 on dev:" in text


def test_evaluate_world_dir_uses_a_temporary_database_of_its_own(tmp_path, eval_env):
    world = build_world(tmp_path / "world")
    report = evaluate_world_dir(world, settings=load_settings(), signing=_signing(), group="a")
    again = evaluate_world_dir(world, settings=load_settings(), signing=_signing(), group="b")
    both = pooled([report, again])
    assert len(both.outcomes) == 14 and both.groups() == ["a", "b"]
    assert [o.brand_score for o in report.outcomes] == [o.brand_score for o in again.outcomes]
    assert not (eval_env / "data" / "lookalike.db").exists()  # the configured database is never touched


def _outcome(lid, *, infringing, score, klass="counterfeit", other=0.0, split="dev", brand="B", group=""):
    label = {"infringing": infringing, "brand": brand, "class": "counterfeit" if infringing else "clean",
             "kinds": ["exact"] if infringing else ["unrelated"], "split": split}
    top = max(score if klass in ("counterfeit", "lookalike") else 0.0, other)
    return ListingOutcome(lid, label, brand_score=score, brand_class=klass, other_score=other, top_score=top,
                          group=group)


def test_reliability_bins_and_the_threshold_for_a_precision():
    outcomes = [_outcome(f"p{i}", infringing=True, score=0.9) for i in range(8)]
    outcomes += [_outcome(f"q{i}", infringing=True, score=0.55) for i in range(2)]
    outcomes += [_outcome("n1", infringing=False, score=0.0, klass="clean", other=0.6, brand=None)]
    outcomes += [_outcome("n2", infringing=False, score=0.0, klass="clean", brand=None)]
    report = EvalReport(outcomes, threshold=0.5)
    assert report.prf() == (10 / 11, 1.0, 2 * (10 / 11) / (10 / 11 + 1))
    rows = {(lo, hi): (n, share) for lo, hi, n, _, share in report.reliability()}
    assert rows[(0.9, 1.0)] == (8, 1.0) and rows[(0.6, 0.7)] == (1, 0.0) and rows[(0.5, 0.6)] == (2, 1.0)
    assert rows[(0.0, 0.1)] == (1, 0.0)
    # precision 1.0 needs a threshold above the false alarm at 0.6: the lowest such grid step is 0.605
    assert report.threshold_for_precision(1.0) == 0.605
    # 0.9 holds at and below 0.55 (10/11) but not between (8/9): the threshold must hold above it too
    assert report.threshold_for_precision(0.9) == 0.605
    assert report.threshold_for_precision(0.85) == 0.005
    assert EvalReport([_outcome("n", infringing=False, score=0.0, klass="clean", other=0.9, brand=None)],
                      0.5).threshold_for_precision(0.5) is None


def test_accessory_and_resale_flagged_as_counterfeit_are_false_positives():
    resale = ListingOutcome("r", {"infringing": False, "brand": "B", "class": "resale", "kinds": ["resale"],
                                  "split": "dev"}, brand_score=0.9, brand_class="counterfeit", other_score=0.0,
                            top_score=0.9)
    kept = ListingOutcome("k", {"infringing": False, "brand": "B", "class": "resale", "kinds": ["resale"],
                                "split": "dev"}, brand_score=0.9, brand_class="resale", other_score=0.0,
                          top_score=0.0)
    report = EvalReport([resale, kept], threshold=0.5)
    assert report.fpr_by_kind()["resale"] == (1, 2)
    assert report.class_accuracy("resale") == (1, 2)


def test_calibration_table_bins_decisions_and_scores_them():
    decisions = [(0.95, True)] * 9 + [(0.95, False)] + [(0.55, True)] * 2 + [(0.55, False)] * 2
    rows, brier, ece = calibration_table(decisions)
    by_bin = {(r.low, r.high): r for r in rows}
    assert by_bin[(0.9, 1.0)].decided == 10 and by_bin[(0.9, 1.0)].share == 0.9
    assert by_bin[(0.5, 0.6)].share == 0.5
    assert brier == pytest.approx((9 * 0.05**2 + 0.95**2 + 2 * 0.45**2 + 2 * 0.55**2) / 14)
    assert ece == pytest.approx((10 * abs(0.9 - 0.95) + 4 * abs(0.5 - 0.55)) / 14)
    assert "Brier score" in format_calibration(decisions)
    assert "No analysts' decisions" in format_calibration([])


def test_analysts_decisions_are_read_from_the_matches(tmp_path, eval_env):
    from sqlalchemy import select

    from services.scan import match_pending
    from storage.models import Match

    world = build_world(tmp_path / "world")
    settings = load_settings()
    store = ImageStore(tmp_path / "images", max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    with Database.opened(f"sqlite:///{tmp_path / 'live.db'}") as database:
        import_world(database, world, store=store, signing=_signing())
        match_pending(database, settings=settings)
        with database.session() as session:
            matches = list(session.scalars(select(Match).order_by(Match.id)))
            assert len(matches) >= 3
            matches[0].status, matches[1].status = "confirmed", "dismissed"
        with database.session() as session:
            decisions = analyst_decisions(session)
    assert sorted(upheld for _, upheld in decisions) == [False, True]
    assert all(0.0 <= score <= 1.0 for score, _ in decisions)


@pytest.fixture
def eval_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    return tmp_path


def test_eval_command_prints_the_tables(eval_env):
    from cli import app

    world = build_world(eval_env / "world")
    result = CliRunner().invoke(app, ["eval", "--world", str(world), "--workers", "1", "--no-ocr",
                                      "--target-precision", "0.9"])
    assert result.exit_code == 0, result.output
    assert "| world | split | listings | precision | recall | F1 | FPR | TP | FP | FN |" in result.output
    assert "| world | all | 7 | 1.000 | 1.000 | 1.000 |" in result.output
    assert "Recall per disguise kind" in result.output and "Reliability" in result.output
    assert "Threshold for precision >= 0.90 on dev:" in result.output
    assert "Calibration" not in result.output  # no configured database yet: nothing to calibrate against
    assert "Photo text (OCR): off\n" in result.output  # --no-ocr: the figures say they were made without it


def test_eval_command_reports_calibration_against_analysts_decisions(eval_env):
    from sqlalchemy import select

    from cli import app
    from services.scan import match_pending
    from storage.models import Match

    world = build_world(eval_env / "world")
    settings = load_settings()
    with Database.opened(settings.database_url) as database:
        import_world(database, world, store=ImageStore.from_settings(settings), signing=_signing())
        match_pending(database, settings=settings)
        with database.session() as session:
            for match in session.scalars(select(Match)):
                match.status = "confirmed"
    result = CliRunner().invoke(app, ["eval", "--world", str(world), "--workers", "1", "--no-ocr"])
    assert result.exit_code == 0, result.output
    assert "analysts' decisions (report only, nothing is refitted)" in result.output


@pytest.mark.parametrize("args", [["--seeds", "7,x"], ["--seeds", "101"], ["--seeds", "7", "--world", "w"],
                                  ["--seeds", "7,11", "--eval-db", "sqlite:///x.db"]])
def test_eval_command_refuses_bad_seeds_and_held_out_seeds_with_one_line(eval_env, args, capsys):
    from cli import main

    with pytest.raises(SystemExit) as info:
        main(["eval", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err


def test_eval_command_refuses_a_folder_that_is_not_a_world(eval_env):
    from cli import main

    folder = eval_env / "junk"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    with pytest.raises(SystemExit) as info:
        main(["eval", "--world", str(folder)])
    assert info.value.code == 2
