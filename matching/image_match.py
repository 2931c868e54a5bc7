"""Comparing one listing image with one reference image, from their signatures only.

:func:`compare_images` answers with a typed :class:`ImageComparison`: a score (0-1), a kind (``same_photo``,
``edited_copy``, ``similar_style`` or ``different``), the matched region in both images, the edits seen and the
words the two photos carry. It works in two stages, the second only when the first leaves doubt:

1. **Hashes** (cheap). pHash, dHash and wHash of the whole image, of its content box (padding cut off) and of
   each collage cell, plain and mirrored, against the reference's. A pair with ``hash_min_agreeing`` kinds
   within ``hash_max_distance`` gives a box-to-box transform. Grey hashes agree for any two packshots made
   from one template, so the pair is then checked in detail through that transform: the share of the
   reference's keypoints that find a keypoint with a near descriptor where the transform puts them
   (*guided coverage*, no search). A copy keeps its label, its text and its texture; a template look-alike
   shares only the outline.
2. **Keypoints** (for doubtful pairs). ORB descriptors matched with a ratio test and a RANSAC similarity
   transform (rotation, scale, shift): a tight crop, a rotation, a replaced background or a small collage cell.
   The inliers must be many, a fair share of the tentative matches, and spread over the part of the
   reference that the listing shows (chance inliers cluster).

Colours do not decide (a recoloured copy is still a copy): a colour change through the transform is reported as
the edit ``recoloured``. Photo text (OCR) decides a doubtful pair: when both photos carry words and share none
(the same template with another name on the label), the pair is ``similar_style``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from rapidfuzz.distance import OSA

from matching.config import ImageMatchConfig
from matching.signature import HashSet, ImageSignature, Keypoints

__all__ = ["KINDS", "ImageComparison", "ImageMatchConfig", "color_changed", "compare_images", "guided_coverage",
           "instance_match", "ocr_near", "text_conflict"]

#: Kinds of :class:`ImageComparison`, closest first. Only the first two mean "copied" ("the same photo,
#: edited"); ``same_packaging`` is a new photo that shows the reference's pack ("shows the brand's packaging").
KINDS = ("same_photo", "edited_copy", "same_packaging", "similar_style", "different")
Box = tuple[float, float, float, float]


#: The default image thresholds (``MatchConfig().image``).
DEFAULT_CONFIG = ImageMatchConfig()


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageComparison:
    """How a listing image relates to one reference image. Boxes are (left, top, right, bottom) as
    fractions 0-1 of each image's width and height. Built with keywords only."""

    score: float
    """0-1, by kind (the bands are :class:`~matching.config.ImageMatchConfig` fields): ``same_photo_score``
    (1.0); an edited copy from ``hash_copy_score`` or ``keypoint_copy_score`` up to ``copy_score_max`` (0.6-0.95);
    ``similar_style_score`` (0.25); 0 for different."""
    kind: str
    """One of :data:`KINDS`."""
    method: str
    """``hashes``, ``keypoints`` (ORB), ``instance`` (SIFT and a homography) or ``none``."""
    listing_box: Box | None
    reference_box: Box | None
    edits: tuple[str, ...]
    """Edits seen: ``mirrored``, ``padded``, ``cropped``, ``rotated``, ``scaled``, ``part of a collage``,
    ``recoloured``."""
    inliers: int
    """Keypoints confirmed (guided matches or RANSAC inliers)."""
    coverage: float
    """Share of the reference keypoints inside the matched part that were found again."""
    rotation: float
    """Degrees, counter-clockwise, of the reference within the listing image."""
    scale: float
    """Size of the reference within the listing image, analysed pixels per analysed pixel."""
    listing_words: tuple[str, ...]
    reference_words: tuple[str, ...]
    text_conflict: bool
    """Both photos carry words and share none (another name on the same template)."""
    reason: str
    """One line for people."""

    @property
    def copied(self) -> bool:
        """The same photo, edited or not."""
        return self.kind in ("same_photo", "edited_copy")

    @property
    def matched(self) -> bool:
        """A copy, or a new photo that shows the reference's packaging."""
        return self.kind in ("same_photo", "edited_copy", "same_packaging")

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of every field (boxes rounded to 3 decimals)."""
        def r(box: Box | None) -> list[float] | None:
            return [round(v, 3) for v in box] if box else None
        return {"score": round(self.score, 3), "kind": self.kind, "method": self.method,
                "listing_box": r(self.listing_box), "reference_box": r(self.reference_box),
                "edits": list(self.edits), "inliers": self.inliers, "coverage": round(self.coverage, 3),
                "rotation": round(self.rotation, 1), "scale": round(self.scale, 3),
                "listing_words": list(self.listing_words), "reference_words": list(self.reference_words),
                "text_conflict": self.text_conflict, "reason": self.reason}


def _different(listing: ImageSignature, reference: ImageSignature, reason: str = "no agreement") -> ImageComparison:
    return ImageComparison(score=0.0, kind="different", method="none", listing_box=None, reference_box=None,
                           edits=(), inliers=0, coverage=0.0, rotation=0.0, scale=1.0,
                           listing_words=listing.text or (), reference_words=reference.text or (),
                           text_conflict=False, reason=reason)


# --- geometry helpers ----------------------------------------------------------------------------------------
def _affine(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def _apply(t: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ t[:2, :2].T + t[:2, 2]


def _mirror(width: float) -> np.ndarray:
    return np.array([[-1.0, 0.0, width], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def _box_to_box(src: Box, dst: Box) -> np.ndarray:
    sx = (dst[2] - dst[0]) / max(1e-6, src[2] - src[0])
    sy = (dst[3] - dst[1]) / max(1e-6, src[3] - src[1])
    return np.array([[sx, 0.0, dst[0] - src[0] * sx], [0.0, sy, dst[1] - src[1] * sy], [0.0, 0.0, 1.0]])


def _corners(box: Box) -> np.ndarray:
    return np.array([[box[0], box[1]], [box[2], box[1]], [box[0], box[3]], [box[2], box[3]]], dtype=np.float64)


def _bbox(pts: np.ndarray) -> Box:
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _clip(box: Box, size: tuple[int, int]) -> Box | None:
    left, top = max(0.0, box[0]), max(0.0, box[1])
    right, bottom = min(float(size[0]), box[2]), min(float(size[1]), box[3])
    return (left, top, right, bottom) if right > left and bottom > top else None


def _fractions(box: Box | None, size: tuple[int, int]) -> Box | None:
    if box is None:
        return None
    w, h = size
    return box[0] / w, box[1] / h, box[2] / w, box[3] / h


def _area(box: Box | None) -> float:
    return 0.0 if box is None else max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _spans(box: Box, sig: ImageSignature, share: float) -> bool:
    """Whether ``box`` (analysed pixels of ``sig``) spans at least ``share`` of the image's width and height."""
    w, h = sig.analysed_size
    return box[2] - box[0] >= share * w and box[3] - box[1] >= share * h


def _full(sig: ImageSignature) -> Box:
    return 0.0, 0.0, float(sig.analysed_size[0]), float(sig.analysed_size[1])


def _content(sig: ImageSignature) -> Box:
    return tuple(float(v) for v in sig.content_box) if sig.content_box else _full(sig)  # type: ignore[return-value]


# --- the checks ----------------------------------------------------------------------------------------------
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _hamming_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances of descriptor rows a[i] and b[i] (uint8 (n, 32) each)."""
    return _POPCOUNT[np.bitwise_xor(a, b)].sum(axis=1, dtype=np.int32)


def _listing_keypoints(listing: ImageSignature, mirrored: bool) -> tuple[Keypoints | None, np.ndarray]:
    """The listing keypoints to compare with, and the map from listing-image pixels into their frame."""
    if mirrored:
        return listing.keypoints_mirrored, _mirror(float(listing.analysed_size[0]))
    return listing.keypoints, np.eye(3)


def guided_coverage(listing: ImageSignature, reference: ImageSignature, to_listing: np.ndarray, ref_part: Box,
                    *, mirrored: bool, config: ImageMatchConfig = DEFAULT_CONFIG) -> tuple[float, int] | None:
    """(coverage, found): of the reference keypoints inside ``ref_part`` that ``to_listing`` (3x3, reference
    pixels -> listing pixels) puts inside the listing image, the share with a listing keypoint within
    ``guided_radius`` whose descriptor is within ``descriptor_distance``. None when either side has no
    keypoints or fewer than 8 reference keypoints qualify."""
    lkp, frame = _listing_keypoints(listing, mirrored)
    rkp = reference.keypoints
    if lkp is None or rkp is None or len(lkp) == 0 or len(rkp) == 0:
        return None
    rxy = rkp.xy.astype(np.float64)
    inside = ((rxy[:, 0] >= ref_part[0]) & (rxy[:, 0] <= ref_part[2]) & (rxy[:, 1] >= ref_part[1])
              & (rxy[:, 1] <= ref_part[3]))
    mapped = _apply(frame @ to_listing, rxy)
    w, h = listing.analysed_size
    inside &= (mapped[:, 0] >= 0) & (mapped[:, 0] < w) & (mapped[:, 1] >= 0) & (mapped[:, 1] < h)
    idx = np.flatnonzero(inside)
    if len(idx) < 8:
        return None
    # The radius grows with the transform's scale (a keypoint is as exact as its pyramid level).
    scale = float(np.sqrt(abs(np.linalg.det(to_listing[:2, :2]))))
    radius = config.guided_radius * max(1.0, scale)
    d2 = ((mapped[idx, None, :] - lkp.xy[None, :, :].astype(np.float64)) ** 2).sum(axis=2)
    ri, li = np.nonzero(d2 <= radius * radius)
    if len(ri) == 0:
        return 0.0, 0
    dist = _hamming_pairs(rkp.descriptors[idx[ri]], lkp.descriptors[li])
    ok = dist <= config.descriptor_distance
    found = len(np.unique(ri[ok]))
    return found / len(idx), found


def _detail_points(reference: ImageSignature, part: Box) -> np.ndarray | None:
    """At most about 196 of the reference's keypoints inside ``part``, or None below 20 of them."""
    kp = reference.keypoints
    if kp is None or not len(kp):
        return None
    xy = kp.xy.astype(np.float64)
    xy = xy[(xy[:, 0] >= part[0]) & (xy[:, 0] <= part[2]) & (xy[:, 1] >= part[1]) & (xy[:, 1] <= part[3])]
    return xy[:: max(1, len(xy) // 196)] if len(xy) >= 20 else None


def color_changed(listing: ImageSignature, reference: ImageSignature, to_listing: np.ndarray, ref_part: Box,
                  *, config: ImageMatchConfig = DEFAULT_CONFIG, on_details: bool = False) -> float:
    """Share (0-1) of points sampled over ``ref_part`` whose thumbnail colour differs by more than
    ``color_distance`` from every listing thumbnail cell around where ``to_listing`` puts them; 1.0 when the
    mapped points mostly fall outside the listing image. With ``on_details`` the points are the reference's
    keypoints in ``ref_part`` (at least 20 of them; the grid otherwise): the product's own colours, not a
    background that a copy may have replaced."""
    rgrid, lgrid = reference.thumb_array(), listing.thumb_array()
    n = rgrid.shape[0]
    (rw, rh), (lw, lh) = reference.analysed_size, listing.analysed_size
    pts = _detail_points(reference, ref_part) if on_details else None
    if pts is None:
        xs = np.linspace(ref_part[0], ref_part[2], 16)[1:-1]
        ys = np.linspace(ref_part[1], ref_part[3], 16)[1:-1]
        pts = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    colors = rgrid[np.minimum((pts[:, 1] / rh * n).astype(int), n - 1), np.minimum((pts[:, 0] / rw * n).astype(int), n - 1)]
    mapped = _apply(to_listing, pts)
    inside = (mapped[:, 0] >= 0) & (mapped[:, 0] < lw) & (mapped[:, 1] >= 0) & (mapped[:, 1] < lh)
    if inside.sum() < 0.3 * len(pts):
        return 1.0
    lu = np.minimum((mapped[inside, 0] / lw * n).astype(int), n - 1)
    lv = np.minimum((mapped[inside, 1] / lh * n).astype(int), n - 1)
    padded = np.pad(lgrid, ((1, 1), (1, 1), (0, 0)), mode="edge")
    wanted = colors[inside]
    best = np.full(len(lu), np.inf, dtype=np.float32)
    for du in (0, 1, 2):
        for dv in (0, 1, 2):
            diff = padded[lv + dv, lu + du] - wanted
            best = np.minimum(best, (diff * diff).sum(axis=1))
    return float((best > config.color_distance ** 2).mean())


def _hash_variants(sig: ImageSignature, *, listing: bool) -> list[tuple[str, Box, HashSet]]:
    """(name, box in analysed pixels, hashes): the whole image, its content box, and (listing side only)
    each collage region."""
    out = [("whole", _full(sig), sig.hashes)]
    if sig.trimmed is not None and sig.content_box is not None:
        out.append(("trimmed", _content(sig), sig.trimmed))
    if listing:
        out.extend(("region", tuple(float(v) for v in r.box), r.hashes) for r in sig.regions)  # type: ignore[misc]
    return out


def _best_hash_pair(listing: ImageSignature, reference: ImageSignature, config: ImageMatchConfig):
    """The variant pair (and mirroring) whose hashes agree best: most kinds within ``hash_max_distance``, then
    the smallest summed distance; None below ``hash_min_agreeing``."""
    best = None
    listing_variants = [(name, box, mirrored, hashes.mirrored() if mirrored else hashes)
                        for name, box, hashes in _hash_variants(listing, listing=True) for mirrored in (False, True)]
    for r_name, r_box, r_hashes in _hash_variants(reference, listing=False):
        for l_name, l_box, mirrored, hashes in listing_variants:
            d = hashes - r_hashes  # (pHash, dHash, wHash) Hamming distances
            agreeing = sum(x <= config.hash_max_distance for x in d)
            if agreeing < config.hash_min_agreeing:
                continue
            key = (agreeing, -sum(d))
            if best is None or key > best[0]:
                best = (key, d, r_name, r_box, l_name, l_box, mirrored)
    return best


def ocr_near(a: str, b: str) -> bool:
    """Equal, or (both at least 5 letters) one substitution, insertion or deletion apart: OCR misreads."""
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _label_words(words: tuple[str, ...] | None) -> set[str]:
    """Words that can name a maker: letters only, at least 4 (OCR noise on texture is mostly shorter)."""
    return {w for w in words or () if len(w) >= 4 and w.isalpha()}


def _read_in(listing: ImageSignature, words: set[str]) -> set[str]:
    """Those of ``words`` read (up to one OCR misread) anywhere in the listing photo."""
    return {r for r in words if any(ocr_near(r, w) for w in listing.text or ())}


def text_agrees(listing: ImageSignature, reference: ImageSignature) -> bool:
    """A label word of the reference is read (up to one OCR misread) in the listing photo."""
    return bool(_read_in(listing, _label_words(reference.text)))


def _colour_doubt(listing: ImageSignature, reference: ImageSignature, to_listing: np.ndarray, ref_part: Box,
                  coverage: float, config: ImageMatchConfig) -> float | None:
    """The share of the product's colours (sampled at the reference's details, so a replaced background does
    not count) that changed, when a hash-stage copy is in doubt over them: beyond ``recolour_doubt`` without
    the details in place or a label word to show it is the same photo (see
    :class:`~matching.config.ImageMatchConfig`); None otherwise. The keypoint stage is not held to it: a crop,
    a turn, a replaced background or a collage cell keeps fewer details in place, and the robustness set lost
    a third of its replaced backgrounds when it was."""
    if coverage >= config.recoloured_min_coverage:
        return None
    changed = color_changed(listing, reference, to_listing, ref_part, config=config, on_details=True)
    if changed <= config.recolour_doubt or text_agrees(listing, reference):
        return None
    return changed


def _misread(a: str, b: str) -> bool:
    """``a`` may be an OCR misreading of ``b``: at most a third of the longer word's letters apart ("rnaranc"
    for "maranc")."""
    return OSA.distance(a, b) <= max(1, max(len(a), len(b)) // 3)


def text_conflict(listing: ImageSignature, reference: ImageSignature, to_listing: np.ndarray | None = None) -> bool:
    """The same template printed with another name: both photos carry label words and

    - without ``to_listing`` or word places: no word of the reference is read (up to one OCR misread)
      anywhere in the listing;
    - with ``to_listing`` (3x3, reference analysed pixels -> listing analysed pixels) and the word places: a
      reference label word that is not read in the listing has a label word of the listing's own where it
      should be (a word the reference does not carry, nor a misreading of that word). Words both carry (the
      product's noun on the same template) do not lift it; a sale banner elsewhere is no conflict."""
    lw, rw = _label_words(listing.text), _label_words(reference.text)
    if not lw or not rw:
        return False
    read = _read_in(listing, rw)
    if to_listing is None or listing.text_boxes is None or reference.text_boxes is None:
        return not read
    own = {w for w in lw if not any(ocr_near(r, w) for r in rw)}
    if not own or read == rw:
        return False
    (rw_px, rh_px), (lw_px, lh_px) = reference.analysed_size, listing.analysed_size
    listing_places = [
        (w, (b[0] + b[2]) / 2 * lw_px, (b[1] + b[3]) / 2 * lh_px)
        for w, b in zip(listing.text or (), listing.text_boxes, strict=False) if w in own
    ]
    for word, box in zip(reference.text or (), reference.text_boxes, strict=False):
        if word not in rw or word in read:
            continue
        corners = _corners((box[0] * rw_px, box[1] * rh_px, box[2] * rw_px, box[3] * rh_px))
        l0, t0, r0, b0 = _bbox(_apply(to_listing, corners))
        pad = max(b0 - t0, 1.0)  # one line height around the word
        if any(l0 - pad <= x <= r0 + pad and t0 - pad <= y <= b0 + pad and not _misread(w, word)
               for w, x, y in listing_places):
            return True
    return False


def _ransac(listing: ImageSignature, reference: ImageSignature, mirrored: bool, config: ImageMatchConfig):
    """(to_listing 3x3, inliers, inlier ref points, matches) or None."""
    lkp, frame = _listing_keypoints(listing, mirrored)
    rkp = reference.keypoints
    if lkp is None or rkp is None or len(lkp) < 2 or len(rkp) < config.min_inliers:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(rkp.descriptors, lkp.descriptors, k=2)
    good = []
    for pair in pairs:
        unique = (len(pair) == 2 and pair[0].distance < config.ratio_test * pair[1].distance
                  and pair[0].distance <= config.ratio_max_distance)
        if unique or (len(pair) == 1 and pair[0].distance <= config.lone_match_distance):
            good.append(pair[0])
    if len(good) < config.min_inliers:
        return None
    src = np.float32([rkp.xy[m.queryIdx] for m in good]).reshape(-1, 1, 2)
    dst = np.float32([lkp.xy[m.trainIdx] for m in good]).reshape(-1, 1, 2)
    # RANSAC draws from OpenCV's per-thread generator: seed it so that a score never depends on which thread,
    # process or earlier call ran before.
    cv2.setRNGSeed(RANSAC_SEED)
    transform, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=config.ransac_reprojection,
        maxIters=config.ransac_max_iterations, confidence=config.ransac_confidence,
        refineIters=config.ransac_refine_iterations)
    if transform is None or mask is None:
        return None
    keep = mask.ravel().astype(bool)
    inliers = int(keep.sum())
    if inliers < config.min_inliers or inliers < config.min_inlier_ratio * len(good):
        return None
    to_listing = np.linalg.inv(frame) @ _affine(transform.astype(np.float64))
    return to_listing, inliers, src.reshape(-1, 2)[keep].astype(np.float64), len(good)


def _visible_part(listing: ImageSignature, reference: ImageSignature, to_listing: np.ndarray, ref_box: Box
                  ) -> Box | None:
    """The part of ``ref_box`` (reference pixels) that lands inside the listing image."""
    back = np.linalg.inv(to_listing)
    frame = _bbox(_apply(back, _corners(_full(listing))))
    inter = (max(frame[0], ref_box[0]), max(frame[1], ref_box[1]), min(frame[2], ref_box[2]), min(frame[3], ref_box[3]))
    return inter if inter[2] > inter[0] and inter[3] > inter[1] else None


def _edits(listing: ImageSignature, reference: ImageSignature, to_listing: np.ndarray, ref_part: Box,
           *, mirrored: bool, padded: bool, region: bool, recoloured: bool) -> tuple[tuple[str, ...], float, float, Box | None]:
    lin = np.linalg.inv(_mirror(float(listing.analysed_size[0]))) @ to_listing if mirrored else to_listing
    # Image y runs down: a turn that looks counter-clockwise has a negative angle in pixel coordinates.
    rotation = -float(np.degrees(np.arctan2(lin[1, 0], lin[0, 0])))
    if mirrored:
        rotation = -rotation
    scale = float(np.sqrt(abs(np.linalg.det(to_listing[:2, :2]))))
    listing_box = _clip(_bbox(_apply(to_listing, _corners(ref_part))), listing.analysed_size)
    edits = []
    if mirrored:
        edits.append("mirrored")
    if padded:
        edits.append("padded")
    if _area(ref_part) < 0.9 * _area(_content(reference)):
        edits.append("cropped")
    if abs(rotation) >= 3 and abs(abs(rotation) - 180) >= 3:
        edits.append("rotated")
    if region or _area(listing_box) < 0.5 * _area(_full(listing)):
        edits.append("part of a collage")
    if recoloured:
        edits.append("recoloured")
    return tuple(edits), rotation, scale, listing_box


def compare_images(listing: ImageSignature, reference: ImageSignature, *,
                   config: ImageMatchConfig = DEFAULT_CONFIG, keypoints: bool = True,
                   hash_stage: bool = True, keypoint_stage: bool = True,
                   instance_stage: bool | None = None) -> ImageComparison:
    """Compare one listing image with one reference image (see the module doc). With ``keypoints`` False only
    the hash stage runs (a hash match is then confirmed by agreeing colours instead of guided coverage).
    ``hash_stage`` False skips straight to keypoints (the index does, for references its hash search did not
    propose). ``keypoint_stage`` False stops after the hash stage (guided coverage still confirms): the index
    runs the keypoint stage itself, ``hash_stage=False``, only for the doubtful references worth it.
    ``instance_stage`` (default: as ``keypoint_stage``) runs the SIFT stage (:func:`instance_match`) when
    nothing before it confirmed a copy: "the same photo, edited" or "shows the brand's packaging"."""
    lw, rw = listing.text or (), reference.text or ()
    conflict = False
    style_hint: ImageComparison | None = None
    best = _best_hash_pair(listing, reference, config) if hash_stage else None
    if best is not None:
        _key, d, r_name, r_box, l_name, l_box, mirrored = best
        t = _box_to_box(r_box, l_box)
        if mirrored:
            # The listing variant's box is mirrored inside the listing: map x within that box.
            flip = np.array([[-1.0, 0.0, l_box[0] + l_box[2]], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            t = flip @ t
        changed = color_changed(listing, reference, t, r_box, config=config)
        cov = guided_coverage(listing, reference, t, r_box, mirrored=mirrored, config=config) if keypoints else None
        small = _area(l_box) < config.collage_cell_share * _area(r_box)  # too few keypoints there to count
        by_colours = cov is None or small
        doubt = None
        if by_colours:
            coverage, found = cov or (0.0, 0)
            confirmed = changed <= config.color_max_changed
        else:
            coverage, found = cov
            confirmed = coverage >= config.min_coverage
            if confirmed:
                doubt = _colour_doubt(listing, reference, t, r_box, coverage, config)
                confirmed = doubt is None
        # Mirrored print reads as low-confidence noise (dropped), so a mirrored copy shows no label words; word
        # places are compared only for unmirrored pairs. (Skipping the check for mirrored pairs was tried: a
        # left-right symmetric packshot matches its template look-alike mirrored too, and then passed.)
        conflict = text_conflict(listing, reference, None if mirrored else t)
        if confirmed and not conflict:
            edits, rotation, scale, lbox = _edits(listing, reference, t, r_box, mirrored=mirrored,
                                                  padded=(l_name == "trimmed") != (r_name == "trimmed"),
                                                  region=l_name == "region",
                                                  recoloured=changed > config.color_max_changed
                                                  and _spans(l_box, listing, config.recolour_min_span))
            same = sum(d) <= config.same_photo_distance and not edits
            score = config.same_photo_score if same else min(
                config.copy_score_max, config.hash_copy_score + config.hash_copy_coverage_score * coverage)
            what = "the same photo as" if same else "an edited copy of"
            reason = (f"{what} the reference (pHash {d[0]}, dHash {d[1]}, wHash {d[2]} bits of 64"
                      + (f", {found} keypoints in place" if cov is not None else "")
                      + (f"; {', '.join(edits)}" if edits else "") + ")")
            return ImageComparison(score=score, kind="same_photo" if same else "edited_copy", method="hashes",
                                   listing_box=_fractions(lbox, listing.analysed_size),
                                   reference_box=_fractions(r_box, reference.analysed_size), edits=edits,
                                   inliers=found, coverage=coverage, rotation=rotation, scale=scale,
                                   listing_words=lw, reference_words=rw, text_conflict=conflict, reason=reason)
        why = "another name on the label" if conflict else (
            f"{changed:.0%} of its colours changed" if by_colours else
            f"{doubt:.0%} of its colours changed with only {coverage:.0%} of its details in place" if doubt is not None else
            f"only {coverage:.0%} of its details in place")
        seen = _clip(_bbox(_apply(t, _corners(r_box))), listing.analysed_size)
        style_hint = ImageComparison(score=config.similar_style_score, kind="similar_style", method="hashes",
                                     listing_box=_fractions(seen, listing.analysed_size),
                                     reference_box=_fractions(r_box, reference.analysed_size), edits=(),
                                     inliers=found, coverage=coverage, rotation=0.0, scale=1.0,
                                     listing_words=lw, reference_words=rw, text_conflict=conflict,
                                     reason=f"looks like the reference (hashes agree) but {why}")
    orb_hint = None
    if keypoints and keypoint_stage:
        result = _keypoint_stage(listing, reference, config)
        if result is not None and result.copied:
            return result
        orb_hint = result
    hint = style_hint or orb_hint
    if keypoints and (keypoint_stage if instance_stage is None else instance_stage) and not (
            hint is not None and hint.text_conflict):
        found = instance_match(listing, reference, config=config)
        if found is not None and (found.matched or hint is None):
            return found
    return hint or _different(listing, reference)


def _keypoint_stage(listing: ImageSignature, reference: ImageSignature, config: ImageMatchConfig
                    ) -> ImageComparison | None:
    lw, rw = listing.text or (), reference.text or ()
    best = None
    for mirrored in (False, True):
        found = _ransac(listing, reference, mirrored, config)
        if found is not None and (best is None or found[1] > best[1][1]):
            best = (mirrored, found)
    if best is None:
        return None
    mirrored, (t, inliers, ref_pts, n_matches) = best
    scale = float(np.sqrt(abs(np.linalg.det(t[:2, :2]))))
    if not 0.1 <= scale <= 10:
        return None
    part = _visible_part(listing, reference, t, _content(reference))
    if part is None:
        return None
    # Chance inliers cluster on one texture: unless they are many, they must spread over a fair share of the
    # area the reference's own keypoints cover in the visible part.
    rxy = reference.keypoints.xy.astype(np.float64) if reference.keypoints is not None else ref_pts
    own = rxy[(rxy[:, 0] >= part[0]) & (rxy[:, 0] <= part[2]) & (rxy[:, 1] >= part[1]) & (rxy[:, 1] <= part[3])]
    spread = _area(_bbox(ref_pts)) / max(1.0, _area(_bbox(own)) if len(own) else 1.0)
    if spread < config.min_spread and inliers < 3 * config.min_inliers:
        return None
    cov = guided_coverage(listing, reference, t, part, mirrored=mirrored, config=config)
    coverage = cov[0] if cov else 0.0
    changed = color_changed(listing, reference, t, part, config=config)
    visible = _clip(_bbox(_apply(t, _corners(part))), listing.analysed_size)
    edits, rotation, _, lbox = _edits(listing, reference, t, part, mirrored=mirrored, padded=False, region=False,
                                      recoloured=changed > config.color_max_changed
                                      and visible is not None and _spans(visible, listing, config.recolour_min_span))
    conflict = text_conflict(listing, reference, None if mirrored else t)
    if conflict:
        return ImageComparison(score=config.similar_style_score, kind="similar_style", method="keypoints",
                               listing_box=_fractions(lbox, listing.analysed_size),
                               reference_box=_fractions(part, reference.analysed_size), edits=edits,
                               inliers=inliers, coverage=coverage, rotation=rotation, scale=scale,
                               listing_words=lw, reference_words=rw, text_conflict=True,
                               reason=f"shares {inliers} keypoints with the reference but another name on the label")
    score = min(config.copy_score_max, config.keypoint_copy_score
                + config.keypoint_copy_inlier_score * min(1.0, inliers / (3 * config.min_inliers)))
    geometry = [e if e != "rotated" else f"rotated {rotation:.0f}°" for e in edits]
    if scale < 0.8 or scale > 1.25:
        geometry.append(f"scaled {scale:.2f}x")
    reason = (f"contains the reference ({inliers} matching keypoints of {n_matches}"
              + (f"; {', '.join(geometry)}" if geometry else "") + ")")
    return ImageComparison(score=score, kind="edited_copy", method="keypoints",
                           listing_box=_fractions(lbox, listing.analysed_size),
                           reference_box=_fractions(part, reference.analysed_size), edits=edits, inliers=inliers,
                           coverage=coverage, rotation=rotation, scale=scale, listing_words=lw, reference_words=rw,
                           text_conflict=conflict, reason=reason)


#: Seed of the RANSAC sampling in keypoint verification (any fixed value: only repeatability matters).
RANSAC_SEED = 20261128


# --- the instance stage: SIFT and a homography -----------------------------------------------------------------
def _project(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points (n, 2) through the homography ``h`` (3x3)."""
    p = np.hstack([pts, np.ones((len(pts), 1))]) @ h.T
    w = p[:, 2:3]
    w = np.where(np.abs(w) < 1e-9, 1e-9, w)
    return p[:, :2] / w


def _plausible(quad: np.ndarray, listing: ImageSignature, config: ImageMatchConfig) -> bool:
    """Whether the reference outline, put into the listing photo as ``quad`` (corners in order: top left,
    top right, bottom right, bottom left), is a pack that could be seen there: convex, not turned inside
    out, not squeezed to a sliver, not stretched beyond ``instance_max_skew``, covering at least
    ``instance_min_area`` of the photo."""
    x, y = quad[:, 0], quad[:, 1]
    signed = 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    if signed <= 0 or not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return False
    w, h = listing.analysed_size
    if signed < config.instance_min_area * w * h:
        return False
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    diagonals = (np.linalg.norm(quad[0] - quad[2]), np.linalg.norm(quad[1] - quad[3]))
    return (sides.max() <= config.instance_max_skew * max(sides.min(), 1e-6)
            and max(diagonals) <= config.instance_max_skew * max(min(diagonals), 1e-6))


def _sift_homography(listing: ImageSignature, reference: ImageSignature, mirrored: bool,
                     config: ImageMatchConfig):
    """(homography reference -> listing frame, inlier mask, src, dst, tentative matches) or None."""
    lf = listing.local_mirrored if mirrored else listing.local
    rf = reference.local
    if lf is None or rf is None or len(lf) < 2 or len(rf) < config.instance_min_inliers:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(rf.descriptors.astype(np.float32),
                                                lf.descriptors.astype(np.float32), k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < config.instance_ratio_test * p[1].distance]
    if len(good) < config.instance_min_inliers:
        return None
    src = np.float32([rf.xy[m.queryIdx] for m in good]).reshape(-1, 2)
    dst = np.float32([lf.xy[m.trainIdx] for m in good]).reshape(-1, 2)
    cv2.setRNGSeed(RANSAC_SEED)
    h, mask = cv2.findHomography(src, dst, cv2.RANSAC, config.instance_reprojection,
                                 maxIters=config.ransac_max_iterations, confidence=config.ransac_confidence)
    if h is None or mask is None or int(mask.sum()) < config.instance_min_inliers:
        return None
    return h, mask.ravel().astype(bool), src, dst, len(good)


def instance_match(listing: ImageSignature, reference: ImageSignature, *,
                   config: ImageMatchConfig = DEFAULT_CONFIG) -> ImageComparison | None:
    """The instance stage: is the reference (or a large part of it) a region of the listing photo, or does
    the photo show the reference's pack as planar artwork in perspective? SIFT features of the reference are
    matched (Lowe's ratio test) with the listing's, plain and mirrored, and a RANSAC homography verifies them;
    the reference's outline must land as a plausible quadrilateral (:func:`_plausible`).

    The result is ``edited_copy`` ("the same photo, edited") when geometry and content agree: an affine
    transform (the photo's plane kept; scale, aspect, rotation, mirror) explains ``instance_copy_similarity`` of
    the inliers, and the inliers are at least
    ``instance_copy_coverage`` of the reference's features in the part the listing shows. Otherwise
    ``same_packaging`` ("shows the brand's packaging"): a new photo of the pack. None without a verified
    homography. Words read in both photos that share none (another name on the label) make it
    ``similar_style``."""
    best = None
    for mirrored in (False, True):
        found = _sift_homography(listing, reference, mirrored, config)
        if found is not None and (best is None or found[1].sum() > best[1][1].sum()):
            best = (mirrored, found)
    if best is None:
        return None
    mirrored, (h, keep, src, dst, n_matches) = best
    frame = _mirror(float(listing.analysed_size[0])) if mirrored else np.eye(3)
    content = _content(reference)
    quad_frame = _project(h, np.array([[content[0], content[1]], [content[2], content[1]],
                                       [content[2], content[3]], [content[0], content[3]]]))
    if not _plausible(quad_frame, listing, config):
        return None
    inliers = int(keep.sum())
    back = np.linalg.inv(frame)
    quad = _apply(back, quad_frame)
    listing_box = _clip(_bbox(quad), listing.analysed_size)
    # The reference's features that land inside the listing photo: the part it shows.
    rf = reference.local
    mapped = _project(h, rf.xy.astype(np.float64))
    lw_px, lh_px = listing.analysed_size
    shown = ((mapped[:, 0] >= 0) & (mapped[:, 0] < lw_px) & (mapped[:, 1] >= 0) & (mapped[:, 1] < lh_px))
    # Either side may hold fewer features in the shared part (a reference filling a quarter of a busy photo
    # keeps a quarter of the photo's feature budget): coverage counts against the smaller.
    lf = listing.local_mirrored if mirrored else listing.local
    inside_quad = 0
    if lf is not None and len(lf):
        contour = quad_frame.astype(np.float32).reshape(-1, 1, 2)
        inside_quad = sum(cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0 for x, y in lf.xy)
    coverage = inliers / max(1, min(int(shown.sum()), inside_quad or int(shown.sum())))
    part_pts = rf.xy[shown].astype(np.float64)
    part = _bbox(part_pts) if len(part_pts) else content
    similarity, sim_mask = cv2.estimateAffine2D(src[keep], dst[keep], method=cv2.RANSAC,
                                                ransacReprojThreshold=config.instance_reprojection)
    planar = similarity is not None and sim_mask is not None and (
        int(sim_mask.sum()) >= config.instance_copy_similarity * inliers)
    lw_words, rw_words = listing.text or (), reference.text or ()
    copy = planar and coverage >= config.instance_copy_coverage
    t = back @ _affine(similarity.astype(np.float64)) if copy else None
    conflict = text_conflict(listing, reference, None if (mirrored or t is None) else t)
    if copy and t is not None:
        changed = color_changed(listing, reference, t, part, config=config)
        edits, rotation, scale, _box = _edits(
            listing, reference, t, part, mirrored=mirrored, padded=False, region=False,
            recoloured=changed > config.color_max_changed and listing_box is not None
            and _spans(listing_box, listing, config.recolour_min_span))
    else:
        edits, rotation = (("mirrored",) if mirrored else ()), 0.0
        scale = float(np.sqrt(abs(np.linalg.det(h[:2, :2]))))
    common = {"method": "instance", "listing_box": _fractions(listing_box, listing.analysed_size),
              "reference_box": _fractions(part, reference.analysed_size), "edits": edits, "inliers": inliers,
              "coverage": coverage, "rotation": rotation, "scale": scale, "listing_words": lw_words,
              "reference_words": rw_words, "text_conflict": conflict}
    if conflict:
        return ImageComparison(score=config.similar_style_score, kind="similar_style", **common,
                               reason=f"shares {inliers} SIFT features with the reference but another name "
                                      "on the label")
    strength = min(1.0, inliers / (3 * config.instance_min_inliers))
    if copy:
        score = min(config.copy_score_max, config.keypoint_copy_score + config.keypoint_copy_inlier_score * strength)
        geometry = [e if e != "rotated" else f"rotated {rotation:.0f}°" for e in edits]
        if scale < 0.8 or scale > 1.25:
            geometry.append(f"scaled {scale:.2f}x")
        return ImageComparison(score=score, kind="edited_copy", **common,
                               reason=f"the same photo, edited: contains the reference ({inliers} matching SIFT "
                                      f"features of {n_matches}, {coverage:.0%} of its details"
                                      + (f"; {', '.join(geometry)}" if geometry else "") + ")")
    score = min(config.copy_score_max, config.instance_score + config.instance_inlier_score * strength)
    return ImageComparison(score=score, kind="same_packaging", **common,
                           reason=f"shows the brand's packaging: a new photo of the reference's pack ({inliers} "
                                  f"SIFT features agree through a perspective view"
                                  + ("; mirrored" if mirrored else "") + ")")
