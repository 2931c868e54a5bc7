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
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps

__all__ = ["DEFAULT_ENGINE", "ENGINES", "MAX_WORDS", "OCR_VERSION", "OCR_VERSIONS", "PASSES", "normalise_words",
           "ocr_available", "ocr_version", "read_text", "read_words"]

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
#: Shortest word kept from Tesseract's mirrored pass (matching names makers by words of 4 letters or more).
_MIRRORED_MIN_LENGTH = 4
PASSES: tuple[tuple[str, ...], ...] = (("--psm", "11"), ("--psm", "11", "-c", "thresholding_method=2"))

#: The OCR engines :func:`read_words` can use.
Engine = Literal["tesseract", "rapidocr"]
ENGINES: tuple[Engine, ...] = ("tesseract", "rapidocr")
#: The engine used where none is named: the better measured (docs/matching.md, "Photo text").
DEFAULT_ENGINE: Engine = "rapidocr"
#: What :func:`read_words` reads with each engine (options, passes, confidence, word rules), stored with each
#: signature whose text was read (``ocr_v``), so that a new signature version reuses the words instead of
#: reading every image again (OCR is most of a signature's cost). Bump an engine's number (to one never used)
#: whenever a change here can read other words; the engines' numbers differ, so that the words one engine
#: read are read again when the setting names the other.
OCR_VERSIONS: dict[Engine, int] = {"tesseract": 3, "rapidocr": 2}
#: The stamp of :data:`DEFAULT_ENGINE`.
OCR_VERSION = OCR_VERSIONS[DEFAULT_ENGINE]


@cache
def _binary() -> str | None:
    return shutil.which("tesseract")


def ocr_version(engine: Engine) -> int:
    """The stamp of the words ``engine`` reads (see :data:`OCR_VERSION`)."""
    return OCR_VERSIONS[engine]


def ocr_available(engine: Engine = DEFAULT_ENGINE) -> bool:
    """Whether ``engine`` can read: the Tesseract binary is installed (Debian/Ubuntu: ``apt-get install
    tesseract-ocr``), or the ``rapidocr`` and ``onnxruntime`` packages with the models the wheel carries."""
    return _binary() is not None if engine == "tesseract" else _rapid() is not None


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
    grey = image.convert("L")
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


def read_words(image: Image.Image | bytes | None, *, timeout_s: float = 2.0, engine: Engine = DEFAULT_ENGINE
               ) -> tuple[tuple[str, Box], ...] | None:
    """Like :func:`read_text`, with where each word was read: ``(word, (left, top, right, bottom))``, the box
    as fractions 0-1 of the image's width and height."""
    if image is None or not ocr_available(engine):
        return None
    try:
        if isinstance(image, bytes | bytearray):
            with Image.open(io.BytesIO(bytes(image))) as opened:
                opened.load()
                image = opened.copy()
        image = ImageOps.exif_transpose(image)
        if engine == "rapidocr":
            return _rapid_words(image, timeout_s)
        data, size = _prepare(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return ()
    return _tesseract_words(data, size, timeout_s, mirrored=lambda: _prepare(ImageOps.mirror(image))[0])


def _tesseract_words(data: bytes, size: tuple[int, int], timeout_s: float,
                     mirrored: Callable[[], bytes] | None = None) -> tuple[tuple[str, Box], ...] | None:
    """Tesseract's words: the passes of :data:`PASSES` in turn, then, when none read a word, the first pass
    on the mirrored image (``mirrored`` makes its bytes): a mirrored copy shows its label backwards, which
    Tesseract mostly reads as nothing. Words read mirrored get their boxes in this image's coordinates."""
    binary = _binary()
    if binary is None:
        return None
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    deadline = time.monotonic() + timeout_s
    passes: list[tuple[tuple[str, ...], bool]] = [(options, False) for options in PASSES]
    if mirrored is not None:
        passes.append((PASSES[0], True))
    for number, (options, flipped) in enumerate(passes):
        if flipped:
            data = mirrored()  # type: ignore[misc]
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
        if flipped:  # a last chance on a wordless photo: only words that can name a maker (texture reads "ft")
            words = tuple((w, box) for w, box in words if len(w) >= _MIRRORED_MIN_LENGTH)
        if words and flipped:
            return tuple((w, (round(1 - r, 4), t, round(1 - left, 4), b)) for w, (left, t, r, b) in words)
        if words:
            return words
    return ()


# --- RapidOCR ------------------------------------------------------------------------------------------------
#: RapidOCR's recognition score (0-1) of a text line below which the line is dropped.
RAPID_MIN_SCORE = 0.8
#: Images with a shorter side below this many pixels hold no readable line.
_MIN_SIDE = 8
#: Longest side to shortest side beyond which the image is padded (see :func:`_bounded_aspect`).
_MAX_ASPECT = 4
#: Most text lines RapidOCR's detection keeps in one image (each is recognised: this bounds the time).
_MAX_LINES = 200
#: The models the ``rapidocr`` wheel carries (PP-OCRv6 small detection and recognition, the 0/180 degree line
#: classifier), loaded from the installed package: when one is missing the engine counts as unavailable
#: instead of letting RapidOCR download it.
_RAPID_MODELS = (("Det", "PP-OCRv6_det_small.onnx"), ("Rec", "PP-OCRv6_rec_small.onnx"),
                 ("Cls", "ch_ppocr_mobile_v2.0_cls_mobile.onnx"))


@cache  # one loaded model per process (about half a second to load); read-only once made
def _rapid() -> Any | None:
    try:
        import rapidocr  # deferred: optional engine; importing it loads ONNX Runtime
    except ImportError:
        return None
    models = Path(rapidocr.__file__).parent / "models"
    params: dict[str, Any] = {
        "Global.log_level": "error", "Global.text_score": 0.0, "Global.max_side_len": _MAX_LONG_SIDE,
        "Det.max_candidates": _MAX_LINES,
        "EngineConfig.onnxruntime.intra_op_num_threads": 1, "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    for stage, name in _RAPID_MODELS:
        if not (models / name).is_file():
            return None
        params[f"{stage}.model_path"] = str(models / name)
    return rapidocr.RapidOCR(params=params)


#: Text lines per image also read from their mirrored crop (the first ones RapidOCR found).
_MIRROR_LINES = 16


def _rapid_words(image: Image.Image, timeout_s: float) -> tuple[tuple[str, Box], ...] | None:
    """RapidOCR's words of ``image``. Every text line is also read mirrored, and the reading it is surer of is
    kept: a mirrored copy shows its label backwards, and RapidOCR reads backwards print as confident nonsense
    ("oviV" for Vivo, 1.0 sure) that would otherwise count as another name on the label."""
    engine = _rapid()
    if engine is None:
        return None
    rgb = image.convert("RGB")
    if max(rgb.size) > _MAX_LONG_SIDE:
        rgb.thumbnail((_MAX_LONG_SIDE, _MAX_LONG_SIDE), Image.Resampling.BICUBIC)
    if min(rgb.size) < _MIN_SIDE:
        return ()
    size = rgb.size
    rgb = _bounded_aspect(rgb)
    # The bound is on this thread's CPU time (ONNX Runtime runs here, one thread): what the reading costs, not
    # how busy the machine is; wall time on a loaded machine ran 10 to 20 times the CPU time and would leave
    # most photos unread. It is checked after each step (one step cannot be cut short; the 1600-pixel cap
    # and the line cap bound it).
    start = time.thread_time()
    # A PIL image: RapidOCR never sees a path or an address. Every step named: the engine keeps the last call's.
    result = engine(rgb, use_det=True, use_cls=True, use_rec=True)
    if time.thread_time() - start > timeout_s:
        return None
    if result.txts is None or result.boxes is None or not len(result.txts):
        return ()
    boxes, txts, scores = list(result.boxes), list(result.txts), [float(v) for v in result.scores]
    backwards = [False] * len(txts)
    for i, (txt, score) in _mirrored_lines(engine, rgb, boxes[:_MIRROR_LINES]):
        if score > scores[i]:
            txts[i], scores[i], backwards[i] = txt, score, True
    if time.thread_time() - start > timeout_s:
        return None
    return _line_words(boxes, txts, scores, backwards, size)


def _bounded_aspect(rgb: Image.Image) -> Image.Image:
    """``rgb`` on a white canvas (at its top left) no narrower than :data:`_MAX_ASPECT` to one: RapidOCR scales
    an image up until its shorter side is 736 pixels, which made a 2 x 300 pixel image 736 x 110,000 and took
    5 GB. Boxes read on the canvas are in the image's own pixels (the canvas adds right and bottom only)."""
    w, h = rgb.size
    cw, ch = max(w, -(-h // _MAX_ASPECT)), max(h, -(-w // _MAX_ASPECT))
    if (cw, ch) == (w, h):
        return rgb
    canvas = Image.new("RGB", (cw, ch), "white")
    canvas.paste(rgb, (0, 0))
    return canvas


def _mirrored_lines(engine: Any, rgb: Image.Image, boxes: list[Any]) -> list[tuple[int, tuple[str, float]]]:
    """(line number, (text, score)) of each line's crop (its upright bounding box) read mirrored."""
    bgr = np.asarray(rgb)[:, :, ::-1]
    crops, numbers = [], []
    for i, box in enumerate(boxes):
        xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
        left, top = max(0, int(min(xs))), max(0, int(min(ys)))
        right, bottom = min(bgr.shape[1], int(np.ceil(max(xs)))), min(bgr.shape[0], int(np.ceil(max(ys))))
        if right - left >= 4 and bottom - top >= 4:
            crops.append(np.ascontiguousarray(bgr[top:bottom, left:right][:, ::-1]))
            numbers.append(i)
    if not crops:
        return []
    read = engine.recognize_txt(crops)
    return [(i, (txt, float(score))) for i, txt, score in zip(numbers, read.txts or (), read.scores, strict=False)]


def _line_words(boxes: Any, txts: Iterable[str], scores: Iterable[float], backwards: Iterable[bool],
                size: tuple[int, int]) -> tuple[tuple[str, Box], ...]:
    """Words of RapidOCR's text lines of at least :data:`RAPID_MIN_SCORE`, each with its share of the line's
    box (by its place among the line's characters, counted from the right in a line printed backwards)."""
    w, h = size
    out: list[tuple[str, Box]] = []
    seen: set[str] = set()
    for box, txt, score, flipped in zip(boxes, txts, scores, backwards, strict=False):
        if score < RAPID_MIN_SCORE or not txt:
            continue
        xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
        left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
        n = len(txt)
        start: int | None = None
        for i, ch in enumerate(txt + " "):
            if ch.isalnum():
                start = i if start is None else start
                continue
            if start is None:
                continue
            raw, first, end = txt[start:i], start, i
            start = None
            if flipped:
                first, end = n - end, n - first
            x0, x1 = left + (right - left) * first / n, left + (right - left) * end / n
            place = tuple(round(min(1.0, max(0.0, v)), 4) for v in (x0 / w, top / h, x1 / w, bottom / h))
            for word in normalise_words(raw):
                if word not in seen and len(out) < MAX_WORDS:
                    seen.add(word)
                    out.append((word, place))
    return tuple(out)


def _words(tsv: str, size: tuple[int, int]) -> tuple[tuple[str, Box], ...]:
    out: list[tuple[str, Box]] = []
    seen: set[str] = set()
    for raw, box in _confident_words(tsv, size):
        for word in normalise_words(raw):
            if word not in seen and len(out) < MAX_WORDS:
                seen.add(word)
                out.append((word, box))
    return tuple(out)


def read_text(image: Image.Image | bytes | None, *, timeout_s: float = 2.0, engine: Engine = DEFAULT_ENGINE
              ) -> tuple[str, ...] | None:
    """The normalised words printed in ``image`` (a PIL image or encoded bytes) by ``engine``; () when there are
    none or the image cannot be read; None when OCR is unavailable or took longer than ``timeout_s`` seconds."""
    words = read_words(image, timeout_s=timeout_s, engine=engine)
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
