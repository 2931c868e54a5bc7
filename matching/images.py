"""Image signatures: everything matching ever learns about an image, computed from one decode.

:func:`compute_image_signature` decodes an image once (JPEG through ``Image.draft``, so a 1200x1200 photo is
decoded at a quarter of its size), reduces it to the *analysed image* (shorter side :data:`ANALYSIS_SIZE`
pixels, see :func:`analysis_size`) and computes from that one array:

* :class:`HashSet`: pHash, dHash and wHash (64 bits each, 16 hex digits) of the image and of its mirror, all
  from one 64x64 grey reduction with numpy. They equal ``imagehash.phash``/``dhash``/``whash(image_scale=64)``
  of that 64x64 image bit for bit (pinned in the tests);
* the same of the *content box* when a uniform border (padding) surrounds the content, and of each *region*:
  the cells of a collage, found where uniform gutters cut the image, or, for tiles that touch, as a grid whose
  inner borders are all seams;
* a 24x24 mean-RGB thumbnail for colour checks;
* ORB :class:`Keypoints` (at most :data:`ORB_FEATURES`, strongest first) of the analysed image and of its
  mirror (ORB descriptors are not mirror-invariant);
* optionally the words printed in the photo (:mod:`matching.ocr`).

The result is a frozen :class:`ImageSignature`. Storage keeps :meth:`ImageSignature.stored_fields` (small JSON)
apart from :meth:`ImageSignature.keypoint_bytes` (compact binary) and rebuilds it with
:meth:`ImageSignature.from_stored`. Version-1 signatures (one JSON dict, keypoints in base64) are converted by
:func:`upgrade_legacy_signature`. During the switch of the matcher, a signature also answers the version-1 dict
keys read-only (``sig["phash"]``, ``sig.get("orb")``): see :meth:`ImageSignature.legacy`.
"""

from __future__ import annotations

import base64
import io
import struct
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

__all__ = [
    "ANALYSIS_SIZE",
    "HASH_KINDS",
    "COMPARABLE_SINCE",
    "LEGACY_UPGRADE_VERSION",
    "ORB_FEATURES",
    "SIGNATURE_VERSION",
    "THUMB_SIZE",
    "HashSet",
    "ImageDecodeError",
    "ImageSignature",
    "Keypoints",
    "Region",
    "analysis_size",
    "compute_image_signature",
    "decode_orb",
    "decode_thumb",
    "lightness",
    "upgrade_legacy_signature",
]

#: Version of :func:`compute_image_signature`'s output; stored signatures of another version are recomputed by
#: the signature stage. 3: collages without gutters split as grids (:func:`_grid_cells`), up to 16 cells.
#: 4: hashes and keypoints of HSL lightness (:func:`lightness`) instead of luma.
SIGNATURE_VERSION = 4
#: Oldest version whose hashes and keypoints compare with the current ones (the same grey channel): what
#: :meth:`ImageSignature.from_stored` reads by default. An older row is left out of matching (never compared
#: wrongly) until the signature stage, which recomputes every older version, replaces it.
COMPARABLE_SINCE = 4
#: The version :func:`upgrade_legacy_signature` gives a converted version-1 signature (luma, no grid cells).
LEGACY_UPGRADE_VERSION = 2
#: Shorter side, in pixels, of the analysed image every hash and keypoint is computed from.
ANALYSIS_SIZE = 320
#: The 64-bit perceptual hashes in a signature; each also exists mirrored (``<kind>_m``).
HASH_KINDS: tuple[str, ...] = ("phash", "dhash", "whash")
HASH_FIELDS: tuple[str, ...] = tuple(k + s for s in ("", "_m") for k in HASH_KINDS)
#: Side of the colour thumbnail (pixels) kept for colour checks.
THUMB_SIZE = 24
#: Most ORB keypoints kept per image (the mirror image keeps half as many).
ORB_FEATURES = 256
#: Most regions (collage cells) hashed per image (a 4x4 grid).
MAX_REGIONS = 16
#: A border is "uniform" when its pixels differ from the background estimate by at most this (0-255).
_BORDER_TOLERANCE = 24
#: The content box must be smaller than this fraction of the image area to count as trimmed.
_TRIM_MIN_GAIN = 0.94
_KEYPOINT_MAGIC = b"LKP"
_KEYPOINT_FORMAT = 1


class ImageDecodeError(ValueError):
    """The bytes are not a decodable image, are truncated, or exceed the pixel limit."""


# --- value objects -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HashSet:
    """Six 64-bit perceptual hashes as 16 lower-case hex digits: of an image and (``_m``) of its mirror."""

    phash: str
    dhash: str
    whash: str
    phash_m: str
    dhash_m: str
    whash_m: str

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in HASH_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HashSet:
        """Raises ValueError unless every field is 16 hex digits."""
        values = {}
        for k in HASH_FIELDS:
            v = data.get(k) if isinstance(data, Mapping) else None
            if not isinstance(v, str) or len(v) != 16:
                raise ValueError(f"hash {k!r} is not 16 hex digits")
            int(v, 16)
            values[k] = v.lower()
        return cls(**values)

    def value(self, kind: str, *, mirrored: bool = False) -> int:
        """One hash as an unsigned 64-bit integer."""
        return int(getattr(self, kind + ("_m" if mirrored else "")), 16)


@dataclass(frozen=True, slots=True)
class Region:
    """A part of the image hashed on its own (a collage cell): ``box`` in analysed-image pixels
    (left, top, right, bottom), ``hashes`` of that part."""

    box: tuple[int, int, int, int]
    hashes: HashSet


@dataclass(frozen=True, eq=False)
class Keypoints:
    """ORB features, strongest first: ``xy`` float32 (n, 2) positions in analysed-image pixels (stored to 1/8
    pixel), ``descriptors`` uint8 (n, 32), 256-bit binary descriptors."""

    xy: np.ndarray
    descriptors: np.ndarray

    def __post_init__(self) -> None:
        if self.xy.shape != (len(self.descriptors), 2) or self.descriptors.shape[1:] != (32,):
            raise ValueError("keypoints: xy must be (n, 2) and descriptors (n, 32)")

    def __len__(self) -> int:
        return len(self.descriptors)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Keypoints) and np.array_equal(self.xy, other.xy)
                and np.array_equal(self.descriptors, other.descriptors))

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def empty(cls) -> Keypoints:
        return cls(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))


@dataclass(frozen=True)
class ImageSignature:
    """What matching knows about one image (see the module doc). Sizes and boxes are pixels; ``box``
    tuples are (left, top, right, bottom) in the analysed image, whose size is ``analysed_size`` (w, h)."""

    version: int
    width: int
    """Original width, pixels."""
    height: int
    """Original height, pixels."""
    analysed_size: tuple[int, int]
    hashes: HashSet
    trimmed: HashSet | None
    """Hashes of ``content_box`` (uniform padding cut off), or None when there was no such padding."""
    content_box: tuple[int, int, int, int] | None
    thumb: bytes
    """THUMB_SIZE x THUMB_SIZE x 3 bytes, row-major mean RGB of the analysed image (aspect not kept)."""
    regions: tuple[Region, ...] = ()
    keypoints: Keypoints | None = None
    keypoints_mirrored: Keypoints | None = None
    text: tuple[str, ...] | None = None
    """Words read in the image (normalised by :func:`matching.ocr.normalise_words`); None when OCR did not
    run or timed out, () when it found nothing."""
    text_boxes: tuple[tuple[float, float, float, float], ...] | None = None
    """Where each word of ``text`` was read: (left, top, right, bottom) as fractions 0-1 of the image; None
    when unknown (text given without places)."""
    _legacy_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    # -- persistence --------------------------------------------------------------------------------
    def stored_fields(self) -> dict[str, Any]:
        """A small JSON-able dict (no keypoints; about 2.5 KB with the thumbnail)::

            {"v": 2, "width": 1200, "height": 1200, "size": [320, 320],
             "hashes": {"phash": "<16 hex>", ..., "whash_m": ...}, "trimmed": {...} | null,
             "box": [l, t, r, b] | null, "regions": [{"box": [l, t, r, b], "hashes": {...}}, ...],
             "thumb": "<base64 of 24*24*3 bytes>", "text": ["word", ...] | null,
             "text_boxes": [[l, t, r, b] (fractions), one per word] | null}
        """
        return {
            "v": self.version,
            "width": self.width,
            "height": self.height,
            "size": list(self.analysed_size),
            "hashes": self.hashes.as_dict(),
            "trimmed": self.trimmed.as_dict() if self.trimmed else None,
            "box": list(self.content_box) if self.content_box else None,
            "regions": [{"box": list(r.box), "hashes": r.hashes.as_dict()} for r in self.regions],
            "thumb": base64.b64encode(self.thumb).decode("ascii"),
            "text": list(self.text) if self.text is not None else None,
            "text_boxes": [[round(v, 4) for v in b] for b in self.text_boxes] if self.text_boxes is not None else None,
        }

    def keypoint_bytes(self) -> bytes | None:
        """Both keypoint sets in one binary blob, or None when there are none. Layout (little-endian):
        ``b"LKP"``, format byte (1), uint16 n_plain, uint16 n_mirrored, then per set n*2 uint16 (x, y in
        1/8 pixel) followed by n*32 descriptor bytes. 36 bytes per keypoint (about 11 KB for 300)."""
        plain, mirrored = self.keypoints, self.keypoints_mirrored
        if plain is None and mirrored is None:
            return None
        sets = [plain or Keypoints.empty(), mirrored or Keypoints.empty()]
        parts = [_KEYPOINT_MAGIC, struct.pack("<BHH", _KEYPOINT_FORMAT, len(sets[0]), len(sets[1]))]
        for kp in sets:
            parts.append(np.clip(np.round(kp.xy * 8.0), 0, 65535).astype("<u2").tobytes())
            parts.append(np.ascontiguousarray(kp.descriptors, dtype=np.uint8).tobytes())
        return b"".join(parts)

    @classmethod
    def from_stored(cls, fields: Mapping[str, Any], keypoints: bytes | None, *,
                    oldest: int = COMPARABLE_SINCE) -> ImageSignature:
        """Rebuild a signature from :meth:`stored_fields` and :meth:`keypoint_bytes`. Raises ValueError on a
        malformed row or one of a version before ``oldest`` (the caller skips that image; a migration that
        only converts the format passes ``oldest=LEGACY_UPGRADE_VERSION``)."""
        try:
            version = int(fields["v"])
            if not oldest <= version <= SIGNATURE_VERSION:
                raise ValueError(f"signature version {fields['v']!r}, expected {oldest} to {SIGNATURE_VERSION}")
            thumb = base64.b64decode(fields["thumb"], validate=True)
            if len(thumb) != THUMB_SIZE * THUMB_SIZE * 3:
                raise ValueError("thumbnail has the wrong size")
            text = fields.get("text")
            boxes = fields.get("text_boxes")
            text_boxes = None
            if isinstance(boxes, list) and isinstance(text, list) and len(boxes) == len(text):
                text_boxes = tuple(tuple(float(v) for v in b[:4]) for b in boxes[:64])
            sig = cls(
                version=version,
                width=int(fields["width"]),
                height=int(fields["height"]),
                analysed_size=_pair(fields["size"]),
                hashes=HashSet.from_dict(fields["hashes"]),
                trimmed=HashSet.from_dict(fields["trimmed"]) if fields.get("trimmed") else None,
                content_box=_box4(fields["box"]) if fields.get("box") else None,
                regions=tuple(Region(_box4(r["box"]), HashSet.from_dict(r["hashes"]))
                              for r in (fields.get("regions") or ())[:MAX_REGIONS]),
                thumb=thumb,
                text=tuple(str(w) for w in text[:64]) if isinstance(text, list) else None,
                text_boxes=text_boxes,  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # binascii.Error is a ValueError
            raise ValueError(f"malformed stored signature: {exc}") from None
        if keypoints is None:
            return sig
        plain, mirrored = _unpack_keypoints(keypoints)
        return replace(sig, keypoints=plain, keypoints_mirrored=mirrored)

    def with_text(self, words: Iterable[str] | None,
                  boxes: Iterable[tuple[float, float, float, float]] | None = None) -> ImageSignature:
        """A copy carrying the OCR words (None: OCR did not run) and, optionally, where each was read."""
        text = tuple(words) if words is not None else None
        places = tuple(boxes) if boxes is not None else None
        if places is not None and (text is None or len(places) != len(text)):
            raise ValueError("one box per word")
        return replace(self, text=text, text_boxes=places)

    def without_keypoints(self) -> ImageSignature:
        return replace(self, keypoints=None, keypoints_mirrored=None)

    # -- transitional dict view (version-1 keys), until the matcher has switched --------------------------
    def legacy(self) -> dict[str, Any]:
        """The version-1 dict this signature corresponds to (see :func:`upgrade_legacy_signature`)."""
        if not self._legacy_cache:
            out: dict[str, Any] = {"v": 1, "width": self.width, "height": self.height, **self.hashes.as_dict()}
            out["trim"] = self.trimmed.as_dict() if self.trimmed else None
            out["box"] = list(self.content_box) if self.content_box else None
            out["thumb"] = {"size": list(self.analysed_size), "rgb": base64.b64encode(self.thumb).decode("ascii")}
            out["orb"] = _legacy_orb(self.keypoints, self.analysed_size)
            out["orb_m"] = _legacy_orb(self.keypoints_mirrored, self.analysed_size)
            self._legacy_cache.update(out)
        return self._legacy_cache

    def __getitem__(self, key: str) -> Any:
        return self.legacy()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.legacy().get(key, default)

    def keys(self):  # noqa: ANN201 (dict view)
        return self.legacy().keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.legacy())

    def __len__(self) -> int:
        return len(self.legacy())

    def __contains__(self, key: object) -> bool:
        return key in self.legacy()


Mapping.register(ImageSignature)  # the transitional dict view: ``isinstance(sig, Mapping)`` holds


def _pair(value: Any) -> tuple[int, int]:
    a, b = (int(v) for v in value)
    if a <= 0 or b <= 0:
        raise ValueError("size must be positive")
    return a, b


def _box4(value: Any) -> tuple[int, int, int, int]:
    left, top, right, bottom = (int(v) for v in value)
    if right <= left or bottom <= top:
        raise ValueError("empty box")
    return left, top, right, bottom


def _unpack_keypoints(blob: bytes) -> tuple[Keypoints, Keypoints]:
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise ValueError("keypoints must be bytes")
    blob = bytes(blob)
    head = len(_KEYPOINT_MAGIC) + 5
    if len(blob) < head or blob[:3] != _KEYPOINT_MAGIC:
        raise ValueError("malformed keypoints: bad header")
    fmt, n1, n2 = struct.unpack("<BHH", blob[3:head])
    if fmt != _KEYPOINT_FORMAT:
        raise ValueError(f"keypoints format {fmt}, expected {_KEYPOINT_FORMAT}")
    if len(blob) != head + 36 * (n1 + n2):  # 4 bytes of x, y + 32 descriptor bytes each
        raise ValueError("malformed keypoints: wrong length")
    out = []
    pos = head
    for n in (n1, n2):
        xy = np.frombuffer(blob, dtype="<u2", count=2 * n, offset=pos).reshape(n, 2).astype(np.float32) / 8.0
        pos += 4 * n
        desc = np.frombuffer(blob, dtype=np.uint8, count=32 * n, offset=pos).reshape(n, 32).copy()
        pos += 32 * n
        out.append(Keypoints(xy, desc))
    return out[0], out[1]


def _legacy_orb(kp: Keypoints | None, size: tuple[int, int]) -> dict[str, Any]:
    if kp is None or len(kp) == 0:
        return {"n": 0, "size": list(size), "xy": "", "desc": ""}
    xy_q = np.clip(np.round(kp.xy * 8.0), 0, 65535).astype("<u2")
    return {"n": len(kp), "size": list(size), "xy": base64.b64encode(xy_q.tobytes()).decode("ascii"),
            "desc": base64.b64encode(np.ascontiguousarray(kp.descriptors).tobytes()).decode("ascii")}


# --- computing ---------------------------------------------------------------------------------------------
def compute_image_signature(
    data: bytes | Path,
    *,
    max_pixels: int,
    ocr: bool = False,
    ocr_timeout_s: float = 2.0,
    keypoints: bool = True,
    orb_features: int = ORB_FEATURES,
) -> ImageSignature:
    """Decode ``data`` (raw bytes or a file path) once and return its signature (see module doc).

    ``max_pixels`` is the largest width*height accepted (decompression-bomb guard, checked on the header before
    any pixel is decoded). With ``ocr``, the words printed in the image are read (:func:`matching.ocr.read_text`,
    at most ``ocr_timeout_s`` seconds; a timeout leaves ``text`` None). Raises :class:`ImageDecodeError` with a
    one-line message on anything that cannot be decoded.
    """
    rgb, (width, height), ocr_source = _decode(data, max_pixels=max_pixels, keep_for_ocr=ocr)
    grey = lightness(rgb)
    h, w = grey.shape
    box = _content_box(grey)
    kp = kp_m = None
    if keypoints:
        kp = _orb(grey, orb_features)
        kp_m = _orb(np.ascontiguousarray(grey[:, ::-1]), max(1, orb_features // 2))
    text = boxes = None
    if ocr:
        from matching.ocr import read_words  # deferred: only the OCR path needs it

        words = read_words(ocr_source, timeout_s=ocr_timeout_s)
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
                    # DCT scaling to the largest eighth, quarter or half still at least 3/4 of the analysis
                    # size (OCR wants about 1000 pixels a side).
                    target = analysis_size(width, height)
                    if keep_for_ocr:
                        scale = min(1.0, 1000 / max(width, height))
                        target = (max(1, round(width * scale)), max(1, round(height * scale)))
                    img.draft("RGB", (max(1, target[0] * 3 // 4), max(1, target[1] * 3 // 4)))
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


def _bits_hex(bits: np.ndarray) -> str:
    """imagehash's hex form: the bit matrix read row-major, most significant bit first."""
    return f"{int(''.join('1' if b else '0' for b in bits.flatten()), 2):016x}"


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
        phash=_bits_hex(low > np.median(low)),
        dhash=_bits_hex(d[:, 1:] > d[:, :-1]),
        whash=_bits_hex(blocks > np.median(blocks)),
        phash_m=_bits_hex(low_m > np.median(low_m)),
        dhash_m=_bits_hex(d_m[:, 1:] > d_m[:, :-1]),
        whash_m=_bits_hex(blocks[:, ::-1] > np.median(blocks)),
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


def thumb_array(sig: ImageSignature) -> np.ndarray:
    """The thumbnail as float32 (THUMB_SIZE, THUMB_SIZE, 3)."""
    return np.frombuffer(sig.thumb, dtype=np.uint8).reshape(THUMB_SIZE, THUMB_SIZE, 3).astype(np.float32)


def _orb(grey: np.ndarray, n_features: int) -> Keypoints:
    """ORB keypoints, at most ``n_features``, spread over the image: three times as many are detected, then
    each cell of a 4x4 grid keeps its strongest up to a sixteenth of the budget and the rest of the budget
    goes to the strongest left over. A busy new background then cannot crowd the product's own features out."""
    detector = cv2.ORB_create(nfeatures=max(1, 3 * n_features), scaleFactor=1.2, nlevels=8, edgeThreshold=15,
                              patchSize=31, fastThreshold=10)
    found, descriptors = detector.detectAndCompute(grey, None)
    if descriptors is None or not found:
        return Keypoints.empty()
    h, w = grey.shape
    pts = np.array([k.pt for k in found], dtype=np.float64)
    response = np.array([k.response for k in found], dtype=np.float64)
    cell = (np.minimum(pts[:, 1] * 4 // h, 3) * 4 + np.minimum(pts[:, 0] * 4 // w, 3)).astype(int)
    strongest = np.lexsort((np.arange(len(found)), -response))  # by response, ties by detection order
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
    chosen = sorted(chosen[:n_features], key=lambda i: (-response[i], i))  # strongest first
    # Stored to 1/8 pixel: round here so a signature equals itself after a round trip through storage.
    xy = np.round(pts[chosen] * 8.0) / 8.0
    return Keypoints(xy.astype(np.float32), np.ascontiguousarray(descriptors[chosen], dtype=np.uint8))


# --- version 1 ---------------------------------------------------------------------------------------------
def upgrade_legacy_signature(old: Mapping[str, Any]) -> ImageSignature:
    """A version-1 signature dict (the old ``images.hashes`` JSON: ``v``, ``width``, ``height``, six hashes,
    ``trim``, ``box``, ``thumb`` {size, rgb}, ``orb``/``orb_m`` {n, size, xy, desc}) as an ImageSignature.
    Keypoints and hashes are kept as they are (no regions, no text: those need the pixels). Raises ValueError
    when ``old`` is not a version-1 signature."""
    if not isinstance(old, Mapping) or old.get("v") != 1:
        raise ValueError("not a version-1 signature")
    try:
        thumb = old.get("thumb") or {}
        size = _pair(thumb["size"]) if thumb.get("size") else (1, 1)
        raw = base64.b64decode(thumb["rgb"]) if thumb.get("rgb") else b""
        if len(raw) != THUMB_SIZE * THUMB_SIZE * 3:
            raw = bytes(THUMB_SIZE * THUMB_SIZE * 3)
        box = old.get("box")
        plain, mirrored = (_keypoints_from_legacy(old.get(k)) for k in ("orb", "orb_m"))
        return ImageSignature(
            version=LEGACY_UPGRADE_VERSION, width=int(old["width"]), height=int(old["height"]), analysed_size=size,
            hashes=HashSet.from_dict(old), trimmed=HashSet.from_dict(old["trim"]) if old.get("trim") else None,
            content_box=_box4(box) if box else None, thumb=raw, keypoints=plain, keypoints_mirrored=mirrored,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed version-1 signature: {exc}") from None


def _keypoints_from_legacy(orb: Any) -> Keypoints | None:
    if not isinstance(orb, Mapping):
        return None
    xy, desc = decode_orb(orb)
    return Keypoints(xy, desc)


def decode_orb(orb: Any) -> tuple[np.ndarray, np.ndarray]:
    """Transitional (version-1 dicts): ``(xy, descriptors)`` from an ``orb`` entry: float32 (n, 2) pixel
    coordinates and uint8 (n, 32) descriptors; empty arrays for no keypoints or a malformed entry."""
    empty = np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    if not isinstance(orb, Mapping) or not orb.get("n"):
        return empty
    try:
        n = int(orb["n"])
        xy = np.frombuffer(base64.b64decode(orb["xy"]), dtype="<u2").reshape(n, 2).astype(np.float32) / 8.0
        desc = np.frombuffer(base64.b64decode(orb["desc"]), dtype=np.uint8).reshape(n, 32)
    except (KeyError, TypeError, ValueError):  # binascii.Error is a ValueError: a damaged stored signature
        return empty
    return xy, desc


def decode_thumb(sig: Any) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Transitional: ``(grid, (w, h))``, the thumbnail as float32 (THUMB_SIZE, THUMB_SIZE, 3) and the analysed
    image size it covers, from an ImageSignature or a version-1 dict; None when missing or malformed."""
    if isinstance(sig, ImageSignature):
        return thumb_array(sig), sig.analysed_size
    thumb = sig.get("thumb") if isinstance(sig, Mapping) else None
    if not thumb:
        return None
    try:
        raw = base64.b64decode(thumb["rgb"])
        grid = np.frombuffer(raw, dtype=np.uint8).reshape(THUMB_SIZE, THUMB_SIZE, 3).astype(np.float32)
        w, h = (int(v) for v in thumb["size"])
    except (KeyError, TypeError, ValueError):
        return None
    return grid, (w, h)
