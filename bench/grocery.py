"""The real-photograph yardstick: ``python -m bench.grocery [--root ../shared/grocery] [--no-baseline]``.

Data: the development half of the Grocery Store Dataset's packaged products (Klasson et al., WACV 2019), read
in place from ``--root`` (never copied into the repository; its test half is held out and never fetched): 31
products of 9 brands, each with its official packshot (``iconic/``, 198 x 198 px) and phone photos taken in
shops (``train/``, ``val/``).

Registry: every brand except :data:`UNREGISTERED` (Garant, Valio, Bravo; fixed before any figure was seen)
registers its products' packshots. Garant's milk cartons share the shape and shelf of Arla's.

Measures, for the product (``bench.copydetect.LookalikeSearch``) and, in the same run, a textbook SIFT + ratio
test + RANSAC homography baseline (one inlier threshold, chosen on ``train/`` so that at most 1% of the
unregistered brands' ``train/`` photos are flagged):

(a) copies of the registered packshots: every edit of ``bench.augly.EDITS`` at its documented strength; found
    when the search returns the packshot the copy was made from;
(b) in-store photos (``train/`` = tuning, ``val/`` = held out) of a registered product: attributed when the
    best hit is a packshot of the product's brand (and, apart, of the product itself);
(c) in-store photos of the unregistered brands' products: flagged when the search returns anything.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench.augly import EDITS, FILLERS, Context, real_photo
from bench.copydetect import Hit, LookalikeSearch, SiftBaseline, choose_threshold, rate

#: Brands left out of the registry: their packs must not be flagged.
UNREGISTERED = ("Garant", "Valio", "Bravo")
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "grocery"


@dataclass(frozen=True)
class Product:
    key: int
    name: str
    brand: str
    iconic: Path
    registered: bool


def load_products(root: Path) -> list[Product]:
    with (root / "products.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [Product(i, r["product"], r["brand"], root / r["iconic"], r["brand"] not in UNREGISTERED)
            for i, r in enumerate(rows)]


def _open(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def run(root: Path, *, baseline: bool = True, ocr: bool = False, out=print) -> dict:
    products = load_products(root)
    by_key = {p.key: p for p in products}
    fillers = [real_photo(n) for n in FILLERS]
    matchers: dict[str, LookalikeSearch | SiftBaseline] = {"lookalike": LookalikeSearch(ocr=ocr)}
    if baseline:
        matchers["sift-baseline"] = SiftBaseline()
    for p in products:
        if p.registered:
            image = _open(p.iconic)
            for m in matchers.values():
                m.add(p.key, image)
    # (part, product key, what, image): copies of packshots, then shop photos
    photos: list[tuple[str, int, str, Path | Image.Image]] = []
    for p in products:
        if not p.registered:
            continue
        iconic = _open(p.iconic)
        for j, (edit, strength, _group, fn) in enumerate(EDITS):
            image = fn(iconic, random.Random(100 * p.key + j), Context(fillers, white_background=True))
            if image is not None:
                photos.append(("copy", p.key, f"{edit} {strength}", image))
    for part in ("train", "val"):
        for p in products:
            for path in sorted((root / part / p.name).glob("*.jpg")):
                photos.append((part, p.key, path.name, path))
    results: dict[str, dict] = {}
    for label, matcher in matchers.items():
        t0 = time.process_time()
        hits = [matcher.search(img if isinstance(img, Image.Image) else _open(img)) for _part, _k, _w, img in photos]
        results[label] = {"hits": hits, "cpu": time.process_time() - t0}
    report(results, photos, by_key, out=out)
    return results


def report(results: dict, photos: list, by_key: dict[int, Product], *, out=print) -> None:
    n_refs = sum(p.registered for p in by_key.values())
    out(f"Grocery yardstick: {n_refs} registered packshots of "
        f"{len({p.brand for p in by_key.values() if p.registered})} brands; unregistered: {', '.join(UNREGISTERED)}")
    thresholds = {}
    for label, res in results.items():
        if label == "lookalike":
            thresholds[label] = 0.0
            continue
        pos = [max((h.score for h in hits), default=0.0) for (part, key, _w, _i), hits in zip(photos, res["hits"], strict=True)
               if part == "train" and by_key[key].registered]
        neg = [max((h.score for h in hits), default=0.0) for (part, key, _w, _i), hits in zip(photos, res["hits"], strict=True)
               if part == "train" and not by_key[key].registered]
        thresholds[label] = choose_threshold(pos, neg, max_false_rate=0.01)
        out(f"{label}: inlier threshold chosen on train/: {thresholds[label]:g}")
    labels = list(results)

    def best(hits: list[Hit], t: float) -> Hit | None:
        kept = [h for h in hits if h.score >= t]
        return max(kept, key=lambda h: (h.score, -h.key)) if kept else None

    lines = {lb: {} for lb in labels}
    for lb in labels:
        t = thresholds[lb]
        counts: dict[str, list[int]] = {}

        def add(name: str, ok: bool, counts=counts) -> None:
            c = counts.setdefault(name, [0, 0])
            c[0] += ok
            c[1] += 1

        for (part, key, what, _img), hits in zip(photos, results[lb]["hits"], strict=True):
            product = by_key[key]
            top = best(hits, t)
            if part == "copy":
                found = any(h.key == key and h.score >= t for h in hits)
                add("(a) copies of packshots found", found)
                add(f"(a) {what.split(' ')[0] if not what.startswith(('overlay', 'colour', 'replaced', 'collage')) else ' '.join(what.split(' ')[:-1])}", found)
                continue
            split = "tuning: train/" if part == "train" else "held out: val/"
            if product.registered:
                add(f"(b) in-store photos attributed to the brand, {split}",
                    top is not None and by_key[top.key].brand == product.brand)
                add(f"(b) ... and to the product itself, {split}", top is not None and top.key == key)
                add(f"(b) ... attributed to another brand, {split}",
                    top is not None and by_key[top.key].brand != product.brand)
            else:
                add(f"(c) unregistered brands' photos flagged, {split}", top is not None)
                if product.brand == "Garant":
                    add(f"(c) ... of them Garant (Arla's carton look-alike), {split}", top is not None)
        lines[lb] = counts
    names = list(dict.fromkeys(n for lb in labels for n in lines[lb]))
    order = sorted(names, key=lambda n: (n[:3], "(a) copies" not in n, n))
    out("")
    out("| measure | " + " | ".join(labels) + " |")
    out("|" + "---|" * (1 + len(labels)))
    for n in order:
        out(f"| {n} | " + " | ".join(rate(*lines[lb].get(n, (0, 0))) for lb in labels) + " |")
    out("")
    out("CPU seconds (signature/features + search of every photo): "
        + ", ".join(f"{lb} {results[lb]['cpu']:.1f}" for lb in labels))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.grocery", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the grocery photos (read in place)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the SIFT + RANSAC baseline")
    parser.add_argument("--ocr", action="store_true", help="read photo text in signatures (slow)")
    args = parser.parse_args(argv)
    if not (args.root / "products.csv").is_file():
        print(f"error: no products.csv under {args.root}", file=sys.stderr)
        return 2
    run(args.root, baseline=not args.no_baseline, ocr=args.ocr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
