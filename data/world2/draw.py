"""Packs drawn from a :class:`Design`: tins, jars, bottles, pouches, boxes, blister cards and tubes, with a
printed label (a wordmark, an emblem, a product line, a pattern, sometimes a real photograph printed on it).

Everything is drawn at twice the asked size and reduced, so edges are smooth.  The same design at the same
height always gives the same pixels.  :func:`text_image` renders text with a scalable font of
:mod:`data.world2.assets` or an OpenCV Hershey stroke font, fitted into a box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from data.world2 import assets

RGB = tuple[int, int, int]

SHAPES = ("tin", "jar", "bottle", "pouch", "box", "card", "tube")
LAYOUTS = ("band", "split", "stack", "badge", "corner")
EMBLEMS = ("ring", "shield", "leaf", "star", "hex", "wave", "bolt", "none")
PATTERNS = ("plain", "stripes", "dots", "chevrons", "gradient")
WIDTH_OF = {"tin": 0.62, "jar": 0.82, "bottle": 0.42, "pouch": 0.74, "box": 0.84, "card": 0.72, "tube": 0.36}
"""Pack width as a share of its height."""
LABEL_OF = {
    "tin": (0.04, 0.16, 0.96, 0.86), "jar": (0.08, 0.34, 0.92, 0.88), "bottle": (0.06, 0.42, 0.94, 0.9),
    "pouch": (0.1, 0.2, 0.9, 0.9), "box": (0.02, 0.12, 0.8, 0.98), "card": (0.06, 0.14, 0.94, 0.5),
    "tube": (0.08, 0.18, 0.92, 0.78),
}
"""The printed label as a box of fractions of the pack (left, top, right, bottom)."""


@dataclass(frozen=True, slots=True)
class Design:
    """What a pack looks like; two products of one maker share everything but ``line``/``body``."""

    shape: str
    layout: str
    emblem: str
    pattern: str
    font: str
    """A key of :data:`data.world2.assets.FONT_KEYS` or :data:`~data.world2.assets.HERSHEY_KEYS`."""
    body: RGB
    paper: RGB
    ink: RGB
    accent: RGB
    mark: str
    """The name printed as the wordmark (the brand's mark, another maker's, or a disguised one)."""
    line: str
    """The product line printed under the mark (``VITAMIN D3 · 90 CAPSULES``)."""
    picture: str = ""
    """A real photograph printed in a window of the label (:mod:`data.world2.assets` name), or none."""
    caps: bool = False
    """Print the mark in capitals."""

    def named(self, mark: str) -> Design:
        return replace(self, mark=mark)


def _supersampled(w: int, h: int) -> tuple[int, int]:
    return max(2, w * 2), max(2, h * 2)


def text_image(text: str, font_key: str, box: tuple[int, int], colour: RGB, *, max_height: float = 1.0) -> Image.Image:
    """``text`` as an RGBA image as large as fits in ``box`` (w, h), its glyph height at most
    ``max_height`` of the box height; transparent outside the glyphs."""
    bw, bh = max(4, box[0]), max(4, box[1])
    if font_key.startswith("hershey"):
        face = {"hershey-simplex": cv2.FONT_HERSHEY_SIMPLEX, "hershey-duplex": cv2.FONT_HERSHEY_DUPLEX,
                "hershey-triplex": cv2.FONT_HERSHEY_TRIPLEX, "hershey-complex": cv2.FONT_HERSHEY_COMPLEX}[font_key]
        (tw, th), base = cv2.getTextSize(text, face, 1.0, 2)
        scale = min(bw / max(tw, 1), bh * max_height / max(th + base, 1))
        thickness = max(1, round(scale * 2.2))
        (tw, th), base = cv2.getTextSize(text, face, scale, thickness)
        canvas = np.zeros((th + base + 2 * thickness, tw + 2 * thickness), np.uint8)
        cv2.putText(canvas, text, (thickness, th + thickness), face, scale, 255, thickness, cv2.LINE_AA)
        alpha = Image.fromarray(canvas)
    else:
        probe = assets.font(font_key, 100)
        left, top, right, bottom = probe.getbbox(text)
        size = max(6, int(100 * min(bw / max(right - left, 1), bh * max_height / max(bottom - top, 1))))
        face = assets.font(font_key, size)
        left, top, right, bottom = face.getbbox(text)
        alpha = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
        ImageDraw.Draw(alpha).text((-left, -top), text, font=face, fill=255)
        if alpha.width > bw or alpha.height > bh:
            alpha = alpha.resize((min(bw, alpha.width), min(bh, alpha.height)), Image.Resampling.LANCZOS)
    solid = Image.new("RGBA", alpha.size, (*colour, 255))
    solid.putalpha(alpha)
    return solid


def paste_centered(base: Image.Image, layer: Image.Image, centre: tuple[float, float]) -> None:
    x = round(centre[0] - layer.width / 2)
    y = round(centre[1] - layer.height / 2)
    base.paste(layer, (x, y), layer)


def draw_emblem(size: int, kind: str, colour: RGB, initial: str, font_key: str) -> Image.Image:
    """A square RGBA emblem of ``kind`` (:data:`EMBLEMS`) with the maker's initial where it has room."""
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    if kind == "none":
        return im
    d = ImageDraw.Draw(im)
    s = size
    w = max(2, s // 14)
    letter = True
    if kind == "ring":
        d.ellipse((w, w, s - w, s - w), outline=(*colour, 255), width=w)
    elif kind == "shield":
        d.polygon([(s * 0.12, s * 0.08), (s * 0.88, s * 0.08), (s * 0.88, s * 0.5), (s * 0.5, s * 0.94),
                   (s * 0.12, s * 0.5)], outline=(*colour, 255), width=w)
    elif kind == "hex":
        d.regular_polygon((s / 2, s / 2, s * 0.46), 6, rotation=30, outline=(*colour, 255), width=w)
    elif kind == "star":
        pts = [(s / 2 + s * (0.46 if i % 2 == 0 else 0.2) * math.sin(i * math.pi / 5),
                s / 2 - s * (0.46 if i % 2 == 0 else 0.2) * math.cos(i * math.pi / 5)) for i in range(10)]
        d.polygon(pts, fill=(*colour, 255))
        letter = False
    elif kind == "leaf":
        d.chord((s * 0.1, s * 0.05, s * 0.9, s * 1.2), 200, 340, fill=(*colour, 255))
        d.chord((s * 0.1, s * -0.2, s * 0.9, s * 0.95), 20, 160, fill=(*colour, 255))
        d.line((s * 0.15, s * 0.55, s * 0.85, s * 0.5), fill=(255, 255, 255, 255), width=w)
        letter = False
    elif kind == "wave":
        for k in range(3):
            y0 = s * (0.3 + 0.2 * k)
            pts = [(x, y0 + s * 0.07 * math.sin(x / s * 2 * math.pi * 1.5)) for x in range(0, s, 2)]
            d.line(pts, fill=(*colour, 255), width=w)
        letter = False
    elif kind == "bolt":
        d.polygon([(s * 0.58, s * 0.04), (s * 0.2, s * 0.56), (s * 0.46, s * 0.56), (s * 0.36, s * 0.96),
                   (s * 0.8, s * 0.4), (s * 0.54, s * 0.4)], fill=(*colour, 255))
        letter = False
    if letter and initial:
        glyph = text_image(initial, font_key, (int(s * 0.5), int(s * 0.5)), colour)
        paste_centered(im, glyph, (s / 2, s * (0.45 if kind == "shield" else 0.5)))
    return im


def _pattern(w: int, h: int, design: Design) -> Image.Image:
    im = Image.new("RGB", (w, h), design.body)
    d = ImageDraw.Draw(im)
    a = tuple(int(c * 0.75 + 255 * 0.25) for c in design.body)
    if design.pattern == "stripes":
        step = max(8, w // 9)
        for x in range(-h, w, step):
            d.polygon([(x, 0), (x + step // 2, 0), (x + step // 2 + h, h), (x + h, h)], fill=a)
    elif design.pattern == "dots":
        step = max(10, w // 10)
        for y in range(step // 2, h, step):
            for x in range(step // 2 + (y // step % 2) * step // 2, w, step):
                d.ellipse((x - step // 6, y - step // 6, x + step // 6, y + step // 6), fill=a)
    elif design.pattern == "chevrons":
        step = max(12, h // 12)
        for y in range(0, h + step, step):
            d.line([(0, y), (w / 2, y - step / 2), (w, y)], fill=a, width=max(2, step // 4))
    elif design.pattern == "gradient":
        top = np.array(design.body, np.float32)
        bottom = np.array(design.accent, np.float32)
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        arr = (top * (1 - t) + bottom * t).repeat(w, axis=1)
        im = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    return im


def draw_label(design: Design, w: int, h: int) -> Image.Image:
    """The printed label (RGB, ``w`` x ``h``) in the design's layout."""
    label = Image.new("RGBA", (w, h), (*design.paper, 255))
    d = ImageDraw.Draw(label)
    mark = design.mark.upper() if design.caps else design.mark
    initial = design.mark[:1].upper()
    ink, accent = design.ink, design.accent
    line_font = "sans-light" if not design.font.startswith("hershey") else "hershey-simplex"
    if design.layout == "band":
        d.rectangle((0, int(h * 0.34), w, int(h * 0.66)), fill=(*accent, 255))
        paste_centered(label, text_image(mark, design.font, (int(w * 0.88), int(h * 0.26)), design.paper),
                       (w / 2, h * 0.5))
        paste_centered(label, draw_emblem(int(h * 0.24), design.emblem, accent, initial, design.font), (w / 2, h * 0.17))
        paste_centered(label, text_image(design.line, line_font, (int(w * 0.86), int(h * 0.1)), ink), (w / 2, h * 0.8))
    elif design.layout == "split":
        d.rectangle((0, 0, int(w * 0.3), h), fill=(*accent, 255))
        paste_centered(label, draw_emblem(int(w * 0.24), design.emblem, design.paper, initial, design.font),
                       (w * 0.15, h * 0.5))
        paste_centered(label, text_image(mark, design.font, (int(w * 0.64), int(h * 0.3)), ink), (w * 0.65, h * 0.4))
        paste_centered(label, text_image(design.line, line_font, (int(w * 0.62), int(h * 0.1)), accent),
                       (w * 0.65, h * 0.7))
    elif design.layout == "stack":
        paste_centered(label, draw_emblem(int(h * 0.3), design.emblem, accent, initial, design.font), (w / 2, h * 0.22))
        paste_centered(label, text_image(mark, design.font, (int(w * 0.9), int(h * 0.24)), ink), (w / 2, h * 0.55))
        d.rectangle((int(w * 0.1), int(h * 0.7), int(w * 0.9), int(h * 0.72)), fill=(*accent, 255))
        paste_centered(label, text_image(design.line, line_font, (int(w * 0.84), int(h * 0.1)), ink), (w / 2, h * 0.83))
    elif design.layout == "badge":
        r = min(w, h) * 0.42
        d.ellipse((w / 2 - r, h * 0.46 - r, w / 2 + r, h * 0.46 + r), fill=(*accent, 255))
        paste_centered(label, text_image(mark, design.font, (int(r * 1.7), int(r * 0.5)), design.paper), (w / 2, h * 0.46))
        paste_centered(label, text_image(design.line, line_font, (int(w * 0.86), int(h * 0.08)), ink), (w / 2, h * 0.93))
    else:  # corner
        paste_centered(label, text_image(mark, design.font, (int(w * 0.7), int(h * 0.22)), ink), (w * 0.4, h * 0.2))
        paste_centered(label, draw_emblem(int(h * 0.4), design.emblem, accent, initial, design.font), (w * 0.72, h * 0.62))
        paste_centered(label, text_image(design.line, line_font, (int(w * 0.56), int(h * 0.09)), accent), (w * 0.33, h * 0.88))
    if design.picture:
        pw, ph = int(w * 0.34), int(h * 0.28)
        window = assets.fitted(design.picture, (pw, ph))
        spot = {"band": (int(w * 0.62), int(h * 0.03)), "stack": (int(w * 0.03), int(h * 0.03))}.get(
            design.layout, (int(w * 0.04), int(h * 0.64)))
        label.paste(window, spot)
        d.rectangle((spot[0], spot[1], spot[0] + pw, spot[1] + ph), outline=(*accent, 255), width=max(2, w // 120))
    return label.convert("RGB")


def _shade(arr: np.ndarray, mask: np.ndarray, *, cylinder: bool) -> np.ndarray:
    h, w = mask.shape
    cols = np.nonzero(mask.any(axis=0))[0]
    if cols.size == 0:
        return arr
    x0, x1 = cols[0], cols[-1] + 1
    x = np.clip((np.arange(w) - x0) / max(1, x1 - x0), 0, 1)
    if cylinder:
        profile = 0.72 + 0.34 * np.sin(np.pi * x) + 0.22 * np.exp(-((x - 0.3) / 0.06) ** 2)
    else:
        profile = 1.0 + 0.06 * (0.5 - x)
    out = arr.astype(np.float32)
    out[..., :3] *= profile[None, :, None]
    return out.clip(0, 255).astype(np.uint8)


def draw_pack(design: Design, height: int) -> Image.Image:
    """The pack of ``design``, ``height`` pixels high, on a transparent canvas (RGBA)."""
    width = max(8, int(height * WIDTH_OF[design.shape]))
    W, H = _supersampled(width, height)
    body = _pattern(W, H, design)
    mask = Image.new("L", (W, H), 0)
    md = ImageDraw.Draw(mask)
    s = design.shape
    extras: list[tuple[str, tuple, RGB]] = []
    dark = tuple(int(c * 0.55) for c in design.body)
    if s == "tin":
        e = H * 0.06
        md.rectangle((0, e, W, H - e), fill=255)
        md.ellipse((0, H - 2 * e, W, H), fill=255)
        extras.append(("ellipse", (0, 0, W, 2 * e), (200, 200, 205)))
    elif s == "jar":
        md.rounded_rectangle((0, H * 0.22, W, H), radius=int(W * 0.12), fill=255)
        extras.append(("rounded", (W * 0.1, 0, W * 0.9, H * 0.24), design.accent))
    elif s == "bottle":
        md.rounded_rectangle((0, H * 0.3, W, H), radius=int(W * 0.16), fill=255)
        md.polygon([(0, H * 0.36), (W * 0.3, H * 0.18), (W * 0.7, H * 0.18), (W, H * 0.36)], fill=255)
        extras.append(("rounded", (W * 0.28, 0, W * 0.72, H * 0.2), design.accent))
    elif s == "pouch":
        md.polygon([(W * 0.06, H * 0.04), (W * 0.94, H * 0.04), (W, H), (0, H)], fill=255)
        extras.append(("line", (W * 0.1, H * 0.12, W * 0.9, H * 0.12), dark))
    elif s == "box":
        side = W * 0.18
        md.polygon([(0, H * 0.08), (W - side, H * 0.08), (W - side, H), (0, H)], fill=255)
        md.polygon([(W - side, H * 0.08), (W, 0), (W, H * 0.93), (W - side, H)], fill=255)
        md.polygon([(0, H * 0.08), (side, 0), (W, 0), (W - side, H * 0.08)], fill=255)
        extras.append(("polygon", ((W - side, H * 0.08), (W, 0), (W, H * 0.93), (W - side, H)), dark))
        extras.append(("polygon", ((0, H * 0.08), (side, 0), (W, 0), (W - side, H * 0.08)),
                       tuple(min(255, int(c * 1.15) + 20) for c in design.body)))
    elif s == "card":
        md.rounded_rectangle((0, 0, W, H), radius=int(W * 0.04), fill=255)
        extras.append(("hole", (W * 0.42, H * 0.03, W * 0.58, H * 0.08), (0, 0, 0)))
        extras.append(("bubble", (W * 0.16, H * 0.54, W * 0.84, H * 0.96), (225, 232, 238)))
    else:  # tube
        md.polygon([(0, H * 0.04), (W, H * 0.04), (W * 0.92, H * 0.88), (W * 0.08, H * 0.88)], fill=255)
        extras.append(("rounded", (W * 0.26, H * 0.86, W * 0.74, H), design.accent))
        extras.append(("line", (0, H * 0.06, W, H * 0.06), dark))
    lx0, ly0, lx1, ly1 = LABEL_OF[s]
    label = draw_label(design, int(W * (lx1 - lx0)), int(H * (ly1 - ly0)))
    body.paste(label, (int(W * lx0), int(H * ly0)))
    rgba = body.convert("RGBA")
    rgba.putalpha(mask)
    d = ImageDraw.Draw(rgba)
    for kind, box, colour in extras:
        if kind == "ellipse":
            d.ellipse(box, fill=(*colour, 255), outline=(120, 120, 125, 255), width=3)
        elif kind == "rounded":
            d.rounded_rectangle(box, radius=int((box[2] - box[0]) * 0.12), fill=(*colour, 255))
        elif kind == "line":
            d.line(box, fill=(*colour, 255), width=max(3, W // 150))
        elif kind == "polygon":
            d.polygon(box, fill=(*colour, 255))
        elif kind == "hole":
            d.ellipse(box, fill=(0, 0, 0, 0))
        elif kind == "bubble":
            d.rounded_rectangle(box, radius=int(W * 0.06), fill=(*colour, 150), outline=(250, 250, 255, 220), width=4)
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            d.rounded_rectangle((cx - W * 0.22, cy - H * 0.04, cx + W * 0.22, cy + H * 0.04), radius=int(H * 0.03),
                                fill=(*design.accent, 255))
            d.rectangle((cx - W * 0.3, cy - H * 0.015, cx - W * 0.2, cy + H * 0.015), fill=(90, 90, 95, 255))
    arr = _shade(np.asarray(rgba), np.asarray(mask) > 0, cylinder=s in ("tin", "jar", "bottle", "tube"))
    out = Image.fromarray(arr, "RGBA")
    return out.resize((width, height), Image.Resampling.LANCZOS)


def shadow(pack: Image.Image, *, blur: float, strength: int = 110) -> Image.Image:
    """A soft shadow of ``pack`` (RGBA) to put under it."""
    alpha = pack.getchannel("A").point(lambda v: strength if v > 40 else 0)
    layer = Image.new("RGBA", pack.size, (20, 18, 16, 0))
    layer.putalpha(alpha.filter(ImageFilter.GaussianBlur(blur)))
    return layer
