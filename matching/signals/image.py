"""The image signal: which listing photos copy which of the brands' official photos.

:class:`ReferencePhotos` indexes every official photo once (helper A's
:class:`~matching.image_index.ReferenceImageIndex`) and returns, per listing photo, the references it copies
as judged by :func:`matching.image_match.compare_images`: ``same_photo`` or ``edited_copy`` ("the same photo,
edited"), or ``same_packaging`` ("shows the brand's packaging": a new photo of the pack, found by the instance
stage, which is no copy of the photo but shows the product); a look-alike (``similar_style``: same kind of
object, or the same template with another name on the label) is neither. A
photo copies one product, so per listing photo only one brand's hits are kept (:func:`exclusive`).

:func:`image_evidence` turns a brand's hits into ``image`` evidence with the matched region to draw.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from matching.config import ImageMatchConfig
from matching.evidence import IMAGE_KIND_NAMES, Evidence, ImageRegion
from matching.image_index import ReferenceImageIndex
from matching.image_match import ImageComparison, ocr_near
from matching.signals.base import BrandView, ListingView
from matching.signature import ImageSignature

__all__ = ["ImageHit", "ReferencePhoto", "ReferencePhotos", "another_name", "exclusive", "image_evidence",
           "renamed"]


@dataclass(frozen=True, slots=True)
class ReferencePhoto:
    """One indexed official photo: ``slot`` in the index, the brand's slot, product SKU, label for reasons
    (``"FLP-001 photo a"``), its id and signature."""

    slot: int
    brand: int
    sku: str
    label: str
    ref_id: str
    signature: ImageSignature


@dataclass(frozen=True, slots=True)
class ImageHit:
    """Listing photo ``image_no`` (1-based) compared with ``ref``; ``comparison.kind`` says how alike."""

    image_no: int
    ref: ReferencePhoto
    comparison: ImageComparison

    @property
    def copied(self) -> bool:
        return self.comparison.copied

    @property
    def matched(self) -> bool:
        """A copy, or a new photo of the brand's packaging."""
        return self.comparison.matched


class ReferencePhotos:
    """The official photos of every brand, searchable by a listing photo through
    :class:`matching.image_index.ReferenceImageIndex` (cost flat in the number of photos); photos can be added at
    any time."""

    def __init__(self, config: ImageMatchConfig | None = None) -> None:
        self.photos: list[ReferencePhoto] = []
        self.config = config or ImageMatchConfig()
        self._index = ReferenceImageIndex(self.config)

    def __len__(self) -> int:
        return len(self.photos)

    def add(self, *, brand: int, sku: str, label: str, ref_id: str, signature: ImageSignature) -> None:
        """Index one photo."""
        ref = ReferencePhoto(len(self.photos), brand, sku, label, ref_id, signature)
        self.photos.append(ref)
        self._index.add(ref.slot, signature)

    def search(self, images: Sequence[ImageSignature]) -> list[ImageHit]:
        """Every copy of an official photo among the listing's photos (the first ``max_listing_images``), at
        most ``max_hits_per_photo`` per photo."""
        if not self.photos:
            return []
        hits: list[ImageHit] = []
        for image_no, sig in enumerate(images[: self.config.max_listing_images], start=1):
            hits.extend(ImageHit(image_no, self.photos[slot], comparison)
                        for slot, comparison in self._index.search(sig, limit=self.config.max_hits_per_photo))
        return hits


def _near_mark(word: str, marks: Collection[str]) -> bool:
    """``word`` is one of ``marks``: up to one OCR misread for marks of five letters or more, or a part of a
    mark of four letters or more read on its own ("lyfe" of Lyfeix: OCR often reads a label word short)."""
    return any(ocr_near(word, mark) or (len(mark) >= 4 and len(word) >= 3 and (word in mark or mark in word))
               for mark in marks)


def another_name(hit: ImageHit, photo: ImageSignature, *, marks: Collection[str], own_words: Collection[str],
                 is_everyday: Callable[[str], bool]) -> str | None:
    """The name another maker prints where this copy should carry the brand's, or None.

    ``photo`` is the listing photo of ``hit``; ``marks`` the brand's mark keys (lower-case letters). A name is
    a word read (OCR) inside the part of the photo that matched the official photo: letters only, at least
    4, not an everyday word (a sale badge, "new", "spray"), not a word of the listing's own text
    (``own_words``: a shop's watermark is usually its seller name). It counts only when none of the brand's
    marks is read anywhere in the photo (two neighbouring words joined, and a part of a mark read short,
    included): a copy keeps its label, a look-alike on the same template carries another name."""
    words, boxes, box = photo.text, photo.text_boxes, hit.comparison.listing_box
    if not words or boxes is None or box is None or not marks:
        return None
    joined = [a + b for a, b in zip(words, words[1:], strict=False)]
    if any(_near_mark(w, marks) for w in (*words, *joined)):
        return None
    left, top, right, bottom = box  # fractions of the photo, as the word boxes are
    for word, (l0, t0, r0, b0) in zip(words, boxes, strict=False):
        if len(word) < 4 or not word.isalpha() or word in own_words or is_everyday(word):
            continue
        x, y = (l0 + r0) / 2, (t0 + b0) / 2
        if left <= x <= right and top <= y <= bottom:
            return word
    return None


def renamed(hit: ImageHit, name: str) -> ImageHit:
    """``hit`` as a look-alike: the same template printed with another name (``text_conflict``)."""
    c = hit.comparison
    return replace(hit, comparison=replace(
        c, kind="similar_style", text_conflict=True,
        listing_words=(name, *(w for w in c.listing_words if w != name))[:8],
        reason=f"{c.reason}; the copied part shows another name, {name[:30]!r}, and not the brand's"))


def exclusive(hits: Sequence[ImageHit], *, named: set[int], consistent: set[int]) -> list[ImageHit]:
    """Keep, per listing photo, only one brand's hits: a photo copies one product, and the other references
    it resembles share a shop template with it (or sit beside it in a collage). A copy beats a similar style;
    then the brand named in the text (``named``), then one whose product words are in the listing
    (``consistent``), then the best comparison score."""
    def quality(h: ImageHit) -> tuple[bool, bool, bool, bool, float, int, int]:
        c = h.comparison
        return (c.matched, c.copied, h.ref.brand in named, h.ref.brand in consistent, c.score, c.inliers,
                -h.ref.slot)

    by_image: dict[int, list[ImageHit]] = {}
    for hit in hits:
        by_image.setdefault(hit.image_no, []).append(hit)
    kept: list[ImageHit] = []
    for image_hits in by_image.values():
        winner = max(image_hits, key=quality).ref.brand
        kept.extend(h for h in image_hits if h.ref.brand == winner)
    return kept


def _describe(hit: ImageHit, notes: Sequence[str]) -> str:
    """One sentence on how listing photo ``hit.image_no`` is like ``hit.ref``."""
    c = hit.comparison
    verb = {"same_photo": "is", "edited_copy": "copies", "same_packaging": "shows the packaging of",
            "similar_style": "resembles"}.get(c.kind, "resembles")
    what = IMAGE_KIND_NAMES.get(c.kind, c.kind)
    detail = "; ".join(x for x in (what, ", ".join(c.edits), *notes) if x)
    text = f"image {hit.image_no} {verb} {hit.ref.label} ({detail})"
    if c.text_conflict:
        text += f"; the photo's text ({', '.join(c.listing_words[:4])}) is not the label's"
    return text


def image_evidence(view: ListingView, brand: BrandView, *, hits: Sequence[ImageHit], has_mark: bool,
                   has_context: bool) -> Evidence | None:
    """``image`` evidence from the best hit of this brand: ``image_weight`` x the comparison score, times
    ``similar_style_factor`` for a similar style, and, when the text names none of the brand's marks, times
    ``unrelated_product_image_factor`` when neither the product's words nor the brand's context words are in
    the listing. ``details``: kind, method, edits, inliers, coverage, sku, text_conflict, words seen."""
    if not hits:
        return None
    best = max(hits, key=lambda h: (h.matched, h.copied, h.comparison.score, -h.image_no, -h.ref.slot))
    cfg = brand.config
    c = best.comparison
    strength = cfg.image_weight * c.score
    notes = []
    if not c.matched:
        strength *= cfg.similar_style_factor
    if not has_mark and not has_context and not (brand.product_words.get(best.ref.sku, frozenset()) & view.keys):
        strength *= cfg.unrelated_product_image_factor
        notes.append("none of the product's words in the listing")
    reason = _describe(best, notes)
    regions = tuple(
        ImageRegion(h.image_no, h.ref.ref_id, h.comparison.listing_box, h.comparison.reference_box,
                    h.comparison.kind, reason if h is best else _describe(h, ()))
        for h in sorted(hits, key=lambda h: (-h.comparison.score, h.image_no))[:4]
        if h.matched or h is best
    )
    details: Mapping[str, Any] = {
        "image_no": best.image_no, "ref": best.ref.label, "ref_id": best.ref.ref_id, "sku": best.ref.sku,
        "kind": c.kind, "method": c.method, "score": round(c.score, 4), "edits": list(c.edits),
        "inliers": c.inliers, "coverage": round(c.coverage, 3), "rotation": round(c.rotation, 1),
        "scale": round(c.scale, 3), "text_conflict": c.text_conflict,
        "listing_words": list(c.listing_words[:8]), "reference_words": list(c.reference_words[:8]),
    }
    disguise = next((e for e in ("part of a collage", "cropped", "rotated", "recoloured", "mirrored", "padded")
                     if e in c.edits), None)
    return Evidence("image", strength, reason, regions=regions, disguise=disguise, details=details)
