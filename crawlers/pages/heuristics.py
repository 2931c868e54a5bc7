"""HTML fallbacks for pages without (complete) structured data: one :class:`Fields` from visible HTML.

- title: the first ``<h1>`` with visible text, else ``<title>`` up to its first `` | `` / `` - ``;
- price: :func:`crawlers.pages.price_html.html_price` (the best-scoring price-looking element);
- images: ``link rel=image_src``, ``itemprop=image``, images inside a product/gallery container, then
  the largest declared images, skipping logos, icons, sprites and tracking pixels;
- seller, sku, brand, mpn, gtin: :func:`crawlers.pages.labels.labelled_values` ("Sold by X", "SKU: X"...);
- availability: :func:`crawlers.pages.labels.html_availability`;
- description: ``<meta name=description>``; canonical: ``<link rel=canonical>``.
"""

from __future__ import annotations

import re

import lxml.html

from crawlers.pages.fields import Fields
from crawlers.pages.htmltext import class_words, visible_text
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


# ---------------------------------------------------------------------------------------------- images

_IMAGE_NOISE = re.compile(r"logo|icon|sprite|pixel|spacer|blank|placeholder|loading|badge|flag|avatar|\.svg", re.I)
_IMAGE_CONTAINER = re.compile(r"product|gallery|main|zoom|hero|primary|media|photo|image", re.I)
_IMAGE_ATTRS = ("data-zoom-image", "data-old-hires", "data-large", "data-large-image", "data-src", "src")


def _image_source(img: lxml.html.HtmlElement) -> str | None:
    for attr in _IMAGE_ATTRS:
        value = (img.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            return value
    srcset = (img.get("srcset") or img.get("data-srcset") or "").strip()
    if srcset:
        return srcset.split(",")[0].split()[0]
    return None


def _declared_area(img: lxml.html.HtmlElement) -> int:
    try:
        return int(img.get("width", "0").rstrip("px")) * int(img.get("height", "0").rstrip("px"))
    except ValueError:
        return 0


def html_images(tree: lxml.html.HtmlElement) -> list[str]:
    """Image URLs as written (maybe relative), most likely main image first."""
    found: list[str] = [h for h in tree.xpath("//link[@rel='image_src']/@href") if isinstance(h, str)]
    for img in tree.xpath("//*[@itemprop='image']")[:20]:
        value = img.get("content") or img.get("href") or _image_source(img)
        if value:
            found.append(value)
    in_container: list[str] = []
    sized: list[tuple[int, int, str]] = []
    for index, img in enumerate(tree.xpath("//body//img")[:500]):
        src = _image_source(img)
        if not src or _IMAGE_NOISE.search(src) or _IMAGE_NOISE.search(img.get("class", "")):
            continue
        area = _declared_area(img)
        if 0 < area < 100 * 100:
            continue
        container = any(
            _IMAGE_CONTAINER.search(class_words(a)) for _, a in zip(range(4), img.iterancestors(), strict=False)
        )
        if container:
            in_container.append(src)
        sized.append((-area, index, src))
    found.extend(in_container[:10])
    found.extend(src for _, _, src in sorted(sized)[:10])
    return found


def html_fields(tree: lxml.html.HtmlElement) -> Fields:
    """Raw fields from the page's visible HTML."""
    fields = Fields()
    h1 = find_title_element(tree)
    fields.title = html_title(tree, h1)
    fields.price, fields.currency = html_price(tree, h1)
    fields.images = html_images(tree)
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
