"""Searchable indexes over reference images, both taking new references at any time without a rebuild.

* :class:`HashIndex`: multi-index hashing (Norouzi et al.) over 64-bit perceptual hashes. A hash is cut into
  four 16-bit chunks, each keying its own table. Two hashes within distance ``r`` agree on some chunk to
  within ``r // 4`` bits (pigeonhole), so probing each table with every chunk value within two bit flips
  (137 probes) finds every hash within distance 11, in a few hundred dictionary look-ups whatever the
  number of references.
* :class:`KeypointIndex`: locality-sensitive hashing over 256-bit ORB descriptors. Each of ten tables keys
  a descriptor by 20 fixed, randomly chosen bits; a listing image's descriptors vote for the references
  that share keys. A copy (even cropped, rotated or in a collage) shares dozens of near-identical
  descriptors with its original and collects many votes; the best voted references are then verified
  geometrically (:mod:`matching.image_match`).
* :class:`LocalFeatureIndex`: every reference's SIFT features in one matrix; each feature of a listing photo
  votes for the reference owning its nearest neighbour (Lowe 2004, section 7), and the best voted references
  get the instance stage (:func:`matching.image_match.instance_match`). Exact (brute force): its cost grows
  with the number of reference features.
* :class:`ReferenceImageIndex`: all of them, over typed signatures, answering "which references does this listing
  image copy" with :class:`~matching.image_match.ImageComparison` results.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

import cv2
import numpy as np

from matching.config import ImageMatchConfig
from matching.image_match import DEFAULT_CONFIG, ImageComparison, compare_images
from matching.signature import HASH_KINDS, ImageSignature

__all__ = ["CompactKeypointIndex", "HashIndex", "KeypointIndex", "LocalFeatureIndex", "ReferenceImageIndex"]

_CHUNKS = 4
_CHUNK_BITS = 16
_CHUNK_MASK = (1 << _CHUNK_BITS) - 1


def _flip_masks(max_flips: int) -> tuple[int, ...]:
    masks = [0]
    for k in range(1, max_flips + 1):
        for bits in combinations(range(_CHUNK_BITS), k):
            m = 0
            for b in bits:
                m |= 1 << b
            masks.append(m)
    return tuple(masks)


class HashIndex:
    """Multi-index hashing over unsigned 64-bit hashes; each stored hash carries an integer payload.

    Each chunk table is a CSR layout over all 65,536 chunk values: the stored slots ordered by chunk value and
    an offsets array, so a probe is two array reads (no search), and a query is a few vectorised gathers and
    one vectorised distance computation, with no per-entry Python work. :meth:`query_many` answers many
    hashes in one pass. Additions are appended and merged into the tables on the next query."""

    def __init__(self, *, max_chunk_flips: int = 2) -> None:
        self._hashes = np.zeros(0, np.uint64)
        self._payloads = np.zeros(0, np.int64)
        self._pending: list[tuple[int, int]] = []
        self._slots = [np.zeros(0, np.int64) for _ in range(_CHUNKS)]
        self._offsets = [np.zeros(_CHUNK_MASK + 2, np.int64) for _ in range(_CHUNKS)]
        self._masks = np.array(_flip_masks(max_chunk_flips), dtype=np.int64)
        #: Distances up to this are always found.
        self.guaranteed_radius = _CHUNKS * (max_chunk_flips + 1) - 1

    def __len__(self) -> int:
        return len(self._hashes) + len(self._pending)

    def add(self, value: int, payload: int) -> None:
        """Store hash ``value`` (0 <= value < 2**64) with ``payload``."""
        if not 0 <= value < 1 << 64:
            raise ValueError("hash must be an unsigned 64-bit integer")
        self._pending.append((value, payload))

    def _flush(self) -> None:
        if not self._pending:
            return
        values = np.array([v for v, _ in self._pending], dtype=np.uint64)
        self._hashes = np.concatenate([self._hashes, values])
        self._payloads = np.concatenate([self._payloads, np.array([p for _, p in self._pending], dtype=np.int64)])
        self._pending.clear()
        for c in range(_CHUNKS):
            chunk = ((self._hashes >> np.uint64(c * _CHUNK_BITS)) & np.uint64(_CHUNK_MASK)).astype(np.int64)
            self._slots[c] = np.argsort(chunk, kind="stable")
            self._offsets[c] = np.concatenate([[0], np.cumsum(np.bincount(chunk, minlength=_CHUNK_MASK + 1))])

    def query_many(self, values: Sequence[int], radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(query, payload, distance)`` arrays: for each ``values[query]``, every payload stored within
        ``radius`` bits of it with its smallest distance, one row per (query, payload); complete up to
        :attr:`guaranteed_radius`."""
        self._flush()
        empty = np.zeros(0, np.int64)
        if len(self._hashes) == 0 or len(values) == 0:
            return empty, empty, empty
        q = np.array([int(v) for v in values], dtype=np.uint64)
        queries, slots = [], []
        for c in range(_CHUNKS):
            probes = ((q >> np.uint64(c * _CHUNK_BITS)) & np.uint64(_CHUNK_MASK)).astype(np.int64)[:, None] ^ self._masks
            offsets = self._offsets[c]
            lo, n = offsets[probes].ravel(), (offsets[probes + 1] - offsets[probes]).ravel()
            hit = n > 0
            lo, n = lo[hit], n[hit]
            if n.size:
                # Every index of every non-empty bucket [lo, lo + n), without a Python loop.
                starts = np.repeat(lo - np.cumsum(n) + n, n)
                slots.append(self._slots[c][starts + np.arange(int(n.sum()))])
                queries.append(np.repeat(np.flatnonzero(hit) // len(self._masks), n))
        if not slots:
            return empty, empty, empty
        qi, si = np.concatenate(queries), np.concatenate(slots)
        dist = np.bitwise_count(self._hashes[si] ^ q[qi]).astype(np.int64)
        keep = dist <= radius
        qi, pi, dist = qi[keep], self._payloads[si[keep]], dist[keep]
        # One row per (query, payload), the smallest distance: sort by it, keep the first of each pair.
        order = np.lexsort((dist, pi, qi))
        qi, pi, dist = qi[order], pi[order], dist[order]
        first = np.ones(len(qi), bool)
        first[1:] = (qi[1:] != qi[:-1]) | (pi[1:] != pi[:-1])
        return qi[first], pi[first], dist[first]

    def query(self, value: int, radius: int) -> dict[int, int]:
        """``{payload: smallest distance}`` of stored hashes within ``radius`` bits of ``value`` (complete up
        to :attr:`guaranteed_radius`)."""
        _q, payloads, dist = self.query_many([value], radius)
        return dict(zip(payloads.tolist(), dist.tolist(), strict=True))


class KeypointIndex:
    """LSH tables over ORB descriptors (uint8 arrays of shape (n, 32)); payloads are integers."""

    def __init__(self, *, tables: int = 10, bits: int = 20, seed: int = 20240607, max_bucket: int = 2000) -> None:
        rng = np.random.default_rng(seed)
        self._positions = [np.sort(rng.choice(256, size=bits, replace=False)) for _ in range(tables)]
        self._weights = (1 << np.arange(bits, dtype=np.int64))[::-1]
        self._tables: list[dict[int, array]] = [{} for _ in range(tables)]
        self._max_bucket = max_bucket
        self.size = 0

    def _keys(self, descriptors: np.ndarray) -> list[np.ndarray]:
        bits = np.unpackbits(np.asarray(descriptors, dtype=np.uint8), axis=1)
        return [bits[:, pos].astype(np.int64) @ self._weights for pos in self._positions]

    def add(self, descriptors: np.ndarray, payload: int) -> None:
        """Index every descriptor of one reference image."""
        if len(descriptors) == 0:
            return
        for table, keys in zip(self._tables, self._keys(descriptors), strict=True):
            for key in np.unique(keys).tolist():
                bucket = table.get(key)
                if bucket is None:
                    bucket = table[key] = array("I")  # 4-byte unsigned on every platform numpy runs on
                bucket.append(payload)
        self.size += 1

    def votes(self, descriptors: np.ndarray) -> Counter[int]:
        """How many (descriptor, table) keys each payload shares with ``descriptors``; buckets holding more
        than ``max_bucket`` entries (featureless patterns every image has) are skipped."""
        counts: Counter[int] = Counter()
        if len(descriptors) == 0 or self.size == 0:
            return counts
        buckets = []
        for table, keys in zip(self._tables, self._keys(descriptors), strict=True):
            for key in keys.tolist():
                bucket = table.get(key)
                if bucket is not None and len(bucket) <= self._max_bucket:
                    buckets.append(bucket)
        if not buckets:
            return counts
        payloads, n = np.unique(np.concatenate([np.frombuffer(b, dtype=np.uint32) for b in buckets]),
                                return_counts=True)
        counts.update(dict(zip(payloads.tolist(), n.tolist(), strict=True)))
        return counts


class CompactKeypointIndex:
    """LSH over ORB descriptors like :class:`KeypointIndex`, stored as flat numpy arrays: 8 bytes per
    (descriptor, table) entry and no per-key Python objects, so 100,000 references fit in a few hundred MB.
    Entries are appended; the sorted view that queries use is rebuilt on the first query after an add."""

    def __init__(self, *, tables: int = 4, bits: int = 22, seed: int = 20240607, max_bucket: int = 2000) -> None:
        rng = np.random.default_rng(seed)
        self._positions = [np.sort(rng.choice(256, size=bits, replace=False)) for _ in range(tables)]
        self._weights = (1 << np.arange(bits, dtype=np.int64))[::-1]
        self._pending_keys: list[list[np.ndarray]] = [[] for _ in range(tables)]
        self._pending_payloads: list[np.ndarray] = []
        self._keys = [np.zeros(0, np.uint32) for _ in range(tables)]
        self._payloads = [np.zeros(0, np.uint32) for _ in range(tables)]
        #: Per table, once it holds ``CSR_MIN_ENTRIES`` entries: where each key's bucket starts (2**bits + 1
        #: uint32), so a look-up is two array reads instead of two binary searches over the whole table.
        self._offsets: list[np.ndarray | None] = [None] * tables
        self._bits = bits
        self._max_bucket = max_bucket
        self.size = 0

    #: Entries per table from which buckets are found through an offsets array (16 MB a table at 22 bits)
    #: rather than binary search: on a large table each search step is a cache miss, so its cost grew with
    #: the registry (about 0.5 ms per listing image at 1,000 references, 1.9 ms at 50,000). 2**19 entries are
    #: about 5,500 references of 96 voting descriptors.
    CSR_MIN_ENTRIES = 1 << 19

    def _table_keys(self, descriptors: np.ndarray) -> list[np.ndarray]:
        bits = np.unpackbits(np.asarray(descriptors, dtype=np.uint8), axis=1)
        return [(bits[:, pos].astype(np.int64) @ self._weights).astype(np.uint32) for pos in self._positions]

    def add(self, descriptors: np.ndarray, payload: int) -> None:
        if len(descriptors) == 0:
            return
        for pending, keys in zip(self._pending_keys, self._table_keys(descriptors), strict=True):
            pending.append(np.unique(keys))
        self._pending_payloads.append(np.full(1, payload, np.uint32))
        self.size += 1

    def _flush(self) -> None:
        if not self._pending_payloads:
            return
        for t, pending in enumerate(self._pending_keys):
            counts = np.array([len(k) for k in pending])
            keys = np.concatenate([self._keys[t], *pending])
            payloads = np.concatenate([self._payloads[t], np.repeat(np.concatenate(self._pending_payloads), counts)])
            order = np.argsort(keys, kind="stable")
            self._keys[t], self._payloads[t] = keys[order], payloads[order]
            self._offsets[t] = self._bucket_offsets(self._keys[t]) if len(keys) >= self.CSR_MIN_ENTRIES else None
            pending.clear()
        self._pending_payloads.clear()

    def _bucket_offsets(self, keys: np.ndarray) -> np.ndarray:
        counts = np.bincount(keys, minlength=1 << self._bits)
        offsets = np.zeros(len(counts) + 1, np.uint32)
        np.cumsum(counts, out=offsets[1:])
        return offsets

    def memory_bytes(self) -> int:
        self._flush()
        return sum(k.nbytes + p.nbytes + (o.nbytes if o is not None else 0)
                   for k, p, o in zip(self._keys, self._payloads, self._offsets, strict=True))

    def _buckets(self, t: int, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, length) of each query key's bucket in table ``t``."""
        offsets = self._offsets[t]
        if offsets is not None:
            lo = offsets[query].astype(np.int64)
            return lo, offsets[query + 1].astype(np.int64) - lo
        keys = self._keys[t]
        lo = np.searchsorted(keys, query, side="left")
        return lo, np.searchsorted(keys, query, side="right") - lo

    def votes(self, descriptors: np.ndarray) -> Counter[int]:
        """How many (descriptor, table) keys each payload shares with ``descriptors``; buckets of more than
        ``max_bucket`` entries are skipped."""
        counts: Counter[int] = Counter()
        if len(descriptors) == 0 or self.size == 0:
            return counts
        self._flush()
        found = []
        for t, (payloads, query) in enumerate(zip(self._payloads, self._table_keys(descriptors), strict=True)):
            lo, n = self._buckets(t, query)
            ok = (n > 0) & (n <= self._max_bucket)
            lo, n = lo[ok], n[ok]
            if n.size:
                # Every index of every kept bucket [lo, lo + n), without a Python loop.
                starts = np.repeat(lo - np.cumsum(n) + n, n)
                found.append(payloads[starts + np.arange(int(n.sum()))])
        if found:
            values, n = np.unique(np.concatenate(found), return_counts=True)
            counts.update(dict(zip(values.tolist(), n.tolist(), strict=True)))
        return counts


class LocalFeatureIndex:
    """SIFT features of many references, voting by nearest neighbour (see the module doc)."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []
        self._owner_parts: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        self._owners = np.zeros(0, np.int64)

    def add(self, descriptors: np.ndarray, payload: int) -> None:
        if len(descriptors):
            self._parts.append(np.asarray(descriptors, dtype=np.float32).reshape(-1, 128))
            self._owner_parts.append(np.full(len(descriptors), payload, np.int64))
            self._matrix = None

    def votes(self, descriptors: np.ndarray) -> Counter[int]:
        """Per payload, how many of ``descriptors`` have their nearest reference feature there."""
        if not self._parts or not len(descriptors):
            return Counter()
        if self._matrix is None:
            self._matrix = np.vstack(self._parts)
            self._owners = np.concatenate(self._owner_parts)
        matches = cv2.BFMatcher(cv2.NORM_L2).match(np.asarray(descriptors, dtype=np.float32), self._matrix)
        return Counter(int(self._owners[m.trainIdx]) for m in matches)


class ReferenceImageIndex:
    """Reference images searchable by a listing image, in two stages whose cost does not grow with the number
    of references: hash look-ups propose candidates that :func:`matching.image_match.compare_images` checks
    cheaply (hashes, then keypoints guided by the hash transform); only when that leaves no certain answer do
    keypoint votes propose a few more references (at most ``config.max_keypoint_checks``) for RANSAC.

    Keys are the caller's integers (e.g. reference-image ids). References may be added at any time.
    """

    def __init__(self, config: ImageMatchConfig = DEFAULT_CONFIG) -> None:
        #: The image thresholds (``MatchConfig.image``).
        self.config = config
        self._hashes = {kind: HashIndex(max_chunk_flips=2) for kind in HASH_KINDS}
        self._keypoints = CompactKeypointIndex()
        self._local = LocalFeatureIndex()
        self._signatures: list[ImageSignature] = []
        self._keys: list[int] = []

    def __len__(self) -> int:
        return len(self._signatures)

    def keypoint_index_bytes(self) -> int:
        """Memory of the keypoint vote tables, bytes."""
        return self._keypoints.memory_bytes()

    def add(self, key: int, sig: ImageSignature) -> None:
        slot = len(self._signatures)
        self._signatures.append(sig)
        self._keys.append(key)
        for hashes in (sig.hashes, sig.trimmed):
            if hashes is None:
                continue
            for kind, index in self._hashes.items():
                index.add(int(hashes.of(kind)), slot)
        if sig.keypoints is not None and len(sig.keypoints):
            self._keypoints.add(sig.keypoints.descriptors[: self.config.voting_descriptors], slot)
        if sig.local is not None:
            self._local.add(sig.local.descriptors, slot)

    def _hash_candidates(self, listing: ImageSignature) -> list[int]:
        """Slots whose hashes agree with the listing image's: every variant (whole, content box, collage cells),
        plain and mirrored, looked up in one pass per hash kind. A slot counts once per (variant, kind) that
        finds it; it needs ``hash_min_agreeing``; the most agreeing first, at most 4 x ``max_keypoint_checks``."""
        variants = [listing.hashes] + ([listing.trimmed] if listing.trimmed else []) + [r.hashes for r in listing.regions]
        radius = self.config.hash_index_radius
        found = []
        for kind, index in self._hashes.items():
            values = [int(h.of(kind, mirrored=m)) for h in variants for m in (False, True)]
            found.append(index.query_many(values, radius)[1])
        slots, hits = np.unique(np.concatenate(found), return_counts=True)
        keep = hits >= self.config.hash_min_agreeing
        slots, hits = slots[keep], hits[keep]
        order = np.lexsort((slots, -hits))
        return slots[order][: 4 * self.config.max_keypoint_checks].tolist()

    def _votes(self, listing: ImageSignature) -> Counter[int]:
        votes: Counter[int] = Counter()
        for kp in (listing.keypoints, listing.keypoints_mirrored):
            if kp is not None and len(kp):
                votes.update(self._keypoints.votes(kp.descriptors))
        return votes

    def search(self, listing: ImageSignature, *, limit: int = 8) -> list[tuple[int, ImageComparison]]:
        """``[(key, ImageComparison)]`` of the references the listing image copies, best first (score, then
        key), at most ``limit``.

        Work per listing image is bounded, whatever the number of references:

        1. the hash candidates (at most 4 x ``max_keypoint_checks``) get the hash stage of
           :func:`~matching.image_match.compare_images` alone (hash distances, colours, guided coverage: no
           descriptor matching);
        2. a ``same_photo`` among them is decisive: the search stops there;
        3. otherwise the keypoint stage (ratio-test matching and RANSAC) runs on every hash
           candidate the hash stage did not confirm, the best voted first, and on the references the keypoint
           votes alone propose (at least ``min_votes``; the best ``max_keypoint_checks``)."""
        found: dict[int, ImageComparison] = {}
        doubtful: list[int] = []
        for slot in self._hash_candidates(listing):
            result = compare_images(listing, self._signatures[slot], config=self.config, keypoint_stage=False)
            if result.copied:
                found[slot] = result
            else:
                doubtful.append(slot)
        if listing.keypoints is not None and not any(r.kind == "same_photo" for r in found.values()):
            votes = self._votes(listing)
            proposed = set(doubtful) | found.keys()
            by_votes = sorted((s for s, n in votes.items() if n >= self.config.min_votes and s not in proposed),
                              key=lambda s: (-votes[s], s))[: self.config.max_keypoint_checks]
            ranked = sorted(doubtful, key=lambda s: (-votes.get(s, 0), s)) + by_votes
            for slot in ranked:
                result = compare_images(listing, self._signatures[slot], config=self.config, hash_stage=False,
                                        instance_stage=False)
                if result.copied:
                    found[slot] = result
        if listing.local is not None and not found:
            votes = Counter()
            for feats in (listing.local, listing.local_mirrored):
                if feats is not None and len(feats):
                    votes.update(self._local.votes(feats.descriptors))
            ranked = sorted((s for s, n in votes.items() if n >= self.config.instance_min_votes),
                            key=lambda s: (-votes[s], s))[: self.config.instance_checks]
            for slot in ranked:
                result = compare_images(listing, self._signatures[slot], config=self.config, hash_stage=False,
                                        keypoint_stage=False, instance_stage=True)
                if result.matched:
                    found[slot] = result
        best = sorted(found.items(), key=lambda kv: (-kv[1].score, self._keys[kv[0]]))[:limit]
        return [(self._keys[slot], result) for slot, result in best]
