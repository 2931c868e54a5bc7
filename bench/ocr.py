"""Photo text (OCR) cost per image, one reading pass against the two of ``matching.ocr.PASSES``, side by side:
``.venv/bin/python -m bench.ocr [--world DIR] [--count 40] [--seed 1]``.

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
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

import matching.ocr as ocr


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(images: list[Image.Image], passes: tuple[tuple[str, ...], ...]) -> tuple[int, float, float]:
    """(images with words, child CPU seconds per image, wall seconds per image) reading with ``passes``."""
    saved, ocr.PASSES = ocr.PASSES, passes
    try:
        cpu, wall, read = _children_cpu(), time.perf_counter(), 0
        for image in images:
            read += bool(ocr.read_words(image, timeout_s=60))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, help="a demo world folder (python -m data.demo.generate)")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--resign", type=int, default=12, help="images for the re-signing runs (0: skip them)")
    args = parser.parse_args(argv)
    if not ocr.ocr_available():
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
