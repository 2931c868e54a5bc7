"""Evaluation metrics over scored, labelled listings (pure: no database, no files).

The scoring itself runs through the production path in :mod:`services.evaluation` (registry import,
stored listings and images, the signature stage, ``services.matchdata`` and :class:`matching.Matcher`);
this module only turns (label, results) pairs into figures:

* precision, recall and F1 of *infringing* (``counterfeit`` or ``lookalike``) against everything else, per
  split (``dev``, ``holdout``); a listing counts as found only when its labelled brand is given an
  infringing class at or above the threshold, and as a false alarm when any other brand is (or, for a
  non-infringing listing, any brand at all, its own included: a genuine, resale or accessory listing
  called counterfeit is a false positive);
* recall per disguise kind and false-positive rate per negative kind (``label.kinds``);
* classes given to the labelled brand (accessory and resale must keep their own class);
* a reliability table: score bins against the share of listings in the bin that are infringing;
* the lowest threshold reaching a chosen precision on ``dev`` and what it gives on ``holdout``;
* calibration against analysts' decisions (:func:`calibration_table`), a report only.

Tune on ``dev`` of the tuning seeds only; ``holdout`` and the held-out seeds are reported, never tuned on.
Scores are floats 0..1; thresholds apply as ``score >= threshold``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from matching.model import CLASSES, INFRINGING_CLASSES, MatchResult

__all__ = [
    "DISGUISE_KINDS",
    "INFRINGING",
    "NEGATIVE_KINDS",
    "CalibrationRow",
    "EvalReport",
    "ListingOutcome",
    "calibration_table",
    "format_calibration",
    "format_report",
    "outcome_of",
]

INFRINGING = INFRINGING_CLASSES
"""Classes that count as a flag (``matching.model.INFRINGING_CLASSES``)."""
DISGUISE_KINDS = (
    "exact", "misspelt", "spaced", "leetspeak", "homoglyph", "zero_width", "transposition", "truncation",
    "added_words", "desc_only", "other_goods", "image_only", "photo_mark", "pack_photo", "small_photo",
    "reencoded", "crop", "mirror", "pad", "overlay", "collage", "rotate", "perspective", "background",
    "colour_shift", "screenshot", "seller_impersonation", "dupe", "inspired_by", "replica_wording", "cheap_price",
)
"""Disguise kinds in report order: the first world's (:mod:`data.demo`) and the second's (:mod:`data.world2`:
``transposition``, ``truncation``, ``added_words``, ``other_goods`` (a coined mark word for word on goods the
brand does not make), ``pack_photo`` (a new photo of a pack in the brand's design), ``small_photo`` (420-480
px), ``perspective``, ``screenshot``).  A kind missing here is still reported, after these."""
NEGATIVE_KINDS = (
    "genuine", "authorized_sale", "resale", "second_hand", "grey_market", "compatible_accessory", "refill",
    "compatible_part", "unrelated", "ordinary_word", "dictionary_collision", "generic_phrase", "split_compound",
    "phrase_other_goods", "mark_in_word", "near_phrase", "same_style_photo", "shared_template",
    "other_brand_same_category",
)
"""Negative kinds in report order, the second world's included (``authorized_sale``: a genuine offer of an
authorized seller below MSRP; ``dictionary_collision``: a dictionary mark in its ordinary sense on other goods;
``generic_phrase``: a phrase mark used as the trade's ordinary words; ``split_compound``: an ordinary phrase
that spells a compound mark with a space or hyphen; ``phrase_other_goods``: a mark phrase on other goods)."""
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""Edges of the reliability and calibration bins (the last bin includes 1.0)."""
PREDICTED = CLASSES
LABELLED = ("counterfeit", "lookalike", "accessory", "resale", "genuine", "clean")


@dataclass(frozen=True, slots=True)
class ListingOutcome:
    """One scored listing.

    ``brand_score``/``brand_class``: the labelled brand's result (0.0 / ``clean`` when absent or for a
    listing without a labelled brand); ``other_score``: the highest score any other brand got with an
    infringing class; ``top_score``: the highest score with an infringing class over all brands.
    ``group`` names the world (``seed-7``) when several are pooled.
    """

    listing_id: str
    label: dict[str, Any]
    brand_score: float
    brand_class: str
    other_score: float
    top_score: float
    group: str = ""
    results: tuple[MatchResult, ...] = ()

    @property
    def infringing(self) -> bool:
        return bool(self.label.get("infringing"))

    @property
    def split(self) -> str:
        return str(self.label.get("split") or "dev")

    def flagged(self, threshold: float) -> bool:
        """The labelled brand is flagged infringing at ``threshold``."""
        return self.brand_class in INFRINGING and self.brand_score >= threshold

    def false_alarm(self, threshold: float) -> bool:
        """A brand other than the labelled one is flagged; for a non-infringing listing, any brand."""
        if not self.infringing:
            return self.top_score >= threshold
        return self.other_score >= threshold


def outcome_of(listing_id: str, label: dict[str, Any], results: Sequence[MatchResult], *,
               brand_id_of: dict[str, Any], group: str = "") -> ListingOutcome:
    """The outcome of one listing from its results; ``brand_id_of`` maps a brand name to its ``brand_id``."""
    brand = label.get("brand")
    own_id = brand_id_of.get(brand) if brand else None
    own = next((r for r in results if own_id is not None and r.brand_id == own_id), None)
    flags = [r for r in results if r.klass in INFRINGING]
    others = [r.score for r in flags if r is not own]
    return ListingOutcome(
        listing_id=listing_id, label=dict(label), group=group, results=tuple(results),
        brand_score=float(own.score) if own else 0.0, brand_class=own.klass if own else "clean",
        other_score=float(max(others, default=0.0)), top_score=float(max((r.score for r in flags), default=0.0)),
    )


@dataclass(slots=True)
class EvalReport:
    """Outcomes plus the threshold in force; every figure is computed by a method."""

    outcomes: list[ListingOutcome]
    threshold: float
    image_errors: int = 0
    notes: list[str] = field(default_factory=list)

    def select(self, split: str | None = None, group: str | None = None) -> list[ListingOutcome]:
        return [o for o in self.outcomes if (split is None or o.split == split)
                and (group is None or o.group == group)]

    def groups(self) -> list[str]:
        return sorted({o.group for o in self.outcomes}, key=lambda g: (len(g), g))

    def confusion(self, threshold: float | None = None, split: str | None = None,
                  group: str | None = None) -> dict[str, int]:
        """tp, fp, fn, tn over listings (a listing may add to tp and fp when another brand is flagged)."""
        t = self.threshold if threshold is None else threshold
        tp = fp = fn = tn = 0
        for o in self.select(split, group):
            if o.infringing:
                if o.flagged(t):
                    tp += 1
                else:
                    fn += 1
                fp += o.false_alarm(t)
            elif o.false_alarm(t):
                fp += 1
            else:
                tn += 1
        return {"tp": tp, "fp": fp, "fn": fn, "tn": tn}

    def prf(self, threshold: float | None = None, split: str | None = None,
            group: str | None = None) -> tuple[float, float, float]:
        """(precision, recall, F1); precision is 1.0 when nothing is flagged, recall 1.0 with no positives."""
        c = self.confusion(threshold, split, group)
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def fpr(self, threshold: float | None = None, split: str | None = None, group: str | None = None) -> float:
        """Share of non-infringing listings with a false alarm."""
        t = self.threshold if threshold is None else threshold
        negatives = [o for o in self.select(split, group) if not o.infringing]
        return sum(o.false_alarm(t) for o in negatives) / len(negatives) if negatives else 0.0

    def recall_by_kind(self, split: str | None = None, group: str | None = None) -> dict[str, tuple[int, int]]:
        """kind -> (found, total) over infringing listings carrying the kind."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in self.select(split, group):
            if o.infringing:
                for kind in o.label.get("kinds", ()):
                    out[kind][1] += 1
                    out[kind][0] += o.flagged(self.threshold)
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def fpr_by_kind(self, split: str | None = None, group: str | None = None) -> dict[str, tuple[int, int]]:
        """negative kind -> (false alarms, total) over non-infringing listings carrying the kind."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in self.select(split, group):
            if not o.infringing:
                for kind in o.label.get("kinds", ()):
                    out[kind][1] += 1
                    out[kind][0] += o.false_alarm(self.threshold)
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def class_confusion(self, split: str | None = None, group: str | None = None) -> Counter[tuple[str, str]]:
        """(labelled class, class given to the labelled brand, or to the top brand for unbranded) counts;
        a result below the threshold counts as ``clean`` for infringing classes."""
        counts: Counter[tuple[str, str]] = Counter()
        for o in self.select(split, group):
            if o.label.get("brand"):
                predicted = o.brand_class
                if predicted in INFRINGING and o.brand_score < self.threshold:
                    predicted = "clean"
            else:
                predicted = "clean" if o.top_score < self.threshold else next(
                    r.klass for r in sorted(o.results, key=lambda r: -r.score) if r.klass in INFRINGING)
            counts[(str(o.label.get("class")), predicted)] += 1
        return counts

    def class_accuracy(self, klass: str, split: str | None = None, group: str | None = None) -> tuple[int, int]:
        """(given ``klass``, total) over listings labelled ``klass``."""
        confusion = self.class_confusion(split, group)
        total = sum(n for (labelled, _), n in confusion.items() if labelled == klass)
        return confusion.get((klass, klass), 0), total

    def reliability(self, split: str | None = None, group: str | None = None
                    ) -> list[tuple[float, float, int, float, float]]:
        """Rows (low, high, listings, mean score, share infringing) over score bins of :data:`BINS`.

        A listing's score is its labelled brand's score when it is infringing and flagged for that brand,
        else the highest infringing-class score of any brand; "infringing" means the listing is infringing
        and that score belongs to its labelled brand.  Listings with no infringing-class result score 0.
        """
        rows = []
        pairs = []
        for o in self.select(split, group):
            own = o.infringing and o.brand_class in INFRINGING and o.brand_score >= o.other_score
            pairs.append((o.brand_score if own else o.top_score, own))
        for low, high in zip(BINS, BINS[1:], strict=False):
            inside = [(s, y) for s, y in pairs if low <= s < high or (high == BINS[-1] and s == high)]
            if inside:
                rows.append((low, high, len(inside), sum(s for s, _ in inside) / len(inside),
                             sum(y for _, y in inside) / len(inside)))
        return rows

    def threshold_for_precision(self, target: float, *, split: str | None = "dev",
                                group: str | None = None) -> float | None:
        """The lowest threshold on a 0.005 grid at which precision on ``split`` is at least ``target`` and
        stays so for every higher grid step that flags anything (None: never)."""
        best = None
        for t in (i / 200 for i in range(200, 0, -1)):
            c = self.confusion(t, split, group)
            if c["tp"] + c["fp"] == 0:
                continue
            if c["tp"] / (c["tp"] + c["fp"]) < target:
                break
            best = t
        return best


def _pct(found: int, total: int) -> str:
    return f"{found / total:.3f} ({found}/{total})" if total else "-"


def _split_rows(report: EvalReport, *, group: str | None, label: str) -> list[str]:
    lines = []
    for split in (None, "dev", "holdout"):
        chosen = report.select(split, group)
        if not chosen:
            continue
        c = report.confusion(split=split, group=group)
        p, r, f = report.prf(split=split, group=group)
        lines.append(f"| {label} | {split or 'all'} | {len(chosen)} | {p:.3f} | {r:.3f} | {f:.3f} | "
                     f"{report.fpr(split=split, group=group):.3f} | {c['tp']} | {c['fp']} | {c['fn']} |")
    return lines


def format_report(report: EvalReport, *, target_precision: float | None = 0.97) -> str:
    """The report as Markdown tables: per world and pooled, per split, per kind, classes, reliability,
    the threshold reaching ``target_precision`` on dev, and a threshold sweep."""
    t = report.threshold
    lines = [f"Threshold {t:.2f}; {len(report.outcomes)} listings"
             + (f"; {report.image_errors} images could not be signed" if report.image_errors else ""), ""]
    lines += ["| world | split | listings | precision | recall | F1 | FPR | TP | FP | FN |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    groups = report.groups()
    if len(groups) > 1:
        for g in groups:
            lines += _split_rows(report, group=g, label=g)
    lines += _split_rows(report, group=None, label="pooled" if len(groups) > 1 else (groups[0] or "world"))

    def kind_table(title: str, per: dict[str, dict[str, tuple[int, int]]], order: Sequence[str]) -> list[str]:
        present = [k for k in order if k in per["all"]] + [k for k in per["all"] if k not in order]
        out = ["", title, "", "| kind | all | dev | holdout |", "|---|---|---|---|"]
        for kind in present:
            out.append(f"| {kind} | {_pct(*per['all'][kind])} | {_pct(*per['dev'].get(kind, (0, 0)))} | "
                       f"{_pct(*per['holdout'].get(kind, (0, 0)))} |")
        return out

    lines += kind_table("Recall per disguise kind (infringing listings carrying the kind):",
                        {"all": report.recall_by_kind(), "dev": report.recall_by_kind("dev"),
                         "holdout": report.recall_by_kind("holdout")}, DISGUISE_KINDS)
    lines += kind_table("False-positive rate per negative kind (share with a false alarm):",
                        {"all": report.fpr_by_kind(), "dev": report.fpr_by_kind("dev"),
                         "holdout": report.fpr_by_kind("holdout")}, NEGATIVE_KINDS)
    confusion = report.class_confusion()
    lines += ["", "Classes (labelled -> given to the labelled brand, or to the top brand for unbranded; "
              "below the threshold counts as clean):", "",
              "| labelled | " + " | ".join(PREDICTED) + " | right |", "|---" * (len(PREDICTED) + 2) + "|"]
    for labelled in LABELLED:
        row = [str(confusion.get((labelled, p), 0)) for p in PREDICTED]
        total = sum(confusion.get((labelled, p), 0) for p in PREDICTED)
        right = {"genuine": "clean"}.get(labelled, labelled)
        lines.append(f"| {labelled} | " + " | ".join(row) + f" | {_pct(confusion.get((labelled, right), 0), total)} |")
    lines += ["", "Reliability (score bins against the share infringing for the scored brand):", "",
              "| score bin | listings | mean score | share infringing | dev share | holdout share |",
              "|---|---|---|---|---|---|"]
    dev = {(lo, hi): share for lo, hi, _, _, share in report.reliability("dev")}
    hold = {(lo, hi): share for lo, hi, _, _, share in report.reliability("holdout")}
    for lo, hi, n, mean, share in report.reliability():
        d, h = dev.get((lo, hi)), hold.get((lo, hi))
        lines.append(f"| {lo:.1f}-{hi:.1f} | {n} | {mean:.3f} | {share:.3f} | "
                     f"{'-' if d is None else f'{d:.3f}'} | {'-' if h is None else f'{h:.3f}'} |")
    if target_precision is not None:
        chosen = report.threshold_for_precision(target_precision, split="dev")
        lines += [""]
        if chosen is None:
            lines.append(f"No threshold reaches precision {target_precision:.2f} on dev.")
        else:
            dp, dr, _ = report.prf(chosen, "dev")
            hp, hr, _ = report.prf(chosen, "holdout")
            lines.append(f"Threshold for precision >= {target_precision:.2f} on dev: {chosen:.3f} "
                         f"(dev P {dp:.3f} R {dr:.3f}; holdout P {hp:.3f} R {hr:.3f}).")
    lines += ["", "Threshold sweep (dev | holdout):", "",
              "| threshold | dev P | dev R | dev F1 | holdout P | holdout R | holdout F1 |",
              "|---|---|---|---|---|---|---|"]
    for s in SWEEP:
        dp, dr, df = report.prf(s, "dev")
        hp, hr, hf = report.prf(s, "holdout")
        lines.append(f"| {s:.2f} | {dp:.3f} | {dr:.3f} | {df:.3f} | {hp:.3f} | {hr:.3f} | {hf:.3f} |")
    return "\n".join(lines)


def misses(report: EvalReport, *, split: str | None = "dev") -> Iterable[ListingOutcome]:
    """Outcomes that are wrong at the report's threshold (for inspection while tuning)."""
    for o in report.select(split):
        if (o.infringing and not o.flagged(report.threshold)) or o.false_alarm(report.threshold):
            yield o


# ------------------------------------------------------------------------------------------ calibration


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    """One score bin of analysts' decisions: ``confirmed`` of ``decided`` matches were upheld."""

    low: float
    high: float
    decided: int
    confirmed: int
    mean_score: float

    @property
    def share(self) -> float:
        return self.confirmed / self.decided if self.decided else 0.0


def calibration_table(decisions: Iterable[tuple[float, bool]]) -> tuple[list[CalibrationRow], float, float]:
    """Bins of (score, upheld) decisions, the Brier score and the expected calibration error.

    ``upheld`` is True for matches analysts confirmed (or reported / saw removed) and False for dismissed
    ones.  A calibrated scorer has ``share`` close to ``mean_score`` in every bin; the expected calibration
    error is the decision-weighted mean of ``|share - mean_score|``.  Report only: nothing is refitted.
    """
    pairs = [(min(max(float(s), 0.0), 1.0), bool(y)) for s, y in decisions]
    rows = []
    for low, high in zip(BINS, BINS[1:], strict=False):
        inside = [(s, y) for s, y in pairs if low <= s < high or (high == BINS[-1] and s == high)]
        if inside:
            rows.append(CalibrationRow(low, high, len(inside), sum(y for _, y in inside),
                                       sum(s for s, _ in inside) / len(inside)))
    brier = sum((s - y) ** 2 for s, y in pairs) / len(pairs) if pairs else 0.0
    ece = sum(r.decided * abs(r.share - r.mean_score) for r in rows) / len(pairs) if pairs else 0.0
    return rows, brier, ece


def format_calibration(decisions: Sequence[tuple[float, bool]]) -> str:
    """The calibration report against analysts' decisions as Markdown (report only, no retraining)."""
    if not decisions:
        return "No analysts' decisions yet (confirmed, reported, removed or dismissed matches): no calibration."
    rows, brier, ece = calibration_table(decisions)
    lines = [f"Calibration against {len(decisions)} analysts' decisions (report only, nothing is refitted): "
             f"Brier score {brier:.3f}, expected calibration error {ece:.3f}.", "",
             "| score bin | decided | upheld | share upheld | mean score |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.low:.1f}-{r.high:.1f} | {r.decided} | {r.confirmed} | {r.share:.3f} | "
                     f"{r.mean_score:.3f} |")
    return "\n".join(lines)
