"""Relistings: a reported or removed listing that comes back, under the same seller or another one, on the same
marketplace or another.

:func:`find_relistings` compares each listing first seen after an earlier listing went down (reported or
removed) with that earlier listing. It is a relisting when

- it shows the same own photo (pHash within ``photo_distance``; official photos and photos shared by more
  than ``max_sharing`` listings never count) **and** a near-identical description (MinHash Jaccard of word
  shingles at least ``text_similarity``, after boilerplate shingles are removed); or
- its seller is the earlier seller or in the earlier seller's network, **and** it shows the same own photo,
  a near-identical description or the same normalised title.

A listing is the relisting of one earlier listing: of several candidates (an operation's listings share
photos and text), the one it shares most with (photo, description similarity, title, seller; then the
latest to go down). Each found pair comes with sentences saying what the two share.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from matching.networks.config import NetworkConfig
from matching.networks.links import near_pairs
from matching.networks.textsim import MinHasher, boilerplate, candidate_pairs, jaccard, sentences, shingles

__all__ = ["ListingPrint", "Relist", "find_relistings"]


@dataclass(frozen=True, slots=True)
class ListingPrint:
    """What a listing looks like for relisting: its photos' pHashes, text, seller and network; ``down_at`` is
    when it was reported or removed (None: it is not down), ``first_seen`` when it was first crawled."""

    id: int
    marketplace: str
    seller: str | None
    network: int | None
    title: str | None
    description: str | None
    photos: tuple[int, ...]
    first_seen: dt.datetime
    down_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Relist:
    listing_id: int
    earlier_id: int
    evidence: tuple[str, ...]


def _title_key(title: str | None) -> str:
    return " ".join(w for s in sentences((title or "") + " x x") for w in s.split() if w != "x")


def find_relistings(listings: Sequence[ListingPrint], *, official_photos: Iterable[int] = (),
                    config: NetworkConfig | None = None) -> list[Relist]:
    """Every (later listing, earlier down listing) pair that is a relisting, by listing id."""
    config = config or NetworkConfig()
    official = list(official_photos)
    down = [p for p in listings if p.down_at is not None]
    if not down:
        return []
    by_id = {p.id: p for p in listings}
    # Photos: every (listing, photo) is a node; near pairs join them. Official photos and photos seen on more
    # than max_sharing listings (stock photos) never count.
    nodes = [(p.id, h) for p in listings for h in dict.fromkeys(p.photos)]
    values = [h for _, h in nodes]
    official_nodes = set()
    if official:
        everything = values + official
        official_nodes = {i for i, j in near_pairs(everything, config.official_distance) if i < len(values) <= j}
    pairs = [(i, j) for i, j in near_pairs(values, config.photo_distance)
             if i not in official_nodes and j not in official_nodes and nodes[i][0] != nodes[j][0]]
    degree: Counter[int] = Counter()
    for i, j in pairs:
        degree[i] += 1
        degree[j] += 1
    crowded = {i for i, n in degree.items() if n + 1 > config.max_sharing}
    photo_neighbours: dict[int, set[int]] = defaultdict(set)
    for i, j in pairs:
        if i not in crowded and j not in crowded:
            photo_neighbours[nodes[i][0]].add(nodes[j][0])
            photo_neighbours[nodes[j][0]].add(nodes[i][0])
    per_listing = {p.id: set(sentences(p.description)) for p in listings}
    common = boilerplate(per_listing, max_sellers=max(config.boilerplate_sellers, config.max_sharing))
    hasher = MinHasher(config.minhash_permutations)
    sigs = {}
    for p in listings:
        items = shingles([s for s in sentences(p.description) if s not in common], words=config.shingle_words)
        if len(items) >= config.min_shingles:
            sigs[str(p.id)] = hasher.signature(items)
    text_neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in candidate_pairs(sigs, bands=config.minhash_bands):
        text_neighbours[int(a)].add(int(b))
        text_neighbours[int(b)].add(int(a))
    by_seller: dict[str, set[int]] = defaultdict(set)
    by_network: dict[int, set[int]] = defaultdict(set)
    for p in listings:
        if p.seller is not None:
            by_seller[p.seller].add(p.id)
        if p.network is not None:
            by_network[p.network].add(p.id)
    out: dict[int, tuple[float, Relist]] = {}
    for earlier in down:
        candidates = photo_neighbours[earlier.id] | text_neighbours[earlier.id]
        candidates |= by_seller.get(earlier.seller or "", set()) | by_network.get(earlier.network or -1, set())
        for later_id in sorted(candidates):
            later = by_id[later_id]
            if later.id == earlier.id or later.first_seen < earlier.down_at:
                continue
            same_photo = later.id in photo_neighbours[earlier.id]
            similarity = jaccard(sigs.get(str(later.id), ()), sigs.get(str(earlier.id), ()))
            same_text = similarity >= config.text_similarity
            same_seller = later.seller is not None and later.seller == earlier.seller
            same_network = later.network is not None and later.network == earlier.network
            same_title = bool(_title_key(later.title)) and _title_key(later.title) == _title_key(earlier.title)
            linked = same_seller or same_network
            if not ((same_photo and same_text) or (linked and (same_photo or same_text or same_title))):
                continue
            evidence = []
            if same_photo:
                evidence.append("the same own photo")
            if same_text:
                evidence.append(f"a near-identical description (similarity {similarity:.2f})")
            if same_title and linked:
                evidence.append("the same title")
            if same_seller:
                evidence.append("the same seller")
            elif same_network:
                evidence.append(f"a seller of the same network (network {later.network})")
            where = "the same marketplace" if later.marketplace == earlier.marketplace else \
                f"another marketplace ({later.marketplace}, was {earlier.marketplace})"
            evidence.append(f"on {where}")
            score = same_photo + similarity + 0.5 * same_title + 0.25 * same_seller
            best = out.get(later.id)
            if best is None or (score, earlier.down_at) > (best[0], by_id[best[1].earlier_id].down_at):
                out[later.id] = (score, Relist(later.id, earlier.id, tuple(evidence)))
    return [relist for _, relist in sorted(out.values(), key=lambda x: x[1].listing_id)]
