"""Adapters for the public JSON that shop platforms expose: pure functions from the documented response
shapes to :class:`crawlers.items.Listing` items (no Scrapy; the platform spiders do the paging)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawlers.items import MAX_IMAGE_URLS
from crawlers.processors import absolute_url


def image_urls(images: Iterable[Any], *, base_url: str) -> list[str]:
    """Absolute ``src`` URLs of a platform's image objects (``{"src": ...}``), in order, without repeats; at
    most :data:`crawlers.items.MAX_IMAGE_URLS`."""
    urls: list[str] = []
    for image in images:
        src = absolute_url(image.get("src"), base=base_url) if isinstance(image, dict) else None
        if src and src not in urls:
            urls.append(src)
            if len(urls) >= MAX_IMAGE_URLS:
                break
    return urls


def external_id(value: Any) -> str | None:
    """A platform's product id as text, or None when it is missing or not an id."""
    return str(value) if isinstance(value, int | str) and str(value) else None
