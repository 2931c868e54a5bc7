"""Near-duplicate descriptions: boilerplate removal, word shingles, MinHash and LSH banding.

A counterfeiting operation pastes one description into all its storefronts, with small edits; marketplaces
and shipping agents add sentences everyone shares. So:

1. :func:`sentences` splits a description into normalised sentences; a sentence found in the descriptions of
   more than ``NetworkConfig.boilerplate_sellers`` sellers is boilerplate (:func:`boilerplate`) and removed;
2. :func:`shingles` are the runs of ``shingle_words`` words of what is left;
3. :class:`MinHasher` signs a shingle set with ``minhash_permutations`` hash functions
   (``h(x) = (a*x + b) mod p`` over a 64-bit blake2b of the shingle, seeded: the same input gives the same
   signature in every process); the share of equal values estimates the Jaccard similarity;
4. :func:`candidate_pairs`: LSH banding, so only descriptions sharing one band of ``rows`` values are compared.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from matching.normalize import casefold, nfkc, strip_accents, strip_invisible

__all__ = ["MinHasher", "boilerplate", "candidate_pairs", "jaccard", "sentences", "shingles"]

_SENTENCE_RE = re.compile(r"(?<=[.!?。！？])\s+|\n+|\s[|•·]\s")
_WORD_RE = re.compile(r"\w+")
_PRIME = (1 << 61) - 1
#: Longest description read, in characters.
MAX_DESCRIPTION = 20_000


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(casefold(strip_accents(nfkc(strip_invisible(text)))))


def sentences(text: str | None) -> list[str]:
    """The description's sentences, each as its normalised words joined by one space (empty ones dropped)."""
    if not text:
        return []
    out = []
    for part in _SENTENCE_RE.split(text[:MAX_DESCRIPTION]):
        words = _words(part)
        if len(words) >= 3:
            out.append(" ".join(words))
    return out


def boilerplate(sentence_sets: Mapping[str, set[str]], *, max_sellers: int) -> set[str]:
    """Sentences found in the descriptions of more than ``max_sellers`` sellers (``{seller: sentences}``)."""
    counts = Counter(s for sents in sentence_sets.values() for s in sents)
    return {s for s, n in counts.items() if n > max_sellers}


def shingles(sents: Iterable[str], *, words: int) -> set[str]:
    """Runs of ``words`` words over the sentences joined (a short text gives its one whole run)."""
    tokens = " ".join(sents).split()
    if len(tokens) < words:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + words]) for i in range(len(tokens) - words + 1)}


class MinHasher:
    """MinHash signatures of ``permutations`` seeded hash functions."""

    def __init__(self, permutations: int, *, seed: int = 31) -> None:
        rng = random.Random(seed)
        self.params = [(rng.randrange(1, _PRIME), rng.randrange(0, _PRIME)) for _ in range(permutations)]

    def signature(self, items: Iterable[str]) -> tuple[int, ...]:
        values = [int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8).digest(), "big") for i in items]
        if not values:
            return ()
        return tuple(min((a * v + b) % _PRIME for v in values) for a, b in self.params)


def jaccard(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two MinHash signatures of the same hasher (0 when either is empty)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def candidate_pairs(signatures: Mapping[str, tuple[int, ...]], *, bands: int) -> set[tuple[str, str]]:
    """Pairs of keys (sorted) whose signatures agree on every value of at least one band."""
    buckets: dict[tuple[int, tuple[int, ...]], list[str]] = defaultdict(list)
    for key, sig in signatures.items():
        if not sig:
            continue
        rows = max(1, len(sig) // bands)
        for band in range(bands):
            chunk = sig[band * rows:(band + 1) * rows]
            if chunk:
                buckets[(band, chunk)].append(key)
    pairs: set[tuple[str, str]] = set()
    for keys in buckets.values():
        if len(keys) < 2:
            continue
        keys = sorted(set(keys))
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                pairs.add((a, b))
    return pairs
