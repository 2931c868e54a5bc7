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

import re
from collections.abc import Callable, Collection, Sequence

from rapidfuzz.distance import OSA

from core.text import quoted
from matching.config import MatchConfig
from matching.evidence import Evidence
from matching.marks import MarkEntry, MarkHit, allowed_edits, terms_of
from matching.model import BrandProfile
from matching.normalize import Token, analyse, is_quantity, loose_text, variant_shortenings
from matching.signals.base import (
    FIELD_NAMES,
    BrandView,
    ListingView,
    ProductCues,
    signature_words,
    span_of,
    stem,
)
from matching.wording import find_maker_names, nominative_phrase, style_after

__all__ = ["FILLER_WORDS", "context_evidence", "has_context", "mark_evidence", "mark_parts", "mentions_mark",
           "other_goods_evidence", "other_maker_evidence", "photo_text_evidence", "product_cues",
           "product_evidence", "product_words", "registered_maker_evidence", "resembles_mark", "shared_words"]

#: Words of product names too common to tell one brand's products or context from another's.
FILLER_WORDS = frozenset({"and", "the", "for", "with", "set", "kit", "pack", "new", "size", "one", "mini"})

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


#: Fewest letters of each word of an ordinary phrase that joins or hyphenates into a one-word mark.
_MIN_PART = 3


def _word_for_word(field: str, hit: MarkHit, weak: str | None) -> bool:
    """A coined mark written as itself in the listing's own text: exact after normalisation (look-alike
    letters, leetspeak, spacing and invisible characters are disguises of the same word), as a word, a piece
    of a hyphenated word or a spaced run, or all the words of a multi-word mark; not weak."""
    if hit.mark.ordinary or hit.edits or weak is not None or field not in ("title", "brand", "description"):
        return False
    if hit.term.kind in ("token", "piece", "spaced"):
        return True
    return hit.term.kind == "joined" and hit.mark.words > 1 and hit.term.end - hit.term.start == hit.mark.words


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


def _hyphenated_words(hit: MarkHit, tokens: Sequence[Token], is_everyday: Callable[[str], bool]) -> bool:
    """The hit is one token whose pieces, split by hyphens or other separators, are everyday words of at least
    three letters ("Gear-Line" for Gearline): an ordinary phrase written with a hyphen, not the mark disguised
    (a disguise splits the mark anywhere: "F.u.l.l.i.p.s", "Full-ips"). A mark registered with a hyphen of its
    own ("Gear-Line") is written as itself."""
    if hit.term.kind != "token" or "separators" not in hit.term.changes or hit.mark.words != 1:
        return False
    if any(not ch.isalnum() for ch in hit.mark.text):
        return False
    pieces = tokens[hit.term.start].pieces_l
    return len(pieces) > 1 and all(len(p) >= _MIN_PART and is_everyday(p) for p in pieces)


def _weakness(hit: MarkHit, tokens: Sequence[Token], is_everyday: Callable[[str], bool], *, has_context: bool,
              field: str) -> str | None:
    """Why a hit is weak (see the module doc), or None."""
    part = tokens[hit.term.start : hit.term.end]
    if hit.mark.ordinary:
        return None  # an ordinary-word mark is judged by its context instead
    if hit.term.kind == "joined" and hit.mark.words == 1 and all(len(t.key_l) >= 3 for t in part):
        return "everyday words that join into the mark"
    if _hyphenated_words(hit, tokens, is_everyday):
        return "everyday words joined by a hyphen into the mark"
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


def _mark_reason(field: str, hit: MarkHit, tokens: Sequence[Token], has_context: bool, has_product: bool) -> str:
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
        notes.append("ordinary word, the brand's product shown" if has_product
                     else "ordinary word, only the brand's category words" if has_context
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
    has_product: bool = False,
) -> list[Evidence]:
    """The best mark hit as ``mark`` evidence (field weight x edit penalty x context factor), plus a
    ``weak_mark`` limit when that hit is weak. ``details`` of the mark evidence: field, mark, edits, term kind,
    normalisation changes, ordinary_word, product (the listing shows one of the brand's products),
    word_for_word (a coined mark written as itself, see :func:`other_goods_evidence`), and the ``nominative``
    phrase before it / ``style`` word after it. A hit in the seller name of an authorized seller is ignored.

    A coined mark counts fully beside any of the brand's context words (keywords, category, product words).
    An ordinary-word mark counts fully only where the listing shows one of the brand's products
    (``has_product``, :func:`product_evidence`); with category words only it counts
    ``ordinary_category_factor``, with nothing ``no_context_factor``."""
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
        run_together = hit.term.kind == "joined" and hit.mark.words == 1 and all(len(t.key_l) >= 3 for t in joined)
        if run_together or _hyphenated_words(hit, tokens, is_everyday):
            strength *= cfg.joined_words_strength
        if field != "seller":
            if hit.mark.ordinary and not has_product:
                strength *= cfg.ordinary_category_factor if has_context else cfg.no_context_factor
            elif not has_context and not hit.mark.ordinary:
                strength *= cfg.coined_no_context_factor
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
        "mark", strength, _mark_reason(field, hit, tokens, has_context, has_product),
        spans=(span_of(field, tokens, hit.term.start, hit.term.end),),
        disguise=_disguise(hit),
        details={"field": field, "mark": hit.mark.text, "edits": hit.edits, "kind": hit.term.kind,
                 "changes": sorted(hit.term.changes), "ordinary_word": hit.mark.ordinary,
                 "product": has_product, "word_for_word": _word_for_word(field, hit, weak),
                 "word": hit.term.key_l, "nominative": nominative, "style": style, "weak": weak is not None},
    )]
    if weak:
        out.append(Evidence("weak_mark", 0.0, f"weak mark hit ({weak}): it counts only with a copied photo, "
                            "the mark in a photo, the seller, the price or replica or dupe wording",
                            spans=out[0].spans, details={"why": weak}))
    return out


def shared_words(words: Collection[str], keys: Collection[str], config: MatchConfig) -> set[str]:
    """The ``words`` (stemmed keys) that ``keys`` (stemmed keys of a listing) hold, as they are or in another
    spelling one letter longer or shorter (:func:`matching.normalize.variant_shortenings`: ``soya`` for
    ``soy``, ``yoghurt`` for ``yogurt``, not ``team`` for ``tea``)."""
    words = set(words)
    keys = keys if isinstance(keys, set | frozenset) else set(keys)
    out = words & keys
    rest = words - out
    if not rest:
        return out

    def shorter(key: str) -> set[str]:
        return variant_shortenings(key, min_length=config.variant_min_length,
                                   vowel_length=config.variant_vowel_length, any_length=config.variant_any_length)

    lengths = {len(w) + 1 for w in rest}
    longer_keys = {short for key in keys if len(key) in lengths for short in shorter(key)}
    for word in rest:
        if word in longer_keys or shorter(word) & keys:
            out.add(word)
    return out


def has_context(view: ListingView, brand: BrandView) -> bool:
    """Whether the listing holds one of the brand's context words (keywords, category or product words; in
    another spelling too, see :func:`shared_words`)."""
    return bool(shared_words(brand.context, view.keys, brand.config))


def context_evidence(view: ListingView, brand: BrandView) -> Evidence | None:
    """``context`` (strength 0, it only changes how marks count): the brand's keywords, category or product
    words in the listing (in another spelling too, see :func:`shared_words`); ``details.words`` lists up to
    five of them."""
    shared = sorted(shared_words(brand.context, view.keys, brand.config))
    if not shared:
        return None
    return Evidence("context", 0.0, f"the listing uses {brand.profile.name}'s product words "
                    f"({', '.join(shared[:5])})", details={"words": shared[:5]})


def mark_parts(key: str, is_word: Callable[[str], bool]) -> tuple[str, ...]:
    """The two dictionary words a one-word mark key is made of, each at least three letters, the letter at the
    seam written twice or once (``gearline`` = gear + line, ``fullips`` = full + lips); () when there are none.
    A listing that writes those words apart ("Gear-Line", "full lips") uses the phrase, not the mark."""
    for i in range(_MIN_PART, len(key) - _MIN_PART + 1):
        for left, right in ((key[:i], key[i:]), (key[: i + 1], key[i:])):
            if len(left) >= _MIN_PART and len(right) >= _MIN_PART and is_word(left) and is_word(right):
                return (left, right)
    return ()


def _keys_of(text: str, *, max_chars: int = 500) -> list[Token]:
    return analyse(text, max_chars=max_chars)


def _model_key(raw: str) -> str | None:
    """The key of a word that names a model: letters and digits together, not a quantity (``ZX2``, ``TF90``,
    ``FLP-001`` give ``zx2``, ``tf90``, ``flp001``; ``50ml``, ``2024`` and ``11-speed``, whose letters are a
    word of their own, give None). Read from the raw word: leetspeak folding would turn ``TF90`` into letters."""
    parts = [p for p in re.split(r"[^0-9a-z]+", loose_text(raw)) if p]
    key = "".join(parts)
    if len(key) < 3 or not any(ch.isdigit() for ch in key) or not any(ch.isalpha() for ch in key):
        return None
    if is_quantity(key) or any(p.isalpha() and len(p) >= 4 for p in parts):
        return None
    return key


def product_cues(profile: BrandProfile, marks: Sequence[MarkEntry], is_word: Callable[[str], bool]
                 ) -> ProductCues:
    """The brand's own evidence of its products, from its registry entry (see
    :class:`~matching.signals.base.ProductCues`): product-name words, model names and SKUs, words printed on
    its official photos. ``marks`` are its indexed marks; ``is_word`` tells dictionary words (to find the
    words a coined mark is made of)."""
    mark_keys = {k for entry in marks for k in entry.keys}
    mark_words: set[str] = set()
    for entry in marks:
        for token in _keys_of(entry.text):
            mark_words.update(stem(k) for k in (token.key_l, *token.pieces_l, *token.words))
        if not entry.ordinary and entry.words == 1:
            mark_words.update(stem(p) for p in mark_parts(entry.keys[0], is_word))
    category = {stem(w) for t in _keys_of(" ".join([*profile.keywords, profile.category or ""]), max_chars=4000)
                for w in t.words}
    names: list[frozenset[str]] = []
    models: set[str] = set()
    for item in profile.products:
        words: set[str] = set()
        for token in _keys_of(item.name):
            model = _model_key(token.raw)
            if model is not None:
                models.add(model)
                continue
            if any(ch.isdigit() for ch in token.raw):
                continue  # a size or a count
            for key in token.words:
                word = stem(key)
                if (key not in mark_keys and word not in mark_words and len(word) >= 3 and word.isalpha()
                        and word not in FILLER_WORDS):
                    words.add(word)
        if words:
            names.append(frozenset(words))
        sku = _model_key(item.sku) or "".join(re.findall(r"[0-9a-z]+", loose_text(item.sku)))
        if len(sku) >= 3:
            models.add(sku)
    packaging: set[str] = set()
    for item in profile.products:
        for image in item.images:
            for read in signature_words(image.signature):
                for token in _keys_of(read, max_chars=60):
                    word = stem(token.key_i)
                    if (len(word) >= 4 and word.isalpha() and token.key_i not in mark_keys
                            and word not in mark_words and word not in FILLER_WORDS and word not in category):
                        packaging.add(word)
    nouns = frozenset(w for words in names for w in words if w not in category)
    return ProductCues(nouns, frozenset(models), frozenset(packaging), frozenset(mark_words),
                       tuple(entry.keys for entry in marks),
                       frozenset(k for entry in marks if entry.ordinary for k in entry.keys), tuple(names))


def _photo_keys(view: ListingView) -> set[str]:
    """Stemmed keys of every word read in the listing's photos."""
    return {stem(k) for words in view.photo_words for w in words for t in _keys_of(w, max_chars=60)
            for k in (t.key_l, t.key_i)}


def _listing_models(view: ListingView) -> set[str]:
    """Model keys (:func:`_model_key`) of the words of the listing's title, brand field and description."""
    out = set()
    for name in ("title", "brand", "description"):
        for token in view.tokens[name]:
            if any(ch.isdigit() for ch in token.raw):
                key = _model_key(token.raw)
                if key is not None:
                    out.add(key)
    return out


def product_evidence(view: ListingView, brand: BrandView) -> Evidence | None:
    """``product`` (strength 0, like ``context`` it changes how marks count): the listing shows one of the
    brand's own products, found from the registry alone:

    - in its title or brand field, a word of one of the brand's product names that is neither a word of its
      marks ("for full lips" says nothing about Fullips' products) nor one of its keywords or category words
      ("lip", "gin": the category, which the ordinary sense of a mark goes with), or two words of one product
      name ("desk fan"), or all of them ("building set" for "Dude Building Set");
    - a model name or SKU of the brand anywhere in its text;
    - at least ``packaging_words_min`` words printed on the brand's official photos (not its keywords or
      category words), in its title or read in its photos.

    Words match in another spelling too (:func:`shared_words`)."""
    cues, cfg = brand.cues, brand.config
    nouns = shared_words(cues.nouns, view.title_keys, cfg)
    for words in cues.products:
        both = shared_words(words, view.title_keys, cfg)
        if len(both) >= 2 or both == words:
            nouns |= both
    models = sorted(cues.models & _listing_models(view)) if cues.models else []
    packaging: list[str] = []
    if cues.packaging:
        packaging = sorted(shared_words(cues.packaging, set(view.title_keys) | _photo_keys(view), cfg))
        if len(packaging) < cfg.packaging_words_min:
            packaging = []
    if not (nouns or models or packaging):
        return None
    words = sorted(nouns)
    parts = []
    if words:
        parts.append(f"product words {', '.join(words[:4])}")
    if models:
        parts.append(f"model or SKU {', '.join(models[:3])}")
    if packaging:
        parts.append(f"words of its packaging {', '.join(packaging[:4])}")
    return Evidence("product", 0.0, f"the listing shows {brand.profile.name}'s product: {'; '.join(parts)}",
                    details={"words": words[:5], "models": models[:5], "packaging": packaging[:5]})


def mentions_mark(text: str, brand: BrandView, *, max_words: int = 12) -> bool:
    """Whether the first ``max_words`` words of ``text`` hold one of the brand's whole marks, within the edits a
    mark hit allows (used to tie wording to the brand)."""
    tokens = analyse(" ".join(text.split()[:max_words]), max_chars=400)
    if not tokens:
        return False
    cfg = brand.config
    longest = max((len(k) for keys in brand.cues.marks for k in keys), default=0)
    for term in terms_of(tokens, max_words=4, max_length=longest + cfg.long_mark_edits):
        for keys in brand.cues.marks:
            for key in keys:
                limit = allowed_edits(len(key), cfg)
                if abs(len(term.key_l) - len(key)) <= limit and min(
                        OSA.distance(term.key_l, key, score_cutoff=limit + 1),
                        OSA.distance(term.key_i, key, score_cutoff=limit + 1)) <= limit:
                    return True
    return False


def other_goods_evidence(brand: BrandView, *, mark: Evidence | None, has_context: bool,
                         attested: Callable[[str], bool]) -> Evidence | None:
    """``other_goods`` (a limit with no cap: it names what the class ``other_goods`` says): a coined mark
    written word for word in the listing's own text (``details.word_for_word`` of the mark), where the listing
    uses none of the brand's product, keyword or category words. An unauthorised seller using a coined mark
    is always worth an analyst's look, whatever the goods; this says that the goods are not the brand's.
    Not raised when the word is a word of an everyday language (a mark coined in English may be French)."""
    if mark is None or has_context or not mark.details.get("word_for_word"):
        return None
    word = str(mark.details.get("word") or "")
    if mark.details.get("kind") in ("token", "piece") and attested(word):
        return None
    return Evidence("other_goods", 0.0,
                    f"mark on other goods: the coined mark {mark.details.get('mark')} word for word on goods "
                    f"{brand.profile.name} does not sell (none of its product, keyword or category words)",
                    spans=mark.spans, details={"mark": str(mark.details.get("mark"))[:60]})


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


def photo_text_evidence(view: ListingView, brand: BrandView, *, images: frozenset[int], has_context: bool,
                        has_product: bool = False) -> Evidence | None:
    """``photo_text``: one of the brand's marks read (OCR) in a listing photo among ``images`` (1-based: photos
    that copy no official photo and show no other brand's mark). Exact, or one edit of a coined mark where the
    brand's product words are in the listing; a word the listing's own text already holds is its own declared
    name, not evidence. Strength ``photo_text_weight``, times ``coined_no_context_factor`` without product
    words. An ordinary-word mark counts read exactly only, weighed like its text hits: fully where the listing
    shows the brand's product, ``ordinary_category_factor`` with category words only, ``no_context_factor``
    without them."""
    cfg = brand.config
    for image_no, words in enumerate(view.photo_words, start=1):
        if not words or image_no not in images:
            continue
        candidates = set(words) | {a + b for a, b in zip(words, words[1:], strict=False)}
        for word in sorted(candidates):
            key = "".join(t.key_l for t in analyse(word, max_chars=60))
            if not key or stem(key) in view.keys or key in view.keys:
                continue
            for mark in sorted({k for keys in brand.cues.marks for k in keys}):  # whole marks only
                if len(mark) < 4 or abs(len(key) - len(mark)) > 1:
                    continue
                ordinary = mark in brand.cues.ordinary
                limit = min(1, allowed_edits(len(mark), cfg)) if has_context and not ordinary else 0
                if OSA.distance(key, mark, score_cutoff=limit) <= limit:
                    if ordinary:
                        factor = (1.0 if has_product else cfg.ordinary_category_factor if has_context
                                  else cfg.no_context_factor)
                    else:
                        factor = 1.0 if has_context else cfg.coined_no_context_factor
                    strength = cfg.photo_text_weight * factor
                    return Evidence(
                        "photo_text", strength,
                        f"image {image_no} shows the text {quoted(word, 30)}, the mark {brand.profile.name}",
                        details={"image_no": image_no, "word": word[:40]},
                    )
    return None


def product_words(text: str, mark_keys: frozenset[str]) -> frozenset[str]:
    """Stemmed words of a product name, without the brand's marks and words under three letters."""
    return frozenset(stem(t.key_i) for t in analyse(text) if len(t.key_i) >= 3 and t.key_i not in mark_keys
                     and t.key_l not in mark_keys)
