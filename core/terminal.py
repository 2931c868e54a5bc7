"""Text from strangers on a terminal: every CLI print of a name or listing text goes through here.

A brand name or listing title may carry ANSI escape sequences (``\\x1b[2J`` clears the screen, OSC 8
makes fake links, OSC 52 writes the clipboard), carriage returns that overwrite a line, or Unicode bidi
controls that make ``txt.exe`` read as ``exe.txt`` (Trojan Source).  :func:`visible` shows each such
character as a ``\\uXXXX`` escape the reader can see (the definition of "invisible" and "control" is
:func:`core.text.spell_out`'s, the one text-hygiene module), keeps one value on one line, and bounds
its length.  :func:`safe_text` wraps it in a rich ``Text`` (never parsed as markup).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from core.text import spell_out

DEFAULT_LIMIT = 300
"""Characters of one value printed at most."""


def visible(value: Any, *, limit: int | None = DEFAULT_LIMIT) -> str:
    """``value`` as one safe line: control, bidi and invisible characters spelt out; None -> ``""``."""
    return spell_out(None if value is None else str(value), limit)


def safe_text(value: Any, *, limit: int | None = DEFAULT_LIMIT, style: str = "") -> Text:
    """:func:`visible` as a rich ``Text`` (no markup, no emoji codes)."""
    return Text(visible(value, limit=limit), style=style)
