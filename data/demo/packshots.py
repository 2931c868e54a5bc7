"""Product packshots drawn with Pillow: bottles, jars, tubes, boxes, sprays, cans, pouches, devices, plush toys.

A packshot is a square RGB image, ``size`` pixels a side, of one product on a white or light background with a
soft shadow, a label carrying the mark (brand name in Pillow's bundled scalable font), the product line and
a small logo.  Many packshots share the same template on purpose: two products of the same shape and colours
differ only by their label text, which a perceptual hash alone cannot tell apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

RGB = tuple[int, int, int]
SHAPES = ("bottle", "dropper", "jar", "candle", "tube", "spray", "box", "pouch", "can", "device", "speaker",
          "plush", "tshirt")
PALETTE: tuple[RGB, ...] = (
    (214, 69, 101), (236, 160, 172), (120, 48, 86), (40, 44, 52), (245, 245, 240), (28, 92, 140),
    (86, 160, 206), (60, 130, 90), (160, 200, 150), (228, 170, 60), (200, 90, 40), (150, 110, 80),
    (90, 70, 150), (190, 180, 220), (230, 220, 200), (20, 20, 24), (180, 30, 40), (250, 210, 80),
)


class Fonts:
    """Pillow's bundled scalable font at the sizes asked for, loaded once per instance."""

    def __init__(self) -> None:
        self._by_size: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def get(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        size = max(6, int(size))
        if size not in self._by_size:
            self._by_size[size] = ImageFont.load_default(size=size)
        return self._by_size[size]

    def fit(self, text: str, *, width: float, max_size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        """The largest font (up to ``max_size`` px) in which ``text`` is at most ``width`` px wide."""
        size = max_size
        length = self.get(size).getlength(text) or 1.0
        if length > width:
            size = max(6, int(size * width / length))
        return self.get(size)


@dataclass(frozen=True)
class Look:
    """How one product is drawn: its shape and colours."""

    shape: str
    body: RGB
    accent: RGB
    label: RGB
    ink: RGB
    logo: str = "circle"
    """``circle``, ``diamond``, ``bar`` or ``none``."""


def random_look(shape: str, rng: random.Random) -> Look:
    body = rng.choice(PALETTE)
    accent = rng.choice([c for c in PALETTE if c != body])
    label = rng.choice(((255, 255, 255), (250, 246, 236), (20, 20, 24), accent))
    ink = (20, 20, 24) if sum(label) > 380 else (255, 255, 255)
    return Look(shape=shape, body=body, accent=accent, label=label, ink=ink,
                logo=rng.choice(("circle", "diamond", "bar", "none")))


def background(size: int, *, kind: str, tint: RGB = (240, 240, 240)) -> Image.Image:
    """``white``; ``studio`` (light vertical gradient); ``tinted`` (pale wash of ``tint``)."""
    if kind == "white":
        return Image.new("RGB", (size, size), (255, 255, 255))
    top = np.array((252, 252, 252), dtype=np.float32)
    bottom = np.array((222, 222, 226), dtype=np.float32) if kind == "studio" else (
        np.array(tint, dtype=np.float32) * 0.35 + 255 * 0.65)
    canvas = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(canvas)
    band = max(1, size // 256)
    for y in range(0, size, band):
        colour = top + (bottom - top) * (y / max(size - 1, 1))
        draw.rectangle((0, y, size, y + band - 1), fill=tuple(int(round(c)) for c in colour))
    return canvas


def _shaded(size: tuple[int, int], colour: RGB) -> Image.Image:
    """A fill with cylinder-like shading: highlight left of centre, darker edges."""
    w, h = size
    x = np.linspace(-1.0, 1.0, max(w, 1), dtype=np.float32)
    shade = 0.78 + 0.30 * np.exp(-((x + 0.35) ** 2) / 0.08) - 0.18 * x**2
    arr = np.clip(np.array(colour, dtype=np.float32)[None, :] * shade[:, None] + 14 * (shade[:, None] > 1.0),
                  0, 255)
    row = arr.round().astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(np.broadcast_to(row, (max(h, 1), max(w, 1), 3))), "RGB")


def _fill(canvas: Image.Image, colour: RGB, draw_mask) -> None:
    """Paint ``colour`` (shaded) through the mask drawn by ``draw_mask(ImageDraw)``."""
    mask = Image.new("L", canvas.size, 0)
    draw_mask(ImageDraw.Draw(mask))
    box = mask.getbbox()
    if box is None:
        return
    patch = _shaded((box[2] - box[0], box[3] - box[1]), colour)
    canvas.paste(patch, box[:2], mask.crop(box))


def _shadow(canvas: Image.Image, box: tuple[float, float, float, float], *, strength: int = 90) -> None:
    w, h = canvas.size
    small = Image.new("L", (w // 4, h // 4), 0)
    x0, y0, x1, y1 = (v / 4 for v in box)
    ImageDraw.Draw(small).ellipse((x0, y0, x1, y1), fill=strength)
    small = small.filter(ImageFilter.GaussianBlur(radius=max(2, (x1 - x0) / 10)))
    bbox = small.getbbox()
    if bbox is None:
        return
    region = small.crop(bbox).resize(((bbox[2] - bbox[0]) * 4, (bbox[3] - bbox[1]) * 4), Image.Resampling.BILINEAR)
    canvas.paste((40, 40, 46), (bbox[0] * 4, bbox[1] * 4, bbox[0] * 4 + region.width, bbox[1] * 4 + region.height),
                 region)


def _logo(draw: ImageDraw.ImageDraw, *, kind: str, centre: tuple[float, float], r: float, colour: RGB,
          initial: str, fonts: Fonts, bg: RGB) -> None:
    cx, cy = centre
    if kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        font = fonts.get(int(r * 1.3))
        draw.text((cx, cy), initial, font=font, fill=bg, anchor="mm")
    elif kind == "diamond":
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=colour)
    elif kind == "bar":
        draw.rectangle((cx - 2 * r, cy - r / 4, cx + 2 * r, cy + r / 4), fill=colour)


def _label(canvas: Image.Image, box: tuple[float, float, float, float], *, look: Look, mark: str, line: str,
           fonts: Fonts, vertical: bool = False) -> None:
    """A label rectangle with logo, mark and product line fitted inside ``box``."""
    x0, y0, x1, y1 = box
    draw = ImageDraw.Draw(canvas)
    draw.rectangle(box, fill=look.label)
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    if vertical:
        layer = Image.new("RGBA", (int(h), int(w)), (*look.label, 255))
        _label(layer, (0, 0, h, w), look=look, mark=mark, line=line, fonts=fonts)
        layer = layer.rotate(90, expand=True)
        canvas.paste(layer.convert("RGB"), (int(x0), int(y0)))
        return
    if mark:
        font = fonts.fit(mark, width=w * 0.86, max_size=int(h * 0.34))
        draw.text((cx, y0 + h * 0.5), mark, font=font, fill=look.ink, anchor="mm")
    if look.logo != "none" and mark:
        _logo(draw, kind=look.logo, centre=(cx, y0 + h * 0.2), r=h * 0.09, colour=look.accent,
              initial=mark[:1].upper(), fonts=fonts, bg=look.label)
    if line:
        font = fonts.fit(line.upper(), width=w * 0.8, max_size=max(8, int(h * 0.11)))
        draw.text((cx, y0 + h * 0.78), line.upper(), font=font, fill=look.ink, anchor="mm")


def _draw_object(canvas: Image.Image, *, look: Look, mark: str, line: str, fonts: Fonts,
                 box: tuple[float, float, float, float], variant: int) -> None:
    """Draw ``look.shape`` inside ``box`` (x0, y0, x1, y1) of ``canvas``."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    draw = ImageDraw.Draw(canvas)
    s = look.shape
    dark = tuple(int(c * 0.35) for c in look.accent)
    if s in ("bottle", "dropper", "spray"):
        bw = w * (0.55 if s == "bottle" else 0.5)
        by0 = y0 + h * (0.3 if s != "dropper" else 0.38)
        _shadow(canvas, (cx - bw * 0.6, y1 - h * 0.04, cx + bw * 0.6, y1 + h * 0.04))
        _fill(canvas, look.body, lambda d: d.rounded_rectangle((cx - bw / 2, by0, cx + bw / 2, y1),
                                                                radius=bw * 0.12, fill=255))
        nw = bw * 0.34
        _fill(canvas, look.body, lambda d: d.rectangle((cx - nw / 2, by0 - h * 0.07, cx + nw / 2, by0 + 2), fill=255))
        if s == "bottle":
            _fill(canvas, look.accent, lambda d: d.rounded_rectangle(
                (cx - nw * 0.65, y0 + h * 0.1, cx + nw * 0.65, by0 - h * 0.06), radius=nw * 0.15, fill=255))
        elif s == "dropper":
            _fill(canvas, look.accent, lambda d: d.rounded_rectangle(
                (cx - nw * 0.7, by0 - h * 0.2, cx + nw * 0.7, by0 - h * 0.06), radius=nw * 0.1, fill=255))
            _fill(canvas, dark, lambda d: d.ellipse((cx - nw * 0.45, y0, cx + nw * 0.45, by0 - h * 0.18), fill=255))
        else:
            _fill(canvas, look.accent, lambda d: d.rounded_rectangle(
                (cx - nw * 0.8, y0 + h * 0.12, cx + nw * 0.8, by0 - h * 0.06), radius=nw * 0.2, fill=255))
            draw.rectangle((cx + nw * 0.8, y0 + h * 0.16, cx + nw * 1.3, y0 + h * 0.19), fill=dark)
        _label(canvas, (cx - bw * 0.42, by0 + (y1 - by0) * 0.22, cx + bw * 0.42, by0 + (y1 - by0) * 0.78),
               look=look, mark=mark, line=line, fonts=fonts)
    elif s in ("jar", "candle"):
        jw, jh = w * 0.8, h * 0.5
        jy0 = y1 - jh
        _shadow(canvas, (cx - jw * 0.6, y1 - h * 0.05, cx + jw * 0.6, y1 + h * 0.05))
        glass = look.body if s == "jar" else tuple(min(255, int(c * 0.5 + 110)) for c in look.body)
        _fill(canvas, glass, lambda d: d.rounded_rectangle((cx - jw / 2, jy0, cx + jw / 2, y1),
                                                            radius=jw * 0.08, fill=255))
        if s == "jar":
            _fill(canvas, look.accent, lambda d: d.rounded_rectangle(
                (cx - jw * 0.52, jy0 - h * 0.12, cx + jw * 0.52, jy0 + 4), radius=jw * 0.04, fill=255))
        else:
            draw.ellipse((cx - jw * 0.46, jy0 - h * 0.03, cx + jw * 0.46, jy0 + h * 0.05), fill=(245, 240, 228))
            draw.line((cx, jy0 - h * 0.09, cx, jy0), fill=(30, 30, 30), width=max(2, int(w * 0.01)))
            draw.ellipse((cx - w * 0.03, jy0 - h * 0.2, cx + w * 0.03, jy0 - h * 0.08), fill=(255, 170, 40))
            draw.ellipse((cx - w * 0.015, jy0 - h * 0.15, cx + w * 0.015, jy0 - h * 0.09), fill=(255, 236, 150))
        _label(canvas, (cx - jw * 0.38, jy0 + jh * 0.18, cx + jw * 0.38, jy0 + jh * 0.84),
               look=look, mark=mark, line=line, fonts=fonts)
    elif s == "tube":
        tw = w * 0.42
        _shadow(canvas, (cx - tw * 0.5, y1 - h * 0.03, cx + tw * 0.5, y1 + h * 0.03))
        _fill(canvas, look.body, lambda d: d.polygon(
            [(cx - tw * 0.6, y0 + h * 0.06), (cx + tw * 0.6, y0 + h * 0.06), (cx + tw * 0.42, y1 - h * 0.16),
             (cx - tw * 0.42, y1 - h * 0.16)], fill=255))
        draw.rectangle((cx - tw * 0.6, y0, cx + tw * 0.6, y0 + h * 0.06), fill=tuple(int(c * 0.85) for c in look.body))
        _fill(canvas, look.accent, lambda d: d.rounded_rectangle(
            (cx - tw * 0.36, y1 - h * 0.17, cx + tw * 0.36, y1), radius=tw * 0.05, fill=255))
        _label(canvas, (cx - tw * 0.34, y0 + h * 0.18, cx + tw * 0.34, y1 - h * 0.26), look=look, mark=mark,
               line=line, fonts=fonts, vertical=variant % 2 == 1)
    elif s == "box":
        bw, bh = w * 0.7, h * 0.62
        bx0, by0 = cx - bw / 2 - w * 0.06, y1 - bh
        depth = w * 0.14
        _shadow(canvas, (bx0 - w * 0.02, y1 - h * 0.04, bx0 + bw + depth + w * 0.04, y1 + h * 0.04))
        side = tuple(int(c * 0.7) for c in look.body)
        top = tuple(min(255, int(c * 1.15) + 10) for c in look.body)
        draw.polygon([(bx0 + bw, by0), (bx0 + bw + depth, by0 - depth * 0.6), (bx0 + bw + depth, y1 - depth * 0.6),
                      (bx0 + bw, y1)], fill=side)
        draw.polygon([(bx0, by0), (bx0 + depth, by0 - depth * 0.6), (bx0 + bw + depth, by0 - depth * 0.6),
                      (bx0 + bw, by0)], fill=top)
        draw.rectangle((bx0, by0, bx0 + bw, y1), fill=look.body)
        draw.rectangle((bx0, y1 - bh * 0.12, bx0 + bw, y1), fill=look.accent)
        _label(canvas, (bx0 + bw * 0.1, by0 + bh * 0.14, bx0 + bw * 0.9, by0 + bh * 0.78), look=look, mark=mark,
               line=line, fonts=fonts)
    elif s == "pouch":
        pw = w * 0.66
        py0 = y0 + h * 0.12
        _shadow(canvas, (cx - pw * 0.55, y1 - h * 0.04, cx + pw * 0.55, y1 + h * 0.04))
        _fill(canvas, look.body, lambda d: d.polygon(
            [(cx - pw * 0.46, py0), (cx + pw * 0.46, py0), (cx + pw * 0.52, y1 - h * 0.05), (cx + pw * 0.45, y1),
             (cx - pw * 0.45, y1), (cx - pw * 0.52, y1 - h * 0.05)], fill=255))
        draw.rectangle((cx - pw * 0.46, py0, cx + pw * 0.46, py0 + h * 0.05), fill=look.accent)
        _label(canvas, (cx - pw * 0.36, py0 + h * 0.18, cx + pw * 0.36, py0 + h * 0.6), look=look, mark=mark,
               line=line, fonts=fonts)
    elif s in ("can", "speaker"):
        cw = w * (0.5 if s == "can" else 0.56)
        cy0 = y0 + h * (0.22 if s == "can" else 0.12)
        e = cw * 0.14
        _shadow(canvas, (cx - cw * 0.6, y1 - h * 0.04, cx + cw * 0.6, y1 + h * 0.04))
        _fill(canvas, look.body, lambda d: (d.rectangle((cx - cw / 2, cy0, cx + cw / 2, y1 - e), fill=255),
                                            d.ellipse((cx - cw / 2, y1 - 2 * e, cx + cw / 2, y1), fill=255)))
        top = (200, 200, 205) if s == "can" else tuple(int(c * 0.6) for c in look.body)
        draw.ellipse((cx - cw / 2, cy0 - e, cx + cw / 2, cy0 + e), fill=top)
        if s == "speaker":
            for row in range(6):
                for col in range(9):
                    px = cx - cw * 0.4 + col * cw * 0.1
                    py = y1 - h * 0.12 - row * h * 0.035
                    draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=tuple(int(c * 0.7) for c in look.body))
            draw.ellipse((cx - e, cy0 - e * 0.4, cx + e, cy0 + e * 0.4), fill=look.accent)
            _label(canvas, (cx - cw * 0.36, cy0 + h * 0.08, cx + cw * 0.36, cy0 + h * 0.36), look=look, mark=mark,
                   line=line, fonts=fonts)
        else:
            _label(canvas, (cx - cw * 0.4, cy0 + h * 0.12, cx + cw * 0.4, y1 - h * 0.14), look=look, mark=mark,
                   line=line, fonts=fonts)
    elif s == "device":
        dw, dh = w * 0.56, h * 0.78
        dy0 = y1 - dh
        _shadow(canvas, (cx - dw * 0.6, y1 - h * 0.04, cx + dw * 0.6, y1 + h * 0.04))
        draw.rounded_rectangle((cx - dw / 2, dy0, cx + dw / 2, y1), radius=dw * 0.16, fill=(28, 28, 32))
        screen = (cx - dw * 0.4, dy0 + dh * 0.08, cx + dw * 0.4, dy0 + dh * 0.62)
        _fill(canvas, look.body, lambda d: d.rounded_rectangle(screen, radius=dw * 0.06, fill=255))
        clock = f"{10 + variant % 3}:{42 - variant:02d}"
        draw.text((cx, dy0 + dh * 0.3), clock, font=fonts.fit(clock, width=dw * 0.6, max_size=int(dh * 0.14)),
                  fill=(255, 255, 255), anchor="mm")
        draw.rounded_rectangle((cx - dw * 0.3, dy0 + dh * 0.46, cx + dw * 0.3, dy0 + dh * 0.5), radius=3,
                               fill=look.accent)
        if mark:
            draw.text((cx, dy0 + dh * 0.8), mark, font=fonts.fit(mark, width=dw * 0.7, max_size=int(dh * 0.09)),
                      fill=(235, 235, 235), anchor="mm")
        if line:
            draw.text((cx, dy0 + dh * 0.9), line.upper(), fill=(150, 150, 155), anchor="mm",
                      font=fonts.fit(line.upper(), width=dw * 0.7, max_size=int(dh * 0.04)))
    elif s == "plush":
        r = w * 0.2
        hy = y0 + h * 0.3
        body_box = (cx - r * 1.25, hy + r * 0.6, cx + r * 1.25, y1)
        _shadow(canvas, (cx - r * 1.5, y1 - h * 0.04, cx + r * 1.5, y1 + h * 0.04))
        if variant % 2:  # bunny ears
            for side in (-1, 1):
                draw.ellipse((cx + side * r * 0.5 - r * 0.25, y0, cx + side * r * 0.5 + r * 0.25, hy), fill=look.body)
        else:
            for side in (-1, 1):
                ex = cx + side * r * 0.85
                draw.ellipse((ex - r * 0.4, hy - r * 1.1, ex + r * 0.4, hy - r * 0.3), fill=look.body)
        draw.ellipse(body_box, fill=look.body)
        for side in (-1, 1):
            ax = cx + side * r * 1.2
            draw.ellipse((ax - r * 0.35, hy + r * 1.0, ax + r * 0.35, hy + r * 2.0), fill=look.body)
        draw.ellipse((cx - r, hy - r, cx + r, hy + r), fill=look.body)
        draw.ellipse((cx - r * 0.42, hy + r * 0.05, cx + r * 0.42, hy + r * 0.65), fill=(245, 235, 220))
        for side in (-1, 1):
            draw.ellipse((cx + side * r * 0.4 - 6, hy - r * 0.3 - 6, cx + side * r * 0.4 + 6, hy - r * 0.3 + 6),
                         fill=(15, 15, 15))
        draw.ellipse((cx - 7, hy + r * 0.15, cx + 7, hy + r * 0.3), fill=(40, 25, 25))
        _label(canvas, (cx - r * 0.7, hy + r * 1.3, cx + r * 0.7, hy + r * 2.2), look=look, mark=mark, line=line,
               fonts=fonts)
    elif s == "tshirt":
        sw = w * 0.8
        t = y0 + h * 0.1
        pts = [(cx - sw * 0.18, t), (cx - sw * 0.5, t + h * 0.08), (cx - sw * 0.62, t + h * 0.3),
               (cx - sw * 0.4, t + h * 0.34), (cx - sw * 0.38, y1), (cx + sw * 0.38, y1), (cx + sw * 0.4, t + h * 0.34),
               (cx + sw * 0.62, t + h * 0.3), (cx + sw * 0.5, t + h * 0.08), (cx + sw * 0.18, t)]
        _shadow(canvas, (cx - sw * 0.5, y1 - h * 0.03, cx + sw * 0.5, y1 + h * 0.03), strength=50)
        draw.polygon(pts, fill=look.body)
        draw.chord((cx - sw * 0.18, t - h * 0.07, cx + sw * 0.18, t + h * 0.07), 0, 180, fill=look.accent)
        ink = (255, 255, 255) if sum(look.body) < 400 else (20, 20, 24)
        if mark:
            draw.text((cx, t + h * 0.3), mark, font=fonts.fit(mark, width=sw * 0.5, max_size=int(h * 0.1)),
                      fill=ink, anchor="mm")
        if look.logo != "none" and mark:
            _logo(draw, kind=look.logo, centre=(cx, t + h * 0.44), r=h * 0.03, colour=look.accent,
                  initial=mark[:1].upper(), fonts=fonts, bg=look.body)
    else:
        raise ValueError(f"unknown packshot shape {s!r}")


def draw_packshot(*, look: Look, mark: str, line: str, size: int, fonts: Fonts, scene: str = "white",
                  variant: int = 0, scale: float = 1.0, offset: float = 0.0,
                  backdrop: Image.Image | None = None, supersample: int = 2) -> Image.Image:
    """One product on a background, ``size`` px square.

    ``scene``: ``white`` (pure white, centred), ``studio`` (light gradient), ``tinted`` (pale wash of the
    accent colour), ``duo`` (product beside its box), ``backdrop`` (pasted over ``backdrop``, a photo).
    ``scale`` shrinks the object (1.0 fills ~80% of the height); ``offset`` shifts it right (fraction of size).
    ``supersample`` draws at that many times the size and scales down, for smooth edges.
    """
    ss = size * supersample
    if scene == "backdrop" and backdrop is not None:
        canvas = backdrop.convert("RGB").resize((ss, ss), Image.Resampling.BILINEAR)
        canvas = canvas.filter(ImageFilter.GaussianBlur(radius=ss / 120))
    else:
        canvas = background(ss, kind={"duo": "studio", "backdrop": "studio"}.get(scene, scene), tint=look.accent)
    extent = ss * 0.8 * scale
    cx = ss / 2 + offset * ss
    if scene == "duo":
        box_look = Look(shape="box", body=look.body, accent=look.accent, label=look.label, ink=look.ink,
                        logo=look.logo)
        _draw_object(canvas, look=box_look, mark=mark, line=line, fonts=fonts,
                     box=(ss * 0.08, ss * 0.38, ss * 0.08 + extent * 0.7, ss * 0.38 + extent * 0.62), variant=variant)
        cx = ss * 0.68
        extent *= 0.85
    box = (cx - extent / 2, ss * 0.9 - extent, cx + extent / 2, ss * 0.9)
    _draw_object(canvas, look=look, mark=mark, line=line, fonts=fonts, box=box,
                 variant=variant)
    return canvas.reduce(supersample) if supersample > 1 else canvas

