"""A large demo world for the scale bench: ``python -m data.demo.scale --listings 100000 OUT``.

Writes the files of the demo world contract (see :mod:`data.demo`: ``registry.yaml``, ``refs/``,
``listing-images/``, ``listings.jsonl``, ``world.json``), so :class:`data.demo.marketplace.DemoMarketplace`
serves it and ``bench.scale`` crawls it, for any number of listings:

- the registry is the demo generator's (``catalogue.make_brands``, official photos by
  ``generate._official_photos``; 16 brands by default, the most the catalogue holds);
- listings come in rounds: each round is a whole demo-world plan for those brands
  (``generate._plan_listings``: genuine, counterfeit with its disguises and photo edits, lookalike,
  accessory, resale and the hard negatives, about 1,170 listings at 16 brands), shuffled, and the last
  round is cut at ``--listings``; so the mix of classes is the demo world's at every size, and every
  listing's photo is drawn afresh from its own seeded recipe (copies of official photos stay byte copies,
  as on a real marketplace, and the image store keeps one of them);
- shops: the demo world's three (one per markup) and one more for about every
  :data:`LISTINGS_PER_SHOP` listings (markups in turn), so category pages stay a few hundred per shop;
- images are drawn cheaply: packshots at most ``image_size`` px (default 480) without supersampling,
  official photos shrunk to ``image_size`` before they are edited, and every rendered image at most
  ``image_size`` on its long side (the demo world draws 600-900 px with 2x supersampling and edits at full
  size, about 2x slower); byte copies of official photos keep their 640-880 px.

Streaming: one round is planned, rendered (in ``workers`` processes) and appended to the files before the
next, so memory stays bounded by a round whatever ``--listings`` is.  The same seed, size and options give
byte-identical files (every recipe carries its seed; the split between workers does not change bytes).
Listing ids are ``L`` and six digits or more.  The held-out seeds (``generate.HELD_OUT_SEEDS``) are refused:
a scale world is for timing, and nobody generates those worlds while tuning.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import random
import shutil
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from data.demo import photo_edits
from data.demo.catalogue import make_brands, other_marks
from data.demo.generate import (
    HELD_OUT_SEEDS,
    HOLDOUT_SHARE,
    SHOPS,
    WorldCounts,
    _official_photos,
    _plan_listings,
    _render_all,
    _size_mb,
    seed_role,
)
from data.demo.images import Collage, ImageRecipe, Packshot, Renderer, Source
from data.demo.listings import Planner
from data.demo.marketplace import MARKUPS

DEFAULT_BRANDS = 16
LISTINGS_PER_SHOP = 2_500
"""One more shop for about every this many listings (past the demo world's three)."""
OTHER_MARKS = 400
"""Coined marks of unregistered makers to draw from (the demo world uses 60)."""
DEFAULT_IMAGE_SIZE = 480


def scale_shops(listings: int) -> list[dict[str, str]]:
    """The demo world's three shops, then ``market-NNN`` shops (markups in turn) for larger worlds."""
    shops = [dict(s) for s in SHOPS]
    for k in range(len(SHOPS), max(len(SHOPS), -(-listings // LISTINGS_PER_SHOP))):
        shops.append({"slug": f"market-{k:03d}", "name": f"Market {k:03d}", "markup": MARKUPS[k % len(MARKUPS)]})
    return shops


def cheap(recipe: ImageRecipe, image_size: int) -> ImageRecipe:
    """``recipe`` drawn at most ``image_size`` px, without supersampling (byte copies stay copies)."""
    if recipe.copy:
        return recipe

    def small(source: Source) -> Source:
        if isinstance(source, Packshot):
            return dataclasses.replace(source, size=min(source.size, image_size), supersample=1)
        if isinstance(source, Collage):
            return Collage(tuple(small(p) for p in source.parts))
        return source

    long_side = min(recipe.long_side or image_size, image_size)
    return dataclasses.replace(recipe, source=small(recipe.source), long_side=long_side)


class ScaleRenderer(Renderer):
    """The demo renderer with official photos shrunk to ``image_size`` before any edit (a background swap
    or a colour shift costs by the pixel: about 4x less at 480 px than at 880)."""

    def __init__(self, root: Path, image_size: int) -> None:
        super().__init__(root)
        self.image_size = image_size

    def official(self, path: str) -> Image.Image:
        if path not in self._official:
            image = super().official(path)
            if max(image.size) > self.image_size:
                self._official[path] = photo_edits.resize_long_side(image, self.image_size)
        return self._official[path]


_RENDERER: Renderer | None = None


def _start_worker(root: str, image_size: int) -> None:
    global _RENDERER  # one renderer per worker process: it keeps the decoded official photos
    _RENDERER = ScaleRenderer(Path(root), image_size)


def _render_one(recipe: ImageRecipe) -> bytes:
    assert _RENDERER is not None
    return _RENDERER.render(recipe)


class _Renderers:
    """Renders recipes in order, inline (``workers <= 1``) or in a pool of spawned processes kept for the run."""

    def __init__(self, root: Path, workers: int, image_size: int) -> None:
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # spawn, not fork: forking a process that runs threads (a test runner, Prefect) is unsafe.
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_start_worker, initargs=(str(root), image_size))
        else:
            _start_worker(str(root), image_size)

    def render(self, recipes: list[ImageRecipe]) -> Iterator[bytes]:
        if self.pool is None:
            return (_render_one(r) for r in recipes)
        return self.pool.map(_render_one, recipes, chunksize=8)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def generate_scale_world(out: Path, *, listings: int, seed: int = 7, brands: int = DEFAULT_BRANDS,
                         workers: int = 2, image_size: int = DEFAULT_IMAGE_SIZE,
                         progress: Any = None) -> dict[str, Any]:
    """Write a world of exactly ``listings`` listings into ``out`` (see the module doc) and return its
    ``world.json`` mapping.  ``progress(done, total)`` is called after each round."""
    if seed in HELD_OUT_SEEDS:
        raise ValueError(f"seed {seed} is held out: scale worlds use other seeds")
    if listings < 1:
        raise ValueError("a scale world needs at least one listing")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for folder in ("refs", "listing-images"):
        shutil.rmtree(out / folder, ignore_errors=True)
    (out / "listing-images").mkdir()
    rng = random.Random(seed)
    registered = make_brands(rng, count=brands)
    official = [job for brand in registered for job in _official_photos(brand, rng)]
    _render_all(out, official, workers=workers)
    shops = scale_shops(listings)
    avoid = {b.name for b in registered} | {w for b in registered for w in b.aliases}
    planner = Planner(rng, brands=registered, shops=[s["slug"] for s in shops],
                      other_marks=other_marks(rng, count=OTHER_MARKS, avoid=avoid))
    ordinary = [b.name for b in registered if b.mark_style == "ordinary"]
    coined = [b.name for b in registered if b.mark_style != "ordinary"]
    holdout_brands = sorted([rng.choice(ordinary), rng.choice(coined)])
    width = max(6, len(str(listings)))
    counts = WorldCounts()
    renderers = _Renderers(out, workers, image_size)
    written = rounds = 0
    try:
        with (out / "listings.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
            while written < listings:
                drafts = _plan_listings(planner, registered, rng)
                rng.shuffle(drafts)
                drafts = drafts[: listings - written]
                rounds += 1
                records, paths, recipes = [], [], []
                for draft in drafts:
                    written += 1
                    listing_id = f"L{written:0{width}d}"
                    split = "holdout" if draft.group in holdout_brands or rng.random() < HOLDOUT_SHARE else "dev"
                    image_paths = []
                    for n, recipe in enumerate(draft.images):
                        path = f"listing-images/{listing_id}-{n}.{'jpg' if recipe.copy else recipe.fmt}"
                        image_paths.append(path)
                        paths.append(path)
                        recipes.append(cheap(recipe, image_size))
                    records.append(draft.record(listing_id=listing_id, image_paths=image_paths, split=split))
                for path, data in zip(paths, renderers.render(recipes), strict=True):
                    (out / path).write_bytes(data)
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                    counts.add(record)
                if progress:
                    progress(written, listings)
    finally:
        renderers.close()
    registry = {"brands": [b.registry_entry() for b in registered]}
    (out / "registry.yaml").write_text(yaml.safe_dump(registry, sort_keys=False, allow_unicode=True, width=110),
                                       encoding="utf-8")
    world = {
        "seed": seed,
        "seed_role": seed_role(seed),
        "generator": "data.demo.scale",
        "scale": {"listings": listings, "rounds": rounds, "image_size": image_size},
        "brands": [b.name for b in registered],
        "mark_styles": {b.name: b.mark_style for b in registered},
        "holdout_brands": holdout_brands,
        "shops": shops,
        "counts": counts.summary(registered, n_official=len(official)),
    }
    (out / "world.json").write_text(json.dumps(world, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.demo.scale", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the world into")
    parser.add_argument("--listings", type=int, default=10_000, help="number of listings (default 10000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7; not a held-out seed)")
    parser.add_argument("--brands", type=int, default=DEFAULT_BRANDS,
                        help=f"registered brands, 4 to {DEFAULT_BRANDS} (default {DEFAULT_BRANDS})")
    parser.add_argument("--workers", type=int, default=2, help="image rendering processes (default 2)")
    parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE,
                        help=f"long side of listing photos at most, px (default {DEFAULT_IMAGE_SIZE})")
    args = parser.parse_args(argv)
    if not 4 <= args.brands <= DEFAULT_BRANDS:
        parser.error(f"--brands must be 4 to {DEFAULT_BRANDS}")
    if args.seed in HELD_OUT_SEEDS:
        parser.error(f"seed {args.seed} is held out")
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        print(f"\r{done}/{total} listings, {time.perf_counter() - started:.0f} s", end="", file=sys.stderr)

    world = generate_scale_world(args.out, listings=args.listings, seed=args.seed, brands=args.brands,
                                 workers=args.workers, image_size=args.image_size, progress=report)
    c = world["counts"]
    print(f"\nscale world seed {args.seed}: {c['brands']} brands, {c['listings']} listings over "
          f"{len(world['shops'])} shops, {c['official_images'] + c['listing_images']} images, {_size_mb(args.out):.1f} MB in "
          f"{args.out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
