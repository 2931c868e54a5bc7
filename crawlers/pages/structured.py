"""schema.org data embedded in a page (JSON-LD, microdata, RDFa), brought to one JSON-LD-like shape.

Every syntax becomes a list of plain dicts with ``@type`` (short names such as ``"Product"``) and
schema.org property names as keys, so that one reader (:mod:`crawlers.pages.schema`) serves all three.
JSON-LD is read by our own tolerant loader (one broken script never hides the others); microdata and
RDFa by extruct's extractors (``extruct.w3cmicrodata.MicrodataExtractor``,
``extruct.rdfa.RDFaExtractor``), each guarded so that a failure gives an empty list.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import jstyleson
import lxml.etree
import lxml.html

logger = logging.getLogger(__name__)

MAX_SCRIPT_CHARS = 1_000_000
"""A JSON-LD script longer than this is skipped."""
MAX_NODES = 5000
"""At most this many nodes are collected from one syntax (hostile pages nest without end)."""
MAX_DEPTH = 12

_JSONLD_XPATH = lxml.etree.XPath(
    "//script[contains(translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),"
    " 'ld+json')]"
)
_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)\s*$", re.MULTILINE)
_CDATA = re.compile(r"^\s*(<!\[CDATA\[|<!--)|(\]\]>|-->)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def short_type(value: object) -> str:
    """``"http://schema.org/Product"`` / ``"schema:Product"`` -> ``"Product"``."""
    if not isinstance(value, str):
        return ""
    return re.split(r"[/#:]", value.strip().rstrip("/"))[-1]


def types_of(node: dict[str, Any]) -> set[str]:
    """The short type names of a node (``@type`` may be a string or a list)."""
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {short_type(v) for v in values if isinstance(v, str)}


# -------------------------------------------------------------------------------------------- JSON-LD


def load_json_tolerant(script: str) -> Any:
    """Parse one JSON-LD script, forgiving what sites get wrong: raw control characters, HTML or JS
    comments, CDATA wrappers, trailing commas, text after the value.  None when nothing can be read.
    """
    text = script.strip()
    if not text or len(text) > MAX_SCRIPT_CHARS:
        return None
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    text = _CDATA.sub("", _COMMENT_LINE.sub("", text)).strip().rstrip(";")
    try:
        return jstyleson.loads(text, strict=False)
    except (ValueError, TypeError, IndexError, RecursionError):
        pass
    text = _TRAILING_COMMA.sub(r"\1", text)
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder(strict=False).raw_decode(text, start)
        return value
    except (ValueError, RecursionError):
        pass
    # A value cut short (a truncated page): close what is open and try once more.
    return _close_truncated(text[start:])


def _close_truncated(text: str) -> Any:
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    if not stack:
        return None
    candidate = text + ('"' if in_string else "")
    candidate = re.sub(r"[,:]\s*$", "", candidate.rstrip())
    candidate = re.sub(r',\s*"[^"]*"\s*$', "", candidate)
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", candidate + "".join(reversed(stack))), strict=False)
    except (ValueError, RecursionError):
        return None


def jsonld_nodes(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    """All dict nodes of every JSON-LD script in document order, ``@graph`` and nesting flattened one
    level (top-level values and ``@graph`` members; nested nodes stay inside their parents).
    """
    nodes: list[dict[str, Any]] = []
    for script in _JSONLD_XPATH(tree):
        try:
            data = load_json_tolerant(script.text_content())
        except RecursionError:
            data = None
        for item in _as_list(data):
            if not isinstance(item, dict):
                continue
            graph = item.get("@graph")
            if isinstance(graph, (list, dict)):
                nodes.extend(n for n in _as_list(graph) if isinstance(n, dict))
                if len(item) > 2 and "@type" in item:
                    nodes.append(item)
            else:
                nodes.append(item)
            if len(nodes) > MAX_NODES:
                return nodes[:MAX_NODES]
    return nodes


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


# ------------------------------------------------------------------------------------------ microdata


def microdata_nodes(tree: lxml.html.HtmlElement, *, base_url: str) -> list[dict[str, Any]]:
    """Top-level microdata items in JSON-LD shape (``{"@type": "Product", "name": ..., "offers": {...}}``)."""
    from extruct.w3cmicrodata import MicrodataExtractor

    try:
        items = list(MicrodataExtractor().extract_items(tree, base_url=base_url))
    except Exception:  # extruct on hostile markup: any failure means "no microdata"
        logger.debug("microdata extraction failed", exc_info=True)
        return []
    return [n for n in (_microdata_to_node(i, 0) for i in items[:MAX_NODES]) if isinstance(n, dict)]


def _microdata_to_node(item: Any, depth: int) -> Any:
    if isinstance(item, list):
        return [_microdata_to_node(i, depth + 1) for i in item[:200]]
    if not isinstance(item, dict) or depth > MAX_DEPTH:
        return item if not isinstance(item, dict) else None
    if "properties" not in item:
        return item
    node: dict[str, Any] = {}
    raw_type = item.get("type")
    types = raw_type if isinstance(raw_type, list) else [raw_type]
    node["@type"] = [short_type(t) for t in types if isinstance(t, str)]
    if item.get("id"):
        node["@id"] = item["id"]
    for key, value in (item.get("properties") or {}).items():
        node[short_type(key) or key] = _microdata_to_node(value, depth + 1)
    return node


# ----------------------------------------------------------------------------------------------- RDFa


def rdfa_nodes(text: str, *, base_url: str, tree: lxml.html.HtmlElement | None = None) -> list[dict[str, Any]]:
    """schema.org RDFa nodes in JSON-LD shape, references between nodes resolved (to a bounded depth).

    RDFa needs its own DOM (extruct's ``XmlDomHTMLParser``), so the page is parsed again only when it
    uses RDFa attributes (``typeof`` or ``vocab``; checked on ``tree`` when given).
    """
    if "typeof" not in text and "vocab" not in text:
        return []
    if tree is not None and not tree.xpath("//*[@typeof or @vocab]"):
        return []
    from extruct.rdfa import RDFaExtractor
    from extruct.utils import parse_xmldom_html

    try:
        tree = parse_xmldom_html(text.encode("utf-8", "replace"), encoding="utf-8")
        if not tree.xpath("//*[@typeof or @vocab]"):
            return []
        expanded = RDFaExtractor().extract_items(tree, base_url=base_url)
    except Exception:  # pyRdfa raises many kinds of errors on broken markup
        logger.debug("RDFa extraction failed", exc_info=True)
        return []
    by_id = {n.get("@id"): n for n in expanded if isinstance(n, dict) and n.get("@id")}
    nodes = []
    for raw in expanded[:MAX_NODES]:
        if not isinstance(raw, dict) or not raw.get("@type"):
            continue
        nodes.append(_in_document_order(_rdfa_to_node(raw, by_id, depth=0, seen=frozenset()), text))
    return nodes


def _in_document_order(node: dict[str, Any], text: str) -> dict[str, Any]:
    """RDF has no order among the values of one property (pyRdfa returns them in hash order, which
    changes between runs): put several text values (image URLs, names) in the order the page writes
    them, comparing each value's path (relative URLs were made absolute) with the page's text."""

    def position(value: str) -> tuple[int, str]:
        for needle in (value, urlsplit(value).path if "://" in value else value):
            found = text.find(needle) if needle else -1
            if found >= 0:
                return found, value
        return len(text), value

    for key, value in node.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            node[key] = sorted(value, key=position)
    return node


def _rdfa_to_node(raw: dict[str, Any], by_id: dict[Any, Any], *, depth: int, seen: frozenset) -> dict[str, Any]:
    node: dict[str, Any] = {"@type": [short_type(t) for t in _as_list(raw.get("@type"))]}
    if raw.get("@id"):
        node["@id"] = raw["@id"]
    for key, values in raw.items():
        if key.startswith("@") or "schema.org" not in key:
            continue
        converted = []
        for value in _as_list(values):
            if not isinstance(value, dict):
                continue
            if "@value" in value:
                converted.append(value["@value"])
            elif "@id" in value:
                ref = by_id.get(value["@id"])
                if ref is not None and depth < MAX_DEPTH and value["@id"] not in seen:
                    converted.append(
                        _rdfa_to_node(ref, by_id, depth=depth + 1, seen=seen | {value["@id"]})
                    )
                else:
                    converted.append(value["@id"])
        if converted:
            node[short_type(key)] = converted[0] if len(converted) == 1 else converted
    return node
