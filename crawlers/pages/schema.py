"""Reading a product out of schema.org nodes (the JSON-LD-like shape :mod:`crawlers.pages.structured` gives).

The main product is chosen among all Product-like nodes (nested ones included): one whose ``url`` or
``@id`` is the page's URL wins, then one with offers, then one with a name, then the shallowest, then
document order.  ``ProductGroup`` nodes without offers take them from the variant whose URL or SKU the
page URL names, else the first variant.  Offers may be a dict, a list, an ``AggregateOffer`` (its
``offers`` or ``lowPrice``), or a ``priceSpecification``; the first offer with a price is used, one
whose URL is the page's preferred.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from crawlers.pages.fields import Fields
from crawlers.pages.structured import MAX_DEPTH, types_of

PRODUCT_TYPES = frozenset(
    {"Product", "ProductGroup", "ProductModel", "IndividualProduct", "SomeProducts", "Vehicle", "Car",
     "Motorcycle", "Book", "MobileApplication", "SoftwareApplication"}
)
OFFER_TYPES = frozenset({"Offer", "AggregateOffer", "OfferForPurchase", "OfferForLease", "Demand"})
_LIST_PRICE_TYPES = ("listprice", "strikethroughprice", "msrp", "srp", "invoiceprice", "minimumadvertisedprice")


def _values(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def first_text(value: Any) -> Any:
    """The first scalar of a value that may be a list or a node with a ``name``/``@value``/``@id``."""
    for item in _values(value):
        if isinstance(item, dict):
            for key in ("name", "@value", "value", "url", "contentUrl", "@id"):
                inner = first_text(item.get(key))
                if inner not in (None, ""):
                    return inner
            continue
        if item not in (None, ""):
            return item
    return None


def collect_products(nodes: list[dict[str, Any]]) -> list[tuple[int, int, dict[str, Any]]]:
    """``(depth, order, node)`` for every Product-like node, nested ones included (those listed in an
    ``ItemList`` only when the list holds a single product)."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    listed: list[tuple[int, int, dict[str, Any]]] = []
    offers_only: list[tuple[int, int, dict[str, Any]]] = []
    counter = 0

    def walk(value: Any, depth: int, in_list: bool) -> None:
        nonlocal counter
        if depth > MAX_DEPTH or counter > 20000:
            return
        if isinstance(value, list):
            for item in value[:500]:
                walk(item, depth, in_list)
            return
        if not isinstance(value, dict):
            return
        counter += 1
        types = types_of(value)
        if types & PRODUCT_TYPES:
            (listed if in_list else found).append((depth, counter, value))
        elif types & OFFER_TYPES and isinstance(value.get("itemOffered"), dict):
            offers_only.append((depth, counter, value))
        for key, inner in value.items():
            if isinstance(inner, (dict, list)) and key not in ("@context",):
                walk(inner, depth + 1, in_list or key == "itemListElement" or "ItemList" in types)

    walk(nodes, 0, False)
    # Products inside an ItemList are a category or search page's results, not the page's product,
    # unless the list holds just one.
    if not found and len(listed) == 1:
        found = listed
    if not found:
        # An Offer that names its product: read the product, with the offer attached.
        for depth, order, offer in offers_only:
            product = dict(offer["itemOffered"])
            product.setdefault("offers", {k: v for k, v in offer.items() if k != "itemOffered"})
            found.append((depth, order, product))
    return found


def _same_page(candidate: Any, url: str) -> bool:
    if not isinstance(candidate, str) or not candidate:
        return False
    try:
        a, b = urlsplit(candidate), urlsplit(url)
    except ValueError:
        return False
    return a.path.rstrip("/") == b.path.rstrip("/") and a.path not in ("", "/") and (
        not a.netloc or a.netloc.lower() == b.netloc.lower()
    )


def choose_product(nodes: list[dict[str, Any]], *, url: str) -> dict[str, Any] | None:
    """The page's main product node, or None when there is no Product-like node."""
    products = collect_products(nodes)
    if not products:
        return None

    def rank(entry: tuple[int, int, dict[str, Any]]) -> tuple:
        depth, order, node = entry
        names_page = _same_page(node.get("url"), url) or _same_page(node.get("@id"), url)
        has_offers = bool(node.get("offers")) or bool(node.get("hasVariant"))
        return (not names_page, not has_offers, not node.get("name"), depth, order)

    return min(products, key=rank)[2]


def _variant_for_page(group: dict[str, Any], url: str) -> dict[str, Any] | None:
    variants = [v for v in _values(group.get("hasVariant")) if isinstance(v, dict)]
    if not variants:
        return None
    lowered = url.lower()
    for variant in variants:
        if _same_page(variant.get("url"), url) and urlsplit(str(variant.get("url"))).query == urlsplit(url).query:
            return variant
    for variant in variants:
        sku = first_text(variant.get("sku"))
        if isinstance(sku, str) and len(sku) >= 3 and sku.lower() in lowered:
            return variant
    with_offers = [v for v in variants if v.get("offers")]
    return (with_offers or variants)[0]


def flatten_offers(value: Any, *, depth: int = 0) -> list[dict[str, Any]]:
    """Offer dicts from an ``offers`` value: lists flattened, an AggregateOffer replaced by its own
    ``offers`` when it lists them (kept as well, last, for its ``lowPrice``)."""
    result: list[dict[str, Any]] = []
    for item in _values(value)[:200]:
        if not isinstance(item, dict) or depth > 4:
            continue
        inner = item.get("offers")
        if "AggregateOffer" in types_of(item) or inner:
            nested = flatten_offers(inner, depth=depth + 1)
            for offer in nested:
                if not offer.get("priceCurrency") and item.get("priceCurrency"):
                    offer = {**offer, "priceCurrency": item["priceCurrency"]}
                result.append(offer)
        result.append(item)
    return result


def offer_price(offer: dict[str, Any]) -> tuple[Any, Any]:
    """(price, currency) as the offer states them, raw: ``price``, else a current
    ``priceSpecification``, else ``lowPrice``."""
    currency = first_text(offer.get("priceCurrency"))
    price = first_text(offer.get("price"))
    if price in (None, ""):
        specs = [s for s in _values(offer.get("priceSpecification")) if isinstance(s, dict)]
        specs.sort(key=lambda s: str(first_text(s.get("priceType")) or "").lower().endswith(_LIST_PRICE_TYPES))
        for spec in specs:
            if first_text(spec.get("price")) not in (None, ""):
                price = first_text(spec.get("price"))
                currency = currency or first_text(spec.get("priceCurrency"))
                break
    if price in (None, ""):
        price = first_text(offer.get("lowPrice"))
    return price, currency


def _availability_rank(value: Any) -> int:
    text = str(first_text(value) or "").lower()
    if text.endswith(("instock", "limitedavailability", "onlineonly", "instoreonly")):
        return 0
    if not text:
        return 1
    return 2


def choose_offer(offers: list[dict[str, Any]], *, url: str) -> dict[str, Any] | None:
    """The offer the page shows: one whose URL is the page with a price, else the first with a price."""
    priced = [o for o in offers if offer_price(o)[0] not in (None, "")]
    # Variants (sizes, colours) list one offer each: show what a buyer can get, in stock first.
    priced.sort(key=lambda o: _availability_rank(o.get("availability")))
    for offer in priced:
        if _same_page(offer.get("url"), url):
            return offer
    if priced:
        return priced[0]
    return offers[0] if offers else None


def product_fields(nodes: list[dict[str, Any]], *, url: str) -> Fields | None:
    """Raw fields of the page's main product in ``nodes`` (values as the page states them; the caller
    normalises), or None when there is no product."""
    product = choose_product(nodes, url=url)
    if product is None:
        return None
    variant = _variant_for_page(product, url) if not product.get("offers") else None
    offers = flatten_offers(product.get("offers"))
    if not offers and variant is not None:
        offers = flatten_offers(variant.get("offers"))
    offer = choose_offer(offers, url=url)

    def pick(key: str) -> Any:
        value = first_text(product.get(key))
        if value in (None, "") and variant is not None:
            value = first_text(variant.get(key))
        return value

    fields = Fields()
    fields.title = pick("name")
    fields.description = pick("description")
    fields.sku = pick("sku")
    fields.mpn = pick("mpn")
    for key in ("gtin13", "gtin", "gtin12", "gtin14", "gtin8", "ean", "upc", "isbn"):
        if pick(key) not in (None, ""):
            fields.gtin = pick(key)
            break
    fields.brand = pick("brand")
    images: list[Any] = []
    for source in (product, variant or {}):
        for image in _values(source.get("image"))[:50]:
            text = first_text(image)
            if text not in (None, ""):
                images.append(text)
    fields.images = images
    fields.url = first_text(product.get("url"))
    fields.external_id = pick("productID")
    if offer is not None:
        fields.price, fields.currency = offer_price(offer)
        fields.availability = first_text(offer.get("availability"))
        seller = offer.get("seller") or offer.get("offeredBy")
        fields.seller = first_text(seller)
        for node in _values(seller)[:1]:
            if isinstance(node, dict):
                fields.seller_url = first_text(node.get("url"))
                fields.seller_id = first_text(node.get("identifier")) or first_text(node.get("@id"))
        if fields.sku in (None, ""):
            fields.sku = first_text(offer.get("sku"))
        if fields.gtin in (None, ""):
            for key in ("gtin13", "gtin", "gtin12", "gtin14", "gtin8"):
                if first_text(offer.get(key)) not in (None, ""):
                    fields.gtin = first_text(offer.get(key))
                    break
    return fields
