"""A labelled Certificate Transparency yardstick for discovery: about 2,000 DNS names, grouped into
certificates as issuers do (one to four names each), that hide 40 look-alike domains of a demo world's brands
among unrelated names and traps.

- **Look-alikes** (label ``lookalike``, with the brand): the mark with sales words, with the brand's product
  words, misspelt (a letter left out, doubled, swapped, replaced by a keyboard neighbour, a vowel changed),
  in look-alike letters of another script (IDNA), in digits for letters, cut by a hyphen, under another
  suffix, on a hosting platform's subdomain.  A brand whose mark is an ordinary word (``Summit``) is copied
  only beside its trade or sales words: the word alone is not the brand.
- **Traps** (label ``trap``): the brands' own domains and their subdomains, and dictionary words that contain
  a mark (``caravan`` for ``Ravan``, ``aquarium`` for ``Rium``), alone or with other words.
- **Unrelated** (label ``unrelated``): everyday words joined as sites name themselves.

Trap words come from a word list, never from a look at the marks of one world.  Nothing here reads the
matcher: the forms are what squatters register (dnstwist's fuzzers, the issue's
examples).  Seeds of ``data.demo.generate.TUNING_SEEDS`` may be looked at while building; the
``HELD_OUT_SEEDS`` are only measured.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import idna

from data.demo.catalogue import Brand, make_brands

SALES = ("shop", "store", "outlet", "sale", "official", "buy", "online", "deals", "discount", "cheap")
SUFFIXES = ("com", "net", "shop", "store", "online", "site", "top", "xyz", "co", "org", "info", "de", "fr")
HOSTING = ("myshopify.com", "wixsite.com", "github.io", "netlify.app")
#: Look-alike letters of other scripts (Cyrillic, Greek) for Latin letters.
HOMOGLYPHS = {"a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "x": "х", "y": "у", "s": "ѕ",
              "n": "п", "v": "ν", "u": "υ"}
LEET = {"o": "0", "l": "1", "e": "3", "a": "4", "s": "5", "i": "1"}
NEIGHBOURS = {"a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
              "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
              "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x"}
EVERYDAY = ("garden", "travel", "news", "blog", "photo", "family", "music", "city", "river", "green", "smart",
            "design", "studio", "cloud", "data", "home", "kitchen", "auto", "pizza", "coffee", "yoga", "dental",
            "law", "school", "health", "pets", "bike", "surf", "wedding", "hotel", "print", "media", "sport",
            "north", "sun", "blue", "tech", "code", "shop", "market", "local", "fresh", "wine", "books", "games",
            "film", "art", "craft", "tools", "energy", "solar", "farm", "baby", "style", "fit", "care", "clinic")
#: Most dictionary words holding one mark taken as traps.
WORDS_PER_MARK = 3
KINDS = ("sales", "product", "omission", "repetition", "transposition", "replacement", "vowel", "homoglyph",
         "leet", "hyphen", "suffix", "hosting")


@dataclass(frozen=True, slots=True)
class Name:
    """One name of the yardstick: ``label`` is ``lookalike``, ``trap`` or ``unrelated``; ``brand`` is the
    brand a look-alike copies (its registry name); ``kind`` how it was made."""

    name: str
    label: str
    brand: str | None = None
    kind: str = ""


def _ordinary(brand: Brand) -> bool:
    return brand.mark_style == "ordinary"


def _trade(brand: Brand, rng: random.Random) -> str:
    words = [w for w in brand.keywords if w.isalpha()] or ["shop"]
    return rng.choice(words)


def lookalike(brand: Brand, kind: str, rng: random.Random) -> str:
    """One look-alike name of ``brand`` made the ``kind`` way (ASCII, IDNA for other scripts)."""
    s = brand.slug.replace(" ", "")
    tld = rng.choice(SUFFIXES)
    i = rng.randrange(1, len(s) - 1) if len(s) > 2 else 0
    if kind == "sales":
        sale = rng.choice(SALES)
        label = rng.choice((f"{s}-{sale}", f"{sale}-{s}", f"{s}{sale}", f"{sale}{s}"))
    elif kind == "product":
        label = rng.choice((f"{s}-{_trade(brand, rng)}", f"{s}{_trade(brand, rng)}", f"{_trade(brand, rng)}-{s}"))
    elif kind == "omission":
        label = s[:i] + s[i + 1:]
    elif kind == "repetition":
        label = s[:i] + s[i] + s[i:]
    elif kind == "transposition":
        label = s[:i] + s[i + 1] + s[i] + s[i + 2:] if s[i] != s[i + 1] else s[:i] + s[i] + s[i:]
    elif kind == "replacement":
        label = s[:i] + rng.choice(NEIGHBOURS.get(s[i], s[i])) + s[i + 1:]
    elif kind == "vowel":
        spots = [n for n, ch in enumerate(s) if ch in "aeiou" and n > 0] or [i]
        n = rng.choice(spots)
        label = s[:n] + rng.choice([v for v in "aeiou" if v != s[n]]) + s[n + 1:]
    elif kind == "homoglyph":
        spots = [n for n, ch in enumerate(s) if ch in HOMOGLYPHS] or [0]
        n = rng.choice(spots)
        label = s[:n] + HOMOGLYPHS.get(s[n], s[n]) + s[n + 1:]
    elif kind == "leet":
        spots = [n for n, ch in enumerate(s) if ch in LEET and n > 0] or [0]
        n = rng.choice(spots)
        label = s[:n] + LEET.get(s[n], s[n]) + s[n + 1:]
    elif kind == "hyphen":
        label = s[:i] + "-" + s[i:]
    elif kind == "suffix":
        label, tld = s, rng.choice(("shop", "store", "net", "online", "co"))
    else:  # hosting
        label, tld = s, rng.choice(HOSTING)
    if _ordinary(brand) and kind not in ("sales", "product"):
        label = f"{label}-{rng.choice((_trade(brand, rng), rng.choice(SALES)))}"
    return idna.encode(f"{label}.{tld}", uts46=True).decode("ascii")


@functools.cache
def _common_words() -> dict[str, int]:
    """Words seen at least 500 times in pyspellchecker's English, Spanish, French, German and Italian lists."""
    from spellchecker import SpellChecker  # the word lists are large: loaded only when a yardstick is made

    out: dict[str, int] = {}
    for language in ("en", "es", "fr", "de", "it"):
        for word, count in SpellChecker(language=language).word_frequency.dictionary.items():
            if count >= 500 and word.isascii() and word.isalpha():
                out[word] = max(count, out.get(word, 0))
    return out


def holding_words(brands: list[Brand]) -> list[str]:
    """Common words (:func:`_common_words`) that hold a brand's mark and are at least two letters longer:
    ``aquarium`` for ``Rium``."""
    frequency = _common_words()
    common = sorted(frequency)
    out: list[str] = []
    for brand in brands:
        slug = brand.slug.replace(" ", "")
        found = [w for w in common if slug in w and len(w) >= len(slug) + 2]
        out.extend(sorted(found, key=lambda w: (-frequency[w], w))[:WORDS_PER_MARK])
    return list(dict.fromkeys(out))


def traps(brands: list[Brand], rng: random.Random) -> list[Name]:
    out = []
    for brand in brands:
        for domain in brand.registry_entry()["domains"]:
            out.append(Name(domain, "trap", kind="official"))
            out.extend(Name(f"{sub}.{domain}", "trap", kind="official") for sub in ("www", "shop", "mail", "cdn"))
        for host in brand.host_words:
            out.append(Name(f"{host}.com", "trap", kind="dictionary"))
            out.append(Name(f"{host}-{rng.choice(EVERYDAY)}.{rng.choice(SUFFIXES)}", "trap", kind="dictionary"))
    for word in holding_words(brands):
        out.append(Name(f"{word}.{rng.choice(SUFFIXES)}", "trap", kind="dictionary"))
        out.append(Name(f"{rng.choice(EVERYDAY)}{word}.{rng.choice(SUFFIXES)}", "trap", kind="dictionary"))
        out.append(Name(f"{word}-{rng.choice(EVERYDAY)}.com", "trap", kind="dictionary"))
    return out


def unrelated(count: int, rng: random.Random, *, avoid: set[str]) -> list[Name]:
    out: list[Name] = []
    while len(out) < count:
        words = rng.sample(EVERYDAY, k=rng.choice((1, 2, 2, 3)))
        label = rng.choice(("", "-")).join(words) + (str(rng.randrange(100)) if rng.random() < 0.2 else "")
        prefix = rng.choice(("", "", "www.", "mail.", "api.", f"{rng.choice(EVERYDAY)}."))
        name = f"{prefix}{label}.{rng.choice(SUFFIXES)}"
        if not any(a in name for a in avoid):
            out.append(Name(name, "unrelated"))
    return out


def ct_yardstick(seed: int, *, total: int = 2000, lookalikes: int = 40) -> tuple[list[Brand], list[Name]]:
    """The brands of the demo world of ``seed`` and its labelled names, shuffled."""
    rng = random.Random(seed * 7919 + 30)
    brands = make_brands(random.Random(seed))
    names: list[Name] = []
    seen: set[str] = set()
    kinds = list(KINDS)
    while len(names) < lookalikes:
        brand = brands[len(names) % len(brands)]
        kind = kinds[(len(names) // len(brands) + len(names)) % len(kinds)]
        name = lookalike(brand, kind, rng)
        official = {d for d in brand.registry_entry()["domains"]}
        # A misspelling that is a common word ("ride" for Ridge) is that word, not a look-alike.
        if name.split(".")[0] in _common_words() or name in seen or name in official:
            kind = rng.choice(("sales", "product"))
            name = lookalike(brand, kind, rng)
            if name in seen or name in official:
                continue
        seen.add(name)
        names.append(Name(name, "lookalike", brand.name, kind))
    trap_names = [t for t in traps(brands, rng) if t.name not in seen]
    avoid = {b.slug for b in brands} | {h for b in brands for h in b.host_words}
    names += trap_names + unrelated(total - len(names) - len(trap_names), rng, avoid=avoid)
    rng.shuffle(names)
    return brands, names


def certificates(names: list[Name], rng: random.Random) -> list[list[str]]:
    """The names grouped into certificates of one to four names, in order."""
    out, i = [], 0
    while i < len(names):
        n = rng.choice((1, 1, 2, 2, 3, 4))
        out.append([x.name for x in names[i:i + n]])
        i += n
    return out
