"""Bug 2 of issue 27: the review snapshot and the pipeline's change hash follow one rule.

"The listing changed" (the crawl's content hash moved, so the listing is matched again) and "changed since
the last review" (the match's change sentences, from its review snapshot) must agree: a crawl that stores
the same listing says neither, a crawl that stores a different price says both. Driven through the real
storage pipeline and ``record_match``, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crawlers.items import Listing as Item
from crawlers.pipelines.images import PENDING
from crawlers.pipelines.records import get_or_create_marketplace, start_run, upsert_listings
from services import review
from storage.models import Brand, Listing, Match, Owner

URL = "https://shop.example/p/1"


def night(database, price: Decimal, brand_id: int) -> tuple[bool, list[str], str]:
    """One crawl of the listing at ``price`` then its scoring: (listing changed, new change sentences, outcome)."""
    with database.session() as session:
        market = get_or_create_marketplace(session, name="shop.example", base_url="https://shop.example",
                                           kind="shop")
        run = start_run(session, marketplace_id=market.id, scan_id=None, params={})
        counts = upsert_listings(session, marketplace_id=market.id, crawl_run_id=run.id, items=[
            Item(url=URL, canonical_url=URL, title="Fullips Lip Plumper", price=price, currency="KWD",
                 seller="Cheap Deals", image_urls=["https://shop.example/i/1.jpg"])],
            image_outcome=lambda url: PENDING)
        listing = session.scalars(select(Listing)).one()
        before = session.scalars(select(Match)).one_or_none()
        seen = list(before.changes) if before is not None else []
        outcome = review.record_match(session, listing, review.Verdict(
            brand_id=brand_id, product_id=None, score=0.9, klass="counterfeit", reasons=("title names Fullips",)))
        after = session.scalars(select(Match)).one()
        return counts.get("changed", 0) == 1, list(after.changes)[len(seen):], outcome


@pytest.fixture
def brand_id(database) -> int:
    with database.session() as session:
        brand = Brand(owner=Owner(name="Et Al"), name="Fullips")
        session.add(brand)
        session.flush()
        return brand.id


@pytest.mark.parametrize(("first", "second", "changed"), [
    (Decimal("24.00"), Decimal("24.0"), False),     # the same price written two ways
    (Decimal("24.001"), Decimal("24.004"), False),  # differ only below the stored cent: the same stored price
    (Decimal("24.00"), Decimal("24.01"), True),
    (Decimal("24.004"), Decimal("24.006"), True),   # rounds to 24.00 then 24.01
])
def test_listing_changed_and_changed_since_review_agree(database, brand_id, first, second, changed) -> None:
    night(database, first, brand_id)
    listing_changed, sentences, _ = night(database, second, brand_id)
    assert listing_changed is changed
    assert bool(sentences) is changed, sentences


def test_a_dismissed_match_stays_dismissed_when_the_stored_listing_is_the_same(database, brand_id) -> None:
    night(database, Decimal("24.001"), brand_id)
    with database.session() as session:
        review.set_status(session, session.scalars(select(Match)).one().id, "dismissed", actor="ana")
    listing_changed, sentences, outcome = night(database, Decimal("24.004"), brand_id)
    assert (listing_changed, sentences, outcome) == (False, [], "unchanged")

