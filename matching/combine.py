"""From evidence to a score and a class.

:func:`combine` is a noisy-OR of the identifying and supporting evidence (the strongest piece of each
signal counts once), ``score = 1 - prod(1 - strength)``, then the limits:

========================  =====================================================================  ==================
limit                     effect                                                                 lifted by
========================  =====================================================================  ==================
``weak_mark``             score at most ``weak_mark_cap``                                        a copied photo, the mark in a photo, seller imitation,
                                                                                                 replica or dupe wording, each at least
                                                                                                 ``corroboration_min`` strong; a price far below MSRP
``other_maker``           score at most ``other_maker_cap``                                      (not raised next to a firm mark of this brand)
``nominative``            score at most ``nominative_cap`` (class ``accessory``)                 (the signal is not raised next to replica, dupe or
                                                                                                 seller imitation)
``resale``                score at most ``resale_cap`` (class ``resale``)                        (not raised next to replica or dupe wording)
``authorized_seller``     score times ``authorized_factor`` (class ``clean``)                    nothing
``other_goods``           none: below the verdict threshold the class is ``other_goods``         (not raised beside the brand's context words)
========================  =====================================================================  ==================

:func:`classify` reads the class from the score and the evidence. Both are pure and deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from matching.config import MatchConfig
from matching.evidence import IDENTIFIES, LIMITS, SUPPORTS, Evidence

__all__ = ["CORROBORATING", "classify", "combine", "strongest"]

#: Signals that corroborate a weak mark hit (see the module table).
CORROBORATING = frozenset({"image", "photo_text", "seller", "price", "replica", "dupe"})
_LIFTED_BY = {
    "weak_mark": CORROBORATING,
    "other_maker": frozenset(),
    "nominative": frozenset(),
    "resale": frozenset(),
    "authorized_seller": frozenset(),
}


def strongest(evidence: Iterable[Evidence]) -> dict[str, float]:
    """The strongest strength per signal."""
    best: dict[str, float] = {}
    for item in evidence:
        if item.strength > best.get(item.signal, -1.0):
            best[item.signal] = item.strength
    return best


def _present(evidence: Sequence[Evidence], config: MatchConfig) -> set[str]:
    """Signals that can lift a limit: price at any strength (it counts only where the listing already points
    at the brand), the others from ``corroboration_min``: a doubtful photo does not make a weak hit firm."""
    return {e.signal for e in evidence if e.role != LIMITS and e.strength > 0
            and (e.signal == "price" or e.strength >= config.corroboration_min)}


def combine(evidence: Sequence[Evidence], config: MatchConfig) -> float:
    """The score in [0, 1] of one (listing, brand) pair, rounded to 4 decimals (see the module doc)."""
    strengths = strongest(e for e in evidence if e.role in (IDENTIFIES, SUPPORTS))
    remaining = 1.0
    for value in strengths.values():
        remaining *= 1.0 - value
    score = 1.0 - remaining
    present = _present(evidence, config)
    for item in evidence:
        if item.role != LIMITS or present & _LIFTED_BY.get(item.signal, frozenset()):
            continue
        if item.signal == "weak_mark":
            score = min(score, config.weak_mark_cap)
        elif item.signal == "other_maker":
            score = min(score, config.other_maker_cap)
        elif item.signal == "nominative":
            score = min(score, config.nominative_cap)
        elif item.signal == "resale":
            score = min(score, config.resale_cap)
        elif item.signal == "authorized_seller":
            score *= config.authorized_factor
    return round(max(0.0, min(1.0, score)), 4)


def classify(evidence: Sequence[Evidence], score: float, config: MatchConfig) -> str:
    """The class of the pair: ``clean`` for an authorized seller; ``lookalike`` (dupe wording and no replica
    wording) or ``counterfeit`` at or above ``infringing_threshold``; below it ``accessory`` (nominative use),
    ``resale`` (second-hand or grey-market wording), ``other_goods`` (the brand's coined mark word for word on
    goods it does not sell: never dropped as clean, an analyst decides) or ``clean``."""
    signals = {e.signal for e in evidence}
    if "authorized_seller" in signals:
        return "clean"
    if score >= config.infringing_threshold:
        return "lookalike" if "dupe" in signals and "replica" not in signals else "counterfeit"
    if "nominative" in signals:
        return "accessory"
    if "resale" in signals:
        return "resale"
    if "other_goods" in signals:
        return "other_goods"
    return "clean"
