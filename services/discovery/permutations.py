"""Permutations: look-alike names made from each brand's official domains and marks with dnstwist's fuzzers
(used as a library; its fuzzers generate, they do not resolve), checked against the marks with the one
domain matcher, then resolved within a rate and a daily budget; those that resolve become candidates with
the time they first did.

One mark gives thousands of names, most of them homoglyphs, so:

- names are matched before they are resolved (a permutation the matcher does not read as the mark costs no
  query);
- the resolver is a setting (``discovery_resolver``: ``address:port``; unset: the system's), asked at most
  ``discovery_queries_per_second`` times a second and ``discovery_daily_budget`` times a UTC day (counted in
  ``resolver_budgets``, shared by every process on the database);
- each day starts at another place of the list (by the day's number), so a budget smaller than the list
  still covers all of it over the days.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import dns.exception
import dns.resolver
import dnstwist
from sqlalchemy import select

from core.errors import LookalikeError
from core.settings import Settings
from matching.domains import DomainBrand, DomainMatcher, mark_key, parse_name
from services.discovery.candidates import record_hits
from storage.db import Database
from storage.models import ResolverBudget, utcnow

#: The fuzzers of the issue, in dnstwist's names; ``cyrillic`` joins ``homoglyph`` (whole-name Cyrillic).
FUZZERS = ("addition", "bitsquatting", "homoglyph", "cyrillic", "hyphenation", "insertion", "omission",
           "repetition", "replacement", "subdomain", "transposition", "vowel-swap", "dictionary", "tld-swap")
#: Suffixes tried by the TLD swap: the common ones and those sold to shops.
SWAP_TLDS = ("com", "net", "org", "shop", "store", "online", "site", "top", "xyz", "co", "info", "biz", "us",
             "eu", "de", "co.uk", "fr", "it", "es", "nl", "app", "sale", "boutique", "buzz", "live")
#: Sales words for the dictionary fuzzer (a subset of the matcher's, the ones shops put in names).
DICTIONARY_SALES = ("shop", "store", "outlet", "sale", "official", "buy", "online", "deals", "discount", "cheap")
FEED = "permutation"
#: Resolved names per transaction.
CHUNK = 200
#: ``(ascii name) -> addresses`` (empty when the name does not resolve); raises ``dns.exception.DNSException``
#: when the resolver did not answer.
Lookup = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class Permutation:
    fuzzer: str
    domain: str


@dataclass
class PermutationReport:
    generated: int = 0
    spelling: int = 0
    queried: int = 0
    resolved: int = 0
    failed_queries: int = 0
    new_candidates: int = 0
    budget_left: int = 0

    def line(self) -> str:
        return (f"{self.generated} permutations, {self.spelling} read as a mark, {self.queried} resolved this run "
                f"({self.resolved} exist, {self.failed_queries} unanswered), {self.new_candidates} new candidates; "
                f"{self.budget_left} queries left today")


def dictionary_words(brand: DomainBrand) -> list[str]:
    """The brand's product and trade words (letters only, 3 to 20 long) and the sales words."""
    words = [w.lower() for text in brand.keywords for w in text.split()]
    words = [w for w in words if w.isascii() and w.isalpha() and 3 <= len(w) <= 20]
    return list(dict.fromkeys([*words, *DICTIONARY_SALES]))[:60]


def seed_domains(brand: DomainBrand) -> list[str]:
    """The names to permute: the brand's official domains, else each mark as a ``.com`` name."""
    if brand.official_domains:
        return [parse_name(d)[1] for d in brand.official_domains]
    out = []
    for mark in brand.marks:
        key = mark_key(mark)
        if key.isascii() and key.isalnum() and 2 <= len(key) <= 63:
            out.append(f"{key}.com")
    return list(dict.fromkeys(out))


def permutations(brand: DomainBrand, *, fuzzers: Sequence[str] = FUZZERS) -> list[Permutation]:
    """Every permutation of the brand's seed domains (punycode), without the seeds themselves, sorted so that
    the fewest-edit fuzzers come first and homoglyphs last."""
    order = {name: n for n, name in enumerate(("dictionary", "tld-swap", "omission", "repetition", "transposition",
                                                "hyphenation", "vowel-swap", "addition", "insertion", "replacement",
                                                "subdomain", "bitsquatting", "cyrillic", "homoglyph"))}
    seeds = seed_domains(brand)
    found: dict[str, Permutation] = {}
    for seed in seeds:
        fuzzer = dnstwist.Fuzzer(seed, dictionary=dictionary_words(brand), tld_dictionary=list(SWAP_TLDS))
        fuzzer.generate(fuzzers=list(fuzzers))
        for item in fuzzer.domains:
            name = item.get("domain", "")
            if name and name not in seeds:
                found.setdefault(name, Permutation(item.get("fuzzer", "?"), name))
    return sorted(found.values(), key=lambda p: (order.get(p.fuzzer, 99), p.domain))


def dns_lookup(nameserver: str | None, *, timeout: float = 3.0) -> Lookup:
    """A lookup asking ``nameserver`` (``address:port``; None: the system's resolvers) for A then AAAA."""
    if nameserver:
        address, _, port = nameserver.rpartition(":")
        if not address or not port.isdigit() or not 0 < int(port) < 65536:
            raise LookalikeError(f"discovery_resolver {nameserver[:100]!r}: write it as address:port")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [address.strip("[]")]
        resolver.port = int(port)
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = resolver.lifetime = timeout

    def lookup(name: str) -> list[str]:
        out: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = resolver.resolve(name, rdtype, search=False)
            except dns.resolver.NXDOMAIN:
                return []
            except dns.resolver.NoAnswer:
                continue
            out.extend(r.to_text() for r in answer)
        return out
    return lookup


class RateLimit:
    """At most ``per_second`` calls of :meth:`wait` a second (threads share it)."""

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            self._sleep(delay)


def _take_budget(database: Database, day: dt.date, wanted: int, budget: int) -> int:
    """Reserve up to ``wanted`` queries of ``day``'s ``budget``; returns how many were granted."""
    with database.session() as session:
        row = session.scalar(select(ResolverBudget).where(ResolverBudget.day == day).with_for_update())
        if row is None:
            row = ResolverBudget(day=day, queries=0)
            session.add(row)
        granted = max(0, min(wanted, budget - row.queries))
        row.queries += granted
        return granted


def budget_left(database: Database, budget: int, *, day: dt.date | None = None) -> int:
    day = day or utcnow().date()
    with database.session() as session:
        used = session.scalar(select(ResolverBudget.queries).where(ResolverBudget.day == day)) or 0
    return max(0, budget - used)


def run_permutations(  # noqa: PLR0913 - the limits are keywords
    database: Database, brands: Iterable[DomainBrand], matcher: DomainMatcher, *, lookup: Lookup,
    budget: int, rate: RateLimit, today: dt.date | None = None, fuzzers: Sequence[str] = FUZZERS,
) -> PermutationReport:
    """Generate, match, then resolve within the day's budget; store the names that resolve and spell a mark."""
    today = today or utcnow().date()
    report = PermutationReport()
    spelling: list[tuple[Permutation, list]] = []
    for brand in brands:
        perms = permutations(brand, fuzzers=fuzzers)
        report.generated += len(perms)
        for perm in perms:
            hits = [h for h in matcher.match(perm.domain) if h.brand_id == brand.brand_id]
            if hits:
                spelling.append((perm, hits))
    report.spelling = len(spelling)
    if spelling:
        start = (today.toordinal() * max(1, budget)) % len(spelling)
        spelling = spelling[start:] + spelling[:start]
    position = 0
    while position < len(spelling):
        chunk = spelling[position:position + CHUNK]
        granted = _take_budget(database, today, len(chunk), budget)
        if not granted:
            break
        found = []
        for perm, hits in chunk[:granted]:
            rate.wait()
            report.queried += 1
            try:
                addresses = lookup(perm.domain)
            except dns.exception.DNSException:
                report.failed_queries += 1
                continue
            if addresses:
                report.resolved += 1
                found.append((perm, hits))
        with database.session() as session:
            now = utcnow()
            for perm, hits in found:
                hits = [replace(h, reasons=(*h.reasons, f"a permutation of the brand's domain (dnstwist {perm.fuzzer})"))
                        for h in hits]
                report.new_candidates += len(record_hits(session, hits, feed=FEED, now=now, resolved_at=now))
        position += granted
        if granted < len(chunk):
            break
    report.budget_left = budget_left(database, budget, day=today)
    return report


def permute_registry(settings: Settings, database: Database, matcher: DomainMatcher,
                     brands: Sequence[DomainBrand], *, lookup: Lookup | None = None) -> PermutationReport:
    """:func:`run_permutations` with the settings' resolver, rate and budget."""
    return run_permutations(database, brands, matcher, lookup=lookup or dns_lookup(settings.discovery_resolver),
                            budget=settings.discovery_daily_budget,
                            rate=RateLimit(settings.discovery_queries_per_second))


__all__ = ["FUZZERS", "Permutation", "PermutationReport", "RateLimit", "dns_lookup",
           "permutations", "permute_registry", "run_permutations"]
