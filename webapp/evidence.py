"""What the match page shows as evidence, read from the match's typed :class:`~matching.evidence.Evidence`.

Pure functions over plain data: the title cut into segments with the matched span marked, the marks found
with their disguise named (:func:`matching.evidence.disguise_name`, the one vocabulary), photo pairs
(listing photo, official photo, matched region as fractions of the listing photo), the price against MSRP
in the MSRP's currency (the price evidence's details), and the seller's verdict (the seller and
authorized-seller evidence). ``views.match`` reads ``matches.evidence`` once with
:func:`matching.evidence.evidence_from_json`; rows without evidence show less, never an error.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from matching.evidence import Box, Evidence, disguise_name, image_kind_name

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
    #: The text the mark was found in (the first span's, bounded).
    text: str
    disguise: str | None
    #: The scorer's sentence.
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


def _of(evidence: Sequence[Evidence], signal: str) -> list[Evidence]:
    return [e for e in evidence if e.signal == signal]


def _field_text(texts: Mapping[str, str | None], field: str, start: int, end: int) -> str:
    text = texts.get(field) or ""
    return text[start:end][:200] if 0 <= start < end <= len(text) else ""


def mark_findings(evidence: Sequence[Evidence], texts: Mapping[str, str | None] | None = None) -> list[MarkFinding]:
    """The marks found; ``texts`` are the listing's fields by name (``title``, ``description``...)."""
    out = []
    for e in _of(evidence, "mark"):
        span = e.spans[0] if e.spans else None
        text = _field_text(texts or {}, span.field, span.start, span.end) if span else ""
        out.append(MarkFinding(span.field if span else "?", str(e.details.get("mark") or "?"), text,
                               disguise_name(e.disguise), e.reason[:500] or None))
    return out


def title_segments(title: str | None, evidence: Sequence[Evidence]) -> list[Segment]:
    """The title cut at the evidence's title spans ([start, end) offsets into the stored title)."""
    title = (title or "")[:MAX_TITLE]
    spans: list[tuple[int, int, str]] = []
    for e in evidence:
        label = str(e.details.get("mark") or e.signal)
        for sp in e.spans:
            if sp.field == "title" and 0 <= sp.start < sp.end <= len(title):
                spans.append((sp.start, sp.end, label))
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


def _region(box: Box | None) -> tuple[float, float, float, float] | None:
    if box is None:
        return None
    left, top, right, bottom = (min(1.0, max(0.0, float(v))) for v in box)
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def photo_pairs(evidence: Sequence[Evidence], listing_photos: Sequence[str],
                references: Mapping[str, tuple[str, str]]) -> list[PhotoPair]:
    """Pairs from the image evidence's regions: ``image_no`` is the listing photo's (1-based, in the order of
    ``listing_photos``), ``ref_id`` an id of ``references`` (ref id -> (sha256, label))."""
    pairs = []
    for e in _of(evidence, "image"):
        for region in e.regions:
            number = region.image_no
            listing_sha = listing_photos[number - 1] if 0 < number <= len(listing_photos) else None
            ref_sha, label = references.get(region.ref_id, (None, "official photo"))
            # Each pair says how it is alike; evidence stored before regions kept that has the best pair's only.
            kind = region.kind or e.details.get("kind")
            pairs.append(PhotoPair(listing_sha, ref_sha, label, image_kind_name(kind if isinstance(kind, str)
                                                                                 else None),
                                   e.strength, _region(region.listing_box), (region.note or e.reason)[:300]))
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


def price_view(price: Decimal | None, currency: str | None, evidence: Sequence[Evidence],
               msrp: Decimal | None, msrp_currency: str | None) -> PriceView:
    """The listing's price beside the MSRP; the ratio (and the MSRP it was taken against) from the price
    evidence, when the scorer compared them."""
    listing = f"{price:.2f} {currency or ''}".strip() if price is not None else None
    info = next((e.details for e in _of(evidence, "price")), {})
    ratio = info.get("ratio") if isinstance(info.get("ratio"), int | float) else None
    msrp = _decimal(info.get("msrp")) or msrp
    msrp_currency = info.get("msrp_currency") or msrp_currency
    msrp_text = f"{msrp:.2f} {msrp_currency or ''}".strip() if msrp is not None else None
    converted = percent = None
    if ratio is not None and msrp is not None:
        converted = f"{msrp * Decimal(str(ratio)):.2f} {msrp_currency or ''}".strip()
        percent = round(ratio * 100)
    return PriceView(listing, converted, msrp_text, percent)


def seller_verdict(evidence: Sequence[Evidence]) -> tuple[str | None, str | None]:
    """(status, authorised name it resembles): ``authorized`` from the authorized-seller evidence,
    ``imitation`` from the seller evidence; (None, None) when the scorer had nothing to say of the seller."""
    for signal, status in (("authorized_seller", "authorized"), ("seller", "imitation")):
        for e in _of(evidence, signal):
            name = e.details.get("authorized_name")
            return status, name if isinstance(name, str) and name else None
    return None, None
