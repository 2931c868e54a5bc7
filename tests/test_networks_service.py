"""services/networks.py on SQLite and PostgreSQL: sellers read from stored listings and signatures,
networks with stable ids while they grow, incremental evidence, the held-out world through the database."""

from __future__ import annotations

from sqlalchemy import select

from data.demo.networks import HELD_OUT_SEEDS, network_world
from matching.networks.evaluate import pair_scores
from services.networks import recompute_networks, seller_key
from storage.models import Network, NetworkSeller, SellerLink
from tests.networks_support import add_seller, load_world


def _groups(session):
    groups: dict[int, set[str]] = {}
    for row in session.scalars(select(NetworkSeller).where(NetworkSeller.network_id.is_not(None))):
        groups.setdefault(row.network_id, set()).add(row.key)
    return groups


def test_seller_keys():
    assert seller_key("bazaarly", "marketplace", "Marlow Finch", "S12") == "bazaarly/id:s12"
    assert seller_key("bazaarly", "marketplace", "  Marlow  FINCH ", None) == "bazaarly/marlow finch"
    assert seller_key("bazaarly", "marketplace", None, None) is None
    assert seller_key("rogue.shop", "shop", None, None) == "rogue.shop"


def test_networks_from_the_database_keep_their_ids_while_they_grow(database):
    world = network_world(HELD_OUT_SEEDS[1])
    ops: dict[str, list[dict]] = {}
    for record in world["sellers"]:
        if record["network"]:
            ops.setdefault(record["network"], []).append(record)
    # Hold back one storefront of the largest operation: it appears on the second night.
    largest = max(ops.values(), key=len)
    late = next(r for r in largest[1:] if "." not in r["marketplace"])
    with database.session() as session:
        cache = load_world(session, world, skip={late["key"]})
    first = recompute_networks(database)
    assert first.networks >= 8 and first.sellers_read == first.sellers
    with database.session() as session:
        groups = _groups(session)
        # Stored keys are marketplace/id:<seller id> or the shop: map them back to the world's labels.
        stored_label = {}
        for row in session.scalars(select(NetworkSeller)):
            record = next(r for r in world["sellers"] if _stored_key(r) == row.key)
            stored_label[row.key] = record["network"]
        scores = pair_scores(stored_label, [g for g in groups.values()])
        assert scores.precision >= 0.95 and scores.recall >= 0.90, scores.as_dict()
        late_network = next(nid for nid, g in groups.items() if any(stored_label[k] == late["network"] for k in g))
        before = session.get(Network, late_network)
        size_before = before.sellers
        assert before.marketplaces and sum(before.marketplaces.values()) > 0
        assert before.impact > 0 and before.impact_reasons
        links = session.scalars(select(SellerLink).where(SellerLink.strong)).all()
        assert links and all(link.evidence for link in links)
        ids_before = {nid: frozenset(g) for nid, g in groups.items()}

    with database.session() as session:
        add_seller(session, late, cache)
    second = recompute_networks(database)
    assert second.sellers_read == 1  # only the new seller's evidence was read
    with database.session() as session:
        groups = _groups(session)
        grown = session.get(Network, late_network)
        assert _stored_key(late) in groups[late_network]
        assert grown.sellers == size_before + 1 and grown.previous_sellers == size_before
        assert grown.grew_at is not None
        for nid, members in ids_before.items():
            assert members <= groups[nid]  # every network keeps its id
    third = recompute_networks(database)
    assert third.sellers_read == 0 and third.new_networks == 0 and third.grown_networks == 0


def _stored_key(record):
    if "." in record["marketplace"]:
        return record["marketplace"]
    return f"{record['marketplace']}/id:{record['seller_id'].lower()}"
