"""The demo world's seller networks: counterfeiting operations, each with several storefronts, among many
unrelated sellers, with traps. ``python -m data.demo.networks --seed N [--out FILE]`` writes it as JSON.

:func:`network_world` plans, from one seed and without drawing a pixel (photos are 64-bit pHashes with the
few flipped bits a re-encode or resize gives):

- **operations** (8-12): 2-6 storefronts each on the demo shops (``bazaarly``, ``kramwell``, ``tindeo``) and
  sometimes their own rogue shop (a domain of their own, named in their marketplace listings). An operation
  reuses its own product photos, one description with small edits, its phone numbers (written in the
  national and international formats of several countries, in ``wa.me`` links, in photo text), an e-mail
  address (sometimes written ``name [at] domain [dot] com``), chat handles, and name variants of one
  trading name (``Marl0w & Finch``, ``MARLOW-FINCH Store``) beside unrelated names. Every storefront carries
  at least two of the operation's assets, one of them also carried by an earlier storefront.
- **unrelated sellers** (150-220) with their own photos, words, and sometimes their own phone.
- **traps**: the brands' official photos (copied by counterfeiters and resellers alike), a stock photo, a
  marketplace's boilerplate sentence and a common shipping agent's phone number, each spread over many
  unrelated sellers and some operations' storefronts; shared hosting (one IP for many rogue shops).
- **relistings** (``relistings``: true (relisting, earlier) pairs): after the demo takedown (listings marked
  ``down`` on night 1), listings of the operations come back on night 2 under a storefront of the same
  operation, with the same photos re-encoded and the description edited; unrelated new listings of night 2
  share the traps with them.

Labels: each seller's ``network`` is its operation (``op<k>``) or null. Seeds: :data:`TUNING_SEEDS` for
tuning, :data:`HELD_OUT_SEEDS` measured once and reported apart.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

import phonenumbers

TUNING_SEEDS = (7, 11, 23, 31, 37, 41, 43, 47)
"""Seeds network finding was tuned on."""
HELD_OUT_SEEDS = (101, 202, 303, 404, 505, 606, 707, 808, 909, 1010)
"""Seeds nobody looked at while tuning (measured at the end, reported apart)."""

SHOPS = {"bazaarly": "GBP", "kramwell": "EUR", "tindeo": "USD"}
#: The region a listing's currency tells (national phone formats are only written where it tells one).
CURRENCY_REGION = {"GBP": "GB", "USD": "US"}
PHONE_REGIONS = ("GB", "US", "DE", "FR", "CN", "IN", "ES", "BR")
_SYLLABLES = ("mar", "low", "fin", "ch", "vel", "ora", "quil", "lon", "bra", "dex", "tor", "ami", "sel", "rin",
              "kav", "ost", "ner", "ula", "pim", "zan", "dor", "eth", "cal", "vis", "mon", "tra")
_WORDS = ["quality", "bottle", "cream", "soft", "fresh", "bag", "leather", "strap", "watch", "band", "charger", "cable", "case", "cover", "premium", "original", "genuine", "new", "sealed", "gift", "box", "luxury", "matte", "gloss", "gold", "silver", "black", "white", "travel", "size", "pack", "set", "fast", "shipping", "stock", "warehouse", "hand", "checked", "finish", "velvet", "pump", "cap", "refill", "scent", "long", "lasting", "daily", "skin", "hair", "care", "smooth", "light", "heavy", "duty", "outdoor", "kitchen", "steel", "glass", "ceramic", "cotton", "wool", "warm", "summer", "winter", "classic", "modern", "limited", "edition", "bestseller", "customers", "love", "our", "shop", "every", "order", "packed", "safely", "tracked", "ships", "within", "days", "from", "local", "store", "price", "offer", "discount", "wholesale", "bulk", "buy", "two", "get", "one", "free", "colour", "shade", "size", "fits", "most", "perfect", "present"]
_GENERIC_FIRST = ("Sunny", "Happy", "Global", "Lucky", "Urban", "Nordic", "Bright", "Golden", "Blue", "Green",
                  "Royal", "Smart", "Prime", "Star", "Best", "Daily", "Fresh", "Home", "Trendy", "Value")
_GENERIC_SECOND = ("Goods", "Finds", "Deals", "Bazaar", "Corner", "Market", "Supply", "House", "Hub", "Place",
                   "Emporium", "Traders", "Outlet", "Depot", "Mart", "Gallery", "Basket", "Choice", "Point", "Box")
STOCK_SENTENCE = ("Ships with tracking from our partner warehouse and every order is covered by buyer protection "
                  "on this marketplace.")
AGENT_NOTE = "Customs questions? Our forwarding agent answers on {phone}."


def _flip(rng: random.Random, value: int, bits: int) -> int:
    for _ in range(bits):
        value ^= 1 << rng.randrange(64)
    return value


def _hex(value: int) -> str:
    return f"{value:016x}"


def _phone(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    digits = str(example.national_number)
    while True:
        tail = "".join(rng.choice("0123456789") for _ in range(4))
        number = phonenumbers.parse(f"+{example.country_code}{digits[:-4]}{tail}", None)
        if phonenumbers.is_valid_number(number):
            return number


def _written(rng: random.Random, number: phonenumbers.PhoneNumber, *, region: str | None) -> str:
    """The number as a seller writes it; national forms only where the listing's region reads them."""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    forms = [intl, e164, "00" + e164[1:] if region in ("GB", None) else intl, f"wa.me/{e164[1:]}",
             intl.replace(" ", "."), intl.replace(" ", "-")]
    if region and phonenumbers.region_code_for_number(number) == region:
        forms += [phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)] * 3
    return rng.choice(forms)


def _coined(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _name_variant(rng: random.Random, first: str, second: str) -> str:
    leet = str.maketrans({"o": "0", "a": "4", "e": "3", "i": "1"})
    return rng.choice((
        f"{first} & {second}", f"{first} {second} Store", f"{first.upper()}-{second.upper()}",
        f"{first.translate(leet)} & {second}", f"{first}{second} Official", f"{first} {second} Outlet",
    ))


def _text(rng: random.Random, n: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(n)]
    out, i = [], 0
    while i < len(words):
        step = rng.randint(7, 14)
        out.append(" ".join(words[i:i + step]).capitalize() + ".")
        i += step
    return " ".join(out)


def _edit(rng: random.Random, text: str) -> str:
    words = text.split()
    for _ in range(max(1, len(words) // 25)):
        words[rng.randrange(len(words))] = rng.choice(_WORDS)
    return " ".join(words)


def network_world(seed: int) -> dict[str, Any]:
    """The labelled world of one seed (see the module docstring): ``sellers``, ``official_photos``, ``traps``."""
    rng = random.Random(f"networks-{seed}")
    official = [rng.getrandbits(64) for _ in range(24)]
    stock = rng.getrandbits(64)
    agent = _phone(rng, "GB")
    hosting_ip = f"203.0.113.{rng.randint(2, 250)}"
    sellers: list[dict[str, Any]] = []
    counter = iter(range(1, 10**6))

    def listing(*, shop: str, photos: list[int], description: str, title: str, photo_text: str = "") -> dict:
        return {"key": f"l{next(counter)}", "title": title, "description": description,
                "photos": [_hex(p) for p in photos], "currency": SHOPS.get(shop, "USD"), "photo_text": photo_text}

    def traps(photos: list[int], parts: list[str], region: str | None) -> None:
        if rng.random() < 0.18:
            photos.append(_flip(rng, stock, rng.randint(0, 2)))
        if rng.random() < 0.5:
            photos.append(_flip(rng, rng.choice(official), rng.randint(0, 3)))
        if rng.random() < 0.3:
            parts.append(STOCK_SENTENCE)
        if rng.random() < 0.15:
            parts.append(AGENT_NOTE.format(phone=_written(rng, agent, region=region)))

    n_ops = rng.randint(8, 12)
    for op in range(n_ops):
        label = f"op{op}"
        first, second = _coined(rng), _coined(rng)
        domain = f"{first.lower()}-{second.lower()}-{rng.choice(('outlet', 'deals', 'shop', 'store'))}.shop"
        assets: dict[str, list[Any]] = {
            "photo": [rng.getrandbits(64) for _ in range(rng.randint(2, 4))],
            "phone": [_phone(rng, rng.choice(PHONE_REGIONS)) for _ in range(rng.randint(1, 2))],
            "email": [f"{rng.choice(('sales', 'info', 'orders', first.lower()))}@{first.lower()}{second.lower()}.com"],
            "handle": [rng.choice(("WeChat: ", "Telegram @", "t.me/", "Line ID: ")) + f"{first.lower()}_{rng.randint(10, 99)}"],
            "text": [_text(rng, rng.randint(45, 80))],
            "domain": [domain],
        }
        has_shop = rng.random() < 0.5
        n_fronts = rng.randint(2, 6)
        kinds = list(assets)
        seen_kinds: set[str] = set()
        for front in range(n_fronts):
            rogue = has_shop and front == 0
            shop = domain if rogue else rng.choice(list(SHOPS))
            region = None if rogue else CURRENCY_REGION.get(SHOPS[shop])
            carried = rng.sample(kinds, rng.randint(2, 4))
            if front and not set(carried) & seen_kinds:
                # A storefront shares at least one asset with an earlier one: a label nobody could observe
                # would measure the world, not the finder.
                carried[0] = rng.choice(sorted(seen_kinds))
            seen_kinds.update(carried)
            named = rng.random() < 0.55
            name = _name_variant(rng, first, second) if named else f"{rng.choice(_GENERIC_FIRST)} {rng.choice(_GENERIC_SECOND)} {rng.randint(1, 99)}"
            items = []
            for _ in range(rng.randint(1, 4)):
                photos: list[int] = []
                parts: list[str] = []
                photo_text = ""
                if "photo" in carried:
                    photos += [_flip(rng, p, rng.randint(0, 3)) for p in rng.sample(assets["photo"], rng.randint(1, 2))]
                if "text" in carried:
                    parts.append(_edit(rng, assets["text"][0]))
                else:
                    parts.append(_text(rng, rng.randint(20, 50)))
                if "phone" in carried:
                    written = _written(rng, rng.choice(assets["phone"]), region=region)
                    if rng.random() < 0.25:
                        photo_text = f"Order {written}"
                    else:
                        parts.append(rng.choice(("WhatsApp {}", "Call or text {}", "Tel: {}", "Orders: {}")).format(written))
                if "email" in carried:
                    address = assets["email"][0]
                    if rng.random() < 0.4:
                        address = address.replace("@", " [at] ").replace(".com", " [dot] com")
                    parts.append(f"Write to {address}")
                if "handle" in carried:
                    parts.append(f"Chat with us: {assets['handle'][0]}")
                if "domain" in carried and not rogue:
                    parts.append(f"More models on https://www.{domain}/catalogue")
                traps(photos, parts, region)
                rng.shuffle(photos)
                items.append(listing(shop=shop, photos=photos, description=" ".join(parts), photo_text=photo_text,
                                     title=" ".join(rng.choice(_WORDS) for _ in range(6)).title()))
            key = f"{shop}/{label}-{front}"
            sellers.append({"key": key, "marketplace": shop, "name": domain if rogue else name,
                            "seller_id": f"S{rng.getrandbits(32):08x}" if not rogue else None,
                            "storefront": f"https://{domain}/" if rogue else None,
                            "shop_domain": domain if rogue else None,
                            "shop_ip": hosting_ip if rogue and rng.random() < 0.7 else None,
                            "network": label, "listings": items})
    for i in range(rng.randint(150, 220)):
        shop = rng.choice(list(SHOPS))
        rogue = rng.random() < 0.08
        domain = f"{_coined(rng).lower()}{i}.shop"
        region = None if rogue else CURRENCY_REGION.get(SHOPS.get(shop, ""))
        own_phone = _phone(rng, rng.choice(PHONE_REGIONS)) if rng.random() < 0.3 else None
        items = []
        for _ in range(rng.randint(1, 3)):
            photos = [rng.getrandbits(64) for _ in range(rng.randint(0, 2))]
            parts = [_text(rng, rng.randint(15, 60))]
            if own_phone is not None:
                parts.append(f"Tel {_written(rng, own_phone, region=region)}")
            traps(photos, parts, region)
            items.append(listing(shop=domain if rogue else shop, photos=photos, description=" ".join(parts),
                                 title=" ".join(rng.choice(_WORDS) for _ in range(6)).title()))
        name = f"{rng.choice(_GENERIC_FIRST)} {rng.choice(_GENERIC_SECOND)}"
        sellers.append({"key": f"{domain if rogue else shop}/u{i}", "marketplace": domain if rogue else shop,
                        "name": domain if rogue else name,
                        "seller_id": None if rogue else f"S{rng.getrandbits(32):08x}",
                        "storefront": f"https://{domain}/" if rogue else None,
                        "shop_domain": domain if rogue else None,
                        "shop_ip": hosting_ip if rogue and rng.random() < 0.7 else None,
                        "network": None, "listings": items})
    relistings = _relist(random.Random(f"relistings-{seed}"), sellers, stock=stock, official=official)
    rng.shuffle(sellers)
    return {"seed": seed, "role": "tuning" if seed in TUNING_SEEDS else "held-out" if seed in HELD_OUT_SEEDS else "other",
            "official_photos": [_hex(p) for p in official],
            "traps": {"stock_photo": _hex(stock),
                      "agent_phone": phonenumbers.format_number(agent, phonenumbers.PhoneNumberFormat.E164),
                      "boilerplate": STOCK_SENTENCE, "hosting_ip": hosting_ip},
            "sellers": sellers, "relistings": relistings}


def _relist(rng: random.Random, sellers: list[dict[str, Any]], *, stock: int, official: list[int]) -> list[list[str]]:
    """The demo takedown and what follows it: 1-3 listings of each operation go down (``down``) on night 1;
    on night 2 each comes back (``relist_of``) under a storefront of the same operation (its own or another,
    on the same or another site) with its photos re-encoded and its description edited, sometimes retitled.
    Night 2 also brings unrelated new listings sharing the traps (stock photo, official photos, boilerplate)
    with the listings that went down. Returns the true (relisting, earlier) key pairs."""
    for seller in sellers:
        for item in seller["listings"]:
            item.setdefault("night", 1)
            item.setdefault("down", False)
    ops: dict[str, list[dict[str, Any]]] = {}
    for seller in sellers:
        if seller["network"]:
            ops.setdefault(seller["network"], []).append(seller)
    counter = iter(range(1, 10**6))
    pairs = []
    for label in sorted(ops):
        fronts = ops[label]
        items = [(f, i) for f in fronts for i in f["listings"]]
        for _front, item in rng.sample(items, min(len(items), rng.randint(1, 3))):
            item["down"] = True
            target = rng.choice(fronts)
            photos = [f"{_flip(rng, int(h, 16), rng.randint(0, 3)):016x}" for h in item["photos"]]
            title = item["title"] if rng.random() < 0.5 else " ".join(rng.choice(_WORDS) for _ in range(6)).title()
            copy = {"key": f"r{next(counter)}", "title": title, "description": _edit(rng, item["description"]),
                    "photos": photos, "currency": SHOPS.get(target["marketplace"], item.get("currency", "USD")),
                    "photo_text": item.get("photo_text", ""), "night": 2, "down": False, "relist_of": item["key"]}
            target["listings"].append(copy)
            pairs.append([copy["key"], item["key"]])
    unrelated = [s for s in sellers if not s["network"]]
    for _ in range(30):
        seller = rng.choice(unrelated)
        photos = [rng.getrandbits(64)]
        if rng.random() < 0.5:
            photos.append(_flip(rng, stock, rng.randint(0, 2)))
        if rng.random() < 0.5:
            photos.append(_flip(rng, rng.choice(official), rng.randint(0, 3)))
        seller["listings"].append({
            "key": f"n{next(counter)}", "title": " ".join(rng.choice(_WORDS) for _ in range(6)).title(),
            "description": f"{_text(rng, rng.randint(20, 40))} {STOCK_SENTENCE}",
            "photos": [f"{p:016x}" for p in photos], "currency": SHOPS.get(seller["marketplace"], "USD"),
            "photo_text": "", "night": 2, "down": False})
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    text = json.dumps(network_world(args.seed), indent=1, ensure_ascii=False)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
