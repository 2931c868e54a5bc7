"""The matcher, case by case: each disguise found, each hard negative left alone, every score explained."""

from __future__ import annotations

import json
import tracemalloc
from decimal import Decimal

import pytest
from PIL import ImageOps

from matching import BrandProfile, ListingInput, MatchConfig, Matcher, ProductRef, ReferenceImage
from matching.images import compute_image_signature
from matching.synthetic import encode, photo

RATES = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
LIMIT = 40_000_000


def signature(img, **params):
    return compute_image_signature(encode(img, **params), max_pixels=LIMIT)


@pytest.fixture(scope="module")
def fullips_photo():
    return photo(42)


@pytest.fixture(scope="module")
def brands(fullips_photo):
    fullips = BrandProfile(
        brand_id=1, name="Fullips", marks=("Fullips", "Full Lips"), keywords=("lip", "plumper", "gloss"),
        category="cosmetics", authorized_sellers=("Et Al Beauty Official Store",),
        products=(ProductRef("FLP-001", "Fullips Lip Plumper", Decimal("24.00"), "USD",
                             (ReferenceImage("r1", "FLP-001 photo a", signature(fullips_photo)),)),),
    )
    meadow = BrandProfile(
        brand_id=2, name="Meadow", marks=("Meadow",), keywords=("diffuser", "candle", "fragrance"),
        category="home fragrance", products=(ProductRef("MEA-001", "Meadow Reed Diffuser", Decimal("30"), "EUR"),),
    )
    novalux = BrandProfile(
        brand_id=3, name="Novalux", marks=("Novalux",), keywords=("lamp", "light", "led"), category="lighting",
        products=(ProductRef("NLX-001", "Novalux Desk Lamp", Decimal("80"), "GBP"),),
    )
    return [fullips, meadow, novalux]


@pytest.fixture(scope="module")
def matcher(brands):
    return Matcher(brands, rates=RATES)


def listing(title="", *, description="", seller="Some Shop", price=None, currency="USD", brand_text=None, images=()):
    return ListingInput(listing_id="L1", title=title, description=description, seller=seller,
                        price=Decimal(price) if price is not None else None, currency=currency,
                        brand_text=brand_text, images=tuple(images))


def verdict(matcher, item, brand_id=1):
    return next((r for r in matcher.score(item) if r.brand_id == brand_id), None)


@pytest.mark.parametrize(
    ("title", "note"),
    [
        ("Fullips Lip Plumper", None),
        ("FuIIips Lip Plumper", "look-alike letters I→l"),
        ("Fu11ip$ lip plumper", "leetspeak"),
        ("F u l l i p s lip plumper", "spaced-out letters"),
        ("F.u.l.l.i.p.s lip gloss", "letters split by punctuation"),
        ("Fullіps lip plumper", "look-alike letters і→i"),  # Cyrillic і
        ("Ful\u200blips lip plumper", "hidden zero-width characters"),
        ("Fulips lip plumper", "1 letter off"),
        ("Fulllllips lip plumper", "repeated letters"),
        ("ＦＵＬＬＩＰＳ lip plumper", "full-width or styled letters"),
    ],
)
def test_disguised_names_are_found_and_explained(matcher, title, note):
    result = verdict(matcher, listing(title))
    assert result is not None and result.klass == "counterfeit" and result.score >= 0.5
    mark_reason = next(r for r in result.reasons if "matches mark Fullips" in r)
    assert mark_reason.startswith("title '")
    if note:
        assert note in mark_reason


def test_reason_reads_like_the_issue(matcher):
    result = verdict(matcher, listing("FuIIips Plumper", seller="Et Al Beauty 0fficial", price="7.50"))
    assert result.reasons[0] == "title 'FuIIips' matches mark Fullips (look-alike letters I→l)"
    assert "price 31% of MSRP (24.00 USD for FLP-001)" in result.reasons
    assert any(r.startswith("seller 'Et Al Beauty 0fficial' imitates authorized seller 'Et Al Beauty Official Store'")
               for r in result.reasons)
    assert result.product_sku == "FLP-001"
    json.dumps(result.signals)  # machine-readable and JSON-able


def test_description_only_mention_is_found(matcher):
    result = verdict(matcher, listing("Lip plumper 5 ml", description="Same as the original Fullips plumper."))
    assert result is not None and result.infringing


def test_ordinary_word_mark_needs_the_brands_context(matcher):
    assert verdict(matcher, listing("Wildflower meadow seed mix"), brand_id=2) is None or \
        not verdict(matcher, listing("Wildflower meadow seed mix"), brand_id=2).infringing
    result = verdict(matcher, listing("Meadow reed diffuser 100 ml"), brand_id=2)
    assert result is not None and result.infringing


def test_phrase_close_to_a_coined_mark_is_not_the_brand(matcher):
    result = verdict(matcher, listing("nova lux desk lamp"), brand_id=3)
    assert result is None or not result.infringing
    assert verdict(matcher, listing("Novalux desk lamp"), brand_id=3).infringing


@pytest.mark.parametrize(
    "title",
    ["Silicone case compatible with Fullips", "Replacement for Fullips plumper tip", "Travel pouch for Fullips lip gloss",
     "Applicator fits Fullips plumper"],
)
def test_nominative_uses_are_accessories(matcher, title):
    result = verdict(matcher, listing(title))
    assert result.klass == "accessory" and result.score <= MatchConfig().nominative_cap
    assert any("names the brand to describe its own product" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("title", "klass"),
    [
        ("Fullips lip plumper replica AAA", "counterfeit"),
        ("Fullips lip plumper 1:1 mirror quality", "counterfeit"),
        ("Fullips lip plumper réplica", "counterfeit"),
        ("Fullips Lippenpflege Nachbildung lip", "counterfeit"),
        ("高仿Fullips lip gloss", "counterfeit"),
        ("Fullips dupe lip plumper", "lookalike"),
        ("Lip plumper inspired by Fullips", "lookalike"),
        ("Fullips style lip plumper", "lookalike"),
    ],
)
def test_replica_and_dupe_wording(matcher, title, klass):
    result = verdict(matcher, listing(title))
    assert result.klass == klass
    assert any(r.startswith(("replica wording", "dupe wording")) for r in result.reasons)


def test_authorized_seller_is_clean_with_a_reason(matcher, fullips_photo):
    result = verdict(matcher, listing("Fullips Lip Plumper", seller="Et Al Beauty Official Store", price="24",
                                      images=[signature(fullips_photo)]))
    assert result.klass == "clean" and result.score < 0.2
    assert result.reasons[0] == "seller 'Et Al Beauty Official Store' is an authorized seller of Fullips"


def test_image_only_copies_are_found(matcher, fullips_photo):
    w, h = fullips_photo.size
    cropped = fullips_photo.crop((int(0.15 * w), 0, w, h))
    for img in (fullips_photo, ImageOps.mirror(fullips_photo), cropped):
        result = verdict(matcher, listing("Lip plumper 5 ml", images=[signature(photo(7)), signature(img, quality=70)]))
        assert result is not None and result.infringing
        assert any(r.startswith("image 2 ") and "FLP-001 photo a" in r for r in result.reasons)


def test_price_is_a_weak_signal_converted_between_currencies(matcher):
    cheap = verdict(matcher, listing("Fullips lip plumper", price="6.48", currency="EUR"))
    assert cheap.signals["price"]["ratio"] == pytest.approx(6.48 * 1.08 / 24, abs=1e-3)
    assert any(r.startswith("price 29% of MSRP") for r in cheap.reasons)
    no_name = verdict(matcher, listing("Lip plumper", price="1.00"))
    assert no_name is None  # a low price alone says nothing about a brand


def test_no_evidence_gives_no_results(matcher):
    assert matcher.score(listing("Antique book page print", description="Brand new, fast delivery.")) == []


def test_same_inputs_same_scores(brands, fullips_photo):
    item = listing("Fu11ips lip plumper replica", seller="x", price="5", images=[signature(fullips_photo)])
    first = Matcher(brands, rates=RATES).score(item)
    second = Matcher(brands, rates=RATES).score(item)
    assert first == second


def test_per_brand_threshold_overrides(brands):
    strict = BrandProfile(**{**{f: getattr(brands[0], f) for f in brands[0].__slots__},
                             "thresholds": {"infringing_threshold": 0.99}})
    result = verdict(Matcher([strict], rates=RATES), listing("Fulips lip plumper"))
    assert result.klass == "clean"
    with pytest.raises(ValueError, match="unknown matching threshold 'no_such_knob'"):
        Matcher([BrandProfile(9, "X", ("Xyzzy",), thresholds={"no_such_knob": 1})])


def test_config_overrides_and_documentation():
    config = MatchConfig().with_overrides({"hash_max_distance": "8", "infringing_threshold": 0.6})
    assert config.hash_max_distance == 8 and config.infringing_threshold == 0.6
    with pytest.raises(ValueError, match="must be a number"):
        MatchConfig().with_overrides({"price_weight": "cheap"})
    described = MatchConfig.describe()
    assert all(doc for _name, _default, doc in described), [n for n, _d, doc in described if not doc]


def test_brands_and_references_can_be_added_without_rebuild(brands, fullips_photo):
    matcher = Matcher(brands[1:], rates=RATES)
    assert verdict(matcher, listing("Fullips lip plumper")) is None
    matcher.add_brand(BrandProfile(1, "Fullips", ("Fullips",), ("lip",), products=(ProductRef("FLP-001", "Lip"),)))
    assert verdict(matcher, listing("Fullips lip plumper")).infringing
    item = listing("Lip plumper", images=[signature(fullips_photo)])
    assert verdict(matcher, item) is None
    matcher.add_reference(1, "FLP-001", ReferenceImage("r9", "FLP-001 photo a", signature(fullips_photo)))
    assert verdict(matcher, item).infringing


def test_hostile_text_is_bounded_and_quoted(matcher):
    title = "Fullips lip\u202e gloss <script>alert(1)</script> " + "x" * 100_000
    result = verdict(matcher, listing(title, description="\x00" * 50_000, seller="'; DROP TABLE --"))
    assert result is not None
    assert all(len(r) < 400 and "\u202e" not in r and "\x00" not in r for r in result.reasons)


def test_score_many_streams_in_constant_memory(matcher):
    def stream(n):
        for i in range(n):
            # Words repeat (as they do across real listings), so the bounded word caches fill up early.
            yield ListingInput(listing_id=i, title=f"Fullips lip plumper {i % 20}", seller="Shop",
                               price=Decimal("9"))

    def peak(n):
        tracemalloc.start()
        for _item, _results in matcher.score_many(stream(n)):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(50), peak(500)
    assert large < small * 1.5 + 200_000


def test_damaged_signatures_are_skipped_not_fatal(brands, fullips_photo):
    good = signature(fullips_photo)
    damaged = [
        {**good, "phash": "not hex"},
        {**good, "orb": {"n": 5, "xy": "%%%", "desc": "***"}},
        {**good, "trim": "oops"},
        "not a dict",
    ]
    matcher = Matcher(brands, rates=RATES)
    matcher.add_reference(1, "FLP-001", ReferenceImage("bad", "FLP-001 photo z", damaged[0]))
    result = verdict(matcher, listing("Lip plumper", images=damaged))
    assert result is None or all("photo z" not in r for r in result.reasons)
