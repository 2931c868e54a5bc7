"""Exports: every format reads back with pandas, filters apply, CSV cells cannot run as formulas."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from core.errors import LookalikeError
from services import export as exporting
from services import review
from storage.db import Database
from storage.models import Brand, Listing, Marketplace, Owner, Product

T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
EVIL_TITLE = '=HYPERLINK("https://evil.test","Fullips")'


def make_world(db: Database) -> None:
    """Two brands, three listings: a counterfeit (formula title), a look-alike, and one never matched."""
    with db.session() as s:
        owner = Owner(name="Et Al Beauty")
        fullips = Brand(owner=owner, name="Fullips")
        glowwe = Brand(owner=owner, name="Glowwe")
        product = Product(brand=fullips, sku="FLP-001", name="Fullips Lip Plumper", msrp=Decimal("24.00"),
                          currency="USD")
        market = Marketplace(name="bazaarly", kind="marketplace")
        s.add_all([owner, fullips, glowwe, product, market])
        s.flush()

        def listing(n: int, title: str, price: str | None, seen: dt.datetime, **extra) -> Listing:
            row = Listing(marketplace_id=market.id, canonical_url=f"https://bazaarly.test/p/{n}",
                          url=f"https://bazaarly.test/p/{n}?ref=1", title=title, price=Decimal(price) if price else None,
                          currency="USD" if price else None, content_hash=f"h{n}", first_seen=T0, last_seen=seen,
                          **extra)
            s.add(row)
            s.flush()
            return row

        evil = listing(1, EVIL_TITLE, "9.99", T1, seller="@seller", description="-2+3 cheap",
                       sku="FLP-001", gtin="0123456789012", mpn="M1", brand_text="Fullips",
                       availability="InStock", image_urls=["https://img.bazaarly.test/1.jpg",
                                                           "https://img.bazaarly.test/2.jpg"])
        dupe = listing(2, "Glowwe-inspired glow serum", "12.50", T0, seller="Dupe Corner")
        listing(3, "Plain mug", None, T1, status="gone")
        for row, brand, value, klass in [(evil, fullips, 0.93, "counterfeit"), (evil, glowwe, 0.20, "lookalike"),
                                         (dupe, glowwe, 0.61, "lookalike")]:
            review.record_match(s, row, review.Verdict(
                brand_id=brand.id, product_id=product.id if brand is fullips else None, score=value, klass=klass,
                reasons=(f"=cmd|' /C calc'!A0 {klass}", "second reason")), now=T0)


def read(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if fmt == "json":
        return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
    return pd.read_parquet(path)


def test_suspects_round_trip(database: Database, tmp_path: Path) -> None:
    make_world(database)
    for fmt in exporting.FORMATS:
        check_suspects(database, tmp_path / f"suspects.{fmt}", fmt)


def check_suspects(database: Database, path: Path, fmt: str) -> None:
    with database.session() as s:
        assert exporting.export(s, "suspects", path, fmt=fmt) == 3
    frame = read(path, fmt)
    assert list(frame.columns) == list(exporting.SUSPECT_COLUMNS)
    top = frame.iloc[0]
    assert top["listing_url"] == "https://bazaarly.test/p/1?ref=1"
    assert (top["marketplace"], top["brand"], top["product"], top["class"], top["status"]) == (
        "bazaarly", "Fullips", "Fullips Lip Plumper", "counterfeit", "new")
    assert top["price"] == "9.99" and top["currency"] == "USD"
    if fmt == "parquet":  # typed: UTC timestamps, not strings
        assert str(frame["first_seen"].dtype).startswith("datetime64") and str(frame["first_seen"].dt.tz) == "UTC"
        assert top["first_seen"] == pd.Timestamp("2026-11-01T02:00:00Z")
    else:
        assert top["first_seen"] == "2026-11-01T02:00:00Z" and top["last_seen"] == "2026-11-20T02:00:00Z"
    assert top["msrp"] == "24.00" and float(top["price_ratio"]) == pytest.approx(9.99 / 24, abs=1e-4)
    assert top["marketplace_item_id"] in (None, "") or pd.isna(top["marketplace_item_id"])
    assert float(top["score"]) == pytest.approx(0.93)
    if fmt == "csv":
        assert top["title"] == "'" + EVIL_TITLE
        assert top["seller"] == "'@seller"
        assert top["reasons"] == "'=cmd|' /C calc'!A0 counterfeit | second reason"
    else:
        assert top["title"] == EVIL_TITLE  # only CSV is neutralised
        assert list(top["reasons"]) == ["=cmd|' /C calc'!A0 counterfeit", "second reason"]


def test_listings_round_trip_with_best_score(database: Database, tmp_path: Path) -> None:
    make_world(database)
    for fmt in exporting.FORMATS:
        check_listings(database, tmp_path / f"listings.{fmt}", fmt)


def check_listings(database: Database, path: Path, fmt: str) -> None:
    with database.session() as s:
        assert exporting.export(s, "listings", path, fmt=fmt) == 3
    frame = read(path, fmt)
    assert list(frame.columns) == list(exporting.LISTING_COLUMNS)
    frame = frame.set_index("listing_url")
    evil = frame.loc["https://bazaarly.test/p/1?ref=1"]
    assert (evil["canonical_url"], evil["sku"], evil["gtin"], evil["mpn"], evil["listing_brand"],
            evil["availability"], evil["price"], evil["currency"]) == (
        "https://bazaarly.test/p/1", "FLP-001", "0123456789012", "M1", "Fullips", "InStock", "9.99", "USD")
    assert (evil["best_brand"], evil["best_class"]) == ("Fullips", "counterfeit")
    assert float(evil["best_score"]) == pytest.approx(0.93)
    mug = frame.loc["https://bazaarly.test/p/3?ref=1"]
    assert mug["status"] == "gone"
    if fmt == "csv":
        assert evil["image_urls"] == "https://img.bazaarly.test/1.jpg https://img.bazaarly.test/2.jpg"
        assert evil["description"] == "'-2+3 cheap"
        assert mug["best_score"] == "" and mug["price"] == ""
    else:
        assert list(evil["image_urls"]) == ["https://img.bazaarly.test/1.jpg", "https://img.bazaarly.test/2.jpg"]
        assert evil["description"] == "-2+3 cheap"
        assert pd.isna(mug["best_score"]) and pd.isna(mug["price"])


def test_filters(database: Database, tmp_path: Path) -> None:
    make_world(database)
    path = tmp_path / "out.json"

    def urls(kind: str, **filters) -> list[str]:
        with database.session() as s:
            exporting.export(s, kind, path, **filters)
        return sorted(row["listing_url"] for row in json.loads(path.read_text(encoding="utf-8")))

    assert urls("suspects", brand="Glowwe") == ["https://bazaarly.test/p/1?ref=1", "https://bazaarly.test/p/2?ref=1"]
    assert urls("suspects", min_score=0.5) == ["https://bazaarly.test/p/1?ref=1", "https://bazaarly.test/p/2?ref=1"]
    assert urls("suspects", min_score=0.9) == ["https://bazaarly.test/p/1?ref=1"]
    assert urls("suspects", since=dt.date(2026, 11, 10)) == ["https://bazaarly.test/p/1?ref=1"] * 2
    assert urls("suspects", status="dismissed") == []
    assert urls("listings", status="gone") == ["https://bazaarly.test/p/3?ref=1"]
    assert urls("listings", brand="Glowwe", min_score=0.5) == ["https://bazaarly.test/p/2?ref=1"]
    assert urls("listings", min_score=0.1) == ["https://bazaarly.test/p/1?ref=1", "https://bazaarly.test/p/2?ref=1"]
    assert urls("listings", since=dt.date(2026, 11, 10)) == ["https://bazaarly.test/p/1?ref=1",
                                                             "https://bazaarly.test/p/3?ref=1"]
    with database.session() as s:
        exporting.export(s, "listings", path, brand="Glowwe")
    frame = read(path, "json").set_index("listing_url")
    # with a brand, the best score is against that brand only
    assert frame.loc["https://bazaarly.test/p/1?ref=1", "best_score"] == pytest.approx(0.2)


def test_empty_export_keeps_its_columns(database: Database, tmp_path: Path) -> None:
    make_world(database)
    for fmt in exporting.FORMATS:
        path = tmp_path / f"empty.{fmt}"
        with database.session() as s:
            assert exporting.export(s, "suspects", path, status="removed") == 0
        if fmt != "json":
            assert list(read(path, fmt).columns) == list(exporting.SUSPECT_COLUMNS)


@pytest.mark.parametrize(("cell", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("  =1", "'  =1"), ("Fullips", "Fullips"), ("", ""), (None, None), (3, 3),
])
def test_neutralise_cell(cell, expected) -> None:
    assert exporting.neutralise_cell(cell) == expected


def test_bad_format_and_paths(database: Database, tmp_path: Path) -> None:
    make_world(database)
    with database.session() as s:
        with pytest.raises(LookalikeError, match="unknown export format 'xlsx'"):
            exporting.export(s, "suspects", tmp_path / "a.xlsx", fmt="xlsx")
        with pytest.raises(LookalikeError, match="cannot tell the format"):
            exporting.export(s, "suspects", tmp_path / "a.txt")
        with pytest.raises(LookalikeError, match="does not exist"):
            exporting.export(s, "suspects", tmp_path / "missing" / "a.csv")
        with pytest.raises(LookalikeError, match="is a directory"):
            exporting.export(s, "suspects", tmp_path, fmt="csv")
        with pytest.raises(LookalikeError, match="unknown export 'brands'"):
            exporting.export(s, "brands", tmp_path / "a.csv")
        with pytest.raises(LookalikeError, match="unknown listing status"):
            exporting.export(s, "listings", tmp_path / "a.csv", status="new")


def test_write_is_atomic(tmp_path: Path) -> None:
    """A failed write leaves the old file whole and no temporary file behind."""
    path = tmp_path / "out.parquet"
    path.write_text("previous export")
    frame = pd.DataFrame({"a": [object()]})  # pyarrow cannot write this
    with pytest.raises(Exception):  # noqa: B017 - any writer error; what matters is what is left behind
        exporting.write_frame(frame, path, fmt="parquet")
    assert path.read_text() == "previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_export_cli(settings_env: Path, tmp_path: Path) -> None:
    from cli import app
    from cli.context import database

    db = database()
    make_world(db)
    db.dispose()
    runner = CliRunner()
    out = tmp_path / "suspects.csv"
    result = runner.invoke(app, ["export", "suspects", "--format", "csv", "-o", str(out), "--brand", "Fullips",
                                 "--min-score", "0.5", "--since", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert "wrote 1 suspects" in result.output
    assert read(out, "csv")["title"].tolist() == ["'" + EVIL_TITLE]

    out = tmp_path / "listings.parquet"
    result = runner.invoke(app, ["export", "listings", "-o", str(out), "--status", "active"])
    assert result.exit_code == 0, result.output
    assert len(read(out, "parquet")) == 2

    for args, message in [
        (["export", "suspects", "--format", "xml", "-o", str(tmp_path / "x.xml")], "unknown export format"),
        (["export", "suspects", "-o", str(tmp_path / "x.csv"), "--since", "yesterday"], "not a date"),
        (["export", "everything", "-o", str(tmp_path / "x.csv")], "unknown export"),
    ]:
        bad = runner.invoke(app, args)
        assert isinstance(bad.exception, LookalikeError), bad.output
        assert message in str(bad.exception) and "\n" not in str(bad.exception)


def test_export_files_get_the_process_umask(database: Database, tmp_path: Path) -> None:
    import os

    make_world(database)
    old = os.umask(0o022)
    try:
        with database.session() as s:
            exporting.export(s, "suspects", tmp_path / "s.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "s.csv").stat().st_mode & 0o777 == 0o644


def test_matched_reference_reads_the_typed_image_evidence() -> None:
    """The official photo a pack or an export names is the one the image evidence's region points at."""
    from matching.evidence import Evidence, ImageRegion, evidence_to_json
    from storage.models import Match, ReferenceImage

    first = ReferenceImage(id=1, sha256="a" * 64, source="a.png", position=0)
    copied = ReferenceImage(id=2, sha256="b" * 64, source="b.png", position=1)
    product = Product(sku="FLP-001", name="Fullips Lip Plumper", images=[first, copied])
    image = Evidence("image", 0.9, "image 1 copies FLP-001 photo b", regions=(ImageRegion(1, "2"),))
    assert exporting.matched_reference(Match(product=product, evidence=evidence_to_json([image]))) is copied
    assert exporting.matched_reference(Match(product=product, evidence=None)) is first  # none matched: the first
    assert exporting.matched_reference(Match(product=product, evidence=[{"regions": "junk"}])) is first
