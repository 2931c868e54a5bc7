"""The demo brands: coined and ordinary-word marks, owners, sellers, products with MSRP and packshot looks.

A brand's name varies with the seed.  Most marks are coined from syllables (``ONSETS`` + ``CODAS``); one is
a short four-letter mark (consonant-vowel-consonant-vowel); two are ordinary English words of their
category's vocabulary (a home-fragrance brand "Meadow"), which only keywords can tell apart from the word's
ordinary use; two (one in worlds of fewer than ten brands) are ``embedded``: coined-looking marks cut out of
an ordinary word of :data:`data.demo.vocab.HOST_WORDS` ("Norama" out of "panorama"), so that everyday
phrases in several languages contain the mark inside a longer word.  Prices are ``Decimal`` in major units of the brand's currency (USD, EUR or GBP).
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from data.demo.packshots import PALETTE, Look
from data.demo.vocab import (
    CATEGORIES,
    CODAS,
    CONSONANTS,
    HOST_WORDS,
    ONSETS,
    RETAILERS,
    VOWELS,
    Category,
    ProductType,
)

OWNER_NAMES = ("Et Al", "Harlow", "Birch & Vine", "Moreno", "Okafor", "Lindqvist", "Tanaka", "Brightwater",
               "Kestrel", "Ashdown", "Finch", "Oduya", "Varga", "Castellan", "Penrose", "Quill")
CURRENCIES = ("USD", "USD", "EUR", "GBP")


@dataclass
class Product:
    name: str
    sku: str
    msrp: Decimal
    currency: str
    kind: ProductType
    look: Look
    gtin: str
    images: list[str] = field(default_factory=list)
    """Official photo paths relative to the world folder (``refs/<slug>/<sku>-a.jpg``)."""
    photo_size: int = 720
    """Side of the square official photos in px."""


@dataclass
class Brand:
    name: str
    slug: str
    mark_style: str
    """``coined``, ``short`` (four-letter coined), ``embedded`` (cut out of ordinary words) or ``ordinary``
    (an ordinary English word)."""
    parts: tuple[str, ...]
    """Syllables of a coined mark (``("nova", "lux")``) or the word itself."""
    owner: str
    digest_to: list[str]
    category: Category
    keywords: list[str]
    aliases: list[str]
    authorized_sellers: list[str]
    products: list[Product] = field(default_factory=list)
    host_words: tuple[str, ...] = ()
    """For an ``embedded`` mark: the words of :data:`HOST_WORDS` that contain it."""
    real_photo: str | None = None
    """A scikit-image sample photo used as the backdrop of one official photo (coffee, pet brands)."""

    def registry_entry(self) -> dict:
        """The brand as a ``registry.yaml`` mapping (plain types only)."""
        return {
            "name": self.name,
            "owner": self.owner,
            "digest_to": list(self.digest_to),
            "category": self.category.slug,
            "keywords": list(self.keywords),
            "aliases": list(self.aliases),
            "authorized_sellers": list(self.authorized_sellers),
            "products": [
                {"name": p.name, "sku": p.sku, "msrp": float(p.msrp), "currency": p.currency, "images": list(p.images)}
                for p in self.products
            ],
            # A made-up registration (demo only), derived from the slug so the world stays deterministic.
            "trademarks": [{
                "office": "DEMO-TMO", "number": f"DEMO-{zlib.crc32(self.slug.encode()) % 10_000_000:07d}",
                "classes": [3 + zlib.crc32(self.category.slug.encode()) % 40], "jurisdiction": "DEMO",
                "owner_of_record": self.owner,
            }],
            "rights_holder": {"name": f"{self.owner} brand protection", "email": (self.digest_to or ["brand@example.com"])[0]},
            # The brand's own shop and an authorised regional one: discovery never makes them candidates.
            "domains": [f"{self.slug}.com", f"{self.slug}-store.example"],
        }


def coined_mark(rng: random.Random, *, short: bool = False) -> tuple[str, tuple[str, ...]]:
    """A pronounceable invented mark and its syllables: ``("Novalux", ("nova", "lux"))`` or ``("Zuko", ...)``."""
    if short:
        word = rng.choice(CONSONANTS) + rng.choice(VOWELS) + rng.choice(CONSONANTS) + rng.choice(VOWELS)
        return word.capitalize(), (word[:2], word[2:])
    parts = [rng.choice(ONSETS)]
    if rng.random() < 0.5:
        parts.append(rng.choice(ONSETS))
    parts.append(rng.choice(CODAS))
    if len(parts) == 3 and rng.random() < 0.5:
        parts = [parts[0] + parts[1], parts[2]]
    joined = [parts[0]]
    for part in parts[1:]:
        if joined[-1][-1] == part[0] and part[0] in VOWELS:
            part = part[1:]  # "ri" + "ium" -> "rium", not "riium"
        joined.append(part)
    return "".join(joined).capitalize(), tuple(joined)


def embedded_mark(rng: random.Random, *, taken: set[str]) -> tuple[str, tuple[str, ...]]:
    """A mark cut out of ordinary words: ``("Norama", ("panorama",))``.

    Candidates are 5-6 letter pieces from inside a word of :data:`HOST_WORDS` (not its start) that begin
    with a consonant followed by a vowel; the hosts are every word holding the piece.
    """
    candidates = sorted({
        word[i:i + n] for word in HOST_WORDS for n in (5, 6) for i in range(1, len(word) - n + 1)
        if word[i] in CONSONANTS and word[i + 1] in VOWELS and sum(c in VOWELS for c in word[i:i + n]) >= 2
        and word[i:i + n].isascii()
    })
    stems = {t.lower()[:3] for t in taken}
    pool = [c for c in candidates if c[:3] not in stems] or candidates
    piece = rng.choice(pool)
    return piece.capitalize(), tuple(sorted(w for w in HOST_WORDS if piece in w))


def gtin13(rng: random.Random) -> str:
    """A random GTIN-13 with a valid check digit (prefix 50-59, made up)."""
    body = str(rng.randint(50, 59)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _price(rng: random.Random, low: float, high: float) -> Decimal:
    value = rng.uniform(low, high)
    cents = rng.choice(("00", "99", "50", "95"))
    return Decimal(f"{int(value)}.{cents}")


def _brand_look(rng: random.Random) -> Look:
    body = rng.choice(PALETTE)
    accent = rng.choice([c for c in PALETTE if c != body])
    label = rng.choice(((255, 255, 255), (250, 246, 236), (20, 20, 24), accent))
    ink = (20, 20, 24) if sum(label) > 380 else (255, 255, 255)
    return Look(shape="box", body=body, accent=accent, label=label, ink=ink,
                logo=rng.choice(("circle", "diamond", "bar", "none")))


def _sku_prefix(name: str, taken: set[str]) -> str:
    letters = [c for c in name.upper() if c.isalpha()]
    for candidate in ("".join(letters[:3]), letters[0] + "".join(letters[-2:]), letters[0] + letters[1] + "X"):
        if len(candidate) == 3 and candidate not in taken:
            return candidate
    i = 0
    while f"{letters[0]}{i:02d}" in taken:
        i += 1
    return f"{letters[0]}{i:02d}"


def make_brands(rng: random.Random, *, count: int = 12) -> list[Brand]:
    """``count`` brands (>= 4; every category once from 10): two ordinary-word marks (one below 10 brands),
    one short mark, two embedded marks (one below 10), the rest coined."""
    if count < 4:
        raise ValueError("a demo world needs at least 4 brands")
    categories = list(CATEGORIES)
    rng.shuffle(categories)
    chosen = categories + rng.sample(categories, k=max(0, count - len(categories)))
    chosen = chosen[:count]
    pairs = 2 if count >= 10 else 1
    ordinary_at = set(rng.sample([i for i, c in enumerate(chosen) if c.ordinary_words], k=pairs))
    short_at = rng.choice([i for i in range(count) if i not in ordinary_at])
    embedded_at = set(rng.sample([i for i in range(count) if i not in ordinary_at and i != short_at], k=pairs))
    names: set[str] = set()
    owners: set[str] = set()
    prefixes: set[str] = set()
    ordinary_words = {w.lower() for c in CATEGORIES for w in c.ordinary_words}
    brands: list[Brand] = []
    for i, category in enumerate(chosen):
        if i in ordinary_at:
            word = rng.choice(sorted(w for w in category.ordinary_words if w not in names))
            name, parts, style = word, (word.lower(),), "ordinary"
        elif i in embedded_at:
            name, hosts = embedded_mark(rng, taken=names)
            parts, style = (name.lower(),), "embedded"
        else:
            while True:
                name, parts = coined_mark(rng, short=i == short_at)
                if (name.lower()[:2] not in {n.lower()[:2] for n in names}
                        and name.lower()[-3:] not in {n.lower()[-3:] for n in names}
                        and name.lower() not in ordinary_words and 4 <= len(name) <= 10):
                    break
            style = "short" if i == short_at else "coined"
        names.add(name)
        slug = name.lower()
        base = next(o for o in rng.sample(OWNER_NAMES, len(OWNER_NAMES)) if o not in owners)
        owners.add(base)
        owner = f"{base} {rng.choice(category.owner_words)}"
        sellers = [rng.choice((f"{owner} Official Store", f"{name} Official Store", f"{name} Official"))]
        if rng.random() < 0.6:
            sellers.append(rng.choice(RETAILERS))
        aliases: list[str] = []
        if style == "coined" and len(parts) > 1:
            aliases.append(" ".join(p.capitalize() for p in parts))
        if style == "ordinary":
            aliases.append(f"{name} {category.owner_words[0]}")
        if rng.random() < 0.3:
            aliases.append(name.upper())
        keywords = sorted(set(rng.sample(category.keywords, k=min(4, len(category.keywords)))))
        digest = [f"alerts@{slug}.example.com"]
        if rng.random() < 0.5:
            digest.append(f"legal@{owner.split()[0].lower().replace('&', 'and')}.example.org")
        brand = Brand(name=name, slug=slug, mark_style=style, parts=parts, owner=owner, digest_to=digest,
                      category=category, keywords=keywords, aliases=aliases, authorized_sellers=sellers,
                      host_words=hosts if style == "embedded" else ())
        if category.slug == "coffee":
            brand.real_photo = "coffee"
        elif category.slug == "pet":
            brand.real_photo = "chelsea"
        prefix = _sku_prefix(name, prefixes)
        prefixes.add(prefix)
        look = _brand_look(rng)
        currency = rng.choice(CURRENCIES)
        kinds = rng.sample(list(category.products), k=min(len(category.products), rng.randint(2, 4)))
        for n, kind in enumerate(kinds, start=1):
            product_look = Look(shape=kind.shape, body=look.body if rng.random() < 0.7 else rng.choice(PALETTE),
                                accent=look.accent, label=look.label, ink=look.ink, logo=look.logo)
            brand.products.append(Product(
                name=f"{name} {kind.noun}", sku=f"{prefix}-{n:03d}", msrp=_price(rng, *kind.price),
                currency=currency, kind=kind, look=product_look, gtin=gtin13(rng)))
        brand.keywords = sorted(set(brand.keywords) | {w.lower() for p in kinds for w in p.noun.split()[-1:]})
        brands.append(brand)
    return brands


def other_marks(rng: random.Random, *, count: int, avoid: set[str]) -> list[str]:
    """Coined marks of unregistered brands, none sharing its first three letters with a name in ``avoid``."""
    stems = {a.lower()[:3] for a in avoid}
    out: list[str] = []
    for _ in range(count * 200):
        if len(out) >= count:
            break
        name, _ = coined_mark(rng, short=rng.random() < 0.2)
        if name.lower()[:3] not in stems and name not in out:
            out.append(name)
            stems.add(name.lower()[:3])
    return out + [f"Generic{i}" for i in range(count - len(out))]
