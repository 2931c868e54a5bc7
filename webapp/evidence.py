"""What the match page shows as evidence, read from ``Match.signals`` (the scorer's JSON, see docs/matching.md).

Pure functions over plain data: the title cut into segments with the matched span marked and the
disguise named, photo pairs (listing photo, official photo, matched region as fractions of the listing
photo), the price against MSRP in the MSRP's currency, and the seller against the authorised sellers.
Signals from older scorers (or missing keys) give less evidence, never an error.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

#: How each normalisation step the mark finder needed is named to an analyst.
DISGUISES = {
    "zero_width": "invisible characters",
    "compat": "full-width or styled letters",
    "accents": "added accents",
    "confusables": "look-alike letters from other alphabets",
    "confusables_I": "I and l swapped",
    "leetspeak": "digits for letters",
    "separators": "separators inside the name",
    "repeats": "repeated letters",
    "spacing": "letters spaced apart",
}
KINDS = {"joined": "joined to other words", "piece": "inside a longer word", "spaced": "letters spaced apart"}
#: Names of ``Evidence.disguise`` values (``matches.evidence``, see /docs/matching.md) for analysts.
EVIDENCE_DISGUISES = {
    "homoglyphs": "look-alike letters from other alphabets", "leetspeak": "digits for letters",
    "spacing": "letters spaced apart", "zero_width": "invisible characters", "misspelling": "misspelt",
    "joined_words": "joined to other words", "separators": "separators inside the name",
    "repeats": "repeated letters", "styled_letters": "full-width or styled letters", "accents": "added accents",
}
IMAGE_KINDS = {"same_photo": "the same photo", "edited_copy": "an edited copy",
               "same_packaging": "a new photo of the brand's packaging", "similar_style": "a similar photo"}
MAX_TITLE = 500  # characters of a title shown


@dataclass(frozen=True)
class Segment:
    text: str
    #: The mark this piece of text was matched with (None: plain text).
    mark: str | None = None


@dataclass(frozen=True)
class MarkFinding:
    field: str
    mark: str
    text: str
    disguise: str | None
    #: The scorer's sentence, when the finding comes from the stored evidence.
    sentence: str | None = None


@dataclass(frozen=True)
class PhotoPair:
    """A listing photo beside the official photo it matched; ``region`` is (left, top, right, bottom) in
    fractions of the listing photo, or None when the signal located no region."""

    listing_sha: str | None
    reference_sha: str | None
    reference_label: str
    method: str
    strength: float
    region: tuple[float, float, float, float] | None
    detail: str


def disguise_of(mark: Mapping[str, Any]) -> str | None:
    """A short name for how the mark was disguised, or None when it was written plainly."""
    parts = [DISGUISES.get(c, c.replace("_", " ")) for c in sorted(mark.get("changes") or []) if isinstance(c, str)]
    kind = mark.get("kind")
    if isinstance(kind, str) and kind in KINDS and KINDS[kind] not in parts:
        parts.append(KINDS[kind])
    edits = mark.get("edits")
    if isinstance(edits, int) and edits > 0:
        parts.append(f"misspelt ({edits} edit{'s' if edits > 1 else ''})")
    return ", ".join(parts) or None


def _evidence(evidence: Any, signal: str) -> list[Mapping[str, Any]]:
    """The stored evidence items (``matches.evidence``, a list of dicts) of one signal; [] for old rows."""
    if not isinstance(evidence, Sequence) or isinstance(evidence, str):
        return []
    return [e for e in evidence if isinstance(e, Mapping) and e.get("signal") == signal]


def mark_findings(signals: Mapping[str, Any], evidence: Any = None) -> list[MarkFinding]:
    """The marks found, from the stored evidence when the row has it, else from the older ``signals``."""
    out = []
    for e in _evidence(evidence, "mark"):
        details = e.get("details") if isinstance(e.get("details"), Mapping) else {}
        spans = [sp for sp in e.get("spans") or [] if isinstance(sp, Mapping)]
        disguise = e.get("disguise")
        out.append(MarkFinding(str(spans[0].get("field")) if spans else "?", str(details.get("mark") or "?"), "",
                               EVIDENCE_DISGUISES.get(disguise, str(disguise).replace("_", " ")) if disguise
                               else None, str(e.get("reason") or "")[:500]))
    if out:
        return out
    for m in signals.get("marks") or []:
        if isinstance(m, Mapping) and isinstance(m.get("mark"), str):
            out.append(MarkFinding(str(m.get("field") or "?"), m["mark"], str(m.get("text") or ""), disguise_of(m)))
    return out


def _fold(text: str) -> str:
    return "".join(ch.lower() for ch in text)


def title_segments(title: str | None, signals: Mapping[str, Any], evidence: Any = None) -> list[Segment]:
    """The title cut at the spans where a mark was found: the stored evidence's title spans ([start, end)
    offsets into the stored title) when the row has them, else the first case-insensitive occurrence of
    the older ``signals["marks"][].text``."""
    title = (title or "")[:MAX_TITLE]
    spans: list[tuple[int, int, str]] = []
    for e in evidence if isinstance(evidence, Sequence) and not isinstance(evidence, str) else []:
        if not isinstance(e, Mapping):
            continue
        details = e.get("details") if isinstance(e.get("details"), Mapping) else {}
        label = str(details.get("mark") or e.get("signal") or "evidence")
        for sp in e.get("spans") or []:
            if (isinstance(sp, Mapping) and sp.get("field") == "title" and isinstance(sp.get("start"), int)
                    and isinstance(sp.get("end"), int) and 0 <= sp["start"] < sp["end"] <= len(title)):
                spans.append((sp["start"], sp["end"], label))
    for m in [] if spans else signals.get("marks") or []:
        if not isinstance(m, Mapping) or m.get("field") != "title" or not isinstance(m.get("mark"), str):
            continue
        span = m.get("span")
        if (isinstance(span, Sequence) and len(span) == 2 and all(isinstance(v, int) for v in span)
                and 0 <= span[0] < span[1] <= len(title)):
            spans.append((span[0], span[1], m["mark"]))
            continue
        text = str(m.get("text") or "").strip()
        if text:
            at = _fold(title).find(_fold(text))
            if at >= 0:
                spans.append((at, at + len(text), m["mark"]))
    segments: list[Segment] = []
    pos = 0
    for start, end, mark in sorted(spans):
        if start < pos:
            continue  # overlapping spans: the first wins
        if start > pos:
            segments.append(Segment(title[pos:start]))
        segments.append(Segment(title[start:end], mark))
        pos = end
    if pos < len(title):
        segments.append(Segment(title[pos:]))
    return segments


def invisible_characters(text: str | None) -> int:
    """How many format characters (zero-width, bidi controls) the text hides."""
    return sum(1 for ch in text or "" if unicodedata.category(ch) == "Cf")


def _region(value: Any) -> tuple[float, float, float, float] | None:
    if not isinstance(value, Sequence) or len(value) != 4:
        return None
    try:
        left, top, right, bottom = (min(1.0, max(0.0, float(v))) for v in value)
    except (TypeError, ValueError):
        return None
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def photo_pairs(signals: Mapping[str, Any], listing_photos: Sequence[str], references: Mapping[str, tuple[str, str]],
                evidence: Any = None) -> list[PhotoPair]:
    """Pairs from the stored image evidence (its regions), else from the older ``signals["images"]``:
    the image number is the listing photo's (1-based, in the order of ``listing_photos``), ``ref_id`` an
    id of ``references`` (ref id -> (sha256, label))."""
    pairs = []
    for e in _evidence(evidence, "image"):
        details = e.get("details") if isinstance(e.get("details"), Mapping) else {}
        strength = e.get("strength")
        for region in e.get("regions") or []:
            if not isinstance(region, Mapping):
                continue
            number = region.get("image_no")
            listing_sha = listing_photos[number - 1] \
                if isinstance(number, int) and 0 < number <= len(listing_photos) else None
            ref_sha, label = references.get(str(region.get("ref_id")), (None, "official photo"))
            # Each pair says how it is alike; evidence stored before regions kept that has the best pair's only.
            kind = region.get("kind") or details.get("kind")
            pairs.append(PhotoPair(listing_sha, ref_sha, label, IMAGE_KINDS.get(kind, str(kind or "image")),
                                   float(strength) if isinstance(strength, int | float) else 0.0,
                                   _region(region.get("listing_box")),
                                   str(region.get("note") or e.get("reason") or "")[:300]))
    if pairs:
        return pairs
    for hit in signals.get("images") or []:
        if not isinstance(hit, Mapping):
            continue
        number = hit.get("image")
        listing_sha = listing_photos[number - 1] if isinstance(number, int) and 0 < number <= len(listing_photos) \
            else None
        ref_sha, label = references.get(str(hit.get("ref_id")), (None, str(hit.get("ref") or "official photo")))
        method = str(hit.get("method") or "image")
        if method == "keypoints":
            detail = f"{hit.get('inliers', '?')} matching keypoints"
            if hit.get("mirrored"):
                detail += ", mirrored"
        else:
            distances = hit.get("distances") if isinstance(hit.get("distances"), Mapping) else {}
            detail = ", ".join(f"{k} {v}" for k, v in sorted(distances.items())) or method
        strength = hit.get("strength")
        pairs.append(PhotoPair(listing_sha, ref_sha, label, method,
                               float(strength) if isinstance(strength, int | float) else 0.0,
                               _region(hit.get("region")), detail))
    return pairs


@dataclass(frozen=True)
class PriceView:
    listing: str | None
    #: The listing price in the MSRP's currency (from the scorer's ratio), when known.
    converted: str | None
    msrp: str | None
    percent: int | None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def price_view(price: Decimal | None, currency: str | None, signals: Mapping[str, Any],
               msrp: Decimal | None, msrp_currency: str | None) -> PriceView:
    listing = f"{price:.2f} {currency or ''}".strip() if price is not None else None
    info = signals.get("price") if isinstance(signals.get("price"), Mapping) else {}
    ratio = info.get("ratio") if isinstance(info.get("ratio"), int | float) else None
    msrp = _decimal(info.get("msrp")) or msrp
    msrp_currency = info.get("msrp_currency") or msrp_currency
    msrp_text = f"{msrp:.2f} {msrp_currency or ''}".strip() if msrp is not None else None
    converted = percent = None
    if ratio is not None and msrp is not None:
        converted = f"{msrp * Decimal(str(ratio)):.2f} {msrp_currency or ''}".strip()
        percent = round(ratio * 100)
    return PriceView(listing, converted, msrp_text, percent)


def seller_verdict(signals: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(status, authorised name it resembles) from ``signals["seller"]``."""
    info = signals.get("seller") if isinstance(signals.get("seller"), Mapping) else {}
    status = info.get("status") if isinstance(info.get("status"), str) else None
    name = info.get("authorized_name") if isinstance(info.get("authorized_name"), str) else None
    return status, name
