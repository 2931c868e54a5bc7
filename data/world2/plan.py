"""Which listings the second world holds, with their photos as recipes and their labels.

Per product of every brand: genuine offers by authorized sellers (one on sale), counterfeits under a
disguised or exact name, listings whose only link to the brand is an edited official photo (``image_only``),
the counterfeiter's own packshot with the mark printed on it (``photo_mark``, at full size or at 420-480
px: ``small_photo``), a new photo of a pack in the brand's own design (``pack_photo``), a dupe, an
accessory, a resale, another maker's pack shot in the official photo's style (``same_style_photo``) and
the brand's packaging template printed with another maker's name (``shared_template``).  Per brand: other
makers of the trade, unrelated goods, and for a mark that is not coined the innocent phrases of
:data:`data.world2.brands.INNOCENT`; for a coined mark, an unauthorised seller using it word for word on
other goods (a suspect: ``other_goods``).

Labels follow the demo world contract: ``{"infringing", "brand", "sku", "class", "kinds", "split"}``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from data.world2 import assets
from data.world2 import wording as w
from data.world2.brands import INNOCENT, TRADES, Brand, Product, random_look
from data.world2.draw import Design

RATES = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
TEXTURES = (("brick", (150, 86, 66)), ("gravel", (142, 130, 116)), ("grass", (82, 122, 62)))
STUDIO = (((250, 250, 250), (226, 228, 232)), ((255, 255, 255), (255, 255, 255)), ((246, 240, 230), (214, 206, 192)),
          ((236, 242, 248), (196, 210, 226)))
COPY_EDITS = ("pad", "crop", "mirror", "rotate", "perspective", "collage", "background", "overlay", "colour_shift",
              "reencoded", "screenshot")
"""Edits of an official photo; each is also the label kind of the listing that carries it."""
TEXT_DISGUISES = ("exact", "homoglyph", "spaced", "leetspeak", "transposition", "truncation", "added_words",
                  "misspelt", "zero_width")
UNRELATED = (("astronaut", "Space explorer poster, 50 x 70 cm"), ("rocket", "Model rocket launch photo print"),
             ("motorcycle", "Motorcycle side stand, universal fit"), ("hubble", "Deep sky canvas print"),
             ("retina", "Eye anatomy chart, laminated"), ("ihc", "Microscope slide set, 50 pcs"),
             ("coins", "Coin album with 20 pages"), ("camera", "Vintage camera strap, leather"),
             ("color", "Colour chart swatch book"), ("hopper", "Programming history book, hardcover"),
             ("coffee", "Cappuccino cups, set of 2"), ("chelsea", "Cat window hammock"))


@dataclass
class Draft:
    title: str
    description: str
    seller: str
    price: Decimal
    currency: str
    label: dict[str, Any]
    group: str
    recipes: list[dict[str, Any]] = field(default_factory=list)
    brand_text: str | None = None
    sku: str | None = None
    available: bool = True

    def record(self, *, listing_id: str, shop: str, image_paths: list[str], split: str) -> dict[str, Any]:
        return {"id": listing_id, "shop": shop, "title": self.title, "description": self.description,
                "price": f"{self.price:.2f}", "currency": self.currency, "seller": self.seller, "sku": self.sku,
                "gtin": None, "mpn": None, "brand_text": self.brand_text, "available": self.available,
                "images": image_paths, "label": {**self.label, "split": split}}


def _label(klass: str, kinds: list[str], brand: Brand | None = None, product: Product | None = None) -> dict[str, Any]:
    return {"infringing": klass in ("counterfeit", "lookalike"), "brand": brand.name if brand and klass != "clean" else None,
            "sku": product.sku if product and klass != "clean" else None, "class": klass, "kinds": kinds}


class Planner:
    """Draws listings for a world; every choice comes from ``rng``."""

    def __init__(self, rng: random.Random, *, brands: list[Brand], makers: list[str],
                 official: dict[str, dict[str, Any]]) -> None:
        self.rng = rng
        self.brands = brands
        self.makers = makers
        self.official = official
        """Official photo path -> the scene that drew it (a background replacement redraws it)."""
        self.backdrops = assets.grocery_backdrops()
        self._seed = 0

    # ----------------------------------------------------------------------------------------- helpers
    def seed(self) -> int:
        self._seed += 1
        return self.rng.randrange(1 << 30) + self._seed

    def maker(self) -> str:
        return self.rng.choice(self.makers)

    def surface(self, size: tuple[int, int]) -> dict[str, Any]:
        """A real photograph to stand a pack on: a tinted texture, a coffee table or a shop shelf."""
        r = self.rng.random()
        if self.backdrops and r < 0.4:
            return {"photo": self.rng.choice(self.backdrops), "tint": None}
        if r < 0.55:
            return {"photo": "coffee", "tint": None, "focus": (0.8, 0.6)}
        name, tint = self.rng.choice(TEXTURES)
        return {"photo": name, "tint": tint}

    def price(self, product: Product, ratio: tuple[float, float]) -> tuple[Decimal, str]:
        value = product.msrp * Decimal(str(round(self.rng.uniform(*ratio), 3)))
        currency = product.currency
        if self.rng.random() < 0.2:
            currency = self.rng.choice([c for c in RATES if c != currency])
            value = value * RATES[product.currency] / RATES[currency]
        return max(Decimal("0.50"), value.quantize(Decimal("0.01"))), currency

    def pack_scene(self, design: Design, *, size: int, surface: bool) -> dict[str, Any]:
        """A new photo of a pack: on a real surface (tilted, off-centre) or in a home-made studio."""
        if surface:
            return {"type": "surface", "design": design, "size": (size, size), **self.surface((size, size)),
                    "pack_h": self.rng.uniform(0.55, 0.78), "at": (self.rng.uniform(0.4, 0.6), self.rng.uniform(0.5, 0.56)),
                    "tilt": self.rng.uniform(-9, 9)}
        return {"type": "studio", "design": design, "size": (size, size), "backdrop": self.rng.choice(STUDIO),
                "pack_h": self.rng.uniform(0.62, 0.8), "at": (0.5, 0.52), "tilt": self.rng.uniform(-4, 4)}

    def own_photo(self, design: Design, *, small: bool = False) -> dict[str, Any]:
        """A seller's own photo of a pack (``design``): a surface or studio scene, phone-like edits."""
        size = self.rng.randrange(760, 1040, 40)
        edits: list[dict[str, Any]] = []
        if self.rng.random() < 0.4:
            edits.append({"op": "noise", "sigma": self.rng.uniform(2, 6)})
        if small:
            edits.append({"op": "fit", "long": self.rng.randint(420, 480)})
        return {"scene": self.pack_scene(design, size=size, surface=self.rng.random() < 0.7), "edits": edits,
                "fmt": "jpg", "quality": self.rng.randint(70, 90), "seed": self.seed()}

    def other_reference(self, avoid: str) -> str:
        paths = [p for p in self.official if p != avoid]
        return self.rng.choice(paths)

    # ----------------------------------------------------------------------------------------- copies
    def copy_of(self, path: str, edit: str) -> dict[str, Any]:
        """An official photo, downloaded and edited with ``edit`` (:data:`COPY_EDITS`)."""
        rng = self.rng
        scene: dict[str, Any] = {"type": "file", "path": path}
        edits: list[dict[str, Any]] = []
        if edit == "pad":
            colour = rng.choice(((255, 255, 255), (0, 0, 0), (240, 236, 228), (rng.randrange(256), rng.randrange(256),
                                                                               rng.randrange(256))))
            edits.append({"op": "pad", "colour": colour, "sides": tuple(rng.uniform(0.04, 0.22) for _ in range(4))})
        elif edit == "crop":
            cut = rng.uniform(0.1, 0.3)
            share = rng.random()
            left, top = cut * share * rng.random(), cut * (1 - share) * rng.random()
            edits.append({"op": "crop", "box": (left, top, 1 - (cut * share - left), 1 - (cut * (1 - share) - top))})
        elif edit == "mirror":
            edits.append({"op": "mirror"})
        elif edit == "rotate":
            edits.append({"op": "rotate", "deg": rng.choice((-1, 1)) * rng.uniform(3, 12),
                          "fill": rng.choice(((255, 255, 255), (0, 0, 0), (128, 128, 128)))})
        elif edit == "perspective":
            corners = [(rng.uniform(-0.02, 0.12) * sx, rng.uniform(-0.02, 0.1) * sy)
                       for sx, sy in ((1, 1), (-1, 1), (-1, -1), (1, -1))]
            backdrop = self.surface((10, 10))["photo"] if rng.random() < 0.6 else (30, 30, 34)
            edits.append({"op": "perspective", "corners": corners, "backdrop": backdrop})
        elif edit == "collage":
            cols, rows = rng.choice(((2, 2), (2, 2), (3, 1), (1, 3), (3, 3)))
            cells: list[dict[str, Any]] = []
            for _ in range(cols * rows - 1):
                if rng.random() < 0.5:
                    cells.append({"type": "file", "path": self.other_reference(path)})
                else:
                    cells.append({"type": "photo", "name": rng.choice(UNRELATED)[0], "size": (400, 400)})
            cells.insert(rng.randrange(cols * rows), {"type": "file", "path": path})
            unit = rng.randrange(360, 520, 20)
            scene = {"type": "collage", "cells": cells, "cols": cols, "rows": rows, "size": (unit * cols, unit * rows),
                     "gutter": rng.choice((0, 0, 8, 16)), "gutter_colour": rng.choice(((255, 255, 255), (20, 20, 20)))}
        elif edit == "background":
            original = self.official[path]
            scene = {**original, "type": "surface", **self.surface(tuple(original["size"]))}
            scene.pop("backdrop", None)
        elif edit == "overlay":
            style = rng.choice(("banner", "sticker", "watermark"))
            if style == "banner":
                edits.append({"op": "banner", "text": rng.choice(w.BANNERS), "where": rng.choice(("top", "bottom", "corner")),
                              "colour": rng.choice(((210, 30, 40), (20, 20, 20), (240, 120, 0), (0, 120, 200))),
                              "depth": rng.uniform(0.1, 0.18)})
            elif style == "sticker":
                edits.append({"op": "sticker", "text": rng.choice(w.STICKERS), "at": (rng.uniform(0.15, 0.85), rng.uniform(0.12, 0.3)),
                              "r": rng.uniform(0.08, 0.14), "colour": rng.choice(((220, 20, 60), (250, 180, 0), (0, 150, 80)))})
            else:
                edits.append({"op": "watermark", "text": w.shady_seller(rng), "alpha": rng.uniform(0.3, 0.5),
                              "deg": rng.uniform(-35, 35)})
        elif edit == "colour_shift":
            mode = rng.choice(("hue", "swap", "grey", "cast"))
            if mode == "hue":
                edits.append({"op": "recolour", "mode": "hue", "deg": rng.uniform(40, 320)})
            elif mode == "swap":
                edits.append({"op": "recolour", "mode": "swap", "order": rng.choice(("brg", "gbr", "bgr", "rbg"))})
            elif mode == "grey":
                edits.append({"op": "recolour", "mode": "grey"})
            else:
                edits.append({"op": "recolour", "mode": "cast", "contrast": rng.uniform(1.05, 1.3),
                              "cast": tuple(rng.uniform(-30, 30) for _ in range(3))})
        elif edit == "reencoded":
            edits += [{"op": "scale", "factor": rng.uniform(0.4, 0.7)}, {"op": "jpeg", "quality": rng.randint(18, 40)}]
            if rng.random() < 0.5:
                edits.append({"op": "blur", "radius": rng.uniform(0.6, 1.4)})
        elif edit == "screenshot":
            scene = {"type": "screenshot", "inner": scene, "size": rng.choice(((1280, 800), (1366, 768), (1440, 900))),
                     "shop": rng.choice(("ShopNest", "Kartly", "Vendora")), "title": "Product page",
                     "price": f"{rng.randint(5, 90)}.99", "crumbs": "Home > Deals > Today",
                     "bar": rng.choice(((35, 47, 62), (200, 40, 40), (20, 110, 90)))}
        else:
            raise ValueError(edit)
        return {"scene": scene, "edits": edits, "fmt": rng.choice(("jpg", "jpg", "png", "webp")),
                "quality": rng.randint(72, 92), "seed": self.seed()}

    def edited_copy(self, product: Product) -> tuple[dict[str, Any], list[str]]:
        """An edited official photo of ``product`` and the kinds of its edits (one, sometimes two)."""
        path = self.rng.choice(product.images)
        first = self.rng.choice(COPY_EDITS)
        recipe = self.copy_of(path, first)
        kinds = [first]
        if first not in ("collage", "screenshot", "background") and self.rng.random() < 0.25:
            second = self.rng.choice(("pad", "overlay", "reencoded", "mirror"))
            if second != first:
                extra = self.copy_of(path, second)
                recipe["edits"] += extra["edits"]
                kinds.append(second)
        return recipe, kinds

    # ----------------------------------------------------------------------------------------- positives
    def counterfeit(self, brand: Brand, product: Product, disguise: str) -> Draft:
        rng = self.rng
        mark = w.DISGUISES[disguise](brand.name, rng)
        kinds = [disguise]
        noun, line = product.kind.noun, product.kind.line
        desc_only = rng.random() < 0.12
        if desc_only:
            kinds.append("desc_only")
            text_title = w.title(rng.choice(w.GENERIC_TITLES), mark=mark, noun=noun, line=line, rng=rng)
            desc = w.description(rng, noun=noun, line=line, extra=f"Same as {mark}, original quality.")
        else:
            text_title = w.title(rng.choice(w.COUNTERFEIT_TITLES), mark=mark, noun=noun, line=line, rng=rng)
            desc = w.description(rng, noun=noun, line=line, long=rng.random() < 0.05)
        if rng.random() < 0.3:
            phrase = rng.choice(w.REPLICA)
            text_title = f"{text_title} {phrase}" if rng.random() < 0.5 else text_title
            desc = f"{desc} {phrase}."
            kinds.append("replica_wording")
        seller = w.shady_seller(rng)
        if rng.random() < 0.25:
            seller = w.impersonating_seller(rng, mark=brand.name, authorized=brand.authorized_sellers, owner=brand.owner)
            kinds.append("seller_impersonation")
        cheap = rng.random() < 0.6
        price, currency = self.price(product, (0.15, 0.45) if cheap else (0.75, 1.05))
        if cheap:
            kinds.append("cheap_price")
        if rng.random() < 0.55:
            recipe, edits = self.edited_copy(product)
            kinds += edits
        else:
            recipe = self.own_photo(random_look(rng, mark, shape=product.design.shape).named(mark)
                                    if rng.random() < 0.5 else replace(product.design, mark=mark))
        return Draft(text_title, desc, seller, price, currency, _label("counterfeit", kinds, brand, product),
                     brand.name, [recipe])

    def image_only(self, brand: Brand, product: Product) -> Draft:
        rng = self.rng
        recipe, edits = self.edited_copy(product)
        cheap = rng.random() < 0.5
        price, currency = self.price(product, (0.2, 0.5) if cheap else (0.7, 1.0))
        kinds = ["image_only", *edits] + (["cheap_price"] if cheap else [])
        noun, line = product.kind.noun, product.kind.line
        return Draft(w.title(rng.choice(w.GENERIC_TITLES), mark="", noun=noun, line=line, rng=rng),
                     w.description(rng, noun=noun, line=line), w.shady_seller(rng), price, currency,
                     _label("counterfeit", kinds, brand, product), brand.name, [recipe])

    def photo_mark(self, brand: Brand, product: Product, *, own_design: bool, small: bool) -> Draft:
        """The mark printed only on a pack in the photo; the title is generic.  ``own_design``: the
        counterfeiter's own packshot (``photo_mark``); else the brand's design photographed anew (``pack_photo``)."""
        rng = self.rng
        design = random_look(rng, brand.name, shape=product.design.shape) if own_design else product.design
        design = replace(design, line=product.kind.line)
        kinds = ["photo_mark" if own_design else "pack_photo"] + (["small_photo"] if small else [])
        cheap = rng.random() < 0.5
        price, currency = self.price(product, (0.2, 0.5) if cheap else (0.7, 1.0))
        kinds += ["cheap_price"] if cheap else []
        noun, line = product.kind.noun, product.kind.line
        return Draft(w.title(rng.choice(w.GENERIC_TITLES), mark="", noun=noun, line=line, rng=rng),
                     w.description(rng, noun=noun, line=line), w.shady_seller(rng), price, currency,
                     _label("counterfeit", kinds, brand, product), brand.name, [self.own_photo(design, small=small)])

    def lookalike(self, brand: Brand, product: Product) -> Draft:
        rng = self.rng
        phrase = rng.choice(w.DUPE).format(mark=brand.name)
        kind = "inspired_by" if phrase.startswith(("inspired", "if you")) else "dupe"
        maker = self.maker()
        design = replace(product.design, mark=maker) if rng.random() < 0.5 else random_look(rng, maker, shape=product.design.shape)
        noun, line = product.kind.noun, product.kind.line
        title = f"{maker} {noun} - {phrase}" if rng.random() < 0.6 else f"{noun} ({phrase})"
        price, currency = self.price(product, (0.3, 0.7))
        return Draft(title, w.description(rng, noun=noun, line=line, extra=f"{phrase.capitalize()}."), w.shady_seller(rng),
                     price, currency, _label("lookalike", [kind], brand, product), brand.name,
                     [self.own_photo(replace(design, line=line))])

    def other_goods(self, brand: Brand) -> Draft:
        """A coined mark used word for word by an unauthorised seller on goods the brand does not make."""
        rng = self.rng
        trade = rng.choice([t for t in TRADES if t.slug != brand.trade.slug])
        kind = rng.choice(trade.kinds)
        product = brand.products[0]
        price = Decimal(f"{rng.uniform(*kind.price):.2f}")
        return Draft(f"{brand.name} {kind.noun} {kind.line.split(' · ')[0].lower()}",
                     w.description(rng, noun=kind.noun, line=kind.line), w.shady_seller(rng), price, product.currency,
                     _label("counterfeit", ["exact", "other_goods"], brand, product), brand.name,
                     [self.own_photo(random_look(rng, brand.name, shape=kind.shape).named(brand.name))])

    # ----------------------------------------------------------------------------------------- negatives
    def genuine(self, brand: Brand, product: Product, *, sale: bool = False) -> Draft:
        rng = self.rng
        path = rng.choice(product.images)
        recipe = {"scene": {"type": "file", "path": path}, "edits": [], "fmt": "jpg", "quality": rng.randint(85, 95),
                  "seed": self.seed()}
        price, currency = self.price(product, (0.7, 0.85) if sale else (0.95, 1.1))
        noun, line = product.kind.noun, product.kind.line
        kinds = ["genuine", "authorized_sale"] if sale else ["genuine"]
        title = w.title(rng.choice(w.GENUINE_TITLES), mark=brand.name, noun=noun, line=line, rng=rng)
        return Draft(title + (" - spring sale" if sale else ""), w.description(rng, noun=noun, line=line),
                     rng.choice(brand.authorized_sellers), price, currency, _label("genuine", kinds, brand, product),
                     brand.name, [recipe], brand_text=brand.name, sku=product.sku)

    def resale(self, brand: Brand, product: Product) -> Draft:
        rng = self.rng
        sort = rng.choice(("second_hand", "grey_market"))
        note = rng.choice(w.RESALE[sort])
        recipe = (self.own_photo(product.design) if rng.random() < 0.6 else
                  {"scene": {"type": "file", "path": rng.choice(product.images)}, "edits": [], "fmt": "jpg",
                   "quality": 80, "seed": self.seed()})
        price, currency = self.price(product, (0.4, 0.8) if sort == "second_hand" else (0.8, 1.0))
        noun, line = product.kind.noun, product.kind.line
        return Draft(f"{brand.name} {noun}, {note}", w.description(rng, noun=noun, line=line, extra=note.capitalize() + "."),
                     rng.choice(w.PEOPLE), price, currency, _label("resale", ["resale", sort], brand, product),
                     brand.name, [recipe])

    def accessory(self, brand: Brand, product: Product) -> Draft:
        rng = self.rng
        kind = rng.choice(("compatible_accessory", "refill", "compatible_part"))
        title = product.kind.accessory.format(mark=brand.name, noun=product.kind.noun)
        if kind == "refill" and "refill" not in title.lower():
            title = f"Refill pack for {brand.name} {product.kind.noun}"
        elif kind == "compatible_part":
            title = f"{title} (compatible, not original)"
        maker = self.maker()
        design = random_look(rng, maker, shape=rng.choice(("card", "pouch", "box")))
        price = Decimal(f"{rng.uniform(3, 15):.2f}")
        return Draft(title, w.description(rng, noun=title, line="fits " + product.kind.noun), w.shady_seller(rng), price,
                     product.currency, _label("accessory", [kind], brand, product), brand.name,
                     [self.own_photo(replace(design, line="COMPATIBLE PART"))], brand_text=maker)

    def same_style(self, brand: Brand, product: Product, *, template: bool) -> Draft:
        """Another maker's pack in the official photo's scene: its own design (``same_style_photo``) or the
        brand's packaging template printed with its name (``shared_template``)."""
        rng = self.rng
        maker = self.maker()
        path = product.images[0]
        scene = dict(self.official[path])
        design = replace(product.design, mark=maker) if template else replace(
            random_look(rng, maker, shape=product.design.shape), line=product.kind.line)
        if "designs" in scene:  # a product beside its sibling: both packs become the other maker's
            scene["designs"] = [design] + [replace(design, line="") for _ in scene["designs"][1:]]
        else:
            scene["design"] = design
        noun, line = product.kind.noun, product.kind.line
        price = (product.msrp * Decimal(str(round(rng.uniform(0.6, 1.1), 2)))).quantize(Decimal("0.01"))
        kind = "shared_template" if template else "same_style_photo"
        return Draft(f"{maker} {noun} {w.line_text(line)}", w.description(rng, noun=noun, line=line),
                     f"{maker} Store", price, product.currency, _label("clean", [kind]), brand.name,
                     [{"scene": scene, "edits": [], "fmt": "jpg", "quality": 90, "seed": self.seed()}], brand_text=maker)

    def other_maker(self, brand: Brand) -> Draft:
        rng = self.rng
        maker = self.maker()
        kind = rng.choice(brand.trade.kinds)
        design = replace(random_look(rng, maker, shape=kind.shape), line=kind.line)
        price = Decimal(f"{rng.uniform(*kind.price):.2f}")
        return Draft(f"{maker} {kind.noun} {w.line_text(kind.line)}", w.description(rng, noun=kind.noun, line=kind.line),
                     rng.choice((f"{maker} Store", w.shady_seller(rng))), price, rng.choice(tuple(RATES)),
                     _label("clean", ["other_brand_same_category"]), brand.name, [self.own_photo(design)], brand_text=maker)

    def innocent(self, brand: Brand, phrase: str, *, same_trade: bool) -> Draft:
        """A listing whose words contain or spell a non-coined mark in their ordinary sense."""
        rng = self.rng
        if brand.style == "dictionary":
            kind = "ordinary_word" if same_trade else "dictionary_collision"
        elif brand.style == "compound":
            kind = "split_compound" if same_trade else "phrase_other_goods"
        else:
            kind = "generic_phrase" if same_trade else "phrase_other_goods"
        maker = self.maker()
        design = replace(random_look(rng, maker), line=phrase.split(",")[0].upper()[:28])
        price = Decimal(f"{rng.uniform(4, 60):.2f}")
        return Draft(phrase, w.description(rng, noun=phrase.split(",")[0], line="quality goods"),
                     rng.choice((f"{maker} Store", w.shady_seller(rng))), price, rng.choice(tuple(RATES)),
                     _label("clean", [kind]), brand.name, [self.own_photo(design)])

    def unrelated(self, group: str) -> Draft:
        rng = self.rng
        name, title = rng.choice(UNRELATED)
        size = rng.randrange(600, 900, 50)
        recipe = {"scene": {"type": "photo", "name": name, "size": (size, size)}, "edits": [], "fmt": "jpg",
                  "quality": rng.randint(75, 92), "seed": self.seed()}
        price = Decimal(f"{rng.uniform(5, 80):.2f}")
        return Draft(title, w.description(rng, noun=title, line="new"), w.shady_seller(rng), price,
                     rng.choice(tuple(RATES)), _label("clean", ["unrelated"]), group, [recipe])

    # ----------------------------------------------------------------------------------------- the world
    def plan(self) -> list[Draft]:
        rng = self.rng
        drafts: list[Draft] = []
        for brand in self.brands:
            for product in brand.products:
                drafts += [self.genuine(brand, product) for _ in range(rng.randint(1, 2))]
                drafts.append(self.genuine(brand, product, sale=True))
                for disguise in rng.sample(TEXT_DISGUISES, k=rng.randint(5, 7)):
                    drafts.append(self.counterfeit(brand, product, disguise))
                drafts += [self.image_only(brand, product) for _ in range(rng.randint(2, 3))]
                drafts.append(self.photo_mark(brand, product, own_design=True, small=rng.random() < 0.5))
                drafts.append(self.photo_mark(brand, product, own_design=False, small=rng.random() < 0.5))
                drafts.append(self.lookalike(brand, product))
                drafts.append(self.accessory(brand, product))
                drafts.append(self.resale(brand, product))
                drafts.append(self.same_style(brand, product, template=False))
                drafts.append(self.same_style(brand, product, template=True))
            drafts += [self.other_maker(brand) for _ in range(rng.randint(3, 5))]
            if brand.style == "coined":
                drafts.append(self.other_goods(brand))
            else:
                phrases = INNOCENT[brand.name]
                drafts += [self.innocent(brand, p, same_trade=True) for p in phrases["same"]]
                drafts += [self.innocent(brand, p, same_trade=False) for p in phrases["other"]]
            drafts += [self.unrelated(brand.name) for _ in range(rng.randint(2, 4))]
        return drafts
