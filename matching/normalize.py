"""Text normalisation as explicit steps, each a pure ``str -> str`` function, and a tokeniser that records
which steps changed each token (so a reason can say "look-alike letters I→l").

The steps, in the order :func:`analyse` applies them to every whitespace-separated token:

1. :func:`core.text.strip_invisible`: zero-width and other invisible characters (U+200B, U+200D, U+2060,
   U+FEFF, soft hyphen, bidi controls, Hangul fillers) are removed, controls become spaces.
2. :func:`nfkc`: Unicode NFKC (full-width letters, ligatures, circled letters become plain ones).
3. :func:`strip_accents`: combining marks are dropped (``é`` → ``e``).
4. :func:`fold_confusables`: every non-ASCII letter that the Unicode confusables data (through the
   ``confusable_homoglyphs`` package) says looks like an ASCII letter or digit becomes that letter
   (Cyrillic ``а`` → ``a``, Greek ``ο`` → ``o``).
5. :func:`casefold`, with capital ``I`` first read as ``l`` in the "l" variant of the key (``FuIIips``).
6. :func:`fold_leetspeak`: digits and symbols standing for letters inside words (``0`` → ``o``,
   ``1`` → ``l`` or ``i``, ``3`` → ``e``, ``$`` → ``s``, ``@`` → ``a``).
7. Separators inside a token (``F.u.l.l.i.p.s``, ``Full-ips``) split it into pieces; the token's key joins
   them.
8. :func:`collapse_repeats`: runs of three or more of one letter become two (``Fulllllips``).

Each token gets two keys that differ only in how the ambiguous ``I``/``1``/``|``/``!`` are read: the
"l" key reads them as ``l``, the "i" key as ``i``. Marks get the same two keys, and a hit on either counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import dataclass
from functools import cache, lru_cache

from core.text import strip_invisible

__all__ = [
    "Token",
    "analyse",
    "casefold",
    "collapse_repeats",
    "fold_confusables",
    "fold_leetspeak",
    "is_quantity",
    "loose_text",
    "mark_keys",
    "nfkc",
    "skeleton_map",
    "strip_accents",
    "strip_invisible",
    "variant_shortenings",
]

_LEET_L = {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
           "@": "a", "$": "s", "!": "l", "|": "l", "€": "e", "+": "t"}
_LEET_I = {**_LEET_L, "1": "i", "!": "i", "|": "i"}
_EDGE_PUNCT = "!?.,;:()[]{}<>\"'«»“”‘’*#@~^`/\\|+-_=&%"
_TOKEN_RE = re.compile(r"\S+")
# A number with a unit or ordinal suffix (50ml, 3pcs, 2nd, 1080p, 90s) is a quantity, not leetspeak.
_QUANTITY_RE = re.compile(
    r"\d+(?:[.,]\d+)?(?:ml|cl|dl|l|g|kg|mg|oz|lb|lbs|cm|mm|m|km|in|ft|pcs|pc|pk|x|k|gb|tb|mb|hz|khz|mhz|w|kw|v|"
    r"mah|wh|ct|st|nd|rd|th|s|p|d|h|min|yr|yrs|pack|er)",
    re.IGNORECASE,
)
_SCRIPT_RUN_RE = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")


def nfkc(text: str) -> str:
    """Unicode NFKC normalisation."""
    return unicodedata.normalize("NFKC", text)


def strip_accents(text: str) -> str:
    """Drop combining marks (decompose, remove category Mn, recompose)."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


@cache
def skeleton_map() -> dict[str, str]:
    """Non-ASCII character -> the lower-case ASCII letter or digit it is confusable with, built from the
    confusables data of the ``confusable_homoglyphs`` package by a breadth-first walk (some characters
    reach ASCII only through another look-alike, e.g. Greek tau → small capital T → t)."""
    from confusable_homoglyphs.confusables import confusables_data

    graph: dict[str, list[str]] = {}
    for ch, entries in confusables_data.items():
        for entry in entries:
            target = entry.get("c", "")
            if len(target) == 1:
                graph.setdefault(ch, []).append(target)
    result: dict[str, str] = {}
    for ch in graph:
        if ch.isascii() or len(ch) != 1:
            continue
        seen = {ch}
        queue = deque([(ch, 0)])
        found = None
        while queue and found is None:
            current, depth = queue.popleft()
            for nxt in graph.get(current, ()):
                if nxt in seen:
                    continue
                seen.add(nxt)
                if nxt.isascii() and nxt.isalnum():
                    found = nxt.lower()
                    break
                if depth < 2:
                    queue.append((nxt, depth + 1))
        if found is not None:
            result[ch] = found
    # Matching is case-insensitive, so a letter whose other case looks like an ASCII letter counts as that
    # letter too (Cyrillic small ka maps to Latin kra in the data, but its capital maps to K).
    for ch in list(graph):
        if ch in result or ch.isascii() or len(ch) != 1:
            continue
        for other in (ch.upper(), ch.lower()):
            if len(other) == 1 and other in result:
                result[ch] = result[other]
                break
    return result


def fold_confusables(text: str) -> str:
    """Replace each non-ASCII character confusable with an ASCII letter or digit by that character."""
    table = skeleton_map()
    return "".join(table.get(ch, ch) if not ch.isascii() else ch for ch in text)


def casefold(text: str) -> str:
    """Unicode case folding (``str.casefold``)."""
    return text.casefold()


def fold_leetspeak(word: str, *, ambiguous_as: str = "l") -> str:
    """Read digits and symbols that stand for letters as those letters, inside a word that has at least two
    letters and at most one such symbol more than letters (``F0llip$`` → ``F0llips``, ``F3l10`` → ``Fello``;
    quantities such as ``50ml`` and numbers such as ``2024`` stay).
    ``ambiguous_as`` ("l" or "i") is how ``1``, ``!`` and ``|`` are read."""
    table = _LEET_I if ambiguous_as == "i" else _LEET_L
    letters = sum(ch.isalpha() for ch in word)
    leet = sum(ch in table for ch in word)
    if letters < 2 or leet == 0 or leet > letters + 1:
        return word
    # A leading run of digits followed by letters is a quantity with a unit (50ml, 3pcs), not leetspeak.
    if _QUANTITY_RE.fullmatch(word):
        return word
    return "".join(table.get(ch, ch) for ch in word)


def is_quantity(word: str) -> bool:
    """A number, or a number with a unit or ordinal suffix (``50ml``, ``3pcs``, ``2024``, ``11th``): a size or
    count, not a word or a model name."""
    return bool(word) and (word.replace(".", "").replace(",", "").isdigit() or bool(_QUANTITY_RE.fullmatch(word)))


_VOWELS = frozenset("aeiouy")


def variant_shortenings(key: str, *, min_length: int, vowel_length: int, any_length: int) -> set[str]:
    """The spellings one letter shorter that count as the same word as ``key`` (a lower-case word key).

    Spelling variants of one word differ by a letter that the other spelling leaves out: a final vowel
    (``soya``/``soy``), a vowel inside a longer word (``colour``/``color``), or any one letter of a long word
    (``yoghurt``/``yogurt``). So a shortening counts when it keeps the first letter and has at least
    ``min_length`` letters, and the letter left out is: any letter when the shorter form has ``any_length``
    letters or more; a vowel when it has ``vowel_length`` or more; below that only a final vowel other than a
    silent ``e``. Short words one letter apart are mostly other words (``tea``/``team``, ``pan``/``pain``,
    ``cap``/``cape``), which these rules leave apart."""
    out: set[str] = set()
    if len(key) - 1 < min_length or not key.isalpha():
        return out
    short = len(key) - 1
    for i in range(1, len(key)):
        letter = key[i]
        if short >= any_length:
            ok = True
        elif short >= vowel_length:
            ok = letter in _VOWELS
        else:
            ok = i == len(key) - 1 and letter in _VOWELS and letter != "e"
        if ok:
            out.add(key[:i] + key[i + 1 :])
    return out


def collapse_repeats(text: str) -> str:
    """Runs of three or more of the same letter become two (``Fulllllips`` → ``Fullips``)."""
    return re.sub(r"(\w)\1{2,}", r"\1\1", text)


def loose_text(text: str) -> str:
    """The text as wording rules see it: invisible characters removed, NFKC, accents stripped, look-alike
    letters folded, case-folded, whitespace collapsed (no leetspeak: ``1:1`` must stay ``1:1``)."""
    return " ".join(casefold(fold_confusables(strip_accents(nfkc(strip_invisible(text))))).split())


@dataclass(frozen=True, slots=True)
class Token:
    """One whitespace-separated token of a text.

    ``raw`` is the original text (for quoting); ``key_l`` / ``key_i`` are the two skeleton keys (pieces
    joined); ``pieces_l`` the skeleton pieces between separators; ``changes`` names the steps that changed
    it (``zero_width``, ``compat``, ``accents``, ``confusables``, ``leetspeak``, ``separators``,
    ``repeats``); ``substitutions`` lists ``(original, replacement)`` character pairs for reasons;
    ``start`` and ``end`` are the character offsets ``[start, end)`` of ``raw`` in the analysed text;
    ``pieces_i`` are the pieces of the "i" reading.
    """

    index: int
    raw: str
    key_l: str
    key_i: str
    pieces_l: tuple[str, ...]
    changes: frozenset[str]
    substitutions: tuple[tuple[str, str], ...]
    start: int = 0
    end: int = 0
    #: The pieces of the "i" reading (a capital I read as i): the token's words as a dictionary spells them.
    pieces_i: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        """The token's key and pieces in the "i" reading, for comparing words (``Insulated`` is
        ``insulated``, where the "l" reading, made for marks, gives ``lnsulated``)."""
        return (self.key_i, *self.pieces_i) if len(self.pieces_i) > 1 else (self.key_i,)


def _letter_pairs(before: str, after: str) -> list[tuple[str, str]]:
    if len(before) != len(after):
        return []
    return [(a, b) for a, b in zip(before, after, strict=True) if a != b]


@lru_cache(maxsize=8192)  # a pure function of one word; listing words repeat across listings
def _token_keys(raw: str) -> Token | None:
    changes: set[str] = set()
    subs: list[tuple[str, str]] = []
    text = strip_invisible(raw)
    if text != raw:
        changes.add("zero_width")
    step = nfkc(text)
    if step != text:
        changes.add("compat")
    text = step
    step = strip_accents(text)
    if step != text:
        changes.add("accents")
    text = step
    step = fold_confusables(text)
    if step != text:
        changes.add("confusables")
        subs.extend(_letter_pairs(text, step))
    text = step.strip(_EDGE_PUNCT) or step
    # The "l" reading treats a capital I as the look-alike l (UTS 39 skeleton does the same).
    variants = {}
    for reading in ("l", "i"):
        folded = text.replace("I", "l") if reading == "l" else text
        if reading == "l" and folded != text and any(c.islower() for c in text):
            changes.add("confusables_I")
        folded = casefold(folded)
        pieces_raw = [p for p in re.split(r"[^\w@$!|€+]+|_", folded) if p]
        pieces = []
        for piece in pieces_raw:
            leet = fold_leetspeak(piece, ambiguous_as=reading)
            if leet != piece and reading == "l":
                changes.add("leetspeak")
                subs.extend(_letter_pairs(piece, leet))
            # Symbols that were not leetspeak separate words.
            for part in re.split(r"[@$!|€+]+", leet):
                if part:
                    pieces.append(part)
        if len(pieces) > 1 and reading == "l":
            changes.add("separators")
        # Latin next to another script (CJK writes without spaces) is a word boundary, not a disguise.
        pieces = [run for p in pieces for run in _SCRIPT_RUN_RE.findall(p)]
        collapsed = [collapse_repeats(p) for p in pieces]
        if collapsed != pieces and reading == "l":
            changes.add("repeats")
        variants[reading] = collapsed
    if not variants["l"]:
        return None
    return Token(
        index=0,
        raw=raw,
        key_l="".join(variants["l"]),
        key_i="".join(variants["i"]),
        pieces_l=tuple(variants["l"]),
        changes=frozenset(changes),
        substitutions=tuple(dict.fromkeys(subs)),
        pieces_i=tuple(variants["i"]),
    )


def analyse(text: str, *, max_chars: int = 4000) -> list[Token]:
    """Tokenise ``text`` (at most ``max_chars`` characters are read) and normalise every token.

    Tokens that hold nothing but punctuation are dropped; ``Token.index`` numbers the kept ones."""
    tokens: list[Token] = []
    for match in _TOKEN_RE.finditer(text[:max_chars]):
        token = _token_keys(match.group())
        if token is None:
            continue
        tokens.append(
            Token(len(tokens), token.raw, token.key_l, token.key_i, token.pieces_l, token.changes,
                  token.substitutions, match.start(), match.end(), token.pieces_i)
        )
    return tokens


def mark_keys(mark: str) -> tuple[str, ...]:
    """The keys of a registered mark (its words joined, both readings), most likely first."""
    tokens = analyse(mark)
    key_l = "".join(t.key_l for t in tokens)
    key_i = "".join(t.key_i for t in tokens)
    return tuple(dict.fromkeys(k for k in (key_l, key_i) if k))
