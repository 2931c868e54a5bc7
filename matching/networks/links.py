"""Links between sellers, each with its evidence and strength, weighted by how rare the evidence is.

Two steps, so that a night only redoes the sellers whose listings changed:

1. :func:`seller_evidence` reads one seller (:class:`SellerFacts`, plain data) into :class:`SellerEvidence`:
   its exact features (seller id, storefront, name skeleton, phones, e-mails, handles, domains, rogue-shop
   domain, IP and template), the pHashes of its photos and the sentences of its descriptions.
2. :func:`find_links` takes the evidence of every seller at once: photos within ``photo_distance`` of each
   other become one photo (never a photo near a brand's official one), near-duplicate descriptions (after
   boilerplate sentences are removed) become one text, and every feature is weighed by how many sellers
   share it, as IDF weighs words:

   ``weight = strength(kind) * rarity(df)``, where ``rarity`` is 1 up to ``free_sharing`` sellers,
   ``log(N/df) / log(N/free_sharing)`` above, and 0 beyond ``max_sharing`` sellers (or
   ``max_sharing_share`` of all N sellers, whichever is fewer).

   A link's strength combines its pieces as independent clues: ``1 - prod(1 - weight)``.  A link at least
   ``strong_link`` strong merges its two sellers' networks (:mod:`matching.networks.groups`); a weaker one is
   kept and shown, but never merges anything.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from matching.networks.config import NetworkConfig
from matching.networks.contacts import find_contacts, registrable_domain
from matching.networks.textsim import MinHasher, boilerplate, candidate_pairs, jaccard, sentences, shingles
from matching.sellers import GENERIC_SELLER_WORDS, skeleton_words

__all__ = [
    "Link", "LinkEvidence", "ListingFacts", "SellerEvidence", "SellerFacts", "find_links", "near_pairs", "rarity",
    "seller_evidence",
]

#: Kinds of evidence, in the order a page lists them.
KINDS = ("seller_id", "storefront", "phone", "email", "handle", "domain", "photo", "text", "name", "shop_ip",
         "shop_template")
_MAX_SENTENCES = 200
_MAX_PHOTOS = 200


@dataclass(frozen=True, slots=True)
class ListingFacts:
    """What one listing shows: ``photos`` are the pHashes (ints) of its photos, ``photo_text`` the words read
    in them; ``region`` (ISO 3166 alpha-2) reads phone numbers written without country code."""

    key: str
    title: str | None = None
    description: str | None = None
    photo_text: str = ""
    photos: tuple[int, ...] = ()
    region: str | None = None


@dataclass(frozen=True, slots=True)
class SellerFacts:
    """One seller on one site: ``key`` is stable (``marketplace/seller id``, ``marketplace/name``, or the shop's
    name for a rogue shop); ``own_domains`` are the site's own domains (never evidence)."""

    key: str
    marketplace: str
    name: str | None = None
    seller_id: str | None = None
    storefront: str | None = None
    shop_domain: str | None = None
    shop_ip: str | None = None
    shop_template: str | None = None
    own_domains: tuple[str, ...] = ()
    listings: tuple[ListingFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class SellerEvidence:
    """One seller's evidence: ``features`` ``{"kind\\x1fvalue": shown}``, ``photos`` ``[(phash, listing key)]``,
    ``sentences`` ``[(sentence, listing key)]``. JSON-ready (:meth:`to_json`, :meth:`from_json`)."""

    key: str
    features: dict[str, str] = field(default_factory=dict)
    photos: tuple[tuple[int, str], ...] = ()
    sentences: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict:
        return {"features": self.features, "photos": [[f"{h:016x}", k] for h, k in self.photos],
                "sentences": [list(s) for s in self.sentences]}

    @classmethod
    def from_json(cls, key: str, data: Mapping) -> SellerEvidence:
        return cls(key=key, features=dict(data.get("features", {})),
                   photos=tuple((int(h, 16), str(k)) for h, k in data.get("photos", [])),
                   sentences=tuple((str(s), str(k)) for s, k in data.get("sentences", [])))


@dataclass(frozen=True, slots=True)
class LinkEvidence:
    """One shared piece of evidence: ``shown`` says what it is in words, ``sellers`` how many sellers share it,
    ``weight`` what it counts for (0-1)."""

    kind: str
    value: str
    shown: str
    sellers: int
    weight: float

    def to_json(self) -> dict:
        return {"kind": self.kind, "value": self.value, "shown": self.shown, "sellers": self.sellers,
                "weight": round(self.weight, 4)}


@dataclass(frozen=True, slots=True)
class Link:
    """A link between sellers ``a`` < ``b`` with its evidence; ``strong`` links merge networks."""

    a: str
    b: str
    strength: float
    strong: bool
    evidence: tuple[LinkEvidence, ...]

    def reason(self) -> str:
        """The evidence in one sentence."""
        parts = [f"{e.shown} (shared by {e.sellers} sellers, weight {e.weight:.2f})" for e in self.evidence]
        return "; ".join(parts)


def _key(kind: str, value: str) -> str:
    return f"{kind}\x1f{value}"


def name_key(name: str | None) -> str | None:
    """The distinctive words of a seller name after every normalisation step, joined, with ``i`` read as ``l``
    (``Marl0w & Finch Store``, ``MARLOW-FINCH`` and ``Marlow Finch`` give ``marlowflnch``); None when fewer
    than four distinctive letters are left."""
    if not name:
        return None
    words = [w for w in skeleton_words(name[:300]) if w not in GENERIC_SELLER_WORDS and w.isalnum()]
    # The skeleton reads an ambiguous capital I as l: read every i as l too, so FINCH and Finch agree.
    key = "".join(words).replace("i", "l")
    return key if len(key) >= 4 else None


def seller_evidence(seller: SellerFacts, config: NetworkConfig | None = None) -> SellerEvidence:
    """The evidence of one seller, read from its facts only (no other seller is needed)."""
    config = config or NetworkConfig()
    features: dict[str, str] = {}

    def add(kind: str, value: str | None, shown: str) -> None:
        if value:
            features.setdefault(_key(kind, value), shown[:300])

    if seller.seller_id:
        add("seller_id", f"{seller.marketplace}/{seller.seller_id.strip().lower()}",
            f"seller id {seller.seller_id[:80]} on {seller.marketplace}")
    if seller.storefront:
        front = seller.storefront.strip().lower().split("?")[0].split("#")[0].rstrip("/")
        add("storefront", front, f"storefront {front[:200]}")
    name = name_key(seller.name)
    add("name", name, f"name variant of '{name}'")
    if seller.shop_domain:
        domain = registrable_domain(seller.shop_domain)
        add("domain", domain, f"shop domain {domain}")
    add("shop_ip", seller.shop_ip, f"shop server address {seller.shop_ip}")
    add("shop_template", seller.shop_template, f"shop template {seller.shop_template}")
    own = {d for d in (registrable_domain(x) for x in seller.own_domains) if d}
    photos: list[tuple[int, str]] = []
    sents: list[tuple[str, str]] = []
    for listing in seller.listings:
        for where, text in (("title", listing.title), ("description", listing.description),
                            ("photo text", listing.photo_text)):
            for contact in find_contacts(text, region=listing.region, ignore_domains=own, config=config):
                label = {"phone": "phone", "email": "e-mail", "handle": "chat handle", "domain": "web address"}
                add(contact.kind, contact.value,
                    f"{label[contact.kind]} {contact.value} (in the {where} of listing {listing.key})")
        for phash in listing.photos[:_MAX_PHOTOS]:
            if len(photos) < _MAX_PHOTOS:
                photos.append((int(phash), listing.key))
        for sentence in sentences(listing.description):
            if len(sents) < _MAX_SENTENCES:
                sents.append((sentence, listing.key))
    return SellerEvidence(key=seller.key, features=features, photos=tuple(photos),
                          sentences=tuple(sents))


def rarity(df: int, n: int, config: NetworkConfig) -> float:
    """How much a piece of evidence shared by ``df`` of ``n`` sellers still says (0-1), as IDF."""
    cap = min(config.max_sharing, max(config.free_sharing, int(config.max_sharing_share * n)))
    if df <= config.free_sharing:
        return 1.0
    if df > cap:
        return 0.0
    return max(0.0, min(1.0, math.log(n / df) / math.log(n / config.free_sharing)))


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_pairs(values: Sequence[int], distance: int) -> list[tuple[int, int]]:
    """Index pairs of ``values`` within ``distance`` bits (pigeonhole over distance+1 bands of the 64 bits)."""
    bands = min(64, distance + 1)
    width = 64 // bands
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, value in enumerate(values):
        for band in range(bands):
            shift = band * width
            mask = (1 << (64 - shift if band == bands - 1 else width)) - 1
            buckets[(band, (value >> shift) & mask)].append(i)
    pairs = set()
    for members in buckets.values():
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                if i != j and (values[i] ^ values[j]).bit_count() <= distance:
                    pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def _photo_features(evidence: Sequence[SellerEvidence], official: Iterable[int],
                    config: NetworkConfig) -> dict[str, dict[str, str]]:
    """``{seller: {feature key: shown}}`` for photos: near-identical photos are one photo."""
    official = list(official)
    items = [(h, e.key, listing) for e in evidence for h, listing in e.photos]
    values = [h for h, _, _ in items]
    if official:
        everything = values + official
        near_official = {i for i, j in near_pairs(everything, config.official_distance)
                         if i < len(values) <= j}
        keep = [i for i in range(len(items)) if i not in near_official]
        items = [items[i] for i in keep]
        values = [values[i] for i in keep]
    uf = _UnionFind()
    for i, j in near_pairs(values, config.photo_distance):
        uf.union(i, j)
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for i, (h, seller, listing) in enumerate(items):
        root = values[uf.find(i)]
        out[seller].setdefault(_key("photo", f"{root:016x}"),
                               f"the same own photo (pHash {h:016x}, listing {listing})")
    return out


def _text_features(evidence: Sequence[SellerEvidence], config: NetworkConfig) -> dict[str, dict[str, str]]:
    """``{seller: {feature key: shown}}`` for near-duplicate descriptions (boilerplate removed first)."""
    per_seller = {e.key: {s for s, _ in e.sentences} for e in evidence}
    common = boilerplate(per_seller, max_sellers=config.boilerplate_sellers)
    texts: dict[str, list[str]] = defaultdict(list)
    owner: dict[str, str] = {}
    for e in evidence:
        for sentence, listing in e.sentences:
            if sentence not in common:
                texts[f"{e.key}\x1e{listing}"].append(sentence)
                owner[f"{e.key}\x1e{listing}"] = e.key
    shingle_sets = {key: shingles(sents, words=config.shingle_words) for key, sents in texts.items()}
    # Boilerplate glued to other words (no full stop before it) survives the sentence filter: a shingle
    # found with more than ``boilerplate_sellers`` sellers is boilerplate too.
    seller_shingles: dict[str, set[str]] = defaultdict(set)
    for key, items in shingle_sets.items():
        seller_shingles[owner[key]] |= items
    common_shingles = boilerplate(seller_shingles, max_sellers=config.boilerplate_sellers)
    hasher = MinHasher(config.minhash_permutations)
    sigs = {}
    for key, items in shingle_sets.items():
        items = items - common_shingles
        if len(items) >= config.min_shingles:
            sigs[key] = hasher.signature(items)
    keys = sorted(sigs)
    index = {k: i for i, k in enumerate(keys)}
    uf = _UnionFind()
    similar: dict[tuple[str, str], float] = {}
    for a, b in candidate_pairs(sigs, bands=config.minhash_bands):
        if owner[a] == owner[b]:
            continue
        score = jaccard(sigs[a], sigs[b])
        if score >= config.text_similarity:
            uf.union(index[a], index[b])
            similar[(a, b)] = score
    members: dict[int, list[str]] = defaultdict(list)
    for key in keys:
        members[uf.find(index[key])].append(key)
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for root, group in members.items():
        if len({owner[k] for k in group}) < 2:
            continue
        for key in group:
            seller, listing = key.split("\x1e", 1)
            out[seller].setdefault(_key("text", f"t{index[keys[root]]}:{keys[root][:40]}"),
                                   f"a near-identical description (listing {listing})")
    return out


def find_links(evidence: Sequence[SellerEvidence], *, official_photos: Iterable[int] = (),
               config: NetworkConfig | None = None) -> list[Link]:
    """Every link between the sellers of ``evidence`` at least ``weak_link`` strong, sorted by (a, b)."""
    config = config or NetworkConfig()
    features: dict[str, dict[str, str]] = {e.key: dict(e.features) for e in evidence}
    for extra in (_photo_features(evidence, official_photos, config), _text_features(evidence, config)):
        for seller, found in extra.items():
            features[seller].update(found)
    holders: dict[str, list[str]] = defaultdict(list)
    for seller, found in features.items():
        for key in found:
            holders[key].append(seller)
    n = max(len(features), 1)
    pairs: dict[tuple[str, str], list[LinkEvidence]] = defaultdict(list)
    for key, sellers in holders.items():
        if len(sellers) < 2:
            continue
        kind, value = key.split("\x1f", 1)
        weight = config.kind_strength.get(kind, 0.0) * rarity(len(sellers), n, config)
        if weight <= 0:
            continue
        sellers = sorted(sellers)
        for i, a in enumerate(sellers):
            for b in sellers[i + 1:]:
                shown = features[a][key]
                if "(" in features[b][key] and features[b][key] != shown:  # where the other seller shows it
                    shown = f"{shown} / {features[b][key].split('(', 1)[-1].rstrip(')')}"
                pairs[(a, b)].append(LinkEvidence(kind, value, shown, len(sellers), weight))
    links = []
    for (a, b), pieces in sorted(pairs.items()):
        pieces.sort(key=lambda e: (-e.weight, KINDS.index(e.kind) if e.kind in KINDS else 99, e.value))
        strength = 1.0 - math.prod(1.0 - e.weight for e in pieces)
        if strength >= config.weak_link:
            links.append(Link(a, b, round(strength, 6), strength >= config.strong_link, tuple(pieces)))
    return links
