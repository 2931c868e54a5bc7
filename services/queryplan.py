"""Search planned from the registry: per brand and source, a bounded, ranked set of search queries.

A marketplace that can only be searched is as visible as the queries sent to it.  The planner builds the
candidates from what the registry and the review queue know, and ranks them by what they found before:

- **marks** (the brand's name and its registered marks and aliases) and **product names**;
- **product nouns**: a product name without the brand's marks (``Fullips Lip Plumper`` gives
  ``Lip Plumper``): a listing titled ``FuIIips lip plumper`` or one that names no brand at all is found by
  the noun, not by the mark.  Derived from each brand's own registry entry, never from a word list;
- **disguised spellings sellers actually use**: the distinct tokens of confirmed matches' titles that
  normalise to one of the brand's marks (:func:`matching.normalize.analyse`) without being spelt like it
  (``Fu11ips``, ``F.U.L.L.I.P.S``);
- **guessed spellings** of the brand's name (:func:`disguised_spellings`: leetspeak, a letter doubled or
  dropped, the name split), until the record shows whether sellers use them;
- **seller words**: the words confirmed counterfeits' titles use far more often than the other stored
  listings (``clearance``, ``original``), chosen greedily so that each covers titles the others did not,
  each searched together with the brand's product nouns (a noun alone drowns in ordinary listings).

Ranking (:func:`rank_queries`, pure): a query's score is the suspects it found per run, smoothed toward
the prior of its kind; a query that ran ``sink_after_runs`` times without a suspect sinks below every
query that has not failed yet; a share of the budget (``explore_share``) is kept for queries that have
never run, so new ones get a chance.  Brands take turns, so one brand's many products cannot use up the
budget of the others.  The per-query record it reads is written by :mod:`services.querystats`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.normalize import analyse, loose_text, mark_keys
from services.querystats import CONFIRMED_STATUSES, QueryRecord, records_for
from storage.models import Brand, Listing, Match

__all__ = ["BrandTerms", "Candidate", "PlanConfig", "QueryRecord", "RankedQuery", "candidate_queries",
           "plan_for_source", "rank_queries"]

#: Kinds of query, in the order of their prior worth before any record exists.
KIND_PRIOR: dict[str, float] = {
    "mark": 1.0, "extra": 0.95, "spelling": 0.9, "product": 0.8, "noun": 0.7, "seller-words": 0.6,
    "guessed": 0.5,
}
MAX_QUERY_CHARS = 100
_EDGE = ".,:;!?()[]{}<>\"'|*#/\\-_~`"


@dataclass(frozen=True, slots=True)
class PlanConfig:
    """The planner's bounds and weights (defaults documented in ``docs/sources.md``)."""

    #: Most disguised spellings learnt per brand.
    max_spellings: int = 12
    #: Seller words searched with every product noun (chosen from confirmed titles).
    seller_words: int = 4
    #: Seller words chosen from every brand's confirmed titles together (counterfeiters share a vocabulary),
    #: also searched with every product noun.
    shared_seller_words: int = 8
    #: Fewest confirmed titles a seller word must occur in.
    min_word_titles: int = 2
    #: A seller word must be this many times more frequent in confirmed titles than in stored listings.
    min_word_lift: float = 1.5
    #: Similarity (0-100, RapidFuzz ratio of normalised keys) at which a word counts as a mark's spelling.
    spelling_similarity: float = 75.0
    #: Runs without a suspect after which a query sinks below the others.
    sink_after_runs: int = 3
    #: Weight of the kind's prior against the record (in runs).
    prior_weight: float = 1.0
    #: Share of the budget kept for queries that never ran.
    explore_share: float = 0.25


@dataclass(frozen=True, slots=True)
class BrandTerms:
    """What the registry and the review queue know about one brand, as plain data."""

    name: str
    marks: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    #: Titles of the brand's confirmed matches (newest first).
    confirmed_titles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """One query the planner may send: its text, kind (a key of :data:`KIND_PRIOR`) and brand."""

    text: str
    kind: str
    brand: str


@dataclass(frozen=True, slots=True)
class RankedQuery:
    candidate: Candidate
    score: float
    #: ``explore`` (never ran), ``found`` (found suspects), ``unproven``, ``sunk``
    state: str
    record: QueryRecord = field(default_factory=QueryRecord)


def clean_query(text: str) -> str:
    """``text`` as a query: whitespace collapsed, control characters dropped, at most 100 characters."""
    text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:MAX_QUERY_CHARS].strip()


def _words(text: str) -> list[str]:
    return [w for w in (word.strip(_EDGE) for word in loose_text(text).split()) if w]


def _mark_key_set(marks: Iterable[str]) -> set[str]:
    return {key for mark in marks for key in mark_keys(mark) if key}


def product_noun(product_name: str, marks: Sequence[str]) -> str | None:
    """The product name without the brand's marks (``Fullips Lip Plumper`` -> ``Lip Plumper``); None when
    nothing but marks is left.  A multi-word mark is removed where its words stand together."""
    keys = _mark_key_set(marks)
    words = product_name.split()
    keep = [True] * len(words)
    for start in range(len(words)):
        for end in range(len(words), start, -1):
            tokens = analyse(" ".join(words[start:end]))
            if {"".join(t.key_l for t in tokens), "".join(t.key_i for t in tokens)} & keys:
                keep[start:end] = [False] * (end - start)
                break
    noun = " ".join(w for w, k in zip(words, keep, strict=True) if k)
    noun = clean_query(noun.strip(_EDGE + " "))
    return noun if sum(ch.isalpha() for ch in noun) >= 3 else None


def learnt_spellings(titles: Iterable[str], marks: Sequence[str], *, limit: int = 12) -> list[str]:
    """Distinct disguised spellings of a mark in ``titles``: a token whose normalised key is a mark's key,
    written otherwise than the mark (``Fu11ips``, ``F.U.L.L.I.P.S``, ``Fullіps`` with a Cyrillic i).
    Most frequent first; spellings a search engine cannot tell apart from the mark (case) are left out,
    and so are letters spaced out by blanks (``F u l l i p s``): one-letter words match every listing."""
    keys = _mark_key_set(marks)
    plain = {" ".join(m.split()).casefold() for m in marks}
    found: Counter[str] = Counter()
    for title in titles:
        tokens = analyse(title)
        for token in tokens:
            if token.key_l in keys or token.key_i in keys:
                found[token.raw.strip(_EDGE) or token.raw] += 1
    out = [s for s, _ in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
           if s.casefold() not in plain and clean_query(s)]
    return [clean_query(s) for s in out[:limit]]


def _looks_like_a_mark(word: str, keys: set[str], similarity: float) -> bool:
    return any(fuzz.ratio(key, mark) >= similarity for key in mark_keys(word) for mark in keys)


def seller_words(confirmed: Sequence[str], background: Sequence[str], *, exclude: Iterable[str] = (),
                 marks: Iterable[str] = (), count: int = 4, config: PlanConfig = PlanConfig()) -> list[str]:
    """Words confirmed counterfeits' titles use much more than ``background`` titles (the other stored
    listings), chosen greedily: each next word covers the most confirmed titles the chosen ones miss,
    weighted by its lift.  Words of ``exclude`` (product nouns), numbers, words of two letters and words
    that look like a mark are left out."""
    if not confirmed:
        return []
    keys = _mark_key_set(marks)
    skip = {w for text in exclude for w in _words(text)}
    titles = [set(_words(t)) for t in confirmed]
    bg = Counter(w for t in background for w in set(_words(t)))
    n_bg = max(len(background), 1)
    candidates: dict[str, float] = {}
    counts = Counter(w for t in titles for w in t)
    for word, seen in counts.items():
        if (word in skip or len(word) < 3 or any(ch.isdigit() for ch in word) or seen < config.min_word_titles
                or not any(ch.isalpha() for ch in word)):
            continue
        lift = (seen / len(titles)) / ((bg[word] + 1) / n_bg)
        if lift >= config.min_word_lift and not _looks_like_a_mark(word, keys, config.spelling_similarity):
            candidates[word] = math.log(lift)
    chosen: list[str] = []
    uncovered = list(range(len(titles)))
    while candidates and len(chosen) < count:
        gains = {w: sum(1 for i in uncovered if w in titles[i]) * lift for w, lift in candidates.items()}
        best = max(gains, key=lambda w: (gains[w], -len(w), w))
        if gains[best] <= 0:
            break
        chosen.append(best)
        uncovered = [i for i in uncovered if best not in titles[i]]
        del candidates[best]
    return chosen


def candidate_queries(brands: Sequence[BrandTerms], *, background: Sequence[str] = (),
                      extra: Sequence[str] = (), config: PlanConfig = PlanConfig()) -> list[Candidate]:
    """Every query the planner may send for ``brands`` (no repeats; the first kind that makes a text wins).

    ``background``: titles of stored listings, against which seller words are chosen; ``extra``: the
    operator's own queries for the source (the scan file's), kept whatever their record."""
    out: list[Candidate] = []
    seen: set[str] = set()

    def add(text: str | None, kind: str, brand: str) -> None:
        text = clean_query(text or "")
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(Candidate(text, kind, brand))

    for text in extra:
        add(text, "extra", "")
    all_marks = [m for brand in brands for m in (brand.name, *brand.marks)]
    all_nouns = [n for brand in brands for n in (product_noun(p, [brand.name, *brand.marks])
                                                     for p in brand.products) if n]
    shared = seller_words([t for brand in brands for t in brand.confirmed_titles], background, exclude=all_nouns,
                          marks=all_marks, count=config.shared_seller_words, config=config)
    for brand in brands:
        marks = [brand.name, *brand.marks]
        for mark in marks:
            add(mark, "mark", brand.name)
        for spelling in learnt_spellings(brand.confirmed_titles, marks, limit=config.max_spellings):
            add(spelling, "spelling", brand.name)
        for guess in disguised_spellings(brand.name):
            add(guess, "guessed", brand.name)
        nouns = [n for n in (product_noun(p, marks) for p in brand.products) if n]
        for product in brand.products:
            add(product, "product", brand.name)
        for noun in nouns:
            add(noun, "noun", brand.name)
        words = seller_words(brand.confirmed_titles, background, exclude=nouns, marks=all_marks,
                             count=config.seller_words, config=config)
        for word in dict.fromkeys([*words, *shared]):
            for noun in nouns:
                add(f"{noun} {word}", "seller-words", brand.name)
    return out


def rank_queries(candidates: Sequence[Candidate], records: Mapping[str, QueryRecord], *, budget: int,
                 config: PlanConfig = PlanConfig()) -> list[RankedQuery]:
    """At most ``budget`` queries, best first (see the module docstring).  ``records`` by query text
    (case-folded).  The operator's ``extra`` queries always go first."""
    ranked: list[RankedQuery] = []
    for cand in candidates:
        record = records.get(cand.text.casefold(), QueryRecord())
        prior = KIND_PRIOR.get(cand.kind, 0.5)
        if record.runs == 0:
            ranked.append(RankedQuery(cand, prior, "explore", record))
            continue
        score = (record.suspects + prior * config.prior_weight) / (record.runs + config.prior_weight)
        if record.suspects:
            state = "found"
        elif record.runs >= config.sink_after_runs:
            state, score = "sunk", score / (1 + record.runs)
        else:
            state = "unproven"
        ranked.append(RankedQuery(cand, score, state, record))
    if budget <= 0:
        return []
    extra = [r for r in ranked if r.candidate.kind == "extra"]
    rest = [r for r in ranked if r.candidate.kind != "extra"]
    explore = sorted((r for r in rest if r.state == "explore"), key=lambda r: -r.score)  # by prior
    known = _by_new_suspects([r for r in rest if r.state != "explore"])
    room = max(budget - len(extra), 0)
    explore_slots = min(len(explore), max(math.ceil(room * config.explore_share), room - len(known)))
    picked = _by_turns(explore, explore_slots) + known[:room - explore_slots]
    # Unused exploration slots go to known queries and the other way round.
    leftover = room - len(picked)
    if leftover > 0:
        chosen = {id(r) for r in picked}
        picked += [r for r in known + explore if id(r) not in chosen][:leftover]
    picked.sort(key=lambda r: (r.state == "sunk", -r.score))
    return (extra + picked)[:budget]


def _by_new_suspects(known: Sequence[RankedQuery]) -> list[RankedQuery]:
    """Queries that ran, in the order that finds the most suspects soonest: greedily, the query whose last
    run found the most suspects no query before it found (a query that only finds what others find wastes
    the budget), then the rest by score, redundant ones after the unproven ones and sunk ones last."""
    pool = list(known)
    covered: set[Hashable] = set()
    order: list[RankedQuery] = []
    while pool:
        best = max(pool, key=lambda r: (len(r.record.suspect_ids - covered), r.score))
        if not best.record.suspect_ids - covered:
            break
        order.append(best)
        covered |= best.record.suspect_ids
        pool.remove(best)
    pool.sort(key=lambda r: (r.state == "sunk", r.state == "found" and bool(r.record.suspect_ids), -r.score))
    return order + pool


def _by_turns(queries: Sequence[RankedQuery], count: int) -> list[RankedQuery]:
    """``count`` queries taken brand by brand in turns, each brand's best first (``queries`` in order)."""
    if count <= 0:
        return []
    by_brand: dict[str, list[RankedQuery]] = {}
    for query in queries:
        by_brand.setdefault(query.candidate.brand, []).append(query)
    out: list[RankedQuery] = []
    depth = 0
    while len(out) < count and any(depth < len(q) for q in by_brand.values()):
        for brand_queries in by_brand.values():
            if depth < len(brand_queries) and len(out) < count:
                out.append(brand_queries[depth])
        depth += 1
    return out


#: Leetspeak swaps, most used first; one letter's swap is applied (``Fu11ips``), as counterfeiters do.
_LEET = (("o", "0"), ("l", "1"), ("i", "1"), ("e", "3"), ("a", "4"), ("s", "5"))


def disguised_spellings(mark: str) -> list[str]:
    """Spellings counterfeiters use to dodge a marketplace's search for ``mark``, to search for them too.

    Leetspeak (``Fullips`` -> ``fu11ips``), a doubled letter dropped or a single one doubled
    (``Fulips``, ``Novallux``), and the name split in two (``Full ips``). Only for marks of five or
    more letters: shorter ones give too many unrelated results. Returns at most four, none equal to
    the mark.
    """
    word = " ".join(mark.split())
    if len(word.replace(" ", "")) < 5 or not word.replace(" ", "").isalpha():
        return []
    lower = word.lower()
    variants: list[str] = [next((lower.replace(a, b) for a, b in _LEET if a in lower), lower)]
    doubled = next((i for i in range(1, len(lower)) if lower[i] == lower[i - 1] and lower[i].isalpha()), None)
    if doubled is not None:
        variants.append(lower[:doubled] + lower[doubled + 1:])
    else:
        consonant = next((i for i in range(len(lower) // 2, len(lower)) if lower[i] not in "aeiou "), None)
        if consonant is not None:
            variants.append(lower[:consonant] + lower[consonant] + lower[consonant:])
    if " " not in lower:
        middle = len(lower) // 2
        variants.append(f"{lower[:middle]} {lower[middle:]}")
    out: list[str] = []
    for variant in variants:
        if variant != lower and variant not in out:
            out.append(variant)
    return out[:4]


# --------------------------------------------------------------------------------- from the database
#: Confirmed matches read per brand (newest first) and stored titles read as the background.
MAX_CONFIRMED_TITLES = 500
MAX_BACKGROUND_TITLES = 5000


def brand_terms(session: Session) -> list[BrandTerms]:
    """Every brand's marks, product names and confirmed matches' titles, from the database."""
    terms: list[BrandTerms] = []
    for brand in session.scalars(select(Brand).order_by(Brand.id)):
        titles = session.scalars(
            select(Listing.title).join(Match, Match.listing_id == Listing.id)
            .where(Match.brand_id == brand.id, Match.status.in_(CONFIRMED_STATUSES), Listing.title.is_not(None))
            .order_by(Match.updated_at.desc(), Match.id.desc()).limit(MAX_CONFIRMED_TITLES)).all()
        terms.append(BrandTerms(
            name=brand.name,
            marks=tuple(m.text for m in sorted(brand.marks, key=lambda m: m.id)),
            products=tuple(p.name for p in sorted(brand.products, key=lambda p: p.id)),
            confirmed_titles=tuple(t for t in titles if t),
        ))
    return terms


def background_titles(session: Session, *, limit: int = MAX_BACKGROUND_TITLES) -> list[str]:
    """Titles of recent stored listings (the ordinary wording seller words are measured against)."""
    rows = session.scalars(select(Listing.title).where(Listing.title.is_not(None))
                           .order_by(Listing.id.desc()).limit(limit)).all()
    return [re.sub(r"\s+", " ", t) for t in rows if t]


def plan_for_source(session: Session, source: str, *, budget: int, extra: Sequence[str] = (),
                    config: PlanConfig = PlanConfig()) -> list[RankedQuery]:
    """Tonight's queries for ``source`` (a marketplace profile's name), best first, at most ``budget``:
    the registry's candidates ranked by the source's record; ``extra`` (the scan file's own queries for
    the source) are always sent."""
    candidates = candidate_queries(brand_terms(session), background=background_titles(session), extra=extra,
                                   config=config)
    return rank_queries(candidates, records_for(session, source), budget=budget, config=config)
