"""Image robustness (issue 9.6): recall on stolen official photos after hard edits, and no match between
photos that only look alike (same kind of object, same studio style, same template with another name).

The edit generator draws each edit's parameters from a seeded generator. Photos and parameter ranges are split:
the *tuned* set was looked at while choosing thresholds; the *held-out* set (other photos, other parameter
ranges) was run only to report: ``LOOKALIKE_HELD_OUT=1 pytest -s tests/test_image_robustness.py`` prints it.
"""

from __future__ import annotations

import io
import os
import random
import zlib
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps
from scipy import ndimage

from matching.image_match import compare_images
from matching.images import compute_image_signature
from matching.ocr import ocr_available
from matching.signature import ImageSignature
from matching.synthetic import packshot, photo

LIMIT = 40_000_000
TUNED_PHOTOS = ("astronaut", "coffee", "rocket", "immunohistochemistry", "camera")
HELD_OUT_PHOTOS = ("chelsea", "hubble_deep_field", "retina", "coins", "clock", "moon")
LABELS_TUNED = ("Fullips", "Aquora", "Novalux", "Kuko")
LABELS_HELD_OUT = ("Meadow", "Raello", "Soarne", "Quanix")


def _jpeg(img: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _sig(img: Image.Image, quality: int = 85, *, ocr: bool = True) -> ImageSignature:
    return compute_image_signature(_jpeg(img, quality), max_pixels=LIMIT, ocr=ocr and ocr_available(), ocr_timeout_s=20)


def _skimage(name: str) -> Image.Image:
    arr = np.asarray(getattr(skimage.data, name)())
    if arr.dtype != np.uint8:
        arr = (255 * (arr.astype(np.float64) / max(float(arr.max()), 1.0))).astype(np.uint8)
    img = Image.fromarray(arr).convert("RGB")
    return ImageOps.contain(img, (800, 800)) if max(img.size) > 800 else img


def _packshot(seed: int, labels: tuple[str, ...]) -> Image.Image:
    rng = random.Random(seed)
    return packshot(color=(rng.randrange(40, 220), rng.randrange(40, 220), rng.randrange(40, 220)),
                    shape=rng.choice(("bottle", "box")), size=700, label=rng.choice(labels) + f" {seed % 10}00 ml")


@cache
def originals(held_out: bool) -> tuple[Image.Image, ...]:
    names = HELD_OUT_PHOTOS if held_out else TUNED_PHOTOS
    seeds = range(50, 56) if held_out else range(0, 6)
    labels = LABELS_HELD_OUT if held_out else LABELS_TUNED
    return (tuple(_skimage(n) for n in names) + tuple(photo(s, (800, 800)) for s in seeds)
            + tuple(_packshot(s, labels) for s in seeds))


# --- edits: (image, rng, held_out) -> edited image -----------------------------------------------------------
def _background(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A new scene behind the product: a blurred busy photo or a two-colour gradient."""
    if rng.random() < 0.5:
        return photo(rng.randrange(10_000, 20_000), size).filter(ImageFilter.GaussianBlur(6))
    a = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float64)
    b = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float64)
    t = np.linspace(0, 1, size[1])[:, None, None]
    return Image.fromarray(np.broadcast_to(a + (b - a) * t, (size[1], size[0], 3)).astype(np.uint8))


def replace_background(img: Image.Image, rng: random.Random, held_out: bool) -> Image.Image:
    """Packshots: the near-white background replaced. Photos: everything outside a central ellipse
    (covering 55-75% of each side, 45-60% held out) replaced."""
    w, h = img.size
    arr = np.asarray(img.convert("RGB")).astype(np.int16)
    white = (arr.min(axis=2) > 235)
    if white.mean() > 0.3:
        # The product's silhouette: everything not white, with its holes (a light label) filled.
        mask = Image.fromarray((ndimage.binary_fill_holes(~white) * 255).astype(np.uint8))
    else:
        f = rng.uniform(0.45, 0.6) if held_out else rng.uniform(0.55, 0.75)
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).ellipse((w * (1 - f) / 2, h * (1 - f) / 2, w * (1 + f) / 2, h * (1 + f) / 2), fill=255)
    out = _background((w, h), rng)
    out.paste(img.convert("RGB"), (0, 0), mask)
    return out


def shift_colours(img: Image.Image, rng: random.Random, held_out: bool) -> Image.Image:
    """A hue rotation (40-120 degrees; 130-220 held out) with a saturation and brightness change."""
    hsv = np.asarray(img.convert("RGB").convert("HSV")).astype(np.int16)
    degrees = rng.uniform(130, 220) if held_out else rng.uniform(40, 120)
    hsv[..., 0] = (hsv[..., 0] + int(degrees / 360 * 255)) % 256
    out = Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")
    out = ImageEnhance.Color(out).enhance(rng.uniform(0.7, 1.4))
    return ImageEnhance.Brightness(out).enhance(rng.uniform(0.85, 1.15))


def tight_crop(img: Image.Image, rng: random.Random, held_out: bool) -> Image.Image:
    """10-20% of the width and height cut (20-30% held out), split unevenly between the sides."""
    w, h = img.size
    lo, hi = (0.2, 0.3) if held_out else (0.1, 0.2)
    fx, fy = rng.uniform(lo, hi), rng.uniform(lo, hi)
    left, top = int(w * fx * rng.random()), int(h * fy * rng.random())
    return img.crop((left, top, left + int(w * (1 - fx)), top + int(h * (1 - fy))))


def rotate(img: Image.Image, rng: random.Random, held_out: bool) -> Image.Image:
    """A turn of 3-15 degrees (15-30 held out) either way, corners white, canvas expanded or not."""
    angle = (rng.uniform(15, 30) if held_out else rng.uniform(3, 15)) * rng.choice((-1, 1))
    return img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=rng.random() < 0.5, fillcolor=(255, 255, 255))


def collage_cell(img: Image.Image, rng: random.Random, held_out: bool) -> Image.Image:
    """The photo as one cell of a collage with other photos: 2x2 or a row of 3 with white gutters (held out:
    3x3 grids and rows of 4, with or without gutters)."""
    rows, cols = rng.choice(((3, 3), (1, 4))) if held_out else rng.choice(((2, 2), (1, 3)))
    cell = 900 // max(rows, cols) if cols < 4 else 300
    gap = 0 if held_out and rng.random() < 0.5 else max(3, cell // 30)
    out = Image.new("RGB", (cols * cell, rows * cell), (255, 255, 255))
    slot = rng.randrange(rows * cols)
    for i in range(rows * cols):
        tile = img if i == slot else photo(rng.randrange(30_000, 40_000), (600, 600))
        tile = ImageOps.contain(tile.convert("RGB"), (cell - 2 * gap, cell - 2 * gap))
        x, y = (i % cols) * cell, (i // cols) * cell
        out.paste(tile, (x + (cell - tile.width) // 2, y + (cell - tile.height) // 2))
    return out


def reencode(img: Image.Image, rng: random.Random, held_out: bool) -> Image.Image:
    """Halved in size and saved at JPEG quality 30."""
    small = img.resize((img.width // 2, img.height // 2), Image.Resampling.BILINEAR)
    return Image.open(io.BytesIO(_jpeg(small, 30)))


def mirror(img: Image.Image, rng: random.Random, held_out: bool) -> Image.Image:
    return ImageOps.mirror(img)


def pad_and_banner(img: Image.Image, rng: random.Random, held_out: bool) -> Image.Image:
    """A coloured border of 10-25% and a sale banner over the bottom band."""
    w, h = img.size
    out = ImageOps.expand(img.convert("RGB"), border=int(max(w, h) * rng.uniform(0.05, 0.12)),
                          fill=rng.choice(((255, 255, 255), (230, 30, 40), (0, 0, 0))))
    draw = ImageDraw.Draw(out)
    band = out.height * 0.1
    draw.rectangle((0, out.height - band, out.width, out.height), fill=(250, 200, 0))
    draw.text((out.width / 2, out.height - band / 2), "HOT SALE -70%", fill=(0, 0, 0), anchor="mm",
              font_size=int(band * 0.6))
    return out


HARD_EDITS: dict[str, Callable[[Image.Image, random.Random, bool], Image.Image]] = {
    "replaced background": replace_background,
    "shifted colours": shift_colours,
    "tight crop": tight_crop,
    "rotation": rotate,
    "collage cell": collage_cell,
}
EASY_EDITS = {"re-encoded": reencode, "mirrored": mirror, "padded + banner": pad_and_banner}


@cache
def _reference(held_out: bool, i: int) -> ImageSignature:
    return _sig(originals(held_out)[i], 92)


def recall(edit: str, *, held_out: bool, repeats: int = 1) -> tuple[int, int]:
    """(found, total) over every original, ``repeats`` draws of the edit each (the report uses 2, the tests 1
    to keep the suite short on shared cores)."""
    func = {**HARD_EDITS, **EASY_EDITS}[edit]
    found = total = 0
    for i, original in enumerate(originals(held_out)):
        for r in range(repeats):
            rng = random.Random(zlib.crc32(f"{edit}/{i}/{r}/{held_out}".encode()))
            reference = _reference(held_out, i)
            # Photo text only matters when the reference carries label words (text_conflict needs both):
            # reading the copy only then gives the same outcome as reading every copy, in a fraction of the time.
            copy = _sig(func(original, rng, held_out), ocr=bool(reference.text))
            found += compare_images(copy, reference).copied
            total += 1
    return found, total


def look_alike_pairs(held_out: bool) -> dict[str, list[tuple[Image.Image, Image.Image]]]:
    """Pairs that must not count as copies."""
    labels = LABELS_HELD_OUT if held_out else LABELS_TUNED
    base = 200 if held_out else 100
    template, style, unrelated = [], [], []
    for s in range(base, base + 8):
        rng = random.Random(s)
        color = (rng.randrange(40, 220), rng.randrange(40, 220), rng.randrange(40, 220))
        shape = rng.choice(("bottle", "box"))
        a, b = rng.sample(labels, 2)
        # Same template, same colour, another maker's name on the label.
        template.append((packshot(color=color, shape=shape, size=700, label=f"{b} {s}"),
                         packshot(color=color, shape=shape, size=700, label=f"{a} {s}")))
        # Same kind of object in the same studio style: another colour and label.
        other = (rng.randrange(40, 220), rng.randrange(40, 220), rng.randrange(40, 220))
        style.append((packshot(color=other, shape=shape, size=700, label=f"{b} {s + 1}"),
                      packshot(color=color, shape=shape, size=700, label=f"{a} {s}")))
        unrelated.append((photo(s + 5000, (800, 800)), photo(s, (800, 800))))
    photos = [_skimage(n) for n in (HELD_OUT_PHOTOS if held_out else TUNED_PHOTOS)]
    unrelated += [(x, y) for x in photos for y in photos if x is not y]
    return {"same template, another name": template, "similar studio style": style, "unrelated": unrelated}


def false_positives(kind: str, *, held_out: bool) -> tuple[int, int]:
    pairs = look_alike_pairs(held_out)[kind]
    return sum(compare_images(_sig(a), _sig(b)).copied for a, b in pairs), len(pairs)


def _report(held_out: bool) -> list[str]:
    lines = []
    for edit in (*HARD_EDITS, *EASY_EDITS):
        f, t = recall(edit, held_out=held_out, repeats=2)
        lines.append(f"{'held-out' if held_out else 'tuned'}  recall {edit:22s} {f / t:.2f} ({f}/{t})")
    for kind in look_alike_pairs(held_out):
        f, t = false_positives(kind, held_out=held_out)
        lines.append(f"{'held-out' if held_out else 'tuned'}  copied {kind:28s} {f}/{t}")
    return lines


@pytest.mark.parametrize("edit", list(HARD_EDITS))
def test_hard_edits_keep_recall(edit):
    found, total = recall(edit, held_out=False)
    assert found / total >= 0.95, f"{edit}: {found}/{total}"


@pytest.mark.parametrize("edit", list(EASY_EDITS))
def test_easy_edits_stay_perfect(edit):
    found, total = recall(edit, held_out=False)
    assert found == total, f"{edit}: {found}/{total}"


@pytest.mark.usefixtures("ocr_engine")  # a template look-alike differs from a copy in its label's text
@pytest.mark.parametrize("kind", ["same template, another name", "similar studio style", "unrelated"])
def test_look_alikes_are_not_copies(kind):
    found, total = false_positives(kind, held_out=False)
    assert found == 0, f"{kind}: {found}/{total} called copies"


@pytest.mark.skipif(not os.environ.get("LOOKALIKE_HELD_OUT"), reason="held-out report: set LOOKALIKE_HELD_OUT=1")
def test_print_held_out_report():
    """Held-out figures are reported, not tuned on (``LOOKALIKE_HELD_OUT=1 pytest -s``); they must stay well
    above chance."""
    lines = _report(True)
    print("\n" + "\n".join(lines))
    recalls = [float(line.split()[-2]) for line in lines if " recall " in line]
    assert min(recalls) >= 0.4
