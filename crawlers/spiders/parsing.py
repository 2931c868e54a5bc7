"""The one place spiders meet the page parsers (``crawlers.pages``): spiders only navigate.

``listing_parser(spec)`` returns a callable ``(url, body, content_type) -> Listing | None`` for a profile's
``parser`` entry: ``None``/``"structured"`` for the structured-data parser (JSON-LD, microdata, RDFa,
OpenGraph, HTML fallbacks), or a mapping of selectors for the data-configured selector parser.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crawlers.items import Listing

ListingParser = Callable[[str, bytes | str, str | None], Listing | None]


def listing_parser(spec: str | Mapping[str, Any] | None = None) -> ListingParser:
    """A parser for ``spec``; raises ``ValueError`` (``SelectorProfileError``) for a spec it cannot use."""
    if spec is None or spec == "structured":
        from crawlers.pages import ProductPage

        def parse_structured(url: str, body: bytes | str, content_type: str | None = None) -> Listing | None:
            return ProductPage(url, body, content_type=content_type).to_item()

        return parse_structured
    if isinstance(spec, Mapping):
        from crawlers.pages.selector import SelectorPage, compile_profile

        selectors = dict(spec)
        fallback = bool(selectors.pop("fallback", True))
        compile_profile(selectors)  # fail now, once, rather than on every page

        def parse_selectors(url: str, body: bytes | str, content_type: str | None = None) -> Listing | None:
            return SelectorPage(url, body, profile=selectors, fallback=fallback, content_type=content_type).to_item()

        return parse_selectors
    raise ValueError(f"unknown parser {spec!r}: use 'structured' or a mapping of selectors")
