"""Lookalike's matching engine: pure scoring of listings against registered brands.

Public API::

    from matching import Matcher, MatchConfig, BrandProfile, ProductRef, ReferenceImage, ListingInput
    from matching.images import compute_image_signature, ImageDecodeError

See ``docs/matching.md``.
"""

from matching.config import MatchConfig
from matching.images import ImageDecodeError, compute_image_signature
from matching.matcher import Matcher
from matching.model import CLASSES, BrandProfile, ListingInput, MatchResult, ProductRef, ReferenceImage

__all__ = [
    "CLASSES",
    "BrandProfile",
    "ImageDecodeError",
    "ListingInput",
    "MatchConfig",
    "MatchResult",
    "Matcher",
    "ProductRef",
    "ReferenceImage",
    "compute_image_signature",
]
