"""The reference indexes answer exactly what a scan would, and take new entries without a rebuild."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.config import MatchConfig
from matching.image_index import HashIndex, KeypointIndex
from matching.marks import MarkIndex, allowed_edits


def _flip(value: int, bits: list[int]) -> int:
    for b in bits:
        value ^= 1 << b
    return value


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**64 - 1), st.lists(st.integers(0, 63), max_size=11, unique=True), st.integers(0, 2**32))
def test_hash_index_finds_everything_a_scan_finds(query, flips, seed):
    rng = random.Random(seed)
    stored = [rng.getrandbits(64) for _ in range(200)] + [_flip(query, flips)]
    index = HashIndex()
    for payload, value in enumerate(stored):
        index.add(value, payload)
    radius = index.guaranteed_radius
    expected = {p: (v ^ query).bit_count() for p, v in enumerate(stored) if (v ^ query).bit_count() <= radius}
    assert index.query(query, radius) == expected
    assert len(stored) - 1 in index.query(query, radius)


def test_hash_index_takes_new_entries_without_rebuild():
    index = HashIndex()
    index.add(0xFFFF0000FFFF0000, 1)
    assert index.query(0xFFFF0000FFFF0001, 4) == {1: 1}
    index.add(0x0F0F0F0F0F0F0F0F, 2)
    assert index.query(0x0F0F0F0F0F0F0F0F, 0) == {2: 0}
    assert len(index) == 2


def test_keypoint_index_votes_for_the_reference_sharing_descriptors():
    rng = np.random.default_rng(1)
    refs = [rng.integers(0, 256, size=(150, 32), dtype=np.uint8) for _ in range(30)]
    index = KeypointIndex()
    for payload, desc in enumerate(refs):
        index.add(desc, payload)
    # A copy: the descriptors of reference 17 with a few bits flipped.
    noisy = refs[17].copy()
    flips = rng.integers(0, 32, size=(150, 2))
    for row, (byte, _) in enumerate(flips):
        noisy[row, byte] ^= 1 << int(rng.integers(0, 8))
    votes = index.votes(noisy)
    assert votes.most_common(1)[0][0] == 17
    index.add(noisy, 99)  # incremental
    assert index.votes(noisy).most_common(1)[0][0] in (17, 99)


def _osa(a: str, b: str) -> int:
    """Optimal string alignment distance, the textbook dynamic programme."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _swapped_or_doubled(key: str, mark: str) -> bool:
    swapped = len(key) == len(mark) and sorted(key) == sorted(mark) and sum(a != b for a, b in zip(key, mark, strict=True)) == 2
    doubled = len(key) == len(mark) + 1 and any(key[:i] + key[i + 1 :] == mark and key[i] == key[i - 1]
                                                 for i in range(1, len(key)))
    return swapped or doubled


MARKS = ["Fullips", "Novalux", "Kuko", "Corarium", "Quanix", "Meadow", "Raello", "Soarne", "Zeta", "Brightwater"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(alphabet="abcdefgiklmnopqrstuvwxz", min_size=2, max_size=13), st.sampled_from(["kuok", "kkuko", "zeat", "zetaa", "uqanix", "fulips"])))
def test_mark_lookup_equals_a_scan_with_the_length_rule(key):
    config = MatchConfig()
    index = MarkIndex(config, is_ordinary=lambda w: False)
    for owner, mark in enumerate(MARKS):
        index.add(owner, mark)
    found = dict(index._lookup(key))
    expected = {}
    for entry in index.entries:
        distance = min(_osa(key, k) for k in entry.keys)
        if distance <= allowed_edits(entry.length, config):
            expected[entry.mark_id] = distance
        elif entry.allowed == 0 and distance == 1 and any(_swapped_or_doubled(key, k) for k in entry.keys):
            expected[entry.mark_id] = 1
    assert found == expected


# --- ReferenceImageIndex over typed signatures ----------------------------------------------------------------
def _image_sig(img):
    from matching.images import compute_image_signature
    from matching.synthetic import encode

    return compute_image_signature(encode(img), max_pixels=40_000_000)


def test_reference_index_finds_copies_and_only_copies():
    from PIL import ImageOps

    from matching.image_index import ReferenceImageIndex
    from matching.synthetic import photo

    index = ReferenceImageIndex()
    originals = {100 + seed: photo(seed) for seed in range(12)}
    for key, img in originals.items():
        index.add(key, _image_sig(img))
    assert len(index) == 12
    exact = index.search(_image_sig(originals[103]))
    assert [k for k, _ in exact] == [103] and exact[0][1].kind == "same_photo"
    cropped = originals[107].crop((120, 80, 640, 640))
    found = index.search(_image_sig(cropped))
    assert [k for k, _ in found] == [107] and found[0][1].method == "keypoints"
    assert [k for k, _ in index.search(_image_sig(ImageOps.mirror(originals[101])))] == [101]
    assert index.search(_image_sig(photo(999))) == []
    index.add(500, _image_sig(photo(999)))  # incremental
    assert [k for k, _ in index.search(_image_sig(photo(999)))] == [500]


@pytest.mark.parametrize("offsets", [False, True], ids=["binary-search", "offsets"])
def test_compact_keypoint_index_votes_like_the_dict_index(offsets):
    """Both look-ups of the compact index (binary search on a small table, an offsets array on a large one)
    give the dict index's votes."""
    from matching.image_index import CompactKeypointIndex

    rng = np.random.default_rng(5)
    refs = [rng.integers(0, 256, size=(int(rng.integers(1, 120)), 32), dtype=np.uint8) for _ in range(60)]
    compact, plain = CompactKeypointIndex(tables=4, bits=22, seed=3), KeypointIndex(tables=4, bits=22, seed=3)
    if offsets:
        compact.CSR_MIN_ENTRIES = 0  # as a table of a large registry
    for payload, desc in enumerate(refs[:40]):
        compact.add(desc, payload)
        plain.add(desc, payload)
    query = np.concatenate([refs[7][:30], refs[33][:10], rng.integers(0, 256, size=(50, 32), dtype=np.uint8)])
    assert compact.votes(query) == plain.votes(query)
    for payload, desc in enumerate(refs[40:], start=40):  # added after a query: the sorted view is rebuilt
        compact.add(desc, payload)
        plain.add(desc, payload)
    query = np.concatenate([query, refs[55]])
    assert compact.votes(query) == plain.votes(query) and compact.votes(query).most_common(1)[0][0] == 55
    assert (compact._offsets[0] is not None) == offsets


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=6), st.integers(0, 2**32))
def test_hash_index_query_many_equals_one_query_per_value(queries, seed):
    rng = random.Random(seed)
    index = HashIndex()
    stored = [rng.getrandbits(64) for _ in range(150)] + [_flip(q, rng.sample(range(64), rng.randint(0, 11))) for q in queries]
    for payload, value in enumerate(stored):
        index.add(value, payload % 97)  # repeated payloads: the smallest distance is kept
    qi, pi, dist = index.query_many(queries, 11)
    got = {(int(q), int(p)): int(d) for q, p, d in zip(qi, pi, dist, strict=True)}
    assert len(got) == len(qi)  # one row per (query, payload)
    expected = {(i, p): d for i, q in enumerate(queries) for p, d in index.query(q, 11).items()}
    assert got == expected
    for i, q in enumerate(queries):
        scan: dict[int, int] = {}
        for payload, value in enumerate(stored):
            d = (value ^ q).bit_count()
            if d <= 11:
                scan[payload % 97] = min(d, scan.get(payload % 97, 65))
        assert {p: d for (j, p), d in got.items() if j == i} == scan


def test_reference_index_verifies_a_bounded_few_whatever_the_number_of_references(monkeypatch):
    """A listing image copying one reference among many near-identical shots: the hash stage runs on at most
    4 x max_keypoint_checks candidates, RANSAC only on those left in doubt plus at most max_keypoint_checks voted
    ones, and an exact copy stops the search before any RANSAC."""
    from matching import image_index
    from matching.image_index import ReferenceImageIndex
    from matching.synthetic import photo

    calls = {"hash": 0, "keypoints": 0}
    real = image_index.compare_images

    def counting(listing, reference, **kw):
        calls["keypoints" if kw.get("hash_stage") is False else "hash"] += 1
        assert kw.get("keypoint_stage") is False or kw.get("hash_stage") is False
        return real(listing, reference, **kw)

    monkeypatch.setattr(image_index, "compare_images", counting)
    index = ReferenceImageIndex()
    base = photo(3)
    sigs = [_image_sig(base)] + [_image_sig(base.rotate(0.5 * (k + 1), fillcolor="white")) for k in range(40)]
    for key, sig in enumerate(sigs):
        index.add(key, sig)
    found = index.search(_image_sig(base))
    assert found and found[0][0] == 0 and found[0][1].kind == "same_photo"
    assert calls["keypoints"] == 0 and calls["hash"] <= 4 * index.config.max_keypoint_checks
    calls.update(hash=0, keypoints=0)
    crop = base.crop((120, 80, 640, 640))
    found = index.search(_image_sig(crop))
    assert found and found[0][1].copied
    assert calls["hash"] <= 4 * index.config.max_keypoint_checks
    assert calls["keypoints"] <= 5 * index.config.max_keypoint_checks
