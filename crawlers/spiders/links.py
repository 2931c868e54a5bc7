"""Pure link helpers for spiders: which links of a page to follow, pagination, sitemaps, robots.txt.

No Scrapy imports: these take parsel selectors or text and return absolute URLs, so tests are tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from parsel import Selector

from crawlers.processors import absolute_url, registrable_domain, strip_tracking

NEXT_TEXT = re.compile(
    r"^\s*(?:next(?:\s+page)?|more results|older|suivant|weiter|siguiente|avanti|volgende|следующая|下一页|次へ)"
    r"\s*[›»>→]*\s*$|^\s*[›»→]\s*$",
    re.IGNORECASE,
)
"""Anchor text that means "next page" in the languages shops use most, or a lone arrow."""

SKIP_EXTENSIONS = frozenset(
    ["7z", "aac", "apk", "avi", "bin", "bmp", "css", "csv", "dmg", "doc", "docx", "exe", "flac", "gif", "gz", "ico", "jpeg", "jpg", "js", "json", "m4a", "mov", "mp3", "mp4", "mpeg", "mpg", "odt", "ogg", "pdf", "png", "ppt", "pptx", "rar", "svg", "tar", "tif", "tiff", "txt", "wav", "webm", "webp", "wmv", "woff", "woff2", "xls", "xlsx", "zip"]
)
"""File types a product crawl never needs to fetch as pages."""

MAX_LINKS_PER_PAGE = 1000


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def netloc(url: str) -> tuple[str, int | None]:
    """(lower-case host, port or None) of a URL; ("", None) when it has none."""
    try:
        parts = urlsplit(url)
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


def same_site_as(url: str, sites: Iterable[str]) -> bool:
    """True when ``url`` has the registrable domain of one of ``sites`` (URLs), and, for an IP address or
    single-label host, the same host and port (``127.0.0.1:8001`` and ``127.0.0.1:5432`` are not one site).
    """
    domain = registrable_domain(url)
    if domain is None:
        return False
    for site in sites:
        if registrable_domain(site) != domain:
            continue
        host_only = "." not in domain or domain.replace(".", "").isdigit() or ":" in domain
        if host_only and netloc(site) != netloc(url):
            continue
        return True
    return False


def _looks_like_page(url: str) -> bool:
    path = urlsplit(url).path.lower()
    last = path.rsplit("/", 1)[-1]
    return "." not in last or last.rsplit(".", 1)[-1] not in SKIP_EXTENSIONS


def page_links(selector: Selector, *, base_url: str, sites: Iterable[str]) -> list[tuple[str, bool]]:
    """Same-site links worth following as (url, is_pagination), tracking parameters stripped, in page
    order, without duplicates; pagination first (``rel=next`` in ``<link>`` or ``<a>``, or next-page text).
    """
    sites = list(sites)
    found: dict[str, bool] = {}

    def add(href: str | None, pagination: bool) -> None:
        url = absolute_url(href, base=base_url)
        if url is None or not _looks_like_page(url) or not same_site_as(url, sites):
            return
        url = strip_tracking(url)
        found[url] = found.get(url, False) or pagination

    for href in selector.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' next ')]/@href").getall():
        add(href, True)
    for anchor in selector.xpath("//a[@href]")[:MAX_LINKS_PER_PAGE]:
        rel = (anchor.attrib.get("rel") or "").lower().split()
        if "nofollow" in rel and "next" not in rel:
            continue
        text = " ".join(anchor.xpath(".//text()").getall())[:80]
        label = anchor.attrib.get("aria-label") or ""
        pagination = "next" in rel or bool(NEXT_TEXT.match(text)) or bool(NEXT_TEXT.match(label))
        add(anchor.attrib.get("href"), pagination)
    links = list(found.items())
    return [item for item in links if item[1]] + [item for item in links if not item[1]]


def robots_sitemaps(text: str, *, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs a robots.txt declares (absolute)."""
    urls = []
    for line in text.splitlines()[:5000]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap":
            url = absolute_url(value.strip(), base=base_url)
            if url:
                urls.append(url)
    return urls
