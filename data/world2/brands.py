"""Brands of the second world: six trades, four kinds of mark, products with MSRP and pack designs.

Kinds of mark (``Brand.style``):

- ``coined``: an invented word from :func:`coined_word` ("Vorkelt", "Brisande"); never a dictionary word;
- ``compound``: two ordinary words run together ("Gearline", "Pawnest"), which an ordinary phrase can
  spell with a hyphen or a space ("gear-line", "paw nest");
- ``dictionary``: one ordinary word ("Anvil", "Acorn"), used in its ordinary sense inside and outside the
  trade;
- ``phrase``: two ordinary words ("Fine Line", "True North"), an everyday phrase of the trade or of
  other goods.

Each mark of the three last kinds comes with phrases that use its words innocently (:data:`INNOCENT`): the
generic phrase of the trade, the ordinary sense elsewhere.  These are the world's hard negatives.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

from data.world2.draw import EMBLEMS, LAYOUTS, PATTERNS, SHAPES, Design


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of product of a trade: its noun, pack shape, MSRP range and how accessories name it."""

    noun: str
    line: str
    shape: str
    price: tuple[float, float]
    accessory: str
    """An accessory or refill title naming the product: ``"Replacement pin for {mark} {noun}"``."""


@dataclass(frozen=True, slots=True)
class Trade:
    slug: str
    words: tuple[str, ...]
    """Words of the trade, given to the registry as keywords."""
    kinds: tuple[Kind, ...]
    owner_suffixes: tuple[str, ...]
    pictures: tuple[str, ...] = ()
    """Real photographs its packs print in a window (pet treats show a cat)."""


TRADES = (
    Trade("kitchenware", ("kitchen", "cookware", "grinder", "knife", "canister", "kettle"), (
        Kind("Pepper Mill", "ADJUSTABLE CERAMIC BURR", "bottle", (24, 48), "Replacement burr for {mark} {noun}"),
        Kind("Storage Canister", "AIRTIGHT · 1.2 L", "tin", (14, 30), "Silicone seal ring for {mark} {noun}"),
        Kind("Chef Knife", "20 CM · HIGH-CARBON STEEL", "box", (45, 120), "Magnetic blade guard for {mark} {noun}"),
        Kind("Pour-Over Kettle", "GOOSENECK · 1 L", "box", (38, 75), "Replacement lid knob for {mark} {noun}"),
        Kind("Spatula Set", "SILICONE · 3 PIECES", "card", (12, 22), "Hanging rail for {mark} {noun}"),
    ), ("Kitchen Co", "Housewares", "Cookware Ltd"), ("coffee",)),
    Trade("tools", ("tool", "tools", "workshop", "screwdriver", "wrench", "hex"), (
        Kind("Chain Tool", "11/12 SPEED · STEEL PIN", "card", (18, 36), "Replacement pin for {mark} {noun}"),
        Kind("Precision Screwdriver Set", "42 BITS · S2 STEEL", "box", (22, 55), "Bit refill for {mark} {noun}"),
        Kind("Tape Measure", "5 M · AUTO LOCK", "card", (9, 19), "Belt holster for {mark} {noun}"),
        Kind("Hex Key Set", "9 PIECES · BALL END", "card", (11, 26), "Wall holder for {mark} {noun}"),
        Kind("Work Gloves", "NITRILE GRIP · SIZE L", "pouch", (8, 17), "Spare pair for {mark} {noun}"),
    ), ("Tool Works", "Hardware", "Toolmakers")),
    Trade("supplements", ("supplement", "vitamin", "capsules", "wellness", "tablets", "nutrition"), (
        Kind("Vitamin D3 Capsules", "2000 IU · 90 CAPSULES", "jar", (12, 26), "Refill pouch for {mark} {noun}"),
        Kind("Magnesium Glycinate", "120 TABLETS · 400 MG", "jar", (16, 32), "Pill organiser for {mark} {noun}"),
        Kind("Omega-3 Softgels", "1000 MG · 60 SOFTGELS", "bottle", (15, 35), "Travel case for {mark} {noun}"),
        Kind("Electrolyte Tablets", "LEMON · 20 TABLETS", "tube", (7, 14), "Bottle clip for {mark} {noun}"),
        Kind("Protein Powder", "VANILLA · 900 G", "pouch", (25, 48), "Measuring scoop for {mark} {noun}"),
    ), ("Nutrition", "Wellness", "Health Ltd")),
    Trade("stationery", ("stationery", "notebook", "pen", "ink", "paper", "pencil"), (
        Kind("Fountain Pen Ink", "50 ML · DEEP BLUE", "bottle", (11, 24), "Converter for {mark} {noun}"),
        Kind("Dot Grid Notebook", "A5 · 160 PAGES", "box", (14, 29), "Leather cover for {mark} {noun}"),
        Kind("Gel Pen Set", "0.5 MM · 12 COLOURS", "card", (9, 21), "Refill cartridges for {mark} {noun}"),
        Kind("Washi Tape Set", "15 MM · 8 ROLLS", "tin", (8, 18), "Tape dispenser for {mark} {noun}"),
        Kind("Mechanical Pencil", "0.7 MM · HB", "card", (6, 15), "Lead refills for {mark} {noun}"),
    ), ("Paper Co", "Stationers", "Papeterie")),
    Trade("pet", ("pet", "cat", "dog", "treats", "grooming", "litter"), (
        Kind("Cat Treats", "CHICKEN · 80 G", "pouch", (4, 9), "Treat dispenser for {mark} {noun}"),
        Kind("Dog Shampoo", "OATMEAL · 500 ML", "bottle", (9, 19), "Pump top for {mark} {noun}"),
        Kind("Grooming Brush", "SELF-CLEANING · SOFT PINS", "card", (12, 26), "Replacement pad for {mark} {noun}"),
        Kind("Litter Deodoriser", "UNSCENTED · 700 G", "tin", (7, 14), "Refill pack for {mark} {noun}"),
        Kind("Dental Chews", "MEDIUM DOGS · 28 STICKS", "pouch", (11, 24), "Storage tub for {mark} {noun}"),
    ), ("Pet Care", "Petfoods", "Animal Health"), ("chelsea",)),
    Trade("bike", ("bike", "bicycle", "cycling", "chain", "tyre", "lube"), (
        Kind("Chain Lube", "DRY CONDITIONS · 120 ML", "bottle", (8, 18), "Applicator nozzle for {mark} {noun}"),
        Kind("Puncture Repair Kit", "12 PATCHES · GLUELESS", "box", (6, 14), "Patch refill for {mark} {noun}"),
        Kind("Degreaser Spray", "BIODEGRADABLE · 500 ML", "bottle", (9, 20), "Trigger head for {mark} {noun}"),
        Kind("Tyre Levers", "NYLON · SET OF 3", "card", (5, 11), "Clip holder for {mark} {noun}"),
        Kind("Mini Pump", "160 PSI · PRESTA/SCHRADER", "tube", (19, 42), "Frame mount for {mark} {noun}"),
    ), ("Cycle Co", "Cycling", "Bike Parts")),
)
TRADE = {t.slug: t for t in TRADES}

INNOCENT: dict[str, dict[str, tuple[str, ...]]] = {
    # --- pool "tuning" ---
    "Gearline": {"style": ("compound",), "pool": ("tuning",), "trade": ("tools", "bike"),
                 "same": ("Gear-Line Chain Tool for 9/10 speed", "Gear line cable cutter pliers",
                          "Gear-line housing end caps, 50 pcs"), "other": ("Gear line hook rack for garage walls",)},
    "Pawnest": {"style": ("compound",), "pool": ("tuning",), "trade": ("pet",),
                "same": ("Paw nest cat bed, washable plush", "Cosy paw-nest donut bed for small dogs"),
                "other": ("Paw nest baby blanket with bear print",)},
    "Vitaleaf": {"style": ("compound",), "pool": ("tuning",), "trade": ("supplements",),
                 "same": ("Vita leaf green tea extract capsules, 60 ct", "Vita-leaf moringa powder 250 g"),
                 "other": ("Vita-leaf artificial plant for shelves",)},
    "Anvil": {"style": ("dictionary",), "pool": ("tuning",), "trade": ("tools",),
              "same": ("Cast iron anvil 10 kg for blacksmith work", "Mini anvil bench block for jewellers"),
              "other": ("Anvil cloud print poster", "Anvil shaped cookie cutter")},
    "Biscuit": {"style": ("dictionary",), "pool": ("tuning",), "trade": ("pet",),
                "same": ("Biscuit jar for dog treats, ceramic", "Dog biscuit baking moulds, silicone"),
                "other": ("Biscuit tin with Scottish shortbread", "Biscuit joiner for woodworking")},
    "Margin": {"style": ("dictionary",), "pool": ("tuning",), "trade": ("stationery",),
               "same": ("Margin ruler for notebooks, 30 cm", "Wide margin exam paper, 500 sheets"),
               "other": ("Margin calculator for traders, desktop",)},
    "Fine Line": {"style": ("phrase",), "pool": ("tuning",), "trade": ("stationery",),
                  "same": ("Fine line marker pens 0.4 mm, set of 10", "Fine line drawing pens for manga",
                           "Extra fine line brush pen"), "other": ("Fine line tattoo aftercare balm",)},
    "Happy Paws": {"style": ("phrase",), "pool": ("tuning",), "trade": ("pet",),
                   "same": ("Paw balm for happy paws in winter", "Happy paws dog socks, anti-slip"),
                   "other": ("Happy paws kids' slippers",)},
    "Slow Pour": {"style": ("phrase",), "pool": ("tuning",), "trade": ("kitchenware",),
                  "same": ("Slow pour spout for olive oil bottles", "Slow-pour coffee filter papers, 100"),
                  "other": ("Slow pour candle in amber glass",)},
    # --- pool "held-out" ---
    "Saltbridge": {"style": ("compound",), "pool": ("held-out",), "trade": ("kitchenware",),
                   "same": ("Salt bridge breaker for water softeners", "Salt-bridge cleaning tool for brine tanks"),
                   "other": ("Salt bridge electrode for chemistry lab kits",)},
    "Spokeworks": {"style": ("compound",), "pool": ("held-out",), "trade": ("bike",),
                   "same": ("Spoke works wrench for wheel truing", "Spoke-works tension meter"),
                   "other": ("Spoke works wall clock, wagon wheel style",)},
    "Pagecraft": {"style": ("compound",), "pool": ("held-out",), "trade": ("stationery",),
                  "same": ("Page craft kit for scrapbooking, 40 sheets", "Page-craft punch set, 6 shapes"),
                  "other": ("Page craft wooden bookends",)},
    "Acorn": {"style": ("dictionary",), "pool": ("held-out",), "trade": ("supplements", "stationery"),
              "same": ("Acorn flour, 500 g, gluten free",),
              "other": ("Acorn squash seeds, heirloom", "Felt acorn garland for autumn decor", "Oak acorn bird feeder")},
    "Kestrel": {"style": ("dictionary",), "pool": ("held-out",), "trade": ("bike", "tools"),
                "same": ("Kestrel bird bell for bike handlebars",),
                "other": ("Kestrel falcon wildlife photo print", "Kestrel nesting box, wooden")},
    "Ember": {"style": ("dictionary",), "pool": ("held-out",), "trade": ("kitchenware",),
              "same": ("Ember mask for grills and fire pits",),
              "other": ("Ember glow LED fireplace insert", "Ember orange velvet cushion cover")},
    "Inkwell": {"style": ("dictionary",), "pool": ("held-out",), "trade": ("stationery",),
                "same": ("Glass inkwell with brass lid for dip pens", "Vintage inkwell and quill desk set"),
                "other": ("Inkwell shaped candle holder",)},
    "True North": {"style": ("phrase",), "pool": ("held-out",), "trade": ("tools",),
                   "same": ("True north compass for orienteering", "True north alignment laser level"),
                   "other": ("True North canvas map print", "True north necklace, compass pendant")},
    "Golden Hour": {"style": ("phrase",), "pool": ("held-out",), "trade": ("supplements",),
                    "same": ("Golden hour turmeric latte blend",),
                    "other": ("Golden hour sunset lamp projector", "Golden Hour wall lamp, brass",
                              "Golden hour photo presets")},
    "Clean Chain": {"style": ("phrase",), "pool": ("held-out",), "trade": ("bike",),
                    "same": ("Clean chain brush for bicycle drivetrains", "Keep a clean chain: degreasing gel"),
                    "other": ("Clean chain necklace, stainless steel",)},
}
"""Non-coined marks and the innocent phrases that contain or spell them: ``same`` within the trade,
``other`` on other goods; ``trade`` names the trades the mark may be registered in.  The marks are in two
disjoint pools: tuning seeds draw from ``tuning``, every other seed (the held-out ones) from ``held-out``, so
a word list fitted to a tuning world cannot know a held-out world's marks."""


def pool_of(role: str) -> str:
    """The mark pool of a seed role: ``tuning`` for tuning seeds, ``held-out`` for every other seed."""
    return "tuning" if role == "tuning" else "held-out"


ONSETS = ("br", "dr", "fl", "gr", "kl", "pr", "sk", "tr", "v", "z", "m", "n", "l", "r", "th", "qu", "h", "j",
          "sv", "t")
NUCLEI = ("a", "e", "i", "o", "u", "ae", "ei", "ou", "y")
CODAS = ("nd", "lt", "rk", "x", "st", "mb", "v", "l", "n", "r", "sk", "th", "lq", "rv")
ENDINGS = ("a", "o", "is", "ex", "ine", "ora", "eth", "ant", "ique", "ulo", "ax", "ette", "ist", "elt", "ande")
OWNERS = ("Marlow", "Osei", "Brandt", "Haverford", "Nakamura", "Ferreira", "Kowalski", "Lindgren", "Achebe",
          "Quint", "Rourke", "Sandoval", "Tidewell", "Ulrich", "Whitcombe", "Yarrow")
RETAILERS = ("Hardwick & Sons", "Brightmart", "Caddy Lane Supplies", "Northgate Trading", "The Counter Store",
             "Millbrook Retail", "Parcel & Pine", "Oakfield Direct")
PALETTE = ((33, 64, 112), (178, 44, 44), (24, 110, 80), (236, 168, 32), (92, 48, 120), (20, 20, 24),
           (230, 110, 40), (40, 150, 170), (140, 140, 140), (196, 64, 120), (110, 80, 50), (250, 250, 245))
PAPERS = ((250, 248, 240), (255, 255, 255), (242, 236, 220), (30, 30, 34))
FONTS = ("sans", "serif", "mono", "stix", "pillow", "serif-italic", "oblique", "hershey-duplex", "hershey-triplex")
CURRENCIES = ("USD", "EUR", "GBP", "USD")


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    from spellchecker import SpellChecker  # deferred: loading the word list takes a second

    return frozenset(SpellChecker(language="en").word_frequency.keys())


def coined_word(rng: random.Random) -> str:
    """An invented, pronounceable word of 5 to 9 letters: onset, nucleus, coda, ending ("Vorkelt"); never a
    word of pyspellchecker's English list."""
    while True:
        word = rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS) + rng.choice(ENDINGS)
        if 5 <= len(word) <= 9 and word not in _english():
            return word.capitalize()


@dataclass
class Product:
    name: str
    sku: str
    msrp: Decimal
    currency: str
    kind: Kind
    design: Design
    images: list[str] = field(default_factory=list)
    photo_size: int = 800


@dataclass
class Brand:
    name: str
    slug: str
    style: str
    trade: Trade
    owner: str
    authorized_sellers: list[str]
    aliases: list[str]
    keywords: list[str]
    look: Design
    """The maker's pack design (its ``line`` is set per product)."""
    products: list[Product] = field(default_factory=list)

    def registry_entry(self) -> dict:
        """The brand as a ``registry.yaml`` mapping (plain types only)."""
        return {
            "name": self.name, "owner": self.owner, "digest_to": [f"watch@{self.slug}.example.net"],
            "category": self.trade.slug, "keywords": list(self.keywords), "aliases": list(self.aliases),
            "authorized_sellers": list(self.authorized_sellers),
            "products": [{"name": p.name, "sku": p.sku, "msrp": float(p.msrp), "currency": p.currency,
                          "images": list(p.images)} for p in self.products],
            "trademarks": [{"office": "DEMO-TMO", "number": f"W2-{zlib.crc32(self.slug.encode()) % 1_000_000:06d}",
                            "classes": [8 + zlib.crc32(self.trade.slug.encode()) % 30], "jurisdiction": "DEMO"}],
            "rights_holder": {"name": f"{self.owner} legal", "email": f"legal@{self.slug}.example.net"},
        }


def random_look(rng: random.Random, mark: str, *, shape: str | None = None) -> Design:
    """A maker's pack design with ``mark`` printed on it."""
    body = rng.choice(PALETTE)
    accent = rng.choice([c for c in PALETTE if c != body])
    paper = rng.choice(PAPERS)
    ink = (20, 20, 24) if sum(paper) > 380 else (250, 250, 250)
    if sum(accent) > 600 and sum(paper) > 600:
        accent = (40, 40, 44)
    return Design(shape=shape or rng.choice(SHAPES), layout=rng.choice(LAYOUTS), emblem=rng.choice(EMBLEMS),
                  pattern=rng.choice(PATTERNS), font=rng.choice(FONTS), body=body, paper=paper, ink=ink,
                  accent=accent, mark=mark, line="", caps=rng.random() < 0.35)


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def make_brands(rng: random.Random, *, count: int = 10, pool: str = "held-out") -> list[Brand]:
    """``count`` brands (at least 4): two in five non-coined (compound, dictionary, phrase, drawn from the
    marks of ``pool``), the rest coined, spread over the six trades."""
    if count < 4:
        raise ValueError("the second world needs at least 4 brands")
    styles = ["compound", "dictionary", "phrase"] * (1 + count // 9)
    styles = styles[: max(3, count * 2 // 5)]
    styles += ["coined"] * (count - len(styles))
    rng.shuffle(styles)
    trades = list(TRADES)
    rng.shuffle(trades)
    taken: set[str] = set()
    owners = rng.sample(OWNERS, k=min(count, len(OWNERS)))
    brands: list[Brand] = []
    for i, style in enumerate(styles):
        trade = trades[i % len(trades)]
        if style == "coined":
            name = coined_word(rng)
            while name in taken or name[:3] in {t[:3] for t in taken}:
                name = coined_word(rng)
        else:
            marks = sorted(m for m, v in INNOCENT.items() if m not in taken and style in v["style"]
                           and pool in v["pool"])
            fitting = [m for m in marks if trade.slug in INNOCENT[m]["trade"]]
            name = rng.choice(fitting or marks)
            trade = TRADE[INNOCENT[name]["trade"][0]] if not fitting else trade
        taken.add(name)
        slug = _slug(name)
        owner = f"{owners[i % len(owners)]} {rng.choice(trade.owner_suffixes)}"
        sellers = [rng.choice((f"{name} Official Store", f"{name} Direct", f"{owner}"))]
        if rng.random() < 0.7:
            sellers.append(rng.choice(RETAILERS))
        aliases = [name.upper()] if rng.random() < 0.3 else []
        look = random_look(rng, name)
        brand = Brand(name=name, slug=slug, style=style, trade=trade, owner=owner, authorized_sellers=sellers,
                      aliases=aliases, keywords=sorted(rng.sample(trade.words, k=4)), look=look)
        currency = rng.choice(CURRENCIES)
        prefix = (slug[:3].upper() + "XX")[:3]
        for n, kind in enumerate(rng.sample(list(trade.kinds), k=rng.choice((2, 3, 3))), start=1):
            low, high = kind.price
            msrp = Decimal(f"{int(rng.uniform(low, high))}.{rng.choice(('00', '99', '95', '49'))}")
            design = replace(look, shape=kind.shape, line=kind.line,
                             picture=rng.choice(trade.pictures) if trade.pictures and rng.random() < 0.6 else "")
            if rng.random() < 0.3:  # one product in another body colour, as ranges often are
                design = replace(design, body=rng.choice(PALETTE))
            brand.products.append(Product(name=f"{name} {kind.noun}", sku=f"{prefix}-{100 + n * 7}", msrp=msrp,
                                          currency=currency, kind=kind, design=design))
        brand.keywords = sorted(set(brand.keywords) | {p.kind.noun.split()[-1].lower() for p in brand.products})
        brands.append(brand)
    return brands


def other_makers(rng: random.Random, *, count: int, avoid: set[str]) -> list[str]:
    """Coined names of makers nobody registered, none sharing its first three letters with ``avoid``."""
    stems = {a.lower()[:3] for a in avoid}
    out: list[str] = []
    while len(out) < count:
        name = coined_word(rng)
        if name.lower()[:3] not in stems:
            out.append(name)
            stems.add(name.lower()[:3])
    return out
