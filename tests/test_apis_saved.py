"""Saved API answers (as tests/test_pages_saved.py does for pages): ``tests/apis/<case>/`` holds
``case.json`` (the connector, what is read and the documentation page the answer's shape follows),
``answer.json`` (an answer in that documented shape) and the hand-editable ``expected.json`` (the
listings read, price as a decimal string, and the next search offset; or the error).  Add a case by
adding a folder."""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from crawlers.connectors import CONNECTOR_NAMES, connector
from crawlers.connectors.base import AnswerError, ConnectorConfig, Credentials
from crawlers.items import Listing

CASES_DIR = Path(__file__).parent / "apis"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())


def listing_as_json(item: Listing) -> dict[str, Any]:
    data = attrs.asdict(item)
    data["price"] = None if item.price is None else str(item.price)
    return data


def read_case(case: Path) -> dict[str, Any]:
    spec = json.loads((case / "case.json").read_text(encoding="utf-8"))
    module = connector(spec["connector"])
    answer = json.loads((case / "answer.json").read_text(encoding="utf-8"))
    try:
        if spec["read"] == "search":
            config = ConnectorConfig(**spec["config"])
            call = module.search_call(spec["query"], offset=spec["offset"], config=config)
            page = module.read_search(answer, call=call, config=config)
            return {"listings": [listing_as_json(item) for item in page.listings],
                    "details": [d.url for d in page.details], "next_offset": page.next.offset if page.next else None,
                    "next_url": page.next.url if page.next else None, "total": page.total, "skipped": page.skipped}
        listing = Listing(**spec["listing"])
        done = module.read_detail(answer, listings={listing.external_id: listing})
        return {"listings": [listing_as_json(item) for item in done]}
    except AnswerError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def test_every_case_is_complete_and_every_connector_has_cases() -> None:
    for case in CASES:
        missing = [n for n in ("case.json", "answer.json", "expected.json") if not (case / n).is_file()]
        assert not missing, f"{case.name} lacks {missing}"
        assert json.loads((case / "case.json").read_text())["doc"].startswith("https://")
    covered = {json.loads((c / "case.json").read_text())["connector"] for c in CASES}
    assert covered == set(CONNECTOR_NAMES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_saved_answer(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert read_case(case) == expected


def test_calls_follow_the_documented_limits() -> None:
    ebay, etsy, aliexpress = (connector(n) for n in CONNECTOR_NAMES)
    config = ConnectorConfig(base_url="https://api.ebay.com", page_size=500, max_results_per_query=50_000)
    call = ebay.first_call("a b", config=config)
    assert call.url == "https://api.ebay.com/buy/browse/v1/item_summary/search?q=a+b&limit=200&offset=0"
    assert dict(call.headers) == {"X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}
    with pytest.raises(ValueError, match="multiple of limit"):
        ebay.search_call("a", offset=150, config=config)
    with pytest.raises(ValueError):
        ebay.search_call("a", offset=9_900, config=config)  # past 10,000 results
    assert "limit=100" in etsy.first_call("a", config=ConnectorConfig(base_url="https://x.example", page_size=500)).url
    form = dict(aliexpress.first_call("a", config=ConnectorConfig(base_url="https://x.example", page_size=500)).form)
    assert form["page_size"] == "50" and form["page_no"] == "1"


def test_ebay_never_follows_a_next_link_to_another_host() -> None:
    ebay = connector("ebay")
    config = ConnectorConfig(base_url="https://api.ebay.com", page_size=2, details=False)
    answer = {"total": 10, "itemSummaries": [{"itemId": "v1|1|0", "itemWebUrl": "https://www.ebay.com/itm/1"}] * 2,
              "next": "https://evil.example/buy/browse/v1/item_summary/search?q=a&limit=2&offset=2"}
    page = ebay.read_search(answer, call=ebay.first_call("a", config=config), config=config)
    assert page.next is not None and page.next.url.startswith("https://api.ebay.com/") and page.notes == ("next_offsite",)


@pytest.mark.parametrize(("money", "expected"), [
    ({"amount": 1850, "divisor": 100, "currency_code": "USD"}, ("18.5", "USD")),
    ({"amount": 999, "divisor": 1, "currency_code": "JPY"}, ("999", "JPY")),
    ({"amount": 1850, "divisor": 0, "currency_code": "USD"}, (None, None)),
    ({"amount": -5, "divisor": 100, "currency_code": "USD"}, (None, None)),
    ({"amount": 1850, "divisor": 100, "currency_code": "dollars"}, (None, None)),
    ({"amount": True, "divisor": 100, "currency_code": "USD"}, (None, None)),
    ("18.50", (None, None)),
])
def test_etsy_price_is_amount_over_divisor(money, expected) -> None:
    price, code = connector("etsy").money(money)
    assert (None if price is None else str(price.normalize()), code) == expected


def test_aliexpress_signature_follows_the_documented_algorithm() -> None:
    aliexpress = connector("aliexpress")
    call = aliexpress.first_call("lip plumper", config=ConnectorConfig(base_url="https://api-sg.aliexpress.com"))
    signed = aliexpress.authorize(call, credentials=Credentials({"aliexpress_app_key": "12345",
                                                                 "aliexpress_app_secret": "helloworld"}),
                                  token=None, now=1_700_000_000.0)
    form = dict(signed.form)
    assert signed.url == "https://api-sg.aliexpress.com/sync" and "?" not in signed.url
    assert form["timestamp"] == "1700000000000" and form["sign_method"] == "sha256" and form["app_key"] == "12345"
    # The documented example: parameters sorted by name, written name+value with nothing between.
    assert aliexpress.sign({"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4"}, "helloworld") == (
        hmac.new(b"helloworld", b"bar2foo1foo_bar3foobar4", "sha256").hexdigest().upper())
    assert form["sign"] == aliexpress.sign({k: v for k, v in form.items() if k != "sign"}, "helloworld")
    assert "helloworld" not in "".join(form.values())  # the secret is never sent: only its HMAC


def test_docs_show_every_connectors_field_mapping_and_pages() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "sources.md").read_text(encoding="utf-8")
    for name in CONNECTOR_NAMES:
        module = connector(name)
        for api_field, listing_field, note in module.FIELD_MAP:
            assert f"| `{api_field}` | `{listing_field}` | {note} |" in docs, (name, api_field)
        for url in module.DOC_URLS:
            assert url in docs, url
