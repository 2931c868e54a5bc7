"""Which words are ordinary dictionary words (a mark made of them needs context to count).

Uses the word-frequency dictionaries shipped with ``pyspellchecker`` (built from subtitles and Wikipedia);
a word is ordinary when it occurs at least ``min_frequency`` times in one of the chosen languages.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

__all__ = ["EVERYDAY_LANGUAGES", "Lexicon", "everyday_lexicon"]


class Lexicon:
    """Word lookups against one or more pyspellchecker frequency dictionaries."""

    def __init__(self, languages: Sequence[str] = ("en",), *, min_frequency: int = 50) -> None:
        from spellchecker import SpellChecker

        self._frequencies = [SpellChecker(language=lang, distance=1).word_frequency for lang in languages]
        self._min = min_frequency

    def frequency(self, word: str) -> int:
        """Highest count of ``word`` (case-folded, NFKC) over the chosen languages."""
        key = unicodedata.normalize("NFKC", word).casefold().strip(".,;:!?'\"()")
        if not key:
            return 0
        return max((freq[key] for freq in self._frequencies), default=0)

    def is_ordinary(self, word: str) -> bool:
        """True when ``word`` is a common word (frequency at least ``min_frequency``)."""
        return self.frequency(word) >= self._min


#: Languages whose everyday words make a near-miss of a coined mark weak evidence (see
#: :mod:`matching.signals.text`).
EVERYDAY_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it")


@functools.cache
def everyday_lexicon() -> Lexicon:
    """One shared :class:`Lexicon` over :data:`EVERYDAY_LANGUAGES`, loaded on first use (about 3 s, once per
    process)."""
    return Lexicon(EVERYDAY_LANGUAGES)
