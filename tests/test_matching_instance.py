"""The instance stage (SIFT and a homography) on real photographs that ship inside scikit-image's wheel.

Each edit here was missed by the matcher before the stage existed (ORB and hashes only): a photo in one cell
of a 2x2 collage (its aspect squeezed), mirrored in a collage, pasted onto another photo. The evidence names
the result: "the same photo, edited" (``edited_copy``) for an edit that keeps the photo's plane, "shows the
brand's packaging" (``same_packaging``) for a view in perspective that keeps fewer of its details."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from matching.image_index import ReferenceImageIndex
from matching.image_match import compare_images, instance_match
from matching.images import compute_image_signature
from matching.signature import ImageSignature

DATA = Path(skimage.data.__file__).parent
REFS = ("astronaut.png", "coffee.png", "rocket.jpg", "chelsea.png", "motorcycle_left.png")


def photo(name: str, side: int = 512) -> Image.Image:
    with Image.open(DATA / name) as im:
        im = im.convert("RGB")
    s = side / max(im.size)
    return im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.LANCZOS)


def sig(im: Image.Image) -> ImageSignature:
    out = io.BytesIO()
    im.save(out, "PNG")
    return compute_image_signature(out.getvalue(), max_pixels=10**8)


def collage(ref: Image.Image, where: int) -> Image.Image:
    """``ref`` squeezed into one 256 x 256 cell of a 2x2 collage; the other cells unrelated photos."""
    out = Image.new("RGB", (512, 512))
    others = [photo(n) for n in ("brick.png", "grass.png", "text.png")]
    for i in range(4):
        tile = ref if i == where else others.pop()
        out.paste(tile.resize((256, 256)), ((i % 2) * 256, (i // 2) * 256))
    return out


def onto(ref: Image.Image, background: str, size: float, x: float, y: float) -> Image.Image:
    bg = photo(background, 640).copy()
    w = round(bg.width * size)
    bg.paste(ref.resize((w, round(w * ref.height / ref.width))), (round(x * bg.width), round(y * bg.height)))
    return bg


def perspective(im: Image.Image, d: float) -> Image.Image:
    """``im`` seen from the side: its corners moved by up to ``d`` of the side."""
    w, h = im.size
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(d * w, d * h * 0.5), (w - d * w * 0.3, 0), (w, h), (0, h - d * h)]
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        a += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        b += [u, v]
    coeffs = np.linalg.solve(np.array(a, float), np.array(b, float))
    return im.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC)


@pytest.fixture(scope="module")
def index() -> ReferenceImageIndex:
    idx = ReferenceImageIndex()
    for key, name in enumerate(REFS):
        idx.add(key, sig(photo(name)))
    return idx


@pytest.mark.parametrize(("name", "make", "kinds"), [
    ("coffee.png", lambda im: collage(im, 0), {"edited_copy"}),
    ("chelsea.png", lambda im: collage(im, 3), {"edited_copy"}),
    ("chelsea.png", lambda im: collage(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 1),
     {"edited_copy", "same_packaging"}),
    ("coffee.png", lambda im: onto(im, "gravel.png", 0.5, 0.3, 0.2), {"edited_copy"}),
    ("chelsea.png", lambda im: onto(im, "page.png", 0.55, 0.2, 0.1), {"edited_copy"}),
    ("motorcycle_left.png", lambda im: perspective(im, 0.25), {"edited_copy", "same_packaging"}),
], ids=["collage-cell-1", "collage-cell-4", "mirrored-collage-cell", "onto-gravel", "onto-text-page",
        "perspective"])
def test_a_real_photo_edited_into_a_region_is_found(index, name, make, kinds):
    found = index.search(sig(make(photo(name))))
    assert found, f"{name}: nothing found"
    key, comparison = found[0]
    assert REFS[key] == name
    assert comparison.kind in kinds and comparison.matched
    assert comparison.listing_box is not None


def test_the_evidence_names_an_edit_apart_from_a_new_view():
    """A collage cell keeps the photo's plane and most details: the same photo, edited."""
    ref = sig(photo("coffee.png"))
    edited = instance_match(sig(collage(photo("coffee.png"), 2)), ref)
    assert edited is not None and edited.kind == "edited_copy" and edited.method == "instance"
    assert edited.copied and "the same photo, edited" in edited.reason


@pytest.mark.parametrize("name", ["brick.png", "grass.png", "coins.png", "text.png", "page.png"])
def test_unrelated_real_photos_match_nothing(index, name):
    assert index.search(sig(photo(name))) == []


def test_instance_stage_can_be_left_out():
    """``instance_stage=False`` is the matcher without it (what the index's ORB pass asks)."""
    ref = sig(photo("coffee.png"))
    listing = sig(collage(photo("coffee.png"), 0))
    assert not compare_images(listing, ref, instance_stage=False).matched
    assert compare_images(listing, ref).matched
