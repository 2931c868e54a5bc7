"""Finding registered marks in listing text, through misspellings, spacing and look-alike letters.

A :class:`MarkIndex` holds the normalised keys of every mark (brand names and aliases) in two structures:
an exact dictionary, and a deletion neighbourhood (every key with up to ``long_mark_edits`` letters
deleted, as in SymSpell) that finds every key within a few edits of a listing term with a handful of
dictionary look-ups instead of a scan of all marks. Candidates are then verified with rapidfuzz's
optimal-string-alignment distance under the length-aware rule of :class:`~matching.config.MatchConfig`.

Listing terms (:func:`terms_of`) are the tokens, the pieces of tokens split by separators, runs of spaced
single letters joined (``F u l l i p s``) and adjacent words joined (``Nova Lux``); each term remembers
which token span it covers and which normalisation steps it needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from matching.config import MatchConfig
from matching.normalize import Token, mark_keys

__all__ = ["MarkEntry", "MarkHit", "MarkIndex", "Term", "allowed_edits", "short_variants", "terms_of"]

#: Longest run of spaced single letters joined into one term.
_MAX_SPACED_RUN = 24


@dataclass(frozen=True, slots=True)
class Term:
    """A candidate word of a listing: its two keys, the token span ``[start, end)`` it covers, how it was
    formed (``token``, ``piece``, ``spaced``, ``joined``) and the normalisation steps it needed."""

    key_l: str
    key_i: str
    start: int
    end: int
    kind: str
    changes: frozenset[str]
    substitutions: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class MarkEntry:
    """A registered mark: ``owner`` is the slot of its brand in the matcher; ``ordinary`` is true when
    every word of it is a common dictionary word (then it needs context); ``words`` counts its words."""

    mark_id: int
    owner: int
    text: str
    keys: tuple[str, ...]
    length: int
    allowed: int
    ordinary: bool
    words: int


@dataclass(frozen=True, slots=True)
class MarkHit:
    """A mark found in a term: ``edits`` is the OSA distance between the keys (0 for exact; 1 for the
    swapped or doubled letter a short mark accepts, see :func:`short_variants`)."""

    mark: MarkEntry
    term: Term
    edits: int


def short_variants(key: str) -> set[str]:
    """A short key with two adjacent letters swapped, or one letter doubled: the near-exact forms a short
    mark still accepts."""
    out = {key[:i] + key[i + 1] + key[i] + key[i + 2 :] for i in range(len(key) - 1) if key[i] != key[i + 1]}
    out |= {key[: i + 1] + key[i] + key[i + 1 :] for i in range(len(key))}
    out.discard(key)
    return out


def allowed_edits(length: int, config: MatchConfig) -> int:
    """Edits a mark key of ``length`` letters tolerates (the length-aware rule)."""
    if length <= config.short_mark_length:
        return 0
    if length <= config.medium_mark_length:
        return 1
    return config.long_mark_edits


def _deletes(key: str, depth: int) -> set[str]:
    """``key`` and every string made by deleting up to ``depth`` of its characters."""
    out = {key}
    frontier = {key}
    for _ in range(min(depth, len(key) - 1)):
        frontier = {word[:i] + word[i + 1 :] for word in frontier for i in range(len(word))}
        out |= frontier
    return out


def terms_of(tokens: Sequence[Token], *, max_words: int = 3, max_length: int = 40) -> list[Term]:
    """Every candidate term of a tokenised text (see module doc), each key at most ``max_length`` long."""
    terms: list[Term] = []
    for tok in tokens:
        terms.append(Term(tok.key_l, tok.key_i, tok.index, tok.index + 1, "token", tok.changes,
                          tok.substitutions))
        if len(tok.pieces_l) > 1:
            for piece in tok.pieces_l:
                if len(piece) > 1:
                    terms.append(Term(piece, piece, tok.index, tok.index + 1, "piece",
                                      tok.changes - {"separators"}, tok.substitutions))
    # Spaced-out letters: runs of tokens of one or two letters, joined (and every sub-run of 3+).
    run: list[Token] = []
    for tok in [*tokens, None]:
        if tok is not None and len(tok.key_l) <= 2 and len(run) < _MAX_SPACED_RUN:
            run.append(tok)
            continue
        if len(run) >= 3:
            for i in range(len(run)):
                for j in range(i + 3, len(run) + 1):
                    part = run[i:j]
                    key_l = "".join(t.key_l for t in part)
                    if len(key_l) > max_length:
                        break
                    changes = frozenset().union(*(t.changes for t in part)) | {"spacing"}
                    subs = tuple(s for t in part for s in t.substitutions)
                    terms.append(Term(key_l, "".join(t.key_i for t in part), part[0].index,
                                      part[-1].index + 1, "spaced", changes, subs))
        run = [tok] if tok is not None and len(tok.key_l) <= 2 else []
    # Adjacent words joined: a multi-word mark, or a coined mark split into words.
    for n in range(2, max_words + 1):
        for i in range(len(tokens) - n + 1):
            part = tokens[i : i + n]
            key_l = "".join(t.key_l for t in part)
            if len(key_l) > max_length:
                continue
            changes = frozenset().union(*(t.changes for t in part))
            subs = tuple(s for t in part for s in t.substitutions)
            terms.append(Term(key_l, "".join(t.key_i for t in part), part[0].index, part[-1].index + 1,
                              "joined", changes, subs))
    return terms


class MarkIndex:
    """Exact and deletion-neighbourhood index over mark keys; marks can be added at any time."""

    def __init__(self, config: MatchConfig, *, is_ordinary: Callable[[str], bool]) -> None:
        self._config = config
        self._is_ordinary = is_ordinary
        self.entries: list[MarkEntry] = []
        self._exact: dict[str, list[int]] = {}
        # Short marks tolerate no edit, only two letters swapped or one letter doubled ("Gpoa", "Goopa").
        self._near: dict[str, list[int]] = {}
        self._deletes: dict[str, list[int]] = {}
        self._depth = config.long_mark_edits
        self.max_words = 1
        self.max_length = 0
        # Look-up results of recent keys (listing words repeat across listings); bounded, and cleared
        # whenever a mark is added.
        self._cache: dict[str, list[tuple[int, int]]] = {}
        self._cache_size = 8192
        self._lengths: dict[int, int] = {}

    def add(self, owner: int, mark: str) -> MarkEntry | None:
        """Index ``mark`` for the brand in slot ``owner``; returns None for a mark with no letters."""
        keys = mark_keys(mark)
        if not keys:
            return None
        words = [w for w in mark.split() if any(ch.isalnum() for ch in w)]
        length = len(keys[0])
        entry = MarkEntry(
            mark_id=len(self.entries),
            owner=owner,
            text=mark.strip(),
            keys=keys,
            length=length,
            allowed=allowed_edits(length, self._config),
            ordinary=bool(words) and all(self._is_ordinary(w) for w in words),
            words=max(1, len(words)),
        )
        self.entries.append(entry)
        self._cache.clear()
        for n in range(length - entry.allowed, length + entry.allowed + 1):
            self._lengths[n] = max(self._lengths.get(n, 0), entry.allowed)
        self.max_words = max(self.max_words, entry.words + 1)
        self.max_length = max(self.max_length, length + self._depth)
        for key in keys:
            self._exact.setdefault(key, []).append(entry.mark_id)
            if not entry.allowed:
                for variant in short_variants(key):
                    if variant != key:
                        bucket = self._near.setdefault(variant, [])
                        if entry.mark_id not in bucket:
                            bucket.append(entry.mark_id)
            if entry.allowed:
                for variant in _deletes(key, entry.allowed):
                    bucket = self._deletes.setdefault(variant, [])
                    if entry.mark_id not in bucket:
                        bucket.append(entry.mark_id)
        return entry

    def search(self, terms: Iterable[Term]) -> list[MarkHit]:
        """Every (mark, term) pair within the mark's allowed edits; the best term per mark and span kind."""
        best: dict[tuple[int, int, int], MarkHit] = {}
        seen_keys: dict[str, list[tuple[int, int]]] = {}
        for term in terms:
            for key in dict.fromkeys((term.key_l, term.key_i)):
                found = seen_keys.get(key)
                if found is None:
                    found = self._cache.get(key)
                    if found is None:
                        found = self._lookup(key)
                        if len(self._cache) >= self._cache_size:
                            self._cache.clear()
                        self._cache[key] = found
                    seen_keys[key] = found
                for mark_id, edits in found:
                    hit = MarkHit(self.entries[mark_id], term, edits)
                    slot = (mark_id, term.start, term.end)
                    old = best.get(slot)
                    if old is None or _rank(hit) < _rank(old):
                        best[slot] = hit
        return sorted(best.values(), key=lambda h: (h.term.start, _rank(h)))

    def _lookup(self, key: str) -> list[tuple[int, int]]:
        """(mark_id, edits) of every mark whose key is within its allowed edits of ``key``."""
        if len(key) > self.max_length or len(key) < 2:
            return []
        out: dict[int, int] = {mark_id: 0 for mark_id in self._exact.get(key, ())}
        for mark_id in self._near.get(key, ()):
            out.setdefault(mark_id, 1)
        if self._lengths.get(len(key), 0) > 0:
            depth = min(self._depth, max(0, len(key) - 3))
            for variant in _deletes(key, depth):
                for mark_id in self._deletes.get(variant, ()):
                    if mark_id in out:
                        continue
                    entry = self.entries[mark_id]
                    if abs(len(key) - entry.length) > entry.allowed:
                        continue
                    dist = min(OSA.distance(key, k, score_cutoff=entry.allowed + 1) for k in entry.keys)
                    if dist <= entry.allowed:
                        out[mark_id] = dist
        return list(out.items())


def _rank(hit: MarkHit) -> tuple[int, int, int]:
    """Lower is better: fewer edits, then a plain token over a piece, spaced run or joined words."""
    order = {"token": 0, "piece": 1, "spaced": 2, "joined": 3}
    return (hit.edits, order.get(hit.term.kind, 4), hit.term.end - hit.term.start)

