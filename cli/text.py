"""Hostile text in a terminal table: listing text is written by counterfeiters.

Everything from a page is shown as rich ``Text`` (never parsed as markup), with control and invisible format
characters (zero-width spaces, bidi overrides) written out as ``\\uXXXX`` so that the analyst sees them instead
of being fooled by them, and bounded in length.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from core.text import spell_out

MAX_SHOWN = 300  # characters of one hostile field shown in a table cell


def visible(value: Any, limit: int = MAX_SHOWN) -> str:
    """``value`` as one safe line: control/format characters spelt out, length bounded; ``—`` for None."""
    if value is None:
        return "—"
    return spell_out(str(value), limit)


def T(value: Any, limit: int = MAX_SHOWN, style: str = "") -> Text:  # noqa: N802 - reads as a table cell
    """:func:`visible` as rich ``Text`` (never markup)."""
    return Text(visible(value, limit), style=style)
