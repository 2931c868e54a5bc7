"""Evaluation of the matcher on a labelled demo world (``lookalike eval``).

Reads a demo world directory (``registry.yaml``, ``listings.jsonl``, ``refs/``, ``listing-images/``; see the
demo world contract in ``docs/matching.md``), computes image signatures straight from the image files,
scores every listing, and reports:

* precision, recall and F1 of *infringing* (counterfeit or lookalike) versus everything else, overall and
  per split (``dev``, ``holdout``); a listing counts as found only when the labelled brand is flagged;
* recall per disguise kind (``label.kinds`` of infringing listings);
* false-positive rate per negative kind (genuine, unrelated, ordinary_word, near_phrase, ...);
* a threshold sweep of the same figures.

Tune on ``dev`` only; ``holdout`` is reported separately and never used to pick a value.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from matching.config import MatchConfig
from matching.images import ImageDecodeError, compute_image_signature
from matching.matcher import Matcher
from matching.model import BrandProfile, ListingInput, MatchResult, ProductRef, ReferenceImage

__all__ = [
    "DISGUISE_KINDS",
    "NEGATIVE_KINDS",
    "EvalReport",
    "ListingOutcome",
    "evaluate_world",
    "format_report",
    "load_world",
]

DISGUISE_KINDS = (
    "exact", "misspelt", "spaced", "leetspeak", "homoglyph", "zero_width", "desc_only", "image_only",
    "reencoded", "crop", "mirror", "pad", "overlay", "collage", "rotate", "seller_impersonation", "dupe",
    "inspired_by", "replica_wording", "cheap_price",
)
NEGATIVE_KINDS = (
    "genuine", "unrelated", "ordinary_word", "near_phrase", "same_style_photo", "compatible_accessory",
    "other_brand_same_category",
)
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


@dataclass(frozen=True, slots=True)
class WorldData:
    """A loaded world: brand profiles (brand_id = brand name) and (listing, label) pairs."""

    brands: list[BrandProfile]
    listings: list[tuple[ListingInput, dict[str, Any]]]
    image_errors: int = 0


@dataclass(frozen=True, slots=True)
class ListingOutcome:
    """One scored listing: its label, the score of the labelled brand (0 when absent), the highest score of
    any other brand, and the class given to the labelled brand."""

    listing_id: str
    label: dict[str, Any]
    brand_score: float
    brand_class: str
    other_score: float
    results: tuple[MatchResult, ...]

    @property
    def infringing(self) -> bool:
        return bool(self.label.get("infringing"))

    def flagged(self, threshold: float) -> bool:
        """The labelled brand is flagged infringing at ``threshold``."""
        return self.brand_score >= threshold and self.brand_class != "accessory"

    def false_alarm(self, threshold: float) -> bool:
        """Some brand other than the labelled one (or any brand, for a clean listing) is flagged."""
        if not self.infringing:
            return max(self.brand_score, self.other_score) >= threshold and self.brand_class != "accessory"
        return self.other_score >= threshold


@dataclass(slots=True)
class EvalReport:
    """Outcomes plus the threshold in force; the figures are computed by methods."""

    outcomes: list[ListingOutcome]
    threshold: float
    image_errors: int = 0
    notes: list[str] = field(default_factory=list)

    def confusion(self, threshold: float | None = None, split: str | None = None) -> dict[str, int]:
        t = self.threshold if threshold is None else threshold
        tp = fp = fn = tn = 0
        for o in self.outcomes:
            if split and o.label.get("split") != split:
                continue
            if o.infringing:
                if o.flagged(t):
                    tp += 1
                else:
                    fn += 1
                if o.false_alarm(t):
                    fp += 1
            elif o.false_alarm(t):
                fp += 1
            else:
                tn += 1
        return {"tp": tp, "fp": fp, "fn": fn, "tn": tn}

    def prf(self, threshold: float | None = None, split: str | None = None) -> tuple[float, float, float]:
        c = self.confusion(threshold, split)
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def recall_by_kind(self, split: str | None = None) -> dict[str, tuple[int, int]]:
        """kind -> (found, total) over infringing listings."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in self.outcomes:
            if not o.infringing or (split and o.label.get("split") != split):
                continue
            for kind in o.label.get("kinds", ()):
                out[kind][1] += 1
                out[kind][0] += o.flagged(self.threshold)
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def fpr_by_kind(self, split: str | None = None) -> dict[str, tuple[int, int]]:
        """negative kind -> (false alarms, total) over non-infringing listings."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in self.outcomes:
            if o.infringing or (split and o.label.get("split") != split):
                continue
            for kind in o.label.get("kinds", ()):
                out[kind][1] += 1
                out[kind][0] += o.false_alarm(self.threshold)
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def class_confusion(self) -> Counter[tuple[str, str]]:
        """(labelled class, predicted class of the labelled brand or of the top brand) counts."""
        counts: Counter[tuple[str, str]] = Counter()
        for o in self.outcomes:
            predicted = o.brand_class if o.label.get("brand") else (
                o.results[0].klass if o.results else "clean")
            counts[(str(o.label.get("class")), predicted)] += 1
        return counts


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _signature_job(args: tuple[str, int]) -> tuple[str, dict[str, Any] | None]:
    path, max_pixels = args
    try:
        return path, compute_image_signature(Path(path), max_pixels=max_pixels)
    except ImageDecodeError:
        return path, None


def _signatures(paths: Sequence[Path], *, max_pixels: int, workers: int) -> dict[str, dict[str, Any] | None]:
    jobs = [(str(p), max_pixels) for p in paths]
    if workers > 1 and len(jobs) > 50:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return dict(pool.map(_signature_job, jobs, chunksize=16))
    return dict(map(_signature_job, jobs))


def load_world(world_dir: Path, *, max_pixels: int = 40_000_000, workers: int = 2) -> WorldData:
    """Read a demo world and compute every image signature (in ``workers`` processes)."""
    world_dir = Path(world_dir)
    registry = yaml.safe_load((world_dir / "registry.yaml").read_text(encoding="utf-8")) or {}
    raw_listings = [
        json.loads(line) for line in (world_dir / "listings.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    paths: list[Path] = []
    for brand in registry.get("brands", []):
        for product in brand.get("products", []) or []:
            paths.extend(world_dir / p for p in product.get("images", []) or [])
    for row in raw_listings:
        paths.extend(world_dir / p for p in row.get("images", []) or [])
    sigs = _signatures(sorted(set(paths)), max_pixels=max_pixels, workers=workers)
    errors = sum(1 for s in sigs.values() if s is None)

    brands = []
    for brand in registry.get("brands", []):
        products = []
        for product in brand.get("products", []) or []:
            refs = tuple(
                ReferenceImage(ref_id=p, label=f"{product['sku']} photo {chr(ord('a') + i)}",
                               signature=sigs[str(world_dir / p)])
                for i, p in enumerate(product.get("images", []) or [])
                if sigs.get(str(world_dir / p)) is not None
            )
            products.append(ProductRef(sku=str(product["sku"]), name=str(product.get("name", "")),
                                       msrp=_decimal(product.get("msrp")), currency=product.get("currency"),
                                       images=refs))
        brands.append(BrandProfile(
            brand_id=brand["name"], name=brand["name"],
            marks=(brand["name"], *(brand.get("aliases") or ())),
            keywords=tuple(str(k) for k in brand.get("keywords") or ()),
            category=brand.get("category"),
            authorized_sellers=tuple(brand.get("authorized_sellers") or ()),
            products=tuple(products),
            thresholds=dict(brand.get("thresholds") or {}),
        ))
    listings = []
    for row in raw_listings:
        images = tuple(
            sigs[str(world_dir / p)] for p in row.get("images", []) or [] if sigs.get(str(world_dir / p))
        )
        listings.append((ListingInput(
            listing_id=row["id"], title=row.get("title") or "", description=row.get("description") or "",
            seller=row.get("seller"), price=_decimal(row.get("price")), currency=row.get("currency"),
            brand_text=row.get("brand_text"), images=images,  # type: ignore[arg-type]
        ), row.get("label") or {}))
    return WorldData(brands, listings, errors)


def evaluate_world(
    world: WorldData,
    *,
    config: MatchConfig | None = None,
    rates: Mapping[str, Decimal] | None = None,
) -> EvalReport:
    """Score every listing of ``world`` and collect the outcomes."""
    config = config or MatchConfig()
    matcher = Matcher(world.brands, config=config, rates=rates or {"USD": Decimal(1)})
    labels = {str(listing.listing_id): label for listing, label in world.listings}
    outcomes = []
    for listing, results in matcher.score_many(listing for listing, _ in world.listings):
        label = labels[str(listing.listing_id)]
        brand = label.get("brand")
        own = next((r for r in results if r.brand_id == brand), None) if brand else None
        others = [r.score for r in results if r is not own and r.klass != "accessory"
                  and r.signals.get("seller", {}).get("status") != "authorized"]
        outcomes.append(ListingOutcome(
            listing_id=str(listing.listing_id), label=label,
            brand_score=own.score if own else 0.0, brand_class=own.klass if own else "clean",
            other_score=max(others, default=0.0), results=tuple(results),
        ))
    return EvalReport(outcomes, config.infringing_threshold, world.image_errors)


def _pct(found: int, total: int) -> str:
    return f"{found / total:.2f} ({found}/{total})" if total else "-"


def format_report(report: EvalReport) -> str:
    """The report as Markdown tables."""
    lines = [f"Threshold {report.threshold:.2f}; {len(report.outcomes)} listings"
             + (f"; {report.image_errors} images could not be decoded" if report.image_errors else ""), ""]
    lines += ["| split | listings | precision | recall | F1 | TP | FP | FN |", "|---|---|---|---|---|---|---|---|"]
    for split in (None, "dev", "holdout"):
        c = report.confusion(split=split)
        p, r, f = report.prf(split=split)
        n = sum(1 for o in report.outcomes if split is None or o.label.get("split") == split)
        lines.append(f"| {split or 'all'} | {n} | {p:.3f} | {r:.3f} | {f:.3f} | {c['tp']} | {c['fp']} | {c['fn']} |")
    lines += ["", "Recall per disguise kind (infringing listings carrying the kind):", "",
              "| kind | all | dev | holdout |", "|---|---|---|---|"]
    all_k, dev_k, hold_k = report.recall_by_kind(), report.recall_by_kind("dev"), report.recall_by_kind("holdout")
    for kind in [k for k in DISGUISE_KINDS if k in all_k] + [k for k in all_k if k not in DISGUISE_KINDS]:
        lines.append(f"| {kind} | {_pct(*all_k[kind])} | {_pct(*dev_k.get(kind, (0, 0)))} | "
                     f"{_pct(*hold_k.get(kind, (0, 0)))} |")
    lines += ["", "False-positive rate per negative kind:", "", "| kind | all | dev | holdout |", "|---|---|---|---|"]
    all_n, dev_n, hold_n = report.fpr_by_kind(), report.fpr_by_kind("dev"), report.fpr_by_kind("holdout")
    for kind in [k for k in NEGATIVE_KINDS if k in all_n] + [k for k in all_n if k not in NEGATIVE_KINDS]:
        lines.append(f"| {kind} | {_pct(*all_n[kind])} | {_pct(*dev_n.get(kind, (0, 0)))} | "
                     f"{_pct(*hold_n.get(kind, (0, 0)))} |")
    lines += ["", "Threshold sweep (dev | holdout):", "",
              "| threshold | dev P | dev R | dev F1 | holdout P | holdout R | holdout F1 |",
              "|---|---|---|---|---|---|---|"]
    for t in SWEEP:
        dp, dr, df = report.prf(t, "dev")
        hp, hr, hf = report.prf(t, "holdout")
        lines.append(f"| {t:.2f} | {dp:.3f} | {dr:.3f} | {df:.3f} | {hp:.3f} | {hr:.3f} | {hf:.3f} |")
    confusion = report.class_confusion()
    predicted = ("counterfeit", "lookalike", "accessory", "clean")
    lines += ["", "Classes (labelled -> given to the labelled brand, or to the top brand for unbranded):", "",
              "| labelled | " + " | ".join(predicted) + " |", "|---" * (len(predicted) + 1) + "|"]
    for labelled in ("counterfeit", "lookalike", "accessory", "genuine", "clean"):
        row = [str(confusion.get((labelled, p), 0)) for p in predicted]
        lines.append(f"| {labelled} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def misses(report: EvalReport, *, split: str | None = "dev") -> Iterable[ListingOutcome]:
    """Outcomes that are wrong at the report's threshold (for inspection while tuning)."""
    for o in report.outcomes:
        if split and o.label.get("split") != split:
            continue
        if o.infringing and not o.flagged(report.threshold) or o.false_alarm(report.threshold):
            yield o
