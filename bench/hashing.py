"""Image signature throughput against plain imagehash, side by side in one run.

All read the same generated 1200x1200 JPEGs (busy synthetic scenes and labelled packshots) from disk one at
a time, on one core unless stated.

* baseline, one hash: ``imagehash.phash(Image.open(path))``, a full decode;
* baseline, the same hashes the plain way: pHash, dHash and wHash of the image and of its mirror with
  imagehash, from one full decode (what :func:`compute_image_signature` returns as ``hashes``);
* ours, hashes only (``keypoints=False``): one draft decode, one 64x64 reduction, the six hashes plus the
  content box's and the collage cells' hashes and the colour thumbnail;
* ours with keypoints (256 ORB + 128 mirrored, at the 320-pixel analysis size): the signature the stage stores;
* OCR cost per image (Tesseract, one thread), reported on its own.

``python -m bench.hashing [--count N]`` prints the rows; ``python -m bench`` prints every bench.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import imagehash
from PIL import Image, ImageOps

from matching.images import compute_image_signature
from matching.ocr import ocr_available, read_text
from matching.synthetic import packshot, photo

MAX_PIXELS = 40_000_000


def _write_images(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = folder / f"img-{i}.jpg"
        if i % 4 == 3:
            img = packshot(color=(40 + 7 * i % 180, 90, 200 - 5 * i % 150), label=f"Brand{i} 250 ml", size=1200)
        else:
            img = photo(1000 + i, (1200, 1200))
        img.save(path, quality=90)
        paths.append(path)
    return paths


def _ours(path: Path) -> str:
    return str(compute_image_signature(path, max_pixels=MAX_PIXELS).hashes.phash)


def _ours_hashes(path: Path) -> str:
    return str(compute_image_signature(path, max_pixels=MAX_PIXELS, keypoints=False).hashes.phash)


def _plain_set(path: Path) -> None:
    """The same six whole-image hashes the plain way: imagehash's phash, dhash, whash of image and mirror."""
    img = Image.open(path)
    img.load()
    for variant in (img, ImageOps.mirror(img)):
        imagehash.phash(variant)
        imagehash.dhash(variant)
        imagehash.whash(variant)


def _rate(func: Callable[[Path], object], paths: list[Path], repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for path in paths:
            func(path)
        best = min(best, time.perf_counter() - start)
    return len(paths) / best


def run(count: int = 40) -> list[tuple[str, str, str]]:
    """Rows of (measure, value, note)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write_images(Path(tmp), count)
        _ours(paths[0])  # imports and caches warmed outside the clock
        imagehash.phash(Image.open(paths[0]))
        baseline = _rate(lambda p: imagehash.phash(Image.open(p)), paths)
        plain_set = _rate(_plain_set, paths, repeat=1)
        hashes_only = _rate(_ours_hashes, paths)
        ours = _rate(_ours, paths)
        with ProcessPoolExecutor(max_workers=2) as pool:
            list(pool.map(_ours, paths[:4]))
            start = time.perf_counter()
            list(pool.map(_ours, paths, chunksize=4))
            ours_2 = len(paths) / (time.perf_counter() - start)
        agree = sum(
            (imagehash.phash(Image.open(p)) - imagehash.hex_to_hash(_ours(p))) <= 6 for p in paths
        )
        ocr_row = ("ocr: Tesseract per image", "not installed", "apt-get install tesseract-ocr")
        if ocr_available():
            sample = paths[: min(12, len(paths))]
            start = time.perf_counter()
            texts = [read_text(Image.open(p), timeout_s=30) for p in sample]
            per_image = (time.perf_counter() - start) / len(sample)
            ocr_row = ("ocr: Tesseract per image", f"{per_image * 1000:.0f} ms",
                       f"{sum(bool(t) for t in texts)} of {len(sample)} images with words; 1 thread, at most 1600 px")
    return [
        ("hashing: baseline imagehash.phash(Image.open(p))", f"{baseline:.0f} images/s", "1 hash, full decode"),
        ("hashing: baseline, the same six hashes the plain way", f"{plain_set:.0f} images/s",
         "imagehash phash+dhash+whash of image and mirror, full decode"),
        ("hashing: compute_image_signature(keypoints=False)", f"{hashes_only:.0f} images/s",
         f"{hashes_only / plain_set:.1f}x the same hashes the plain way, {hashes_only / baseline:.1f}x one phash; "
         "+ content box, collage cells, thumbnail"),
        ("hashing: compute_image_signature (with keypoints)", f"{ours:.0f} images/s",
         f"{ours / plain_set:.1f}x the plain six hashes, {ours / baseline:.2f}x one phash; 256+128 ORB keypoints"),
        ("hashing: with keypoints, 2 processes", f"{ours_2:.0f} images/s", f"{ours_2 / baseline:.2f}x one phash"),
        ("hashing: pHash within 6 bits of imagehash's on the full image", f"{agree}/{len(paths)}",
         "draft decoding costs a few bits"),
        ocr_row,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40, help="generated 1200x1200 JPEGs to time (default 40)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    for row in run(args.count):
        print(" | ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
