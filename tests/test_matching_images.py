"""Image signatures: pinned values, the typed value object (imagehash's algebra for hashes) and its stored form,
decoding errors, and the comparison kinds of :func:`matching.image_match.compare_images`."""

from __future__ import annotations

import base64
import io
import json

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageOps

from matching import signature_codec as codec
from matching.image_match import compare_images
from matching.images import ImageDecodeError, compute_image_signature, hash_set, jpeg_draft_scale, lightness
from matching.signature import COMPARABLE_SINCE, HASH_FIELDS, Hash64, HashSet, ImageSignature
from matching.synthetic import encode, packshot, photo

LIMIT = 40_000_000


def sig(img: Image.Image, fmt: str = "JPEG", **params) -> ImageSignature:
    return compute_image_signature(encode(img, fmt, **params), max_pixels=LIMIT)


PINNED = {
    "phash": "9d22750a637c635d",
    "dhash": "3932e6c4e1b33018",
    "whash": "00021e3c3f1f9efe",
    "phash_m": "c877205f76297709",
    "dhash_m": "60b390cc7832f3e7",
    "whash_m": "0040783cfcf8797f",
}


def test_pinned_hash_values():
    """A Pillow or numpy upgrade that shifts the hashes must fail here, not silently in production."""
    s = sig(photo(1), "PNG")
    assert s.hashes.to_hex() == PINNED
    assert s.analysed_size == (320, 320) and (s.width, s.height) == (640, 640)


def test_hashes_have_imagehash_algebra():
    """As imagehash's ``ImageHash``: ``a - b`` is the Hamming distance, the hex form round-trips, and the
    integer is the hex number; pinned on known values."""
    p, d = Hash64.from_hex(PINNED["phash"]), Hash64.from_hex(PINNED["dhash"])
    assert int(p) == 0x9D22750A637C635D == 11322741100642067293
    assert str(p) == PINNED["phash"] and Hash64.from_hex(str(p)) == p and Hash64.from_hex("9D22750A637C635D") == p
    assert p - d == 28 == imagehash.hex_to_hash(PINNED["phash"]) - imagehash.hex_to_hash(PINNED["dhash"])
    assert p - p == 0 and Hash64(0) - Hash64((1 << 64) - 1) == 64
    assert str(Hash64(1)) == "0000000000000001"
    bits = np.zeros((8, 8), bool)
    bits[0, 0] = bits[7, 7] = True  # row-major, the first bit the most significant, as imagehash reads it
    assert Hash64.from_bits(bits) == Hash64((1 << 63) | 1)
    assert str(Hash64.from_bits(bits)) == str(imagehash.ImageHash(bits))
    for bad in ("9d22750a637c635", "9d22750a637c635g", "0x22750a637c635d", 12, None):
        with pytest.raises(ValueError):
            Hash64.from_hex(bad)
    for bad in (-1, 1 << 64, 1.0, True):
        with pytest.raises(ValueError):
            Hash64(bad)


def test_hash_sets_subtract_per_kind_and_mirror():
    a = HashSet.from_hex(PINNED)
    assert HashSet.from_hex(a.to_hex()) == a and list(a.to_hex()) == list(HASH_FIELDS)
    b = HashSet.from_hex({**PINNED, "dhash": "3932e6c4e1b33019"})
    assert a - b == (0, 1, 0) and a - a == (0, 0, 0)
    assert a.mirrored().phash == a.phash_m and a.mirrored().mirrored() == a
    assert a.of("whash", mirrored=True) == a.whash_m
    assert a.mirrored() - a == (a.phash_m - a.phash, a.dhash_m - a.dhash, a.whash_m - a.whash)
    with pytest.raises(ValueError, match="dhash_m"):
        HashSet.from_hex({**PINNED, "dhash_m": "zz"})


@pytest.mark.parametrize("seed", range(8))
def test_numpy_hashes_equal_imagehash_on_the_same_reduction(seed):
    """One 64x64 reduction feeds all six hashes; each equals imagehash's own algorithm on that reduction,
    the mirrored ones included (computed by symmetry, without mirroring the pixels)."""
    grey = photo(seed, (500, 400)).convert("L")
    small = grey.resize((64, 64), Image.Resampling.LANCZOS, reducing_gap=2.0)
    ours = hash_set(np.asarray(grey))
    mirrored = ImageOps.mirror(small)
    expected = {
        "phash": imagehash.phash(small), "dhash": imagehash.dhash(small),
        "whash": imagehash.whash(small, image_scale=64), "phash_m": imagehash.phash(mirrored),
        "dhash_m": imagehash.dhash(mirrored), "whash_m": imagehash.whash(mirrored, image_scale=64),
    }
    assert {k: str(v) for k, v in expected.items()} == ours.to_hex()
    assert ours.phash - ours.dhash == expected["phash"] - expected["dhash"]


def test_signature_is_close_to_imagehash_of_the_full_image():
    """Hashes are of HSL lightness (which a hue turn leaves unchanged), not of Pillow's luma ("L")."""
    data = encode(photo(2, (1200, 1200)))
    s = compute_image_signature(data, max_pixels=LIMIT)
    assert (s.width, s.height) == (1200, 1200)
    full = Image.open(io.BytesIO(data)).convert("RGB")
    assert imagehash.phash(Image.fromarray(lightness(full))) - imagehash.hex_to_hash(str(s.hashes.phash)) <= 6


def test_lightness_is_max_plus_min_over_two():
    rgb = Image.fromarray(np.array([[[255, 0, 0], [0, 0, 255], [10, 20, 31], [255, 255, 255]]], dtype=np.uint8))
    assert lightness(rgb).tolist() == [[128, 128, 21, 255]]


@pytest.mark.parametrize(("size", "for_ocr", "scale"), [
    ((6400, 4800), False, 8), ((1200, 1200), False, 4), ((1200, 1200), True, 1), ((3000, 3000), True, 4),
    ((300, 300), False, 1), ((1700, 480), False, 2), ((4000, 400), True, 4), ((4000, 400), False, 4),
])
def test_jpeg_draft_scale_is_the_scale_the_decoder_uses(size, for_ocr, scale):
    """The one JPEG draft rule: what the signature stage budgets (``decoded_pixels``) is what Pillow decodes."""
    assert jpeg_draft_scale(*size, for_ocr=for_ocr) == scale
    img = Image.open(io.BytesIO(encode(Image.new("RGB", size, (90, 120, 30)), "JPEG")))
    from matching.images import _draft_request

    img.draft("RGB", _draft_request(*size, for_ocr=for_ocr))
    assert img.size == (-(-size[0] // scale), -(-size[1] // scale))


def test_stored_form_round_trips_and_is_small():
    s = sig(photo(3, (900, 700))).with_text(["fullips", "100"], [(0.1, 0.2, 0.3, 0.25), (0.35, 0.2, 0.4, 0.25)])
    stored = codec.encode(s)
    fields, blob = stored.fields, stored.keypoints
    text = json.dumps(fields)
    assert len(text) < 4_000  # the old dict with base64 keypoints was about 17 KB
    assert fields["hashes"] == s.hashes.to_hex() and fields["ocr_v"] >= 1
    assert blob is not None and blob[:3] == b"LKP"
    assert len(blob) == 8 + 36 * (len(s.keypoints) + len(s.keypoints_mirrored)) + 4 + 132 * (
        len(s.local) + len(s.local_mirrored))
    assert s.local.descriptors.shape[1] == 128 and len(s.local) > 50
    again = codec.decode(json.loads(text), blob)
    assert again == s
    assert codec.decode(fields, None) == s.without_keypoints()
    assert codec.encode(codec.decode(fields, None)).keypoints is None
    assert "ocr_v" not in codec.encode(s.with_text(None)).fields


def test_format_1_keypoint_blobs_still_read_without_sift():
    """A version-4 row (ORB only, keypoint format 1) still decodes: it has no SIFT features until the
    signature stage recomputes it."""
    s = sig(photo(3, (600, 500)))
    stored = codec.encode(s)
    orb_end = 8 + 36 * (len(s.keypoints) + len(s.keypoints_mirrored))
    old = stored.keypoints[:3] + bytes([1]) + stored.keypoints[4:orb_end]
    again = codec.decode({**stored.fields, "v": 4}, old)
    assert again.keypoints == s.keypoints and again.keypoints_mirrored == s.keypoints_mirrored
    assert again.local is None and again.local_mirrored is None


@pytest.mark.parametrize("damage", [
    lambda f, b: ({**f, "v": 99}, b),
    lambda f, b: ({**f, "hashes": {**f["hashes"], "phash": "xyz"}}, b),
    lambda f, b: ({**f, "thumb": "AAAA"}, b),
    lambda f, b: ({k: v for k, v in f.items() if k != "size"}, b),
    lambda f, b: ({**f, "text": ["a", "b"], "text_boxes": [[0.1, 0.2], [0.3, 0.4]]}, b),
    lambda f, b: (f, b[:-5]),
    lambda f, b: (f, b"XYZ" + b[3:]),
    lambda f, b: (f, "not bytes"),
], ids=["version", "hash", "thumb", "missing-size", "short-text-box", "truncated-keypoints", "bad-magic",
        "keypoints-not-bytes"])
def test_malformed_stored_rows_raise_value_error(damage):
    stored = codec.encode(sig(photo(4)))
    fields, blob = damage(stored.fields, stored.keypoints)
    with pytest.raises(ValueError, match="malformed|version|format|bytes"):
        codec.decode(fields, blob)


def test_stored_words_are_bounded_by_the_ocr_word_cap():
    from matching.ocr import MAX_WORDS

    words = [f"w{i}" for i in range(MAX_WORDS + 10)]
    fields = {**codec.encode(sig(photo(4))).fields, "text": words, "text_boxes": [[0, 0, 1, 1]] * len(words)}
    back = codec.decode(fields, None)
    assert back.text == tuple(words[:MAX_WORDS]) and len(back.text_boxes) == MAX_WORDS


def test_rows_of_another_grey_channel_are_not_read_for_matching():
    """Version 3 and older hashed luma: compared with lightness hashes they would miss copies, so matching
    leaves them out until the signature stage recomputes them; a format-only reader may still read them."""
    stored = codec.encode(sig(photo(4)))
    old = {**stored.fields, "v": COMPARABLE_SINCE - 1}
    with pytest.raises(ValueError, match="version"):
        codec.decode(old, stored.keypoints)
    kept = codec.decode(old, stored.keypoints, oldest=2)
    assert kept.version == COMPARABLE_SINCE - 1 and kept.hashes == codec.decode(stored.fields, None).hashes


@pytest.mark.parametrize(("previous", "reused"), [
    ({"v": 3, "text": ["fullips", "50ml"], "text_boxes": [[0.1, 0.2, 0.3, 0.25], [0.4, 0.2, 0.5, 0.25]]},
     (("fullips", "50ml"), ((0.1, 0.2, 0.3, 0.25), (0.4, 0.2, 0.5, 0.25)))),
    ({"v": 3, "ocr_v": 1, "text": [], "text_boxes": []}, ((), ())),
    ({"v": 3, "ocr_v": 1, "text": ["fullips"], "text_boxes": [["x", 0, 1, 1]]}, (("fullips",), None)),
    ({"v": 3, "ocr_v": 1, "text": ["fullips"]}, (("fullips",), None)),
    ({"v": 3, "text": None}, None),
    ({"v": 2, "text": ["fullips"]}, None),
    ({"v": 3, "ocr_v": 999, "text": ["fullips"]}, None),
    ({"v": 3, "ocr_v": 1, "text": ["FULLIPS"]}, None),
    ({"v": 3, "ocr_v": 2, "text": ["fullips"]}, None),  # RapidOCR's words, Tesseract asked
    (None, None),
])
def test_reusable_text_reads_the_words_the_current_ocr_read(previous, reused):
    assert codec.reusable_text(previous, ocr_version=1) == reused  # Tesseract's stamp


def test_path_and_bytes_give_the_same_signature(tmp_path):
    path = tmp_path / "a.png"
    photo(3).save(path)
    assert compute_image_signature(path, max_pixels=LIMIT) == compute_image_signature(
        path.read_bytes(), max_pixels=LIMIT)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", encode(photo(4))[:600], b"\x89PNG\r\n\x1a\n" + b"\x00" * 40],
    ids=["empty", "text", "truncated-jpeg", "broken-png"],
)
def test_undecodable_input_raises_one_clear_error(data):
    with pytest.raises(ImageDecodeError) as info:
        compute_image_signature(data, max_pixels=LIMIT)
    assert "\n" not in str(info.value)


def test_pixel_limit_is_checked_before_decoding():
    data = encode(Image.new("RGB", (3000, 3000), "white"), "PNG")
    with pytest.raises(ImageDecodeError, match="above the limit"):
        compute_image_signature(data, max_pixels=1_000_000)
    assert Image.MAX_IMAGE_PIXELS == 89478485  # the global stays untouched


def test_missing_file_raises_decode_error(tmp_path):
    with pytest.raises(ImageDecodeError):
        compute_image_signature(tmp_path / "nope.jpg", max_pixels=LIMIT)


def test_transparent_png_is_flattened_on_white():
    """A transparent packshot must hash like the same packshot on white, not on black (Pillow's plain
    RGB conversion of transparent pixels)."""
    shot = np.asarray(packshot(color=(30, 90, 200), size=300, label="Aquora"))
    opaque = shot.min(axis=2) < 250
    rgba_arr = np.zeros((*shot.shape[:2], 4), dtype=np.uint8)  # hidden colour of transparent pixels: black
    rgba_arr[opaque, :3] = shot[opaque]
    rgba_arr[opaque, 3] = 255
    rgba = Image.fromarray(rgba_arr, "RGBA")
    on_white = Image.new("RGB", rgba.size, "white")
    on_white.paste(rgba, (0, 0), rgba)
    on_black = Image.new("RGB", rgba.size, "black")
    on_black.paste(rgba, (0, 0), rgba)
    flat = sig(rgba, "PNG")
    assert flat.hashes == sig(on_white, "PNG").hashes
    assert flat.hashes != sig(on_black, "PNG").hashes


def test_collage_cells_are_hashed_as_regions():
    collage = Image.new("RGB", (1000, 1000), "white")
    for i, seed in enumerate((80, 81, 82, 83)):
        collage.paste(photo(seed).resize((480, 480)), (10 + 500 * (i % 2), 10 + 500 * (i // 2)))
    s = sig(collage)
    assert len(s.regions) == 4
    cell = sig(photo(81))
    best = min(sum(r.hashes - cell.hashes) for r in s.regions)
    assert best <= 12
    assert sig(photo(9)).regions == ()


@pytest.mark.parametrize(("rows", "cols"), [(3, 3), (1, 4), (2, 2)])
def test_collage_without_gutters_splits_as_a_grid(rows, cols):
    """Tiles that touch leave no uniform gutter: the grid whose inner borders are all seams gives the cells,
    and the stolen photo in a cell of a third of the image or more is found as a copy (a ninth is too small for
    the colour check that confirms small cells: see docs/matching.md)."""
    cell = 300
    collage = Image.new("RGB", (cols * cell, rows * cell), "white")
    slot = rows * cols - 2
    for i in range(rows * cols):
        collage.paste(photo(70 + i, (600, 600)).resize((cell, cell)), ((i % cols) * cell, (i // cols) * cell))
    stolen = photo(70 + slot, (600, 600))
    s = sig(collage)
    w, h = s.analysed_size
    grid = {(round(i * w / cols), round(j * h / rows), round((i + 1) * w / cols), round((j + 1) * h / rows))
            for j in range(rows) for i in range(cols)}
    assert grid <= {tuple(r.box) for r in s.regions}
    if rows * cols <= 4:
        result = compare_images(s, sig(stolen))
        assert result.copied and "part of a collage" in result.edits, result.reason
        assert "recoloured" not in result.edits  # an exact copy: a small cell's averaged colours are no edit


def test_ordinary_photos_are_not_split_into_grids():
    """No seam, no grid: a single photo or packshot keeps no regions (each region costs hashes and chances)."""
    assert all(sig(photo(seed, (640, 640))).regions == () for seed in range(20, 30))
    assert sig(packshot(color=(200, 40, 90), shape="bottle", size=640, label="Quanix")).regions == ()


# --- comparison kinds ---------------------------------------------------------------------------------------
def test_reencoded_copy_is_the_same_photo():
    original = photo(5)
    result = compare_images(sig(original, quality=40), sig(original))
    assert result.kind == "same_photo" and result.copied and result.score == 1.0
    assert result.listing_box == pytest.approx((0, 0, 1, 1), abs=0.01)


def test_crop_is_an_edited_copy_with_the_region_in_both_images():
    original = photo(7)
    crop = original.crop((160, 96, 640, 640))  # 25% off the left, 15% off the top
    result = compare_images(sig(crop), sig(original))
    assert result.kind == "edited_copy" and result.method == "keypoints" and "cropped" in result.edits
    assert result.reference_box == pytest.approx((0.25, 0.15, 1.0, 1.0), abs=0.03)
    assert result.listing_box == pytest.approx((0, 0, 1, 1), abs=0.03)


def test_collage_cell_region_is_located():
    original = photo(8)
    collage = Image.new("RGB", (1000, 1000), "white")
    collage.paste(photo(80).resize((480, 480)), (10, 10))
    collage.paste(original.resize((480, 480)), (510, 510))
    result = compare_images(sig(collage), sig(original))
    assert result.copied and "part of a collage" in result.edits
    assert result.listing_box == pytest.approx((0.51, 0.51, 0.99, 0.99), abs=0.03)


def hue_shifted(img: Image.Image, turn: float = 0.33) -> Image.Image:
    h, s, v = img.convert("HSV").split()
    return Image.merge("HSV", (h.point(lambda x: (x + int(256 * turn)) % 256), s, v)).convert("RGB")


def test_recoloured_copy_is_found_and_named():
    """Hashes and keypoints come from lightness, which a hue turn keeps: the copy is found and the colour check
    names the edit, for the whole photo and for a quarter of a 2x2 collage (confirmed by keypoints there)."""
    original = photo(12)
    whole = compare_images(sig(hue_shifted(original)), sig(original))
    assert whole.copied and "recoloured" in whole.edits, whole.reason
    collage = Image.new("RGB", (600, 600), "white")
    for i, tile in enumerate((photo(60), photo(61), hue_shifted(original), photo(62))):
        collage.paste(tile.resize((300, 300)), (300 * (i % 2), 300 * (i // 2)))
    cell = compare_images(sig(collage), sig(original))
    assert cell.copied and {"part of a collage", "recoloured"} <= set(cell.edits), cell.reason
    # Without keypoints a small cell is confirmed by its colours alone: the reason says that is what failed.
    hashes_only = compare_images(sig(collage), sig(original), keypoints=False)
    assert not hashes_only.copied and "colours changed" in hashes_only.reason


def test_rotated_copy_reports_the_angle():
    original = photo(10)
    result = compare_images(sig(original.rotate(12, expand=True, fillcolor="white")), sig(original))
    assert result.copied and "rotated" in result.edits and result.rotation == pytest.approx(12, abs=1.5)


def test_unrelated_photos_are_different():
    reference = sig(photo(9))
    results = [compare_images(sig(photo(seed)), reference) for seed in range(100, 110)]
    assert all(r.kind == "different" and r.score == 0.0 for r in results)


def test_template_with_another_name_is_similar_style_by_its_label_text():
    red = packshot(color=(200, 40, 60), label="Fullips")
    other_name = packshot(color=(200, 40, 60), label="Aquora")
    box = (215 / 640, 260 / 640, 425 / 640, 420 / 640)
    reference = sig(red).with_text(["fullips"], [box])
    template = sig(other_name).with_text(["aquora"], [box])
    copy = sig(red, quality=60).with_text(["fullips"], [box])
    banner_copy = sig(red, quality=60).with_text(["fullips", "sale"], [box, (0.3, 0.9, 0.7, 0.98)])
    result = compare_images(template, reference)
    assert result.kind == "similar_style" and result.text_conflict and not result.copied
    assert 0 < result.score < 0.5
    assert compare_images(copy, reference).copied
    assert compare_images(banner_copy, reference).copied
    # Without any text the pixels alone cannot tell: the template counts as a copy.
    assert compare_images(sig(other_name), sig(red)).copied


def test_comparison_serialises_to_json():
    original = photo(11)
    result = compare_images(sig(ImageOps.mirror(original)), sig(original))
    data = json.loads(json.dumps(result.to_json()))
    assert data["kind"] in ("same_photo", "edited_copy") and "mirrored" in data["edits"]


def test_thumbnail_is_the_mean_colour_grid():
    s = sig(Image.new("RGB", (200, 100), (10, 200, 30)), "PNG")
    grid = np.frombuffer(base64.b64decode(codec.encode(s).fields["thumb"]), dtype=np.uint8).reshape(24, 24, 3)
    assert (grid == (10, 200, 30)).all() and (s.thumb_array() == (10, 200, 30)).all()


def test_image_thresholds_are_the_nested_frozen_field_of_match_config():
    import dataclasses

    from matching.config import ImageMatchConfig, MatchConfig
    from matching.image_match import DEFAULT_CONFIG

    config = MatchConfig()
    assert isinstance(config.image, ImageMatchConfig) and config.image == DEFAULT_CONFIG
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.image.min_inliers = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="global to the matcher"):
        config.with_overrides({"image.min_inliers": 3})
    with pytest.raises(ValueError, match="global to the matcher"):
        config.with_overrides({"image": {}})
    described = {name: (default, doc) for name, default, doc in MatchConfig.describe()}
    for f in dataclasses.fields(ImageMatchConfig):
        default, doc = described[f"image.{f.name}"]
        assert default == getattr(DEFAULT_CONFIG, f.name) and doc
    assert "image" not in described


def test_matcher_compares_photos_with_its_configs_image_thresholds():
    from matching import Matcher
    from matching.config import ImageMatchConfig, MatchConfig

    image = ImageMatchConfig(min_inliers=20)
    matcher = Matcher([], config=MatchConfig(image=image))
    assert matcher._photos._index.config is image
