"""Plain input and output records of the matching engine.

Matching never touches the database, the network or an image file: the caller turns its rows into these
frozen records (image signatures come from :func:`matching.images.compute_image_signature`, stored in the
``images.hashes`` JSON column) and gets :class:`MatchResult` records back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["BrandProfile", "ListingInput", "MatchResult", "ProductRef", "ReferenceImage", "CLASSES"]

#: The classes a (listing, brand) pair can get, most serious first.
CLASSES: tuple[str, ...] = ("counterfeit", "lookalike", "accessory", "clean")


@dataclass(frozen=True, slots=True)
class ReferenceImage:
    """One official photo of a product.

    ``ref_id`` is unique across all brands (e.g. the image's database id or its path); ``label`` is what a
    reason shows, e.g. ``"FLP-001 photo a"``; ``signature`` is the dict from ``compute_image_signature``.
    """

    ref_id: str
    label: str
    signature: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A registered product: SKU, name, MSRP (a decimal amount in ``currency``, ISO 4217) and photos."""

    sku: str
    name: str
    msrp: Decimal | None = None
    currency: str | None = None
    images: tuple[ReferenceImage, ...] = ()


@dataclass(frozen=True, slots=True)
class BrandProfile:
    """A registered brand as matching sees it.

    ``marks`` holds the brand name first, then its aliases. ``keywords`` are the brand's trade words
    (needed to tell an ordinary-word mark from the ordinary word). ``thresholds`` are per-brand overrides
    of :class:`matching.config.MatchConfig` fields (``{"infringing_threshold": 0.6}``).
    """

    brand_id: int | str
    name: str
    marks: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    category: str | None = None
    authorized_sellers: tuple[str, ...] = ()
    products: tuple[ProductRef, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListingInput:
    """One crawled listing. ``price`` is a decimal amount in ``currency`` (ISO 4217) or None; ``images``
    are the signatures of the listing's images in listing order (image 1 is the first)."""

    listing_id: int | str
    title: str = ""
    description: str = ""
    seller: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    brand_text: str | None = None
    images: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The verdict for one (listing, brand) pair.

    ``score`` is in [0, 1]; ``klass`` is one of :data:`CLASSES`; ``signals`` is a JSON-serialisable dict
    of the machine-readable evidence (see ``docs/matching.md``); ``reasons`` are sentences a person can
    check against the listing.
    """

    brand_id: int | str
    product_sku: str | None
    score: float
    klass: str
    signals: dict[str, Any]
    reasons: tuple[str, ...]

    @property
    def infringing(self) -> bool:
        """True for counterfeit and lookalike verdicts."""
        return self.klass in ("counterfeit", "lookalike")
