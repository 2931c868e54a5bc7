"""Text normalisation steps, each as a table of cases, and property tests against slow references."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.normalize import (
    analyse,
    collapse_repeats,
    fold_confusables,
    fold_leetspeak,
    loose_text,
    mark_keys,
    skeleton_map,
    strip_invisible,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ful\u200blips", "Fullips"),
        ("Ful\u200c\u200d\u2060lips", "Fullips"),
        ("\ufeffFullips", "Fullips"),
        ("Full\u00adips", "Fullips"),
        ("plain text", "plain text"),
    ],
)
def test_strip_invisible(text, expected):
    assert strip_invisible(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fullіps", "Fullips"),  # Cyrillic small byelorussian-ukrainian i
        ("Соrаrium", "corarium"),  # Cyrillic capital es, small o and a; compared case-insensitively
        ("Novα", "Nova"),  # Greek alpha
        ("Кuко", "kuko"),  # Cyrillic ka: the data maps only the capital to K; the small one follows it
    ],
)
def test_fold_confusables(text, expected):
    assert fold_confusables(text).casefold() == expected.casefold()


@pytest.mark.parametrize(
    ("word", "reading", "expected"),
    [
        ("f0llip$", "l", "follips"),
        ("fu11ips", "l", "fullips"),
        ("mian1", "i", "miani"),
        ("50arne", "l", "soarne"),
        ("50ml", "l", "50ml"),
        ("3pcs", "l", "3pcs"),
        ("2024", "l", "2024"),
        ("a1", "l", "a1"),
        ("F3l10", "l", "Fello"),
    ],
)
def test_fold_leetspeak(word, reading, expected):
    assert fold_leetspeak(word, ambiguous_as=reading) == expected


@pytest.mark.parametrize(
    ("text", "keys", "change"),
    [
        ("FuIIips", {"fullips"}, "confusables_I"),
        ("F.u.l.l.i.p.s", {"fullips"}, "separators"),
        ("Fulllllips", {"fullips"}, "repeats"),
        ("ＦＵＬＬＩＰＳ", {"fullips"}, "compat"),
        ("Fullîps", {"fullips"}, "accents"),
        ("Ful\u200blips", {"fullips"}, "zero_width"),
        ("Fu11ip$", {"fullips"}, "leetspeak"),
    ],
)
def test_analyse_records_each_step(text, keys, change):
    (token,) = analyse(text)
    assert keys & {token.key_l, token.key_i}
    assert change in token.changes


def test_script_boundary_splits_pieces_without_flagging_separators():
    (token,) = analyse("高仿Fullips口红")
    assert "fullips" in token.pieces_l
    assert "separators" not in token.changes


def test_mark_keys_cover_both_readings():
    assert mark_keys("ILLY") == ("lly", "illy")
    assert mark_keys("Full Lips") == ("fulllips",)


def test_loose_text_keeps_ratio_and_folds_accents():
    assert loose_text("Réplica 1:1 AAA") == "replica 1:1 aaa"


def test_skeleton_map_is_ascii_and_maps_no_ascii():
    table = skeleton_map()
    assert len(table) > 1000
    assert all(not k.isascii() and v.isascii() and v.isalnum() and v == v.lower() for k, v in table.items())


# --- properties against slow, obviously correct references ---------------------------------------

def _slow_collapse(text: str) -> str:
    out = []
    for ch, group in itertools.groupby(text):
        n = len(list(group))
        out.append(ch * (min(n, 2) if (ch.isalnum() or ch == "_") else n))
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="aab_l1 .-", max_size=30))
def test_collapse_repeats_matches_reference(text):
    assert collapse_repeats(text) == _slow_collapse(text)


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12), st.data())
def test_invisible_characters_never_change_the_key(word, data):
    positions = data.draw(st.lists(st.integers(0, len(word)), max_size=4))
    noisy = word
    for pos in sorted(positions, reverse=True):
        noisy = noisy[:pos] + data.draw(st.sampled_from(INVISIBLE)) + noisy[pos:]
    (clean_token,) = analyse(word)
    (noisy_token,) = analyse(noisy)
    assert noisy_token.key_l == clean_token.key_l
    assert noisy_token.key_i == clean_token.key_i


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=20))
def test_fold_confusables_is_idempotent_and_only_shrinks_non_ascii(text):
    once = fold_confusables(text)
    assert fold_confusables(once) == once
    assert len(once) == len(text)
    assert all(a == b or not a.isascii() for a, b in zip(text, once, strict=True))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_analyse_never_fails_and_keys_are_normalised(text):
    for token in analyse(text):
        assert token.key_l == token.key_l.casefold()
        assert all(unicodedata.category(ch) != "Cf" for ch in token.key_l)
