"""New brands matched at once (issue 9.7): a brand registered after the listings were stored gets its
matches from them without a new crawl; registry changes queue a re-match of that brand alone; the
``lookalike match`` command and the nightly flow run the queue.  Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from core.settings import load_settings
from services import rematch
from services.registry.changes import Change, ChangeKind
from services.registry.load import load_registry
from services.registry.sync import import_registry
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import Brand, Listing, Marketplace, Match, RematchJob


def packshot(path: Path, colour: str, label: str) -> None:
    img = Image.new("RGB", (320, 320), "white")
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((100, 40, 220, 290), radius=30, fill=colour)
    draw.text((120, 150), label, fill="white")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


REGISTRY = """\
brands:
  - name: Fullips
    owner: Et Al Beauty
    category: cosmetics
    keywords: [lip, plumper]
    authorized_sellers: [Et Al Beauty Official Store]
    products:
      - name: Fullips Lip Plumper
        sku: FLP-001
        msrp: 24.00
        currency: USD
        images: [refs/flp.png]
"""
SECOND_BRAND = """\
  - name: Zentro
    owner: Zentro Devices
    products:
      - name: Zentro X2 Tracker
        sku: ZX2
        msrp: 59
        currency: GBP
        images: [refs/z.png]
"""


@pytest.fixture
def world(tmp_path: Path) -> Path:
    packshot(tmp_path / "refs/flp.png", "#c2185b", "FULLIPS")
    packshot(tmp_path / "refs/z.png", "#333333", "ZENTRO")
    (tmp_path / "registry.yaml").write_text(REGISTRY, encoding="utf-8")
    return tmp_path


def register(db: Database, world: Path, text: str) -> None:
    (world / "registry.yaml").write_text(text, encoding="utf-8")
    store = ImageStore(world / "images", max_bytes=5_000_000, max_pixels=10_000_000)
    with db.session() as session:
        import_registry(session, load_registry(world / "registry.yaml", store=store), store)


LISTINGS = [
    ("zentro-x2-tracker-cheap", "Zentro X2 Tracker fitness band, cheap copy", "9.99", "GBP", "QuickDeals"),
    ("zentro-x2-replica", "ZENTRO X2 tracker replica 1:1", "12.00", "GBP", "Bargain Hub"),
    ("garden-hose", "Garden hose 20 m, green", "15.00", "GBP", "Hose World"),
    ("fullips-plumper-fake", "Fullips Lip Plumper original cheap", "3.00", "USD", "QuickDeals"),
]


def store_listings(db: Database) -> list[int]:
    """Listings already crawled and matched (before a brand existed): ``needs_matching`` is off."""
    with db.session() as session:
        market = Marketplace(name="shop.example", base_url="https://shop.example", kind="shop")
        session.add(market)
        session.flush()
        rows = [Listing(marketplace_id=market.id, canonical_url=f"https://shop.example/p/{slug}",
                        url=f"https://shop.example/p/{slug}", title=title, price=Decimal(price), currency=currency,
                        seller=seller, content_hash=slug.ljust(64, "0")[:64], needs_matching=False)
                for slug, title, price, currency, seller in LISTINGS]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def brand_matches(db: Database, name: str) -> dict[str, str]:
    with db.session() as session:
        rows = session.execute(select(Listing.canonical_url, Match.klass).join(Match, Match.listing_id == Listing.id)
                               .join(Brand, Brand.id == Match.brand_id).where(Brand.name == name)).all()
        return {url.rsplit("/", 1)[-1]: klass for url, klass in rows}


def jobs(db: Database) -> list[tuple[str, str, str, int, int]]:
    with db.session() as session:
        return [(name, job.reason, job.status, job.done, job.total) for job, name in session.execute(
            select(RematchJob, Brand.name).join(Brand, Brand.id == RematchJob.brand_id).order_by(RematchJob.id))]


def test_a_brand_registered_after_the_crawl_gets_its_matches_from_stored_listings(db_url: str, world: Path):
    settings = load_settings(data_dir=world / "data", db_url=db_url)
    with Database.opened(db_url) as db:
        register(db, world, REGISTRY)
        rematch.run_rematch_jobs(db, settings=settings)  # Fullips' job: no listing stored yet
        store_listings(db)
        assert brand_matches(db, "Zentro") == {}
        register(db, world, REGISTRY + SECOND_BRAND)
        assert jobs(db)[-1][:3] == ("Zentro", "brand registered", "pending")
        seen: list[dict] = []
        stats = rematch.run_rematch_jobs(db, settings=settings, batch_size=2, progress=seen.append)
        found = brand_matches(db, "Zentro")
        assert {"zentro-x2-tracker-cheap", "zentro-x2-replica"} <= set(found)
        assert "garden-hose" not in found and "fullips-plumper-fake" not in found
        assert jobs(db)[-1] == ("Zentro", "brand registered", "done", 4, 4)
        # Progress after each batch of two, then once at the end.
        assert [(p["done"], p["total"]) for p in seen] == [(2, 4), (4, 4), (4, 4)]
        assert stats.jobs == 1 and stats.listings == 4
        # Only the new brand was scored: no Fullips match appeared for the stored Fullips listing.
        assert brand_matches(db, "Fullips") == {}
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(Listing).where(Listing.needs_matching)) == 0


def test_registry_changes_queue_that_brand_alone_and_no_change_queues_nothing(db_url: str, world: Path):
    with Database.opened(db_url) as db:
        register(db, world, REGISTRY + SECOND_BRAND)
        assert [j[0] for j in jobs(db)] == ["Fullips", "Zentro"]
        settings = load_settings(data_dir=world / "data", db_url=db_url)
        rematch.run_rematch_jobs(db, settings=settings)
        register(db, world, REGISTRY + SECOND_BRAND)  # the same file again: nothing changed
        assert len(jobs(db)) == 2
        register(db, world, REGISTRY.replace("owner: Et Al Beauty", "owner: Someone Else") + SECOND_BRAND)
        assert len(jobs(db)) == 2  # the owner does not change what matches
        renamed = REGISTRY + SECOND_BRAND.replace("Zentro X2 Tracker", "Zentro X3 Tracker")
        register(db, world, renamed)
        assert jobs(db)[-1][:3] == ("Zentro", "registry changed", "pending") and len(jobs(db)) == 3


def test_brands_to_rematch_filters_the_import_report_on_kind():
    K = ChangeKind
    changes = [Change("A", "", K.CREATED, "created"), Change("A", "product P1", K.PRODUCT, "added"),
               Change("B", "owner", K.OWNER, "'x' -> 'y'"), Change("B", "digest_to", K.DIGEST, "['a'] -> ['b']"),
               Change("C", "product P: image 'c.jpg'", K.IMAGE, "added"), Change("C D", "mark 'cd'", K.MARK, "added"),
               Change(None, "digest_frequency", K.DIGEST, "'daily' -> 'weekly'", owner="C")]
    assert rematch.brands_to_rematch(changes) == {
        "A": "brand registered", "C": "registry changed", "C D": "registry changed"}
    # every kind but the owner's, the digest's and the official domains' (discovery only) can change what a
    # brand matches
    for kind in ChangeKind:
        expected = {} if kind in (K.OWNER, K.DIGEST, K.DOMAINS) else {"E": "brand registered" if kind is K.CREATED
                                                            else "registry changed"}
        assert rematch.brands_to_rematch([Change("E", "x", kind, "y")]) == expected, kind


def test_a_killed_rematch_resumes_at_its_cursor(db_url: str, world: Path):
    settings = load_settings(data_dir=world / "data", db_url=db_url)
    with Database.opened(db_url) as db:
        ids = store_listings(db)
        register(db, world, REGISTRY + SECOND_BRAND)
        with db.session() as session:  # as a run killed after its first batch leaves it
            for job in session.scalars(select(RematchJob)):
                job.status, job.last_listing_id, job.done, job.total = "running", ids[1], 2, 4
        scored: list[int] = []
        rematch.run_rematch_jobs(db, settings=settings, progress=lambda p: scored.append(p["done"]))
        assert [j[2:] for j in jobs(db)] == [("done", 4, 4), ("done", 4, 4)]
        assert scored == [4, 4, 4, 4]  # one batch each (the last two listings), then the end


def test_match_command_queues_and_runs_on_demand(settings_env: Path, world: Path, db_url: str):
    from typer.testing import CliRunner

    from cli import app

    with Database.opened(db_url) as db:
        register(db, world, REGISTRY + SECOND_BRAND)
        rematch.run_rematch_jobs(db, settings=load_settings(data_dir=world / "data", db_url=db_url))
        store_listings(db)
    runner = CliRunner()
    result = runner.invoke(app, ["match", "--brand", "Zentro"])
    assert result.exit_code == 0, result.output
    assert "re-matched 4 listing(s) in 1 job(s)" in result.output
    result = runner.invoke(app, ["match", "--all"])
    assert result.exit_code == 0 and "in 2 job(s)" in result.output
    result = runner.invoke(app, ["match"])
    assert result.exit_code == 0 and "nothing to re-match" in result.output
    with Database.opened(db_url) as db:
        assert set(brand_matches(db, "Zentro")) >= {"zentro-x2-tracker-cheap", "zentro-x2-replica"}


def test_match_command_errors_are_one_line(settings_env: Path):
    from cli import main

    for argv, message in ((["match", "--brand", "Nobody"], "no brand named 'Nobody'"),
                          (["match", "--brand", "A", "--all"], "not both"),
                          (["match", "--all"], "no brands registered")):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2, message
