"""Table tests for the pure normalisers in ``crawlers.processors``."""

from __future__ import annotations

from decimal import Decimal

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers import processors as p
from crawlers.pages.labels import html_availability, labelled_values


@pytest.mark.parametrize(
    ("raw", "structured", "expected"),
    [
        ("1.234,56 €", False, "1234.56"),
        ("$1,234.56", False, "1234.56"),
        ("1 234,56 zł", False, "1234.56"),
        ("1\u00a0234,56 zł", False, "1234.56"),
        ("₹2,433", False, "2433"),
        ("EUR 12", False, "12"),
        ("12,-", False, "12"),
        ("12.–", False, "12"),
        ("CHF 1'234.50", False, "1234.50"),
        ("R$ 1.759,99", False, "1759.99"),
        ("44 890 тг.", False, "44890"),
        ("19,99", False, "19.99"),
        ("2.433", True, "2.433"),
        ("24.00", True, "24.00"),
        (24, False, "24"),
        (49.9, False, "49.9"),
        (Decimal("3.5"), False, "3.5"),
        ("-5", True, None),
        ("€ -5", False, None),
        ("abc", False, None),
        ("", False, None),
        (None, False, None),
        (True, False, None),
        ([1], False, None),
        ("1e20", True, None),
        ("99999999999999999", False, None),
    ],
)
def test_parse_price(raw: object, structured: bool, expected: str | None) -> None:
    result = p.parse_price(raw, structured=structured)
    assert result == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("usd", None, "USD"),
        ("EUR", None, "EUR"),
        ("€", None, "EUR"),
        ("£", "US", "GBP"),
        ("$", "US", "USD"),
        ("$", None, "USD"),
        ("$", "CA", "CAD"),
        ("$", "AU", "AUD"),
        ("$", "CL", "CLP"),
        ("kr", "NO", "NOK"),
        ("kr", "SE", "SEK"),
        ("kr.", "DK", "DKK"),
        ("₽", None, "RUB"),
        ("руб.", None, "RUB"),
        ("R$", None, "BRL"),
        ("zł", None, "PLN"),
        ("Lei", None, "RON"),
        ("Kn", None, "HRK"),
        ("тг.", None, "KZT"),
        ("ر.س", None, "SAR"),
        ("₹", None, "INR"),
        ("¥", "CN", "CNY"),
        ("¥", "JP", "JPY"),
        # East Asian forms: the won written out, 元 by country, full-width yen, renminbi in words
        ("30,000원~", None, "KRW"),
        ("원", "KR", "KRW"),
        ("99元", "TW", "TWD"),
        ("99元", "CN", "CNY"),
        ("最低價$99元起/包", "TW", "TWD"),
        ("￥1,280", "JP", "JPY"),
        ("RMB 50", None, "CNY"),
        ("人民币 50", None, "CNY"),
        ("100 港元", None, "HKD"),
        ("один 5", None, None),
        ("EUR 12", None, "EUR"),
        ("12,00 €", None, "EUR"),
        ("$1,234.56", "CA", "CAD"),
        ("XXX", None, None),
        ("dollars maybe", None, None),
        ("", None, None),
        (None, None, None),
        (12, None, None),
    ],
)
def test_normalize_currency(raw: object, country: str | None, expected: str | None) -> None:
    assert p.normalize_currency(raw, country=country) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.amazon.com/dp/X", "US"),
        ("https://www.amazon.co.uk/dp/X", "GB"),
        ("https://shop.example.com.au/x", "AU"),
        ("https://shop.example.ca/x", "CA"),
        ("https://www.zalando.de/x", "DE"),
        ("https://ar-sa.example.com/x", "SA"),
        ("https://example.org/x", None),
        ("http://127.0.0.1:8000/x", None),
        ("not a url", None),
        ("http://[::1", None),
    ],
)
def test_country_from_url(url: str, expected: str | None) -> None:
    assert p.country_from_url(url) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4006381333931", "4006381333931"),
        ("4006381333932", None),  # bad check digit
        ("400-638-133-393-1", "4006381333931"),
        ("ean: 4006381333931", "4006381333931"),
        ("0012345678905", "0012345678905"),
        ("012345678905", "012345678905"),
        ("96385074", "96385074"),
        ("12345", None),
        ("abcdefghijklm", None),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", None),  # non-ASCII digits are not a GTIN
        (4006381333931, "4006381333931"),
        (None, None),
        (True, None),
    ],
)
def test_clean_gtin(raw: object, expected: str | None) -> None:
    assert p.clean_gtin(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://schema.org/InStock", "InStock"),
        ("http://schema.org/OutOfStock", "OutOfStock"),
        ("schema:PreOrder", None),  # no slash and not a bare name: unknown
        ("PreOrder", "PreOrder"),
        ("in stock", "InStock"),
        ("out_of_stock", "OutOfStock"),
        ("LimitedAvailability", "LimitedAvailability"),
        ("instock", "InStock"),
        ("maybe later", None),
        (True, "InStock"),
        (None, None),
    ],
)
def test_normalize_availability(raw: object, expected: str | None) -> None:
    assert p.normalize_availability(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Nice   <b>bag</b>\n", "Nice bag"),
        ("a <script>alert(1)</script>b", "a b"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("zero\u200bwidth\u0000", "zerowidth"),
        ("   ", None),
        (None, None),
        (42, "42"),
    ],
)
def test_clean_text(raw: object, expected: str | None) -> None:
    assert p.clean_text(raw) == expected


def test_clean_text_is_bounded() -> None:
    text = p.clean_text("word " * 10000, max_chars=100)
    assert text is not None and len(text) == 100 and text.endswith("…")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sold by: Shop X", "Shop X"),
        ("Verkauft von Kaffee GmbH.", "Kaffee GmbH"),
        ("Seller - ACME", "ACME"),
        ("Plain Name", "Plain Name"),
        ("Sold by", None),
        ("Seller 2", "Seller 2"),
        ("Sellerama Outlet", "Sellerama Outlet"),
        ("Vendeur : Boutique Lune", "Boutique Lune"),
    ],
)
def test_clean_seller(raw: str, expected: str | None) -> None:
    assert p.clean_seller(raw) == expected


@pytest.mark.parametrize(
    ("raw", "base", "expected"),
    [
        ("/img/a.jpg", "https://shop.example.com/p/1", "https://shop.example.com/img/a.jpg"),
        ("img/a.jpg", "https://shop.example.com/p/1", "https://shop.example.com/p/img/a.jpg"),
        ("//cdn.example.com/a.jpg", "https://shop.example.com/p/1", "https://cdn.example.com/a.jpg"),
        ("javascript:alert(1)", "https://shop.example.com/", None),
        ("data:image/png;base64,AA", "https://shop.example.com/", None),
        ("ftp://x.example.com/a", "https://shop.example.com/", None),
        ("", "https://shop.example.com/", None),
        ("http://[::1", "https://shop.example.com/", None),
    ],
)
def test_absolute_url(raw: str, base: str, expected: str | None) -> None:
    assert p.absolute_url(raw, base=base) == expected


@pytest.mark.parametrize(
    ("url", "declared", "expected"),
    [
        ("https://shop.example.com/p/1?utm_source=a&b=2&a=1#frag", [], "https://shop.example.com/p/1?a=1&b=2"),
        ("https://www.amazon.com/dp/B01?tag=aff-20&ref=x&color=red", [], "https://www.amazon.com/dp/B01?color=red"),
        ("https://shop.example.com/p/caf\u00e9?q=a b", [], "https://shop.example.com/p/caf%C3%A9?q=a+b"),
        ("https://s.example.com/p?gclid=1&fbclid=2&srsltid=3&_pos=1&_sid=2&_ss=r", [], "https://s.example.com/p"),
        ("https://www.shop.example.com/p/1?x=1", ["/p/canonical"], "https://www.shop.example.com/p/canonical"),
        ("https://www.shop.example.com/p/1", ["https://shop.example.com/p/c"], "https://shop.example.com/p/c"),
        ("https://www.shop.example.com/p/1", ["https://evil.example.org/p/1"], "https://www.shop.example.com/p/1"),
        ("https://a.example.co.uk/p", ["https://b.example.co.uk/q"], "https://b.example.co.uk/q"),
        ("https://a.example.co.uk/p", ["https://other.co.uk/q"], "https://a.example.co.uk/p"),
        ("https://www.shop.example.com/p/1", [None, "javascript:x"], "https://www.shop.example.com/p/1"),
    ],
)
def test_canonical_url(url: str, declared: list[str | None], expected: str) -> None:
    assert p.canonical_url(url, declared=declared) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.amazon.co.uk/x", "amazon.co.uk"),
        ("https://a.b.example.com.au/", "example.com.au"),
        ("http://127.0.0.1:8080/x", "127.0.0.1"),
        ("http://localhost/x", "localhost"),
        ("nonsense", None),
    ],
)
def test_registrable_domain(url: str, expected: str | None) -> None:
    assert p.registrable_domain(url) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_processors_never_raise_on_any_text(text: str) -> None:
    p.parse_price(text)
    p.parse_price(text, structured=True)
    p.normalize_currency(text, country="CA")
    p.clean_gtin(text)
    p.normalize_availability(text)
    p.clean_text(text)
    p.clean_seller(text)
    p.absolute_url(text, base="https://shop.example.com/p/1")
    p.canonical_url("https://shop.example.com/p/1", declared=[text])
    p.country_from_url(text)
    p.strip_tracking(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Gen 2 HOT SALE", None), ("Travel Mug 2 NEW", None), ("EUR 12,50", "EUR 12,50"), ("Only 9.99 USD", "9.99 USD"),
     ("$ 5", "$ 5")],
)
def test_three_capitals_are_a_currency_only_when_iso(text: str, expected: str | None) -> None:
    from crawlers.pages.price_html import _real_price_text

    match = _real_price_text(text)
    assert (match.group(0).strip() if match else None) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Brand: Hidecraft</p>", {"brand": "Hidecraft"}),
        ("<table><tr><td>Kaubamärk</td><td><a href='/b'>Bosch</a></td></tr></table>", {"brand": "Bosch"}),
        ("<p>品牌：好食光</p><p>商品編號：HS-2231</p>", {"brand": "好食光", "sku": "HS-2231"}),
        ("<dl><dt>브랜드</dt><dd>바람솔</dd><dt>모델명</dt><dd>BS-300K</dd><dt>판매자</dt><dd>바로상사</dd></dl>",
         {"brand": "바람솔", "mpn": "BS-300K", "seller": "바로상사"}),
        ("<p>品番: AB-123</p><p>メーカー: ミズホ</p>", {"sku": "AB-123", "brand": "ミズホ"}),
        ("<p>Referencia: RUN-AZ-43</p><p>Valmistaja: Fiskars</p>", {"sku": "RUN-AZ-43", "brand": "Fiskars"}),
    ],
)
def test_labelled_values_in_many_languages(html: str, expected: dict[str, str]) -> None:
    tree = lxml.html.fromstring(f"<html><body>{html}</body></html>")
    assert labelled_values(tree) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<div class="stock">現貨供應</div>', "InStock"),
        ('<div class="stock">已售完</div>', "OutOfStock"),
        ('<span class="availability">品切れ</span>', "OutOfStock"),
        ('<span class="availability">재고 있음</span>', "InStock"),
        ('<span class="stock-state">Laos</span>', "InStock"),
        ('<span class="stock-state">Nincs raktáron</span>', "OutOfStock"),
    ],
)
def test_availability_in_many_languages(html: str, expected: str) -> None:
    assert html_availability(lxml.html.fromstring(f"<html><body>{html}</body></html>")) == expected
