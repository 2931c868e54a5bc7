"""What the copy-detection yardsticks (``bench.augly``, ``bench.grocery``) share: the two matchers under test and
the measures.

* :class:`LookalikeSearch`: the product's own path. Reference photos get a signature
  (:func:`matching.images.compute_image_signature`, as the signature stage computes it) and go into a
  :class:`matching.image_index.ReferenceImageIndex`; a listing photo's signature is searched there, exactly as
  the matcher does (``MatchConfig().image``). A hit is a comparison the index calls copied.
* :class:`SiftBaseline`: the textbook method (OpenCV's tutorial "Feature Matching + Homography to find
  Objects"): SIFT on the grey image, Lowe's ratio test (0.75), a RANSAC homography (5 px); the score of a
  (listing, reference) pair is its number of inliers. One threshold on it, chosen on the tuning part
  (:func:`choose_threshold`), decides.
* :func:`micro_ap`: micro-average precision as DISC21 (Douze et al., 2021) computes it: every
  (query, reference, score) prediction of every query in one list, sorted by score; the precision at each
  correct prediction, summed and divided by the number of ground-truth pairs (a pair never predicted counts 0).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from matching.config import MatchConfig
from matching.image_index import ReferenceImageIndex
from matching.images import compute_image_signature
from matching.signature import ImageSignature

__all__ = ["Hit", "LookalikeSearch", "SiftBaseline", "choose_threshold", "encode_png", "micro_ap", "rate"]

#: Pixel limit passed to the signature computation (the product's default setting is of this order).
MAX_PIXELS = 40_000_000


@dataclass(frozen=True, slots=True)
class Hit:
    """One prediction: the reference's key, a score (higher is surer) and the kind the matcher named."""

    key: int
    score: float
    kind: str = ""


def encode_png(image: Image.Image) -> bytes:
    """Lossless bytes of an image (the JPEG edit is the only lossy one: it encodes itself)."""
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue()


class LookalikeSearch:
    """The product's reference index over signatures, searched with listing signatures."""

    def __init__(self, *, ocr: bool = False, config: MatchConfig | None = None) -> None:
        self.ocr = ocr
        self.config = config or MatchConfig()
        self.index = ReferenceImageIndex(self.config.image)

    def signature(self, image: Image.Image) -> ImageSignature:
        return compute_image_signature(encode_png(image), max_pixels=MAX_PIXELS, ocr=self.ocr)

    def add(self, key: int, image: Image.Image) -> None:
        self.index.add(key, self.signature(image))

    def search(self, image: Image.Image) -> list[Hit]:
        sig = self.signature(image)
        return [Hit(key, result.score, result.kind) for key, result in self.index.search(sig, limit=8)]


class SiftBaseline:
    """SIFT + ratio test + RANSAC homography against every reference (brute force: a baseline, not a product).
    Images are analysed with their longer side at ``max_side`` pixels (smaller ones are left as they are)."""

    def __init__(self, *, max_side: int = 512, features: int = 1000, ratio: float = 0.75,
                 reprojection: float = 5.0) -> None:
        self.max_side = max_side
        self.ratio = ratio
        self.reprojection = reprojection
        self.sift = cv2.SIFT_create(nfeatures=features)
        self.matcher = cv2.BFMatcher(cv2.NORM_L2)
        self.refs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def features(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
        grey = image.convert("L")
        scale = min(1.0, self.max_side / max(grey.size))
        if scale < 1.0:
            grey = grey.resize((round(grey.width * scale), round(grey.height * scale)), Image.Resampling.BILINEAR)
        kps, desc = self.sift.detectAndCompute(np.asarray(grey), None)
        xy = np.float32([k.pt for k in kps]).reshape(-1, 2)
        return xy, desc if desc is not None else np.zeros((0, 128), np.float32)

    def add(self, key: int, image: Image.Image) -> None:
        self.refs[key] = self.features(image)

    def inliers(self, query: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray]) -> int:
        (qxy, qd), (rxy, rd) = query, ref
        if len(qd) < 2 or len(rd) < 2:
            return 0
        good = [m for m, n in (p for p in self.matcher.knnMatch(rd, qd, k=2) if len(p) == 2)
                if m.distance < self.ratio * n.distance]
        if len(good) < 4:
            return 0
        src = np.float32([rxy[m.queryIdx] for m in good]).reshape(-1, 1, 2)
        dst = np.float32([qxy[m.trainIdx] for m in good]).reshape(-1, 1, 2)
        cv2.setRNGSeed(1)
        _h, mask = cv2.findHomography(src, dst, cv2.RANSAC, self.reprojection)
        return 0 if mask is None else int(mask.sum())

    def search(self, image: Image.Image) -> list[Hit]:
        """Every reference with at least 4 inliers, most inliers first."""
        query = self.features(image)
        hits = [Hit(key, float(n)) for key, ref in self.refs.items() if (n := self.inliers(query, ref)) >= 4]
        return sorted(hits, key=lambda h: (-h.score, h.key))


def micro_ap(predictions: Iterable[tuple[float, bool]], ground_truth: int) -> float:
    """DISC21 micro-average precision of (score, correct) predictions over ``ground_truth`` true pairs."""
    ranked = sorted(predictions, key=lambda p: -p[0])
    correct = 0
    total = 0.0
    for rank, (_score, ok) in enumerate(ranked, start=1):
        if ok:
            correct += 1
            total += correct / rank
    return total / ground_truth if ground_truth else 0.0


def choose_threshold(positive_scores: Sequence[float], negative_scores: Sequence[float], *,
                     max_false_rate: float) -> float:
    """The lowest threshold (score >= it flags) at which at most ``max_false_rate`` of the negatives are
    flagged: the most recall the negatives allow. Scores are the best score of each photo (0 for none)."""
    candidates = sorted({float(s) for s in list(positive_scores) + list(negative_scores)} | {4.0})
    for t in candidates:
        if t < 4:
            continue
        flagged = sum(s >= t for s in negative_scores)
        if flagged <= max_false_rate * max(1, len(negative_scores)):
            return t
    return float("inf")


def rate(hits: int, total: int) -> str:
    """``0.950 (19/20)``."""
    return f"{hits / total:.3f} ({hits}/{total})" if total else "- (0/0)"
