"""Discovery's reading of domain names: one normaliser with listing titles, official domains never candidates,
traps (dictionary words holding a mark) left alone, hostile names refused with one line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from matching.domains import BadDomainName, parse_name
from services.registry.load import load_registry
from services.registry.specification import check_brand
from services.registry.sync import import_registry
from storage.imagestore import ImageStore
from storage.models import Brand
from tests.discovery_support import matcher, write_registry


@pytest.mark.parametrize(("name", "mark", "disguise"), [
    ("fullips-outlet.shop", "Fullips", "exact"),
    ("fulllips.store", "Fullips", "repeated"),
    ("fullps.com", "Fullips", "misspelt"),
    ("xn--fullps-s9a.com", "Fullips", "homoglyph"),       # fullıps with a dotless i
    ("fu11ips.net", "Fullips", "leetspeak"),
    ("buyfullipsonline.com", "Fullips", "combined"),
    ("full-lips-sale.com", "Full Lips", "hyphenated"),
    ("fullips.myshopify.com", "Fullips", "exact"),
    ("nоrama.shop", "Norama", "homoglyph"),                # Cyrillic o
    ("norama-candle.store", "Norama", "exact"),
])
def test_look_alike_names_spell_the_mark(name: str, mark: str, disguise: str) -> None:
    hits = matcher().match(name)
    assert hits, name
    assert (hits[0].mark, hits[0].disguise) == (mark, disguise)
    assert hits[0].reasons[0].startswith(f"spells the mark {mark!r}")


@pytest.mark.parametrize("name", [
    "fullips.com", "www.fullips.com", "shop.fullips.com",  # official, and under it
    "norama.io", "cdn.norama-shop.de",
    "panorama-tours.com", "panoramacars.net",               # a dictionary word holding the mark
    "caravan.com", "example.org", "gardenblog.net",
    "fullipsxqzt.com",                                       # the rest is not words: not written together
])
def test_official_unrelated_and_trap_names_are_not_candidates(name: str) -> None:
    assert matcher().match(name) == []


def test_score_says_why() -> None:
    hit = matcher().match("fullips-official-outlet.shop")[0]
    assert hit.sales_words == ("official", "outlet")
    assert any("sales words" in r for r in hit.reasons)
    assert any("shop suffix" in r for r in hit.reasons)
    plain = matcher().match("fullips.net")[0]
    assert hit.score > plain.score


@pytest.mark.parametrize(("raw", "fragment"), [
    ("a" * 70 + ".com", "bad label"),
    (("abc." * 80) + "com", "longer than 253"),
    ("x" * 5000, "longer than 253"),
    ("xn--zz.com", "not IDNA"),
    ("xn--.com", "bad label"),
    ("exa mple.com", "bad label"),
    ("localhost", "not a domain name"),
    ("", "not a domain name"),
])
def test_hostile_names_get_one_line_and_no_hit(raw: str, fragment: str) -> None:
    with pytest.raises(BadDomainName) as info:
        parse_name(raw)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert matcher().match(raw) == []


def test_mixed_scripts_are_named_and_punycode_is_decoded() -> None:
    unicode_name, ascii_name = parse_name("*.FULLİPS.com.")
    assert ascii_name.startswith("xn--") and unicode_name.endswith(".com")
    hit = matcher().match("fullіps-shop.com")[0]  # Cyrillic і
    assert hit.disguise == "homoglyph"
    assert any(r.startswith("mixed scripts") for r in hit.reasons)
    assert hit.ascii_domain.startswith("xn--")


def test_registry_lists_official_domains_checked_and_stored(database, tmp_path) -> None:
    checked = check_brand({"name": "X", "owner": "Y", "domains": ["ok.com", "https://bad.com/", "nodot"]})
    assert list(checked.errors) == ["domains"]
    assert "'https://bad.com/'" in checked.errors["domains"][0] and "'nodot'" in checked.errors["domains"][0]
    store = ImageStore(tmp_path / "images", max_bytes=1_000_000, max_pixels=1_000_000)
    registry = load_registry(write_registry(tmp_path), store=store)
    with database.session() as session:
        report = import_registry(session, registry, store)
        assert any("official_domains" in line for line in report.lines())
        brand = session.scalar(select(Brand).where(Brand.name == "Fullips"))
        assert brand.official_domains == ["fullips.com", "shop.fullips.eu"]
    with database.session() as session:
        assert not import_registry(session, registry, store).changed
