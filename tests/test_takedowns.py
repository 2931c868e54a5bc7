"""Evidence capture, takedown packs, the notice guard and removal verification, against a loopback shop."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import stat
import threading
import zipfile
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from core.errors import LookalikeError
from core.settings import Settings
from services import evidence, review, takedowns
from storage.db import Database
from storage.models import (
    Brand,
    EvidenceCapture,
    Listing,
    Marketplace,
    Match,
    MatchEvent,
    Owner,
    Product,
    Takedown,
)

T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)


class Shop:
    """A loopback shop whose pages can be edited and removed while a test runs."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = shop.pages.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                payload = body if body is not None else b"<h1>Not found</h1>"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop():
    s = Shop()
    yield s
    s.close()


def page(title: str) -> bytes:
    return (f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
            f"<span class=price>9.99 USD</span><script>alert(1)</script></body></html>").encode()


def make_settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", db_url=db_url, allow_private_network=True,
                    evidence_screenshots=False, download_timeout=5)


def make_world(db: Database, shop: Shop) -> dict[str, int]:
    """Two owners' brands; Fullips has a counterfeit, an accessory, a resale and a weak look-alike."""
    ids: dict[str, int] = {}
    with db.session() as s:
        owner, other = Owner(name="Et Al Beauty"), Owner(name="Other Co")
        fullips = Brand(owner=owner, name="Fullips", trademarks=[{
            "office": "USPTO", "number": "1234567", "classes": [3], "jurisdiction": "US",
            "owner_of_record": "Et Al Beauty"}], rights_holder={"name": "Et Al Beauty", "email": "ip@etal.test"})
        glowwe = Brand(owner=other, name="Glowwe")
        product = Product(brand=fullips, sku="FLP-001", name="Fullips Lip Plumper", msrp=Decimal("24.00"),
                          currency="USD")
        market = Marketplace(name="bazaarly", kind="marketplace")
        s.add_all([owner, other, fullips, glowwe, product, market])
        s.flush()
        cases = [("fake", "counterfeit", 0.97, fullips), ("case", "accessory", 0.9, fullips),
                 ("used", "resale", 0.9, fullips), ("weak", "lookalike", 0.55, fullips),
                 ("glow", "counterfeit", 0.95, glowwe)]
        for n, (slug, klass, score, brand) in enumerate(cases):
            path = f"/p/{slug}"
            shop.pages[path] = page(f"{slug} =HYPERLINK(\"x\") lip plumper")
            row = Listing(marketplace_id=market.id, canonical_url=shop.base + path, url=shop.base + path,
                          external_id=f"item-{n}", title=f"{slug} lip plumper", price=Decimal("9.99"),
                          currency="USD", seller="cheap-seller", content_hash=f"h{n}", first_seen=T0, last_seen=T0)
            s.add(row)
            s.flush()
            review.record_match(s, row, review.Verdict(
                brand_id=brand.id, product_id=product.id if brand is fullips else None, score=score, klass=klass,
                reasons=(f"{klass} reason",)), now=T0)
            match = s.scalars(select(Match).where(Match.listing_id == row.id)).one()
            review.set_status(s, match.id, "confirmed", actor="ana", note="checked")
            ids[slug] = match.id
    return ids


def test_capture_is_a_warc_with_the_same_bytes_and_outlives_the_listing(database, tmp_path, shop) -> None:
    settings = make_settings(tmp_path, database.url)
    ids = make_world(database, shop)
    original = shop.pages["/p/fake"]
    report = evidence.capture_pending(database, settings, match_ids=[ids["fake"]])
    assert len(report.captured) == 1 and not report.failed
    with database.session() as s:
        capture = s.scalars(select(EvidenceCapture).where(EvidenceCapture.match_id == ids["fake"])).one()
        assert capture.trigger == "confirmed" and capture.status == "ok" and capture.http_status == 200
        warc = next(f for f in capture.files if f.kind == "warc")
        manifest = next(f for f in capture.files if f.kind == "manifest")
        warc_path = settings.evidence_dir / warc.path
    kinds, body = [], None
    with warc_path.open("rb") as fh:  # ArchiveIterator streams: read each body while its record is current
        for record in ArchiveIterator(fh):
            kinds.append(record.rec_type)
            if record.rec_type == "response":
                assert record.http_headers.get_statuscode() == "200"
                body = record.content_stream().read()
    assert kinds == ["warcinfo", "request", "response"] and body == original
    data = json.loads((settings.evidence_dir / manifest.path).read_bytes())
    assert data["crawler"] == settings.user_agent and data["captured_at"].endswith("+00:00")
    assert {f["sha256"] for f in data["files"]} == {warc.sha256}
    # The shop edits the listing, then removes it: the evidence still verifies, byte for byte.
    shop.pages["/p/fake"] = page("edited")
    del shop.pages["/p/fake"]
    with database.session() as s:
        checked, problems = evidence.verify(s, settings)
    assert checked >= 2 and problems == []
    # Written read-only: no write bit for anyone (the mode itself, which root cannot bypass as it
    # bypasses os.access).
    assert stat.S_IMODE(warc_path.stat().st_mode) & 0o222 == 0, oct(warc_path.stat().st_mode)


def test_verify_names_the_changed_file(database, tmp_path, shop) -> None:
    settings = make_settings(tmp_path, database.url)
    ids = make_world(database, shop)
    evidence.capture_pending(database, settings, match_ids=[ids["fake"]])
    with database.session() as s:
        warc = s.scalars(select(evidence.EvidenceFile).where(evidence.EvidenceFile.kind == "warc")).one()
    target = settings.evidence_dir / warc.path
    os.chmod(target, 0o644)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with database.session() as s:
        _checked, problems = evidence.verify(s, settings)
    assert [p.path for p in problems] == [str(target)] and "changed" in problems[0].problem


def test_unreachable_page_gives_a_failed_capture_not_an_error(database, tmp_path, shop) -> None:
    settings = make_settings(tmp_path, database.url).model_copy(update={"allow_private_network": False})
    ids = make_world(database, shop)
    report = evidence.capture_pending(database, settings, match_ids=[ids["fake"]])
    assert len(report.failed) == 1 and "non-public network" in report.failed[0]
    with database.session() as s:  # recorded as a failed capture, nothing fetched, nothing lost
        capture = s.scalars(select(EvidenceCapture)).one()
        assert capture.status == "failed" and capture.http_status is None
        assert [f.kind for f in capture.files] == ["manifest"]


@pytest.mark.parametrize("fmt", list(takedowns.FORMATS))
def test_each_pack_format_reads_back_with_its_columns(database, tmp_path, shop, fmt) -> None:
    settings = make_settings(tmp_path, database.url)
    ids = make_world(database, shop)
    out = tmp_path / f"{fmt}.zip"
    result = takedowns.build_pack(database, settings, brand="Fullips", out=out, fmt=fmt)
    assert result.items == 1 and {r.match_id for r in result.refused} == {ids["case"], ids["used"], ids["weak"]}
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        table = archive.read(f"notices/{fmt}-batch-001.csv").decode()
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        everything = b"".join(archive.read(n) for n in names).decode("utf-8", "replace")
    rows = list(csv.reader(io.StringIO(table)))
    assert tuple(rows[0]) == takedowns.FORMATS[fmt].columns and len(rows) == 2
    assert any(n.startswith("evidence/") and n.endswith(".warc.gz") for n in names)
    assert f"statements/match-{ids['fake']}.txt" in names and "report.txt" in names
    assert "Glowwe" not in everything and "/p/glow" not in everything  # only the brand asked for
    with database.session() as s:
        assert s.get(Match, ids["fake"]).status == "reported"
        assert s.get(Match, ids["case"]).status == "confirmed"
        assert s.scalars(select(Takedown)).one().match_id == ids["fake"]


def test_a_pack_carries_the_seller_url_the_listing_has(database, tmp_path, shop) -> None:
    """The notice's ``seller_url`` is the stored listing's (it was read from the review snapshot, which never
    holds it, so every pack had it blank)."""
    settings = make_settings(tmp_path, database.url)
    ids = make_world(database, shop)
    seller_page = "https://bazaarly.test/shop/cheap-seller?ref=1"
    with database.session() as s:
        s.get(Match, ids["fake"]).listing.seller_url = seller_page
    out = tmp_path / "generic.zip"
    takedowns.build_pack(database, settings, brand="Fullips", out=out)
    with zipfile.ZipFile(out) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("notices/generic-batch-001.csv").decode())))
    assert [(row["listing_url"], row["seller_url"]) for row in rows] == [(shop.base + "/p/fake", seller_page)]


def test_batches_split_at_the_platform_limit(database, tmp_path, shop, monkeypatch) -> None:
    settings = make_settings(tmp_path, database.url)
    make_world(database, shop)
    small = takedowns.NoticeFormat("alibaba-ipp", takedowns.FORMATS["alibaba-ipp"].columns, 1, "test")
    monkeypatch.setitem(takedowns.FORMATS, "alibaba-ipp", small)
    forced = {}
    with database.session() as s:
        for m in s.scalars(select(Match).join(Brand).where(Brand.name == "Fullips", Match.klass != "counterfeit")):
            forced[m.id] = "reviewed by counsel"
    result = takedowns.build_pack(database, settings, brand="Fullips", out=tmp_path / "p.zip", fmt="alibaba-ipp",
                                  force=forced)
    assert result.items == 4 and result.batches == 4
    assert takedowns.FORMATS["generic"].batch_size >= 300
    monkeypatch.undo()
    assert takedowns.FORMATS["alibaba-ipp"].batch_size == 300


def test_guard_refuses_accessory_and_resale_unless_forced_with_a_reason(database, tmp_path, shop) -> None:
    settings = make_settings(tmp_path, database.url)
    ids = make_world(database, shop)
    with pytest.raises(LookalikeError, match="needs a reason"):
        takedowns.build_pack(database, settings, brand="Fullips", out=tmp_path / "x.zip", force={ids["case"]: " "})
    result = takedowns.build_pack(database, settings, brand="Fullips", out=tmp_path / "p.zip",
                                  force={ids["case"]: "sold as the original, not as a compatible case"})
    assert result.items == 2
    assert {r.match_id: r.reasons for r in result.refused}[ids["used"]][0].startswith("class resale")
    with database.session() as s:
        event = s.scalars(select(MatchEvent).where(MatchEvent.match_id == ids["case"])
                          .order_by(MatchEvent.id.desc())).first()
        assert event.to_status == "reported" and "sold as the original" in event.note
        assert s.scalars(select(Takedown).where(Takedown.match_id == ids["case"])).one().forced_reason
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        report = archive.read("report.txt").decode()
    assert f"match {ids['used']}: class resale" in report and "Weakest items packed" in report


def test_removal_on_day_two_is_recorded_with_its_date_and_counted(database, tmp_path, shop) -> None:
    settings = make_settings(tmp_path, database.url)
    ids = make_world(database, shop)
    takedowns.build_pack(database, settings, brand="Fullips", out=tmp_path / "p.zip")
    day2 = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with database.session() as s:  # what the day-2 recheck found: the shop took the listing down
        listing = s.get(Match, ids["fake"]).listing
        listing.status, listing.gone_at, listing.last_seen = "gone", day2, day2
    with database.session() as s:
        assert takedowns.update_outcomes(s, settings, now=day2)["removed"] == 1
        row = s.scalars(select(Takedown)).one()
        assert row.outcome == "removed" and abs((row.outcome_at.replace(tzinfo=dt.UTC) - day2).total_seconds()) < 1
        stats = takedowns.takedown_stats(s, by="marketplace")
    assert [(x.group, x.reported, x.removed) for x in stats] == [("bazaarly", 1, 1)]
    assert 23 <= stats[0].median_hours_to_removal <= 25


def test_verify_removals_rechecks_the_local_shop(database, tmp_path, shop) -> None:
    """The daily verification crawls the reported listing; the shop removed it, so it is removed."""
    settings = make_settings(tmp_path, database.url)
    ids = make_world(database, shop)
    takedowns.build_pack(database, settings, brand="Fullips", out=tmp_path / "p.zip")
    del shop.pages["/p/fake"]
    changed = takedowns.verify_removals(database, settings)
    assert changed["removed"] == 1 and changed["failed_marketplaces"] == 0
    with database.session() as s:
        assert s.get(Match, ids["fake"]).status == "removed"
        assert s.scalars(select(Takedown)).one().outcome == "removed"


@pytest.mark.skipif(evidence.chromium_path() is None and not os.environ.get("LOOKALIKE_REQUIRE_BROWSER"),
                    reason="Chromium is not installed (apt-get install chromium); evidence is the WARC alone")
def test_screenshot_is_rendered_offline_with_scripts_off(tmp_path) -> None:
    """A hostile page's script does not run and its remote image is not fetched (no network at all)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        html = (f'<h1>Listing</h1><img src="http://127.0.0.1:{port}/beacon.png">'
                f'<script>document.title="ran"; new Image().src="http://127.0.0.1:{port}/script";</script>').encode()
        png = evidence.offline_screenshot(html, chromium=evidence.chromium_path())
    finally:
        server.shutdown()
        server.server_close()
    assert png is not None and png.startswith(b"\x89PNG")
    assert hits == []
