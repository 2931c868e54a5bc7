"""services/relistings.py on SQLite and PostgreSQL: after the demo takedown, relistings of the removed
listings are flagged, linked to their earlier listing, told in the match's changes, and counted per network."""

from __future__ import annotations

from sqlalchemy import select

from data.demo.networks import HELD_OUT_SEEDS, network_world
from services.networks import recompute_networks
from services.relistings import detect_relistings
from services.review import set_status
from storage.models import Brand, Listing, Match, Network, Relisting
from tests.networks_support import add_seller, load_world


def test_relistings_after_the_demo_takedown_are_flagged_and_counted(database):
    world = network_world(HELD_OUT_SEEDS[3])
    with database.session() as session:
        cache = load_world(session, world, night=1)
        brand = session.scalars(select(Brand)).one()
        stored = {}
        for record in world["sellers"]:
            for item in record["listings"]:
                if item.get("night", 1) == 1 and item.get("down"):
                    stored[item["key"]] = item
        by_key = {li.external_id: li for li in session.scalars(select(Listing))}
        for key in stored:
            listing = by_key[key]
            match = Match(listing_id=listing.id, brand_id=brand.id, score=0.9, klass="counterfeit",
                          listing_content_hash=listing.content_hash)
            session.add(match)
            session.flush()
            set_status(session, match.id, "reported", actor="analyst", note="demo takedown")
    assert detect_relistings(database).found == 0  # nothing came back yet
    recompute_networks(database)

    with database.session() as session:
        later = {}
        for record in world["sellers"]:
            later.update(add_seller(session, record, cache, night=2))
        brand = session.scalars(select(Brand)).one()
        for listing in later.values():
            session.add(Match(listing_id=listing.id, brand_id=brand.id, score=0.8, klass="counterfeit",
                              listing_content_hash=listing.content_hash))
    # The nightly order: networks (tonight's sellers too), relistings, networks again (their counts).
    recompute_networks(database)
    run = detect_relistings(database)
    truth = {tuple(pair) for pair in world["relistings"]}
    with database.session() as session:
        key_of = {li.id: li.external_id for li in session.scalars(select(Listing))}
        found = {(key_of[r.listing_id], key_of[r.earlier_listing_id]): r for r in session.scalars(select(Relisting))}
        correct = truth & set(found)
        assert len(correct) >= 0.95 * len(truth) and len(found) <= len(truth) + 1
        for pair in correct:
            relisting = found[pair]
            assert relisting.evidence and any("photo" in e or "description" in e for e in relisting.evidence)
            changes = session.scalars(select(Match.changes).where(Match.listing_id == relisting.listing_id)).one()
            assert any(f"relisting of listing {relisting.earlier_listing_id}" in c for c in changes)
    assert detect_relistings(database).new == 0  # recorded once
    assert run.new == len(found)

    recompute_networks(database)
    with database.session() as session:
        counted = sum(n.relistings for n in session.scalars(select(Network).where(Network.status == "active")))
        assert counted >= len(correct) - 1  # each relisting's seller is in a network (but a lone storefront)
        assert any("relisting" in " ".join(n.impact_reasons) for n in session.scalars(select(Network)))
