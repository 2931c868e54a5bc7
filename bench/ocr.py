"""Photo text (OCR): the engines compared on the same images, and Tesseract's reading passes.

``.venv/bin/python -m bench.ocr --engines tesseract,rapidocr`` compares the engines of
:data:`matching.ocr.ENGINES`, image by image in turn (so that a change in the machine's load hits both), on photos
whose mark is known (see :func:`mark_sets`): per set, the share of photos where the brand's mark is read exactly
(one word, or two neighbouring words run together: "God Morgon"), the share where it is read up to one OCR
misread (marks of at least 5 letters, as ``matching.image_match.ocr_near`` allows), and the CPU time per image
(this process and its children, user + system: Tesseract runs as a child process, RapidOCR in this process).
Each engine reads one image first, untimed (RapidOCR loads its models then). Sets:

- ``demo photo_mark``: the first demo world's counterfeits whose mark is only printed on the seller's own
  packshot (``--demo-seeds``, default the tuning seeds 7 and 11), at their size (600-800 px) and brought down
  to a longer side of 420-480 px, and mirrored (a mirrored copy shows its label backwards);
- ``world2 photo_mark`` / ``pack_photo``: the second world's (``--world2-seeds``, default the tuning seed
  2001), split into full-size photos and the 420-480 px ones (``small_photo``);
- ``grocery``: ``../shared/grocery`` (``--grocery``), real photographs of 9 brands' packs: the official
  packshots (198 px), the ``val/`` in-store photos (348 px) and ``--grocery-train`` of each product's
  ``train/`` photos. Not every store photo shows the brand name (backs of packs, fingers): both engines get
  the same photos, so the figures compare, they are not an upper bound.

Without ``--engines``: Tesseract's cost per image, one reading pass against the two of ``matching.ocr.PASSES``,
side by side: ``.venv/bin/python -m bench.ocr [--world DIR] [--count 40] [--seed 1]``.

Reads ``--count`` images drawn at random from a demo world's ``listing-images/`` and ``refs/`` (``--world``; default: the
tuning world of seed 7, generated under a temporary folder), first with the first pass only, then with both
passes, then with the first pass again (the baseline twice, so that a change in the machine's load shows).
Reported per run: images with at least one word read, and the CPU time of the Tesseract child processes per
image (user + system, which a busy machine inflates less than wall time), plus wall time per image.

Then the cost of re-signing for a new signature version (``--resign N``, default 12 of the same images): the
signature stage's own ``services.signatures.sign_bytes`` with OCR on, reading the photo, against the same call
handed the words of that first signature (``reusable_text``), which is what the stage does for a row whose
text the current OCR read. Both in this process, one after the other, and again in the other order.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps
from rapidfuzz.distance import OSA

import matching.ocr as ocr

GROCERY = Path(__file__).resolve().parents[2] / "shared" / "grocery"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(images: list[Image.Image], passes: tuple[tuple[str, ...], ...]) -> tuple[int, float, float]:
    """(images with words, child CPU seconds per image, wall seconds per image) reading with ``passes``."""
    saved, ocr.PASSES = ocr.PASSES, passes
    try:
        cpu, wall, read = _children_cpu(), time.perf_counter(), 0
        for image in images:
            read += bool(ocr.read_words(image, timeout_s=60, engine="tesseract"))
        return read, (_children_cpu() - cpu) / len(images), (time.perf_counter() - wall) / len(images)
    finally:
        ocr.PASSES = saved


def measure_resign(blobs: list[bytes]) -> list[tuple[str, float, int]]:
    """(run, wall ms per image, images whose words the run stored) for a fresh OCR signature and a re-sign
    that reuses its words, fresh / reuse / fresh / reuse (so that a change in load shows)."""
    from matching.signature_codec import reusable_text
    from services.signatures import sign_bytes

    budget = 40_000_000
    firsts = [sign_bytes(str(i), blob, max_pixels=budget, ocr=True, ocr_timeout_s=60)
              for i, blob in enumerate(blobs)]
    known = [reusable_text(first.fields) if first.status == "ok" else None for first in firsts]
    rows = []
    for name in ("read again (OCR on)", "words reused", "read again (OCR on), again", "words reused, again"):
        reuse = name.startswith("words")
        start, kept = time.perf_counter(), 0
        for i, blob in enumerate(blobs):
            result = sign_bytes(str(i), blob, max_pixels=budget, ocr=True, ocr_timeout_s=60,
                                known_text=known[i] if reuse else None)
            kept += bool(result.ocr_text) and result.ocr_text == firsts[i].ocr_text
        rows.append((name, (time.perf_counter() - start) * 1000 / len(blobs), kept))
    return rows


def mark_key(mark: str) -> str:
    """The mark as OCR words run together: "God Morgon" -> "godmorgon"."""
    return "".join(ocr.normalise_words(mark))


def mark_read(words: tuple[str, ...] | None, mark: str) -> tuple[bool, bool]:
    """(read exactly, read up to one misread) of ``mark`` among ``words`` (one word or two neighbours)."""
    key = mark_key(mark)
    candidates = set(words or ()) | {a + b for a, b in zip(words or (), (words or ())[1:], strict=False)}
    exact = key in candidates
    near = exact or (len(key) >= 5 and any(OSA.distance(key, c, score_cutoff=1) <= 1 for c in candidates))
    return exact, near


@dataclass
class MarkSet:
    """Photos of one kind, each with the mark printed on it."""

    name: str
    photos: list[tuple[Image.Image, str]] = field(default_factory=list)


def _small(image: Image.Image, rng: random.Random) -> Image.Image:
    side = rng.randint(420, 480)
    factor = side / max(image.size)
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)


def _listings(world: Path) -> Iterator[dict]:
    with (world / "listings.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _open(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        return opened.convert("RGB")


def mark_sets(scratch: Path, *, demo_seeds: list[int], world2_seeds: list[int], grocery: Path | None,
              grocery_train: int, seed: int) -> list[MarkSet]:
    """The photo sets of the module doc, generating the worlds under ``scratch``."""
    rng = random.Random(seed)
    sets: dict[str, MarkSet] = {}

    def add(name: str, image: Image.Image, mark: str) -> None:
        sets.setdefault(name, MarkSet(name)).photos.append((image, mark))

    if demo_seeds:
        from data.demo.generate import generate_world  # deferred: only when demo worlds are asked for

        for s in demo_seeds:
            world = scratch / f"demo-{s}"
            generate_world(world, seed=s, workers=1)
            for r in _listings(world):
                if "photo_mark" in r["label"]["kinds"]:
                    image = _open(world / r["images"][0])
                    add("demo photo_mark, 600-800 px", image, r["label"]["brand"])
                    add("demo photo_mark, 420-480 px", _small(image, rng), r["label"]["brand"])
                    add("demo photo_mark, mirrored", ImageOps.mirror(image), r["label"]["brand"])
    if world2_seeds:
        from data.world2.generate import generate_world2  # deferred: as above

        for s in world2_seeds:
            world = scratch / f"world2-{s}"
            generate_world2(world, seed=s, workers=1)
            for r in _listings(world):
                kinds = r["label"]["kinds"]
                for kind in ("photo_mark", "pack_photo"):
                    if kind in kinds:
                        size = "420-480 px" if "small_photo" in kinds else "full size"
                        add(f"world2 {kind}, {size}", _open(world / r["images"][0]), r["label"]["brand"])
    if grocery is not None and (grocery / "products.csv").is_file():
        with (grocery / "products.csv").open(encoding="utf-8") as rows:
            products = list(csv.DictReader(rows))
        for p in products:
            add("grocery packshots, 198 px", _open(grocery / p["iconic"]), p["brand"])
            for photo in sorted((grocery / "val" / p["product"]).glob("*.jpg")):
                add("grocery store photos, val/", _open(photo), p["brand"])
            train = sorted((grocery / "train" / p["product"]).glob("*.jpg"))
            for photo in random.Random(f"{seed}-{p['product']}").sample(train, min(grocery_train, len(train))):
                add("grocery store photos, train/ sample", _open(photo), p["brand"])
    return list(sets.values())


def _cpu() -> float:
    own = time.process_time()
    return own + _children_cpu()


def compare_engines(sets: list[MarkSet], engines: list[str]) -> Iterator[tuple[str, str, int, int, int, float]]:
    """(set, engine, photos, mark read exactly, read up to one misread, CPU ms per photo), reading each photo
    with every engine in turn; a set's rows as soon as it is read."""
    warm = sets[0].photos[0][0]
    for engine in engines:
        ocr.read_words(warm, timeout_s=60, engine=engine)  # type: ignore[arg-type]
    for s in sets:
        found = {e: [0, 0, 0.0] for e in engines}
        for image, mark in s.photos:
            for engine in engines:
                start = _cpu()
                words = ocr.read_text(image, timeout_s=60, engine=engine)  # type: ignore[arg-type]
                found[engine][2] += _cpu() - start
                exact, near = mark_read(words, mark)
                found[engine][0] += exact
                found[engine][1] += near
        for engine in engines:
            exact, near, cpu = found[engine]
            yield s.name, engine, len(s.photos), int(exact), int(near), cpu * 1000 / len(s.photos)


def run_engines(args: argparse.Namespace) -> int:
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ocr.ENGINES]
    if unknown:
        print(f"unknown engine {unknown[0]!r}: one of {', '.join(ocr.ENGINES)}", file=sys.stderr)
        return 2
    missing = [e for e in engines if not ocr.ocr_available(e)]  # type: ignore[arg-type]
    if missing:
        print(f"OCR engine {missing[0]!r} is not installed: nothing to compare", file=sys.stderr)
        return 1
    seeds = [int(s) for s in args.demo_seeds.split(",") if s.strip()]
    seeds2 = [int(s) for s in args.world2_seeds.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="lookalike-bench-ocr-") as scratch:
        sets = mark_sets(Path(scratch), demo_seeds=seeds, world2_seeds=seeds2,
                         grocery=None if args.grocery == Path("-") else args.grocery,
                         grocery_train=args.grocery_train, seed=args.seed)
    if not sets:
        print("no photos to read", file=sys.stderr)
        return 1
    print(f"{sum(len(s.photos) for s in sets)} photos; each read by {', '.join(engines)} in turn")
    print("| photos | n | engine | mark read | up to one misread | CPU ms/photo |")
    print("|---|---|---|---|---|---|")
    totals: dict[str, list[float]] = {}
    for name, engine, n, exact, near, cpu in compare_engines(sets, engines):
        print(f"| {name} | {n} | {engine} | {exact / n:.2f} ({exact}) | {near / n:.2f} ({near}) | {cpu:.0f} |",
              flush=True)
        t = totals.setdefault(engine, [0, 0, 0, 0.0])
        t[0], t[1], t[2], t[3] = t[0] + n, t[1] + exact, t[2] + near, t[3] + cpu * n
    for engine, (n, exact, near, cpu) in totals.items():
        print(f"| all | {int(n)} | {engine} | {exact / n:.2f} | {near / n:.2f} | {cpu / n:.0f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", help="compare these engines on photos with a known mark, e.g. tesseract,rapidocr")
    parser.add_argument("--demo-seeds", default="7,11", help="first-world seeds for --engines (default 7,11)")
    parser.add_argument("--world2-seeds", default="2001", help="second-world seeds for --engines (default 2001)")
    parser.add_argument("--grocery", type=Path, default=GROCERY, help="the grocery photos folder ('-': none)")
    parser.add_argument("--grocery-train", type=int, default=2, help="train/ photos per product (default 2)")
    parser.add_argument("--world", type=Path, help="a demo world folder (python -m data.demo.generate)")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--resign", type=int, default=12, help="images for the re-signing runs (0: skip them)")
    args = parser.parse_args(argv)
    if args.engines:
        return run_engines(args)
    if not ocr.ocr_available("tesseract"):
        print("tesseract is not installed (apt-get install tesseract-ocr): nothing to measure", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="lookalike-bench-ocr-") as scratch:
        world = args.world
        if world is None:
            from data.demo.generate import generate_world

            world = Path(scratch) / "world"
            generate_world(world, seed=7, workers=2)
        files = sorted(p for sub in ("listing-images", "refs") if (world / sub).is_dir()
                       for p in (world / sub).rglob("*") if p.is_file())
        if not files:
            print(f"{world} holds no listing-images/ or refs/", file=sys.stderr)
            return 1
        random.Random(args.seed).shuffle(files)
        images, blobs = [], []
        for path in files[: args.count]:
            with Image.open(path) as opened:
                images.append(opened.convert("RGB"))
            blobs.append(path.read_bytes())
    runs = (("first pass only", ocr.PASSES[:1]), ("both passes", ocr.PASSES), ("first pass only, again", ocr.PASSES[:1]))
    print(f"{len(images)} images; Tesseract child CPU and wall time per image")
    print("| run | images with words | CPU ms/image | wall ms/image |")
    print("|---|---|---|---|")
    for name, passes in runs:
        read, cpu, wall = measure(images, passes)
        print(f"| {name} | {read} | {cpu * 1000:.0f} | {wall * 1000:.0f} |", flush=True)
    if args.resign > 0:
        chosen = blobs[: args.resign]
        print(f"\nre-signing {len(chosen)} images (sign_bytes, OCR on), wall time per image")
        print("| run | ms/image | same words as the first signature |")
        print("|---|---|---|")
        for name, ms, kept in measure_resign(chosen):
            print(f"| {name} | {ms:.0f} | {kept} of {len(chosen)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
