"""SelectorPage: a parser configured by a {field: "css:..."/"xpath:..."} profile."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawlers.pages import SelectorPage, SelectorProfileError

PAGE = """<html><head><title>T</title>
<script type="application/ld+json">{"@type":"Product","name":"LD name","sku":"LD-1",
"offers":{"price":"10.00","priceCurrency":"USD"}}</script></head><body>
<h1 class="t">Profile <b>Title</b></h1>
<div class="buy"><span class="p">1.234,56</span><span class="c">€</span></div>
<ul class="gallery"><li><img src="/a.jpg"></li><li><img data-src="b.jpg" src="/a.jpg"></li></ul>
<div class="seller">Verkauft von: Handel AG</div>
<span id="ean">4006381333931</span>
</body></html>"""

PROFILE = {
    "title": "css:h1.t",
    "price": "xpath://span[@class='p']/text()",
    "currency": "css:span.c::text",
    "image_urls": ["css:.gallery img::attr(data-src)", "css:.gallery img::attr(src)"],
    "seller": "css:.seller::text",
    "gtin": "xpath://*[@id='ean']/text()",
}


def test_profile_fields_win_and_the_rest_falls_back() -> None:
    item = SelectorPage("https://shop.example.de/p/1?utm_campaign=x", PAGE, profile=PROFILE).to_item()
    assert item is not None
    assert item.title == "Profile Title"
    assert item.price == Decimal("1234.56") and item.currency == "EUR"
    assert item.image_urls == ["https://shop.example.de/p/b.jpg", "https://shop.example.de/a.jpg"]
    assert item.seller == "Handel AG"
    assert item.gtin == "4006381333931"
    assert item.sku == "LD-1"  # not in the profile: from JSON-LD
    assert item.canonical_url == "https://shop.example.de/p/1"
    assert item.source.startswith("selector+")


def test_without_fallback_only_the_profile_counts() -> None:
    item = SelectorPage("https://shop.example.de/p/1", PAGE, profile=PROFILE, fallback=False).to_item()
    assert item is not None and item.sku is None and item.source == "selector"


def test_price_text_gives_price_and_currency() -> None:
    html = "<html><body><div class='x'>Preis: 12,50 €</div></body></html>"
    item = SelectorPage("https://s.example.de/p", html, profile={"price_text": "css:.x::text"}, fallback=False).to_item()
    assert item is not None and item.price == Decimal("12.50") and item.currency == "EUR"


def test_nothing_matched_and_no_fallback_gives_none() -> None:
    assert SelectorPage("https://s.example.com/", "<html></html>", profile={"title": "css:h2"}, fallback=False).to_item() is None


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"colour": "css:h1"}, "unknown field"),
        ({"title": "h1"}, "must start with"),
        ({"title": "css:h1[[["}, "does not compile"),
        ({"title": "xpath://*[@"}, "does not compile"),
        ({"title": 5}, "must be a string"),
    ],
)
def test_bad_profiles_are_refused_with_one_line(profile: dict, message: str) -> None:
    with pytest.raises(SelectorProfileError, match=message) as info:
        SelectorPage("https://s.example.com/", PAGE, profile=profile)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("html", [b"", b"\x00\xff\xfe garbage", "<html><body><h1>" * 3000, "<<<>>>"])
def test_hostile_pages_never_raise(html: str | bytes) -> None:
    SelectorPage("https://s.example.com/", html, profile=PROFILE).to_item()
