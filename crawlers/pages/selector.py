"""A product page parser configured by data: one CSS or XPath selector per field (marketplace profiles).

A profile is a mapping ``{field: selector}`` where ``selector`` is ``"css:<css>"`` or ``"xpath:<xpath>"``
(parsel syntax: ``css:h1::text``, ``css:img.main::attr(src)``, ``xpath://span[@class='p']/text()``),
or a list of such selectors tried in order.  Fields: those of :class:`crawlers.items.Listing` that a
page states (``title``, ``description``, ``price``, ``currency``, ``seller``, ``sku``, ``gtin``,
``mpn``, ``brand``, ``image_urls``, ``availability``, ``external_id``, ``canonical_url``) plus
``price_text`` (a price with its currency, e.g. ``"1.234,56 €"``).  ``image_urls`` takes every match;
other fields take the first non-empty one.  Values go through the same processors as
:class:`ProductPage`; fields the profile does not name come from :class:`ProductPage` when
``fallback=True`` (the default), and ``source`` then lists ``selector`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import parsel
from parsel.csstranslator import HTMLTranslator

from crawlers.items import MAX_IMAGE_URLS, Listing
from crawlers.pages.document import decode_html
from crawlers.pages.product import ProductPage
from crawlers.processors import (
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

SELECTOR_FIELDS = frozenset(
    {"title", "description", "price", "price_text", "currency", "seller", "sku", "gtin", "mpn", "brand",
     "image_urls", "availability", "external_id", "canonical_url"}
)
MAX_SELECTOR_CHARS = 500


class SelectorProfileError(ValueError):
    """A profile names an unknown field or holds a selector that does not compile."""


def compile_profile(profile: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Validate a profile: ``{field: [(kind, expression), ...]}`` with kind ``css`` or ``xpath``.

    Raises :class:`SelectorProfileError` (one line naming the field) for an unknown field, a selector
    without a ``css:``/``xpath:`` prefix, or one that does not compile.
    """
    compiled: dict[str, list[tuple[str, str]]] = {}
    probe = parsel.Selector(text="<html></html>")
    for field, raw in profile.items():
        if field not in SELECTOR_FIELDS:
            raise SelectorProfileError(f"unknown field {field!r} in selector profile")
        selectors = raw if isinstance(raw, list) else [raw]
        entries: list[tuple[str, str]] = []
        for selector in selectors:
            if not isinstance(selector, str) or len(selector) > MAX_SELECTOR_CHARS:
                raise SelectorProfileError(f"selector for {field!r} must be a string under {MAX_SELECTOR_CHARS} chars")
            kind, _, expression = selector.partition(":")
            kind = kind.strip().lower()
            if kind not in ("css", "xpath") or not expression.strip():
                raise SelectorProfileError(f"selector for {field!r} must start with 'css:' or 'xpath:'")
            try:
                if kind == "css":
                    HTMLTranslator().css_to_xpath(expression.strip())
                else:
                    probe.xpath(expression.strip())
            except Exception as error:  # parsel/cssselect/lxml raise several unrelated error types
                raise SelectorProfileError(f"selector for {field!r} does not compile: {error}") from None
            entries.append((kind, expression.strip()))
        compiled[field] = entries
    return compiled


class SelectorPage:
    """``SelectorPage(url, html, profile=...).to_item()`` -> :class:`Listing` or None.

    None when no profile selector matched anything and (with ``fallback``) :class:`ProductPage` finds no
    product either.  Raises :class:`SelectorProfileError` for a bad profile at construction, never for
    a bad page.
    """

    def __init__(
        self, url: str, html: str | bytes, *, profile: Mapping[str, Any], fallback: bool = True,
        content_type: str | None = None,
    ) -> None:
        self.url = url
        self.profile = compile_profile(profile)
        self.fallback = fallback
        self._html = html
        self._content_type = content_type

    def raw_values(self) -> dict[str, list[str]]:
        """Every selector's matches, as text, per field (empty lists dropped)."""
        text = decode_html(self._html, content_type=self._content_type)
        try:
            root = parsel.Selector(text=text or "<html></html>", base_url=self.url)
        except (ValueError, TypeError):
            return {}
        values: dict[str, list[str]] = {}
        for field, entries in self.profile.items():
            found: list[str] = []
            for kind, expression in entries:
                try:
                    matches = root.css(expression) if kind == "css" else root.xpath(expression)
                except (ValueError, TypeError):
                    continue
                found.extend(_selected_text(m) for m in matches[:100])
                found = [f for f in found if f and f.strip()]
                if found and field != "image_urls":
                    break
            if found:
                values[field] = found
        return values

    def to_item(self) -> Listing | None:
        values = self.raw_values()
        base = ProductPage(self.url, self._html, content_type=self._content_type).to_item() if self.fallback else None
        if not values:
            return base
        item = base or Listing(url=self.url, canonical_url=canonical_url(self.url))
        country = country_from_url(self.url)

        def first(field: str) -> str | None:
            return values.get(field, [None])[0]

        text_fields = {"title": clean_short, "seller": clean_seller, "sku": clean_short, "mpn": clean_short,
                       "brand": clean_short, "external_id": clean_short, "description": clean_text,
                       "gtin": clean_gtin, "availability": normalize_availability}
        for field, normalise in text_fields.items():
            if field in values:
                value = normalise(first(field))
                if value is not None:
                    setattr(item, field, value)
        price_text = first("price_text")
        price = parse_price(first("price")) if "price" in values else parse_price(price_text)
        if price is not None:
            item.price = price
            currency_raw = first("currency") or price_text or first("price")
            item.currency = normalize_currency(currency_raw, country=country) if currency_raw else item.currency
        elif "currency" in values:
            item.currency = normalize_currency(first("currency"), country=country) or item.currency
        if "image_urls" in values:
            images = [absolute_url(v.strip(), base=self.url) for v in values["image_urls"]]
            merged = [i for i in images if i] + item.image_urls
            item.image_urls = list(dict.fromkeys(merged))[:MAX_IMAGE_URLS]
        if "canonical_url" in values:
            item.canonical_url = canonical_url(self.url, declared=[first("canonical_url")])
        item.source = "+".join(["selector", *([item.source] if base and item.source else [])])
        return item


def _selected_text(match: parsel.Selector) -> str:
    value = match.get()
    if value is None:
        return ""
    if isinstance(match.root, str):
        return value
    # An element: its text content, not its markup.
    return " ".join(match.xpath("string()").get("").split())
