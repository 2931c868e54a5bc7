"""Write the second, independent demo world: ``python -m data.world2.generate --out DIR [--seed N]``.

The files follow the demo world contract (:mod:`data.demo`), so ``lookalike eval`` scores the world and
:class:`data.demo.marketplace.DemoMarketplace` serves it; see :mod:`data.world2` for what is in it.  The
same seed gives byte-identical files (with the same installed wheels and ``../shared/grocery``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from data.world2 import assets
from data.world2.brands import Brand, make_brands, other_makers, pool_of
from data.world2.plan import STUDIO, Draft, Planner
from data.world2.scenes import render

GENERATOR = "world2"
SHOPS = (
    {"slug": "crateway", "name": "Crateway", "markup": "microdata"},
    {"slug": "lotmarket", "name": "Lot Market", "markup": "opengraph"},
    {"slug": "pricehive", "name": "Pricehive", "markup": "json-ld"},
)
TUNING_SEEDS = (2001, 2002, 2003)
"""Seeds of the second world that may be looked at while building or tuning a matcher (their non-coined
marks come from the ``tuning`` pool of :data:`data.world2.brands.INNOCENT`)."""
HELD_OUT_SEEDS = (2101, 2202, 2303, 2404, 2505, 2606)
"""Seeds of the second world that are only measured, never tuned on or looked into (their non-coined marks
come from the ``held-out`` pool).  2101 and 2202 gave the "before" figures of docs/matching.md (the matcher
of main on 5 December 2026); 2303 to 2606 are unseen."""
HOLDOUT_SHARE = 0.12
PARALLEL_MIN = 120


def seed_role(seed: int) -> str:
    """``tuning``, ``held-out`` or ``other`` for a second-world seed (``other`` draws held-out marks)."""
    return "tuning" if seed in TUNING_SEEDS else "held-out" if seed in HELD_OUT_SEEDS else "other"


def _official(brand: Brand, rng: random.Random, planner: Planner) -> list[tuple[str, dict[str, Any]]]:
    """1-3 official photos per product: a studio packshot, a photo on a real surface, a pair with a sibling."""
    jobs = []
    for index, product in enumerate(brand.products):
        size = rng.randrange(720, 1040, 40)
        product.photo_size = size
        scenes: list[dict[str, Any]] = [{"type": "studio", "design": product.design, "size": (size, size),
                                         "backdrop": rng.choice(STUDIO), "pack_h": rng.uniform(0.7, 0.82),
                                         "at": (0.5, 0.52)}]
        if rng.random() < 0.75:
            scenes.append({"type": "surface", "design": product.design, "size": (size, size),
                           **planner.surface((size, size)), "pack_h": rng.uniform(0.6, 0.75),
                           "at": (rng.uniform(0.4, 0.6), 0.54), "tilt": rng.uniform(-5, 5)})
        if len(brand.products) > 1 and rng.random() < 0.5:
            sibling = brand.products[(index + 1) % len(brand.products)].design
            scenes.append({"type": "studio", "designs": [product.design, sibling], "ats": [(0.32, 0.54), (0.7, 0.56)],
                           "size": (size, size), "backdrop": rng.choice(STUDIO), "pack_h": 0.62})
        for letter, scene in zip("abc", scenes, strict=False):
            path = f"refs/{brand.slug}/{product.sku.lower()}-{letter}.jpg"
            product.images.append(path)
            planner.official[path] = scene
            jobs.append((path, {"scene": scene, "edits": [], "fmt": "jpg", "quality": 92, "seed": index}))
    return jobs


def _render_batch(root: str, jobs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
    return [(path, render(recipe, Path(root))) for path, recipe in jobs]


def _render_all(root: Path, jobs: list[tuple[str, dict[str, Any]]], *, workers: int) -> None:
    if workers <= 1 or len(jobs) < PARALLEL_MIN:
        results = _render_batch(str(root), jobs)
    else:  # every recipe carries its parameters and seed, so the split between workers changes no byte
        chunks = [jobs[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = [r for part in pool.map(_render_batch, [str(root)] * workers, chunks) for r in part]
    for path, data in results:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@dataclass
class Plan:
    """A world before any pixel is drawn: brands, the official photo jobs, listing records and their photo jobs."""

    seed: int
    brands: list[Brand]
    official: list[tuple[str, dict[str, Any]]]
    records: list[dict[str, Any]]
    jobs: list[tuple[str, dict[str, Any]]]
    holdout_brands: list[str]

    def world_json(self) -> dict[str, Any]:
        return {
            "generator": GENERATOR, "seed": self.seed, "seed_role": seed_role(self.seed),
            "brands": [b.name for b in self.brands], "mark_styles": {b.name: b.style for b in self.brands},
            "trades": {b.name: b.trade.slug for b in self.brands}, "holdout_brands": self.holdout_brands,
            "shops": [dict(s) for s in SHOPS], "shelf_photos": bool(assets.grocery_backdrops()),
            "counts": counts(self.records, self.brands, n_official=len(self.official)),
        }


def plan_world(seed: int, *, brands: int = 10, products: int | None = None) -> Plan:
    """Everything about the world of ``seed`` but its pixels (cheap; the same seed gives the same plan).
    ``products`` caps the products per brand (tests build small worlds with 1)."""
    rng = random.Random(f"world2:{seed}")
    chosen = make_brands(rng, count=brands, pool=pool_of(seed_role(seed)))
    if products:
        for brand in chosen:
            del brand.products[products:]
    makers = other_makers(rng, count=40, avoid={b.name for b in chosen})
    planner = Planner(rng, brands=chosen, makers=makers, official={})
    official = [job for brand in chosen for job in _official(brand, rng, planner)]
    drafts: list[Draft] = planner.plan()
    rng.shuffle(drafts)
    coined = [b.name for b in chosen if b.style == "coined"]
    others = [b.name for b in chosen if b.style != "coined"]
    holdout_brands = sorted([rng.choice(coined or others), rng.choice(others or coined)])
    records, jobs = [], []
    for number, draft in enumerate(drafts, start=1):
        listing_id = f"L{number:04d}"
        split = "holdout" if draft.group in holdout_brands or rng.random() < HOLDOUT_SHARE else "dev"
        paths = []
        for n, recipe in enumerate(draft.recipes):
            path = f"listing-images/{listing_id}-{n}.{recipe.get('fmt', 'jpg')}"
            paths.append(path)
            jobs.append((path, recipe))
        records.append(draft.record(listing_id=listing_id, shop=rng.choice(SHOPS)["slug"], image_paths=paths,
                                    split=split))
    return Plan(seed, chosen, official, records, jobs, holdout_brands)


def generate_world2(out: Path, *, seed: int = 2001, workers: int = 2, brands: int = 10,
                    products: int | None = None) -> dict[str, Any]:
    """Write the second world of ``seed`` (``brands`` brands, at least 4) into ``out``; return ``world.json``.

    Replaces ``registry.yaml``, ``listings.jsonl``, ``world.json``, ``refs/`` and ``listing-images/``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for folder in ("refs", "listing-images"):
        shutil.rmtree(out / folder, ignore_errors=True)
    plan = plan_world(seed, brands=brands, products=products)
    _render_all(out, plan.official, workers=workers)  # first: copies are made from these files
    _render_all(out, plan.jobs, workers=workers)
    registry = {"brands": [b.registry_entry() for b in plan.brands]}
    (out / "registry.yaml").write_text(yaml.safe_dump(registry, sort_keys=False, allow_unicode=True, width=110),
                                       encoding="utf-8")
    with (out / "listings.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for record in plan.records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    world = plan.world_json()
    (out / "world.json").write_text(json.dumps(world, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return world


def counts(records: list[dict[str, Any]], brands: list[Brand], *, n_official: int) -> dict[str, Any]:
    by = {key: Counter() for key in ("class", "kind", "split", "shop")}
    for r in records:
        label = r["label"]
        by["class"][label["class"]] += 1
        by["kind"].update(label["kinds"])
        by["split"][label["split"]] += 1
        by["shop"][r["shop"]] += 1
    return {"brands": len(brands), "products": sum(len(b.products) for b in brands), "official_images": n_official,
            "listings": len(records), "listing_images": sum(len(r["images"]) for r in records),
            "infringing": sum(bool(r["label"]["infringing"]) for r in records),
            **{f"by_{k}": dict(sorted(v.items())) for k, v in by.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.world2.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the world into")
    parser.add_argument("--seed", type=int, default=TUNING_SEEDS[0], help=f"seed (default {TUNING_SEEDS[0]})")
    parser.add_argument("--workers", type=int, default=2, help="rendering processes (default 2)")
    parser.add_argument("--brands", type=int, default=10, help="number of brands, at least 4 (default 10)")
    args = parser.parse_args(argv)
    if args.brands < 4:
        parser.error("--brands must be at least 4")
    try:
        world = generate_world2(args.out, seed=args.seed, workers=args.workers, brands=args.brands)
    except assets.AssetMissing as exc:
        parser.exit(2, f"error: {exc}\n")
    c = world["counts"]
    print(f"second world seed {args.seed} ({world['seed_role']}): {c['brands']} brands, {c['products']} products, "
          f"{c['listings']} listings ({c['infringing']} infringing), "
          f"{c['official_images'] + c['listing_images']} images in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
