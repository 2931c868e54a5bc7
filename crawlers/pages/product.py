"""The generic product page: every extractor run, their fields merged into one :class:`Listing`.

Sources, in priority order (:data:`SOURCE_PRIORITY`): ``json-ld``, ``microdata``, ``rdfa``,
``opengraph``, ``html``.  Each field is taken from the first source that gives a valid value after
normalisation, with these exceptions:

- ``price`` and ``currency`` travel together: the price comes from the first source with a non-zero
  price; its currency from the same source, else from the next source that states one, else from the
  page's country (its URL's TLD, when a country has a single currency);
- ``image_urls`` are the photos of the product the page sells: the images of the structured sources'
  main product when any names one, otherwise OpenGraph's image then the HTML gallery near the title
  (:mod:`crawlers.pages.gallery`); made absolute, duplicates, logos and icons dropped, at most
  :data:`crawlers.items.MAX_IMAGE_URLS`.  Images of other products' cards, banners and badges are never included;
- ``canonical_url`` uses rel=canonical, then og:url, then a structured ``url``, honoured only on the
  same registrable domain (:func:`crawlers.processors.canonical_url`).

``source`` lists, joined by ``+``, the sources that supplied at least one field of the result.
A page with no product markup (no Product node, no og:type product, no product price tags) and no
title-with-price in its HTML is not a product page: :meth:`ProductPage.to_item` returns None.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crawlers.items import MAX_IMAGE_URLS, Listing
from crawlers.pages.document import Document, parse_document
from crawlers.pages.fields import Fields
from crawlers.pages.gallery import IMAGE_NOISE
from crawlers.pages.heuristics import find_title_element, html_fields
from crawlers.pages.opengraph import is_product_type, meta_tags, opengraph_fields
from crawlers.pages.price_html import looks_like_product_list
from crawlers.pages.schema import product_fields
from crawlers.pages.structured import jsonld_nodes, microdata_nodes, rdfa_nodes
from crawlers.processors import (
    COUNTRY_CURRENCY,
    absolute_url,
    canonical_url,
    clean_gtin,
    clean_seller,
    clean_short,
    clean_text,
    country_from_url,
    normalize_availability,
    normalize_currency,
    parse_price,
)

SOURCE_PRIORITY = ("json-ld", "microdata", "rdfa", "opengraph", "html")
STRUCTURED_SOURCES = frozenset({"json-ld", "microdata", "rdfa"})


class ProductPage:
    """A fetched page read as a product offer.

    ``ProductPage(url, html).to_item()`` gives a :class:`crawlers.items.Listing` or None when the page
    is not a product page.  ``html`` may be bytes (decoded by BOM, ``content_type``, meta charset) or
    text; only its first 5 M characters are read.  Never raises on broken markup.
    """

    def __init__(
        self, url: str, html: str | bytes, *, content_type: str | None = None, html_fallbacks: bool = True
    ) -> None:
        self.url = url
        self.html_fallbacks = html_fallbacks
        self.document: Document = parse_document(url, html, content_type=content_type)

    def _extract(self) -> tuple[dict[str, Fields], bool, bool]:
        """(fields per source, og says product, page has an <h1>)."""
        tree = self.document.tree
        if tree is None:
            return {}, False, False
        found: dict[str, Fields] = {}
        for name, nodes in (
            ("json-ld", lambda: jsonld_nodes(tree)),
            ("microdata", lambda: microdata_nodes(tree, base_url=self.url)),
            ("rdfa", lambda: rdfa_nodes(self.document.text, base_url=self.url, tree=tree)),
        ):
            fields = product_fields(nodes(), url=self.url)
            if fields is not None:
                found[name] = fields
        tags = meta_tags(tree)
        og = opengraph_fields(tags)
        og_is_product = is_product_type(tags) or og.price not in (None, "")
        if not og.is_empty():
            found["opengraph"] = og
        found["html"] = html_fields(tree, url=self.url) if self.html_fallbacks else Fields()
        return found, og_is_product, find_title_element(tree) is not None

    def to_item(self) -> Listing | None:
        """The merged listing, or None when the page shows no product."""
        sources, og_is_product, has_h1 = self._extract()
        if not sources:
            return None
        has_structured = bool(STRUCTURED_SOURCES & sources.keys())
        html = sources["html"]
        # Without markup, a product page is an <h1> (not just a <title>) with a price or an identifier.
        # A labelled identifier (SKU: ...) marks a product page; a price alone may be the first card of a
        # category or search page, so it counts only when the page is not a list of products.
        has_identifier = any(getattr(html, name) not in (None, "") for name in ("sku", "gtin", "mpn"))
        html_is_product = has_h1 and (
            has_identifier or (html.price not in (None, "") and not self._is_product_list())
        )
        if not (has_structured or og_is_product or html_is_product):
            return None
        return merge_sources(self.url, sources)

    def _is_product_list(self) -> bool:
        tree = self.document.tree
        return looks_like_product_list(tree, find_title_element(tree))


def merge_sources(url: str, sources: dict[str, Fields]) -> Listing:
    """One Listing from the raw fields of several sources (see the module docstring for the rules)."""
    used: set[str] = set()
    country = country_from_url(url)

    def first(name: str, normalise: Any) -> Any:
        for source in SOURCE_PRIORITY:
            fields = sources.get(source)
            if fields is None:
                continue
            value = normalise(getattr(fields, name))
            if value not in (None, ""):
                used.add(source)
                return value
        return None

    price, currency = _merged_price(sources, country=country, used=used)
    images = _merged_images(url, sources, used=used)
    declared = [getattr(sources.get(s), "url", None) for s in ("html", "opengraph", *STRUCTURED_SOURCES)]
    return Listing(
        url=url,
        canonical_url=canonical_url(url, declared=[d for d in declared if isinstance(d, str)]),
        external_id=first("external_id", clean_short),
        title=first("title", clean_short),
        description=first("description", clean_text),
        price=price,
        currency=currency,
        seller=first("seller", clean_seller),
        seller_id=first("seller_id", clean_short),
        seller_url=first("seller_url", lambda value: absolute_url(value, base=url)),
        sku=first("sku", clean_short),
        gtin=first("gtin", clean_gtin),
        mpn=first("mpn", clean_short),
        brand=first("brand", clean_short),
        image_urls=images,
        availability=first("availability", normalize_availability),
        source="+".join(s for s in SOURCE_PRIORITY if s in used) or None,
    )


def _merged_images(url: str, sources: dict[str, Fields], *, used: set[str]) -> list[str]:
    """The product's own photos: structured sources' images if any, else OpenGraph then the HTML gallery."""
    structured = [s for s in SOURCE_PRIORITY if s in STRUCTURED_SOURCES and s in sources]
    chosen = structured if any(_usable_images(url, sources[s]) for s in structured) else ["opengraph", "html"]
    images: list[str] = []
    for source in chosen:
        fields = sources.get(source)
        for image in _usable_images(url, fields) if fields else []:
            if image not in images and len(images) < MAX_IMAGE_URLS:
                images.append(image)
                used.add(source)
    return images


def _usable_images(url: str, fields: Fields) -> list[str]:
    found = []
    for raw in fields.images[:50]:
        image = absolute_url(raw.strip(), base=url) if isinstance(raw, str) else None
        if image and not IMAGE_NOISE.search(image.rsplit("/", 1)[-1]):
            found.append(image)
    return found


def _merged_price(
    sources: dict[str, Fields], *, country: str | None, used: set[str]
) -> tuple[Decimal | None, str | None]:
    price: Decimal | None = None
    currency: str | None = None
    for source in SOURCE_PRIORITY:
        fields = sources.get(source)
        if fields is None:
            continue
        if price is None:
            amount = parse_price(fields.price, structured=source != "html")
            if amount:
                price = amount
                used.add(source)
                currency = normalize_currency(fields.currency, country=country) if fields.currency else None
                if currency is None and source == "html" and isinstance(fields.price, str):
                    currency = normalize_currency(fields.price, country=country)
                continue
        if price is not None and currency is None and isinstance(fields.currency, str):
            currency = normalize_currency(fields.currency, country=country)
            if currency:
                used.add(source)
    if price is not None and currency is None and country:
        currency = COUNTRY_CURRENCY.get(country)
    return price, currency
