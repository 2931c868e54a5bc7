"""Pairwise precision and recall of "same network" against a labelled world (``data/demo/networks.py``).

A pair of sellers is *true* when both carry the same network label, *predicted* when both are in one group.
Precision is predicted pairs that are true over predicted pairs; recall is true pairs predicted over true
pairs. Sellers without a label are in no true pair, so every group that joins one costs precision.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from matching.networks.config import NetworkConfig
from matching.networks.contacts import region_of_currency
from matching.networks.groups import strong_groups
from matching.networks.links import Link, ListingFacts, SellerFacts, find_links, seller_evidence
from matching.networks.relisting import ListingPrint, Relist, find_relistings

__all__ = ["PairScores", "RelistScores", "evaluate_relistings", "evaluate_world", "pair_scores", "sellers_of_world"]


@dataclass(frozen=True, slots=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"true_pairs": self.true_pairs, "predicted_pairs": self.predicted_pairs,
                "correct_pairs": self.correct_pairs, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4)}


def _pairs(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    return {pair for group in groups for pair in combinations(sorted(group), 2)}


def pair_scores(labels: Mapping[str, str | None], groups: Sequence[Iterable[str]]) -> PairScores:
    """Scores of ``groups`` against ``{seller: network label or None}``."""
    truth: dict[str, list[str]] = defaultdict(list)
    for seller, label in labels.items():
        if label:
            truth[label].append(seller)
    true = _pairs(truth.values())
    predicted = _pairs(groups)
    return PairScores(len(true), len(predicted), len(true & predicted))


def sellers_of_world(world: Mapping[str, Any]) -> list[SellerFacts]:
    """The world's seller records as :class:`SellerFacts` (a listing's region from its currency)."""
    out = []
    for record in world["sellers"]:
        listings = tuple(
            ListingFacts(key=item["key"], title=item.get("title"), description=item.get("description"),
                         photo_text=item.get("photo_text", ""), photos=tuple(int(h, 16) for h in item["photos"]),
                         region=region_of_currency(item.get("currency")))
            for item in record["listings"])
        out.append(SellerFacts(key=record["key"], marketplace=record["marketplace"], name=record.get("name"),
                               seller_id=record.get("seller_id"), storefront=record.get("storefront"),
                               shop_domain=record.get("shop_domain"), shop_ip=record.get("shop_ip"),
                               listings=listings))
    return out


def evaluate_world(world: Mapping[str, Any], config: NetworkConfig | None = None
                   ) -> tuple[PairScores, list[frozenset[str]], list[Link]]:
    """Find the networks of a labelled world and score them; returns (scores, groups, links)."""
    config = config or NetworkConfig()
    sellers = sellers_of_world(world)
    evidence = [seller_evidence(s, config) for s in sellers]
    links = find_links(evidence, official_photos=[int(h, 16) for h in world.get("official_photos", [])],
                       config=config)
    groups = strong_groups([s.key for s in sellers], links)
    labels = {r["key"]: r.get("network") for r in world["sellers"]}
    return pair_scores(labels, groups), groups, links


@dataclass(frozen=True, slots=True)
class RelistScores:
    true: int
    found: int
    correct: int

    @property
    def detected(self) -> float:
        return self.correct / self.true if self.true else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"true": self.true, "found": self.found, "correct": self.correct,
                "detected": round(self.detected, 4), "precision": round(self.precision, 4)}


def evaluate_relistings(world: Mapping[str, Any], groups: Sequence[Iterable[str]],
                        config: NetworkConfig | None = None) -> tuple[RelistScores, list[Relist]]:
    """Find the world's relistings (night 1 listings marked ``down`` went down between the nights; sellers'
    networks are ``groups``, found, not labels) and score them against ``world["relistings"]``."""
    day1, day2 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    network_of = {s: n for n, group in enumerate(groups) for s in group}
    prints = []
    index: dict[str, int] = {}
    for record in world["sellers"]:
        for item in record["listings"]:
            index[item["key"]] = len(index) + 1
            prints.append(ListingPrint(
                id=index[item["key"]], marketplace=record["marketplace"], seller=record["key"],
                network=network_of.get(record["key"]), title=item.get("title"), description=item.get("description"),
                photos=tuple(int(h, 16) for h in item["photos"]),
                first_seen=day2 if item.get("night", 1) == 2 else day1,
                down_at=day1 + dt.timedelta(hours=12) if item.get("down") else None))
    found = find_relistings(prints, official_photos=[int(h, 16) for h in world.get("official_photos", [])],
                            config=config)
    truth = {(index[a], index[b]) for a, b in world.get("relistings", [])}
    got = {(r.listing_id, r.earlier_id) for r in found}
    return RelistScores(len(truth), len(got), len(truth & got)), found
