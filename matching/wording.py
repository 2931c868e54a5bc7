"""Wording that changes what a brand mention means: replica and dupe talk, and nominative uses.

All patterns run on :func:`matching.normalize.loose_text` (case-folded, accents stripped, look-alike
letters folded), so ``RÉPLICA`` and ``réplica`` are one pattern. The lists are generic trade vocabulary in
several languages, not any brand's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DUPE_EITHER_SIDE", "NOMINATIVE_BEFORE", "WordingHit", "dupe_object", "find_dupe_wording", "find_maker_names", "find_replica_wording",
           "find_resale_wording", "nominative_phrase", "style_after"]

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

# Resale wording: the listing offers a genuine item second-hand, or a genuine item imported outside the
# brand's own channels (grey market). Lawful in itself; a notice against it costs the brand its standing.
_RESALE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("pre-owned", r"\bpre[\s-]?owned\b|\bpre[\s-]?loved\b|\bpreviously\s+owned\b"),
    ("used", r"\b(?:gently|lightly|barely|hardly|slightly)\s+used\b|\bused\s+(?:once|twice|a\s+few\s+times|"
             r"condition|item|but|in\s+(?:good|great|excellent)|only)\b|\bused\b(?=\s*[-,:;(]\s*"
             r"(?:good|great|excellent|fair|very\s+good|like\s+new|genuine|authentic))|^used\b|\(used\)"),
    ("second-hand", r"\bsecond[\s-]?hand\b|\bsecondhand\b|\b2nd[\s-]?hand\b"),
    ("like new", r"\blike[\s-]new\b|\bas\s+new\b|\bworn\s+(?:once|twice)\b|\bopen(?:ed)?[\s-]box\b"
                 r"|\bbarely\s+worn\b|\bnear\s+mint\b"),
    ("private sale", r"\breceipt\s+included\b|\bno\s+longer\s+(?:use|need|wear)\b|\bbought\s+(?:from|at)\b"
                     r"|\bprivatverkauf\b|\bkeine\s+garantie\b|\bgekauft\s+(?:bei|in)\b"
                     r"|\bvente\s+entre\s+particuliers\b|\bachete\s+(?:chez|a)\b|\bventa\s+entre\s+particulares\b"
                     r"|\bcomprado\s+en\b|\bacquistato\s+(?:da|presso)\b|\bvendita\s+tra\s+privati\b"),
    ("grey market", r"\bgr[ae]y[\s-](?:market|import)\b|\bparallel[\s-]import(?:ed)?\b"
                    r"|\b(?:eu|us|uk|asia|asian|japan|jp|intl|international|parallel|grey|gray)[\s-]import\b"
                    r"|\bimportacion\b|\bimportazione\b|\bimportiert\b|\bimportation\b|\bimportad[oa]\b"
                    r"|\bimportat[oa]\b|\bimport\s+(?:japon|japan|giappone|usa|asie|asia|uk|eu|ue)\b"
                    r"|\bsin\s+garantia\b|\bsans\s+garantie\b|\bsenza\s+garanzia\b"
                    r"|\bimported\s+(?:from|version)\b|\b(?:eu|us|uk|asia|japan|intl|international)\s+version\b"
                    r"|\bnon[\s-]?eu\s+import\b"),
    ("gebraucht", r"\bgebraucht\b|\bgetragen\b|\bneuwertig\b|\bwie\s+neu\b|\bgebrauchtware\b"
                  r"|\bzweite\s+hand\b|\bre-?import\b|\bgraumarkt\b"),
    ("d'occasion", r"\bd\W?occasion\b|\boccasion\b|\bseconde\s+main\b|\bcomme\s+neuf\b|\bporte\s+une\s+fois\b"
                   r"|\bimportation\s+parallele\b"),
    ("usato", r"\busato\b|\busata\b|\bseminuov[oa]\b|\bcome\s+nuov[oa]\b|\bdi\s+seconda\s+mano\b"),
    ("usado", r"\busad[oa]\b|\bseminuev[oa]\b|\bcomo\s+nuev[oa]\b|\bde\s+segunda\s+mano\b|\bseminovo\b"),
    ("tweedehands", r"\btweedehands\b|\bgebruikt\b|\bzo\s+goed\s+als\s+nieuw\b"),
    ("używany", r"\buzywan[ya]\b|\bz\s+drugiej\s+reki\b"),
    ("б/у", r"(?<!\w)б/у(?!\w)|подержанн|\bбывш\w*\s+в\s+употреблении"),
    ("中古", r"中古|二手|闲置|九成新|中古品"),
)

#: Phrases that, right before a mark, make it a nominative use: the listing names the brand to say what its
#: own product fits (lawful), not to pass as the brand.
NOMINATIVE_BEFORE: tuple[str, ...] = (
    "compatible with", "compatible for", "compatible", "works with", "for use with", "fits", "fit for",
    "fits for", "made for", "designed for", "suitable for", "replacement for", "replacement",
    "case for", "cover for", "refill for", "refills for", "strap for", "charger for", "holder for",
    "stand for", "skin for", "protector for", "parts for", "accessory for", "accessories for", "for",
    "kompatibel mit", "kompatibel", "passend fur", "fur", "ersatz fur", "ersatzteil fur", "nachfullung fur",
    "nachfullpack fur", "compatible con", "compatible avec", "pour", "para", "recharge pour", "remplacement pour",
    "piece pour", "recambio para", "repuesto para", "recarga para", "compatibile con", "compatibile", "per",
    "ricarica per", "ricambio per", "adatto a", "adatto per", "adapte a", "adapte pour", "voor", "geschikt voor",
    "compatibel met", "vervanging voor", "vervangingsonderdeel voor", "navulling voor", "navulverpakking voor",
    "ricarica compatibile", "ricambio compatibile", "recarga compatible", "recharge compatible",
)

_NOMINATIVE_RE = re.compile(
    r"(?:^|\s)(" + "|".join(re.escape(p) for p in sorted(NOMINATIVE_BEFORE, key=len, reverse=True)) + r")\s*$"
)
_STYLE_AFTER_RE = re.compile(r"^\s*[-‐]?\s*(style|styled|type|inspired|like|esque|alike|look)\b")
_COMPILED_RESALE = tuple((name, re.compile(p)) for name, p in _RESALE_PATTERNS)
# A maker named by the listing itself: "brand: X", "by X", "made by X", "Marke: X", "marque : X"...
_MAKER_RE = re.compile(
    r"(?:^|[\s(\[|,;.])(?:(?:brand|maker|manufacturer|marke|hersteller|marque|fabricant|marca|fabricante|merk"
    r"|fabrikant|marchio|produttore|бренд|производитель)\s*[:：]|(?:made|manufactured|produced)\s+by"
    r"|(?:product|products|item|goods)\s+(?:from|of)|hergestellt\s+von|fabrique\s+par|fabricado\s+por"
    r"|prodotto\s+da)\s*"
    r"([^\s,;.|()\[\]]+(?:\s+[^\s,;.|()\[\]]+)?)"
)
_COMPILED_REPLICA = tuple((name, re.compile(p)) for name, p in _REPLICA_PATTERNS)
_COMPILED_DUPE = tuple((name, re.compile(p)) for name, p in _DUPE_PATTERNS)


#: Dupe wording that may stand on either side of what it likens the product to ("Fullips dupe", "dupe of
#: Fullips"); the other families name it after them ("inspired by Fullips", "alternative to Fullips").
DUPE_EITHER_SIDE = frozenset({"dupe", "look-alike", "平替", "аналог"})


@dataclass(frozen=True, slots=True)
class WordingHit:
    """A wording pattern found: its family name, the matched text and where it sits in the loose text
    (``[start, end)``)."""

    name: str
    text: str
    start: int = 0
    end: int = 0


def _find(patterns: tuple[tuple[str, re.Pattern[str]], ...], loose: str) -> list[WordingHit]:
    hits = []
    for name, pattern in patterns:
        match = pattern.search(loose)
        if match:
            hits.append(WordingHit(name, match.group().strip(), match.start(), match.end()))
    return hits


def _find_all(patterns: tuple[tuple[str, re.Pattern[str]], ...], loose: str, *, limit: int = 8
              ) -> list[WordingHit]:
    hits = []
    for name, pattern in patterns:
        for match in pattern.finditer(loose):
            hits.append(WordingHit(name, match.group().strip(), match.start(), match.end()))
            if len(hits) >= limit:
                return hits
    return hits


def find_replica_wording(loose: str) -> list[WordingHit]:
    """Replica wording in a loose text ("replica", "1:1", "AAA", "réplica", "高仿", ...)."""
    return _find(_COMPILED_REPLICA, loose)


def find_dupe_wording(loose: str) -> list[WordingHit]:
    """Dupe wording in a loose text ("dupe", "inspired by", "alternative to", ...): every occurrence (at most
    eight), so that each can be tied to what follows it (:func:`dupe_object`)."""
    return _find_all(_COMPILED_DUPE, loose)


def dupe_object(loose: str, hit: WordingHit, *, words: int) -> tuple[str, str]:
    """The text dupe wording is about: up to ``words`` words after it, and for the families of
    :data:`DUPE_EITHER_SIDE` also up to ``words`` words before it (else ``""``)."""
    after = " ".join(loose[hit.end :].split()[:words])
    before = " ".join(loose[: hit.start].split()[-words:]) if hit.name in DUPE_EITHER_SIDE else ""
    return before, after


def find_resale_wording(loose: str) -> list[WordingHit]:
    """Second-hand or grey-market wording in a loose text ("pre-owned", "like new", "gebraucht", "d'occasion",
    "usato", "二手", "parallel import", ...)."""
    return _find(_COMPILED_RESALE, loose)


def find_maker_names(loose: str, *, limit: int = 4) -> list[str]:
    """Names a loose text gives as the product's maker ("brand: acme", "hersteller: acme gmbh", "made by acme",
    "quality product from acme"), at most
    ``limit``, each one or two words as written (loose form)."""
    return [m.group(1).strip(".:") for m in _MAKER_RE.finditer(loose[:4000])][:limit]


def nominative_phrase(before: str) -> str | None:
    """The nominative phrase ending ``before`` (the loose text right before a mark), or None.

    ``nominative_phrase("silicone case for")`` -> ``"case for"``."""
    match = _NOMINATIVE_RE.search(before[-40:])
    return match.group(1) if match else None


def style_after(after: str) -> str | None:
    """``"style"``, ``"type"``, ... when the loose text right after a mark likens a product to it."""
    match = _STYLE_AFTER_RE.match(after[:20])
    return match.group(1) if match else None
