"""Wording that changes what a brand mention means: replica and dupe talk, and nominative uses.

All patterns run on :func:`matching.normalize.loose_text` (case-folded, accents stripped, look-alike
letters folded), so ``RÉPLICA`` and ``réplica`` are one pattern. The lists are generic trade vocabulary in
several languages, not any brand's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NOMINATIVE_BEFORE", "WordingHit", "find_dupe_wording", "find_replica_wording", "nominative_phrase",
           "style_after"]

# Counterfeit-trade wording: the listing says it is a copy of the real thing.
_REPLICA_PATTERNS: tuple[tuple[str, str], ...] = (
    ("replica", r"\breplicas?\b|\brepl?ika\b|\breplique\b|\brepliche\b"),
    ("1:1", r"(?<![\d.,])1\s*[:：]\s*1(?![\d.,:])|\b1\s*to\s*1\b|\bone\s+to\s+one\b|1\s*比\s*1|一比一"),
    ("AAA", r"\baaa\+?(?:\s+(?:quality|grade))?(?=\W|$)|\bgrade\s+a+\b|\ba\+{2,}"),
    ("mirror quality", r"\bmirror\s+(?:quality|copy|grade|image\s+quality)\b"),
    ("top copy", r"\b(?:top|high|super|master|best|premium|original)\s+(?:quality\s+)?cop(?:y|ies)\b"),
    ("knock-off", r"\bknock[\s-]?offs?\b"),
    ("imitation", r"\bimitations?\b|\bimitacion\b|\bimitacao\b|\bimitazione\b"),
    ("Nachbildung", r"\bnachbildung\b|\bfalschung\b|\bkopie\b|\bnachgemacht\b"),
    ("copie", r"\bcopie\b|\bcontrefacon\b|\bcopia\b|\bfalsificacion\b|\bfalso\b"),
    ("unbranded copy", r"\bunbranded\s+(?:copy|version)\b|\bsame\s+factory\b|\boem\s+(?:copy|quality)\b"),
    ("same as original", r"\bsame\s+as\s+(?:the\s+)?original\b|\bidentical\s+to\s+(?:the\s+)?original\b"
                         r"|\blooks\s+identical\b|\bindistinguishable\b"),
    ("高仿", r"高仿|精仿|复刻|仿品|仿制|a货|原单"),
    ("реплика", r"реплика|копия|подделка"),
    ("レプリカ", r"レプリカ|コピー品"),
)

# Look-alike-trade wording: the listing sells its own product by likening it to the brand.
_DUPE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("dupe", r"\bdupes?\b|\bduped\b"),
    ("inspired by", r"\binspired\s+by\b|\binspire\s+(?:de|par)\b|\binspirado\s+en\b|\binspiriert\s+von\b"
                    r"|\bispirato\s+a\b"),
    ("alternative to", r"\balternatives?\s+(?:to|for)\b"),
    ("smells like", r"\b(?:smells|looks|feels|works)\s+(?:just\s+)?like\b"),
    ("similar to", r"\bsimilar\s+to\b|\bcompare\s+to\b|\bcomparable\s+to\b|\bahnlich\s+wie\b"),
    ("look-alike", r"\blook[\s-]?alikes?\b|\bversion\s+of\b"),
    ("better than", r"\b(?:better|cheaper)\s+than\b|\bfraction\s+of\s+the\s+(?:price|cost)\b"),
    ("平替", r"平替|同款"),
    ("аналог", r"аналог"),
)

#: Phrases that, right before a mark, make it a nominative use: the listing names the brand to say what its
#: own product fits (lawful), not to pass as the brand.
NOMINATIVE_BEFORE: tuple[str, ...] = (
    "compatible with", "compatible for", "compatible", "works with", "for use with", "fits", "fit for",
    "fits for", "made for", "designed for", "suitable for", "replacement for", "replacement",
    "case for", "cover for", "refill for", "refills for", "strap for", "charger for", "holder for",
    "stand for", "skin for", "protector for", "parts for", "accessory for", "accessories for", "for",
    "kompatibel mit", "passend fur", "fur", "compatible con", "compatible avec", "pour", "para",
    "compatibile con", "per", "adapte a", "adapte pour",
)

_NOMINATIVE_RE = re.compile(
    r"(?:^|\s)(" + "|".join(re.escape(p) for p in sorted(NOMINATIVE_BEFORE, key=len, reverse=True)) + r")\s*$"
)
_STYLE_AFTER_RE = re.compile(r"^\s*[-‐]?\s*(style|styled|type|inspired|like|esque|alike|look)\b")
_COMPILED_REPLICA = tuple((name, re.compile(p)) for name, p in _REPLICA_PATTERNS)
_COMPILED_DUPE = tuple((name, re.compile(p)) for name, p in _DUPE_PATTERNS)


@dataclass(frozen=True, slots=True)
class WordingHit:
    """A wording pattern found: its family name and the matched text."""

    name: str
    text: str


def _find(patterns: tuple[tuple[str, re.Pattern[str]], ...], loose: str) -> list[WordingHit]:
    hits = []
    for name, pattern in patterns:
        match = pattern.search(loose)
        if match:
            hits.append(WordingHit(name, match.group().strip()))
    return hits


def find_replica_wording(loose: str) -> list[WordingHit]:
    """Replica wording in a loose text ("replica", "1:1", "AAA", "réplica", "高仿", ...)."""
    return _find(_COMPILED_REPLICA, loose)


def find_dupe_wording(loose: str) -> list[WordingHit]:
    """Dupe wording in a loose text ("dupe", "inspired by", "alternative to", ...)."""
    return _find(_COMPILED_DUPE, loose)


def nominative_phrase(before: str) -> str | None:
    """The nominative phrase ending ``before`` (the loose text right before a mark), or None.

    ``nominative_phrase("silicone case for")`` -> ``"case for"``."""
    match = _NOMINATIVE_RE.search(before[-40:])
    return match.group(1) if match else None


def style_after(after: str) -> str | None:
    """``"style"``, ``"type"``, ... when the loose text right after a mark likens a product to it."""
    match = _STYLE_AFTER_RE.match(after[:20])
    return match.group(1) if match else None
