"""HTML fallbacks for pages without (complete) structured data: one :class:`Fields` from visible HTML.

- title: the first ``<h1>`` with visible text, else ``<title>`` up to its first `` | `` / `` - ``;
- price: :func:`crawlers.pages.price_html.html_price` (the best-scoring price-looking element);
- images: the product's own photos, :func:`crawlers.pages.gallery.gallery_images` (the gallery near the
  title; never cards of other products, banners, logos or badges);
- seller, sku, brand, mpn, gtin: :func:`crawlers.pages.labels.labelled_values` ("Sold by X", "SKU: X"...);
- availability: :func:`crawlers.pages.labels.html_availability`;
- description: ``<meta name=description>``; canonical: ``<link rel=canonical>``.
"""

from __future__ import annotations

import re

import lxml.html

from crawlers.pages.fields import Fields
from crawlers.pages.gallery import gallery_images
from crawlers.pages.htmltext import visible_text
from crawlers.pages.labels import html_availability, labelled_values, looks_like_identifier
from crawlers.pages.price_html import html_price


def find_title_element(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The first ``<h1>`` with visible text."""
    for h1 in tree.iter("h1"):
        if visible_text(h1, limit=50):
            return h1
    return None


def html_title(tree: lxml.html.HtmlElement, h1: lxml.html.HtmlElement | None) -> str | None:
    if h1 is not None:
        return visible_text(h1, limit=1000)
    titles = tree.xpath("//title")
    if titles:
        text = visible_text(titles[0], limit=1000)
        return re.split(r"\s[|–—-]\s", text, maxsplit=1)[0]
    return None


def html_fields(tree: lxml.html.HtmlElement, *, url: str = "") -> Fields:
    """Raw fields from the page's visible HTML (``url``: the page's own URL, to tell cards from zoom links)."""
    fields = Fields()
    h1 = find_title_element(tree)
    fields.title = html_title(tree, h1)
    fields.price, fields.currency = html_price(tree, h1, url=url)
    fields.images = gallery_images(tree, url=url, title=h1)
    descriptions = tree.xpath("//meta[translate(@name, 'DESCRIPTION', 'description')='description']/@content")
    fields.description = descriptions[0] if descriptions else None
    labelled = labelled_values(tree)
    fields.seller = labelled.get("seller")
    fields.brand = labelled.get("brand")
    for name in ("sku", "mpn", "gtin"):
        value = labelled.get(name)
        if value and looks_like_identifier(value):
            setattr(fields, name, value)
    fields.availability = html_availability(tree)
    canonical = tree.xpath("//link[translate(@rel, 'CANONICAL', 'canonical')='canonical']/@href")
    fields.url = canonical[0] if canonical else None
    return fields
