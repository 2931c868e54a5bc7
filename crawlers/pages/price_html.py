"""Finding the price of a page without price markup: the best-scoring price-looking element near the title.

Candidates are elements with ``itemprop=price``, a ``data-price`` attribute, or a class or id naming a
price.  Each is scored (see :func:`price_candidates` and docs/extraction.md): a currency in its text,
"current/sale/final" class words and a unique price id count for it; old/list/unit-price wording or a
struck-through ancestor (when another amount is beside it), a link or product-card ancestor, a size or
colour picker, a class repeated with many amounts, several numbers in one text, and distance from the
title count against it.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.etree
import lxml.html

from crawlers.pages.gallery import ForeignRegions
from crawlers.pages.htmltext import SKIP_TAGS, class_words, is_hidden, visible_text
from crawlers.processors import ISO_CURRENCIES, parse_price

MAX_CANDIDATES = 600

_PRICE_XPATH = lxml.etree.XPath(
    "//body//*[@itemprop='price' or @data-price or @data-price-amount"
    " or contains(@class, 'rice') or contains(@id, 'rice') or contains(@class, 'PRICE')]"
)
_NEGATIVE_WORDS = re.compile(
    r"old|was|regular|list|strike|before|original|rrp|msrp|uvp|compare|crossed|previous|saving|save|"
    r"discount|percent|per[-_]?unit|unit|shipping|delivery|installment|monthly|range|filter|slider|from|"
    r"min|max|total|cart|basket|bundle|tax|vat",
    re.IGNORECASE,
)
_SUPERSEDED_TEXT = re.compile(
    r"\b(was|list price|rrp|uvp|msrp|statt|instead of|regular price|compare at|prix conseillé|"
    r"precio anterior|prezzo consigliato|unverb|preisempf|you save|sie sparen|vous économisez|risparmi)\b",
    re.IGNORECASE,
)
_SUPERSEDED_CJK = re.compile(r"原價|原价|定價|定价|市價|市价|建議售價|建议售价|參考價|参考价|原本|現省|现省|節省|节省|"
                             r"定価|希望小売|参考価格|通常価格|정가|소비자가|시중가|할인전")
"""Old, list and saved-amount wording in Chinese, Japanese and Korean (no word boundaries to rely on)."""
_POSITIVE_WORDS = re.compile(
    r"sale|current|final|now|actual|special|offer|our|main|big|value|amount|new|buy", re.IGNORECASE
)
_VARIANT_WORDS = re.compile(r"swatch|variant|variation|option|size|colou?r|choice", re.IGNORECASE)
_CURRENCY_IN_TEXT = re.compile(
    r"[$€£¥₹₽₴₩₺₪฿₫₱₸￥]|[元円원](?![A-Za-z])|\bRMB\b|\b(?:[A-Z]{3}|zł|kr|Kč|Ft|lei|Lei|kn|Kn|тг|руб|грн|лв|R\$|RM|Rp)(?=[\s\d.,]|$)|ر\.س"
)
_PRICE_TEXT = re.compile(
    r"(?:[$€£¥₹₽₴₩₺₪฿₫₱₸￥]|\b[A-Z]{3}\b|R\$)\s?\d[\d\s.,'’]*\d?|\d[\d\s.,'’]*\s?(?:[$€£¥₹₽₴₩₺₪฿₫₱₸￥元円원]|"
    r"\b[A-Z]{3}\b|zł|kr|Kč|Ft|lei|Lei|kn|Kn|тг|руб|грн|лв)"
)
_NUMBER = re.compile(r"\d[\d\s.,'’]*")
_CODE = re.compile(r"\b[A-Z]{3}\b")


def _real_price_text(text: str) -> re.Match[str] | None:
    """The first amount-with-currency in ``text`` whose three-letter code, if any, is ISO 4217
    (``"Gen 2 HOT SALE"`` holds no price; ``"EUR 12"`` does)."""
    for match in _PRICE_TEXT.finditer(text):
        if all(code in ISO_CURRENCIES for code in _CODE.findall(match.group(0))):
            return match
    return None


def _has_struck_ancestor(element: lxml.html.HtmlElement) -> bool:
    if element.tag in ("del", "s", "strike"):
        return True
    return any(
        ancestor.tag in ("del", "s", "strike") for _, ancestor in zip(range(6), element.iterancestors(), strict=False)
    )


def _looks_superseded(element: lxml.html.HtmlElement) -> bool:
    """Struck through, or named like an old/list/unit price (itself or its two nearest ancestors)."""
    if _has_struck_ancestor(element):
        return True
    nodes = [element, *(a for _, a in zip(range(2), element.iterancestors(), strict=False))]
    return any(_NEGATIVE_WORDS.search(class_words(node)) for node in nodes)


def _competing_amounts(element: lxml.html.HtmlElement) -> bool:
    """True when the block around the element shows more than one amount."""
    block = element
    for _, ancestor in zip(range(3), element.iterancestors(), strict=False):
        block = ancestor
        text = visible_text(block, limit=400)
        if len(text) > 300:
            break
        if len(_PRICE_TEXT.findall(text)) > 1:
            return True
    return False


def _in_variant_selector(element: lxml.html.HtmlElement) -> bool:
    """Inside a size/colour/option picker: the price of another variant."""
    nodes = [element, *(a for _, a in zip(range(4), element.iterancestors(), strict=False))]
    return any(_VARIANT_WORDS.search(class_words(node)) for node in nodes)


_LISTING_CONTAINER = re.compile(
    r"related|recommend|similar|carousel|slider|upsell|cross|also|swiper|teaser|tile|card|product-list|"
    r"products-list|grid-item|listing",
    re.IGNORECASE,
)


def _in_other_product(element: lxml.html.HtmlElement) -> bool:
    """Inside a link or a product card/carousel: the price of another product."""
    for depth, ancestor in enumerate(element.iterancestors()):
        if depth > 10:
            break
        if ancestor.tag == "a" and ancestor.get("href"):
            return True
        if _LISTING_CONTAINER.search(class_words(ancestor)):
            return True
    return False


def in_product_card(element: lxml.html.HtmlElement, h1: lxml.html.HtmlElement | None, regions: ForeignRegions) -> bool:
    """The element sits in another product's card: one of its four nearest ancestors that does not hold
    the page's title holds a picture linking to another page (a card's price sits beside its link)."""
    for depth, ancestor in enumerate(element.iterancestors()):
        if depth >= 4 or ancestor.tag in ("body", "html"):
            return False
        if h1 is not None and (ancestor is h1 or any(a is ancestor for a in h1.iterancestors())):
            return False
        for link in ancestor.iterdescendants("a"):
            if link.get("href") and regions.leads_elsewhere(link.get("href")) and next(link.iter("img"), None) is not None:
                return True
    return False


def price_candidates(
    tree: lxml.html.HtmlElement, h1: lxml.html.HtmlElement | None, *, url: str | None = None
) -> list[tuple[float, Any, Any, lxml.html.HtmlElement]]:
    """``(score, amount, currency text, element)`` for every price-looking element, best first.

    With the page's ``url``, prices in another product's card or strip (a link to another page, a
    related/recently viewed/sponsored region: :class:`crawlers.pages.gallery.ForeignRegions`) are no
    candidates at all; without it they only score lower."""
    foreign = ForeignRegions(url) if url else None
    order = {el: i for i, el in enumerate(tree.iter())}
    anchor = order.get(h1) if h1 is not None else None
    found: list[tuple[float, Any, Any, lxml.html.HtmlElement]] = []
    for element in _PRICE_XPATH(tree)[:MAX_CANDIDATES]:
        if element.tag in SKIP_TAGS:
            continue
        if foreign is not None and (foreign.region_is_foreign(element) or in_product_card(element, h1, foreign)):
            continue
        raw = element.get("content") or element.get("data-price") or element.get("data-price-amount")
        from_attribute = bool(raw)
        text = " ".join(raw.split()) if raw else visible_text(element, limit=200)
        if not text or len(text) > 80 or (not raw and is_hidden(element)):
            continue
        amount = parse_price(text, structured=from_attribute)
        if amount is None or amount == 0:
            continue
        currency_match = _CURRENCY_IN_TEXT.search(text)
        score = 0.0
        if currency_match:
            score += 3
        if element.get("itemprop") == "price":
            score += 2
        if _POSITIVE_WORDS.search(class_words(element)):
            score += 1
        element_id = element.get("id") or ""
        if "price" in element_id.lower() and not element_id[-1:].isdigit():
            score += 1  # a unique price widget, not one of a numbered list
        if _in_variant_selector(element):
            score -= 3
        if _looks_superseded(element) or _SUPERSEDED_TEXT.search(text) or _SUPERSEDED_CJK.search(text):
            # An old/list price always sits beside the current one; alone, the word is just a class name.
            score -= 4 if _competing_amounts(element) else 1
        if _in_other_product(element):
            score -= 3
        if len(_NUMBER.findall(text)) > 1:
            score -= 2
        if anchor is not None:
            distance = order.get(element, 0) - anchor
            score -= min(abs(distance), 2000) / 250 + (1 if distance < 0 else 0)
        currency = currency_match.group(0) if currency_match else _nearby_currency(element)
        found.append((score, amount, currency, element))
    # A class that repeats with several different amounts is a list of other products (cards, rows).
    amounts_by_class: dict[tuple[str, str], set[Any]] = {}
    for _, amount, _, element in found:
        amounts_by_class.setdefault((element.tag, element.get("class") or ""), set()).add(amount)
    found = [
        (score - 2 if len(amounts_by_class[(el.tag, el.get("class") or "")]) >= 3 else score, amount, cur, el)
        for score, amount, cur, el in found
    ]
    found.sort(key=lambda entry: -entry[0])  # stable: document order among equals
    return found


def looks_like_product_list(tree: lxml.html.HtmlElement, h1: lxml.html.HtmlElement | None) -> bool:
    """True for a category or search page: its best price sits in another product's card or link, or
    three or more different amounts sit in repeated link-bearing blocks of one kind (a grid of cards).

    Only pages without product markup are judged by this (a product page with a "related products"
    strip still has its own price outside the cards and ranks it first).
    """
    candidates = price_candidates(tree, h1)
    if h1 is not None and _own_price_beside_title(tree, h1, candidates):
        return False
    if candidates and _in_other_product(candidates[0][3]):
        return True
    elements = [(amount, element) for _, amount, _, element in candidates]
    seen = 0
    for node in tree.iter():
        seen += 1
        if seen > 5000 or len(elements) > MAX_CANDIDATES:
            break
        if not isinstance(node.tag, str) or node.tag in SKIP_TAGS:
            continue
        text = " ".join((node.text or "").split())
        match = _real_price_text(text) if text and len(text) < 60 else None
        if match and (amount := parse_price(match.group(0))):
            elements.append((amount, node))
    amounts_by_block: dict[tuple[str, str], set[Any]] = {}
    for amount, element in elements:
        for depth, ancestor in enumerate(element.iterancestors()):
            if depth > 4:
                break
            if ancestor.xpath(".//a[@href]"):
                key = (ancestor.tag, ancestor.get("class") or "")
                amounts_by_block.setdefault(key, set()).add(amount)
                break
    return any(len(amounts) >= 3 for amounts in amounts_by_block.values())


def _own_price_beside_title(tree: lxml.html.HtmlElement, h1: lxml.html.HtmlElement,
                            candidates: list[tuple[float, Any, Any, lxml.html.HtmlElement]]) -> bool:
    """The page's price sits in the title's own block (a parent or grandparent of both, no link around
    it): the page sells that one product, whatever strips of other products it also shows."""
    best = candidates[0] if candidates and candidates[0][0] > -6 else None
    element = best[3] if best is not None and best[0] >= 0 else None
    if element is None:
        found = _text_price_found(h1, url=None)
        element = found[2] if found else (best[3] if best is not None else None)
    return element is not None and _beside_title(element, h1)


def _beside_title(element: lxml.html.HtmlElement, h1: lxml.html.HtmlElement) -> bool:
    """``element`` shares a parent or grandparent with the title and is in no link or card."""
    if _in_other_product(element):
        return False
    title_block = [h1, *(a for _, a in zip(range(2), h1.iterancestors(), strict=False))]
    price_block = [a for _, a in zip(range(2), element.iterancestors(), strict=False)]
    return any(node is block for node in price_block for block in title_block
               if block.tag not in ("body", "html"))


def html_price(
    tree: lxml.html.HtmlElement, h1: lxml.html.HtmlElement | None, *, url: str | None = None
) -> tuple[Any, Any]:
    """(price, currency text) of the best price candidate, else a currency-and-number text near the
    title (which also wins over a candidate scoring below zero when it sits in the title's own block);
    (None, None) when none is found.  ``url``: the page's own, so that prices of other
    products' cards are never taken (see :func:`price_candidates`)."""
    candidates = price_candidates(tree, h1, url=url)
    best = candidates[0] if candidates and candidates[0][0] > -6 else None
    if (best is None or best[0] < 0) and h1 is not None:
        # A doubtful best candidate loses to an amount with its currency right beside the title.
        found = _text_price_found(h1, url=url)
        if found and _beside_title(found[2], h1):
            return found[0], found[1]
    if best is not None:
        return best[1], best[2]
    return _text_price_near(tree, h1, url=url)


def _nearby_currency(element: lxml.html.HtmlElement) -> str | None:
    """A currency written next to a bare amount (``<span>€</span><span class=price>12</span>``)."""
    parent = element.getparent()
    if parent is None:
        return None
    text = visible_text(parent, limit=100)
    if len(text) > 60:
        return None
    match = _CURRENCY_IN_TEXT.search(text)
    return match.group(0) if match else None


def _text_price_near(
    tree: lxml.html.HtmlElement, h1: lxml.html.HtmlElement | None, *, url: str | None = None
) -> tuple[Any, Any]:
    """A currency-and-number text in the 400 elements after the title."""
    found = _text_price_found(h1, url=url)
    return (found[0], found[1]) if found else (None, None)


def _text_price_found(h1: lxml.html.HtmlElement | None, *, url: str | None) -> tuple[Any, Any, Any] | None:
    """(amount, currency text, element) of the first currency-and-number text after the title."""
    if h1 is None:
        return None
    foreign = ForeignRegions(url) if url else None
    seen = 0
    for element in h1.itersiblings():
        for node in element.iter():
            seen += 1
            if seen > 400:
                return None
            if not isinstance(node.tag, str) or node.tag in SKIP_TAGS or _has_struck_ancestor(node):
                continue
            text = " ".join((node.text or "").split())
            match = _real_price_text(text) if text and len(text) < 60 else None
            if match is None and text and len(node):
                # An amount split over inline elements: "最低價$<span>99</span>元起" is one price text.
                text = visible_text(node, limit=80)
                match = _real_price_text(text) if len(text) < 40 else None
            if match and (_SUPERSEDED_TEXT.search(text) or _SUPERSEDED_CJK.search(text)):
                continue
            if match and not _in_other_product(node) and not (
                    foreign and (foreign.region_is_foreign(node) or in_product_card(node, h1, foreign))):
                amount = parse_price(match.group(0))
                if amount:
                    currency = _CURRENCY_IN_TEXT.search(match.group(0))
                    return amount, currency.group(0) if currency else None, node
    return None
