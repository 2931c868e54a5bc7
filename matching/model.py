"""Plain input and output records of the matching engine.

Matching never touches the database, the network or an image file: the caller turns its rows into these
frozen records and gets :class:`MatchResult` records back. Images are :class:`matching.signature.ImageSignature`
values (computed by :func:`matching.images.compute_image_signature`, stored and read back through
:mod:`matching.signature_codec`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING

from matching.evidence import Evidence

if TYPE_CHECKING:  # the type only: importing this module must not load numpy (``review list`` starts fast)
    from matching.signature import ImageSignature

__all__ = [
    "CLASSES",
    "CLASS_LABELS",
    "CLASS_RANK",
    "CLEAN_CLASSES",
    "DIGEST_CLASSES",
    "INFRINGING_CLASSES",
    "NOTICE_SAFE_CLASSES",
    "BrandProfile",
    "ListingInput",
    "MatchResult",
    "ProductRef",
    "ReferenceImage",
    "may_report",
]

#: The classes a (listing, brand) pair can get, most serious first.
CLASSES: tuple[str, ...] = ("counterfeit", "lookalike", "other_goods", "accessory", "resale", "clean")
#: What each class means, for people (the review app, digests, ``review list``).
CLASS_LABELS: Mapping[str, str] = MappingProxyType({
    "counterfeit": "counterfeit: passes itself off as the brand",
    "lookalike": "lookalike: sells its own product by likening it to the brand",
    "other_goods": "mark on other goods: the brand's coined mark, word for word, on goods the brand does not sell",
    "accessory": "accessory: compatible or refill, not infringing by itself",
    "resale": "resale: genuine item offered second-hand or grey-market, not infringing by itself",
    "clean": "clean: nothing for this brand",
})
#: Queue order: suspects first, then the brand's coined mark on other goods, then accessories, then resales
#: (lower is shown first; ties by score).
CLASS_RANK: Mapping[str, int] = MappingProxyType({name: rank for rank, name in enumerate(CLASSES)})
#: Classes that infringe the brand by themselves.
INFRINGING_CLASSES = frozenset({"counterfeit", "lookalike"})
#: Classes a takedown notice may name without forcing: only infringing ones. An accessory names the brand
#: lawfully and a resale sells a genuine item; a notice against either costs the brand its standing. A mark on
#: other goods may infringe (a coined mark is strong) but whether it does depends on the goods and the
#: registration's classes: an analyst decides, and forces the notice.
NOTICE_SAFE_CLASSES = INFRINGING_CLASSES
#: Classes that mean "not a suspect of this brand": ``clean``, and ``genuine`` (a labelled world's word for the
#: brand's own offer, which some scorers return): such a result never creates a match.
CLEAN_CLASSES = frozenset({"clean", "genuine"})
#: Classes an owner may ask its digest for: every class but ``clean``.
DIGEST_CLASSES: tuple[str, ...] = tuple(name for name in CLASSES if name != "clean")


def may_report(klass: str) -> bool:
    """Whether a match of class ``klass`` may go into a takedown notice without being forced."""
    return klass in NOTICE_SAFE_CLASSES


@dataclass(frozen=True, slots=True)
class ReferenceImage:
    """One official photo of a product.

    ``ref_id`` is unique across all brands (e.g. the image's database id or its path); ``label`` is what a
    reason shows, e.g. ``"FLP-001 photo a"``; ``signature`` is the photo's signature.
    """

    ref_id: str
    label: str
    signature: ImageSignature


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
    are the signatures of the listing's images in listing order (image 1 is the first; the matcher looks at
    the first ``MatchConfig.image.max_listing_images``)."""

    listing_id: int | str
    title: str = ""
    description: str = ""
    seller: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    brand_text: str | None = None
    images: tuple[ImageSignature, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The verdict for one (listing, brand) pair.

    ``score`` is in [0, 1]; ``klass`` is one of :data:`CLASSES`; ``evidence`` holds every finding
    (:class:`~matching.evidence.Evidence`, strongest first) that ``score`` and ``klass`` were derived from,
    each with its signal's machine-readable ``details`` (see ``docs/matching.md``); ``reasons`` are the
    sentences a person can check against the listing, strongest first
    (:func:`matching.evidence.reasons_of` of the evidence).
    """

    brand_id: int | str
    product_sku: str | None
    score: float
    klass: str
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()

    @property
    def infringing(self) -> bool:
        """True for counterfeit and lookalike verdicts."""
        return self.klass in INFRINGING_CLASSES
