"""Visible text of HTML elements, for the HTML fallbacks: scripts and styles excluded, hidden elements
recognised."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "option", "select", "textarea", "head"})
"""Elements whose text is never shown as page content."""

_VISIBLE_TEXT = lxml.etree.XPath(".//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]")
_HIDDEN_CLASS = re.compile(r"(^|[\s_-])(hidden|hide|d-none|invisible|sr-only)($|[\s_-])", re.IGNORECASE)


def visible_text(element: lxml.html.HtmlElement, *, limit: int = 400) -> str:
    """The element's text without scripts and styles, whitespace collapsed, cut to ``limit`` chars."""
    parts: list[str] = []
    size = 0
    for piece in _VISIBLE_TEXT(element):
        parts.append(piece)
        size += len(piece)
        if size > limit * 4:
            break
    return " ".join(" ".join(parts).split())[:limit]


def is_hidden(element: lxml.html.HtmlElement) -> bool:
    """Hidden by attribute, inline style or a "hidden" class, itself or within three ancestors."""
    for node in [element, *(a for _, a in zip(range(3), element.iterancestors(), strict=False))]:
        if node.get("hidden") is not None or node.get("aria-hidden") == "true":
            return True
        style = (node.get("style") or "").replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
        if _HIDDEN_CLASS.search(node.get("class") or ""):
            return True
    return False


def class_words(element: lxml.html.HtmlElement) -> str:
    return f"{element.get('class', '')} {element.get('id', '')} {element.get('itemprop', '')}"

