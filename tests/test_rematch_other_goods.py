"""A brand registered after the crawl gets, from the stored listings, every listing that carries its coined
mark word for word, each with a reason and a class (issue 28): the registry import, the stored listings and
``lookalike match --brand``, on SQLite and PostgreSQL. The goods of most of those listings are not the
brand's: they come back as class ``other_goods`` ("mark on other goods"), ranked after the suspects, never
in a takedown notice without forcing; the brand's own goods stay counterfeit; near-misses and everyday
phrases stay out of the queue."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import select
from typer.testing import CliRunner

from core.settings import load_settings
from matching.model import may_report
from services import rematch, review
from services.registry.load import load_registry
from services.registry.sync import import_registry
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import Brand, Listing, Marketplace, Match

FIRST = """\
brands:
  - name: Kestova
    owner: Kestova Labs
    category: cosmetics
    keywords: [serum, skin]
    products:
      - name: Kestova Vitamin Serum
        sku: KSV-1
        msrp: 31.00
        currency: EUR
        images: [refs/k.png]
"""
LATER = """\
  - name: Marvique
    owner: Marvique Parfums
    category: fragrance
    keywords: [perfume, parfum]
    authorized_sellers: [Marvique Boutique]
    products:
      - name: Marvique Eau de Parfum Ambre
        sku: MVQ-50
        msrp: 85.00
        currency: EUR
        images: [refs/m.png]
"""

#: Stored before Marvique existed: eight listings by other sellers carry the coined mark word for word on goods
#: Marvique does not sell; one sells its perfume; the rest must not come back for it.
ON_OTHER_GOODS = {
    "chinos": "Marvique Slim Fit Chinos, navy 32W",
    "phone-case": "Marvique phone case for iPhone 15, shockproof",
    "desk-lamp": "MARVIQUE LED desk lamp, dimmable",
    "hoodie": "Oversized hoodie Marvique, grey",
    "mug": "Ceramic mug - Marvique - 350 ml",
    "sneakers": "Marvique white sneakers size 42",
    "tote": "Canvas tote bag by Marvique",
    "watch": "Marvique quartz watch, steel strap",
}
PERFUME = {"perfume": "Marvique Eau de Parfum Ambre 50 ml, cheap"}
NOT_IT = {
    "near-miss": "Marvigue slim chinos",           # one letter off, none of the brand's words
    "phrase": "Mar Vique fishing reel",             # words that join into the mark
    "garden": "Garden hose 20 m, green",
}


def packshot(path: Path, colour: str) -> None:
    img = Image.new("RGB", (320, 320), "white")
    ImageDraw.Draw(img).rounded_rectangle((100, 40, 220, 290), radius=30, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def register(db: Database, world: Path, text: str) -> None:
    (world / "registry.yaml").write_text(text, encoding="utf-8")
    store = ImageStore(world / "images", max_bytes=5_000_000, max_pixels=10_000_000)
    with db.session() as session:
        import_registry(session, load_registry(world / "registry.yaml", store=store), store)


def store_listings(db: Database) -> None:
    with db.session() as session:
        market = Marketplace(name="shop.example", base_url="https://shop.example", kind="shop")
        session.add(market)
        session.flush()
        for n, (slug, title) in enumerate({**ON_OTHER_GOODS, **PERFUME, **NOT_IT}.items()):
            session.add(Listing(marketplace_id=market.id, canonical_url=f"https://shop.example/p/{slug}",
                                url=f"https://shop.example/p/{slug}", title=title, price=Decimal("19.99"),
                                currency="EUR", seller=f"Seller {n}", content_hash=slug.ljust(64, "0")[:64],
                                needs_matching=False))


def test_a_brand_registered_after_the_crawl_gets_every_listing_with_its_coined_mark(
        settings_env: Path, tmp_path: Path, db_url: str):
    world = tmp_path / "world"
    packshot(world / "refs/k.png", "#2e7d32")
    packshot(world / "refs/m.png", "#6a1b9a")
    with Database.opened(db_url) as db:
        register(db, world, FIRST)
        rematch.run_rematch_jobs(db, settings=load_settings(data_dir=world / "data", db_url=db_url))
        store_listings(db)
        register(db, world, FIRST + LATER)
    result = CliRunner().invoke(__import__("cli").app, ["match", "--brand", "Marvique"])
    assert result.exit_code == 0, result.output

    with Database.opened(db_url) as db, db.session() as session:
        rows = session.execute(select(Listing.canonical_url, Match).join(Match, Match.listing_id == Listing.id)
                               .join(Brand, Brand.id == Match.brand_id).where(Brand.name == "Marvique")).all()
        found = {url.rsplit("/", 1)[-1]: match for url, match in rows}
        assert set(found) == set(ON_OTHER_GOODS) | set(PERFUME), sorted(found)
        for slug in ON_OTHER_GOODS:
            match = found[slug]
            assert match.klass == "other_goods", (slug, match.klass, match.reasons)
            assert any(r.startswith("mark on other goods") for r in match.reasons), match.reasons
            assert any("matches mark Marvique" in r for r in match.reasons)
            assert not may_report(match.klass)          # a notice needs an analyst's decision
        assert found["perfume"].klass == "counterfeit"
        queue = review.list_matches(session, brand="Marvique")
        assert queue[0].klass == "counterfeit" and {m.klass for m in queue[1:]} == {"other_goods"}
