"""Every threshold and weight of seller-network finding, in one frozen, documented object.

:meth:`NetworkConfig.describe` lists the fields with their defaults and docstrings; ``docs/networks.md`` has
one row per field (a test keeps the two in step).
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field, fields

__all__ = ["NetworkConfig"]


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Thresholds and weights of :mod:`matching.networks`."""

    kind_strength: dict[str, float] = field(default_factory=lambda: {
        "seller_id": 1.0, "storefront": 1.0, "phone": 0.95, "email": 0.95, "handle": 0.95, "domain": 0.9,
        "photo": 0.85, "text": 0.8, "name": 0.5, "shop_ip": 0.45, "shop_template": 0.35,
    })
    """Strength of one piece of evidence of each kind while it is rare (shared by ``free_sharing`` sellers or fewer)."""
    strong_link: float = 0.8
    """A link at least this strong merges the networks of its two sellers."""
    weak_link: float = 0.25
    """A link below this is not kept; between ``weak_link`` and ``strong_link`` it is shown, never merges."""
    free_sharing: int = 4
    """Evidence shared by at most this many sellers keeps its full strength."""
    max_sharing: int = 12
    """Evidence shared by more sellers than this links nobody (a stock photo, a shipping agent's number)."""
    max_sharing_share: float = 0.05
    """...nor evidence shared by more than this share of all sellers, when that is fewer."""
    photo_distance: int = 6
    """Largest pHash Hamming distance (0-64) of two photos counted as the same photo (re-encoded, resized)."""
    official_distance: int = 10
    """A photo within this pHash distance of a brand's official photo is official: it links nobody."""
    text_similarity: float = 0.4
    """Smallest estimated Jaccard similarity of two descriptions' word shingles counted as near-duplicates."""
    shingle_words: int = 3
    """Words per shingle of a description."""
    min_shingles: int = 6
    """A description (after boilerplate sentences are removed) with fewer shingles is not compared."""
    minhash_permutations: int = 64
    """Hash functions of a description's MinHash (the estimate's error is about 1/sqrt of this)."""
    minhash_bands: int = 16
    """LSH bands over the MinHash; pairs sharing a band are compared (rows per band = permutations/bands)."""
    boilerplate_sellers: int = 4
    """A sentence found in the descriptions of more sellers than this is boilerplate and is removed first."""
    phone_regions: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "CN", "IN", "BR", "JP", "AU")
    """Regions tried, in order, for a phone number written without its country code on a page of no known region."""
    min_phone_digits: int = 8
    """Phone numbers with fewer national digits are ignored (order numbers, short codes)."""

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(name, default as written in the docs, docstring) of every field."""
        docs = _attribute_docs(cls)
        defaults = cls()
        out = []
        for f in fields(cls):
            value = getattr(defaults, f.name)
            out.append((f.name, _render(value), docs.get(f.name, "")))
        return out


def _render(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def _attribute_docs(cls: type) -> dict[str, str]:
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:], strict=False):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr) \
                and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs
