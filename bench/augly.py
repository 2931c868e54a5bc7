"""The AugLy copy-detection yardstick: ``python -m bench.augly [--no-baseline] [--ocr]``.

Question asked of every listing photo: "does it contain that reference photo?" (DISC21's copy detection).

References (none drawn for this project's matcher):
* real photographs that ship inside installed wheels: scikit-image's ``data`` (astronaut, chelsea, coffee,
  rocket, motorcycle_left, retina, hubble_deep_field, camera, ihc) and matplotlib's
  ``sample_data`` (grace_hopper.jpg, Minduka_Present_Blue_Pack.png); imageio's wheel ships no photos;
* packshots of the first demo world's drawing code (``data.demo.packshots``): six products, each registered,
  each with an unregistered *template sibling* (the same shape and colours with another mark and product line:
  another maker's product in the same template) and a *category sibling* (the same shape, other colours and
  mark).

Every third reference (``HELD_OUT``) is kept out of tuning; its figures are printed apart.

Edits (:data:`EDITS`), by AugLy 1.0.0 (``augly.image.functional``) where it works with Pillow 13 and numpy 2,
and by Pillow for the two that do not (perspective, meme format); the strength of each row is in its name:
crop (share of the width and of the height cut off, spread unevenly over the sides), pad (border of that
share of each side, a random plain colour), mirror, rotate (degrees, AugLy keeps the largest upright
rectangle), perspective (each corner moved by up to that share of the side), scale (factor), colour jitter
(brightness, contrast, saturation factors), blur (Gaussian radius, pixels), JPEG (quality), overlay onto
another image (the reference's width as a share of the photo it is pasted on), overlay onto a screenshot
(AugLy's web template), overlay text (font size, share of the height), overlay emoji (size share), meme
format (a caption band of that share of the height above), one cell of a 2x2 collage (the other three cells
other photos), replaced background (packshots only: the white studio background replaced by a photo).

Measures: recall per edit and strength (the search returns the reference the photo was made from); the
false-copy rate (the share of sibling photos, plain and lightly edited, for which the search returns any
reference: every sibling is another product); DISC21 micro-average precision over all queries.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.copydetect import Hit, LookalikeSearch, SiftBaseline, choose_threshold, micro_ap, rate
from data.demo.packshots import Fonts, Look, draw_packshot, random_look

warnings.filterwarnings("ignore")
import augly.image.functional as aug  # noqa: E402  (its import warns about optional extras)

SIDE = 512
REAL = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg",
        "hubble_deep_field.jpg", "camera.png", "ihc.png", "mpl:grace_hopper.jpg", "mpl:Minduka_Present_Blue_Pack.png")
#: Photos used only as backgrounds, collage fillers and overlays: never references.
FILLERS = ("brick.png", "grass.png", "gravel.png", "coins.png", "text.png", "cell.png", "page.png",
           "clock_motion.png")
PACK_SHAPES = ("bottle", "jar", "box", "tube", "can", "pouch")
#: Reference positions kept out of tuning (every third).
HELD_OUT = 3


def _mpl(name: str) -> Image.Image:
    import matplotlib

    return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / name).convert("RGB")


def _skimage(name: str) -> Image.Image:
    """A photo file of scikit-image's ``data`` directory (inside its wheel: nothing is downloaded)."""
    import skimage.data

    return Image.open(Path(skimage.data.__file__).parent / name).convert("RGB")


def _fit(image: Image.Image, side: int = SIDE) -> Image.Image:
    scale = side / max(image.size)
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                        Image.Resampling.LANCZOS)


def real_photo(name: str) -> Image.Image:
    return _fit(_mpl(name[4:]) if name.startswith("mpl:") else _skimage(name))


@dataclass(frozen=True)
class Reference:
    key: int
    name: str
    image: Image.Image
    kind: str  # "photo" or "packshot"
    held_out: bool
    look: Look | None = None


def _packshots(fonts: Fonts) -> tuple[list[tuple[str, Image.Image, Look]], list[tuple[str, Image.Image]]]:
    """(registered products, their siblings): per shape one product; a template sibling (same look, other
    mark and line) and a category sibling (same shape, other look)."""
    rng = random.Random(2826)
    marks = ["Velquor", "Tamsin", "Orvelle", "Brisko", "Kaleon", "Mirabu", "Zentra", "Pollux", "Quenby",
             "Ardenne", "Solvik", "Nuvara", "Fenwick", "Lumora", "Haskel", "Drevia", "Osmund", "Tirra"]
    lines = ["Hydra Serum", "Night Cream", "Cold Brew", "Energy Drink", "Oat Crisp", "Body Lotion"]
    registered, siblings = [], []
    for i, shape in enumerate(PACK_SHAPES):
        look = random_look(shape, rng)
        other = random_look(shape, rng)
        product = draw_packshot(look=look, mark=marks[3 * i], line=lines[i], size=SIDE, fonts=fonts)
        registered.append((f"pack:{shape}:{marks[3 * i]}", product, look))
        siblings.append((f"template-sibling:{shape}:{marks[3 * i + 1]}",
                         draw_packshot(look=look, mark=marks[3 * i + 1], line=lines[(i + 1) % 6], size=SIDE,
                                       fonts=fonts)))
        siblings.append((f"category-sibling:{shape}:{marks[3 * i + 2]}",
                         draw_packshot(look=other, mark=marks[3 * i + 2], line=lines[(i + 2) % 6], size=SIDE,
                                       fonts=fonts)))
    return registered, siblings


# --- the edits ----------------------------------------------------------------------------------------------
Edit = Callable[[Image.Image, random.Random, "Context"], Image.Image | None]


@dataclass
class Context:
    fillers: list[Image.Image]
    white_background: bool = False
    """A packshot on a white studio background (the background can be replaced)."""


def _crop(share: float) -> Edit:
    def edit(im, rng, _ctx):
        left, top = rng.uniform(0, share), rng.uniform(0, share)
        return aug.crop(im, x1=left, y1=top, x2=1 - (share - left), y2=1 - (share - top))
    return edit


def _pad(share: float) -> Edit:
    def edit(im, rng, _ctx):
        return aug.pad(im, w_factor=share, h_factor=share, color=tuple(rng.randrange(256) for _ in range(3)))
    return edit


def _rotate(degrees: float) -> Edit:
    def edit(im, rng, _ctx):
        return aug.rotate(im, degrees=degrees * rng.choice((-1, 1)))
    return edit


def _perspective(shift: float) -> Edit:
    """Pillow's perspective transform: each corner moved inwards by up to ``shift`` of the side."""
    def edit(im, rng, _ctx):
        w, h = im.size
        src = [(0, 0), (w, 0), (w, h), (0, h)]
        dst = [(x + (1 if x == 0 else -1) * rng.uniform(0, shift) * w, y + (1 if y == 0 else -1) * rng.uniform(0, shift) * h)
               for x, y in src]
        # coefficients mapping output (dst) points back to input (src) points
        a = []
        b = []
        for (x, y), (u, v) in zip(dst, src, strict=True):
            a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
            a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
            b.extend([u, v])
        coeffs = np.linalg.solve(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64))
        return im.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC,
                            fillcolor=(0, 0, 0))
    return edit


def _scale(factor: float) -> Edit:
    return lambda im, rng, _ctx: aug.scale(im, factor=factor)


def _jitter(b: float, c: float, s: float) -> Edit:
    return lambda im, rng, _ctx: aug.color_jitter(im, brightness_factor=b, contrast_factor=c, saturation_factor=s)


def _blur(radius: float) -> Edit:
    return lambda im, rng, _ctx: aug.blur(im, radius=radius)


def _jpeg(quality: int) -> Edit:
    return lambda im, rng, _ctx: aug.encoding_quality(im, quality=quality)


def _onto_image(size: float) -> Edit:
    def edit(im, rng, ctx):
        background = _fit(rng.choice(ctx.fillers), 640)
        return aug.overlay_onto_background_image(im, background_image=background, overlay_size=size,
                                                 x_pos=rng.uniform(0, 1 - size), y_pos=rng.uniform(0, 1 - size))
    return edit


def _onto_screenshot(_strength: float) -> Edit:
    return lambda im, rng, _ctx: aug.overlay_onto_screenshot(im)


def _text(size: float) -> Edit:
    def edit(im, rng, _ctx):
        text = [rng.randrange(0, 60) for _ in range(rng.randint(6, 10))]
        return aug.overlay_text(im, text=text, font_size=size, color=tuple(rng.randrange(256) for _ in range(3)),
                                x_pos=rng.uniform(0, 0.3), y_pos=rng.uniform(0.1, 0.7))
    return edit


def _emoji(size: float) -> Edit:
    def edit(im, rng, _ctx):
        return aug.overlay_emoji(im, emoji_size=size, x_pos=rng.uniform(0, 1 - size), y_pos=rng.uniform(0, 1 - size))
    return edit


def _meme(share: float) -> Edit:
    """A caption band above the photo (Pillow; AugLy's ``meme_format`` fails with Pillow 13)."""
    def edit(im, rng, _ctx):
        band = round(im.height * share)
        out = Image.new("RGB", (im.width, im.height + band), (255, 255, 255))
        out.paste(im, (0, band))
        font = ImageFont.load_default(size=max(8, band // 2))
        words = ["WHEN", "THE", "DEAL", "IS", "TOO", "GOOD", "LOL", "ME", "BE", "LIKE"]
        ImageDraw.Draw(out).text((im.width // 2, band // 2), " ".join(rng.sample(words, 4)), fill=(0, 0, 0),
                                 font=font, anchor="mm")
        return out
    return edit


def _collage(_strength: float) -> Edit:
    """One cell of a 2x2 collage (cells of ``SIDE/2``; the other three are filler photos)."""
    def edit(im, rng, ctx):
        cell = SIDE // 2
        out = Image.new("RGB", (SIDE, SIDE), (255, 255, 255))
        where = rng.randrange(4)
        others = rng.sample(ctx.fillers, 3)
        for i in range(4):
            tile = im if i == where else others.pop()
            out.paste(tile.resize((cell, cell), Image.Resampling.LANCZOS), ((i % 2) * cell, (i // 2) * cell))
        return out
    return edit


def _background(_strength: float) -> Edit:
    """The white studio background of a packshot replaced by a filler photo (None for real photos)."""
    def edit(im, rng, ctx):
        if not ctx.white_background:
            return None
        arr = np.asarray(im.convert("RGB"), dtype=np.int16)
        white = (arr.min(axis=2) >= 245)
        backdrop = np.asarray(rng.choice(ctx.fillers).resize(im.size, Image.Resampling.BILINEAR).convert("RGB"))
        out = np.where(white[..., None], backdrop, arr).astype(np.uint8)
        return Image.fromarray(out)
    return edit


#: (edit, strength, group, function). Groups: geometric, colour (colour and background changes), overlay.
EDITS: list[tuple[str, str, str, Edit]] = [
    ("crop", "10%", "geometric", _crop(0.10)), ("crop", "20%", "geometric", _crop(0.20)),
    ("crop", "30%", "geometric", _crop(0.30)),
    ("pad/border", "5%", "geometric", _pad(0.05)), ("pad/border", "25%", "geometric", _pad(0.25)),
    ("mirror", "-", "geometric", lambda im, rng, _ctx: aug.hflip(im)),
    ("rotate", "5deg", "geometric", _rotate(5)), ("rotate", "10deg", "geometric", _rotate(10)),
    ("perspective", "5%", "geometric", _perspective(0.05)), ("perspective", "10%", "geometric", _perspective(0.10)),
    ("scale", "0.5", "geometric", _scale(0.5)), ("scale", "0.3", "geometric", _scale(0.3)),
    ("collage 2x2 cell", "-", "geometric", _collage(0)),
    ("overlay onto image", "70%", "geometric", _onto_image(0.7)),
    ("overlay onto image", "50%", "geometric", _onto_image(0.5)),
    ("overlay onto screenshot", "web", "geometric", _onto_screenshot(0)),
    ("colour jitter", "b1.3 c1.3 s1.5", "colour", _jitter(1.3, 1.3, 1.5)),
    ("colour jitter", "b0.7 c0.7 s0.3", "colour", _jitter(0.7, 0.7, 0.3)),
    ("replaced background", "photo", "colour", _background(0)),
    ("blur", "r1.5", "quality", _blur(1.5)), ("blur", "r3", "quality", _blur(3)),
    ("jpeg", "q30", "quality", _jpeg(30)), ("jpeg", "q10", "quality", _jpeg(10)),
    ("overlay text", "10%", "overlay", _text(0.10)), ("overlay text", "20%", "overlay", _text(0.20)),
    ("overlay emoji", "15%", "overlay", _emoji(0.15)), ("overlay emoji", "30%", "overlay", _emoji(0.30)),
    ("meme format", "25%", "overlay", _meme(0.25)),
]
#: Light edits applied to sibling (negative) photos as well as their plain form.
SIBLING_EDITS = ("jpeg q30", "pad/border 5%", "mirror -", "scale 0.5", "crop 10%")


def references() -> tuple[list[Reference], list[tuple[str, Image.Image]], list[Image.Image]]:
    fonts = Fonts()
    refs: list[Reference] = []
    for i, name in enumerate(REAL):
        refs.append(Reference(len(refs), name, real_photo(name), "photo", i % HELD_OUT == HELD_OUT - 1))
    packs, siblings = _packshots(fonts)
    for i, (name, image, look) in enumerate(packs):
        refs.append(Reference(len(refs), name, image, "packshot", i % HELD_OUT == HELD_OUT - 1, look))
    fillers = [real_photo(n) for n in FILLERS]
    return refs, siblings, fillers


def run(*, baseline: bool = True, ocr: bool = False, out=print) -> dict:
    refs, siblings, fillers = references()
    matchers: dict[str, LookalikeSearch | SiftBaseline] = {"lookalike": LookalikeSearch(ocr=ocr)}
    if baseline:
        matchers["sift-baseline"] = SiftBaseline()
    for ref in refs:
        for m in matchers.values():
            m.add(ref.key, ref.image)
    # queries: (ref key or None, edit, strength, group, part, image)
    queries = []
    for ref in refs:
        for j, (edit, strength, group, fn) in enumerate(EDITS):
            rng = random.Random(1000 * ref.key + j)
            image = fn(ref.image, rng, Context(fillers, white_background=ref.kind == "packshot"))
            if image is not None:
                queries.append((ref.key, edit, strength, group, "held-out" if ref.held_out else "tuning", image))
    negatives = []
    for s, (name, image) in enumerate(siblings):
        kind = name.split(":")[0]
        negatives.append((kind, "plain", image))
        for j, (edit, strength, _group, fn) in enumerate(EDITS):
            if f"{edit} {strength}" in SIBLING_EDITS:
                negatives.append((kind, f"{edit} {strength}", fn(image, random.Random(7000 + 100 * s + j), Context(fillers))))
    for name in ("brick.png", "grass.png", "coins.png", "text.png"):  # unrelated photos (fillers are never references)
        negatives.append(("unrelated photo", "plain", real_photo(name)))
    results: dict[str, dict] = {}
    for label, matcher in matchers.items():
        t0 = time.process_time()
        pos = [(q, matcher.search(q[5])) for q in queries]
        neg = [(n, matcher.search(n[2])) for n in negatives]
        results[label] = {"pos": pos, "neg": neg, "cpu": time.process_time() - t0}
    report(results, refs, out=out)
    return results


def _best_other(hits: list[Hit], key: int | None) -> float:
    return max((h.score for h in hits if h.key != key), default=0.0)


def report(results: dict, refs: list[Reference], *, out=print) -> None:
    n_queries = len(next(iter(results.values()))["pos"])
    out(f"AugLy yardstick: {len(refs)} references ({sum(r.held_out for r in refs)} held out), "
        f"{n_queries} edited copies, {len(next(iter(results.values()))['neg'])} sibling/unrelated photos")
    thresholds: dict[str, float] = {}
    for label, res in results.items():
        if label == "lookalike":
            thresholds[label] = 0.0  # the product decides itself: a hit is a copy
            continue
        # baseline: one inlier threshold on the tuning part (negatives: siblings; wrong references)
        pos_scores = [max((h.score for h in hits if h.key == q[0]), default=0.0) for q, hits in res["pos"]
                      if q[4] == "tuning"]
        neg_scores = [max((h.score for h in hits), default=0.0) for _n, hits in res["neg"]]
        neg_scores += [_best_other(hits, q[0]) for q, hits in res["pos"] if q[4] == "tuning"]
        thresholds[label] = choose_threshold(pos_scores, neg_scores, max_false_rate=0.005)
        out(f"{label}: inlier threshold chosen on the tuning part: {thresholds[label]:g}")
    labels = list(results)
    header = "| edit | strength | part | " + " | ".join(f"{lb} recall" for lb in labels) + " |"
    out("")
    out(header)
    out("|" + "---|" * (3 + len(labels)))
    rows: dict[tuple[str, str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    groups: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for label in labels:
        t = thresholds[label]
        for q, hits in results[label]["pos"]:
            found = any(h.key == q[0] and h.score >= t for h in hits)
            for cell in (rows[(q[1], q[2], q[4])][label], groups[(q[3], q[4])][label]):
                cell[0] += found
                cell[1] += 1
    for (edit, strength, part), by in sorted(rows.items(), key=lambda kv: ([e[0] for e in EDITS].index(kv[0][0]), kv[0][1], kv[0][2])):
        out(f"| {edit} | {strength} | {part} | " + " | ".join(rate(*by[lb]) for lb in labels) + " |")
    out("")
    out("| group | part | " + " | ".join(labels) + " |")
    out("|" + "---|" * (2 + len(labels)))
    for (group, part), by in sorted(groups.items()):
        out(f"| {group} | {part} | " + " | ".join(rate(*by[lb]) for lb in labels) + " |")
    out("")
    out("| false copies | " + " | ".join(labels) + " |")
    out("|" + "---|" * (1 + len(labels)))
    kinds = sorted({n[0] for n, _ in next(iter(results.values()))["neg"]})
    for kind in kinds:
        cells = []
        for label in labels:
            t = thresholds[label]
            negs = [hits for n, hits in results[label]["neg"] if n[0] == kind]
            cells.append(rate(sum(any(h.score >= t for h in hits) for hits in negs), len(negs)))
        out(f"| {kind} (photos with any hit) | " + " | ".join(cells) + " |")
    for part in ("tuning", "held-out"):
        cells = []
        for label in labels:
            t = thresholds[label]
            pos = [(q, hits) for q, hits in results[label]["pos"] if q[4] == part]
            cells.append(rate(sum(any(h.key != q[0] and h.score >= t for h in hits) for q, hits in pos), len(pos)))
        out(f"| edited copies naming a wrong reference ({part}) | " + " | ".join(cells) + " |")
    out("")
    out("| micro-AP (DISC21) | " + " | ".join(labels) + " |")
    out("|" + "---|" * (1 + len(labels)))
    for part in ("tuning", "held-out"):
        cells = []
        for label in labels:
            t = thresholds[label]
            preds = []
            pos = [(q, hits) for q, hits in results[label]["pos"] if q[4] == part]
            for q, hits in pos:
                preds += [(h.score, h.key == q[0]) for h in hits if h.score >= t]
            for _n, hits in results[label]["neg"]:
                preds += [(h.score, False) for h in hits if h.score >= t]
            cells.append(f"{micro_ap(preds, len(pos)):.3f}")
        out(f"| {part} | " + " | ".join(cells) + " |")
    out("")
    out("CPU seconds (signature/features + search of every photo): "
        + ", ".join(f"{lb} {results[lb]['cpu']:.1f}" for lb in labels))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.augly", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-baseline", action="store_true", help="skip the SIFT + RANSAC baseline")
    parser.add_argument("--ocr", action="store_true", help="read photo text in signatures (slow)")
    args = parser.parse_args(argv)
    run(baseline=not args.no_baseline, ocr=args.ocr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
