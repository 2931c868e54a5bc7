"""Deterministic synthetic images for tests and benchmarks (no files, no network).

``photo(seed)`` draws a textured scene (gradient, shapes, lines of glyph-like marks) that behaves like a
product photo for hashing and keypoints; ``packshot(...)`` draws one product on a plain white background,
the hard case of shop photos that all look alike.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

__all__ = ["encode", "packshot", "photo"]


def _color(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def photo(seed: int, size: tuple[int, int] = (640, 640)) -> Image.Image:
    """A busy, deterministic RGB scene of ``size`` pixels."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    top, bottom = _color(rng), _color(rng)
    for y in range(h):
        t = y / max(1, h - 1)
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    for _ in range(18):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randrange(w // 10, w // 3), y0 + rng.randrange(h // 10, h // 3)
        shape = rng.choice(("ellipse", "rectangle", "polygon"))
        fill = _color(rng)
        if shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=fill, outline=_color(rng), width=3)
        elif shape == "rectangle":
            draw.rectangle((x0, y0, x1, y1), fill=fill, outline=_color(rng), width=3)
        else:
            points = [(rng.randrange(w), rng.randrange(h)) for _ in range(rng.randrange(3, 7))]
            draw.polygon(points, fill=fill, outline=_color(rng))
    for _ in range(10):  # glyph-like strokes: the corners keypoint detectors like
        x, y = rng.randrange(w - 60), rng.randrange(h - 20)
        for _ in range(rng.randrange(4, 9)):
            dx = rng.randrange(4, 10)
            draw.line([(x, y), (x + dx, y + rng.randrange(6, 16))], fill=_color(rng), width=2)
            x += dx + 3
    return img


def packshot(*, color: tuple[int, int, int], shape: str = "bottle", size: int = 640, label: str = "",
             label_color: tuple[int, int, int] = (250, 250, 245)) -> Image.Image:
    """One product drawn on white: ``shape`` is ``bottle`` or ``box``; ``label`` is drawn on it."""
    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    s = size / 640
    if shape == "bottle":
        draw.rounded_rectangle((250 * s, 60 * s, 390 * s, 130 * s), radius=int(12 * s), fill=(60, 60, 60))
        draw.rounded_rectangle((190 * s, 130 * s, 450 * s, 580 * s), radius=int(40 * s), fill=color)
    else:
        draw.rectangle((150 * s, 140 * s, 490 * s, 540 * s), fill=color)
        draw.polygon([(150 * s, 140 * s), (210 * s, 90 * s), (550 * s, 90 * s), (490 * s, 140 * s)],
                     fill=tuple(min(255, c + 40) for c in color))
    draw.rectangle((215 * s, 260 * s, 425 * s, 420 * s), fill=label_color)
    if label:
        draw.text((235 * s, 320 * s), label, fill=(20, 20, 20), font_size=int(34 * s))
    return img


def encode(img: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    """The image encoded in ``fmt`` (JPEG quality 90 unless given)."""
    out = io.BytesIO()
    if fmt.upper() == "JPEG":
        params.setdefault("quality", 90)
        img = img.convert("RGB")
    img.save(out, fmt, **params)
    return out.getvalue()
