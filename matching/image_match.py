"""Comparing one listing image with one reference image, from their signatures only.

Two independent checks, either of which makes a match:

* **Whole-image hashes** (:func:`compare_hashes`): pHash, dHash and wHash of the image, of its mirror, and of
  its content box with uniform padding cut off. At least ``hash_min_agreeing`` of the three kinds must
  agree within ``hash_max_distance`` on the same variant pair, and the colours must agree point by point
  (:func:`color_mismatch`): a single hash, or grey shape without colour, matches unrelated packshots on
  white made from one template.
* **Keypoints** (:func:`verify_keypoints`): ORB descriptors matched with a ratio test, then a similarity
  transform (rotation, scale, shift) fitted with RANSAC; enough inliers, forming a large enough share of the
  tentative matches, prove that one image contains the other (crops, pads, rotations, overlays, collages),
  once the colours agree through the fitted transform too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from matching.config import MatchConfig
from matching.images import HASH_KINDS, decode_thumb

__all__ = ["HashComparison", "KeypointComparison", "color_mismatch", "compare_hashes", "verify_keypoints"]

#: Seed of the RANSAC sampling in keypoint verification (any fixed value: only repeatability matters).
RANSAC_SEED = 20261128


@dataclass(frozen=True, slots=True)
class HashComparison:
    """The best agreeing variant pair: distances per hash kind (bits of 64), how many kinds agree, whether
    the listing image is mirrored or was padded relative to the reference, and the share of sampled points
    whose colours disagree."""

    distances: dict[str, int]
    agreeing: int
    mirrored: bool
    trimmed: bool
    color_mismatch: float


@dataclass(frozen=True, slots=True)
class KeypointComparison:
    """Keypoint verification: tentative matches, geometric inliers, the fitted rotation (degrees) and scale
    of the reference inside the listing image, and the share of sampled points whose colours disagree."""

    matches: int
    inliers: int
    rotation: float
    scale: float
    color_mismatch: float
    region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    """Where the reference's content lies in the listing image: (left, top, right, bottom) as fractions
    of its width and height."""


def _variants(sig: Mapping[str, Any]) -> list[tuple[bool, bool, Mapping[str, str]]]:
    """(trimmed, mirrored, hashes) of a signature; hashes map kind -> hex for one variant."""
    out: list[tuple[bool, bool, Mapping[str, str]]] = []
    for trimmed, source in ((False, sig), (True, sig.get("trim") or None)):
        if not source:
            continue
        for mirrored in (False, True):
            suffix = "_m" if mirrored else ""
            hashes = {k: source.get(k + suffix) for k in HASH_KINDS}
            if all(isinstance(v, str) for v in hashes.values()):
                out.append((trimmed, mirrored, hashes))  # type: ignore[arg-type]
    return out


def _box(sig: Mapping[str, Any], trimmed: bool, size: tuple[int, int]) -> tuple[float, float, float, float]:
    box = sig.get("box") if trimmed else None
    if isinstance(box, list | tuple) and len(box) == 4:
        return tuple(float(v) for v in box)  # type: ignore[return-value]
    return (0.0, 0.0, float(size[0]), float(size[1]))


def color_mismatch(
    reference: Mapping[str, Any],
    listing: Mapping[str, Any],
    transform: np.ndarray,
    *,
    distance: float,
    ref_box: tuple[float, float, float, float] | None = None,
) -> float:
    """Share (0-1) of points sampled over the reference (its content box by default) whose colour differs by
    more than ``distance`` (Euclidean RGB, 0-441) from every thumbnail cell around where ``transform`` (2x3,
    reference analysed-image pixels -> listing analysed-image pixels) puts them. 1.0 when the thumbnails are
    missing or the mapped points mostly fall outside the listing image."""
    ref = decode_thumb(reference)
    lst = decode_thumb(listing)
    if ref is None or lst is None:
        return 1.0
    (rgrid, (rw, rh)), (lgrid, (lw, lh)) = ref, lst
    n = rgrid.shape[0]
    box = ref_box or _box(reference, True, (rw, rh))
    xs = np.linspace(box[0], box[2], 16)[1:-1]
    ys = np.linspace(box[1], box[3], 16)[1:-1]
    pts = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    ru = np.minimum((pts[:, 0] / rw * n).astype(int), n - 1)
    rv = np.minimum((pts[:, 1] / rh * n).astype(int), n - 1)
    colors = rgrid[rv, ru]
    mapped = pts @ transform[:, :2].T + transform[:, 2]
    inside = (mapped[:, 0] >= 0) & (mapped[:, 0] < lw) & (mapped[:, 1] >= 0) & (mapped[:, 1] < lh)
    if inside.sum() < 0.3 * len(pts):
        return 1.0
    lu = np.minimum((mapped[inside, 0] / lw * n).astype(int), n - 1)
    lv = np.minimum((mapped[inside, 1] / lh * n).astype(int), n - 1)
    # Tolerate a one-cell misalignment: compare with the closest of the 3x3 neighbouring cells.
    padded = np.pad(lgrid, ((1, 1), (1, 1), (0, 0)), mode="edge")
    wanted = colors[inside]
    best = np.full(len(lu), np.inf, dtype=np.float32)
    for du in (0, 1, 2):
        for dv in (0, 1, 2):
            diff = padded[lv + dv, lu + du] - wanted
            best = np.minimum(best, (diff * diff).sum(axis=1))
    return float((best > distance * distance).mean())


def _box_transform(src: tuple[float, float, float, float], dst: tuple[float, float, float, float],
                   *, mirrored: bool) -> np.ndarray:
    sx = (dst[2] - dst[0]) / max(1e-6, src[2] - src[0])
    sy = (dst[3] - dst[1]) / max(1e-6, src[3] - src[1])
    if mirrored:
        return np.array([[-sx, 0, dst[2] + src[0] * sx], [0, sy, dst[1] - src[1] * sy]], dtype=np.float64)
    return np.array([[sx, 0, dst[0] - src[0] * sx], [0, sy, dst[1] - src[1] * sy]], dtype=np.float64)


def _size(sig: Mapping[str, Any]) -> tuple[int, int]:
    thumb = sig.get("thumb") or {}
    size = thumb.get("size") if isinstance(thumb, Mapping) else None
    if isinstance(size, list | tuple) and len(size) == 2:
        return int(size[0]), int(size[1])
    return (1, 1)


def compare_hashes(listing: Mapping[str, Any], reference: Mapping[str, Any], config: MatchConfig
                   ) -> HashComparison | None:
    """The best whole-image agreement between the two signatures, or None when no variant pair has
    ``hash_min_agreeing`` kinds within ``hash_max_distance`` and agreeing colours."""
    best: HashComparison | None = None
    ref_variants = [(t, h) for t, m, h in _variants(reference) if not m]
    for l_trim, l_mirror, l_hashes in _variants(listing):
        for r_trim, r_hashes in ref_variants:
            distances = {
                kind: (int(l_hashes[kind], 16) ^ int(r_hashes[kind], 16)).bit_count() for kind in HASH_KINDS
            }
            agreeing = sum(d <= config.hash_max_distance for d in distances.values())
            if agreeing < config.hash_min_agreeing:
                continue
            if best is not None and (agreeing, -sum(distances.values())) <= (
                best.agreeing, -sum(best.distances.values())
            ):
                continue
            r_box = _box(reference, r_trim, _size(reference))
            l_box = _box(listing, l_trim, _size(listing))
            transform = _box_transform(r_box, l_box, mirrored=l_mirror)
            # Sample over the reference's content (its box), not the white around it.
            mismatch = color_mismatch(reference, listing, transform, distance=config.color_mismatch_distance)
            if mismatch > config.color_max_mismatch:
                continue
            best = HashComparison(distances, agreeing, l_mirror, l_trim != r_trim, mismatch)
    return best


def verify_keypoints(
    listing_sig: Mapping[str, Any],
    listing_xy: np.ndarray,
    listing_desc: np.ndarray,
    ref_sig: Mapping[str, Any],
    ref_xy: np.ndarray,
    ref_desc: np.ndarray,
    config: MatchConfig,
    *,
    mirrored: bool = False,
) -> KeypointComparison | None:
    """Ratio-test matches from reference to listing keypoints, a RANSAC similarity transform, then a colour
    check through that transform; None when there are too few matches or inliers (``orb_min_inliers``,
    ``orb_min_inlier_ratio``) or the colours disagree (``color_max_mismatch``)."""
    if len(listing_desc) < 2 or len(ref_desc) < config.orb_min_inliers:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(ref_desc, listing_desc, k=2)
    good = []
    for pair in pairs:
        unique = len(pair) == 2 and pair[0].distance < 0.8 * pair[1].distance and pair[0].distance <= 64
        if unique or (len(pair) == 1 and pair[0].distance <= 40):
            good.append(pair[0])
    if len(good) < config.orb_min_inliers:
        return None
    src = np.float32([ref_xy[m.queryIdx] for m in good]).reshape(-1, 1, 2)
    dst = np.float32([listing_xy[m.trainIdx] for m in good]).reshape(-1, 1, 2)
    # RANSAC draws from OpenCV's per-thread generator: seed it so that a score never depends on which
    # thread, process or earlier call ran before (the same listing scores the same on every worker).
    cv2.setRNGSeed(RANSAC_SEED)
    transform, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=6.0, maxIters=2000, confidence=0.99, refineIters=5
    )
    if transform is None or mask is None:
        return None
    inliers = int(mask.sum())
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    rotation = float(np.degrees(np.arctan2(transform[1, 0], transform[0, 0])))
    if inliers < config.orb_min_inliers or inliers < config.orb_min_inlier_ratio * len(good):
        return None
    if not 0.1 <= scale <= 10:
        return None
    to_listing = transform.astype(np.float64)
    if mirrored:  # the listing keypoints were of its mirror image: x -> width - x
        width = float(_size(listing_sig)[0])
        to_listing = np.array([[-1.0, 0.0, width], [0.0, 1.0, 0.0]]) @ np.vstack([to_listing, [0.0, 0.0, 1.0]])
    mismatch = color_mismatch(ref_sig, listing_sig, to_listing, distance=config.color_mismatch_distance)
    if mismatch > config.color_max_mismatch:
        return None
    return KeypointComparison(len(good), inliers, rotation, scale, mismatch,
                              _mapped_region(ref_sig, listing_sig, to_listing))


def _mapped_region(ref_sig: Mapping[str, Any], listing_sig: Mapping[str, Any], transform: np.ndarray
                   ) -> tuple[float, float, float, float]:
    """The bounding box of the reference's content box mapped into the listing image, as fractions."""
    box = _box(ref_sig, True, _size(ref_sig))
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[0], box[3]], [box[2], box[3]]], dtype=np.float64)
    mapped = corners @ transform[:, :2].T + transform[:, 2]
    w, h = _size(listing_sig)
    x0, y0 = mapped.min(axis=0)
    x1, y1 = mapped.max(axis=0)
    return (float(np.clip(x0 / w, 0, 1)), float(np.clip(y0 / h, 0, 1)),
            float(np.clip(x1 / w, 0, 1)), float(np.clip(y1 / h, 0, 1)))
