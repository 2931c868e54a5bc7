"""What every signal reads: the listing analysed once (:class:`ListingView`) and one indexed brand
(:class:`BrandView`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matching.config import MatchConfig
from matching.evidence import TextSpan
from matching.model import BrandProfile, ListingInput
from matching.normalize import Token, analyse, loose_text

__all__ = ["FIELD_NAMES", "MAX_FIELD_CHARS", "BrandView", "ListingView", "span_of", "stem", "view_of"]

#: Characters of listing text read per field (bounds the work an adversarial listing can cause).
MAX_FIELD_CHARS: Mapping[str, int] = {"title": 500, "brand": 200, "description": 4000, "seller": 200}
#: How a reason names each field.
FIELD_NAMES: Mapping[str, str] = {"title": "title", "brand": "brand field", "description": "description",
                                  "seller": "seller name"}


def stem(key: str) -> str:
    """A crude plural stem (``lamps`` -> ``lamp``, ``glasses`` -> ``glass``), enough to compare product words."""
    if len(key) > 4 and key.endswith("es"):
        return key[:-2]
    if len(key) > 3 and key.endswith("s"):
        return key[:-1]
    return key


@dataclass(frozen=True, slots=True)
class ListingView:
    """One listing, analysed once for every brand: bounded field texts, their tokens, the stemmed word keys
    of title, brand field and description (``keys``), their loose text (``loose``, see
    :func:`matching.normalize.loose_text`) and the OCR words of each image looked at (``photo_words``, per
    image; () when none were read)."""

    listing: ListingInput
    fields: Mapping[str, str]
    tokens: Mapping[str, Sequence[Token]]
    keys: frozenset[str]
    loose: str
    photo_words: tuple[tuple[str, ...], ...]


def view_of(listing: ListingInput, *, max_images: int) -> ListingView:
    """Analyse a listing's text fields (bounded by :data:`MAX_FIELD_CHARS`) and the words read in its first
    ``max_images`` photos (``MatchConfig.image.max_listing_images``) once."""
    fields = {
        "title": (listing.title or "")[: MAX_FIELD_CHARS["title"]],
        "brand": (listing.brand_text or "")[: MAX_FIELD_CHARS["brand"]],
        "description": (listing.description or "")[: MAX_FIELD_CHARS["description"]],
        "seller": (listing.seller or "")[: MAX_FIELD_CHARS["seller"]],
    }
    tokens = {name: analyse(text, max_chars=MAX_FIELD_CHARS[name]) for name, text in fields.items()}
    own = ("title", "brand", "description")
    keys = {stem(t.key_l) for name in own for t in tokens[name]}
    keys |= {stem(p) for name in own for t in tokens[name] for p in t.pieces_l}
    loose = loose_text(" ".join(fields[name] for name in own))
    photo_words = tuple(sig.text or () for sig in listing.images[:max_images])
    return ListingView(listing, fields, tokens, frozenset(keys), loose, photo_words)


@dataclass(slots=True)
class BrandView:
    """A brand as the matcher indexed it: its slot, profile, effective config (with the brand's overrides),
    context words (stemmed keys of keywords, category and product names, marks excluded), the distinctive
    words of its authorized sellers, its mark keys, and each product's own words (by SKU)."""

    slot: int
    profile: BrandProfile
    config: MatchConfig
    context: frozenset[str]
    seller_words: frozenset[str]
    mark_keys: frozenset[str]
    product_words: Mapping[str, frozenset[str]]


def span_of(field: str, tokens: Sequence[Token], start: int, end: int) -> TextSpan:
    """The character span of tokens ``[start, end)`` of ``field``."""
    return TextSpan(field, tokens[start].start, tokens[end - 1].end)
