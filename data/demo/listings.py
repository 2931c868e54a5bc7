"""The labelled listings of the demo world, planned as drafts before any pixel is drawn.

One :class:`Planner` holds the world's ``random.Random`` and makes drafts of every class:

- ``genuine``: authorized seller, official name and photos, price near MSRP;
- ``counterfeit``: official photos copied with edits, the name disguised (or absent), cheap prices,
  impersonating sellers, replica wording, several disguises combined;
- ``lookalike``: dupes and "inspired by"/"X style" products with their own photos, the brand named as a
  comparison;
- ``accessory``: third-party compatible items, refills and spare parts ("compatible with X", "Nachfüllpack
  für X", "Repuesto compatible con X"), not infringing by themselves;
- ``resale``: genuine items offered second-hand or grey-market by unauthorised sellers, often with the
  official photo, in several languages; not infringing;
- ``clean``: hard negatives (ordinary use of an ordinary-word mark across categories, a coined mark inside a
  longer ordinary word, phrases close to a coined mark, the brand's own packshot template printed with
  another maker's name, other makers' look-alike studio photos, other brands of the category) and
  unrelated products.

Prices are ``Decimal`` in major units; a listing may be priced in another currency than the MSRP, converted
with :data:`RATES` (USD per unit, the defaults of ``core.settings``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from data.demo import textforms
from data.demo.catalogue import Brand, Product
from data.demo.images import Collage, ImageRecipe, Official, Packshot, RealPhoto, Source
from data.demo.packshots import SHAPES, Look, random_look
from data.demo.vocab import (
    ACCESSORY_DISCLAIMERS,
    ACCESSORY_TITLES,
    CATEGORIES,
    DUPE_TEMPLATES,
    GENERIC_SELLERS,
    HOST_WORDS,
    HOSTILE_SNIPPETS,
    HYPE_WORDS,
    INSPIRED_TEMPLATES,
    NEAR_PHRASE_PRODUCTS,
    PART_CATEGORIES,
    REFILL_CATEGORIES,
    REPLICA_PHRASES,
    RESALE_DESCRIPTIONS,
    RESALE_TITLES,
    UNRELATED_ITEMS,
    UNRELATED_PACKSHOTS,
)

INFRINGING_CLASSES = ("counterfeit", "lookalike")
RATES = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
NAME_DISGUISES = {"exact": 14, "misspelt": 12, "spaced": 9, "leetspeak": 9, "homoglyph": 9, "zero_width": 7,
                  "desc_only": 9, "image_only": 12, "photo_mark": 7}
IMAGE_EDITS = ("reencoded", "crop", "mirror", "pad", "overlay", "collage", "rotate", "background", "colour_shift")


@dataclass
class Draft:
    """A listing before it has an id and image files; ``group`` is the brand whose split it follows."""

    shop: str
    title: str
    description: str
    price: Decimal
    currency: str
    seller: str
    images: list[ImageRecipe]
    label_class: str
    kinds: list[str]
    brand: str | None = None
    label_sku: str | None = None
    sku: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    brand_text: str | None = None
    available: bool = True
    group: str | None = None
    extra_kinds: list[str] = field(default_factory=list)

    def record(self, *, listing_id: str, image_paths: list[str], split: str) -> dict:
        """The ``listings.jsonl`` object of the demo world contract."""
        return {
            "id": listing_id, "shop": self.shop, "title": self.title, "description": self.description,
            "price": f"{self.price:.2f}", "currency": self.currency, "seller": self.seller, "sku": self.sku,
            "gtin": self.gtin, "mpn": self.mpn, "brand_text": self.brand_text, "available": self.available,
            "images": image_paths,
            "label": {"infringing": self.label_class in INFRINGING_CLASSES, "brand": self.brand,
                      "sku": self.label_sku, "class": self.label_class, "kinds": list(self.kinds), "split": split},
        }


def money(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def convert(amount: Decimal, source: str, target: str) -> Decimal:
    return money(amount * RATES[source] / RATES[target])


class Planner:
    """Makes listing drafts for a set of brands from one seeded random generator."""

    def __init__(self, rng: random.Random, *, brands: list[Brand], shops: list[str], other_marks: list[str]) -> None:
        self.rng = rng
        self.brands = brands
        self.shops = shops
        self.other_marks = other_marks

    # -- small helpers -------------------------------------------------------------------------------------
    def _seed(self) -> int:
        return self.rng.getrandbits(32)

    def _other_mark(self) -> str:
        return self.rng.choice(self.other_marks)

    def _price(self, product: Product, low: float, high: float) -> tuple[Decimal, str]:
        """A price of ``low``-``high`` times MSRP, in the MSRP currency or (25%) another one."""
        factor = Decimal(str(round(self.rng.uniform(low, high), 3)))
        currency = product.currency if self.rng.random() < 0.75 else self.rng.choice(sorted(RATES))
        amount = convert(product.msrp * factor, product.currency, currency)
        if self.rng.random() < 0.5:
            amount = money(max(Decimal("0.99"), amount.to_integral_value() - Decimal("0.01")))
        return max(amount, Decimal("0.50")), currency

    def _copy_recipe(self, path: str, edits: list[str], *, others: list[Source]) -> ImageRecipe:
        """An official photo re-published with ``edits`` (kinds of :data:`IMAGE_EDITS`)."""
        rng = self.rng
        source: Source = Official(path)
        if "collage" in edits:
            parts = [source, *others[: rng.randint(1, 3)]]
            rng.shuffle(parts)
            source = Collage(tuple(parts))
        if not edits and rng.random() < 0.5:
            return ImageRecipe(source=source, copy=True, seed=self._seed())
        pixel_edits = tuple(e for e in edits if e not in ("reencoded", "collage"))
        if "reencoded" in edits:
            return ImageRecipe(source=source, edits=pixel_edits, fmt="jpg", quality=rng.randint(12, 40),
                               long_side=rng.choice((None, 480, 560, 640)), seed=self._seed())
        roll = rng.random()
        fmt = "webp" if roll < 0.12 else "png" if roll < 0.2 else "jpg"
        return ImageRecipe(source=source, edits=pixel_edits, fmt=fmt, quality=rng.randint(75, 92),
                           long_side=rng.choice((None, None, 600, 800)) if fmt != "png" else 560, seed=self._seed())

    def _foreign_sources(self, brand: Brand) -> list[Source]:
        """Official photos of other brands, as collage companions."""
        pool = [p for b in self.brands if b is not brand for pr in b.products for p in pr.images]
        return [Official(p) for p in self.rng.sample(pool, k=3)]

    def _own_packshot(self, *, shape: str | None = None, mark: str, line: str, look=None, scene=None) -> ImageRecipe:
        rng = self.rng
        look = look or random_look(shape or rng.choice(SHAPES), rng)
        src = Packshot(look=look, mark=mark, line=line, size=rng.choice((600, 640, 720, 800)),
                       scene=scene or rng.choice(("white", "white", "studio", "tinted")), variant=rng.randint(0, 5),
                       scale=rng.uniform(0.8, 1.0), offset=rng.uniform(-0.05, 0.05))
        fmt = "webp" if rng.random() < 0.1 else "jpg"
        return ImageRecipe(source=src, fmt=fmt, quality=rng.randint(78, 90), seed=self._seed())

    def _seller(self) -> str:
        return self.rng.choice(GENERIC_SELLERS)

    def _draft(self, **kwargs) -> Draft:
        return Draft(shop=self.rng.choice(self.shops), available=self.rng.random() < 0.9, **kwargs)

    # -- classes --------------------------------------------------------------------------------------------
    def genuine(self, brand: Brand, product: Product) -> Draft:
        rng = self.rng
        kind = product.kind
        seller = rng.choice(brand.authorized_sellers)
        title = rng.choice((f"{product.name} {kind.size}", f"{brand.name} {kind.noun} - {kind.size} | Official",
                            f"{product.name} ({kind.size}) by {brand.name}", f"{product.name}"))
        adj = rng.choice(brand.category.generic_adjectives)
        description = (f"{product.name}: {adj}, {kind.size}. Made by {brand.owner}. "
                       f"Sold and shipped by {seller}. Genuine product with manufacturer warranty.")
        price, currency = self._price(product, 0.85, 1.0) if rng.random() < 0.5 else (product.msrp, product.currency)
        paths = product.images[: rng.randint(1, len(product.images))]
        images = [ImageRecipe(source=Official(p), copy=True) if rng.random() < 0.7 else
                  ImageRecipe(source=Official(p), fmt="jpg", quality=rng.randint(80, 92),
                              long_side=rng.choice((600, 800)), seed=self._seed()) for p in paths]
        return self._draft(title=title, description=description, price=price, currency=currency, seller=seller,
                           images=images, label_class="genuine", kinds=["genuine"], brand=brand.name,
                           label_sku=product.sku, sku=product.sku if rng.random() < 0.5 else None,
                           gtin=product.gtin if rng.random() < 0.5 else None,
                           brand_text=brand.name if rng.random() < 0.7 else None, group=brand.name)

    def counterfeit(self, brand: Brand, product: Product) -> Draft:
        rng = self.rng
        kind = product.kind
        kinds: list[str] = []
        name_kind = rng.choices(list(NAME_DISGUISES), weights=list(NAME_DISGUISES.values()))[0]
        kinds.append(name_kind)
        disguise = {
            "exact": lambda m, r: m, "misspelt": textforms.misspell, "spaced": textforms.spaced,
            "leetspeak": textforms.leetspeak, "homoglyph": textforms.homoglyph, "zero_width": textforms.zero_width,
        }
        adj = rng.choice(brand.category.generic_adjectives)
        hype = rng.choice(HYPE_WORDS)
        generic_title = rng.choice((f"{adj} {kind.noun} {kind.size} {hype}", f"{hype} {kind.noun} {adj}",
                                    f"{kind.noun} {kind.size} - {adj}, {hype.lower()}"))
        if name_kind in disguise:
            shown = disguise[name_kind](brand.name, rng)
            title = rng.choice((f"{shown} {kind.noun} {kind.size} {hype}", f"{hype} {shown} {kind.noun}",
                                f"{shown} {kind.noun} {adj} {kind.size}", f"NEW {shown} {kind.noun} original"))
            description = rng.choice((f"{shown} {kind.noun}, {adj}. Fast shipping worldwide.",
                                      f"Authentic {shown} {kind.noun.lower()}! {hype}. Ships in 24h.",
                                      f"Brand: {shown}. Size: {kind.size}. Condition: new."))
            brand_text = shown if rng.random() < 0.4 else None
        elif name_kind == "desc_only":
            title = generic_title
            description = rng.choice((f"Genuine {brand.name} {kind.noun}, {adj}, {kind.size}.",
                                      f"Brand: {brand.name}. {adj.capitalize()} {kind.noun.lower()}, new in box.",
                                      f"{adj.capitalize()} {kind.noun.lower()} ... original {brand.name} packaging."))
            brand_text = None
        elif name_kind == "photo_mark":  # generic text; the counterfeiter's own photo shows the mark
            title = generic_title
            description = rng.choice((f"{adj.capitalize()} {kind.noun.lower()}, {kind.size}. As pictured.",
                                      f"{kind.noun} - {hype}. Brand as shown in the photo.", ""))
            brand_text = None
        else:  # image_only: no name anywhere, only the copied photo tells
            title = generic_title
            description = rng.choice((f"{adj.capitalize()} {kind.noun.lower()}, {kind.size}. See photos.",
                                      f"High quality {kind.noun.lower()}. {hype}!", ""))
            brand_text = None
        edits: list[str] = []
        if name_kind == "photo_mark":
            look = product.look if rng.random() < 0.5 else None
            images = [self._own_packshot(shape=kind.shape, mark=brand.name, line=kind.noun, look=look,
                                         scene=rng.choice(("white", "studio", "tinted")))]
        else:
            if rng.random() > 0.2:
                edits = rng.sample(IMAGE_EDITS, k=rng.choice((1, 1, 2, 2, 3)))
                if "collage" in edits:
                    edits = [e for e in edits if e not in ("crop", "rotate", "mirror", "background")]
            images = [self._copy_recipe(rng.choice(product.images), edits, others=self._foreign_sources(brand))]
        kinds.extend(sorted(edits, key=IMAGE_EDITS.index))
        if name_kind != "photo_mark" and rng.random() < 0.35:
            if len(product.images) > 1 and rng.random() < 0.5:
                other = next(p for p in product.images if images[0].source != Official(p))
                images.append(self._copy_recipe(other, [e for e in edits if e != "collage"], others=[]))
            else:
                shown_mark = brand.name if name_kind != "image_only" else ""
                images.append(self._own_packshot(mark=shown_mark, line=kind.noun, look=product.look,
                                                 scene=rng.choice(("tinted", "studio"))))
        seller = self._seller()
        if rng.random() < 0.3:
            seller = textforms.imitate_seller(rng.choice(brand.authorized_sellers), rng)
            kinds.append("seller_impersonation")
        if rng.random() < 0.35:
            phrase = rng.choice(REPLICA_PHRASES)
            if rng.random() < 0.5:
                title = f"{title} [{phrase}]"
            else:
                description = f"{description} {phrase.capitalize()}, looks identical."
            kinds.append("replica_wording")
        if rng.random() < 0.8:
            price, currency = self._price(product, 0.15, 0.7)
            kinds.append("cheap_price")
        else:
            price, currency = self._price(product, 0.8, 1.05)
        return self._draft(title=title, description=description, price=price, currency=currency, seller=seller,
                           images=images, label_class="counterfeit", kinds=kinds, brand=brand.name,
                           label_sku=product.sku, sku=product.sku if rng.random() < 0.15 else None,
                           brand_text=brand_text, group=brand.name)

    def lookalike(self, brand: Brand, product: Product) -> Draft:
        rng = self.rng
        kind = product.kind
        noun = kind.noun.lower()
        adj = rng.choice(brand.category.generic_adjectives)
        style = rng.choice(("dupe", "inspired_by"))
        templates = DUPE_TEMPLATES if style == "dupe" else INSPIRED_TEMPLATES
        title = rng.choice(templates).format(b=brand.name, p=kind.noun, adj=adj, noun=noun)
        own = self._other_mark() if rng.random() < 0.5 else ""
        description = (f"{own + ' ' if own else ''}{adj} {noun}. Not affiliated with {brand.name}; "
                       f"a fraction of the price.")
        look = product.look if rng.random() < 0.6 else None  # look-alike packaging or a look of its own
        images = [self._own_packshot(shape=kind.shape, mark=own or noun.split()[-1].upper(), line=adj, look=look)]
        kinds = [style]
        price, currency = self._price(product, 0.2, 0.75)
        if price * RATES[currency] < product.msrp * RATES[product.currency] * Decimal("0.7"):
            kinds.append("cheap_price")
        return self._draft(title=title, description=description, price=price, currency=currency,
                           seller=self._seller(), images=images, label_class="lookalike", kinds=kinds,
                           brand=brand.name, label_sku=product.sku, brand_text=own or None, group=brand.name)

    def accessory(self, brand: Brand, product: Product) -> Draft:
        """A third-party compatible accessory, refill or spare part naming the brand as a compatibility."""
        rng = self.rng
        kinds = ["compatible_accessory"]
        if brand.category.slug in REFILL_CATEGORIES:
            kinds.append("refill")
        if brand.category.slug in PART_CATEGORIES:
            kinds.append("compatible_part")
        kind = rng.choice(kinds)
        pool = ACCESSORY_TITLES[kind] + (brand.category.accessories if kind == "compatible_accessory" else ())
        title = rng.choice(pool).format(b=brand.name, p=product.kind.noun)
        maker = self._other_mark()
        description = f"{title}. Made by {maker}. " + rng.choice(ACCESSORY_DISCLAIMERS).format(b=brand.name)
        shape = rng.choice(("box", "pouch", "device")) if kind != "refill" else product.kind.shape
        images = [self._own_packshot(shape=shape, mark=maker, line=kind.replace("_", " "))]
        price, currency = self._price(product, 0.15, 0.6)
        return self._draft(title=title, description=description, price=price, currency=currency,
                           seller=self._seller(), images=images, label_class="accessory", kinds=[kind],
                           brand=brand.name, label_sku=product.sku, brand_text=maker, group=brand.name)

    def resale(self, brand: Brand, product: Product) -> Draft:
        """A genuine item offered second-hand or grey-market by a seller the brand did not authorise."""
        rng = self.rng
        way = rng.choice(("second_hand", "second_hand", "grey_market"))
        title = rng.choice(RESALE_TITLES[way]).format(b=brand.name, p=product.kind.noun)
        description = rng.choice(RESALE_DESCRIPTIONS).format(b=brand.name, s=rng.choice(brand.authorized_sellers))
        if rng.random() < 0.6:  # the official photo, as resellers often do
            images = [ImageRecipe(source=Official(rng.choice(product.images)), fmt="jpg",
                                  quality=rng.randint(60, 88), long_side=rng.choice((None, 600, 800)),
                                  seed=self._seed())]
        else:  # the seller's own snapshot of the genuine product
            src = Packshot(look=product.look, mark=brand.name, line=f"{product.kind.noun} {product.kind.size}",
                           size=rng.choice((600, 720)), scene=rng.choice(("studio", "tinted")),
                           variant=rng.randint(0, 5), scale=rng.uniform(0.6, 0.9), offset=rng.uniform(-0.1, 0.1))
            images = [ImageRecipe(source=src, edits=rng.choice(((), ("rotate",), ("crop",))), fmt="jpg",
                                  quality=rng.randint(60, 85), seed=self._seed())]
        low, high = (0.35, 0.85) if way == "second_hand" else (0.7, 1.0)
        price, currency = self._price(product, low, high)
        seller = rng.choice((self._seller(), f"{rng.choice(('anna', 'jonas', 'marie', 'li', 'omar'))}_"
                                             f"{rng.randint(10, 99)}"))
        return self._draft(title=title, description=description, price=price, currency=currency, seller=seller,
                           images=images, label_class="resale", kinds=["resale", way], brand=brand.name,
                           label_sku=product.sku, brand_text=brand.name if rng.random() < 0.5 else None,
                           group=brand.name)

    def _clean(self, *, title: str, description: str, price: Decimal, images: list[ImageRecipe], kind: str,
               group: str | None, brand_text: str | None = None) -> Draft:
        return self._draft(title=title, description=description, price=money(price),
                           currency=self.rng.choice(sorted(RATES)), seller=self._seller(), images=images,
                           label_class="clean", kinds=[kind], brand_text=brand_text, group=group)

    def ordinary_word(self, brand: Brand, phrase: str) -> Draft:
        rng = self.rng
        title = phrase if rng.random() < 0.6 else f"{phrase} - {rng.choice(HYPE_WORDS)}"
        if rng.random() < 0.3:
            title = title.lower()
        maker = self._other_mark()
        images = [self._own_packshot(mark=maker, line=phrase.split()[-1])]
        return self._clean(title=title, description=f"{phrase}. Quality product from {maker}.",
                           price=Decimal(str(round(rng.uniform(4, 90), 2))), images=images, kind="ordinary_word",
                           group=brand.name, brand_text=maker if rng.random() < 0.5 else None)

    def near_phrase(self, brand: Brand) -> Draft:
        rng = self.rng
        item = rng.choice(NEAR_PHRASE_PRODUCTS)
        if len(brand.parts) > 1 and rng.random() < 0.6:
            words = " ".join(brand.parts)
            title = rng.choice((f"{words} {item}", f"{words.title()} {item}", f"{item} - {words} design"))
            mark = self._other_mark()
        else:
            mark = textforms.misspell(brand.name, rng) + rng.choice(("", "a", "o", "ex", "is"))
            title = f"{mark} {item}"
        images = [self._own_packshot(mark=mark, line=item)]
        return self._clean(title=title, description=f"{title}. Everyday {item} at a fair price.",
                           price=Decimal(str(round(rng.uniform(6, 60), 2))), images=images, kind="near_phrase",
                           group=brand.name, brand_text=mark if rng.random() < 0.5 else None)

    def mark_in_word(self, brand: Brand) -> Draft | None:
        """An everyday phrase (several languages) holding an ``embedded`` mark inside a longer word."""
        rng = self.rng
        piece = brand.name.casefold()
        phrases = [ph for w in brand.host_words for ph in HOST_WORDS[w] if piece in ph.casefold()]
        if not phrases:
            return None
        title = rng.choice(phrases)
        if rng.random() < 0.3:
            title = f"{title} - {rng.choice(HYPE_WORDS)}"
        maker = self._other_mark()
        images = [self._own_packshot(mark=maker, line=title.split()[0])]
        return self._clean(title=title, description=f"{title}. {maker} quality, fast delivery.",
                           price=Decimal(str(round(rng.uniform(4, 80), 2))), images=images, kind="mark_in_word",
                           group=brand.name, brand_text=maker if rng.random() < 0.5 else None)

    def shared_template(self, brand: Brand, product: Product, official_size: int) -> Draft:
        """Another maker's product on the very template of ``product``'s first official photo: same shape,
        colours, layout and scene, another name on the label (shops buy the same packshot templates)."""
        rng = self.rng
        mark = self._other_mark()
        other = rng.choice(brand.category.products) if rng.random() < 0.5 else product.kind
        src = Packshot(look=product.look, mark=mark, line=f"{other.noun} {other.size}", size=official_size,
                       scene="white", supersample=2)
        images = [ImageRecipe(source=src, fmt="jpg", quality=rng.randint(80, 92), seed=self._seed())]
        title = rng.choice((f"{mark} {other.noun} {other.size}", f"{other.noun} {other.size} by {mark}"))
        price, _ = self._price(product, 0.7, 1.2)
        return self._clean(title=title, description=f"{mark} {other.noun.lower()}, {rng.choice(brand.category.keywords)}.",
                           price=price, images=images, kind="shared_template", group=brand.name, brand_text=mark)

    def same_style_photo(self, brand: Brand, product: Product, official_size: int) -> Draft:
        """Another maker's product of the same kind in a look-alike studio photo (same shape and scene,
        colours of its own or close to the brand's)."""
        rng = self.rng
        mark = self._other_mark()
        kind = product.kind
        look = random_look(kind.shape, rng)
        if rng.random() < 0.5:
            look = Look(shape=kind.shape, body=product.look.body, accent=look.accent, label=look.label,
                        ink=look.ink, logo=look.logo)
        src = Packshot(look=look, mark=mark, line=f"{kind.noun} {kind.size}", size=official_size,
                       scene=rng.choice(("white", "studio")), variant=rng.randint(0, 3),
                       scale=rng.uniform(0.8, 1.0), offset=rng.uniform(-0.05, 0.05), supersample=2)
        images = [ImageRecipe(source=src, fmt="jpg", quality=rng.randint(80, 92), seed=self._seed())]
        adj = rng.choice(brand.category.generic_adjectives)
        title = rng.choice((f"{mark} {kind.noun} {kind.size}", f"{mark} {adj} {kind.noun}", f"{kind.noun} by {mark}"))
        price, _ = self._price(product, 0.6, 1.3)
        return self._clean(title=title, description=f"{mark} {kind.noun.lower()}, {adj}.", price=price,
                           images=images, kind="same_style_photo", group=brand.name, brand_text=mark)

    def other_brand(self, category_slug: str, *, group: str | None = None) -> Draft:
        rng = self.rng
        category = next(c for c in CATEGORIES if c.slug == category_slug)
        kind = rng.choice(category.products)
        mark = self._other_mark()
        title = rng.choice((f"{mark} {kind.noun} {kind.size}", f"{kind.noun} by {mark}",
                            f"{mark} {rng.choice(category.generic_adjectives)} {kind.noun}"))
        images = [self._own_packshot(shape=kind.shape, mark=mark, line=kind.noun)]
        return self._clean(title=title, description=f"{title}. {rng.choice(category.generic_adjectives)}.",
                           price=Decimal(str(round(rng.uniform(*kind.price), 2))), images=images,
                           kind="other_brand_same_category", group=group, brand_text=mark)

    def unrelated(self) -> Draft:
        rng = self.rng
        if rng.random() < 0.5:
            title, photo = rng.choice(UNRELATED_ITEMS)
            x0, y0 = rng.uniform(0, 0.2), rng.uniform(0, 0.2)
            x1, y1 = rng.uniform(0.8, 1.0), rng.uniform(0.8, 1.0)
            recipe = ImageRecipe(source=RealPhoto(photo, (x0, y0, x1, y1), rng.choice((480, 600, 720))),
                                 edits=("mirror",) if rng.random() < 0.3 else (), fmt="jpg",
                                 quality=rng.randint(75, 90), seed=self._seed())
            images = [recipe]
        else:
            title, shape = rng.choice(UNRELATED_PACKSHOTS)
            images = [self._own_packshot(shape=shape, mark=self._other_mark(), line=title.split()[0])]
        return self._clean(title=title, description=f"{title}. Brand new, fast delivery.",
                           price=Decimal(str(round(rng.uniform(3, 120), 2))), images=images, kind="unrelated",
                           group=None)

    # -- hostile text -----------------------------------------------------------------------------------------
    def roughen(self, draft: Draft) -> None:
        """Make some text hostile: HTML, scripts, emoji, odd whitespace, very long descriptions."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.06:
            draft.title = f"{draft.title} {rng.choice(HOSTILE_SNIPPETS)}"
        elif roll < 0.10:
            draft.description = f"{rng.choice(HOSTILE_SNIPPETS)} {draft.description} {rng.choice(HOSTILE_SNIPPETS)}"
        elif roll < 0.13:
            draft.description = " ".join([draft.description] * rng.randint(40, 200))
        elif roll < 0.16:
            draft.title = "  " + draft.title.replace(" ", rng.choice(("  ", "\t", "\u00a0", " \n "))) + " "
