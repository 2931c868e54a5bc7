"""The image signature: everything matching knows about one image, as one frozen, typed value.

:class:`ImageSignature` is the one type an image is known by from the signature stage to the matcher and the
review app. :func:`matching.images.compute_image_signature` makes it from the pixels (one decode);
:mod:`matching.signature_codec` is the one reader and writer of its stored form (the ``image_signatures``
row); :mod:`matching.image_match` and :mod:`matching.image_index` compare signatures and never see pixels.

Parts, all of the *analysed image* (the decoded image reduced so that its shorter side is
:data:`matching.images.ANALYSIS_SIZE` pixels; ``analysed_size`` is its (width, height)):

* :class:`HashSet`: pHash, dHash and wHash of the image and of its mirror, each a :class:`Hash64` with
  imagehash's algebra (``a - b`` is the Hamming distance, ``str(h)`` the 16 hex digits, ``int(h)`` the
  unsigned integer);
* ``trimmed`` and ``content_box``: the same hashes of the content when a uniform border (padding) was cut off;
* ``regions``: collage cells (:class:`Region`), each with its hashes;
* ``thumb``: a :data:`THUMB_SIZE` x :data:`THUMB_SIZE` mean-RGB grid, for colour checks;
* ``keypoints`` and ``keypoints_mirrored``: ORB features (:class:`Keypoints`), of the image and of its mirror;
* ``local`` and ``local_mirrored``: SIFT features (:class:`Keypoints` with 128-byte descriptors), of the image
  and of its mirror: multi-scale local features for "the reference is a region of this photo" and "this photo
  shows that pack" (:mod:`matching.image_match`, the instance stage);
* ``text`` and ``text_boxes``: the words read in the photo (OCR) and where.

Boxes are (left, top, right, bottom): in analysed-image pixels, except ``text_boxes`` (fractions 0-1 of the
image). This module needs numpy only: no decoder, no OpenCV.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "COMPARABLE_SINCE",
    "HASH_FIELDS",
    "HASH_KINDS",
    "MAX_REGIONS",
    "SIGNATURE_VERSION",
    "THUMB_SIZE",
    "Box",
    "Hash64",
    "HashSet",
    "ImageSignature",
    "Keypoints",
    "Region",
]

#: Version of :func:`matching.images.compute_image_signature`'s output; bump it with any change there that
#: computes other values. Stored signatures of another version are recomputed by the signature stage.
#: 3: collages without gutters split as grids, up to 16 cells. 4: hashes and keypoints of HSL lightness
#: instead of luma. 5: SIFT features (``local``, ``local_mirrored``) for region and instance matching.
SIGNATURE_VERSION = 5
#: Oldest version whose hashes and keypoints compare with the current ones (the same grey channel): what
#: :func:`matching.signature_codec.decode` reads by default. An older row is left out of matching (never
#: compared wrongly) until the signature stage, which recomputes every older version, replaces it.
COMPARABLE_SINCE = 4
#: The 64-bit perceptual hashes in a signature; each also exists mirrored (``<kind>_m``).
HASH_KINDS: tuple[str, ...] = ("phash", "dhash", "whash")
#: The six fields of a :class:`HashSet`: the kinds, then the kinds of the mirror image.
HASH_FIELDS: tuple[str, ...] = tuple(k + s for s in ("", "_m") for k in HASH_KINDS)
#: Side of the colour thumbnail (pixels).
THUMB_SIZE = 24
#: Most regions (collage cells) of one signature (a 4x4 grid).
MAX_REGIONS = 16

#: (left, top, right, bottom).
Box = tuple[int, int, int, int]
_HEX_DIGITS = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Hash64:
    """A 64-bit perceptual hash, with imagehash's algebra.

    ``a - b`` is the Hamming distance (the number of differing bits, 0-64); ``int(h)`` the unsigned integer;
    ``str(h)`` its 16 lower-case hex digits, imagehash's hex form (the 8x8 bit matrix read row-major, most
    significant bit first), so ``Hash64.from_hex(str(h)) == h`` and ``str(h) == str(imagehash.phash(...))``
    for the same bits."""

    value: int

    def __post_init__(self) -> None:
        if type(self.value) is not int or not 0 <= self.value < 1 << 64:
            raise ValueError(f"a 64-bit hash must be an integer 0 <= value < 2**64, not {self.value!r}")

    @classmethod
    def from_hex(cls, text: object) -> Hash64:
        """The hash of 16 hex digits (either case); ValueError for anything else."""
        if not isinstance(text, str) or len(text) != 16 or not _HEX_DIGITS.issuperset(text.lower()):
            raise ValueError(f"a 64-bit hash is 16 hex digits, not {str(text)[:40]!r}")
        return cls(int(text, 16))

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> Hash64:
        """The hash of 64 booleans (any shape, read row-major), the first the most significant bit."""
        flat = np.asarray(bits, dtype=bool).ravel()
        if flat.size != 64:
            raise ValueError(f"a 64-bit hash needs 64 bits, not {flat.size}")
        return cls(int.from_bytes(np.packbits(flat).tobytes(), "big"))

    def __sub__(self, other: Hash64) -> int:
        if not isinstance(other, Hash64):
            return NotImplemented
        return (self.value ^ other.value).bit_count()

    def __int__(self) -> int:
        return self.value

    def __str__(self) -> str:
        return f"{self.value:016x}"

    def __repr__(self) -> str:
        return f"Hash64({self})"


@dataclass(frozen=True, slots=True)
class HashSet:
    """pHash, dHash and wHash of an image and (``*_m``) of its mirror image.

    ``a - b`` is the Hamming distance of each kind, (pHash, dHash, wHash), of the two images as they are;
    ``a.mirrored() - b`` compares the mirror image of ``a`` with ``b``. :meth:`to_hex` and :meth:`from_hex`
    are the hex round trip of the stored form."""

    phash: Hash64
    dhash: Hash64
    whash: Hash64
    phash_m: Hash64
    dhash_m: Hash64
    whash_m: Hash64

    def of(self, kind: str, *, mirrored: bool = False) -> Hash64:
        """The hash of ``kind`` (one of :data:`HASH_KINDS`) of the image, or of its mirror image."""
        if kind not in HASH_KINDS:
            raise KeyError(kind)
        return getattr(self, kind + "_m" if mirrored else kind)

    def __sub__(self, other: HashSet) -> tuple[int, int, int]:
        if not isinstance(other, HashSet):
            return NotImplemented
        return self.phash - other.phash, self.dhash - other.dhash, self.whash - other.whash

    def mirrored(self) -> HashSet:
        """The hashes of the mirror image (plain and mirrored swapped)."""
        return HashSet(self.phash_m, self.dhash_m, self.whash_m, self.phash, self.dhash, self.whash)

    def to_hex(self) -> dict[str, str]:
        """``{"phash": "<16 hex digits>", ..., "whash_m": ...}``, the six fields of :data:`HASH_FIELDS`."""
        return {k: str(getattr(self, k)) for k in HASH_FIELDS}

    @classmethod
    def from_hex(cls, data: Mapping[str, object]) -> HashSet:
        """The inverse of :meth:`to_hex`; ValueError unless each of the six fields is 16 hex digits."""
        if not isinstance(data, Mapping):
            raise ValueError("hashes must be a mapping of the six hash fields")
        values = {}
        for k in HASH_FIELDS:
            try:
                values[k] = Hash64.from_hex(data.get(k))
            except ValueError:
                raise ValueError(f"hash {k!r} is not 16 hex digits") from None
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Region:
    """A part of the image hashed on its own (a collage cell): ``box`` in analysed-image pixels, ``hashes``
    of that part."""

    box: Box
    hashes: HashSet


@dataclass(frozen=True, eq=False)
class Keypoints:
    """Local features, strongest first: ``xy`` float32 (n, 2) positions in analysed-image pixels (multiples of
    1/8 pixel, as stored), ``descriptors`` uint8: (n, 32), 256-bit binary ORB descriptors, or (n, 128), SIFT
    descriptors (OpenCV's 8-bit form, compared by Euclidean distance)."""

    xy: np.ndarray
    descriptors: np.ndarray

    def __post_init__(self) -> None:
        if self.xy.shape != (len(self.descriptors), 2) or self.descriptors.shape[1:] not in ((32,), (128,)):
            raise ValueError("keypoints: xy must be (n, 2) and descriptors (n, 32) or (n, 128)")

    def __len__(self) -> int:
        return len(self.descriptors)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Keypoints) and np.array_equal(self.xy, other.xy)
                and np.array_equal(self.descriptors, other.descriptors))

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def empty(cls, width: int = 32) -> Keypoints:
        """No features, with descriptors ``width`` bytes wide (32: ORB, 128: SIFT)."""
        return cls(np.zeros((0, 2), np.float32), np.zeros((0, width), np.uint8))


@dataclass(frozen=True)
class ImageSignature:
    """What matching knows about one image (see the module doc). Sizes and boxes are pixels; ``box``
    tuples are (left, top, right, bottom) in the analysed image, whose size is ``analysed_size`` (w, h)."""

    version: int
    """:data:`SIGNATURE_VERSION` of the code that computed it."""
    width: int
    """Original width, pixels."""
    height: int
    """Original height, pixels."""
    analysed_size: tuple[int, int]
    hashes: HashSet
    trimmed: HashSet | None
    """Hashes of ``content_box`` (uniform padding cut off), or None when there was no such padding."""
    content_box: Box | None
    thumb: bytes
    """THUMB_SIZE x THUMB_SIZE x 3 bytes, row-major mean RGB of the analysed image (aspect not kept)."""
    regions: tuple[Region, ...] = ()
    """Collage cells, largest first; at most :data:`MAX_REGIONS`; () for an image that is no collage."""
    keypoints: Keypoints | None = None
    """None when not computed or not loaded (:func:`matching.signature_codec.decode` without the blob)."""
    keypoints_mirrored: Keypoints | None = None
    local: Keypoints | None = None
    """SIFT features (128-byte descriptors) of the analysed image; None when not computed or not loaded."""
    local_mirrored: Keypoints | None = None
    """SIFT features of the mirror image (half as many)."""
    text: tuple[str, ...] | None = None
    """Words read in the image (normalised by :func:`matching.ocr.normalise_words`, at most
    :data:`matching.ocr.MAX_WORDS`); None when OCR did not run or timed out, () when it found nothing."""
    text_boxes: tuple[tuple[float, float, float, float], ...] | None = None
    """Where each word of ``text`` was read: (left, top, right, bottom) as fractions 0-1 of the image; None
    when unknown (text given without places)."""

    def thumb_array(self) -> np.ndarray:
        """The thumbnail as float32 (THUMB_SIZE, THUMB_SIZE, 3): pixel (u, v) is the mean colour around
        analysed-image pixel ((u + 0.5) * w / THUMB_SIZE, (v + 0.5) * h / THUMB_SIZE)."""
        return np.frombuffer(self.thumb, dtype=np.uint8).reshape(THUMB_SIZE, THUMB_SIZE, 3).astype(np.float32)

    def with_text(self, words: Iterable[str] | None,
                  boxes: Iterable[tuple[float, float, float, float]] | None = None) -> ImageSignature:
        """A copy carrying the OCR words (None: OCR did not run) and, optionally, where each was read."""
        text = tuple(words) if words is not None else None
        places = tuple(boxes) if boxes is not None else None
        if places is not None and (text is None or len(places) != len(text)):
            raise ValueError("one box per word")
        return replace(self, text=text, text_boxes=places)

    def without_keypoints(self) -> ImageSignature:
        return replace(self, keypoints=None, keypoints_mirrored=None, local=None, local_mirrored=None)
