"""The demo world's networks (data/demo/networks.py): pairwise precision and recall of "same network" on the
held-out seeds, traps that link nobody, determinism. Tuning seeds are measured apart (docs/networks.md)."""

from __future__ import annotations

from functools import cache

import pytest

from data.demo.networks import HELD_OUT_SEEDS, TUNING_SEEDS, network_world
from matching.networks.config import NetworkConfig
from matching.networks.evaluate import evaluate_relistings, evaluate_world, sellers_of_world
from matching.networks.groups import strong_groups
from matching.networks.links import find_links, seller_evidence
from matching.networks.textsim import boilerplate, sentences


@cache
def _evaluated(seed):
    """(world, scores, groups, links) of one seed, computed once per test session."""
    world = network_world(seed)
    return (world, *evaluate_world(world))


def test_world_is_deterministic_and_labelled():
    a, b = network_world(101), network_world(101)
    assert a == b
    assert a["role"] == "held-out" and network_world(TUNING_SEEDS[0])["role"] == "tuning"
    labels = {r["network"] for r in a["sellers"]}
    assert None in labels and len(labels - {None}) >= 8
    assert not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS)


@pytest.mark.parametrize("seed", HELD_OUT_SEEDS)
def test_held_out_pairwise_precision_and_recall(seed):
    _, scores, _, _ = _evaluated(seed)
    assert scores.precision >= 0.95, scores.as_dict()
    assert scores.recall >= 0.90, scores.as_dict()


@pytest.mark.parametrize("seed", HELD_OUT_SEEDS[:2])
def test_no_network_is_merged_by_a_trap(seed):
    world, _, groups, links = _evaluated(seed)
    traps = world["traps"]
    for link in links:
        for piece in link.evidence:
            assert piece.value != traps["agent_phone"]
            assert piece.value != traps["hosting_ip"] or not link.strong or len(link.evidence) > 1
    # The stock photo, the official photos and the agent's number are each on many sellers: none is a link.
    stock = int(traps["stock_photo"], 16)
    official = {int(h, 16) for h in world["official_photos"]}
    for link in links:
        for piece in link.evidence:
            if piece.kind == "photo":
                value = int(piece.value, 16)
                assert (value ^ stock).bit_count() > 6
                assert all((value ^ o).bit_count() > 6 for o in official)
    labels = {r["key"]: r["network"] for r in world["sellers"]}
    for group in groups:
        assert len({labels[s] for s in group}) == 1, sorted(group)


@pytest.mark.parametrize("trap", ["stock photo", "boilerplate", "agent", "official"])
def test_each_trap_of_the_world_alone_links_nobody(trap):
    """Keep only the trap of every listing that carries it: nobody is linked at all."""
    world = network_world(HELD_OUT_SEEDS[2])
    traps = world["traps"]
    stock = int(traps["stock_photo"], 16)
    official = [int(h, 16) for h in world["official_photos"]]
    config = NetworkConfig()
    kept = []
    for seller in sellers_of_world(world):
        listings = []
        for item in seller.listings:
            if trap in ("stock photo", "official"):
                targets = [stock] if trap == "stock photo" else official
                photos = tuple(p for p in item.photos if any((p ^ t).bit_count() <= 3 for t in targets))
                listings.append(type(item)(key=item.key, photos=photos))
            elif trap == "boilerplate":
                text = traps["boilerplate"] if traps["boilerplate"] in (item.description or "") else ""
                listings.append(type(item)(key=item.key, description=text))
            else:
                desc = item.description or ""
                note = desc[desc.find("Customs questions?"):] if "Customs questions?" in desc else ""
                listings.append(type(item)(key=item.key, description=note, region=item.region))
        kept.append(type(seller)(key=seller.key, marketplace=seller.marketplace, listings=tuple(listings)))
    carriers = sum(any(item.photos or item.description for item in s.listings) for s in kept)
    assert carriers >= 15  # the trap is really spread
    links = find_links([seller_evidence(s, config) for s in kept],
                       official_photos=official if trap == "official" else (), config=config)
    assert links == []
    assert strong_groups([s.key for s in kept], links) == []


def test_boilerplate_sentence_is_recognised_as_boilerplate():
    world = network_world(HELD_OUT_SEEDS[0])
    per_seller = {r["key"]: {s for item in r["listings"] for s in sentences(item["description"])}
                  for r in world["sellers"]}
    common = boilerplate(per_seller, max_sellers=NetworkConfig().boilerplate_sellers)
    assert sentences(world["traps"]["boilerplate"])[0] in common


@pytest.mark.parametrize("seed", HELD_OUT_SEEDS)
def test_held_out_relistings_after_the_demo_takedown_are_flagged_with_their_earlier_listing(seed):
    world, _, groups, _ = _evaluated(seed)
    scores, found = evaluate_relistings(world, groups)
    assert scores.true >= 10
    assert scores.detected >= 0.95, scores.as_dict()
    assert scores.precision >= 0.95, scores.as_dict()  # unrelated night-2 listings sharing the traps stay apart
    assert all(r.evidence for r in found)
