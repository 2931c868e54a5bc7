"""Marks that are ordinary words, and coined marks on other goods (issue 28, item 4), on brands and listings
invented here (none is a demo brand; Fullips is the issue's own example).

- A dictionary mark, or a mark phrase of dictionary words, needs evidence of the brand's product from the
  registry itself (a product noun that is not a word of the mark, a model name or SKU, words printed on its
  official photos); the phrase beside a category word is the phrase in its ordinary sense.
- A coined mark written word for word by an unauthorised seller is never dropped: on goods the brand does not
  sell it is class ``other_goods`` with a "mark on other goods" reason, ranked by the rest of the evidence.
- A one-word coined mark written as the everyday phrase it is made of ("Gear-Line" for Gearline) is weak.
- Product words match in another spelling (Soya/Soy); dupe wording counts only when tied to the brand.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from matching import BrandProfile, ListingInput, MatchConfig, Matcher, ProductRef
from matching.combine import classify
from matching.evidence import Evidence
from matching.lexicon import Lexicon
from matching.model import CLASS_LABELS, CLASS_RANK, CLASSES, INFRINGING_CLASSES, may_report
from matching.normalize import variant_shortenings
from matching.signals.text import mark_parts

RATES = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
CFG = MatchConfig()


def product(sku: str, name: str, msrp: str, currency: str = "USD") -> ProductRef:
    return ProductRef(sku, name, Decimal(msrp), currency)


BRANDS = (
    # Dictionary marks.
    BrandProfile(1, "Parsnip", ("Parsnip",), keywords=("toys", "kids", "wooden"), category="toys",
                 products=(product("PSN-01", "Parsnip Wooden Rainbow Stacker", "34"),
                           product("PSN-02", "Parsnip Baby Rattle", "14"))),
    BrandProfile(2, "Acorn", ("Acorn",), keywords=("backpack", "bag", "outdoor"), category="bags",
                 products=(product("ACR-20", "Acorn Daypack 20L", "79"), product("ACR-HP", "Acorn Hip Pack", "39"))),
    BrandProfile(3, "Orbit", ("Orbit",), keywords=("fan", "cooling"), category="home appliances",
                 products=(product("ORB-12", "Orbit Desk Fan 12in", "49"),
                           product("ORB-TF", "Orbit Tower Fan TF90", "99"))),
    # A coined mark with a mark phrase of dictionary words as alias.
    BrandProfile(4, "Fullips", ("Fullips", "Full Lips"), keywords=("lip", "plumper", "gloss"), category="cosmetics",
                 products=(product("FLP-001", "Fullips Lip Plumper", "24"),
                           product("FLP-002", "Fullips Plumping Gloss", "22"))),
    # A two-word name of dictionary words.
    BrandProfile(5, "Copper Heron", ("Copper Heron",), keywords=("gin", "spirits"), category="spirits",
                 products=(product("CH-LD", "Copper Heron London Dry Gin 70cl", "36", "GBP"),
                           product("CH-SL", "Copper Heron Sloe Gin", "32", "GBP"))),
    # Coined marks; Gearline is made of two dictionary words.
    BrandProfile(6, "Gearline", ("Gearline",), keywords=("bike", "cycling"), category="cycling",
                 products=(product("GL-DH", "Gearline Derailleur Hanger", "19", "EUR"),
                           product("GL-C11", "Gearline Cassette 11-speed", "59", "EUR"))),
    BrandProfile(7, "Zorvane", ("Zorvane",), keywords=("skin", "cream", "serum"), category="skin care",
                 products=(product("ZV-1", "Zorvane Night Cream", "38", "EUR"),),
                 authorized_sellers=("Zorvane Official Store",)),
    BrandProfile(8, "Quendra", ("Quendra",), keywords=("dairy free",), category="plant based",
                 products=(product("QD-1", "Quendra Soy Milk Barista", "3", "EUR"),)),
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(BRANDS, rates=RATES)


def score(matcher: Matcher, title: str, brand_id: int, *, description: str = "", seller: str = "Some Shop",
          price: str = "9.99", images=()):
    item = ListingInput("T1", title=title, description=description, seller=seller, price=Decimal(price),
                        currency="USD", images=tuple(images))
    return next((r for r in matcher.score(item) if r.brand_id == brand_id), None)


# -- the word or phrase in its ordinary sense: not a suspect, not an accessory, not "other goods" --------------
@pytest.mark.parametrize(("title", "brand_id"), [
    ("Parsnip Seeds Tender and True - 200 seeds for kids garden", 1),   # a vegetable, beside a keyword
    ("Parsnip and carrot soup mix, wooden spoon included", 1),
    ("Acorn squash seeds, organic", 2),
    ("Oak acorn wreath decoration with bag hanger", 2),
    ("Orbit trap cross trainer", 3),
    ("Planet orbit mobile for nursery, cooling gel pad", 3),
    ("Lip Liner Pencil for Full Lips", 4),                              # "for full lips": not an accessory
    ("Soft Full Lips Lip Balm", 4),
    ("Fuller Lips Overnight Lip Mask", 4),
    ("Hydrating lip oil for fuller lips", 4),
    ("Copper Heron Wall Lamp, brushed brass", 5),                      # a gin's name on a wall lamp
    ("Copper heron garden sculpture, gift for gin lovers", 5),
    ("Gear-Line Chain Tool for 11-speed chains", 6),                   # a hyphenated phrase spelling Gearline
    ("Gear-Line fishing reel, 6 bearings, bike mount", 6),
])
def test_an_ordinary_word_or_phrase_in_its_ordinary_sense_is_no_suspect(matcher, title, brand_id):
    r = score(matcher, title, brand_id)
    assert r is None or (r.klass == "clean" and r.score < CFG.infringing_threshold), (title, r and r.reasons)


@pytest.mark.parametrize(("title", "brand_id", "shown"), [
    ("Parsnip wooden rainbow stacker", 1, "stacker"),                  # its product noun
    ("Acorn daypack 20 l, navy", 2, "daypack"),
    ("Orbit TF90 fan, white", 3, "tf90"),                              # its model name
    ("Orbit fan ORB-12, 3 speeds", 3, "orb12"),                        # its SKU
    ("Full Lips Plumping Gloss", 4, "plumping"),
    ("Copper Heron London Dry Gin 70cl", 5, "london"),
    ("Copper Heron sloe gin, cheap", 5, "sloe"),
])
def test_a_dictionary_mark_with_the_brands_product_is_a_suspect(matcher, title, brand_id, shown):
    r = score(matcher, title, brand_id)
    assert r is not None and r.klass == "counterfeit", title
    product_ev = next(e for e in r.evidence if e.signal == "product")
    assert shown in {*product_ev.details["words"], *product_ev.details["models"]}


def test_words_printed_on_the_official_photos_show_the_product():
    from matching.images import compute_image_signature
    from matching.model import ReferenceImage
    from matching.synthetic import encode, photo

    sig = compute_image_signature(encode(photo(3)), max_pixels=40_000_000)
    if not hasattr(sig, "with_text"):
        pytest.skip("typed signatures not available")
    pack = sig.with_text(("ember", "hearth", "toffee", "candle", "200g"))
    brand = BrandProfile(9, "Ember", ("Ember",), keywords=("candle",), category="home fragrance",
                         products=(ProductRef("EM-1", "Ember Scented Candle", Decimal("28"), "USD",
                                              (ReferenceImage("r9", "EM-1 photo a", pack),)),))
    m = Matcher([brand], rates=RATES)
    plain = score(m, "Ember glow candle 200g", 9)
    assert plain is not None and plain.klass == "clean"                 # the category word only
    listing_photo = compute_image_signature(encode(photo(21)), max_pixels=40_000_000)
    packed = score(m, "Ember glow candle", 9, images=[listing_photo.with_text(("hearth", "toffee"))])
    assert packed is not None and packed.infringing
    assert next(e for e in packed.evidence if e.signal == "product").details["packaging"] == ["hearth", "toffee"]


# -- a coined mark word for word: always in front of an analyst ------------------------------------------------
@pytest.mark.parametrize("title", [
    "Zorvane Slim Fit Chinos Navy 32W",
    "Zorvane phone case, shockproof",
    "ZORVANE garden hose 25 m",
    "Zοrvane bluetooth speaker",                                       # a Greek omicron: the same word
    "Men's chinos by Z-O-R-V-A-N-E",
])
def test_a_coined_mark_word_for_word_on_other_goods_is_class_other_goods(matcher, title):
    r = score(matcher, title, 7)
    assert r is not None and r.klass == "other_goods", (title, r and r.reasons)
    assert any(reason.startswith("mark on other goods") for reason in r.reasons)
    assert not r.infringing and not may_report(r.klass)


def test_other_goods_are_ranked_by_how_strongly_the_rest_agrees(matcher):
    alone = score(matcher, "Zorvane Slim Fit Chinos", 7)
    in_description = score(matcher, "Slim fit chinos", 7, description="Zorvane quality chinos, cotton.")
    seller = score(matcher, "Zorvane Slim Fit Chinos", 7, seller="Zorvane 0fficial Store")
    assert in_description.klass == "other_goods" and alone.klass == "other_goods"
    assert in_description.score < alone.score < seller.score
    assert seller.klass == "counterfeit"                              # an imitated seller agrees: a suspect
    assert any(reason.startswith("mark on other goods") for reason in seller.reasons)


@pytest.mark.parametrize(("title", "klass"), [
    ("Zorvane Night Cream 50 ml", "counterfeit"),                      # its goods: counterfeit
    ("Phone case for Zorvane fans", "accessory"),                      # nominative use stays an accessory
    ("Zorvne slim fit chinos", "clean"),                               # misspelt, no product words: not word for word
    ("Zorvanex slim fit chinos", "clean"),
])
def test_only_the_mark_itself_on_other_goods_is_other_goods(matcher, title, klass):
    r = score(matcher, title, 7)
    assert (r.klass if r else "clean") == klass, (title, r and r.reasons)


def test_the_authorized_seller_is_never_other_goods(matcher):
    r = score(matcher, "Zorvane tote bag", 7, seller="Zorvane Official Store")
    assert r is None or r.klass == "clean"


def test_the_class_is_one_of_the_classes_ranked_after_the_suspects():
    assert "other_goods" in CLASSES and "other_goods" not in INFRINGING_CLASSES and "other_goods" in CLASS_LABELS
    assert CLASS_RANK["lookalike"] < CLASS_RANK["other_goods"] < CLASS_RANK["accessory"]
    mark = Evidence("mark", 0.45, "title 'X' matches mark X", details={"word_for_word": True})
    other = Evidence("other_goods", 0.0, "mark on other goods: ...")
    assert classify([mark, other], 0.45, CFG) == "other_goods"
    assert classify([mark, other], 0.8, CFG) == "counterfeit"
    assert classify([mark, other, Evidence("nominative", 0.0, "n")], 0.3, CFG) == "accessory"


# -- coined or dictionary: general resources, phrases judged as phrases ---------------------------------------
@pytest.mark.parametrize(("key", "parts"), [
    ("gearline", ("gear", "line")),
    ("fullips", ("full", "lips")),                                     # the seam letter written once
    ("zorvane", ()),
    ("quendra", ()),
])
def test_the_words_a_coined_mark_is_made_of(key, parts):
    lexicon = Lexicon()
    assert mark_parts(key, lexicon.is_ordinary) == parts


def test_lexicon_folds_accents_and_knows_its_floor():
    french = Lexicon(("fr",))
    assert french.frequency("lumiere") == french.frequency("lumière") > 1000
    assert french.is_attested("lumiere")
    english = Lexicon(("en",))
    assert english.is_ordinary("plumper") and not english.is_attested("plumper")  # listed at the floor only
    assert not english.is_ordinary("zorvane") and english.is_attested("heron")


def test_a_two_word_mark_is_judged_as_a_phrase(matcher):
    marks = {e.text: e for e in matcher._marks.entries}
    assert marks["Copper Heron"].ordinary and marks["Full Lips"].ordinary
    assert not marks["Fullips"].ordinary and not marks["Gearline"].ordinary


# -- product words in another spelling -------------------------------------------------------------------------
@pytest.mark.parametrize(("longer", "shorter", "same"), [
    ("soya", "soy", True),
    ("colour", "color", True),
    ("yoghurt", "yogurt", True),
    ("aluminium", "aluminum", True),
    ("team", "tea", False),          # another word
    ("pain", "pan", False),
    ("cape", "cap", False),          # a silent e makes another word
    ("clamp", "lamp", False),        # the first letter is kept
    ("lamb", "lam", False),
])
def test_spelling_variants_one_letter_apart(longer, shorter, same):
    found = shorter in variant_shortenings(longer, min_length=CFG.variant_min_length,
                                           vowel_length=CFG.variant_vowel_length, any_length=CFG.variant_any_length)
    assert found == same


def test_soya_in_a_title_is_the_soy_of_the_product_name(matcher):
    from matching.images import compute_image_signature
    from matching.synthetic import encode, photo

    sig = compute_image_signature(encode(photo(11)), max_pixels=40_000_000)
    if not hasattr(sig, "with_text"):
        pytest.skip("typed signatures not available")
    pack = sig.with_text(("quendra", "barista"))
    soya = score(matcher, "Organic soya drink 1 L", 8, images=[pack])
    assert soya is not None and soya.infringing, soya and soya.reasons
    photo_ev = next(e for e in soya.evidence if e.signal == "photo_text")
    assert photo_ev.strength == pytest.approx(CFG.photo_text_weight)
    oat = score(matcher, "Organic oat drink 1 L", 8, images=[pack])
    assert oat is not None and not oat.infringing                       # no word of the brand's: half weight


# -- photo text of a dictionary mark ---------------------------------------------------------------------------
def test_an_exact_read_of_a_dictionary_mark_in_a_photo_is_evidence(matcher):
    from matching.images import compute_image_signature
    from matching.synthetic import encode, photo

    sig = compute_image_signature(encode(photo(11)), max_pixels=40_000_000)
    if not hasattr(sig, "with_text"):
        pytest.skip("typed signatures not available")
    with_product = score(matcher, "Wooden rainbow stacker toy", 1, images=[sig.with_text(("parsnip", "toys"))])
    assert with_product is not None and with_product.infringing
    assert any(e.signal == "photo_text" for e in with_product.evidence)
    ordinary = score(matcher, "Vegetable seed packet", 1, images=[sig.with_text(("parsnip", "seeds"))])
    assert ordinary is None or not ordinary.infringing


# -- dupe wording tied to the brand ----------------------------------------------------------------------------
@pytest.mark.parametrize(("title", "dupe"), [
    ("Zorvane night cream, a creamy alternative to yoghurt masks", False),
    ("Night cream, alternative to Zorvane night cream", True),
    ("Zorvane dupe night cream", True),
    ("Night cream inspired by the famous Zorvane formula", True),
    ("Zorvane night cream 50 ml. Rich texture, silky feel, quick absorbing, not a dupe", False),
])
def test_dupe_wording_counts_only_about_the_brand(matcher, title, dupe):
    r = score(matcher, title, 7)
    assert r is not None and r.infringing
    assert any(e.signal == "dupe" for e in r.evidence) == dupe, r.reasons
    assert (r.klass == "lookalike") == dupe


def test_a_mark_registered_with_its_own_hyphen_is_written_as_itself():
    brand = BrandProfile(10, "Gear-Line", ("Gear-Line",), keywords=("bike",), category="cycling",
                         products=(product("GX-1", "Gear-Line Derailleur Hanger", "19"),))
    m = Matcher([brand], rates=RATES)
    r = score(m, "Gear-Line Chain Tool", 10)
    assert r is not None and r.klass == "other_goods"                  # its own spelling, on other goods
    assert not any(e.signal == "weak_mark" for e in r.evidence)
