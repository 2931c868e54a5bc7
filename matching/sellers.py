"""Sellers: the brand's authorized sellers are trusted; a name that imitates one is strong evidence.

Two names are the *same* seller when they agree after NFKC, case folding and whitespace collapsing only;
a name that agrees with an authorized one only after look-alike letters and leetspeak are folded
(``Et Al Beauty 0fficial``), or that adds or drops a word around all of its distinctive words
(``Et Al Beauty Official Store Outlet``), or is within a small edit distance, *imitates* it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from matching.normalize import analyse, casefold, nfkc, strip_invisible

__all__ = ["GENERIC_SELLER_WORDS", "SellerVerdict", "judge_seller", "plain_name", "skeleton_words"]

#: Words that say nothing about who a seller is; an imitation may add or drop them freely.
_GENERIC_SELLER_TEXT = (
    "official officiel offiziell oficial store shop stores shops outlet online direct inc ltd llc co company "
    "the and of boutique mall flagship global international intl us usa uk eu authorized authorised seller "
    "sellers retail retailer trading express market marketplace brand brands factory warehouse deals "
    "discount wholesale supply supplies"
)
GENERIC_SELLER_WORDS = frozenset(_GENERIC_SELLER_TEXT.split())


@dataclass(frozen=True, slots=True)
class SellerVerdict:
    """``status`` is ``authorized``, ``imitation`` or ``other``; ``authorized_name`` the name it is or imitates;
    ``how`` says what gave the imitation away."""

    status: str
    authorized_name: str | None = None
    how: str = ""


def plain_name(name: str) -> str:
    """NFKC, case-folded, invisible characters removed, whitespace collapsed: equality here is identity."""
    return " ".join(casefold(nfkc(strip_invisible(name))).split())


def skeleton_words(name: str) -> list[str]:
    """The name's words after every normalisation step (look-alike letters, leetspeak, separators)."""
    return [t.key_l for t in analyse(name) if t.key_l]


def judge_seller(seller: str | None, authorized: Sequence[str], *, similarity: float) -> SellerVerdict:
    """Whether ``seller`` is one of ``authorized``, imitates one (token-set ratio of the skeletons at least
    ``similarity``, 0-100, or all distinctive words present), or is another seller."""
    if not seller or not authorized:
        return SellerVerdict("other")
    plain = plain_name(seller)
    if not plain:
        return SellerVerdict("other")
    for name in authorized:
        if plain == plain_name(name):
            return SellerVerdict("authorized", name)
    seller_words = skeleton_words(seller)
    seller_joined = "".join(seller_words)
    seller_set = set(seller_words)
    for name in authorized:
        words = skeleton_words(name)
        if not words:
            continue
        if seller_joined == "".join(words):
            return SellerVerdict("imitation", name, "look-alike letters")
        distinctive = [w for w in words if w not in GENERIC_SELLER_WORDS]
        if distinctive and all(w in seller_set for w in distinctive) and seller_set != set(words):
            return SellerVerdict("imitation", name, "same name with words added or dropped")
        score = fuzz.token_set_ratio(" ".join(seller_words), " ".join(words), processor=None)
        if score >= similarity and distinctive and any(
            fuzz.ratio(w, s, processor=None) >= 80 for w in distinctive for s in seller_words
        ):
            return SellerVerdict("imitation", name, "near-identical name")
    return SellerVerdict("other")
