"""Computing image signatures: everything matching ever learns about an image, from one decode.

:func:`compute_image_signature` decodes an image once (JPEG through ``Image.draft``, so a 1200x1200 photo is
decoded at a quarter of its size: :func:`jpeg_draft_scale`), reduces it to the *analysed image* (shorter side
:data:`ANALYSIS_SIZE` pixels, see :func:`analysis_size`) and computes from that one array the parts of a
:class:`~matching.signature.ImageSignature` (the type, :mod:`matching.signature`):

* the :class:`~matching.signature.HashSet`: pHash, dHash and wHash (64 bits each) of the image and of its
  mirror, all from one 64x64 grey reduction with numpy. They equal ``imagehash.phash``/``dhash``/
  ``whash(image_scale=64)`` of that 64x64 image bit for bit (pinned in the tests);
* the same of the *content box* when a uniform border (padding) surrounds the content, and of each *region*:
  the cells of a collage, found where uniform gutters cut the image, or, for tiles that touch, as a grid whose
  inner borders are all seams;
* a 24x24 mean-RGB thumbnail for colour checks;
* ORB :class:`~matching.signature.Keypoints` (at most :data:`ORB_FEATURES`, strongest first) of the analysed
  image and of its mirror (ORB descriptors are not mirror-invariant);
* SIFT features (at most :data:`SIFT_FEATURES`; the mirror image half as many) of the analysed image: SIFT's
  pyramid starts at twice the analysed size, so a reference that fills a quarter of a listing photo (a
  collage cell, a pack on a shelf) still keeps its label's features;
* optionally the words printed in the photo (:mod:`matching.ocr`).

The grey image everything is computed from is the HSL lightness (:func:`lightness`). A change here that
computes other values bumps :data:`matching.signature.SIGNATURE_VERSION`. Storing a signature is
:mod:`matching.signature_codec`'s business.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from matching.signature import (
    MAX_REGIONS,
    SIGNATURE_VERSION,
    THUMB_SIZE,
    Hash64,
    HashSet,
    ImageSignature,
    Keypoints,
    Region,
)

__all__ = [
    "ANALYSIS_SIZE",
    "OCR_DECODE_SIDE",
    "ORB_FEATURES",
    "SIFT_FEATURES",
    "ImageDecodeError",
    "analysis_size",
    "compute_image_signature",
    "hash_set",
    "jpeg_draft_scale",
    "lightness",
]

#: Shorter side, in pixels, of the analysed image every hash and keypoint is computed from.
ANALYSIS_SIZE = 320
#: Longer side, in pixels, of the decode OCR reads (Tesseract wants about 1000 pixels a side); a JPEG read
#: for OCR is draft-decoded no smaller than 3/4 of this.
OCR_DECODE_SIDE = 1000
#: Most ORB keypoints kept per image (the mirror image keeps half as many).
ORB_FEATURES = 256
#: Most SIFT features kept per image, strongest first (the mirror image keeps half as many).
SIFT_FEATURES = 400
#: SIFT's contrast threshold (OpenCV's default is 0.04): half of it keeps the printed details of a label seen
#: small, in shade or behind glare.
SIFT_CONTRAST = 0.02
#: A border is "uniform" when its pixels differ from the background estimate by at most this (0-255).
_BORDER_TOLERANCE = 24
#: The content box must be smaller than this fraction of the image area to count as trimmed.
_TRIM_MIN_GAIN = 0.94


class ImageDecodeError(ValueError):
    """The bytes are not a decodable image, are truncated, or exceed the pixel limit."""


# --- computing ---------------------------------------------------------------------------------------------
def compute_image_signature(
    data: bytes | Path,
    *,
    max_pixels: int,
    ocr: bool = False,
    ocr_timeout_s: float = 2.0,
    ocr_engine: str = "rapidocr",
    keypoints: bool = True,
    orb_features: int = ORB_FEATURES,
) -> ImageSignature:
    """Decode ``data`` (raw bytes or a file path) once and return its signature (see module doc).

    ``max_pixels`` is the largest width*height accepted (decompression-bomb guard, checked on the header before
    any pixel is decoded). With ``ocr``, the words printed in the image are read (:func:`matching.ocr.read_text`,
    at most ``ocr_timeout_s`` seconds, by ``ocr_engine``, one of :data:`matching.ocr.ENGINES`; a timeout
    leaves ``text`` None). Raises :class:`ImageDecodeError` with a
    one-line message on anything that cannot be decoded.
    """
    rgb, (width, height), ocr_source = _decode(data, max_pixels=max_pixels, keep_for_ocr=ocr)
    grey = lightness(rgb)
    h, w = grey.shape
    box = _content_box(grey)
    kp = kp_m = local = local_m = None
    if keypoints:
        mirror = np.ascontiguousarray(grey[:, ::-1])
        kp = _orb(grey, orb_features)
        kp_m = _orb(mirror, max(1, orb_features // 2))
        local = _sift(grey, SIFT_FEATURES)
        local_m = _sift(mirror, SIFT_FEATURES // 2)
    text = boxes = None
    if ocr:
        from matching.ocr import read_words  # deferred: only the OCR path needs it

        words = read_words(ocr_source, timeout_s=ocr_timeout_s, engine=ocr_engine)  # type: ignore[arg-type]
        if words is not None:
            text, boxes = tuple(w for w, _ in words), tuple(b for _, b in words)
    return ImageSignature(
        version=SIGNATURE_VERSION,
        width=width,
        height=height,
        analysed_size=(w, h),
        hashes=hash_set(grey),
        trimmed=hash_set(grey[box[1]:box[3], box[0]:box[2]]) if box is not None else None,
        content_box=box,
        thumb=_thumbnail(rgb),
        regions=_regions(grey),
        keypoints=kp,
        keypoints_mirrored=kp_m,
        local=local,
        local_mirrored=local_m,
        text=text,
        text_boxes=boxes,
    )


def _decode(source: bytes | Path, *, max_pixels: int, keep_for_ocr: bool = False
            ) -> tuple[Image.Image, tuple[int, int], Image.Image | None]:
    """Open, bound-check, draft-decode and flatten to RGB (alpha composited on white), reduced to
    :func:`analysis_size`. Returns the analysed image, the original (width, height) and, with
    ``keep_for_ocr``, the decoded image before the reduction (text needs more pixels than hashes)."""
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            stream: Any = io.BytesIO(bytes(source))
        else:
            stream = Path(source).open("rb")  # noqa: SIM115 (closed by the with-block below)
    except OSError as exc:
        raise ImageDecodeError(f"cannot read image: {exc.strerror or exc}") from None
    full = None
    try:
        with stream, warnings.catch_warnings():
            # We enforce our own limit below, before decoding; Pillow's global one stays untouched.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                img = Image.open(stream)
                width, height = img.size
                if width <= 0 or height <= 0:
                    raise ImageDecodeError("image has no pixels")
                if width * height > max_pixels:
                    raise ImageDecodeError(
                        f"image is {width}x{height} = {width * height} pixels, above the limit of {max_pixels}"
                    )
                if img.format == "JPEG":
                    img.draft("RGB", _draft_request(width, height, for_ocr=keep_for_ocr))
                img.load()
                img = ImageOps.exif_transpose(img)
                img = _flatten(img)
                if keep_for_ocr:
                    full = img
                target = analysis_size(*img.size)
                if target != img.size:
                    img = img.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
            except ImageDecodeError:
                raise
            except Image.DecompressionBombError as exc:
                raise ImageDecodeError(f"image too large: {exc}") from None
            except (OSError, SyntaxError, ValueError, TypeError, EOFError, IndexError, struct.error) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ImageDecodeError(f"cannot decode image: {first[:200]}") from None
    except OSError as exc:  # closing the file failed
        raise ImageDecodeError(f"cannot read image: {exc}") from None
    return img, (width, height), full


def lightness(rgb: Image.Image) -> np.ndarray:
    """HSL lightness, (max + min) / 2 of the channels, as uint8 (h, w)."""
    a = np.asarray(rgb, dtype=np.uint16)
    return ((a.max(axis=2) + a.min(axis=2) + 1) // 2).astype(np.uint8)


def analysis_size(width: int, height: int) -> tuple[int, int]:
    """Size of the analysed image: the shorter side brought down to ANALYSIS_SIZE (never up), the longer
    side at most three times that. A wide collage strip keeps enough pixels per product for keypoints."""
    scale = min(1.0, ANALYSIS_SIZE / max(1, min(width, height)))
    if max(width, height) * scale > 3 * ANALYSIS_SIZE:
        scale = 3 * ANALYSIS_SIZE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _draft_request(width: int, height: int, *, for_ocr: bool) -> tuple[int, int]:
    """The size asked of the JPEG decoder's draft mode: 3/4 of the analysed size or, for OCR, of the size
    with a longer side of :data:`OCR_DECODE_SIDE` (never above the image's own)."""
    target = analysis_size(width, height)
    if for_ocr:
        scale = min(1.0, OCR_DECODE_SIDE / max(1, width, height))
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return max(1, target[0] * 3 // 4), max(1, target[1] * 3 // 4)


def jpeg_draft_scale(width: int, height: int, *, for_ocr: bool) -> int:
    """The DCT scale (1, 2, 4 or 8) at which :func:`compute_image_signature` decodes a JPEG of ``width`` x
    ``height`` pixels (as its header says, before any EXIF turn): the largest that still gives at least
    :func:`_draft_request`, which is the rule of Pillow's ``JpegImageFile.draft``. The decoded image is
    ``ceil(width / scale)`` x ``ceil(height / scale)``; the signature stage budgets its memory with it."""
    want_w, want_h = _draft_request(width, height, for_ocr=for_ocr)
    room = min(width // want_w, height // want_h)
    return next(s for s in (8, 4, 2, 1) if room >= s)


def _flatten(img: Image.Image) -> Image.Image:
    """RGB with any transparency composited on white (so a transparent PNG looks like its packshot)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("RGB")
    if img.mode != "RGB":
        return img.convert("RGB")
    return img


# --- hashes, from one 64x64 grey reduction -------------------------------------------------------------------
def _dct_rows(n: int, keep: int) -> np.ndarray:
    """The first ``keep`` rows of the unnormalised DCT-II matrix of size ``n`` (scipy's ``dct`` type 2)."""
    k = np.arange(keep)[:, None]
    x = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * x + 1) / (2 * n))


_DCT8 = _dct_rows(32, 8)
_MIRROR_SIGN = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)[None, :]


def hash_set(grey: np.ndarray) -> HashSet:
    """The six hashes of a grey uint8 image (any size of at least 1x1). The image is reduced once to
    64x64 (LANCZOS); pHash, dHash and wHash are then imagehash's algorithms on that 64x64 image, computed
    with numpy (and their mirrored forms by symmetry, with no second reduction)."""
    img = Image.fromarray(np.ascontiguousarray(grey), mode="L")
    small = img.resize((64, 64), Image.Resampling.LANCZOS, reducing_gap=2.0)
    # pHash: 32x32 LANCZOS, 2-D DCT, the 8x8 lowest frequencies against their median. Mirroring the image
    # negates the odd horizontal frequencies.
    p32 = np.asarray(small.resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    low = _DCT8 @ p32 @ _DCT8.T
    low_m = low * _MIRROR_SIGN
    # dHash: 9x8 LANCZOS, each pixel against its right neighbour (the mirror: against its left one, read
    # from the mirrored grid).
    d = np.asarray(small.resize((9, 8), Image.Resampling.LANCZOS), dtype=np.int16)
    d_m = d[:, ::-1]
    # wHash (Haar, image_scale 64, the full-image mean removed): the level-3 approximation is the 8x8 block
    # sums of the mean-free image, compared with their median.
    s64 = np.asarray(small, dtype=np.float64) / 255.0
    blocks = s64.reshape(8, 8, 8, 8).sum(axis=(1, 3)) / 8.0 - s64.mean() * 8.0
    return HashSet(
        phash=Hash64.from_bits(low > np.median(low)),
        dhash=Hash64.from_bits(d[:, 1:] > d[:, :-1]),
        whash=Hash64.from_bits(blocks > np.median(blocks)),
        phash_m=Hash64.from_bits(low_m > np.median(low_m)),
        dhash_m=Hash64.from_bits(d_m[:, 1:] > d_m[:, :-1]),
        whash_m=Hash64.from_bits(blocks[:, ::-1] > np.median(blocks)),
    )


def _content_box(pixels: np.ndarray) -> tuple[int, int, int, int] | None:
    """The bounding box (left, upper, right, lower) of what is not uniform border, or None when there is
    no such border worth cutting (less than 6% of the area) or the image is blank."""
    h, w = pixels.shape
    if h < 8 or w < 8:
        return None
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).astype(np.int16)
    background = int(np.median(border))
    # Only a border that is mostly one shade is padding; a photo edge is not.
    if np.mean(np.abs(border - background) <= _BORDER_TOLERANCE) < 0.9:
        return None
    content = np.abs(pixels.astype(np.int16) - background) > _BORDER_TOLERANCE
    rows = np.flatnonzero(content.sum(axis=1) > max(1, w // 200))
    cols = np.flatnonzero(content.sum(axis=0) > max(1, h // 200))
    if rows.size == 0 or cols.size == 0:
        return None
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    area = (box[2] - box[0]) * (box[3] - box[1])
    if area >= _TRIM_MIN_GAIN * w * h or box[2] - box[0] < 8 or box[3] - box[1] < 8:
        return None
    return box


def _uniform_runs(lines_range: np.ndarray, *, min_run: int) -> list[tuple[int, int]]:
    """Segments [start, end) between runs (of at least ``min_run``) of uniform lines."""
    uniform = lines_range <= _BORDER_TOLERANCE
    segments = []
    start = None
    gap = 0
    for i, u in enumerate(uniform.tolist() + [True] * min_run):
        if not u:
            if start is None:
                start = i
            gap = 0
        else:
            gap += 1
            if start is not None and gap >= min_run:
                segments.append((start, i - gap + 1))
                start = None
    return segments


def _regions(grey: np.ndarray) -> tuple[Region, ...]:
    """Collage cells, hashed. First split the image where whole columns, then whole rows within each column
    strip, are uniform (gutters). A collage without gutters (tiles that touch) does not split that way, and a busy tile
    may split at a uniform column of its own: the cells of a grid of near-square cells (:data:`GRIDS`) whose
    every inner border is a seam (:func:`_is_seam`) are added. Cells of at least 1/16 of the image area and 40
    pixels a side are kept. An image that splits neither way has no regions."""
    h, w = grey.shape
    if h < 80 or w < 80:
        return ()
    g = grey.astype(np.int16)
    cells: list[tuple[int, int, int, int]] = []
    min_run = max(2, min(w, h) // 100)
    for x0, x1 in _uniform_runs(np.ptp(g, axis=0), min_run=min_run):
        strip = g[:, x0:x1]
        for y0, y1 in _uniform_runs(np.ptp(strip, axis=1), min_run=min_run):
            cells.append((x0, y0, x1, y1))
    if len(cells) < 2:
        cells = []  # one "cell" is the whole content, not a split
    # A busy tile can hold a uniform column of its own, so a gutter split may be wrong: a seamed grid is added.
    cells += [c for c in _grid_cells(g) if c not in cells]
    keep = [c for c in cells if (c[2] - c[0]) >= 40 and (c[3] - c[1]) >= 40
            and (c[2] - c[0]) * (c[3] - c[1]) >= w * h / 16]
    if len(keep) < 2:
        return ()
    keep.sort(key=lambda c: -(c[2] - c[0]) * (c[3] - c[1]))
    return tuple(Region(c, hash_set(grey[c[1]:c[3], c[0]:c[2]])) for c in keep[:MAX_REGIONS])


#: Grids (rows, columns) tried on every image (:func:`_grid_cells`), first match wins; only those whose cells
#: are near square (aspect 0.6-1.67) for the image's shape are tried.
GRIDS = ((2, 2), (3, 3), (1, 2), (2, 1), (1, 3), (3, 1), (1, 4), (4, 1), (2, 3), (3, 2), (2, 4), (4, 2))
#: A seam is a border line along which neighbouring pixels differ this many times more than they
#: typically do across lines of the image...
SEAM_CONTRAST = 3.0
#: ... and by at least this much on average (grey levels), so a flat image has no seams.
SEAM_MIN_STEP = 12.0


def _line_steps(g: np.ndarray, axis: int) -> np.ndarray:
    """Mean absolute step between each pair of neighbouring columns (axis 1) or rows (axis 0): entry i is
    the step between lines i and i+1."""
    return np.abs(np.diff(g, axis=axis)).mean(axis=0 if axis == 1 else 1)


def _is_seam(steps: np.ndarray, at: int, typical: float) -> bool:
    """A border near line ``at``: the largest step within one line of it stands out (see the constants)."""
    lo, hi = max(0, at - 2), min(len(steps), at + 1)
    if lo >= hi:
        return False
    step = float(steps[lo:hi].max())
    return step >= SEAM_MIN_STEP and step >= SEAM_CONTRAST * typical


def _grid_cells(g: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The cells of the first grid of :data:`GRIDS` that fits the image and whose every inner border is a
    seam; none when no grid does."""
    h, w = g.shape
    cols_steps, rows_steps = _line_steps(g, 1), _line_steps(g, 0)
    typical_x, typical_y = float(np.median(cols_steps)), float(np.median(rows_steps))
    for rows, cols in GRIDS:
        aspect = (w / cols) / (h / rows)
        if not 0.6 <= aspect <= 1.67:
            continue
        xs = [round(k * w / cols) for k in range(cols + 1)]
        ys = [round(k * h / rows) for k in range(rows + 1)]
        if all(_is_seam(cols_steps, x, typical_x) for x in xs[1:-1]) and all(
                _is_seam(rows_steps, y, typical_y) for y in ys[1:-1]):
            return [(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(rows) for i in range(cols)]
    return []


def _thumbnail(rgb: Image.Image) -> bytes:
    """The analysed image as a THUMB_SIZE x THUMB_SIZE RGB grid of mean colours (aspect not kept): pixel
    (u, v) covers analysed-image pixels around ((u + 0.5) * w / THUMB_SIZE, (v + 0.5) * h / THUMB_SIZE)."""
    return rgb.resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BOX).tobytes()


def _sift(grey: np.ndarray, n_features: int) -> Keypoints:
    """SIFT features (OpenCV, 8-bit descriptors), at most ``n_features``, spread over the image as
    :func:`_orb` spreads its keypoints (a page of text around a photo cannot take the whole budget)."""
    detector = cv2.SIFT_create(3 * n_features, 3, SIFT_CONTRAST, 10, 1.6, cv2.CV_8U)
    found, descriptors = detector.detectAndCompute(grey, None)
    if descriptors is None or not found:
        return Keypoints.empty(128)
    pts = np.array([k.pt for k in found], dtype=np.float64)
    response = np.array([k.response for k in found], dtype=np.float64)
    chosen = _spread(pts, response, grey.shape, n_features)
    xy = np.round(pts[chosen] * 8.0) / 8.0  # as stored
    return Keypoints(xy.astype(np.float32), np.ascontiguousarray(descriptors[chosen], dtype=np.uint8).reshape(-1, 128))


def _spread(pts: np.ndarray, response: np.ndarray, shape: tuple[int, ...], n_features: int) -> list[int]:
    """Indices of at most ``n_features`` points, strongest first: each cell of a 4x4 grid keeps its strongest
    up to a sixteenth of the budget, the rest of the budget goes to the strongest left over."""
    h, w = shape[:2]
    cell = (np.minimum(pts[:, 1] * 4 // h, 3) * 4 + np.minimum(pts[:, 0] * 4 // w, 3)).astype(int)
    strongest = np.lexsort((np.arange(len(pts)), -response))  # by response, ties by detection order
    quota = max(1, n_features // 16)
    taken = np.zeros(16, dtype=int)
    first, rest = [], []
    for i in strongest.tolist():
        if taken[cell[i]] < quota:
            taken[cell[i]] += 1
            first.append(i)
        else:
            rest.append(i)
    chosen = first + rest[: max(0, n_features - len(first))]
    return sorted(chosen[:n_features], key=lambda i: (-response[i], i))  # strongest first


def _orb(grey: np.ndarray, n_features: int) -> Keypoints:
    """ORB keypoints, at most ``n_features``, spread over the image: three times as many are detected, then
    each cell of a 4x4 grid keeps its strongest up to a sixteenth of the budget and the rest of the budget
    goes to the strongest left over. A busy new background then cannot crowd the product's own features out."""
    detector = cv2.ORB_create(nfeatures=max(1, 3 * n_features), scaleFactor=1.2, nlevels=8, edgeThreshold=15,
                              patchSize=31, fastThreshold=10)
    found, descriptors = detector.detectAndCompute(grey, None)
    if descriptors is None or not found:
        return Keypoints.empty()
    pts = np.array([k.pt for k in found], dtype=np.float64)
    response = np.array([k.response for k in found], dtype=np.float64)
    chosen = _spread(pts, response, grey.shape, n_features)
    # Stored to 1/8 pixel: round here so a signature equals itself after a round trip through storage.
    xy = np.round(pts[chosen] * 8.0) / 8.0
    return Keypoints(xy.astype(np.float32), np.ascontiguousarray(descriptors[chosen], dtype=np.uint8))
