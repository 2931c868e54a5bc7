"""Wording signals: replica and dupe talk (support), nominative and resale wording (limits).

Replica and dupe wording speak about a brand only when the listing already points at it clearly
(``strong``: a mark or copied photo of strength at least 0.5), and dupe wording only when one of the brand's
marks is what it likens the product to (:func:`tied_dupe_wording`); the word lists are in
:mod:`matching.wording`.
"""

from __future__ import annotations

from core.text import quoted
from matching.evidence import Evidence
from matching.signals.base import BrandView, ListingView
from matching.signals.text import mentions_mark
from matching.wording import WordingHit, dupe_object

__all__ = ["dupe_evidence", "nominative_evidence", "replica_evidence", "resale_evidence", "tied_dupe_wording"]


def replica_evidence(brand: BrandView, *, replica: list[WordingHit], strong: bool) -> Evidence | None:
    """``replica`` (weight ``replica_weight``) when the listing says it is a copy and points at the brand."""
    if not (strong and replica):
        return None
    return Evidence("replica", brand.config.replica_weight,
                    f"replica wording: {', '.join(quoted(h.text, 30) for h in replica[:3])}",
                    details={"words": [h.text[:40] for h in replica[:5]]})


def tied_dupe_wording(view: ListingView, brand: BrandView, dupe: list[WordingHit]) -> list[WordingHit]:
    """The dupe wording that is about this brand: one of its marks within ``dupe_tie_window`` words after it
    ("inspired by Fullips", "alternative to the Fullips plumper"), or on either side of a bare "dupe" or
    "look-alike" ("Fullips dupe"). "A creamy alternative to yoghurt" likens the product to a category, not to a
    brand, whatever brand the rest of the listing points at."""
    window = brand.config.dupe_tie_window
    tied = []
    for hit in dupe:
        before, after = dupe_object(view.loose, hit, words=window)
        if mentions_mark(after, brand, max_words=window) or (before and mentions_mark(before, brand,
                                                                                         max_words=window)):
            tied.append(hit)
    return tied


def dupe_evidence(brand: BrandView, *, dupe: list[WordingHit], mark: Evidence | None, strong: bool
                  ) -> Evidence | None:
    """``dupe`` (weight ``dupe_weight``) for dupe wording tied to the brand (:func:`tied_dupe_wording`), or
    "<mark> style" right after the mark."""
    style = mark.details.get("style") if mark is not None else None
    if not strong or not (dupe or style):
        return None
    words = [h.text for h in dupe] + ([f"{mark.details['mark']} {style}"] if style and mark is not None else [])
    return Evidence("dupe", brand.config.dupe_weight,
                    f"dupe wording: {', '.join(quoted(w, 30) for w in words[:3])}",
                    details={"words": [w[:40] for w in words[:5]]})


def nominative_evidence(brand: BrandView, *, mark: Evidence | None, blocked: bool) -> Evidence | None:
    """``nominative`` when the best mark hit follows "compatible with", "case for", "refill for", "passend für"...
    and nothing says copy (``blocked``: replica or dupe wording, or seller imitation): the listing names the
    brand to say what its own product fits. Caps the score at ``nominative_cap``; class ``accessory``."""
    phrase = mark.details.get("nominative") if mark is not None else None
    if not phrase or blocked or mark is None:
        return None
    return Evidence("nominative", 0.0,
                    f"names the brand to describe its own product ({quoted(phrase, 30)} {mark.details['mark']})",
                    spans=mark.spans, details={"phrase": phrase})


def resale_evidence(brand: BrandView, *, resale: list[WordingHit], points_at_brand: bool, blocked: bool
                    ) -> Evidence | None:
    """``resale`` when the listing offers the brand's item second-hand or grey-market ("pre-owned", "like new",
    "gebraucht", "d'occasion", "usato", "二手", "parallel import") and nothing says copy (``blocked``). Caps the
    score at ``resale_cap``; class ``resale``."""
    if not resale or not points_at_brand or blocked:
        return None
    return Evidence("resale", 0.0,
                    f"offers a genuine {brand.profile.name} item second-hand or grey-market: "
                    f"{', '.join(quoted(h.text, 30) for h in resale[:3])}",
                    details={"words": [h.text[:40] for h in resale[:5]]})
