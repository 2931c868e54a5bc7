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
"""

from __future__ import annotations

from array import array
from collections import Counter
from itertools import combinations

import numpy as np

__all__ = ["HashIndex", "KeypointIndex"]

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
    """Multi-index hashing over unsigned 64-bit hashes; each stored hash carries an integer payload."""

    def __init__(self, *, max_chunk_flips: int = 2) -> None:
        self._tables: list[dict[int, list[int]]] = [{} for _ in range(_CHUNKS)]
        self._hashes: list[int] = []
        self._payloads: list[int] = []
        self._masks = _flip_masks(max_chunk_flips)
        #: Distances up to this are always found.
        self.guaranteed_radius = _CHUNKS * (max_chunk_flips + 1) - 1

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, value: int, payload: int) -> None:
        """Store hash ``value`` (0 <= value < 2**64) with ``payload``."""
        slot = len(self._hashes)
        self._hashes.append(value)
        self._payloads.append(payload)
        for c in range(_CHUNKS):
            self._tables[c].setdefault((value >> (c * _CHUNK_BITS)) & _CHUNK_MASK, []).append(slot)

    def query(self, value: int, radius: int) -> dict[int, int]:
        """``{payload: smallest distance}`` of stored hashes within ``radius`` bits of ``value`` (complete up
        to :attr:`guaranteed_radius`)."""
        seen: set[int] = set()
        out: dict[int, int] = {}
        for c in range(_CHUNKS):
            table = self._tables[c]
            chunk = (value >> (c * _CHUNK_BITS)) & _CHUNK_MASK
            for mask in self._masks:
                bucket = table.get(chunk ^ mask)
                if not bucket:
                    continue
                for slot in bucket:
                    if slot in seen:
                        continue
                    seen.add(slot)
                    dist = (self._hashes[slot] ^ value).bit_count()
                    if dist <= radius:
                        payload = self._payloads[slot]
                        if dist < out.get(payload, 65):
                            out[payload] = dist
        return out


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
