"""Words printed in a photo (OCR), read offline by Tesseract, bounded in time per image.

The engine is Debian's ``tesseract-ocr`` package (binary ``tesseract``, English model ``eng`` in the package's
``tessdata``): nothing is downloaded at run time. It is called as a child process with the image on standard
input, one thread (``OMP_THREAD_LIMIT=1``) and a hard timeout, so a pathological image costs at most
``timeout_s`` seconds and never the process. A second pass with local binarisation runs when the first
finds no word (:data:`PASSES`), inside the same time bound. When the binary is missing, :func:`read_text` returns None and
matching goes on without photo text (:func:`ocr_available` tells).

Words Tesseract is less than :data:`MIN_CONFIDENCE` sure of are dropped; the rest are normalised by :func:`normalise_words`: Unicode NFKC, case-folded, split on anything that is not a
letter or digit, at least 2 characters, first occurrence kept, at most :data:`MAX_WORDS`.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
import unicodedata
from collections.abc import Iterable
from functools import cache

from PIL import Image, ImageOps

__all__ = ["MAX_WORDS", "OCR_VERSION", "PASSES", "normalise_words", "ocr_available", "read_text", "read_words"]

#: Most words kept per image.
MAX_WORDS = 64
#: Longest word kept, characters (longer runs are noise, not label text).
MAX_WORD_LENGTH = 40
#: Tesseract's word confidence (0-100) below which a word is dropped: noise read in textures scores 20-55,
#: printed label text 85-97.
MIN_CONFIDENCE = 75.0
#: Images are brought to at least this many pixels on the longer side before reading (small text).
_MIN_LONG_SIDE = 900
#: ... and at most this many (time grows with pixels).
_MAX_LONG_SIDE = 1600
#: Tesseract options of each reading pass; a pass runs only when the ones before it found no word, all of
#: them within one ``timeout_s``. ``--psm 11``: sparse text in any order, the layout of product photos and
#: packshot labels. The second pass binarises locally (Sauvola, ``thresholding_method=2``): the default
#: global Otsu threshold merges a coloured label and its dark text against a white studio background, and
#: then reads nothing.
#: What :func:`read_words` reads (engine options, passes, confidence, word rules). Stored with each signature
#: whose text was read (``ocr_v``), so that a new signature version reuses the words instead of reading every
#: image again (OCR is most of a signature's cost); bump it whenever a change here can read other words.
OCR_VERSION = 1
PASSES: tuple[tuple[str, ...], ...] = (("--psm", "11"), ("--psm", "11", "-c", "thresholding_method=2"))


@cache
def _binary() -> str | None:
    return shutil.which("tesseract")


def ocr_available() -> bool:
    """Whether the Tesseract binary is installed (Debian/Ubuntu: ``apt-get install tesseract-ocr``)."""
    return _binary() is not None


def normalise_words(text: str | Iterable[str]) -> tuple[str, ...]:
    """Words of ``text`` (see the module doc for the rules), in order of first occurrence."""
    if not isinstance(text, str):
        text = " ".join(text)
    text = unicodedata.normalize("NFKC", text[:20_000]).casefold()
    words: list[str] = []
    seen: set[str] = set()
    current: list[str] = []
    for ch in text + " ":
        if ch.isalnum():
            current.append(ch)
            continue
        if current:
            word = "".join(current)
            current = []
            if 2 <= len(word) <= MAX_WORD_LENGTH and word not in seen:
                seen.add(word)
                words.append(word)
                if len(words) >= MAX_WORDS:
                    break
    return tuple(words)


def _prepare(image: Image.Image) -> tuple[bytes, tuple[int, int]]:
    grey = ImageOps.exif_transpose(image).convert("L")
    long_side = max(grey.size)
    if long_side < _MIN_LONG_SIDE or long_side > _MAX_LONG_SIDE:
        target = min(_MAX_LONG_SIDE, max(_MIN_LONG_SIDE, long_side))
        factor = target / long_side
        grey = grey.resize((max(1, round(grey.width * factor)), max(1, round(grey.height * factor))),
                           Image.Resampling.BICUBIC)
    out = io.BytesIO()
    grey.save(out, "PNG", compress_level=1)
    return out.getvalue(), grey.size


Box = tuple[float, float, float, float]


def read_words(image: Image.Image | bytes | None, *, timeout_s: float = 2.0
               ) -> tuple[tuple[str, Box], ...] | None:
    """Like :func:`read_text`, with where each word was read: ``(word, (left, top, right, bottom))``, the box
    as fractions 0-1 of the image's width and height."""
    binary = _binary()
    if binary is None or image is None:
        return None
    try:
        if isinstance(image, bytes | bytearray):
            with Image.open(io.BytesIO(bytes(image))) as opened:
                opened.load()
                image = opened.copy()
        data, size = _prepare(image)
    except (OSError, ValueError, SyntaxError):
        return ()
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    deadline = time.monotonic() + timeout_s
    for number, options in enumerate(PASSES):
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise subprocess.TimeoutExpired(binary, timeout_s)
            done = subprocess.run([binary, "stdin", "stdout", *options, "-l", "eng", "tsv"], input=data,
                                  capture_output=True, timeout=remaining, env=env, check=False)
        except (subprocess.TimeoutExpired, OSError):
            # The first pass not finished: not read. A later pass not finished: the first found nothing.
            return None if number == 0 else ()
        if done.returncode != 0:
            return ()
        words = _words(done.stdout.decode("utf-8", "replace"), size)
        if words:
            return words
    return ()


def _words(tsv: str, size: tuple[int, int]) -> tuple[tuple[str, Box], ...]:
    out: list[tuple[str, Box]] = []
    seen: set[str] = set()
    for raw, box in _confident_words(tsv, size):
        for word in normalise_words(raw):
            if word not in seen and len(out) < MAX_WORDS:
                seen.add(word)
                out.append((word, box))
    return tuple(out)


def read_text(image: Image.Image | bytes | None, *, timeout_s: float = 2.0) -> tuple[str, ...] | None:
    """The normalised words printed in ``image`` (a PIL image or encoded bytes); () when there are none or
    the image cannot be read; None when OCR is unavailable or took longer than ``timeout_s`` seconds."""
    words = read_words(image, timeout_s=timeout_s)
    return None if words is None else tuple(w for w, _ in words)


def _confident_words(tsv: str, size: tuple[int, int]) -> list[tuple[str, Box]]:
    """Words of Tesseract's TSV output (12 tab-separated columns: ..., left, top, width, height, conf, text)
    of at least :data:`MIN_CONFIDENCE`, each with its box as fractions of ``size`` (w, h) pixels."""
    w, h = size
    words = []
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) != 12 or not cols[11].strip():
            continue
        try:
            confidence = float(cols[10])
            left, top, width, height = (int(c) for c in cols[6:10])
        except ValueError:
            continue
        if confidence >= MIN_CONFIDENCE:
            box = (left / w, top / h, (left + width) / w, (top + height) / h)
            words.append((cols[11], tuple(round(v, 4) for v in box)))  # as stored: 4 decimals
    return words
