"""Photos of the second world, rendered from picklable recipes (plain dicts), then edited and encoded.

A recipe is ``{"scene": {...}, "edits": [...], "fmt": "jpg", "quality": 88}``.  Scenes:

- ``studio``: a pack on a graded backdrop with a soft floor shadow;
- ``surface``: a pack standing on a real photograph (a tinted brick, gravel or grass texture, a shop shelf
  of the grocery training photos, a coffee table...), tilted, with its shadow;
  (either scene holds one ``design`` at ``at`` or several ``designs`` at ``ats``: a product beside its sibling);
- ``file``: an image already written into the world folder (an official photo a counterfeiter downloaded);
- ``photo``: a real photograph as it is (an unrelated listing's photo);
- ``collage``: a grid of scenes with or without gutters;
- ``screenshot``: a scene shown inside a drawn product web page (header, title, price, button).

Edits (applied in order): ``pad``, ``crop``, ``mirror``, ``rotate``, ``perspective``, ``banner``,
``sticker``, ``watermark``, ``recolour``, ``scale``, ``blur``, ``noise``, ``jpeg``.  Every parameter is in
the recipe (drawn by the planner's seeded generator), so the renderer has no randomness of its own except
noise, which is seeded by the recipe's ``seed``.  The same recipe always gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from data.world2 import assets
from data.world2.draw import Design, draw_pack, paste_centered, shadow, text_image


def _gradient(size: tuple[int, int], top: tuple, bottom: tuple) -> Image.Image:
    w, h = size
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    arr = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    return Image.fromarray(arr.repeat(w, axis=1).clip(0, 255).astype(np.uint8), "RGB")


def _place(canvas: Image.Image, design: Design, *, pack_h: float, at: tuple[float, float], tilt: float = 0.0,
           shadow_at: tuple[float, float] = (0.02, 0.015), blur: float = 0.02) -> None:
    w, h = canvas.size
    pack = draw_pack(design, max(16, int(h * pack_h)))
    if tilt:
        pack = pack.rotate(tilt, resample=Image.Resampling.BICUBIC, expand=True)
    cx, cy = at[0] * w, at[1] * h
    shade = shadow(pack, blur=max(1.0, blur * h))
    canvas.paste(shade, (round(cx - pack.width / 2 + shadow_at[0] * w), round(cy - pack.height / 2 + shadow_at[1] * h)),
                 shade)
    canvas.paste(pack, (round(cx - pack.width / 2), round(cy - pack.height / 2)), pack)


def _surface(name: str, size: tuple[int, int], tint: tuple | None, focus: tuple[float, float]) -> Image.Image:
    base = assets.fitted(name, size, focus=focus)
    if tint:
        grey = np.asarray(base.convert("L"), np.float32)[..., None] / 255.0
        arr = grey * np.array(tint, np.float32)[None, None, :] * 1.25
        base = Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")
    return base


def scene_image(scene: dict[str, Any], root: Path) -> Image.Image:
    """Draw one scene (RGB)."""
    kind = scene["type"]
    if kind == "file":
        with Image.open(root / scene["path"]) as im:
            return im.convert("RGB")
    if kind == "photo":
        return assets.fitted(scene["name"], tuple(scene["size"]), focus=tuple(scene.get("focus", (0.5, 0.5))))
    size = tuple(scene["size"])
    if kind in ("studio", "surface"):
        if kind == "studio":
            canvas = _gradient(size, scene["backdrop"][0], scene["backdrop"][1])
            shade, blur = (0.015, 0.01), 0.015
        else:
            canvas = _surface(scene["photo"], size, scene.get("tint"), tuple(scene.get("focus", (0.5, 0.5))))
            shade, blur = (0.035, 0.02), 0.025
        designs = scene.get("designs") or [scene["design"]]
        ats = scene.get("ats") or [scene["at"]]
        for design, at in zip(designs, ats, strict=True):
            _place(canvas, design, pack_h=scene["pack_h"], at=tuple(at), tilt=scene.get("tilt", 0.0),
                   shadow_at=shade, blur=blur)
        return canvas
    if kind == "collage":
        return _collage(scene, root)
    if kind == "screenshot":
        return _screenshot(scene, root)
    raise ValueError(f"unknown scene {kind!r}")


def _collage(scene: dict[str, Any], root: Path) -> Image.Image:
    w, h = scene["size"]
    cols, rows, gutter = scene["cols"], scene["rows"], scene.get("gutter", 0)
    canvas = Image.new("RGB", (w, h), tuple(scene.get("gutter_colour", (255, 255, 255))))
    cw, ch = (w - gutter * (cols + 1)) // cols, (h - gutter * (rows + 1)) // rows
    for n, cell in enumerate(scene["cells"]):
        im = ImageOps.fit(scene_image(cell, root), (cw, ch), method=Image.Resampling.LANCZOS)
        r, c = divmod(n, cols)
        canvas.paste(im, (gutter + c * (cw + gutter), gutter + r * (ch + gutter)))
    return canvas


def _screenshot(scene: dict[str, Any], root: Path) -> Image.Image:
    w, h = scene["size"]
    page = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(page)
    bar = tuple(scene.get("bar", (35, 47, 62)))
    d.rectangle((0, 0, w, int(h * 0.08)), fill=bar)
    page.paste(text_image(scene.get("shop", "shop"), "sans", (int(w * 0.25), int(h * 0.04)), (255, 255, 255)),
               (int(w * 0.02), int(h * 0.02)), None)
    d.rounded_rectangle((int(w * 0.35), int(h * 0.018), int(w * 0.8), int(h * 0.062)), radius=8, fill=(255, 255, 255))
    d.text((int(w * 0.02), int(h * 0.1)), scene.get("crumbs", "Home > Shop"), fill=(90, 90, 90),
           font=assets.font("sans-light", max(10, int(h * 0.022))))
    inner = scene_image(scene["inner"], root)
    side = int(min(w * 0.46, h * 0.78))
    inner = ImageOps.contain(inner, (side, side), method=Image.Resampling.LANCZOS)
    x0, y0 = int(w * 0.04), int(h * 0.16)
    page.paste(inner, (x0, y0))
    d.rectangle((x0 - 1, y0 - 1, x0 + inner.width, y0 + inner.height), outline=(220, 220, 220))
    tx = int(w * 0.55)
    title = text_image(scene.get("title", ""), "sans", (int(w * 0.42), int(h * 0.05)), (30, 30, 30))
    page.paste(title, (tx, int(h * 0.18)), title)
    price = text_image(scene.get("price", ""), "sans", (int(w * 0.2), int(h * 0.06)), (180, 30, 30))
    page.paste(price, (tx, int(h * 0.3)), price)
    for k in range(5):
        y = int(h * (0.42 + 0.045 * k))
        d.rectangle((tx, y, tx + int(w * (0.38 - 0.04 * (k % 3))), y + int(h * 0.012)), fill=(215, 215, 215))
    d.rounded_rectangle((tx, int(h * 0.7), tx + int(w * 0.22), int(h * 0.78)), radius=10, fill=(245, 170, 20))
    button = text_image("Add to cart", "sans", (int(w * 0.16), int(h * 0.04)), (30, 30, 30))
    paste_centered(page, button, (tx + w * 0.11, h * 0.74))
    return page


# ------------------------------------------------------------------------------------------------- edits

def _edit(im: Image.Image, edit: dict[str, Any], root: Path, seed: int) -> Image.Image:
    op = edit["op"]
    w, h = im.size
    if op == "pad":
        left, top, right, bottom = edit["sides"]
        out = Image.new("RGB", (w + int(w * left) + int(w * right), h + int(h * top) + int(h * bottom)),
                        tuple(edit["colour"]))
        out.paste(im, (int(w * left), int(h * top)))
        return out
    if op == "crop":
        left, top, right, bottom = edit["box"]
        return im.crop((int(w * left), int(h * top), int(w * right), int(h * bottom)))
    if op == "mirror":
        return ImageOps.mirror(im)
    if op == "rotate":
        return im.rotate(edit["deg"], resample=Image.Resampling.BICUBIC, expand=edit.get("expand", True),
                         fillcolor=tuple(edit.get("fill", (255, 255, 255))))
    if op == "perspective":
        return _perspective(im, edit, root)
    if op == "banner":
        return _banner(im, edit)
    if op == "sticker":
        out = im.convert("RGBA")
        r = int(min(w, h) * edit["r"])
        disc = Image.new("RGBA", (2 * r, 2 * r), (0, 0, 0, 0))
        dd = ImageDraw.Draw(disc)
        dd.regular_polygon((r, r, r), 16, fill=(*edit["colour"], 255))
        paste_centered(disc, text_image(edit["text"], "sans", (int(r * 1.4), int(r * 0.6)), (255, 255, 255)), (r, r))
        out.paste(disc, (int(w * edit["at"][0]) - r, int(h * edit["at"][1]) - r), disc)
        return out.convert("RGB")
    if op == "watermark":
        out = im.convert("RGBA")
        mark = text_image(edit["text"], "sans", (int(w * 0.8), int(h * 0.12)), (255, 255, 255))
        mark.putalpha(mark.getchannel("A").point(lambda v: v * edit.get("alpha", 0.35)))
        mark = mark.rotate(edit.get("deg", 25), expand=True, resample=Image.Resampling.BICUBIC)
        paste_centered(out, mark, (w / 2, h / 2))
        return out.convert("RGB")
    if op == "recolour":
        return _recolour(im, edit)
    if op == "scale":
        return im.resize((max(8, int(w * edit["factor"])), max(8, int(h * edit["factor"]))), Image.Resampling.LANCZOS)
    if op == "fit":
        return ImageOps.contain(im, (edit["long"], edit["long"]), method=Image.Resampling.LANCZOS)
    if op == "blur":
        return im.filter(ImageFilter.GaussianBlur(edit["radius"]))
    if op == "noise":
        rng = np.random.default_rng(seed)
        arr = np.asarray(im, np.float32) + rng.normal(0, edit["sigma"], (h, w, 3))
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")
    if op == "jpeg":
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=edit["quality"])
        buf.seek(0)
        with Image.open(buf) as again:
            return again.convert("RGB")
    raise ValueError(f"unknown edit {op!r}")


def _perspective(im: Image.Image, edit: dict[str, Any], root: Path) -> Image.Image:
    """The image seen at an angle: its corners moved by ``corners`` (fractions, clockwise from top-left),
    laid on a backdrop (a colour or a real photo) of the same size."""
    w, h = im.size
    dst = [(x * w + dx * w, y * h + dy * h) for (x, y), (dx, dy) in zip(((0, 0), (1, 0), (1, 1), (0, 1)),
                                                                      edit["corners"], strict=True)]
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    coeffs = _coefficients(dst, src)
    backdrop = edit.get("backdrop", (240, 240, 240))
    base = assets.fitted(backdrop, (w, h)) if isinstance(backdrop, str) else Image.new("RGB", (w, h), tuple(backdrop))
    warped = im.convert("RGBA").transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    base.paste(warped, (0, 0), warped)
    return base


def _coefficients(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """The 8 coefficients Pillow's PERSPECTIVE transform takes to map output ``dst`` points to input ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, np.float64)
    b = np.array([c for p in src for c in p], np.float64)
    return [float(v) for v in np.linalg.solve(a, b)]


def _banner(im: Image.Image, edit: dict[str, Any]) -> Image.Image:
    out = im.convert("RGBA")
    w, h = out.size
    where, colour = edit["where"], tuple(edit["colour"])
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    depth = edit.get("depth", 0.14)
    if where in ("top", "bottom"):
        y0 = 0 if where == "top" else int(h * (1 - depth))
        d.rectangle((0, y0, w, y0 + int(h * depth)), fill=(*colour, 235))
        paste_centered(layer, text_image(edit["text"], edit.get("font", "sans"), (int(w * 0.8), int(h * depth * 0.7)),
                                         (255, 255, 255)), (w / 2, y0 + h * depth / 2))
    else:  # a ribbon across the top-right corner
        ribbon = Image.new("RGBA", (int(w * 0.7), int(h * depth)), (*colour, 240))
        paste_centered(ribbon, text_image(edit["text"], edit.get("font", "sans"),
                                          (int(ribbon.width * 0.7), int(ribbon.height * 0.7)), (255, 255, 255)),
                       (ribbon.width / 2, ribbon.height / 2))
        ribbon = ribbon.rotate(-40, expand=True, resample=Image.Resampling.BICUBIC)
        layer.paste(ribbon, (int(w - ribbon.width * 0.78), int(-ribbon.height * 0.22)), ribbon)
    out.alpha_composite(layer)
    return out.convert("RGB")


def _recolour(im: Image.Image, edit: dict[str, Any]) -> Image.Image:
    mode = edit["mode"]
    if mode == "hue":
        hsv = np.asarray(im.convert("HSV")).copy()
        hsv[..., 0] = (hsv[..., 0].astype(np.int32) + int(edit["deg"] / 360 * 255)) % 256
        return Image.fromarray(hsv, "HSV").convert("RGB")
    if mode == "swap":
        r, g, b = im.split()
        channels = {"r": r, "g": g, "b": b}
        return Image.merge("RGB", [channels[c] for c in edit["order"]])
    if mode == "grey":
        return ImageOps.grayscale(im).convert("RGB")
    # warm / cool cast with a contrast change, as a phone filter does
    arr = np.asarray(im, np.float32)
    arr = (arr - 128) * edit.get("contrast", 1.15) + 128 + np.array(edit["cast"], np.float32)[None, None, :]
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def render(recipe: dict[str, Any], root: Path) -> bytes:
    """The encoded bytes of ``recipe`` (see the module doc); ``root`` is the world folder (for ``file``)."""
    im = scene_image(recipe["scene"], root)
    seed = int(recipe.get("seed", 0))
    for n, edit in enumerate(recipe.get("edits", ())):
        im = _edit(im, edit, root, seed + n)
    buf = io.BytesIO()
    fmt = recipe.get("fmt", "jpg")
    if fmt == "png":
        im.save(buf, "PNG", optimize=False, compress_level=6)
    elif fmt == "webp":
        im.save(buf, "WEBP", quality=recipe.get("quality", 85), method=4)
    else:
        im.save(buf, "JPEG", quality=recipe.get("quality", 88), optimize=False)
    return buf.getvalue()
