"""Edits counterfeiters make to copied product photos, real photographs, and image encoding.

Every edit takes a Pillow RGB image and a seeded ``random.Random`` and returns a new RGB image; the
``kind`` names match the demo world's ``label.kinds`` vocabulary (``crop``, ``mirror``, ``pad``,
``overlay``, ``rotate``, ``collage``, ``background``, ``colour_shift``; ``reencoded`` is done by
:func:`encode` at a low JPEG quality).
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from data.demo.packshots import Fonts
from data.demo.vocab import OVERLAY_TEXTS

# scikit-image sample photographs that ship inside its wheel (no download); ``chelsea`` and ``coffee`` are
# reserved for brand photos, the others illustrate unrelated listings.
REAL_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "clock", "horse", "moon", "brick",
               "grass", "gravel", "hubble_deep_field", "immunohistochemistry", "colorwheel", "page", "text", "retina")


def load_real_photo(name: str) -> Image.Image:
    """A scikit-image sample photograph as RGB (grey ones are converted)."""
    import skimage.data

    if name not in REAL_PHOTOS:
        raise ValueError(f"not a bundled sample photo: {name!r}")
    arr = np.asarray(getattr(skimage.data, name)())
    if arr.dtype != np.uint8:
        arr = (255 * (arr.astype(np.float64) / max(float(arr.max()), 1.0))).astype(np.uint8)
    image = Image.fromarray(arr)
    return image.convert("RGB")


def crop(image: Image.Image, rng: random.Random) -> Image.Image:
    """Cut 10-30% of the width and of the height off (a tight crop), unevenly between sides."""
    w, h = image.size
    fx, fy = rng.uniform(0.10, 0.30), rng.uniform(0.10, 0.30)
    left = int(w * fx * rng.random())
    top = int(h * fy * rng.random())
    return image.crop((left, top, left + int(w * (1 - fx)), top + int(h * (1 - fy))))


def mirror(image: Image.Image, rng: random.Random) -> Image.Image:
    """Left-right flip."""
    return ImageOps.mirror(image)


def pad(image: Image.Image, rng: random.Random) -> Image.Image:
    """A 10-30% border, white or coloured, sometimes only top and bottom (letterbox)."""
    w, h = image.size
    frac = rng.uniform(0.10, 0.30)
    colour = rng.choice(((255, 255, 255), (255, 255, 255), (0, 0, 0), (230, 30, 40), (250, 220, 60), (240, 240, 240)))
    if rng.random() < 0.3:
        return ImageOps.expand(image, border=(0, int(h * frac), 0, int(h * frac)), fill=colour)
    return ImageOps.expand(image, border=int(max(w, h) * frac / 2), fill=colour)


def overlay(image: Image.Image, rng: random.Random, *, fonts: Fonts) -> Image.Image:
    """A sale banner or badge ("HOT SALE", "-70%") drawn over a corner or a band of the photo."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    text = rng.choice(OVERLAY_TEXTS)
    colour = rng.choice(((230, 20, 30), (250, 200, 0), (20, 160, 60), (255, 90, 0)))
    if rng.random() < 0.5:
        r = min(w, h) * rng.uniform(0.12, 0.2)
        cx = rng.choice((r * 1.1, w - r * 1.1))
        cy = rng.choice((r * 1.1, h - r * 1.1))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        draw.text((cx, cy), text, font=fonts.fit(text, width=r * 1.6, max_size=int(r * 0.7)), fill=(255, 255, 255),
                  anchor="mm")
    else:
        band = h * rng.uniform(0.08, 0.14)
        y = rng.choice((0, h - band))
        draw.rectangle((0, y, w, y + band), fill=colour)
        draw.text((w / 2, y + band / 2), text, font=fonts.fit(text, width=w * 0.8, max_size=int(band * 0.8)),
                  fill=(255, 255, 255), anchor="mm")
    return out


def rotate(image: Image.Image, rng: random.Random) -> Image.Image:
    """Turn by 3-15 degrees either way, corners filled with white."""
    angle = rng.uniform(3, 15) * rng.choice((-1, 1))
    return image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=rng.random() < 0.5,
                        fillcolor=(255, 255, 255))


BACKDROPS = ("grass", "brick", "gravel", "coffee", "rocket", "astronaut")
"""Sample photographs a replaced background may be cut from (plus plain gradients and wood-like stripes)."""


def _backdrop(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A new background: a window of a sample photo, a colour gradient or coarse stripes."""
    w, h = size
    roll = rng.random()
    if roll < 0.5:
        photo = load_real_photo(rng.choice(BACKDROPS))
        pw, ph = photo.size
        fx = rng.uniform(0.4, 0.8)
        x0, y0 = int(pw * (1 - fx) * rng.random()), int(ph * (1 - fx) * rng.random())
        return photo.crop((x0, y0, x0 + int(pw * fx), y0 + int(ph * fx))).resize(size, Image.Resampling.BILINEAR)
    top = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.float32)
    bottom = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.float32)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    grad = np.broadcast_to(top + (bottom - top) * t, (h, w, 3)).copy()
    if roll > 0.8:  # stripes, like a wooden table or a tiled wall
        period = rng.randint(12, 40)
        grad *= (0.85 + 0.15 * (np.arange(w)[None, :, None] // period % 2)).astype(np.float32)
    return Image.fromarray(np.clip(grad, 0, 255).astype(np.uint8), "RGB")


def replace_background(image: Image.Image, rng: random.Random) -> Image.Image:
    """Swap the plain studio background for a photo, a gradient or stripes (the product cut out).

    The background is every pixel within a small colour distance of the corner colours (or of its row's edge
    pixels, for gradients) that is connected to the image border; what remains (the product, its label and shadow core) is pasted over the new one.
    """
    from scipy import ndimage

    arr = np.asarray(image.convert("RGB"), dtype=np.int16)
    h, w = arr.shape[:2]
    corners = np.array([arr[0, 0], arr[0, w - 1], arr[h - 1, 0], arr[h - 1, w - 1]], dtype=np.int16)
    near = np.zeros((h, w), dtype=bool)
    for colour in corners:
        near |= np.abs(arr - colour).sum(axis=2) < 36
    for column in (0, w - 1):  # a studio gradient changes from top to bottom: compare each row with its edge
        near |= np.abs(arr - arr[:, column:column + 1]).sum(axis=2) < 24
    labels, _ = ndimage.label(near)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, border[border > 0])
    background = ndimage.binary_opening(background, iterations=2)
    mask = Image.fromarray(((~background) * 255).astype(np.uint8), "L")
    out = _backdrop((w, h), rng)
    out.paste(image.convert("RGB"), (0, 0), mask)
    return out


def colour_shift(image: Image.Image, rng: random.Random) -> Image.Image:
    """Shift the colours: hue turned by 25-180 degrees (or the RGB channels swapped), saturation and
    brightness changed by up to 25%."""
    if rng.random() < 0.3:
        r, g, b = image.convert("RGB").split()
        order = rng.choice(((g, b, r), (b, r, g), (b, g, r)))
        out = Image.merge("RGB", order)
    else:
        hsv = np.asarray(image.convert("HSV"), dtype=np.int16).copy()
        hsv[..., 0] = (hsv[..., 0] + int(rng.uniform(25, 180) / 360 * 256) * rng.choice((-1, 1))) % 256
        out = Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")
    arr = np.asarray(out, dtype=np.float32) * rng.uniform(0.8, 1.2)
    grey = arr.mean(axis=2, keepdims=True)
    arr = grey + (arr - grey) * rng.uniform(0.75, 1.25)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def collage(images: list[Image.Image], rng: random.Random, *, size: int = 800) -> Image.Image:
    """2-4 images tiled on white in a row or a 2x2 grid, ``size`` px wide; order as given."""
    n = len(images)
    if n == 4 or (n == 3 and rng.random() < 0.5):
        cell = size // 2
        out = Image.new("RGB", (size, size), (255, 255, 255))
        slots = [(0, 0), (cell, 0), (0, cell), (cell, cell)]
    else:
        cell = size // n
        out = Image.new("RGB", (size, cell), (255, 255, 255))
        slots = [(i * cell, 0) for i in range(n)]
    gap = max(2, cell // 40)
    for image, (x, y) in zip(images, slots, strict=False):
        tile = ImageOps.contain(image, (cell - 2 * gap, cell - 2 * gap))
        out.paste(tile, (x + (cell - tile.width) // 2, y + (cell - tile.height) // 2))
    return out


def resize_long_side(image: Image.Image, long_side: int) -> Image.Image:
    """Scale so that the longer side is ``long_side`` px (never below 32 px a side)."""
    w, h = image.size
    factor = long_side / max(w, h)
    target = (max(32, round(w * factor)), max(32, round(h * factor)))
    if target == image.size:
        return image
    return image.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)


def encode(image: Image.Image, *, fmt: str, quality: int = 85) -> bytes:
    """``jpg`` (baseline, no metadata), ``png`` or ``webp`` bytes; deterministic for the same input."""
    buf = io.BytesIO()
    if fmt == "jpg":
        image.convert("RGB").save(buf, format="JPEG", quality=quality)
    elif fmt == "png":
        image.convert("RGB").save(buf, format="PNG", optimize=False, compress_level=6)
    elif fmt == "webp":
        image.convert("RGB").save(buf, format="WEBP", quality=quality, method=4)
    else:
        raise ValueError(f"unknown image format {fmt!r}")
    return buf.getvalue()
