"""Lookalike's matching engine: pure scoring of listings against registered brands.

Public API::

    from matching import Matcher, MatchConfig, BrandProfile, ProductRef, ReferenceImage, ListingInput
    from matching import Evidence, combine, classify, may_report
    from matching.images import compute_image_signature, ImageDecodeError

See ``docs/matching.md``.
"""

from matching.combine import classify, combine
from matching.config import MatchConfig
from matching.evidence import Evidence, ImageRegion, TextSpan
from matching.images import ImageDecodeError, compute_image_signature
from matching.matcher import Matcher
from matching.model import (
    CLASSES,
    NOTICE_SAFE_CLASSES,
    BrandProfile,
    ListingInput,
    MatchResult,
    ProductRef,
    ReferenceImage,
    may_report,
)

__all__ = [
    "CLASSES",
    "NOTICE_SAFE_CLASSES",
    "BrandProfile",
    "Evidence",
    "ImageRegion",
    "TextSpan",
    "classify",
    "combine",
    "may_report",
    "ImageDecodeError",
    "ListingInput",
    "MatchConfig",
    "MatchResult",
    "Matcher",
    "ProductRef",
    "ReferenceImage",
    "compute_image_signature",
]
