"""ProductPage on broken and hostile input: bounded, never raises."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.pages import ProductPage
from crawlers.pages.document import MAX_HTML_CHARS
from crawlers.pages.structured import load_json_tolerant
from crawlers.processors import MAX_SHORT_CHARS


@pytest.mark.parametrize(
    "html",
    [
        b"",
        "",
        b"\x00\x01\x02\xff\xfe",
        "<html",
        "<<<<>>>>",
        "<html><body>" + "<div>" * 5000 + "x",
        '<script type="application/ld+json">' + "[" * 5000 + "</script>",
        '<script type="application/ld+json">{"@type":"Product","offers":' * 300 + "</script>",
        '<script type="application/ld+json">{"@graph": 5, "@type": ["Product", 7], "name": {"a": []}}</script>',
        '<div itemscope itemtype="http://schema.org/Product"><span itemprop="offers" itemscope>'
        '<span itemprop="price">' + "9" * 5000 + "</span></span></div>",
        '<html><body vocab="http://schema.org/" typeof="Product"><span property="name"',
        "<?xml version='1.0' encoding='latin-1'?><html><body><h1>x</h1></body></html>",
    ],
)
def test_broken_markup_never_raises(html: str | bytes) -> None:
    ProductPage("https://shop.example.com/p/1", html).to_item()


def test_long_fields_are_bounded_and_only_the_first_megabytes_are_read() -> None:
    title = "A" * 100_000
    html = f"<html><body><h1>{title}</h1><span class='price'>$5.00</span>" + " " * MAX_HTML_CHARS
    html += "<script type='application/ld+json'>{\"@type\":\"Product\",\"name\":\"late\"}</script></body></html>"
    item = ProductPage("https://shop.example.com/p/1", html).to_item()
    assert item is not None
    assert item.title is not None and len(item.title) == MAX_SHORT_CHARS
    assert item.source == "html"  # the JSON-LD after the bound was never read
    assert item.price == Decimal("5.00")


def test_bytes_are_decoded_by_declared_charset() -> None:
    html = '<html><head><meta charset="windows-1252"></head><body><h1>Caf\xe9</h1><span class="price">\x805,00</span>'
    item = ProductPage("https://shop.example.fr/p", html.encode("latin-1")).to_item()
    assert item is not None and item.title == "Café" and item.price == Decimal("5.00") and item.currency == "EUR"


@pytest.mark.parametrize(
    ("script", "expected_name"),
    [
        ('{"name": "a",}', "a"),
        ('// comment\n{"name": "b"}', "b"),
        ('<!--\n{"name": "c"}\n-->', "c"),
        ('{"name": "d"} trailing junk', "d"),
        ('{"name": "e", "offers": {"price": "1"', "e"),
        ('{"name": "raw\nnewline"}', "raw\nnewline"),
    ],
)
def test_tolerant_json_ld(script: str, expected_name: str) -> None:
    data = load_json_tolerant(script)
    assert isinstance(data, dict) and data["name"] == expected_name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcdiv{}[]:,scriptjonld+$€1.2")), max_size=400))
def test_random_markup_never_raises(html: str) -> None:
    ProductPage("https://shop.example.com/p/1", html).to_item()
