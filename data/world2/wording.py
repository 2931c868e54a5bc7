"""Listing text of the second world: disguised names, titles, sellers, descriptions (hostile on purpose).

Disguises (:data:`DISGUISES`, each a function of the mark and a seeded generator returning the disguised
text): ``exact``, ``homoglyph`` (Cyrillic and Greek letters that look Latin), ``spaced`` (letters or parts
apart, dots, dashes), ``leetspeak``, ``transposition`` (two neighbouring letters swapped), ``truncation``
(a letter or two cut off an end), ``added_words`` (words glued or added to the mark), ``misspelt`` (a vowel
changed or a consonant doubled) and ``zero_width`` (invisible characters inside).
"""

from __future__ import annotations

import random
from collections.abc import Callable

HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "s": "ѕ",
              "A": "А", "B": "В", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "Ο", "P": "Р", "T": "Т", "N": "Ν"}
LEET = {"a": ("4", "@"), "e": ("3",), "i": ("1", "!"), "o": ("0",), "s": ("5", "$"), "t": ("7",), "l": ("1",),
        "g": ("9",), "b": ("8",)}
INVISIBLE = ("\u200b", "\u200c", "\u2060", "\u00ad")
VOWELS = "aeiou"


def _letters(mark: str) -> list[int]:
    return [i for i, c in enumerate(mark) if c.isalpha()]


def homoglyph(mark: str, rng: random.Random) -> str:
    spots = [i for i in _letters(mark) if mark[i] in HOMOGLYPHS]
    chars = list(mark)
    for i in rng.sample(spots, k=min(len(spots), rng.choice((1, 2, 2)))):
        chars[i] = HOMOGLYPHS[chars[i]]
    return "".join(chars)


def spaced(mark: str, rng: random.Random) -> str:
    style = rng.choice(("letters", "split", "dots", "dashes"))
    word = mark.replace(" ", "")
    if style == "letters":
        return " ".join(word)
    if style == "dots":
        return ".".join(word.upper())
    if style == "dashes":
        return "-".join(word)
    cut = rng.randint(2, max(2, len(word) - 2))
    return f"{word[:cut]} {word[cut:]}"


def leetspeak(mark: str, rng: random.Random) -> str:
    spots = [i for i in _letters(mark) if mark[i].lower() in LEET and i > 0]
    chars = list(mark)
    for i in rng.sample(spots, k=min(len(spots), rng.choice((1, 2, 3)))):
        chars[i] = rng.choice(LEET[chars[i].lower()])
    return "".join(chars)


def transposition(mark: str, rng: random.Random) -> str:
    spots = [i for i in range(1, len(mark) - 2) if mark[i].isalpha() and mark[i + 1].isalpha() and mark[i] != mark[i + 1]]
    if not spots:
        return mark
    i = rng.choice(spots)
    return mark[:i] + mark[i + 1] + mark[i] + mark[i + 2:]


def truncation(mark: str, rng: random.Random) -> str:
    word = mark
    if len(word.replace(" ", "")) >= 8 and rng.random() < 0.5:
        return word[:-2]
    return word[:-1] if rng.random() < 0.75 else word[1:].capitalize()


def added_words(mark: str, rng: random.Random) -> str:
    return rng.choice((f"{mark}Pro", f"{mark} Pro Max", f"New{mark.replace(' ', '')}", f"{mark}-Tech",
                       f"{mark} X2 Ultra", f"Original {mark} Plus", f"{mark.replace(' ', '')}Home"))


def misspelt(mark: str, rng: random.Random) -> str:
    inner = [i for i in range(1, len(mark) - 1) if mark[i].isalpha()]
    i = rng.choice(inner)
    c = mark[i]
    if c.lower() in VOWELS:
        return mark[:i] + rng.choice([v for v in VOWELS if v != c.lower()]) + mark[i + 1:]
    return mark[:i] + c + mark[i:]


def zero_width(mark: str, rng: random.Random) -> str:
    chars = list(mark)
    for i in sorted(rng.sample(range(1, len(mark)), k=min(len(mark) - 1, 2)), reverse=True):
        chars.insert(i, rng.choice(INVISIBLE))
    return "".join(chars)


DISGUISES: dict[str, Callable[[str, random.Random], str]] = {
    "exact": lambda mark, rng: mark, "homoglyph": homoglyph, "spaced": spaced, "leetspeak": leetspeak,
    "transposition": transposition, "truncation": truncation, "added_words": added_words, "misspelt": misspelt,
    "zero_width": zero_width,
}

COUNTERFEIT_TITLES = (
    "{mark} {noun} - {line}", "{mark} {noun} NEW sealed", "{noun} by {mark}, fast dispatch", "NEW {mark} {noun} {qty}",
    "{mark} {noun} (pack of 2)", "Genuine {mark} {noun}!! free shipping", "{mark} {noun} Neu OVP", "{mark} {noun} neuf",
    "{mark} {noun} nuevo envío rápido", "{mark} {noun} nuovo originale", "{mark} {noun} {line}", "[HOT] {mark} {noun}",
)
GENERIC_TITLES = (
    "{noun} {line}", "{noun} - best seller, fast shipping", "Premium {noun} {qty}", "{noun} new in box",
    "Top quality {noun}, {line}", "{noun} for home and gift", "{noun} {qty} bulk price",
)
REPLICA = ("1:1 mirror quality", "AAA grade copy", "high copy, looks original", "factory replica",
           "super copy version", "réplica exacta", "Nachbau in Top-Qualität", "copia perfetta", "OEM copy (not original box)",
           "same as original, unbranded")
DUPE = ("{mark} dupe", "alternative to {mark}", "inspired by {mark}", "like {mark} but cheaper", "{mark}-style",
        "same formula as {mark}", "if you love {mark} try this", "{mark} type")
RESALE = {"second_hand": ("used once, works perfectly", "pre-owned, good condition", "open box, never used",
                          "gebraucht, wie neu", "d'occasion, très bon état", "from my late father's workshop, used"),
          "grey_market": ("imported from Japan, foreign packaging", "EU import, Italian label", "import version, "
                          "instructions in Polish", "parallel import, no UK warranty")}
GENUINE_TITLES = ("{mark} {noun}", "{mark} {noun} - {line}", "Official {mark} {noun}", "{mark} {noun}, {qty}")
BANNERS = ("SALE -70%", "HOT DEAL", "FREE DELIVERY", "100% ORIGINAL", "BEST PRICE", "TOP SELLER", "LIMITED STOCK",
           "NEW ARRIVAL")
STICKERS = ("-60%", "NEW", "SALE", "2 FOR 1", "TOP")
SELLER_WORDS = ("Deals", "Outlet", "Trading", "Mart", "Global Store", "Bazaar", "Express", "Warehouse", "Shop 24")
PEOPLE = ("jen_k", "mikeyb82", "sandra.l", "tomas_v", "the_garage_guy", "ruth1957", "pawel.n", "ines_m", "d.okafor")
HOSTILE = ("<script>alert(1)</script>", "<b>bold</b> <i>claims</i>", "🔥🔥🔥 best 👍", "\u202etxet desrever\u202c",
           "&amp;&lt;escaped&gt;", "Cheap!!!\t\t\tfast\u00a0\u00a0shipping", "")


def qty(rng: random.Random) -> str:
    return rng.choice(("x1", "1 pc", "2 pcs", "set", "value pack", "3-pack"))


def line_text(line: str) -> str:
    return line.replace(" · ", ", ").lower()


def title(template: str, *, mark: str, noun: str, line: str, rng: random.Random) -> str:
    return template.format(mark=mark, noun=noun, line=line_text(line), qty=qty(rng))


def description(rng: random.Random, *, noun: str, line: str, extra: str = "", long: bool = False) -> str:
    parts = [f"{noun}. {line_text(line).capitalize()}.", rng.choice((
        "Ships in 24 hours.", "Ask us for bulk prices.", "Returns within 30 days.", "Stock in our EU warehouse.",
        "Questions? Message us any time.")), extra, rng.choice(HOSTILE)]
    if long:
        parts.append(("Lorem ipsum shipping policy text. " * 60).strip())
    return " ".join(p for p in parts if p)


def shady_seller(rng: random.Random) -> str:
    return rng.choice((f"{rng.choice(('Star', 'Best', 'Lucky', 'Prime', 'Sun', 'Mega'))} {rng.choice(SELLER_WORDS)}",
                       f"{rng.choice(('shop', 'store', 'seller'))}{rng.randint(1000, 99999)}",
                       f"{rng.choice(('Hua', 'Xin', 'Kai', 'Bao', 'Mei'))}{rng.choice(('tong', 'da', 'long'))} Trading Co"))


def impersonating_seller(rng: random.Random, *, mark: str, authorized: list[str], owner: str) -> str:
    """A seller name that imitates the brand's or an authorized seller's."""
    bare = mark.replace(" ", "")
    base = rng.choice(authorized)
    return rng.choice((f"{bare} Official Shop", f"{bare}-Store-Official", f"{leetspeak(bare, rng)} Official",
                       f"{owner} Outlet", f"Offical {mark} Store", f"{base} Store", f"{base.upper()} 官方"))
