"""HTML fallbacks for pages without (complete) structured data: one :class:`Fields` from visible HTML.

- title: the page's title element (:func:`find_title_element`: the ``<h1>`` naming what the document title
  names, else the first ``<h1>``, else the element whose text is the document title's product name),
  else ``<title>`` up to its first `` | `` / `` - ``;
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
from crawlers.pages.htmltext import is_hidden, visible_text
from crawlers.pages.labels import html_availability, labelled_values, looks_like_identifier
from crawlers.pages.price_html import html_price

_TITLE_SEPARATORS = re.compile(r"\s+[|–—:-]\s+|\s*[｜|]\s*|\s+::\s+")
_SITE_TAG = re.compile(r"^\s*[\[【(（][^\]】)）]{1,40}[\]】)）]\s*")
_NAME_TAGS = ("h2", "h3", "h4", "div", "span", "p", "strong", "b", "td", "dd", "li", "em")
MAX_NAME_SCAN = 20000


def _key(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .,:;!-–—|")


def document_names(tree: lxml.html.HtmlElement) -> list[str]:
    """What the document says it is about: ``og:title`` and ``<title>``, and their parts between
    separators (``Name - Shop``, ``Name | Category | Shop``), a bracketed site tag dropped (``[Shop] Name``);
    casefolded, longest first, at least 4 characters."""
    texts = tree.xpath("//meta[@property='og:title' or @name='og:title' or @name='twitter:title']/@content")
    texts += [visible_text(t, limit=300) for t in tree.xpath("//title")[:1]]
    names: set[str] = set()
    for text in texts[:4]:
        for part in [text, *_TITLE_SEPARATORS.split(text)]:
            part = _key(_SITE_TAG.sub("", part))
            if len(part) >= 4:
                names.add(part)
    return sorted(names, key=len, reverse=True)


def _names_match(text: str, names: list[str]) -> bool:
    """``text`` is one of the names, or one is the start of the other with most of it shared."""
    key = _key(text)
    if len(key) < 4:
        return False
    for name in names:
        if key == name:
            return True
        short, long = sorted((key, name), key=len)
        if long.startswith(short) and len(short) >= 0.6 * len(long) and len(short) >= 8:
            return True
    return False


def _inside_link(element: lxml.html.HtmlElement) -> bool:
    return any(a.tag == "a" for _, a in zip(range(6), element.iterancestors(), strict=False))


def find_title_element(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The element that names the page's product.

    The first ``<h1>`` with visible text that names what the document title names; else the first
    ``<h1>`` with visible text (pages whose ``<title>`` is the shop's name); else, on pages without any
    ``<h1>``, the first heading-like element (not inside a link) whose text is the document title's
    product name, the innermost such element.
    """
    headings = [h1 for h1 in tree.iter("h1") if visible_text(h1, limit=50)]
    names = document_names(tree)
    if headings:
        for h1 in headings[:10]:
            if names and _names_match(visible_text(h1, limit=300), names):
                return h1
        return headings[0]
    body = tree.find("body")
    if body is None or not names:
        return None
    prefixes = {name[:4] for name in names}
    for seen, element in enumerate(body.iter(*_NAME_TAGS)):
        if seen > MAX_NAME_SCAN:
            break
        own = _key(element.text or "")
        if not own or not any(p in own for p in prefixes) or _inside_link(element):
            continue
        text = visible_text(element, limit=300)
        if len(text) <= 300 and _names_match(text, names) and not is_hidden(element):
            return element
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
