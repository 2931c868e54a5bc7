"""Which words are ordinary dictionary words (a mark made of them needs context to count).

Uses the word-frequency dictionaries shipped with ``pyspellchecker`` (built from subtitles and Wikipedia);
a word is ordinary when it occurs at least ``min_frequency`` times in one of the chosen languages. Look-ups
fold accents as listing keys do (``lumiere`` finds French ``lumière``).

Each list has a floor: its smallest count (50), shared by the words the list holds from a word list or saw
rarely: 64% of the English list and 95% of the German one. :meth:`Lexicon.is_attested` asks for more than
that floor, so a rare form of one language does not make a coined mark a word.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence

__all__ = ["EVERYDAY_LANGUAGES", "Lexicon", "everyday_lexicon"]


def _fold(word: str) -> str:
    """NFKC, case-folded, accents stripped (how listing keys are made, see :mod:`matching.normalize`)."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", word).casefold())
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


class Lexicon:
    """Word lookups against one or more pyspellchecker frequency dictionaries."""

    def __init__(self, languages: Sequence[str] = ("en",), *, min_frequency: int = 50) -> None:
        from spellchecker import SpellChecker

        self._frequencies = [SpellChecker(language=lang, distance=1).word_frequency for lang in languages]
        self._min = min_frequency
        self._folded: list[Mapping[str, int]] | None = None
        self._floors = [min(freq.dictionary.values(), default=0) for freq in self._frequencies]

    def _accentless(self) -> list[Mapping[str, int]]:
        """Per language, accent-folded form -> highest count, for the words that have accents (built once)."""
        if self._folded is None:
            folded: list[Mapping[str, int]] = []
            for freq in self._frequencies:
                table: dict[str, int] = {}
                for word, count in freq.dictionary.items():
                    if not word.isascii():
                        key = _fold(word)
                        if key != word and count > table.get(key, 0):
                            table[key] = count
                folded.append(table)
            self._folded = folded
        return self._folded

    def _counts(self, word: str) -> list[int]:
        key = unicodedata.normalize("NFKC", word).casefold().strip(".,;:!?'\"()")
        if not key:
            return [0] * len(self._frequencies)
        counts = [freq[key] for freq in self._frequencies]
        if key.isascii():  # an accent-free key may stand for an accented word ("creme" -> "crème")
            counts = [max(c, table.get(key, 0)) for c, table in zip(counts, self._accentless(), strict=True)]
        return counts

    def frequency(self, word: str) -> int:
        """Highest count of ``word`` (case-folded, NFKC; accents optional) over the chosen languages."""
        return max(self._counts(word), default=0)

    def is_ordinary(self, word: str) -> bool:
        """True when ``word`` is a common word (frequency at least ``min_frequency``)."""
        return self.frequency(word) >= self._min

    def is_attested(self, word: str) -> bool:
        """True when ``word`` is counted above its list's floor in one of the chosen languages (see the module
        doc): a word of the language, not one of the rare forms every list keeps at its smallest count."""
        return any(count > floor for count, floor in zip(self._counts(word), self._floors, strict=True))


#: Languages whose everyday words make a near-miss of a coined mark weak evidence (see
#: :mod:`matching.signals.text`).
EVERYDAY_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it")


@functools.cache
def everyday_lexicon() -> Lexicon:
    """One shared :class:`Lexicon` over :data:`EVERYDAY_LANGUAGES`, loaded on first use (about 3 s, once per
    process)."""
    return Lexicon(EVERYDAY_LANGUAGES)
