"""Image signatures: pinned values, decoding errors, and the image cases of issue 4."""

from __future__ import annotations

import io
import json

import imagehash
import pytest
from PIL import Image, ImageOps

from matching.config import MatchConfig
from matching.image_match import compare_hashes, verify_keypoints
from matching.images import ImageDecodeError, compute_image_signature, decode_orb
from matching.synthetic import encode, packshot, photo

LIMIT = 40_000_000
CONFIG = MatchConfig()


def sig(img: Image.Image, fmt: str = "JPEG", **params) -> dict:
    return compute_image_signature(encode(img, fmt, **params), max_pixels=LIMIT)


def matches(listing: dict, reference: dict) -> bool:
    """Whether either check of matching.image_match accepts the pair."""
    if compare_hashes(listing, reference, CONFIG) is not None:
        return True
    lxy, ldesc = decode_orb(listing["orb"])
    rxy, rdesc = decode_orb(reference["orb"])
    return verify_keypoints(listing, lxy, ldesc, reference, rxy, rdesc, CONFIG) is not None


def test_pinned_hash_values():
    """A Pillow or numpy upgrade that shifts the hashes must fail here, not silently in production."""
    s = sig(photo(1), "PNG")
    assert {k: s[k] for k in ("phash", "dhash", "whash", "phash_m", "dhash_m", "whash_m")} == {
        "phash": "9d2a752a635e6354",
        "dhash": "31ba66f0faf3305c",
        "whash": "000a1e1e1f1bdefe",
        "phash_m": "c87f207f760d7601",
        "dhash_m": "22a299e0a030f3c5",
        "whash_m": "00507878f8d87b7f",
    }


def test_signature_is_small_json_and_close_to_imagehash():
    img = photo(2, (1200, 1200))
    data = encode(img)
    s = compute_image_signature(data, max_pixels=LIMIT)
    text = json.dumps(s)
    assert len(text) < 20_000
    assert json.loads(text) == s
    assert s["width"] == 1200 and s["height"] == 1200
    reference = imagehash.phash(Image.open(io.BytesIO(data)))
    assert reference - imagehash.hex_to_hash(s["phash"]) <= 6


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
    rgba = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    rgba.paste(packshot(color=(30, 90, 200), size=300).convert("RGBA"), (0, 0))
    s = sig(rgba, "PNG")
    assert s["phash"]


def test_reencoded_copy_matches():
    original = photo(5)
    assert matches(sig(original, quality=40), sig(original))


def test_mirrored_copy_matches():
    original = photo(6)
    assert matches(sig(ImageOps.mirror(original)), sig(original))


def test_cropped_15_percent_copy_is_still_found():
    original = photo(7)
    w, h = original.size
    crop = original.crop((int(w * 0.15), int(h * 0.15), w, h))
    assert compare_hashes(sig(crop), sig(original), CONFIG) is None  # plain hashes lose it ...
    assert matches(sig(crop), sig(original))  # ... keypoints find it


def test_padded_rotated_and_collaged_copies_are_found():
    original = photo(8)
    padded = ImageOps.expand(original, border=120, fill=(255, 220, 0))
    rotated = original.rotate(12, expand=True, fillcolor=(255, 255, 255))
    collage = Image.new("RGB", (1000, 1000), "white")
    collage.paste(original.resize((480, 480)), (10, 10))
    collage.paste(photo(80).resize((480, 480)), (510, 10))
    collage.paste(photo(81).resize((480, 480)), (10, 510))
    reference = sig(original)
    for copy in (padded, rotated, collage):
        assert matches(sig(copy), reference)


def test_unrelated_photos_do_not_match():
    reference = sig(photo(9))
    assert not any(matches(sig(photo(seed)), reference) for seed in range(100, 110))


def test_two_different_white_background_packshots_do_not_match():
    red_bottle = sig(packshot(color=(200, 40, 60), label="Fullips"))
    blue_bottle = sig(packshot(color=(40, 80, 200), label="Aquora"))
    green_box = sig(packshot(color=(60, 160, 80), shape="box", label="Verdo"))
    # Grey-level hashes see the same layout ...
    distances = [
        (imagehash.hex_to_hash(red_bottle["phash"]) - imagehash.hex_to_hash(blue_bottle["phash"])),
    ]
    assert min(distances) <= 16
    # ... but the agreement of hashes and colours does not match them.
    assert not matches(blue_bottle, red_bottle)
    assert not matches(green_box, red_bottle)
    assert matches(sig(packshot(color=(200, 40, 60), label="Fullips"), quality=60), red_bottle)


def test_mirrored_whash_is_the_flipped_bit_matrix():
    """The shortcut in matching.images (no second Haar transform) equals imagehash on the mirror image."""
    for seed in range(5):
        grey = photo(seed, (500, 400)).convert("L").resize((64, 64), Image.Resampling.LANCZOS)
        direct = imagehash.whash(ImageOps.mirror(grey), image_scale=64)
        flipped = imagehash.ImageHash(imagehash.whash(grey, image_scale=64).hash[:, ::-1])
        assert direct - flipped == 0
