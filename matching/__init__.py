"""Lookalike's matching engine: pure scoring of listings against registered brands.

Public API::

    from matching import Matcher, MatchConfig, BrandProfile, ProductRef, ReferenceImage, ListingInput
    from matching import Evidence, combine, classify, may_report
    from matching.images import compute_image_signature, ImageDecodeError
    from matching.signature import ImageSignature          # the one type of an image, stage to matcher
    from matching.signature_codec import encode, decode    # its stored form (an image_signatures row)

See ``docs/matching.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

# The public names resolve on first use (PEP 562): ``import matching.model`` must not load OpenCV and numpy
# through ``matching.images``, so the CLI and the review queue start fast.  Deferred: start-up time.
_SOURCES = {
    "classify": "matching.combine",
    "combine": "matching.combine",
    "MatchConfig": "matching.config",
    "Evidence": "matching.evidence",
    "ImageRegion": "matching.evidence",
    "TextSpan": "matching.evidence",
    "ImageDecodeError": "matching.images",
    "compute_image_signature": "matching.images",
    "Matcher": "matching.matcher",
    "CLASSES": "matching.model",
    "NOTICE_SAFE_CLASSES": "matching.model",
    "BrandProfile": "matching.model",
    "ListingInput": "matching.model",
    "MatchResult": "matching.model",
    "ProductRef": "matching.model",
    "ReferenceImage": "matching.model",
    "may_report": "matching.model",
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'matching' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SOURCES))


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
