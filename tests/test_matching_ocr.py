"""Photo text (OCR): RapidOCR and Tesseract, offline, bounded in time, normalised words with their places.

Reading tests allow 20 s (the default bound is 2 s): the cores are shared and a slow read is a timeout, not a
wrong answer."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from matching.images import compute_image_signature
from matching.ocr import ENGINES, normalise_words, read_text, read_words
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
@pytest.mark.parametrize("engine", ENGINES)
def test_label_text_is_read_with_its_place(engine):
    words = read_words(packshot(color=(200, 40, 60), label="Fullips", size=700), timeout_s=20, engine=engine)
    assert words is not None
    found = dict(words)
    assert "fullips" in found
    left, top, right, bottom = found["fullips"]
    assert 0.3 < left < right < 0.75 and 0.45 < top < bottom < 0.6  # on the label of the packshot


@needs_tesseract
@pytest.mark.parametrize("engine", ENGINES)
def test_texture_gives_no_confident_words(engine):
    assert read_text(photo(3, (800, 800)), timeout_s=20, engine=engine) == ()


@needs_tesseract
@pytest.mark.parametrize("engine", ENGINES)
def test_signature_carries_the_words_and_they_survive_storage(engine):
    from matching import signature_codec as codec

    sig = compute_image_signature(encode(packshot(color=(40, 80, 200), label="Aquora", size=700)),
                                  max_pixels=40_000_000, ocr=True, ocr_timeout_s=20, ocr_engine=engine)
    assert sig.text is not None and "aquora" in sig.text and len(sig.text_boxes) == len(sig.text)
    stored = codec.encode(sig)
    again = codec.decode(stored.fields, stored.keypoints)
    assert again.text == sig.text and again.text_boxes == sig.text_boxes


@needs_tesseract
@pytest.mark.parametrize("engine", ENGINES)
def test_timeout_bounds_the_time_and_returns_none(engine):
    img = Image.new("RGB", (1600, 1600), "white")
    draw = ImageDraw.Draw(img)
    for i in range(60):
        draw.text((10, 25 * i), "lorem ipsum dolor sit amet " * 6, fill="black")
    assert read_text(img, timeout_s=0.01, engine=engine) is None
    sig = compute_image_signature(encode(img), max_pixels=40_000_000, ocr=True, ocr_timeout_s=0.01,
                                  ocr_engine=engine)
    assert sig.text is None  # a timeout is "not read", not "no text"


@pytest.mark.parametrize("engine", ENGINES)
def test_unreadable_bytes_give_no_words(engine):
    assert read_text(b"not an image", engine=engine) in ((), None)
    assert read_text(None, engine=engine) is None


@needs_tesseract
def test_a_coloured_label_on_white_is_read_by_the_local_threshold_pass(monkeypatch):
    import matching.ocr as ocr

    # Dark text on a coloured label on a white studio background: the global threshold reads nothing here.
    img = packshot(color=(200, 90, 40), label="Tabi", label_color=(90, 160, 210))
    monkeypatch.setattr(ocr, "PASSES", ocr.PASSES[:1])
    assert read_text(img, timeout_s=20, engine="tesseract") == ()
    monkeypatch.undo()
    words = read_text(img, timeout_s=20, engine="tesseract")
    assert words and any(w.startswith("tab") for w in words)


FAKE_TESSERACT = """#!{python}
import sys, time
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(" ".join(args) + "\\n")
local = "thresholding_method=2" in args
if ({sleep_first} and not local) or ({sleep_second} and local):
    time.sleep(5)
sys.stdin.buffer.read()
print("level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\tleft\\ttop\\twidth\\theight\\tconf\\ttext")
if local or {first_reads}:
    print("5\\t1\\t1\\t1\\t1\\t1\\t10\\t10\\t50\\t20\\t96\\tLyfeix")
"""


@pytest.fixture
def fake_tesseract(tmp_path, monkeypatch):
    import stat
    import sys

    import matching.ocr as ocr

    def make(*, first_reads=False, sleep_first=False, sleep_second=False):
        log = tmp_path / "calls.log"
        script = tmp_path / "tesseract"
        script.write_text(FAKE_TESSERACT.format(python=sys.executable, log=str(log), first_reads=first_reads,
                                                sleep_first=sleep_first, sleep_second=sleep_second))
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setattr(ocr, "_binary", lambda: str(script))
        return log
    return make


def _passes(log):
    return ["thresholding_method=2" in line for line in log.read_text().splitlines()]


def test_the_second_pass_runs_only_when_the_first_finds_nothing(fake_tesseract):
    img = photo(3, (200, 200))
    log = fake_tesseract(first_reads=True)
    assert read_text(img, timeout_s=20, engine="tesseract") == ("lyfeix",) and _passes(log) == [False]
    log.unlink()
    log = fake_tesseract(first_reads=False)
    assert read_text(img, timeout_s=20, engine="tesseract") == ("lyfeix",) and _passes(log) == [False, True]


def test_both_passes_share_one_time_bound(fake_tesseract):
    img = photo(3, (200, 200))
    fake_tesseract(sleep_first=True)
    assert read_text(img, timeout_s=2.0, engine="tesseract") is None  # the first pass not finished: not read
    fake_tesseract(sleep_second=True)
    assert read_text(img, timeout_s=2.0, engine="tesseract") == ()  # the first read and found nothing; the second ran out of time


# --- a mirrored copy shows its label backwards ------------------------------------------------------------
@needs_tesseract
@pytest.mark.parametrize("engine", ENGINES)
def test_a_mirrored_label_is_read_the_right_way_round(engine):
    """Read backwards, "Fullips" came out as nothing (Tesseract) or as confident nonsense ("sqilluF": RapidOCR);
    both now read it un-mirrored, with its box where the word is printed (on the right half, mirrored)."""
    from PIL import ImageOps

    image = packshot(color=(200, 40, 60), label="Fullips", size=700)
    straight = dict(read_words(image, timeout_s=20, engine=engine) or ())
    mirrored = dict(read_words(ImageOps.mirror(image), timeout_s=20, engine=engine) or ())
    assert "fullips" in straight and "fullips" in mirrored
    (l0, t0, r0, b0), (l1, t1, r1, b1) = straight["fullips"], mirrored["fullips"]
    assert abs(l1 - (1 - r0)) < 0.05 and abs(r1 - (1 - l0)) < 0.05 and abs(t1 - t0) < 0.05 and abs(b1 - b0) < 0.05


@needs_tesseract
@pytest.mark.parametrize("label", ["Timmus", "Bodob"])
def test_a_mirrored_copy_is_not_another_name_on_the_label(label):
    """The listing photo is the official packshot mirrored: with its words read un-mirrored it is an edited
    copy, not "another name on the label" (RapidOCR read the backwards print as words of their own, "aummit"
    and "boqop", and the copy came out as "similar style")."""
    from PIL import ImageOps

    from matching.image_match import compare_images, text_conflict

    official = packshot(color=(40, 120, 90), label=label, size=700)
    sign = lambda img: compute_image_signature(encode(img), max_pixels=40_000_000, ocr=True,  # noqa: E731
                                               ocr_timeout_s=20, ocr_engine="rapidocr")
    reference, listing = sign(official), sign(ImageOps.mirror(official))
    assert label.lower() in (listing.text or ())
    assert not text_conflict(listing, reference)
    result = compare_images(listing, reference)
    assert result.copied and not result.text_conflict, result.reason


def test_rapidocr_without_its_bundled_model_is_unavailable_not_downloaded(monkeypatch):
    """RapidOCR fetches a model it cannot find; matching.ocr asks for the wheel's own files only, and a
    missing one makes the engine unavailable (photos unread) instead of a download."""
    import matching.ocr as ocr

    monkeypatch.setattr(ocr, "_RAPID_MODELS", (("Det", "no-such-model.onnx"),))
    ocr._rapid.cache_clear()
    try:
        assert not ocr.ocr_available("rapidocr")
        assert read_words(packshot(color=(200, 40, 60), label="Fullips", size=300), engine="rapidocr") is None
    finally:
        monkeypatch.undo()
        ocr._rapid.cache_clear()


@needs_tesseract
def test_a_long_thin_banner_is_read_in_its_own_coordinates():
    """RapidOCR scales an image up until its shorter side is 736 pixels (a 2 x 300 strip became 736 x 110,000
    and took 5 GB): a thin image is read on a padded canvas, and its word boxes stay in its own pixels."""
    banner = Image.new("RGB", (1200, 60), "white")
    ImageDraw.Draw(banner).text((600, 8), "Fullips", fill="black", font_size=40)
    words = dict(read_words(banner, timeout_s=20, engine="rapidocr") or ())
    assert "fullips" in words
    left, top, right, bottom = words["fullips"]
    assert 0.45 < left < 0.55 < right < 0.7 and 0 <= top < bottom <= 1
    assert read_words(Image.new("RGB", (2, 300), "white"), timeout_s=20, engine="rapidocr") == ()
