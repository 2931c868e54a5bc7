"""Template look-alikes in another colouring (docs/matching.md, "Template look-alikes in another colouring"):
a hash-stage copy whose product colours changed a lot needs its details or its label words to count, and a shared
product noun no longer hides another maker's name where the reference's mark is printed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching import image_match
from matching.config import ImageMatchConfig
from matching.image_match import _colour_doubt, text_agrees, text_conflict
from matching.images import compute_image_signature
from matching.synthetic import encode, photo

CFG = ImageMatchConfig()
IDENTITY = np.eye(3)
MARK, NOUN, SIZE = (0.30, 0.40, 0.60, 0.46), (0.30, 0.55, 0.60, 0.60), (0.30, 0.65, 0.45, 0.70)
BANNER = (0.05, 0.02, 0.30, 0.08)


@pytest.fixture(scope="module")
def sig():
    return compute_image_signature(encode(photo(11)), max_pixels=40_000_000)


def words(sig, *pairs):
    return replace(sig, text=tuple(w for w, _ in pairs), text_boxes=tuple(b for _, b in pairs))


@pytest.fixture
def reference(sig):
    return words(sig, ("kovandi", MARK), ("shampoo", NOUN), ("250ml", SIZE))


@pytest.mark.parametrize(("listing_words", "expected"), [
    # another maker's name where the mark is, the same noun below: the template, printed for someone else
    ((("rusoli", MARK), ("shampoo", NOUN)), True),
    # the mark read (or misread by OCR: "kovamdi", "kovandl", two letters in a long word) is no conflict
    ((("kovandi", MARK), ("shampoo", NOUN)), False),
    ((("kovamdi", MARK), ("shampoo", NOUN)), False),
    ((("kouamdi", MARK), ("shampoo", NOUN)), False),
    # the mark not read at all: nothing of the listing's own where it should be
    ((("shampoo", NOUN),), False),
    # a word of its own elsewhere (a sale banner) is no conflict
    ((("shampoo", NOUN), ("offer", BANNER)), False),
])
def test_another_name_where_the_mark_should_be(sig, reference, listing_words, expected):
    assert text_conflict(words(sig, *listing_words), reference, IDENTITY) is expected


def test_without_a_transform_any_shared_word_still_lifts_the_conflict(sig, reference):
    listing = words(sig, ("rusoli", MARK), ("shampoo", NOUN))
    assert text_conflict(listing, reference, None) is False
    assert text_conflict(words(sig, ("rusoli", MARK)), reference, None) is True


@pytest.mark.parametrize(("changed", "coverage", "listing_words", "doubt"), [
    (0.48, 0.36, (), True),                       # the measured gap: recoloured, outline only, no words
    (0.30, 0.36, (), False),                      # colours within recolour_doubt: coverage decides as before
    (0.48, 0.55, (), False),                      # a recolouring keeps its details in place
    (0.48, 0.36, (("kovandi", MARK),), False),    # or the reference's label word, read in the listing
    (0.48, 0.36, (("rusoli", MARK),), True),
])
def test_a_copy_in_doubt_over_its_colours(monkeypatch, sig, reference, changed, coverage, listing_words, doubt):
    # The product colours' change is measured by color_changed at the reference's details; given here.
    monkeypatch.setattr(image_match, "color_changed", lambda *a, **k: changed)
    listing = words(sig, *listing_words) if listing_words else replace(sig, text=(), text_boxes=())
    found = _colour_doubt(listing, reference, IDENTITY, (0.0, 0.0, 1.0, 1.0), coverage, CFG)
    assert (found is not None) is doubt
    assert found is None or found == changed


def test_label_words_agree_only_on_a_reference_word(sig, reference):
    assert text_agrees(words(sig, ("kovandl", MARK)), reference)
    assert not text_agrees(words(sig, ("rusoli", MARK)), reference)
    assert not text_agrees(words(sig, ("shampoo", NOUN)), replace(sig, text=None, text_boxes=None))
