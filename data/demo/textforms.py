"""Ways counterfeiters write a brand name so that a plain search misses it.

Each function takes the mark and a seeded ``random.Random`` and returns the disguised text; none returns the
mark unchanged (for marks of two letters or more).
"""

from __future__ import annotations

import random

LEET = {"a": "4", "e": "3", "i": "1", "l": "1", "o": "0", "s": "5", "t": "7", "b": "8", "g": "9"}
# Latin letter -> look-alike letters from other scripts (Cyrillic, Greek).
HOMOGLYPHS = {
    "a": "а", "c": "с", "e": "е", "o": "оο", "p": "р", "x": "х", "y": "у", "i": "іι", "s": "ѕ", "k": "κк",
    "n": "п", "v": "ν", "A": "АΑ", "B": "ВΒ", "C": "С", "E": "ЕΕ", "H": "НΗ", "K": "КΚ", "M": "МΜ",
    "N": "Ν", "O": "ОΟ", "P": "РΡ", "T": "ТΤ", "X": "ХΧ", "Z": "Ζ", "l": "ӏ",
}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
KEYBOARD_NEIGHBOURS = {
    "a": "qs", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


def misspell(mark: str, rng: random.Random) -> str:
    """One edit: drop, double, swap or replace a letter (keyboard neighbour), keeping the first letter.

    The result never contains the mark itself ("Mianii" would still match "Miani" as a substring).
    """
    for _ in range(20):
        chars = list(mark)
        i = rng.randrange(1, len(chars)) if len(chars) > 1 else 0
        op = rng.choice(("drop", "double", "swap", "replace"))
        if op == "drop" and len(chars) > 3:
            del chars[i]
        elif op == "double":
            chars.insert(i, chars[i])
        elif op == "swap" and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            low = chars[i].lower()
            if low in KEYBOARD_NEIGHBOURS:
                chars[i] = rng.choice(KEYBOARD_NEIGHBOURS[low])
        out = "".join(chars)
        if mark.lower() not in out.lower():
            return out
    return mark[:-1]


def spaced(mark: str, rng: random.Random) -> str:
    """Letters separated by spaces, dots or dashes: ``F u l l i p s``, ``F.U.L.L.I.P.S``."""
    sep = rng.choice((" ", " ", ".", "-", " . "))
    text = sep.join(mark)
    return text.upper() if rng.random() < 0.4 else text


def leetspeak(mark: str, rng: random.Random) -> str:
    """Some letters replaced by digits: ``Fu11ip5``."""
    positions = [i for i, ch in enumerate(mark) if ch.lower() in LEET]
    if not positions:
        return mark[0] + "." + mark[1:]
    chosen = rng.sample(positions, k=max(1, min(len(positions), rng.randint(1, 3))))
    return "".join(LEET[ch.lower()] if i in chosen else ch for i, ch in enumerate(mark))


def homoglyph(mark: str, rng: random.Random) -> str:
    """Some letters replaced by look-alike Cyrillic or Greek letters (renders identically)."""
    positions = [i for i, ch in enumerate(mark) if ch in HOMOGLYPHS]
    if not positions:
        return zero_width(mark, rng)
    chosen = set(rng.sample(positions, k=rng.randint(1, min(3, len(positions)))))
    return "".join(rng.choice(HOMOGLYPHS[ch]) if i in chosen else ch for i, ch in enumerate(mark))


def zero_width(mark: str, rng: random.Random) -> str:
    """Invisible characters inside the mark."""
    chars = list(mark)
    for _ in range(rng.randint(1, 3)):
        chars.insert(rng.randrange(1, len(chars)), rng.choice(ZERO_WIDTH))
    return "".join(chars)


def imitate_seller(seller: str, rng: random.Random) -> str:
    """A seller name made to pass for an authorized seller: digit for letter, extra word, odd spacing."""
    moves = ("zero", "extra", "suffix", "case", "underscore")
    move = rng.choice(moves)
    if move == "zero" and "O" in seller:
        return seller.replace("O", "0", 1)
    if move == "zero" and "o" in seller:
        return seller.replace("o", "0", 1)
    if move == "extra":
        words = seller.split()
        words.insert(rng.randint(1, len(words)), rng.choice(("Global", "Outlet", "Factory", "Direct", "HK")))
        return " ".join(words)
    if move == "suffix":
        return seller + rng.choice((" Official", " Store", " Flagship", "-official", " 官方"))
    if move == "case":
        return seller.upper().replace(" ", "")
    return seller.replace(" ", "_").lower()
