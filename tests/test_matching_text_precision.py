"""Text precision on invented marks (none of them a demo brand): a near-miss of a coined mark, or words that
run together into it, in a listing about something else is weak and needs corroboration; the same spelling
beside the brand's product words still counts, and only credible evidence lifts the weak-mark cap."""

from __future__ import annotations

from decimal import Decimal

import pytest

from matching import BrandProfile, ListingInput, MatchConfig, Matcher, ProductRef
from matching.combine import combine
from matching.evidence import Evidence

RATES = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
CFG = MatchConfig()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    kovandi = BrandProfile(1, "Kovandi", ("Kovandi",), keywords=("cream", "serum", "skin"), category="skin care",
                           products=(ProductRef("KOV-1", "Kovandi Night Cream", Decimal("38"), "EUR"),))
    tozar = BrandProfile(2, "Tozar", ("Tozar",), keywords=("drone", "propeller", "quadcopter"), category="toys",
                         products=(ProductRef("TZR-1", "Tozar Mini Drone", Decimal("90"), "USD"),))
    return Matcher([kovandi, tozar], rates=RATES)


def result(matcher: Matcher, title: str, *, brand_id: int, price: str | None = None, currency: str = "USD",
           description: str = ""):
    item = ListingInput(listing_id="T1", title=title, description=description, seller="Some Shop",
                        price=Decimal(price) if price else None, currency=currency, brand_text=None, images=())
    return next((r for r in matcher.score(item) if r.brand_id == brand_id), None)


def limits(r) -> set[str]:
    return {e.signal for e in r.evidence if e.signal == "weak_mark"}


@pytest.mark.parametrize(("title", "brand_id"), [
    ("Kovanda desk lamp", 1),                 # one letter off, selling a lamp
    ("Kovandy bath towel 70x140", 1),         # one letter changed at the end
    ("To Zar garden hose 25 m", 2),           # run together from a two-letter word
    ("Tozra pencil case", 2),                 # swapped letters
])
def test_a_near_miss_in_a_listing_about_something_else_is_weak(matcher, title, brand_id):
    r = result(matcher, title, brand_id=brand_id, price="12.00")
    assert r is not None, "the near-miss is still reported as evidence"
    assert not r.infringing and r.score <= CFG.weak_mark_cap
    assert limits(r) == {"weak_mark"}
    weak = next(e for e in r.evidence if e.signal == "weak_mark")
    assert "product words" in weak.reason


@pytest.mark.parametrize(("title", "brand_id"), [
    ("Kovanda night cream 50 ml", 1),
    ("Kovvandi skin serum", 1),
    ("To Zar mini drone with camera", 2),
    ("Tozra quadcopter propeller set", 2),
])
def test_the_same_spelling_beside_the_brands_product_words_counts(matcher, title, brand_id):
    r = result(matcher, title, brand_id=brand_id)
    assert r is not None and r.infringing, title
    assert not limits(r)


def test_an_exact_coined_mark_is_not_weak_even_off_category(matcher):
    r = result(matcher, "Kovandi desk lamp", brand_id=1)
    assert r is not None and not limits(r)  # the mark itself: not capped (weak on its own for lack of context)


def test_a_misspelt_counterfeit_at_a_fraction_of_msrp_is_still_found(matcher):
    r = result(matcher, "Kovvandi Night Cream 50ml", brand_id=1, price="7.50", currency="EUR")
    assert r is not None and r.infringing and r.klass == "counterfeit"


def ev(signal: str, strength: float = 0.0) -> Evidence:
    return Evidence(signal, strength, f"{signal} reason")


@pytest.mark.parametrize(("extra", "lifted"), [
    ([], False),
    ([ev("image", CFG.corroboration_min - 0.07)], False),  # a doubtful photo: discounted, under the bar
    ([ev("image", CFG.corroboration_min)], True),
    ([ev("seller", CFG.corroboration_min + 0.1)], True),
    ([ev("replica", CFG.replica_weight)], True),
    ([ev("photo_text", CFG.corroboration_min - 0.01)], False),
    ([ev("price", 0.05)], True),                            # price counts only where the listing points at the brand
    ([ev("context")], False),                               # zero strength lifts nothing
])
def test_only_credible_evidence_lifts_the_weak_mark_cap(extra, lifted):
    evidence = [ev("mark", 0.36), ev("weak_mark"), *extra]
    score = combine(evidence, CFG)
    uncapped = 1.0
    for e in evidence:
        if e.strength:
            uncapped *= 1.0 - e.strength
    uncapped = round(1.0 - uncapped, 4)
    assert score == (uncapped if lifted else min(uncapped, CFG.weak_mark_cap))
    assert lifted == (score > CFG.weak_mark_cap)


# -- another maker's name in a copied photo --------------------------------------------------------------------
@pytest.fixture(scope="module")
def copy_hit():
    from dataclasses import replace

    from matching.image_match import ImageComparison
    from matching.images import compute_image_signature
    from matching.signals.image import ImageHit, ReferencePhoto
    from matching.synthetic import encode, photo

    sig = compute_image_signature(encode(photo(5)), max_pixels=40_000_000)
    # The official photo matched the left two thirds of the listing photo (fractions of the photo).
    comparison = ImageComparison(score=0.8, kind="edited_copy", method="keypoints", listing_box=(0.0, 0.2, 0.7, 1.0),
                                 reference_box=(0.0, 0.0, 1.0, 1.0), edits=("part of a collage", "recoloured"),
                                 inliers=40, coverage=0.5, rotation=0.0, scale=1.0, listing_words=(),
                                 reference_words=(), text_conflict=False, reason="an edited copy")
    hit = ImageHit(1, ReferencePhoto(0, 0, "KOV-1", "KOV-1 photo a", "r1", sig), comparison)

    def listing_photo(*words_and_boxes):
        return replace(sig, text=tuple(w for w, _ in words_and_boxes), text_boxes=tuple(b for _, b in words_and_boxes))
    return hit, listing_photo


INSIDE, INSIDE_2, OUTSIDE = (0.30, 0.60, 0.55, 0.65), (0.30, 0.70, 0.50, 0.74), (0.75, 0.50, 0.95, 0.55)


def everyday(word: str) -> bool:
    return word in {"glass", "cleaner", "sale", "night", "cream"}


@pytest.mark.parametrize(("words", "own", "expected"), [
    ((("moviette", INSIDE), ("glass", INSIDE_2)), (), "moviette"),     # another coined name on the label
    ((("moviette", INSIDE), ("kovandi", INSIDE_2)), (), None),         # the brand's own mark is read too
    ((("kovandl", INSIDE),), (), None),                                # the mark with one OCR misread
    ((("kov", INSIDE), ("andi", INSIDE_2)), (), None),                 # the mark split in two words
    ((("kovan", INSIDE),), (), None),                                  # the mark read short
    ((("moviette", OUTSIDE),), (), None),                              # a collage neighbour's label
    ((("sale", INSIDE), ("cream", INSIDE_2)), (), None),               # a badge and a product word
    ((("kittyshop", INSIDE),), ("kittyshop",), None),                  # the seller's own watermark
    ((("moviette", INSIDE),), (), "moviette"),
    ((("m0vi3tte", INSIDE), ("ab", INSIDE_2)), (), None),              # not a word of letters
])
def test_a_copy_showing_another_name_where_the_label_is(copy_hit, words, own, expected):
    from matching.signals.image import another_name, renamed

    hit, listing_photo = copy_hit
    name = another_name(hit, listing_photo(*words), marks=frozenset({"kovandi"}), own_words=set(own),
                        is_everyday=everyday)
    assert name == expected
    if name:
        look_alike = renamed(hit, name)
        assert not look_alike.copied and look_alike.comparison.kind == "similar_style"
        assert look_alike.comparison.text_conflict and name in look_alike.comparison.reason


def test_a_photo_whose_text_was_not_read_keeps_its_copy(copy_hit):
    from matching.signals.image import another_name

    hit, listing_photo = copy_hit
    unread = listing_photo()
    from dataclasses import replace

    assert another_name(hit, replace(unread, text=None, text_boxes=None), marks=frozenset({"kovandi"}),
                        own_words=set(), is_everyday=everyday) is None
