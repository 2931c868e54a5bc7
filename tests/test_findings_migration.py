"""Migration 0010_findings on SQLite and PostgreSQL: a match's findings stored once.

A row scored before 0007 held its findings only in the legacy ``signals`` summary (and the review snapshot
inside it). After the upgrade the snapshot is in ``matches.review_snapshot``, the summary has become typed
evidence the review app renders, ``signals`` is gone, and nothing that hangs off the match was lost (on
SQLite, recreating ``matches`` under ``foreign_keys=ON`` would have cascade-deleted its events)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import sqlalchemy as sa
from alembic import command
from sqlalchemy import select
from test_review_snapshot import URL, night

from matching.evidence import evidence_from_json
from storage.db import Database, alembic_config, upgrade
from storage.models import Brand, Listing, Marketplace, Match, MatchEvent, Owner
from webapp import evidence as shown

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SNAPSHOT = {"title": "New Fu11ips Lip Plumper", "price": "24.00", "currency": "KWD", "seller": "Cheap Deals",
            "image_urls": ["https://shop.example/i/1.jpg"], "image_sha256": {}, "description_sha256": None}
LEGACY = {
    "name": 0.9,
    "marks": [{"field": "title", "mark": "Fullips", "text": "FU11IPS", "edits": 0, "kind": "token",
               "changes": ["leetspeak"]}],
    "images": [{"image": 1, "ref": "FLP-001 photo a", "ref_id": "17", "sku": "FLP-001", "method": "keypoints",
                "strength": 0.9, "inliers": 40, "region": [0.1, 0.15, 0.7, 0.8]}],
    "price": {"ratio": 0.25, "msrp": "24.00", "msrp_currency": "USD"},
    "seller": {"status": "imitation", "authorized_name": "Et Al Beauty Official Store"},
    "listing_snapshot": SNAPSHOT,
}


def legacy_world(db_url: str) -> None:
    """A database at every head but 0010, with one match scored before 0007 (evidence null) and its event."""
    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "0010_findings@-1")
    with Database(db_url) as database:
        with database.session() as session:  # tables 0010 leaves alone, through the models
            brand = Brand(owner=Owner(name="Et Al"), name="Fullips")
            market = Marketplace(name="shop.example", kind="shop")
            session.add_all([brand, market])
            session.flush()
            listing = Listing(marketplace_id=market.id, canonical_url=URL, url=URL, title=SNAPSHOT["title"],
                              price=Decimal("24.00"), currency="KWD", seller="Cheap Deals", content_hash="old",
                              image_urls=SNAPSHOT["image_urls"], needs_matching=False)
            session.add(listing)
            session.flush()
            ids = {"listing_id": listing.id, "brand_id": brand.id}
        table = sa.table("matches", *(sa.column(name, sa.JSON) for name in ("signals", "reasons", "changes")),
                         *(sa.column(name) for name in ("id", "listing_id", "brand_id", "score", "klass", "status",
                                                        "listing_content_hash", "created_at", "updated_at")))
        with database.engine.begin() as conn:
            match_id = conn.execute(sa.insert(table).values(
                **ids, score=0.9, klass="counterfeit", signals=LEGACY, reasons=["title names Fullips"],
                status="dismissed", listing_content_hash="old", changes=[], created_at=T0, updated_at=T0)
                .returning(table.c.id)).scalar_one()
        with database.session() as session:
            session.add(MatchEvent(match_id=match_id, at=T0, actor="ana", from_status="new", to_status="dismissed"))


def test_legacy_signals_become_evidence_and_the_column_goes(db_url: str) -> None:
    legacy_world(db_url)
    upgrade(db_url)
    with Database(db_url) as database:
        assert "signals" not in {c["name"] for c in sa.inspect(database.engine).get_columns("matches")}
        with database.session() as session:
            m = session.scalars(select(Match)).one()
            assert m.review_snapshot == SNAPSHOT
            assert [e.from_status for e in m.events] == ["new"]  # nothing hanging off the match was lost
            found = evidence_from_json(m.evidence)
            assert [e.signal for e in found] == ["mark", "image", "price", "seller"]
            # the review app renders the converted row as it rendered the legacy one
            assert [(s.text, s.mark) for s in shown.title_segments(SNAPSHOT["title"], found)] == [
                ("New ", None), ("Fu11ips", "Fullips"), (" Lip Plumper", None)]
            (mark,) = shown.mark_findings(found, {"title": SNAPSHOT["title"]})
            assert (mark.mark, mark.text, mark.disguise) == ("Fullips", "Fu11ips", "digits for letters")
            (pair,) = shown.photo_pairs(found, ["a" * 64], {"17": ("c" * 64, "FLP-001 photo a")})
            assert (pair.listing_sha, pair.reference_sha, pair.region, pair.strength) == (
                "a" * 64, "c" * 64, (0.1, 0.15, 0.7, 0.8), 0.9)
            assert "40 matching keypoints" in pair.detail
            assert shown.price_view(Decimal("6"), "USD", found, None, None).percent == 25
            assert shown.seller_verdict(found) == ("imitation", "Et Al Beauty Official Store")
            brand_id = m.brand_id
        # the next crawl stores a new price: the migrated snapshot is what it is compared with
        _, sentences, outcome = night(database, Decimal("19.50"), brand_id)
        assert "price changed from 24.00 KWD to 19.50 KWD" in sentences and outcome == "reopened"


def test_rows_with_evidence_keep_it_and_the_downgrade_restores_the_snapshot(db_url: str) -> None:
    legacy_world(db_url)
    evidence = [{"signal": "mark", "strength": 0.8, "role": "identifies", "reason": "title names Fullips",
                 "spans": [], "disguise": None, "regions": [], "details": {"mark": "Fullips"}}]
    with Database(db_url) as database, database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE matches SET evidence = :e"), {"e": json.dumps(evidence)})
    upgrade(db_url)
    with Database(db_url) as database:
        with database.session() as session:
            assert session.scalars(select(Match)).one().evidence == evidence  # scored since 0007: left alone
        command.downgrade(alembic_config(db_url), "0010_findings@-1")
        with database.engine.connect() as conn:
            signals = conn.execute(sa.text("SELECT signals FROM matches")).scalar()
            assert "review_snapshot" not in {c["name"] for c in sa.inspect(conn).get_columns("matches")}
            assert conn.execute(sa.text("SELECT count(*) FROM match_events")).scalar() == 1
        assert (json.loads(signals) if isinstance(signals, str) else signals) == {"listing_snapshot": SNAPSHOT}
