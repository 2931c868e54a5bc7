"""The stored form of an :class:`~matching.signature.ImageSignature`: the one writer and the one reader.

A signature is stored as one ``image_signatures`` row (:class:`storage.models.ImageSignatureRow`) in two parts:

* ``fields``, small JSON (about 3 KB, most of it the thumbnail)::

    {"v": 4, "width": 1200, "height": 1200, "size": [320, 320],
     "hashes": {"phash": "<16 hex>", ..., "whash_m": ...}, "trimmed": {...} | null,
     "box": [l, t, r, b] | null, "regions": [{"box": [l, t, r, b], "hashes": {...}}, ...],
     "thumb": "<base64 of 24*24*3 bytes>", "text": ["word", ...] | null,
     "text_boxes": [[l, t, r, b] (fractions), one per word] | null, "ocr_v": 1}

  ``ocr_v`` (the :data:`matching.ocr.OCR_VERSION` that read ``text``) is present when ``text`` is not null;
* ``keypoints``, binary, little-endian: ``b"LKP"``, a format byte (2), uint16 n_plain, uint16 n_mirrored, then
  per set n x 2 uint16 (x, y in 1/8 pixel) followed by n x 32 descriptor bytes: 36 bytes an ORB keypoint
  (about 14 KB for 384); then (format 2) the SIFT features the same way: uint16 n_plain, uint16 n_mirrored,
  per set n x 2 uint16 and n x 128 descriptor bytes (132 bytes a feature, about 79 KB for 600). Format 1
  (ORB only, signature version 4) is still read: such a signature has no SIFT features until the signature
  stage recomputes it, and is written again for a signature without SIFT features. Migration
  ``0002_signatures``'s downgrade reads format 1 only: it skips format-2 rows (their images are signed again).
  Null when the signature has no keypoints.

:func:`encode` writes it (the signature stage), :func:`decode` reads it (the matcher's loader,
``services/matchdata.py``), :func:`reusable_text` reads the words of an older row so that a new signature
version need not read them again (the stage). Nothing else parses these rows. Version-1 rows (one JSON dict
with base64 keypoints) were converted by migration ``0002_signatures``, which keeps its own frozen converter.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from matching.ocr import MAX_WORDS, OCR_VERSION, normalise_words
from matching.signature import (
    COMPARABLE_SINCE,
    MAX_REGIONS,
    SIGNATURE_VERSION,
    THUMB_SIZE,
    Box,
    HashSet,
    ImageSignature,
    Keypoints,
    Region,
)

__all__ = ["KEYPOINT_FORMAT", "EncodedSignature", "decode", "encode", "reusable_text"]

_KEYPOINT_MAGIC = b"LKP"
#: Layout version of the keypoint blob (the format byte after the magic). 2: SIFT sets after the ORB sets.
KEYPOINT_FORMAT = 2
_HEAD = struct.Struct("<BHH")
_COUNTS = struct.Struct("<HH")
#: Bytes per stored keypoint: x and y as uint16, then the 32-byte descriptor.
_KEYPOINT_BYTES = 4 + 32
#: Bytes per stored SIFT feature: x and y as uint16, then the 128-byte descriptor.
_LOCAL_BYTES = 4 + 128
#: Signature version from which a row without an ``ocr_v`` stamp was read by OCR version 1 (every version-3
#: row was made after the last change to :mod:`matching.ocr` before the stamp existed).
_UNSTAMPED_OCR_SINCE = 3

Words = tuple[str, ...]
Places = tuple[tuple[float, float, float, float], ...]


@dataclass(frozen=True, slots=True)
class EncodedSignature:
    """The two stored parts of a signature: ``fields`` (JSON-able dict) and ``keypoints`` (bytes or None)."""

    fields: dict[str, Any]
    keypoints: bytes | None


def encode(sig: ImageSignature, *, ocr_version: int = OCR_VERSION) -> EncodedSignature:
    """The stored form of ``sig`` (see the module doc); its words are stamped as read by ``ocr_version``
    (:func:`matching.ocr.ocr_version` of the engine that read them)."""
    fields: dict[str, Any] = {
        "v": sig.version,
        "width": sig.width,
        "height": sig.height,
        "size": list(sig.analysed_size),
        "hashes": sig.hashes.to_hex(),
        "trimmed": sig.trimmed.to_hex() if sig.trimmed else None,
        "box": list(sig.content_box) if sig.content_box else None,
        "regions": [{"box": list(r.box), "hashes": r.hashes.to_hex()} for r in sig.regions],
        "thumb": base64.b64encode(sig.thumb).decode("ascii"),
        "text": list(sig.text) if sig.text is not None else None,
        "text_boxes": [[round(v, 4) for v in b] for b in sig.text_boxes] if sig.text_boxes is not None else None,
    }
    if sig.text is not None:
        fields["ocr_v"] = ocr_version
    return EncodedSignature(fields, _keypoint_bytes(sig.keypoints, sig.keypoints_mirrored, sig.local,
                                                    sig.local_mirrored))


def decode(fields: Mapping[str, Any], keypoints: bytes | None, *, oldest: int = COMPARABLE_SINCE) -> ImageSignature:
    """The signature stored as ``fields`` and ``keypoints`` (None: without keypoints). Raises ValueError on a
    malformed row or one of a version before ``oldest`` (the caller leaves that image out; a version older
    than :data:`~matching.signature.COMPARABLE_SINCE` hashed another grey channel and would miss copies)."""
    try:
        version = int(fields["v"])
        if not oldest <= version <= SIGNATURE_VERSION:
            raise ValueError(f"signature version {fields['v']!r}, expected {oldest} to {SIGNATURE_VERSION}")
        thumb = base64.b64decode(fields["thumb"], validate=True)
        if len(thumb) != THUMB_SIZE * THUMB_SIZE * 3:
            raise ValueError("thumbnail has the wrong size")
        text, places = _text(fields)
        sig = ImageSignature(
            version=version,
            width=int(fields["width"]),
            height=int(fields["height"]),
            analysed_size=_pair(fields["size"]),
            hashes=HashSet.from_hex(fields["hashes"]),
            trimmed=HashSet.from_hex(fields["trimmed"]) if fields.get("trimmed") else None,
            content_box=_box(fields["box"]) if fields.get("box") else None,
            regions=tuple(Region(_box(r["box"]), HashSet.from_hex(r["hashes"]))
                          for r in (fields.get("regions") or ())[:MAX_REGIONS]),
            thumb=thumb,
            text=text,
            text_boxes=places,
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # binascii.Error: a ValueError
        raise ValueError(f"malformed stored signature: {exc}") from None
    if keypoints is None:
        return sig
    plain, mirrored, local, local_mirrored = _unpack_keypoints(keypoints)
    return replace(sig, keypoints=plain, keypoints_mirrored=mirrored, local=local, local_mirrored=local_mirrored)


def reusable_text(fields: Mapping[str, Any] | None, *, ocr_version: int = OCR_VERSION
                  ) -> tuple[Words, Places | None] | None:
    """(words, places) of an older signature's ``fields`` when the OCR of ``ocr_version`` (the engine in use)
    read them (its ``ocr_v``, or version 3 without one when that is version 1) and they were read at all; None otherwise, to read them again: OCR did not run or
    timed out, another OCR read them, or they are not what :func:`matching.ocr.read_words` stores."""
    if not isinstance(fields, Mapping) or not isinstance(fields.get("text"), list):
        return None
    stamp = fields.get("ocr_v")
    version = fields.get("v")
    if stamp != ocr_version and not (stamp is None and ocr_version == 1 and isinstance(version, int)
                                     and version >= _UNSTAMPED_OCR_SINCE):
        return None
    raw = fields["text"]
    if not all(isinstance(w, str) for w in raw) or tuple(raw) != normalise_words(raw):
        return None  # not what read_words would have stored: read again
    try:
        return _text(fields)  # type: ignore[return-value]  (text is a list: the words are not None)
    except (TypeError, ValueError, IndexError):
        return tuple(raw), None  # the words without their places


# --- parts -----------------------------------------------------------------------------------------------
def _text(fields: Mapping[str, Any]) -> tuple[Words | None, Places | None]:
    """The words (at most :data:`matching.ocr.MAX_WORDS`) and, when there is one box per word, their places."""
    text = fields.get("text")
    if not isinstance(text, list):
        return None, None
    words = tuple(str(w) for w in text[:MAX_WORDS])
    boxes = fields.get("text_boxes")
    if not isinstance(boxes, list) or len(boxes) != len(text):
        return words, None
    places = tuple((float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in boxes[:MAX_WORDS])
    return words, places


def _pair(value: Any) -> tuple[int, int]:
    a, b = (int(v) for v in value)
    if a <= 0 or b <= 0:
        raise ValueError("size must be positive")
    return a, b


def _box(value: Any) -> Box:
    left, top, right, bottom = (int(v) for v in value)
    if right <= left or bottom <= top:
        raise ValueError("empty box")
    return left, top, right, bottom


def _pack(parts: list[bytes], kp: Keypoints, width: int) -> None:
    parts.append(np.clip(np.round(kp.xy * 8.0), 0, 65535).astype("<u2").tobytes())
    parts.append(np.ascontiguousarray(kp.descriptors, dtype=np.uint8).reshape(-1, width).tobytes())


def _keypoint_bytes(plain: Keypoints | None, mirrored: Keypoints | None, local: Keypoints | None = None,
                    local_mirrored: Keypoints | None = None) -> bytes | None:
    if plain is None and mirrored is None and local is None and local_mirrored is None:
        return None
    sets = [plain or Keypoints.empty(), mirrored or Keypoints.empty()]
    if local is None and local_mirrored is None:  # a version-4 signature: written as it was read (format 1)
        parts = [_KEYPOINT_MAGIC, _HEAD.pack(1, len(sets[0]), len(sets[1]))]
        for kp in sets:
            _pack(parts, kp, 32)
        return b"".join(parts)
    sift = [local or Keypoints.empty(128), local_mirrored or Keypoints.empty(128)]
    parts = [_KEYPOINT_MAGIC, _HEAD.pack(KEYPOINT_FORMAT, len(sets[0]), len(sets[1]))]
    for kp in sets:
        _pack(parts, kp, 32)
    parts.append(_COUNTS.pack(len(sift[0]), len(sift[1])))
    for kp in sift:
        _pack(parts, kp, 128)
    return b"".join(parts)


def _unpack_sets(blob: bytes, pos: int, counts: tuple[int, int], width: int) -> tuple[list[Keypoints], int]:
    out = []
    for n in counts:
        xy = np.frombuffer(blob, dtype="<u2", count=2 * n, offset=pos).reshape(n, 2).astype(np.float32) / 8.0
        pos += 4 * n
        desc = np.frombuffer(blob, dtype=np.uint8, count=width * n, offset=pos).reshape(n, width).copy()
        pos += width * n
        out.append(Keypoints(xy, desc))
    return out, pos


def _unpack_keypoints(blob: Any) -> tuple[Keypoints, Keypoints, Keypoints | None, Keypoints | None]:
    """(ORB, ORB mirrored, SIFT, SIFT mirrored); the SIFT sets are None in a format-1 blob."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise ValueError("keypoints must be bytes")
    blob = bytes(blob)
    head = len(_KEYPOINT_MAGIC) + _HEAD.size
    if len(blob) < head or blob[:len(_KEYPOINT_MAGIC)] != _KEYPOINT_MAGIC:
        raise ValueError("malformed keypoints: bad header")
    fmt, n1, n2 = _HEAD.unpack(blob[len(_KEYPOINT_MAGIC):head])
    if fmt not in (1, KEYPOINT_FORMAT):
        raise ValueError(f"keypoints format {fmt}, expected 1 or {KEYPOINT_FORMAT}")
    orb_end = head + _KEYPOINT_BYTES * (n1 + n2)
    if fmt == 1:
        if len(blob) != orb_end:
            raise ValueError("malformed keypoints: wrong length")
        (plain, mirrored), _ = _unpack_sets(blob, head, (n1, n2), 32)
        return plain, mirrored, None, None
    if len(blob) < orb_end + _COUNTS.size:
        raise ValueError("malformed keypoints: wrong length")
    n3, n4 = _COUNTS.unpack(blob[orb_end:orb_end + _COUNTS.size])
    if len(blob) != orb_end + _COUNTS.size + _LOCAL_BYTES * (n3 + n4):
        raise ValueError("malformed keypoints: wrong length")
    (plain, mirrored), pos = _unpack_sets(blob, head, (n1, n2), 32)
    (local, local_mirrored), _ = _unpack_sets(blob, pos + _COUNTS.size, (n3, n4), 128)
    return plain, mirrored, local, local_mirrored
