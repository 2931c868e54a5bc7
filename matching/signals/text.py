"""Text signals: the brand's marks in the listing, its product words, another maker named, the mark in a photo.

A mark hit is *weak* when it is one a careful reader would not take for the brand without more: an
ordinary word of one of the everyday-word languages one or two letters away from a coined mark
("Lumora" / "lumière"), everyday words that join into it ("nova lux" for Novalux), or a misspelt or
run-together coined mark in a listing that uses none of the brand's product words ("Ramcza desk lamp" for
the cream maker Rancza: another coined name that sits near the mark, selling something else). A weak hit
counts with a ``weak_mark`` limit that :func:`matching.combine.combine` lifts only when something
corroborates it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rapidfuzz.distance import OSA

from core.text import quoted
from matching.evidence import Evidence
from matching.marks import MarkHit, allowed_edits
from matching.normalize import Token, analyse, loose_text
from matching.signals.base import FIELD_NAMES, BrandView, ListingView, span_of, stem
from matching.wording import find_maker_names, nominative_phrase, style_after

__all__ = ["context_evidence", "mark_evidence", "other_maker_evidence", "photo_text_evidence", "product_words",
           "registered_maker_evidence", "resembles_mark"]

_CHANGE_TEXT = {
    "zero_width": "hidden zero-width characters",
    "compat": "full-width or styled letters",
    "accents": "added accents",
    "separators": "letters split by punctuation",
    "spacing": "spaced-out letters",
    "repeats": "repeated letters",
}
#: Disguise names (``Evidence.disguise``) for the normalisation steps, most telling first.
_DISGUISE_OF = (
    ("confusables", "homoglyphs"), ("confusables_I", "homoglyphs"), ("zero_width", "zero_width"),
    ("leetspeak", "leetspeak"), ("spacing", "spacing"), ("separators", "separators"), ("compat", "styled_letters"),
    ("repeats", "repeats"), ("accents", "accents"),
)
#: Brand-field values that name no maker at all.
_NO_MAKER = frozenset({
    "", "generic", "unbranded", "no brand", "nobrand", "none", "n/a", "na", "other", "oem", "brand", "unknown",
    "not applicable", "sans marque", "ohne marke", "sin marca", "senza marca", "geen merk", "без бренда", "无品牌",
})


def _field_weight(field: str, brand: BrandView) -> float:
    cfg = brand.config
    return {"title": cfg.field_weight_title, "brand": cfg.field_weight_brand,
            "description": cfg.field_weight_description, "seller": cfg.field_weight_seller}[field]


def _disguise(hit: MarkHit) -> str | None:
    for change, name in _DISGUISE_OF:
        if change in hit.term.changes:
            if change == "confusables_I" and hit.term.key_l == hit.term.key_i:
                continue
            return name
    if hit.term.kind == "joined" and hit.mark.words == 1:
        return "joined_words"
    if hit.edits:
        return "misspelling"
    return None


def _weakness(hit: MarkHit, tokens: Sequence[Token], is_everyday: Callable[[str], bool], *, has_context: bool,
              field: str) -> str | None:
    """Why a hit is weak (see the module doc), or None."""
    part = tokens[hit.term.start : hit.term.end]
    if hit.mark.ordinary:
        return None  # an ordinary-word mark is judged by its context instead
    if hit.term.kind == "joined" and hit.mark.words == 1 and all(len(t.key_l) >= 3 for t in part):
        return "everyday words that join into the mark"
    if hit.edits and hit.term.kind in ("token", "piece") and is_everyday(hit.term.key_l):
        return f"the everyday word {quoted(hit.term.key_l, 30)} is {hit.edits} letter{'s' * (hit.edits > 1)} " \
               f"from the mark"
    if not has_context and field != "seller":
        if hit.edits:
            return f"{hit.edits} letter{'s' * (hit.edits > 1)} from the mark, in a listing without the brand's " \
                   f"product words"
        if hit.term.kind == "joined" and hit.mark.words == 1:
            return "words that join into the mark, in a listing without the brand's product words"
    return None


def _mark_reason(field: str, hit: MarkHit, tokens: Sequence[Token], has_context: bool) -> str:
    notes: list[str] = []
    subs = [(a, b) for a, b in hit.term.substitutions if a != b]
    if "confusables_I" in hit.term.changes and hit.term.key_l != hit.term.key_i:
        subs.append(("I", "l"))
    confusable = [f"{a}→{b}" for a, b in subs if not a.isascii() or a == "I"]
    leet = [f"{a}→{b}" for a, b in subs if a.isascii() and a != "I"]
    if confusable:
        notes.append("look-alike letters " + ", ".join(dict.fromkeys(confusable[:4])))
    if leet and "leetspeak" in hit.term.changes:
        notes.append("leetspeak " + ", ".join(dict.fromkeys(leet[:4])))
    notes.extend(_CHANGE_TEXT[c] for c in sorted(hit.term.changes) if c in _CHANGE_TEXT)
    if hit.term.kind == "joined" and hit.mark.words == 1:
        notes.append("words run together")
    if hit.edits:
        notes.append(f"{hit.edits} letter{'s' if hit.edits > 1 else ''} off")
    if hit.mark.ordinary:
        notes.append("ordinary word, brand's product words present" if has_context
                     else "ordinary word without the brand's product words")
    span = " ".join(t.raw for t in tokens[hit.term.start : hit.term.end])
    detail = f" ({'; '.join(notes)})" if notes else ""
    return f"{FIELD_NAMES[field]} {quoted(span)} matches mark {hit.mark.text}{detail}"


def _around(tokens: Sequence[Token], hit: MarkHit) -> tuple[str, str]:
    """Loose text of up to four tokens before the hit and two after (with the rest of its own token)."""
    before = loose_text(" ".join(t.raw for t in tokens[max(0, hit.term.start - 4) : hit.term.start]))
    after_parts = [t.raw for t in tokens[hit.term.end : hit.term.end + 2]]
    if hit.term.kind == "piece":  # "Raello-like": what follows the mark inside its own token
        pieces = tokens[hit.term.start].pieces_l
        if hit.term.key_l in pieces:
            after_parts = [*pieces[pieces.index(hit.term.key_l) + 1 :], *after_parts]
    return before, loose_text(" ".join(after_parts))


def mark_evidence(
    view: ListingView,
    brand: BrandView,
    *,
    hits: Sequence[tuple[str, MarkHit]],
    has_context: bool,
    seller_authorized: bool,
    is_everyday: Callable[[str], bool],
) -> list[Evidence]:
    """The best mark hit as ``mark`` evidence (field weight x edit penalty x context factor), plus a
    ``weak_mark`` limit when that hit is weak. ``details`` of the mark evidence: field, mark, edits, term kind,
    normalisation changes, ordinary_word, and the ``nominative`` phrase before it / ``style`` word after it.
    A hit in the seller name of an authorized seller is ignored."""
    cfg = brand.config
    best: tuple[float, str, MarkHit, str | None, str | None, str | None] | None = None
    for field, hit in hits:
        if field == "seller" and seller_authorized:
            continue
        if hit.edits > max(allowed_edits(hit.mark.length, cfg), 1 if hit.mark.allowed == 0 else 0):
            continue
        tokens = view.tokens[field]
        weak = _weakness(hit, tokens, is_everyday, has_context=has_context, field=field)
        strength = cfg.fuzzy_hit_strength ** hit.edits * _field_weight(field, brand)
        joined = tokens[hit.term.start : hit.term.end]
        if hit.term.kind == "joined" and hit.mark.words == 1 and all(len(t.key_l) >= 3 for t in joined):
            strength *= cfg.joined_words_strength
        if not has_context and field != "seller":
            strength *= cfg.no_context_factor if hit.mark.ordinary else cfg.coined_no_context_factor
        before, after = _around(tokens, hit)
        nominative = nominative_phrase(before) if field != "seller" else None
        style = style_after(after) if field != "seller" else None
        # A strong hit beats a weak one of any strength: the weak one only adds doubt.
        rank = (weak is None, strength)
        if best is None or rank > (best[3] is None, best[0]):
            best = (strength, field, hit, weak, nominative, style)
    if best is None:
        return []
    strength, field, hit, weak, nominative, style = best
    tokens = view.tokens[field]
    out = [Evidence(
        "mark", strength, _mark_reason(field, hit, tokens, has_context),
        spans=(span_of(field, tokens, hit.term.start, hit.term.end),),
        disguise=_disguise(hit),
        details={"field": field, "mark": hit.mark.text, "edits": hit.edits, "kind": hit.term.kind,
                 "changes": sorted(hit.term.changes), "ordinary_word": hit.mark.ordinary,
                 "nominative": nominative, "style": style, "weak": weak is not None},
    )]
    if weak:
        out.append(Evidence("weak_mark", 0.0, f"weak mark hit ({weak}): it counts only with a copied photo, "
                            "the mark in a photo, the seller, the price or replica or dupe wording",
                            spans=out[0].spans, details={"why": weak}))
    return out


def context_evidence(view: ListingView, brand: BrandView) -> Evidence | None:
    """``context`` (strength 0, it only changes how marks count): the brand's keywords, category or product
    words in the listing; ``details.words`` lists up to five of them."""
    shared = sorted(brand.context & view.keys)
    if not shared:
        return None
    return Evidence("context", 0.0, f"the listing uses {brand.profile.name}'s product words "
                    f"({', '.join(shared[:5])})", details={"words": shared[:5]})


def resembles_mark(brand: BrandView, text: str) -> bool:
    """Whether ``text`` (a maker's name the listing gives) is one of the brand's marks, misspelt at most as a
    mark hit may be: then it names this brand rather than another one."""
    key = "".join(t.key_l for t in analyse(text, max_chars=200))
    if not key:
        return False
    cfg = brand.config
    for mark in brand.mark_keys:
        if len(mark) < 3:
            continue
        limit = max(1, allowed_edits(len(mark), cfg))
        if OSA.distance(key, mark, score_cutoff=limit) <= limit or (len(key) > len(mark) and key.startswith(mark)):
            return True
    return False


def other_maker_evidence(view: ListingView, brand: BrandView) -> Evidence | None:
    """``other_maker``: the listing names a maker that is not this brand (its brand field, or "brand: X",
    "Hersteller: X"... in the text). ``details.maker`` is the name (bounded)."""
    names: list[tuple[str, str]] = []
    brand_field = " ".join(view.fields["brand"].split())
    if brand_field:
        names.append(("brand field", brand_field))
    names.extend(("description", name) for name in find_maker_names(view.loose))
    for where, name in names:
        plain = loose_text(name)
        if plain in _NO_MAKER or not any(ch.isalpha() for ch in plain):
            continue
        first = plain.split()[0]
        if resembles_mark(brand, plain) or resembles_mark(brand, first):
            return None  # the listing says it is this brand
        return Evidence("other_maker", 0.0, f"the {where} names another maker, {quoted(name, 40)}",
                        details={"maker": name[:60], "where": where})
    return None


def registered_maker_evidence(brand: BrandView, *, named: Sequence[str]) -> Evidence | None:
    """``other_maker`` when the listing's title or brand field names other registered brands outright (``named``:
    their names) and this brand is pointed at only by a photo or a weak mark: the photo is that brand's
    template or a collage neighbour, not a copy of this one's product."""
    if not named:
        return None
    return Evidence("other_maker", 0.0, f"the listing names another registered brand, {quoted(named[0], 40)}",
                    details={"maker": named[0][:60], "where": "registered brand"})


def photo_text_evidence(view: ListingView, brand: BrandView, *, images: frozenset[int], has_context: bool
                        ) -> Evidence | None:
    """``photo_text``: one of the brand's marks read (OCR) in a listing photo among ``images`` (1-based: photos
    that copy no official photo and show no other brand's mark). Exact, or one edit where the brand's product
    words are in the listing; a word the listing's own text already holds is its own declared name, not
    evidence. Strength ``photo_text_weight``, times ``coined_no_context_factor`` without product words."""
    cfg = brand.config
    for image_no, words in enumerate(view.photo_words, start=1):
        if not words or image_no not in images:
            continue
        candidates = set(words) | {a + b for a, b in zip(words, words[1:], strict=False)}
        for word in sorted(candidates):
            key = "".join(t.key_l for t in analyse(word, max_chars=60))
            if not key or stem(key) in view.keys or key in view.keys:
                continue
            for mark in brand.mark_keys:
                if len(mark) < 4 or abs(len(key) - len(mark)) > 1:
                    continue
                limit = min(1, allowed_edits(len(mark), cfg)) if has_context else 0
                if OSA.distance(key, mark, score_cutoff=limit) <= limit:
                    strength = cfg.photo_text_weight * (1.0 if has_context else cfg.coined_no_context_factor)
                    return Evidence(
                        "photo_text", strength,
                        f"image {image_no} shows the text {quoted(word, 30)}, the mark {brand.profile.name}",
                        details={"image_no": image_no, "word": word[:40]},
                    )
    return None


def product_words(text: str, mark_keys: frozenset[str]) -> frozenset[str]:
    """Stemmed words of a product name, without the brand's marks and words under three letters."""
    return frozenset(stem(t.key_l) for t in analyse(text) if len(t.key_l) >= 3 and t.key_l not in mark_keys)
