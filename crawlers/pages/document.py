"""Turning fetched bytes into a bounded, parsed HTML document.  Never raises on broken markup."""

from __future__ import annotations

import attrs
import lxml.etree
import lxml.html
from w3lib.encoding import html_to_unicode

MAX_HTML_CHARS = 5_000_000
"""Only the first 5 M characters of a page are parsed; the rest is ignored."""


@attrs.frozen
class Document:
    """A fetched page: its URL, its (bounded) text and the lxml tree (None when nothing parses)."""

    url: str
    text: str
    tree: lxml.html.HtmlElement | None


def decode_html(html: str | bytes, *, content_type: str | None = None) -> str:
    """Text of a page: bytes decoded by BOM, ``content_type`` charset, ``<meta charset>``, then UTF-8
    (w3lib's rules), cut to :data:`MAX_HTML_CHARS`.
    """
    if isinstance(html, bytes):
        _, text = html_to_unicode(content_type, html[: MAX_HTML_CHARS * 2])
    else:
        text = html
    return text[:MAX_HTML_CHARS]


def parse_document(url: str, html: str | bytes, *, content_type: str | None = None) -> Document:
    """Decode and parse a page; an unparseable page gives a Document whose ``tree`` is None."""
    text = decode_html(html, content_type=content_type)
    return Document(url=url, text=text, tree=parse_tree(text))


def parse_tree(text: str) -> lxml.html.HtmlElement | None:
    """An lxml HTML tree for ``text``, or None when it holds no markup lxml can use."""
    if not text.strip():
        return None
    # lxml refuses str input that declares an encoding; feed UTF-8 bytes with an explicit parser.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=False)
    try:
        tree = lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return None
    if not isinstance(tree, lxml.html.HtmlElement):
        return None
    return tree
