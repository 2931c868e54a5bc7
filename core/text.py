"""Text hygiene: the one definition of an invisible character, and the safe forms of hostile text.

Listing text is written by counterfeiters. Every layer that cleans, compares, quotes or prints it uses
these functions, so that "invisible" means the same thing to the crawler, the matcher, the review queue and
the terminal:

- *invisible*: Unicode category ``Cf`` (zero-width space and joiners, bidi controls, soft hyphen, word
  joiner, BOM, tag characters) plus the characters that are not ``Cf`` but render as nothing: the combining
  grapheme joiner U+034F, the Hangul fillers U+115F U+1160 U+3164 U+FFA0, Khmer inherent vowels U+17B4
  U+17B5 and the Mongolian vowel separator U+180E. See :data:`INVISIBLE_EXTRA`.
- *control*: category ``Cc`` (C0 and C1 controls, including tab and newline).

The functions are pure ``str -> str`` and never raise on any string.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "INVISIBLE_EXTRA",
    "bounded",
    "collapse_whitespace",
    "is_invisible",
    "one_line",
    "quoted",
    "spell_out",
    "strip_invisible",
]

#: Characters outside category Cf that render as nothing (see the module docstring).
INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0")
_ELLIPSIS = "…"


def is_invisible(ch: str) -> bool:
    """True for one character that renders as nothing (category Cf or :data:`INVISIBLE_EXTRA`)."""
    return ch in INVISIBLE_EXTRA or unicodedata.category(ch) == "Cf"


def strip_invisible(text: str, *, control: str = " ") -> str:
    """``text`` with invisible characters removed and each control character replaced by ``control``
    (a space by default, so that ``"a\\nb"`` stays two words; pass ``""`` to drop them)."""
    out = []
    for ch in text:
        if ch in INVISIBLE_EXTRA:
            continue
        cat = unicodedata.category(ch)
        if cat == "Cf":
            continue
        out.append(control if cat == "Cc" else ch)
    return "".join(out)


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace (any Unicode space, line and paragraph separators included) become one space;
    the ends are trimmed."""
    return " ".join(text.split())


def bounded(text: str, limit: int | None) -> str:
    """``text`` cut to at most ``limit`` characters, the last one an ellipsis when it was cut."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + _ELLIPSIS if limit > 0 else ""


def one_line(text: str | None, limit: int | None = None) -> str:
    """Hostile text as one plain line: invisible characters and controls removed, whitespace collapsed,
    at most ``limit`` characters. ``None`` gives ``""``."""
    if not text:
        return ""
    return bounded(collapse_whitespace(strip_invisible(str(text))), limit)


def quoted(text: str | None, limit: int = 60) -> str:
    """:func:`one_line` in single quotes, for a sentence shown to a person; a quote inside the text becomes
    ``’`` so the quoted part cannot look closed early."""
    return "'" + one_line(text, limit).replace("'", "’") + "'"


def spell_out(text: str | None, limit: int | None = None) -> str:
    """Hostile text for a terminal, where hiding is the danger: invisible, control, surrogate and
    private-use characters are written out as ``\\uXXXX`` so the reader sees them; tab, newline and
    carriage return become spaces. At most ``limit`` characters."""
    if text is None:
        return ""
    out = []
    for ch in str(text):
        if ch in "\n\t\r":
            out.append(" ")
        elif ch in INVISIBLE_EXTRA or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return bounded("".join(out), limit)
