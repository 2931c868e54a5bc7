"""Image signatures: everything matching ever learns about an image, computed from one decode.

:func:`compute_image_signature` decodes an image once (JPEG through ``Image.draft``, so a 1200x1200 photo
is decoded at a quarter or an eighth of its size), and returns a JSON-serialisable dict that the caller
stores (``images.hashes``); matching never decodes an image again. Format (version 1)::

    {
      "v": 1,
      "width": 1200, "height": 1200,            # original size in pixels
      "phash": "c3d1...", "dhash": "...", "whash": "...",          # 64-bit hashes, 16 hex digits
      "phash_m": "...", "dhash_m": "...", "whash_m": "...",        # the same of the mirrored image
      "trim": {"phash": ..., ..., "whash_m": ...} | null,          # the same of the content box when a
                                                                   # uniform border (padding) was cut off
      "box": [l, u, r, b] | null,               # content box in analysed-image pixels, when trimmed
      "thumb": {"size": [320, 320],             # analysed image size (pixels)
                "rgb": "<base64 of 24*24*3 bytes: mean RGB grid of the analysed image>"},
      "orb": {"n": 180, "size": [512, 512],     # ORB keypoints of the analysed image (size in pixels)
              "xy": "<base64 of n*2 uint16: x, y in pixels * 8>",
              "desc": "<base64 of n*32 bytes: 256-bit descriptors>"},
      "orb_m": {...}                            # the same (half as many) of the mirrored image
    }

The hashes are imagehash's pHash, dHash and wHash (hash size 8) of the grey image after draft decoding
and a reduction of the shorter side to :data:`ANALYSIS_SIZE` pixels (see :func:`analysis_size`); they equal imagehash's own values on the
full image to within a few bits.
"""

from __future__ import annotations

import base64
import io
import struct
import warnings
from pathlib import Path
from typing import Any

import cv2
import imagehash
import numpy as np
from PIL import Image, ImageOps

__all__ = [
    "ANALYSIS_SIZE",
    "HASH_KINDS",
    "ImageDecodeError",
    "SIGNATURE_VERSION",
    "compute_image_signature",
    "decode_orb",
    "decode_thumb",
    "hash_to_int",
]

SIGNATURE_VERSION = 1
#: Longest side, in pixels, of the grey image every hash and keypoint is computed from.
ANALYSIS_SIZE = 320
#: The 64-bit perceptual hashes in a signature; each also exists mirrored (``<kind>_m``).
HASH_KINDS: tuple[str, ...] = ("phash", "dhash", "whash")
#: Side of the colour thumbnail (pixels) kept for colour checks.
THUMB_SIZE = 24
#: Most ORB keypoints kept per image (32 bytes each): bounds a signature to about 8 KB of JSON.
ORB_FEATURES = 200
#: A border is "uniform" when its pixels differ from the background estimate by at most this (0-255).
_BORDER_TOLERANCE = 24
#: The content box must be smaller than this fraction of the image area to count as trimmed.
_TRIM_MIN_GAIN = 0.94


class ImageDecodeError(ValueError):
    """The bytes are not a decodable image, are truncated, or exceed the pixel limit."""


def compute_image_signature(
    source: bytes | Path,
    *,
    max_pixels: int,
    orb_features: int = ORB_FEATURES,
) -> dict[str, Any]:
    """Decode ``source`` (raw bytes or a file path) once and return its signature (see module doc).

    ``max_pixels`` is the largest width*height accepted (decompression-bomb guard, checked on the header
    before any pixel is decoded). Raises :class:`ImageDecodeError` with a one-line message on anything that
    cannot be decoded.
    """
    rgb, (width, height) = _decode(source, max_pixels=max_pixels)
    grey = rgb.convert("L")
    signature: dict[str, Any] = {"v": SIGNATURE_VERSION, "width": width, "height": height}
    signature.update(_hashes(grey))
    box = _content_box(np.asarray(grey))
    signature["trim"] = _hashes(grey.crop(box)) if box is not None else None
    signature["box"] = list(box) if box is not None else None
    signature["thumb"] = _thumbnail(rgb)
    signature["orb"] = _orb(np.asarray(grey), orb_features)
    # ORB descriptors are not mirror-invariant: keep the strongest keypoints of the mirror image too (a
    # mirrored copy that is also cropped or rotated escapes the mirrored whole-image hashes).
    signature["orb_m"] = _orb(np.asarray(ImageOps.mirror(grey)), max(1, orb_features // 2))
    return signature


def hash_to_int(hex_hash: str) -> int:
    """A 16-hex-digit hash as an unsigned 64-bit integer."""
    return int(hex_hash, 16)


def decode_orb(orb: dict[str, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """``(xy, descriptors)`` from a signature's ``orb`` entry: float32 (n, 2) pixel coordinates and uint8
    (n, 32) descriptors; empty arrays for an image without keypoints or a malformed entry."""
    empty = np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    if not isinstance(orb, dict) or not orb.get("n"):
        return empty
    try:
        n = int(orb["n"])
        xy = np.frombuffer(base64.b64decode(orb["xy"]), dtype="<u2").reshape(n, 2).astype(np.float32) / 8.0
        desc = np.frombuffer(base64.b64decode(orb["desc"]), dtype=np.uint8).reshape(n, 32)
    except (KeyError, TypeError, ValueError):  # binascii.Error is a ValueError: a damaged stored signature
        return empty
    return xy, desc


def _decode(source: bytes | Path, *, max_pixels: int) -> tuple[Image.Image, tuple[int, int]]:
    """Open, bound-check, draft-decode and flatten to RGB (alpha composited on white), reduced to
    :func:`analysis_size`. Returns the image and the original (width, height)."""
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            stream: Any = io.BytesIO(bytes(source))
        else:
            stream = Path(source).open("rb")  # noqa: SIM115 (closed by the with-block below)
    except OSError as exc:
        raise ImageDecodeError(f"cannot read image: {exc.strerror or exc}") from None
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
                    # DCT scaling to the largest eighth, quarter or half that is still at least 3/4 of the
                    # analysis size; the small remaining gap is not upscaled (analysis_size never enlarges).
                    target = analysis_size(width, height)
                    img.draft("RGB", (max(1, target[0] * 3 // 4), max(1, target[1] * 3 // 4)))
                img.load()
                img = ImageOps.exif_transpose(img)
                img = _flatten(img)
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
    return img, (width, height)


def analysis_size(width: int, height: int) -> tuple[int, int]:
    """Size of the analysed image: the shorter side brought down to ANALYSIS_SIZE (never up), the longer
    side at most three times that. A wide collage strip keeps enough pixels per product for keypoints."""
    scale = min(1.0, ANALYSIS_SIZE / max(1, min(width, height)))
    if max(width, height) * scale > 3 * ANALYSIS_SIZE:
        scale = 3 * ANALYSIS_SIZE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


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


def _hashes(grey: Image.Image) -> dict[str, str]:
    # One reduction to 64x64 feeds all six hashes (each would otherwise resize the full image again).
    grey = grey.resize((64, 64), Image.Resampling.LANCZOS, reducing_gap=2.0)
    mirrored = ImageOps.mirror(grey)
    out: dict[str, str] = {}
    for suffix, image in (("", grey), ("_m", mirrored)):
        out["phash" + suffix] = str(imagehash.phash(image))
        out["dhash" + suffix] = str(imagehash.dhash(image))
    # The Haar transform of a mirrored 64x64 image is the mirrored transform, so the mirrored wHash is the
    # wHash bit matrix flipped left to right (checked in the tests) and costs no second transform.
    whash = imagehash.whash(grey, image_scale=64)
    out["whash"] = str(whash)
    out["whash_m"] = str(imagehash.ImageHash(whash.hash[:, ::-1]))
    return out


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


def _thumbnail(rgb: Image.Image) -> dict[str, Any]:
    """The analysed image as a THUMB_SIZE x THUMB_SIZE RGB grid of mean colours (aspect not kept), for
    colour checks of a match: pixel (u, v) covers analysed-image pixels around ((u + 0.5) * w / THUMB_SIZE,
    (v + 0.5) * h / THUMB_SIZE)."""
    small = rgb.resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BOX)
    w, h = rgb.size
    return {"size": [w, h], "rgb": base64.b64encode(small.tobytes()).decode("ascii")}


def decode_thumb(sig: Any) -> tuple[np.ndarray, tuple[int, int]] | None:
    """``(grid, (w, h))``: the signature's thumbnail as float32 (THUMB_SIZE, THUMB_SIZE, 3) and the analysed
    image size it covers; None when missing or malformed."""
    thumb = sig.get("thumb") if isinstance(sig, dict) else None
    if not thumb:
        return None
    try:
        raw = base64.b64decode(thumb["rgb"])
        grid = np.frombuffer(raw, dtype=np.uint8).reshape(THUMB_SIZE, THUMB_SIZE, 3).astype(np.float32)
        w, h = (int(v) for v in thumb["size"])
    except (KeyError, TypeError, ValueError):
        return None
    return grid, (w, h)


def _orb(grey: np.ndarray, n_features: int) -> dict[str, Any]:
    detector = cv2.ORB_create(nfeatures=max(1, n_features), scaleFactor=1.2, nlevels=6, edgeThreshold=15,
                              patchSize=31, fastThreshold=10)
    keypoints, descriptors = detector.detectAndCompute(grey, None)
    h, w = grey.shape
    if descriptors is None or not keypoints:
        return {"n": 0, "size": [w, h], "xy": "", "desc": ""}
    # Strongest first, so a reader may keep a prefix.
    order = sorted(range(len(keypoints)), key=lambda i: -keypoints[i].response)[:n_features]
    xy = np.array([keypoints[i].pt for i in order], dtype=np.float64)
    xy_q = np.clip(np.round(xy * 8.0), 0, 65535).astype("<u2")
    desc = np.ascontiguousarray(descriptors[order], dtype=np.uint8)
    return {
        "n": len(order),
        "size": [w, h],
        "xy": base64.b64encode(xy_q.tobytes()).decode("ascii"),
        "desc": base64.b64encode(desc.tobytes()).decode("ascii"),
    }
