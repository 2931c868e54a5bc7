"""Evidence: the one shape every matching signal returns, and its JSON form stored on a match.

A signal (:mod:`matching.signals`) looks at one listing and one brand and returns zero or more
:class:`Evidence` records; :func:`matching.combine.combine` and :func:`matching.combine.classify` turn
them into a score and a class. The review app highlights :attr:`Evidence.spans`, names
:attr:`Evidence.disguise` and draws :attr:`Evidence.regions`; the JSON form is what ``matches.evidence``
holds (a list of :meth:`Evidence.to_json` dicts).

Roles:

- ``identifies``: points at the brand by itself (a mark in the text, a copied official photo, the mark
  printed in a listing photo).
- ``supports``: makes identifying evidence more telling, never counts alone (replica or dupe wording, a
  price far below MSRP, a seller imitating an authorized seller, the brand's product words, one of the
  brand's own products shown).
- ``limits``: a lawful reading or a reason for doubt (compatible-with wording, second-hand wording, an
  authorized seller, another maker named, a mark found only inside an ordinary word, a coined mark on goods
  the brand does not sell).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "Box",
    "DISGUISE_NAMES",
    "IMAGE_KIND_NAMES",
    "LIMITS",
    "ROLES",
    "SIGNALS",
    "SUPPORTS",
    "IDENTIFIES",
    "Evidence",
    "ImageRegion",
    "TextSpan",
    "disguise_name",
    "evidence_from_json",
    "evidence_to_json",
    "image_kind_name",
    "reasons_of",
]

IDENTIFIES = "identifies"
SUPPORTS = "supports"
LIMITS = "limits"
ROLES = (IDENTIFIES, SUPPORTS, LIMITS)

#: Every signal name and its role.
SIGNALS: Mapping[str, str] = MappingProxyType({
    "mark": IDENTIFIES,
    "image": IDENTIFIES,
    "photo_text": IDENTIFIES,
    "replica": SUPPORTS,
    "dupe": SUPPORTS,
    "price": SUPPORTS,
    "seller": SUPPORTS,
    "context": SUPPORTS,
    "product": SUPPORTS,
    "nominative": LIMITS,
    "resale": LIMITS,
    "authorized_seller": LIMITS,
    "other_maker": LIMITS,
    "weak_mark": LIMITS,
    "other_goods": LIMITS,
})

#: What each mark disguise (``Evidence.disguise`` of a ``mark``, set by :mod:`matching.signals.text`) is called
#: for people: the review app, digests and the CLI name it from here. An image's disguise is already words
#: ("cropped", "part of a collage").
DISGUISE_NAMES: Mapping[str, str] = MappingProxyType({
    "homoglyphs": "look-alike letters from other alphabets",
    "leetspeak": "digits for letters",
    "spacing": "letters spaced apart",
    "zero_width": "invisible characters",
    "misspelling": "misspelt",
    "joined_words": "joined to other words",
    "separators": "separators inside the name",
    "repeats": "repeated letters",
    "styled_letters": "full-width or styled letters",
    "accents": "added accents",
})
#: How a listing photo is like an official one (``ImageRegion.kind``, the image evidence's ``details["kind"]``).
IMAGE_KIND_NAMES: Mapping[str, str] = MappingProxyType({
    "same_photo": "the same photo",
    "edited_copy": "an edited copy",
    "same_packaging": "a new photo of the pack, not a copy of the photo",
    "similar_style": "similar style only",
})

_TEXT_FIELDS = ("title", "brand", "description", "seller")
_MAX_REASON = 400
_MAX_SPANS = 8


@dataclass(frozen=True, slots=True)
class TextSpan:
    """Where evidence sits in the listing text: ``field`` is ``title``, ``brand``, ``description`` or
    ``seller``; ``[start, end)`` are character offsets into that field's text as the matcher received it."""

    field: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "start": self.start, "end": self.end}


Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class ImageRegion:
    """Where a copied photo sits: ``image_no`` is the 1-based listing image, ``ref_id`` the reference
    photo's id; boxes are ``(left, top, right, bottom)`` as fractions 0..1 of each image (None: unknown);
    ``kind`` and ``note`` say how this pair is alike (the evidence's ``reason`` is about its best pair only;
    None in evidence stored before they were kept)."""

    image_no: int
    ref_id: str
    listing_box: Box | None = None
    reference_box: Box | None = None
    kind: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"image_no": self.image_no, "ref_id": self.ref_id,
                "listing_box": _box_json(self.listing_box), "reference_box": _box_json(self.reference_box),
                "kind": self.kind, "note": self.note}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One finding about a (listing, brand) pair.

    ``strength`` is in [0, 1] after the signal's own factors; ``role`` is one of :data:`ROLES` (by default the
    role :data:`SIGNALS` gives ``signal``); ``reason`` is one sentence for a person, with listing text quoted
    and bounded; ``details`` is a JSON-able mapping specific to the signal (see ``docs/matching.md``).
    """

    signal: str
    strength: float
    reason: str
    role: str = ""
    spans: tuple[TextSpan, ...] = ()
    disguise: str | None = None
    regions: tuple[ImageRegion, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.signal not in SIGNALS:
            raise ValueError(f"unknown evidence signal {self.signal!r}")
        role = self.role or SIGNALS[self.signal]
        if role not in ROLES:
            raise ValueError(f"unknown evidence role {role!r}")
        object.__setattr__(self, "role", role)
        strength = float(self.strength)
        object.__setattr__(self, "strength", max(0.0, min(1.0, strength)) if math.isfinite(strength) else 0.0)
        reason = " ".join(str(self.reason).split())
        object.__setattr__(self, "reason", reason[: _MAX_REASON - 1] + "…" if len(reason) > _MAX_REASON
                           else reason)
        object.__setattr__(self, "spans", tuple(self.spans)[:_MAX_SPANS])

    def to_json(self) -> dict[str, Any]:
        """The stored form (``matches.evidence`` holds a list of these)."""
        return {
            "signal": self.signal,
            "strength": round(self.strength, 4),
            "role": self.role,
            "reason": self.reason,
            "spans": [s.to_json() for s in self.spans],
            "disguise": self.disguise,
            "regions": [r.to_json() for r in self.regions],
            "details": _jsonable(self.details),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        """Read a stored dict back; raises ``ValueError`` for a malformed one."""
        if not isinstance(data, Mapping):
            raise ValueError("evidence must be an object")
        try:
            spans = tuple(
                TextSpan(str(s["field"]), int(s["start"]), int(s["end"]))
                for s in data.get("spans") or () if str(s.get("field")) in _TEXT_FIELDS
            )
            regions = tuple(
                ImageRegion(int(r["image_no"]), str(r["ref_id"]), _box(r.get("listing_box")),
                            _box(r.get("reference_box")), str(r["kind"])[:40] if r.get("kind") else None,
                            str(r["note"])[:300] if r.get("note") else None)
                for r in data.get("regions") or ()
            )
            details = data.get("details") or {}
            return cls(
                signal=str(data["signal"]), strength=float(data["strength"]), reason=str(data.get("reason", "")),
                role=str(data.get("role") or ""), spans=spans,
                disguise=str(data["disguise"]) if data.get("disguise") else None, regions=regions,
                details=dict(details) if isinstance(details, Mapping) else {},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed evidence: {exc}") from None


def disguise_name(disguise: str | None) -> str | None:
    """A disguise as people read it (:data:`DISGUISE_NAMES`; one not listed, with its underscores as spaces)."""
    if not disguise:
        return None
    return DISGUISE_NAMES.get(disguise, disguise.replace("_", " "))


def image_kind_name(kind: str | None) -> str:
    """How a photo pair is alike, as people read it (:data:`IMAGE_KIND_NAMES`; ``image`` when unknown)."""
    return IMAGE_KIND_NAMES.get(kind, kind.replace("_", " ")) if kind else "image"


def reasons_of(evidence: Iterable[Evidence]) -> tuple[str, ...]:
    """The sentences a person reads (``MatchResult.reasons``, a digest's reasons), in the evidence's order: each
    finding that counted (strength above 0) and every limit."""
    return tuple(e.reason for e in evidence if e.reason and (e.strength > 0 or e.role == LIMITS))


def evidence_to_json(evidence: Iterable[Evidence]) -> list[dict[str, Any]]:
    """The list stored in ``matches.evidence``."""
    return [e.to_json() for e in evidence]


def evidence_from_json(data: Any) -> list[Evidence]:
    """Evidence read from ``matches.evidence``: ``[]`` for None (rows from before the column) and malformed
    entries skipped."""
    out: list[Evidence] = []
    if not isinstance(data, list):
        return out
    for item in data:
        try:
            out.append(Evidence.from_json(item))
        except ValueError:
            continue
    return out


def _box(value: Any) -> Box | None:
    if value is None:
        return None
    left, top, right, bottom = (float(v) for v in value)
    return (left, top, right, bottom)


def _box_json(box: Box | None) -> list[float] | None:
    return None if box is None else [round(float(v), 4) for v in box]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)
