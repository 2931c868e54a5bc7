"""Does a domain name spell a registered mark?  Pure functions on plain data, for every discovery feed
(permutations, Certificate Transparency, newly registered domains; docs/discovery.md).

A name is read as listing titles are: each label of the name (the registrable label and any subdomain
labels, never the public suffix) goes through the same normaliser (:func:`matching.normalize.analyse`,
hyphens read as spaces) and the same :class:`~matching.marks.MarkIndex` as listing text, so "does this text
spell the mark" has one answer.  Domains write words together (``buyfullipsoutlet``), so a label is also
searched for a mark *inside* it; such a hit counts only when the rest of the label splits into words
(sales words, the brand's trade words, dictionary words) and no dictionary word spans the mark
(``panorama`` does not spell ``Norama``).  A mark that is an ordinary word needs one of the brand's trade
words in the name, as it needs context in a listing.

Names are hostile: longer than DNS allows, labels that are not IDNA, mixed scripts.  :func:`parse_name`
turns a name as a certificate or a list writes it into ``(unicode, ascii)`` or raises
:class:`BadDomainName` with one line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import idna
import tldextract
from rapidfuzz.distance import OSA

from matching.config import DomainConfig, MatchConfig
from matching.marks import MarkHit, MarkIndex, Term, terms_of
from matching.normalize import analyse, mark_keys

__all__ = [
    "SALES_WORDS",
    "BadDomainName",
    "DomainBrand",
    "DomainConfig",
    "DomainHit",
    "DomainMatcher",
    "is_official",
    "parse_name",
]

#: Words shops put beside a mark in a domain (English and a few other languages); a sign of selling.
SALES_WORDS: frozenset[str] = frozenset({
    "shop", "shops", "store", "stores", "outlet", "outlets", "sale", "sales", "official", "buy", "cheap",
    "discount", "discounts", "deal", "deals", "online", "mall", "offer", "offers", "factory", "clearance",
    "boutique", "market", "wholesale", "promo", "order", "tienda", "negozio", "laden", "soldes",
    "rebajas", "saldi", "angebot", "oferta", "offerta", "kaufen", "comprar", "acheter",
})
#: Short words that join words in a name and say nothing (``get``, ``my``, country codes).
FILLER_WORDS: frozenset[str] = frozenset({
    "the", "my", "get", "go", "best", "top", "new", "us", "uk", "eu", "usa", "de", "fr", "es", "it", "au", "ca",
    "and", "of", "for", "www", "web", "site", "co", "hq", "pro", "now", "hot", "real", "original", "genuine",
})
#: Public suffixes that sell to shops.
SHOP_SUFFIXES: frozenset[str] = frozenset({
    "shop", "store", "sale", "shopping", "boutique", "deals", "discount", "market", "buy", "online", "top",
})
MAX_NAME = 253
MAX_LABEL = 63
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|[a-z0-9]")


class BadDomainName(ValueError):
    """A name that is not a domain name (too long, an empty label, not IDNA); the message is one line."""


@dataclass(frozen=True, slots=True)
class DomainBrand:
    """A brand as discovery sees it: its marks (name first), trade words and official domains."""

    brand_id: int | str
    name: str
    marks: tuple[str, ...]
    official_domains: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DomainHit:
    """A name that spells ``mark`` of brand ``brand_id``: how (``disguise``), the score and the reasons."""

    domain: str
    ascii_domain: str
    brand_id: int | str
    mark: str
    disguise: str
    score: float
    reasons: tuple[str, ...]
    sales_words: tuple[str, ...] = ()
    label: str = ""


@cache
def _extractor() -> tldextract.TLDExtract:
    # The public suffix list snapshot shipped with tldextract: no network, no disk cache.  Private suffixes
    # count (``myshopify.com``, ``github.io``): a shop on a hosting platform is read as its own domain.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)


def parse_name(raw: str) -> tuple[str, str]:
    """``(unicode, ascii)`` of a DNS name as a certificate or a list writes it: lower case, a leading
    ``*.`` and a trailing dot dropped, punycode labels decoded; :class:`BadDomainName` otherwise."""
    if not isinstance(raw, str):
        raise BadDomainName("not text")
    text = raw.strip().lower()
    if len(text) > 4 * MAX_NAME:
        raise BadDomainName(f"longer than {MAX_NAME} characters")
    text = text.removeprefix("*.").rstrip(".")
    if not text or "." not in text:
        raise BadDomainName(f"{text[:80]!r}: not a domain name")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii") if not text.isascii() else text
        if len(ascii_name) > MAX_NAME:
            raise BadDomainName(f"longer than {MAX_NAME} characters")
        labels = ascii_name.split(".")
        for label in labels:
            if not _LABEL_RE.fullmatch(label):
                raise BadDomainName(f"{ascii_name[:80]!r}: bad label {label[:80]!r}")
        unicode_name = ".".join(idna.decode(label) if label.startswith("xn--") else label for label in labels)
    except (idna.IDNAError, UnicodeError) as exc:
        raise BadDomainName(f"{text[:80]!r}: not IDNA ({str(exc)[:120]})") from None
    return unicode_name, ascii_name


def is_official(domain: str, official: Iterable[str]) -> bool:
    """True when ``domain`` (lower-case Unicode) is one of ``official`` or under one of them."""
    return any(domain == o or domain.endswith("." + o) for o in official)


def _scripts(text: str) -> set[str]:
    out = set()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            out.add(name.split(" ")[0] if name else "UNKNOWN")
    return out


@dataclass
class _Brand:
    spec: DomainBrand
    context: frozenset[str]
    ordinary_marks: frozenset[str] = field(default_factory=frozenset)


class DomainMatcher:
    """Marks of every brand indexed once; :meth:`match` reads one name.

    ``is_word`` decides which strings are dictionary words (the everyday lexicon in production, a set in
    tests); ``is_ordinary`` which marks are ordinary words (the matcher's lexicon); ``is_attested`` which
    strings are words of some language at all, rare ones included (``sandalias``), for the question "does a
    word span the mark" (default: ``is_word``)."""

    def __init__(
        self,
        brands: Sequence[DomainBrand],
        *,
        is_word: Callable[[str], bool],
        is_ordinary: Callable[[str], bool] | None = None,
        is_attested: Callable[[str], bool] | None = None,
        config: DomainConfig | None = None,
        match_config: MatchConfig | None = None,
    ) -> None:
        self.config = config or MatchConfig().domains
        self._is_word = is_word
        self._is_attested = is_attested or is_word
        self._index = MarkIndex(match_config or MatchConfig(), is_ordinary=is_ordinary or is_word)
        self._brands: list[_Brand] = []
        self._official: tuple[str, ...] = ()
        for brand in brands:
            self.add_brand(brand)

    def add_brand(self, brand: DomainBrand) -> None:
        slot = len(self._brands)
        keys: set[str] = set()
        for mark in dict.fromkeys(m for m in (brand.name, *brand.marks) if m and m.strip()):
            entry = self._index.add(slot, mark)
            if entry is not None:
                keys.update(entry.keys)
        context = frozenset(
            t.key_i for t in analyse(" ".join(brand.keywords), max_chars=20000)
            if len(t.key_i) >= 3 and t.key_i not in keys
        )
        self._brands.append(_Brand(brand, context))
        self._official = tuple(dict.fromkeys([*self._official, *brand.official_domains]))

    @property
    def official_domains(self) -> tuple[str, ...]:
        return self._official

    # --- reading one name --------------------------------------------------------------------------------
    def match(self, name: str) -> list[DomainHit]:
        """Every brand whose mark ``name`` spells, best score first; [] for an official domain, a name that
        spells no mark, or a name that is not a domain (:func:`parse_name` says why to callers that ask)."""
        try:
            unicode_name, ascii_name = parse_name(name)
        except BadDomainName:
            return []
        if is_official(unicode_name, self._official):
            return []
        parts = _extractor()(ascii_name)
        if not parts.domain:
            return []
        suffix = parts.suffix
        labels = [(parts.domain, False)] + [(s, True) for s in parts.subdomain.split(".") if s and s != "www"]
        best: dict[int, tuple[tuple[int, float], DomainHit]] = {}
        for ascii_label, in_subdomain in labels:
            label = idna.decode(ascii_label) if ascii_label.startswith("xn--") else ascii_label
            for slot, edits, hit in self._label_hits(label, ascii_label, suffix, in_subdomain, unicode_name,
                                                     ascii_name):
                rank = (edits, -hit.score)  # the closest spelling first, then the strongest reasons
                if slot not in best or rank < best[slot][0]:
                    best[slot] = (rank, hit)
        hits = [h for _rank, h in best.values() if h.score >= self.config.min_score]
        return sorted(hits, key=lambda h: (-h.score, str(h.brand_id)))

    def _label_hits(self, label: str, ascii_label: str, suffix: str, in_subdomain: bool,
                    unicode_name: str, ascii_name: str) -> Iterable[tuple[int, int, DomainHit]]:
        text = label.replace("-", " ").replace("_", " ")
        tokens = analyse(text, max_chars=MAX_LABEL * 2)
        if not tokens:
            return
        words = [t.key_i for t in tokens]
        joined = "".join(t.key_l for t in tokens)
        terms = terms_of(tokens, max_words=self._index.max_words, max_length=self._index.max_length)
        whole: list[MarkHit] = self._index.search(terms)
        whole += self._short_label_hits(tokens, {h.mark.mark_id for h in whole})
        inside = self._inside_hits(tokens, words)
        for hit, rest in [(h, _rest_of(words, h.term)) for h in whole] + inside:
            slot = hit.mark.owner
            brand = self._brands[slot]
            if hit.edits and self._is_word(hit.term.key_i) and hit.term.key_i not in hit.mark.keys:
                continue  # an everyday word one letter from the mark is that word
            rest_text = "".join(rest)
            context = sorted(w for w in brand.context if w in rest_text)
            sales = sorted(w for w in SALES_WORDS if w in rest_text)
            if hit.mark.ordinary and not (context or sales or _deliberate(hit, label)):
                continue  # an ordinary-word mark alone is the word, unless written in disguise
            yield slot, hit.edits, self._scored(brand, hit, label, ascii_label, suffix, in_subdomain, unicode_name,
                                     ascii_name, sales, context, joined, inside=hit.term.kind == "inside")

    def _short_label_hits(self, tokens: Sequence, found: set[int]) -> list[MarkHit]:
        """Short marks one edit from a label that is a single word (see ``DomainConfig.short_label_edits``);
        never an everyday word, never an ordinary-word mark."""
        if len(tokens) != 1 or self.config.short_label_edits <= 0:
            return []
        tok = tokens[0]
        out = []
        for entry in self._index.entries:
            if entry.allowed or entry.ordinary or entry.mark_id in found or entry.length < 3:
                continue
            for key in dict.fromkeys((tok.key_l, tok.key_i)):
                if abs(len(key) - entry.length) > self.config.short_label_edits:
                    continue
                dist = min(OSA.distance(key, k, score_cutoff=self.config.short_label_edits + 1) for k in entry.keys)
                if 0 < dist <= self.config.short_label_edits and not self._is_word(key):
                    term = Term(key, key, 0, 1, "label", tok.changes, tok.substitutions)
                    out.append(MarkHit(entry, term, dist))
                    break
        return out

    def _inside_hits(self, tokens: Sequence, words: list[str]) -> list[tuple[MarkHit, list[str]]]:
        """Marks inside a token written together with other words: each substring of a token's key whose
        length a mark could have, spelt exactly, kept when the rest splits into words and no word spans the
        mark."""
        out: list[tuple[MarkHit, list[str]]] = []
        for n, tok in enumerate(tokens):
            others = [w for m, w in enumerate(words) if m != n]
            for key in dict.fromkeys((tok.key_l, tok.key_i)):
                if len(key) < 5:
                    continue
                # Exact spellings only, so each mark key is looked for as it is (no neighbourhood search).
                for entry in self._index.entries:
                    for mark_key in entry.keys:
                        if len(mark_key) < 3 or len(mark_key) >= len(key):
                            continue
                        i = key.find(mark_key)
                        while i >= 0:
                            j = i + len(mark_key)
                            before, after = key[:i], key[j:]
                            if (self._splits(before) and self._splits(after)
                                    and not self._word_spans(key, i, j)):
                                term = Term(mark_key, mark_key, i, j, "inside", tok.changes, tok.substitutions)
                                out.append((MarkHit(entry, term, 0), [before, after, *others]))
                            i = key.find(mark_key, i + 1)
        return out

    def _splits(self, text: str) -> bool:
        """``text`` is empty, digits, or a run of words (sales words, fillers, dictionary words)."""
        return _segment(text, self._known) is not None

    def _known(self, piece: str) -> bool:
        if piece.isdigit():
            return True
        if piece in SALES_WORDS or piece in FILLER_WORDS:
            return True
        if any(piece in b.context for b in self._brands):
            return True
        return len(piece) >= 3 and self._is_word(piece)

    def _word_spans(self, key: str, i: int, j: int) -> bool:
        """A dictionary word of the key covers the mark ``key[i:j]`` and more (``panorama`` over ``norama``)."""
        for a in range(0, i + 1):
            for b in range(j, min(len(key), a + 24) + 1):
                if (a, b) != (i, j) and b - a > j - i and self._attested(key[a:b]):
                    return True
        return False

    def _attested(self, word: str) -> bool:
        """A word of some language, or its plural (``sandalias`` of ``sandalia``)."""
        if self._is_attested(word):
            return True
        return any(word.endswith(end) and len(word) - len(end) >= 4 and self._is_attested(word[: -len(end)])
                   for end in ("s", "es"))

    def _scored(self, brand: _Brand, hit: MarkHit, label: str, ascii_label: str, suffix: str,  # noqa: PLR0913
                in_subdomain: bool, unicode_name: str, ascii_name: str, sales: list[str], context: list[str],
                joined: str, *, inside: bool) -> DomainHit:
        cfg = self.config
        changes = hit.term.changes
        disguise = _disguise(hit, label, changes)
        score = cfg.base_exact if disguise in ("exact", "hyphenated", "combined") else cfg.base_disguised
        reasons = [f"spells the mark {hit.mark.text!r}" + ("" if disguise == "exact" else f" ({disguise})")]
        if inside or hit.term.kind in ("joined", "piece"):
            reasons.append("the mark is written together with other words")
        if sales:
            score += cfg.sales_word
            reasons.append(f"sales words: {', '.join(sales)}")
        if context:
            score += cfg.context_word
            reasons.append(f"the brand's trade words: {', '.join(context)}")
        if suffix.split(".")[-1] in SHOP_SUFFIXES:
            score += cfg.shop_suffix
            reasons.append(f"a shop suffix: .{suffix}")
        if hit.mark.ordinary:
            score += cfg.ordinary_mark
            reasons.append("the mark is an ordinary word")
        if hit.term.kind == "label" and hit.edits:
            score += cfg.short_label_edit
            reasons.append("a short mark one letter off, as the whole name")
        if in_subdomain:
            score += cfg.subdomain
            reasons.append("the mark is only in a subdomain")
        scripts = _scripts(label)
        if len(scripts) > 1:
            reasons.append(f"mixed scripts: {', '.join(sorted(scripts))}")
        if disguise == "exact" and brand.spec.official_domains and not in_subdomain:
            reasons.append("the brand's name under another domain than its own")
        return DomainHit(domain=unicode_name, ascii_domain=ascii_name, brand_id=brand.spec.brand_id,
                         mark=hit.mark.text, disguise=disguise, score=round(min(1.0, max(0.0, score)), 3),
                         reasons=tuple(reasons), sales_words=tuple(sales), label=label)


def _disguise(hit: MarkHit, label: str, changes: frozenset[str]) -> str:
    """How the name writes the mark: ``homoglyph``, ``leetspeak``, ``misspelt``, ``repeated``, ``accents``,
    ``hyphenated``, ``combined`` (with other words), or ``exact``."""
    if "confusables" in changes or "compat" in changes or not label.isascii():
        return "homoglyph"
    if "leetspeak" in changes:
        return "leetspeak"
    if hit.edits:
        return "misspelt"
    if "repeats" in changes:
        return "repeated"
    if "accents" in changes:
        return "accents"
    if hit.term.kind in ("spaced", "joined") or ("separators" in changes and hit.term.kind == "token"):
        return "hyphenated"
    if hit.term.kind in ("inside", "piece"):
        return "combined"
    return "exact"


def _deliberate(hit: MarkHit, label: str) -> bool:
    """The name writes the mark in a way nobody writes the ordinary word: look-alike letters, digits for
    letters, or the word cut by a hyphen."""
    return _disguise(hit, label, hit.term.changes) in ("homoglyph", "leetspeak") or (
        hit.term.kind in ("joined", "spaced") and hit.mark.words == 1)


def _rest_of(words: list[str], term: Term) -> list[str]:
    """The label's words outside a whole-token term."""
    return [w for n, w in enumerate(words) if not term.start <= n < term.end] if term.kind != "inside" else []


def _segment(text: str, known: Callable[[str], bool], *, longest: int = 24) -> list[str] | None:
    """``text`` split into known pieces (fewest pieces first), or None when it cannot be; "" gives []."""
    if not text:
        return []
    if len(text) > 64:
        return None
    best: list[list[str] | None] = [None] * (len(text) + 1)
    best[0] = []
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - longest), end):
            prev = best[start]
            if prev is not None and known(text[start:end]) and (
                    best[end] is None or len(prev) + 1 < len(best[end])):
                best[end] = [*prev, text[start:end]]
    return best[len(text)]


def mark_key(mark: str) -> str:
    """The main key of a mark (for permutations and reports)."""
    keys = mark_keys(mark)
    return keys[0] if keys else ""
