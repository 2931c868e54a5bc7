"""Image hashing throughput: our one-decode signature against ``imagehash.phash(Image.open(path))``.

Both read the same generated 1200x1200 JPEGs from disk one at a time. Ours computes pHash, dHash and wHash
of the image, its mirror and its content box, a colour thumbnail and ORB keypoints, from one draft
decode; the baseline computes one pHash from a full decode.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import imagehash
from PIL import Image, ImageOps

from matching.images import compute_image_signature
from matching.synthetic import photo

MAX_PIXELS = 40_000_000


def _write_images(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = folder / f"img-{i}.jpg"
        photo(1000 + i, (1200, 1200)).save(path, quality=90)
        paths.append(path)
    return paths


def _ours(path: Path) -> str:
    return compute_image_signature(path, max_pixels=MAX_PIXELS)["phash"]


def _naive_set(path: Path) -> None:
    """The same six whole-image hashes the plain way: phash, dhash, whash of the image and its mirror."""
    img = Image.open(path)
    img.load()
    for variant in (img, ImageOps.mirror(img)):
        imagehash.phash(variant)
        imagehash.dhash(variant)
        imagehash.whash(variant)


def _rate(func, paths: list[Path], repeat: int = 2) -> float:
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
        naive_set = _rate(_naive_set, paths, repeat=1)
        ours = _rate(_ours, paths)
        with ProcessPoolExecutor(max_workers=2) as pool:
            list(pool.map(_ours, paths[:4]))
            start = time.perf_counter()
            list(pool.map(_ours, paths, chunksize=4))
            ours_2 = len(paths) / (time.perf_counter() - start)
        agree = sum(
            (imagehash.phash(Image.open(p)) - imagehash.hex_to_hash(_ours(p))) <= 6 for p in paths
        )
    return [
        ("hashing: baseline imagehash.phash(Image.open(p))", f"{baseline:.0f} images/s", "1 hash, full decode"),
        ("hashing: baseline six hashes the plain way", f"{naive_set:.0f} images/s",
         "phash+dhash+whash of image and mirror, full decode"),
        ("hashing: compute_image_signature", f"{ours:.0f} images/s",
         f"{ours / baseline:.2f}x one phash, {ours / naive_set:.1f}x the six; 12 hashes + thumbnail + ORB"),
        ("hashing: compute_image_signature, 2 processes", f"{ours_2:.0f} images/s", f"{ours_2 / baseline:.2f}x baseline"),
        ("hashing: pHash within 6 bits of imagehash's", f"{agree}/{len(paths)}", "draft decoding costs a few bits"),
    ]
