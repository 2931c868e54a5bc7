"""The matcher, case by case: each disguise found, each hard negative left alone, every score explained."""

from __future__ import annotations

import json
import tracemalloc
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import ImageOps

from matching import BrandProfile, ListingInput, MatchConfig, Matcher, ProductRef, ReferenceImage
from matching import signature_codec as codec
from matching.combine import classify, combine
from matching.evidence import Evidence, TextSpan, evidence_from_json, evidence_to_json
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
    json.dumps(evidence_to_json(result.evidence))  # machine-readable and JSON-able


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


def test_each_copied_photo_says_how_it_is_alike(matcher, fullips_photo):
    """Two listing photos copying the official one in two ways: the evidence's regions carry one sentence each,
    the best pair's being the evidence's reason (the review app captions each pair with its own)."""
    w, h = fullips_photo.size
    cropped = fullips_photo.crop((int(0.15 * w), 0, w, h))
    result = verdict(matcher, listing("Lip plumper 5 ml", images=[signature(fullips_photo), signature(cropped)]))
    (image,) = [e for e in result.evidence if e.signal == "image"]
    notes = {r.image_no: (r.kind, r.note) for r in image.regions}
    assert set(notes) == {1, 2}
    assert notes[1] == ("same_photo", image.reason) and image.reason.startswith("image 1 is FLP-001 photo a")
    assert notes[2][0] == "edited_copy" and notes[2][1].startswith("image 2 copies FLP-001 photo a (an edited copy")


def test_price_is_a_weak_signal_converted_between_currencies(matcher):
    cheap = verdict(matcher, listing("Fullips lip plumper", price="6.48", currency="EUR"))
    price = next(e for e in cheap.evidence if e.signal == "price")
    assert price.details["ratio"] == pytest.approx(6.48 * 1.08 / 24, abs=1e-3)
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
    config = MatchConfig().with_overrides({"long_mark_edits": "1", "infringing_threshold": 0.6})
    assert config.long_mark_edits == 1 and config.infringing_threshold == 0.6
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


def test_damaged_stored_signatures_never_reach_the_matcher(brands, fullips_photo):
    """The codec is the one reader of stored signatures: a damaged row raises ValueError there (the loader
    then leaves that image out, see tests/test_scan.py), so the matcher only ever gets typed signatures."""
    good = codec.encode(signature(fullips_photo))
    damaged = [
        ({**good.fields, "hashes": {**good.fields["hashes"], "phash": "not hex"}}, good.keypoints),
        (good.fields, b"LKP\x01\x05\x00\x05\x00%%%"),
        ({**good.fields, "trimmed": "oops"}, good.keypoints),
        ("not a dict", None),
    ]
    for fields, blob in damaged:
        with pytest.raises(ValueError, match="malformed"):
            codec.decode(fields, blob)
    matcher = Matcher(brands, rates=RATES)
    result = verdict(matcher, listing("Lip plumper", images=[codec.decode(good.fields, good.keypoints)]))
    assert result is not None and next(e for e in result.evidence if e.signal == "image").details["kind"] == "same_photo"


# --------------------------------------------------------------------------- evidence, classes, precision



def test_evidence_carries_spans_disguises_and_round_trips(matcher):
    title = "Top FuIIips Lip Plumper"
    result = verdict(matcher, listing(title))
    mark = next(e for e in result.evidence if e.signal == "mark")
    assert mark.role == "identifies" and mark.disguise == "homoglyphs"
    assert [(s.field, title[s.start:s.end]) for s in mark.spans] == [("title", "FuIIips")]
    assert evidence_from_json(json.loads(json.dumps(evidence_to_json(result.evidence)))) == list(result.evidence)
    spaced = verdict(matcher, listing("F u l l i p s lip plumper"))
    span = next(e for e in spaced.evidence if e.signal == "mark").spans[0]
    assert "F u l l i p s lip plumper"[span.start:span.end] == "F u l l i p s"


@pytest.mark.parametrize(
    "title",
    ["Pre-owned Fullips lip plumper, used once", "Fullips Lip Plumper gebraucht, wie neu",
     "Fullips lip plumper d'occasion", "Fullips 二手 lip plumper", "Fullips lip plumper usato come nuovo",
     "Fullips lip plumper (grey import)"],
)
def test_second_hand_and_grey_market_are_resale_not_counterfeit(matcher, fullips_photo, title):
    result = verdict(matcher, listing(title, images=[signature(fullips_photo)], price="12"))
    assert result.klass == "resale" and not result.infringing and result.score <= MatchConfig().resale_cap
    assert any(r.startswith("offers a genuine Fullips item second-hand") for r in result.reasons)


def test_resale_wording_next_to_replica_wording_is_still_a_counterfeit(matcher):
    assert verdict(matcher, listing("Fullips lip plumper replica, like new")).klass == "counterfeit"


def test_a_weak_mark_needs_corroboration(fullips_photo):
    bouqet = BrandProfile(7, "Bouqet", ("Bouqet",), keywords=("vase", "flowers"), category="home",
                          products=(ProductRef("BQ-1", "Bouqet Glass Vase", Decimal("40"), "USD",
                                               (ReferenceImage("b1", "BQ-1 photo a", signature(fullips_photo)),)),))
    m = Matcher([bouqet], rates=RATES)
    weak = verdict(m, listing("Glass bouquet vase for flowers"), brand_id=7)
    assert weak is not None and not weak.infringing and weak.score <= MatchConfig().weak_mark_cap
    assert any(e.signal == "weak_mark" for e in weak.evidence)
    assert verdict(m, listing("Bouqet glass vase for flowers"), brand_id=7).infringing  # the mark itself
    photo = verdict(m, listing("Glass bouquet vase for flowers", images=[signature(fullips_photo)]), brand_id=7)
    assert photo.infringing  # a copied official photo corroborates it


def test_another_maker_named_caps_a_photo_only_match(matcher, fullips_photo):
    own_photo = listing("Lip plumper 5 ml", images=[signature(fullips_photo)])
    assert verdict(matcher, own_photo).infringing
    other = verdict(matcher, listing("Lip plumper 5 ml", brand_text="Glossio", images=[signature(fullips_photo)]))
    assert other is None or (not other.infringing and any(e.signal == "other_maker" for e in other.evidence))
    said = verdict(matcher, listing("Lip plumper 5 ml", description="Brand: Glossio. Vegan.",
                                    images=[signature(fullips_photo)]))
    assert said is None or not said.infringing
    generic = verdict(matcher, listing("Lip plumper 5 ml", brand_text="Unbranded", images=[signature(fullips_photo)]))
    assert generic.infringing  # "unbranded" names no maker


def test_mark_read_in_a_photo_with_a_generic_title(matcher):
    own = signature(photo(11))
    if not hasattr(own, "with_text"):
        pytest.skip("typed signatures not available")
    result = verdict(matcher, listing("Lip plumper 5 ml", images=[own.with_text(("new", "fullips", "plump"))]))
    assert result is not None and result.infringing
    ev = next(e for e in result.evidence if e.signal == "photo_text")
    assert ev.details["image_no"] == 1 and "the mark Fullips" in ev.reason
    assert verdict(matcher, listing("Lip plumper 5 ml", images=[own.with_text(("glossio", "plump"))])) is None


CFG = MatchConfig()


def ev(signal, strength=0.0, **details):
    return Evidence(signal, strength, f"{signal} reason", details=details)


@pytest.mark.parametrize(
    ("evidence", "klass"),
    [
        ([ev("mark", 0.9)], "counterfeit"),
        ([ev("mark", 0.9), ev("dupe", 0.6)], "lookalike"),
        ([ev("mark", 0.9), ev("dupe", 0.6), ev("replica", 0.6)], "counterfeit"),
        ([ev("mark", 0.9), ev("nominative")], "accessory"),
        ([ev("mark", 0.9), ev("resale")], "resale"),
        ([ev("mark", 0.9), ev("authorized_seller")], "clean"),
        ([ev("mark", 0.4), ev("weak_mark")], "clean"),
        ([ev("mark", 0.4), ev("weak_mark"), ev("image", 0.8)], "counterfeit"),
        ([ev("image", 0.9), ev("other_maker")], "clean"),
        ([ev("image", 0.9), ev("other_maker"), ev("dupe", 0.6)], "clean"),  # not lifted: the wording is about the other maker
        ([ev("price", 0.2)], "clean"),
    ],
)
def test_combine_and_classify_table(evidence, klass):
    assert classify(evidence, combine(evidence, CFG), CFG) == klass


_strength = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(st.lists(st.tuples(st.sampled_from(["mark", "image", "photo_text", "replica", "dupe", "price", "seller"]),
                          _strength), max_size=6),
       st.sampled_from(["mark", "image", "replica", "price"]), _strength)
def test_more_evidence_never_lowers_the_score(pieces, extra_signal, extra):
    base = [Evidence(s, v, "r") for s, v in pieces]
    before = combine(base, CFG)
    after = combine([*base, Evidence(extra_signal, extra, "r")], CFG)
    assert 0.0 <= before <= after <= 1.0


def test_evidence_rejects_unknown_signals_and_bounds_text():
    with pytest.raises(ValueError, match="unknown evidence signal"):
        Evidence("vibes", 0.5, "r")
    e = Evidence("mark", float("nan"), "x\n" * 1000, spans=tuple(TextSpan("title", i, i + 1) for i in range(50)))
    assert e.strength == 0.0 and len(e.reason) <= 400 and "\n" not in e.reason and len(e.spans) == 8


@pytest.mark.parametrize(
    "title",
    ["Ricarica compatibile Fullips lip plumper", "Vervangingsonderdeel voor Fullips lip plumper",
     "Nachfüllung für Fullips lip plumper", "Recharge pour Fullips lip plumper", "Repuesto para Fullips lip gloss"],
)
def test_accessory_wording_in_several_languages(matcher, title):
    assert verdict(matcher, listing(title)).klass == "accessory"


def test_a_photo_of_one_brand_in_a_listing_that_names_another_registered_brand(matcher, fullips_photo):
    result = verdict(matcher, listing("Novalux desk lamp", images=[signature(fullips_photo)]))
    assert result is None or (not result.infringing and any(e.signal == "other_maker" for e in result.evidence))
    assert verdict(matcher, listing("Novalux desk lamp"), brand_id=3).infringing


def test_photo_text_needs_one_brand_and_a_word_the_title_does_not_hold(matcher):
    own = signature(photo(11))
    if not hasattr(own, "with_text"):
        pytest.skip("typed signatures not available")
    shelf = verdict(matcher, listing("Lip plumper 5 ml", images=[own.with_text(("fullips", "novalux"))]))
    assert shelf is None or not any(e.signal == "photo_text" for e in shelf.evidence)  # a shelf of brands
    declared = verdict(matcher, listing("Fulips lip plumper", brand_text="Fulips",
                                        images=[own.with_text(("fulips",))]))
    assert declared is None or not any(e.signal == "photo_text" for e in declared.evidence)
