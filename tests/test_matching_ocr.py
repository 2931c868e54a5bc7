"""Photo text (OCR): Tesseract, offline, bounded in time, normalised words with their places.

Reading tests allow 20 s (the default bound is 2 s): the cores are shared and a slow read is a timeout, not a
wrong answer."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from matching.images import compute_image_signature
from matching.ocr import normalise_words, read_text, read_words
from matching.synthetic import encode, packshot, photo

needs_tesseract = pytest.mark.usefixtures("ocr_engine")


@pytest.mark.parametrize(("text", "words"), [
    ("Fullips 100 ml", ("fullips", "100", "ml")),
    ("FULLIPS — fullips!", ("fullips",)),
    ("Ｆｕｌｌｉｐｓ", ("fullips",)),  # full-width letters (NFKC)
    ("a b c", ()),
    ("x" * 60 + " ok", ("ok",)),
    ("Straße GRÜN", ("strasse", "grün")),
])
def test_normalise_words(text, words):
    assert normalise_words(text) == words


def test_normalise_words_is_bounded():
    assert len(normalise_words(" ".join(f"w{i}" for i in range(500)))) == 64


@needs_tesseract
def test_label_text_is_read_with_its_place():
    words = read_words(packshot(color=(200, 40, 60), label="Fullips", size=700), timeout_s=20)
    assert words is not None
    found = dict(words)
    assert "fullips" in found
    left, top, right, bottom = found["fullips"]
    assert 0.3 < left < right < 0.75 and 0.45 < top < bottom < 0.6  # on the label of the packshot


@needs_tesseract
def test_texture_gives_no_confident_words():
    assert read_text(photo(3, (800, 800)), timeout_s=20) == ()


@needs_tesseract
def test_signature_carries_the_words_and_they_survive_storage():
    from matching.images import ImageSignature

    sig = compute_image_signature(encode(packshot(color=(40, 80, 200), label="Aquora", size=700)),
                                  max_pixels=40_000_000, ocr=True, ocr_timeout_s=20)
    assert sig.text is not None and "aquora" in sig.text and len(sig.text_boxes) == len(sig.text)
    again = ImageSignature.from_stored(sig.stored_fields(), sig.keypoint_bytes())
    assert again.text == sig.text and again.text_boxes == sig.text_boxes


@needs_tesseract
def test_timeout_bounds_the_time_and_returns_none():
    img = Image.new("RGB", (1600, 1600), "white")
    draw = ImageDraw.Draw(img)
    for i in range(60):
        draw.text((10, 25 * i), "lorem ipsum dolor sit amet " * 6, fill="black")
    assert read_text(img, timeout_s=0.01) is None
    sig = compute_image_signature(encode(img), max_pixels=40_000_000, ocr=True, ocr_timeout_s=0.01)
    assert sig.text is None  # a timeout is "not read", not "no text"


def test_unreadable_bytes_give_no_words():
    assert read_text(b"not an image") in ((), None)
    assert read_text(None) is None
