"""Matching throughput and memory: the Matcher against a plain Python loop over rapidfuzz and imagehash.

Setup (seeded): 1,000 brands, each with one coined mark, one product and ten reference images, so 1,000
marks and 10,000 reference images (each with its full set of 64-bit hashes; keypoints are left out
here, so this measures the text search and the hash index). Listings have a title, a short description
and one image; a quarter name a brand (a fifth of those disguised), a tenth show a near copy of a
reference image.

Baseline, per listing: ``fuzz.partial_ratio`` of every mark against the title and description (with
``utils.default_process``), and ``imagehash`` distance of the listing pHash to every reference pHash.
It is run on a scaled-down number of listings and reported per listing.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal

import imagehash
from rapidfuzz import fuzz, utils

from matching import BrandProfile, ListingInput, Matcher, ProductRef, ReferenceImage

SYLLABLES = ["ka", "lo", "mi", "ra", "zen", "tor", "vex", "qu", "li", "no", "sa", "pe", "dri", "ul", "ix", "bo"]
_WORD_TEXT = ("lamp desk light cable wireless bottle mug socks cap serum cream shampoo candle diffuser puzzle "
         "bear bunny speaker tracker plug beans coffee spray wax kit pack new fast shipping quality gift "
         "original limited sale cotton steel ceramic natural organic vegan 500 ml 1 kg 25 cm")
WORDS = _WORD_TEXT.split()


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def _near(hex_hash: str, rng: random.Random, bits: int = 3) -> str:
    value = int(hex_hash, 16)
    for b in rng.sample(range(64), bits):
        value ^= 1 << b
    return f"{value:016x}"


def _signature(rng: random.Random, base: dict | None = None) -> dict:
    kinds = ("phash", "dhash", "whash", "phash_m", "dhash_m", "whash_m")
    if base is None:
        return {"v": 1, **{k: _hex(rng) for k in kinds}, "trim": None, "box": None, "thumb": None, "orb": None}
    return {"v": 1, **{k: _near(base[k], rng) for k in kinds}, "trim": None, "box": None,
            "thumb": base.get("thumb"), "orb": None}


def _mark(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4))).capitalize()


def build_brands(n_brands: int = 1000, refs_per_brand: int = 10, seed: int = 1) -> list[BrandProfile]:
    rng = random.Random(seed)
    marks: set[str] = set()
    brands = []
    for i in range(n_brands):
        mark = _mark(rng)
        while mark in marks:
            mark = _mark(rng)
        marks.add(mark)
        refs = tuple(ReferenceImage(f"r{i}-{j}", f"B{i:04d}-001 photo {j}", _signature(rng))
                     for j in range(refs_per_brand))
        brands.append(BrandProfile(
            brand_id=i, name=mark, marks=(mark,), keywords=tuple(rng.sample(WORDS[:24], 3)),
            authorized_sellers=(f"{mark} Official Store",),
            products=(ProductRef(f"B{i:04d}-001", f"{mark} {rng.choice(WORDS[:24])}", Decimal("20"), "USD", refs),),
        ))
    return brands


def listings(brands: list[BrandProfile], n: int, seed: int = 2) -> Iterator[ListingInput]:
    """A stream of ``n`` synthetic listings (generated lazily: nothing is kept)."""
    rng = random.Random(seed)
    for i in range(n):
        words = rng.sample(WORDS, 6)
        brand = rng.choice(brands)
        if rng.random() < 0.25:
            mark = brand.name
            if rng.random() < 0.2:
                mark = " ".join(mark) if rng.random() < 0.5 else mark.replace("o", "0")
            words.insert(rng.randrange(len(words)), mark)
        if rng.random() < 0.1:
            image = _signature(rng, dict(brand.products[0].images[0].signature))
        else:
            image = _signature(rng)
        yield ListingInput(listing_id=i, title=" ".join(words), description=" ".join(rng.sample(WORDS, 12)),
                           seller=f"shop{rng.randrange(500)}", price=Decimal(rng.randrange(5, 60)), currency="USD",
                           images=(image,))


def baseline_score(listing: ListingInput, marks: list[str], ref_hashes: list) -> int:
    """The plain loop: every mark against the text, every reference hash against the image."""
    found = 0
    text = f"{listing.title} {listing.description}"
    for mark in marks:
        if fuzz.partial_ratio(mark, text, processor=utils.default_process, score_cutoff=85):
            found += 1
    for sig in listing.images:
        h = imagehash.hex_to_hash(sig["phash"])
        for ref in ref_hashes:
            if h - ref <= 10:
                found += 1
    return found


def run(n_listings: int = 5000, n_baseline: int = 20) -> list[tuple[str, str, str]]:
    brands = build_brands()
    start = time.perf_counter()
    matcher = Matcher(brands, rates={"USD": Decimal(1)})
    build_s = time.perf_counter() - start
    marks = [b.name for b in brands]
    ref_hashes = [imagehash.hex_to_hash(r.signature["phash"]) for b in brands for p in b.products for r in p.images]

    start = time.perf_counter()
    flagged = 0
    for _item, results in matcher.score_many(listings(brands, n_listings)):
        flagged += any(r.infringing for r in results)
    ours = n_listings / (time.perf_counter() - start)

    start = time.perf_counter()
    for item in listings(brands, n_baseline):
        baseline_score(item, marks, ref_hashes)
    base = n_baseline / (time.perf_counter() - start)

    def peak(n: int) -> int:
        tracemalloc.start()
        for _item, _results in matcher.score_many(listings(brands, n, seed=3)):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    # The matcher's word caches are bounded (8,192 words, 8,192 look-ups): the peak rises until they are
    # full, then stays flat however many listings follow.
    sizes = [n_listings // 5, n_listings, 4 * n_listings]
    peaks = [peak(n) for n in sizes]
    hours_100k = 100_000 / ours / 3600
    return [
        ("matching: index build (1,000 marks, 10,000 refs)", f"{build_s:.1f} s", "once per run"),
        ("matching: baseline loop (rapidfuzz + imagehash)", f"{base:.1f} listings/s", f"measured on {n_baseline} listings"),
        ("matching: Matcher.score_many", f"{ours:.0f} listings/s",
         f"{ours / base:.0f}x baseline; {n_listings} listings, {flagged} flagged; 100,000 in {hours_100k * 60:.1f} min"),
        ("matching: peak traced memory while streaming",
         " / ".join(f"{p / 1e6:.1f} MB @ {n}" for n, p in zip(sizes, peaks, strict=True)),
         "bounded caches fill, then flat: no per-listing growth"),
    ]


# --- the reference-image index at growing sizes (issue 14.3) ------------------------------------------------
def _random_signature(rng, n_keypoints: int = 256):  # noqa: ANN001, ANN202
    """A signature with random hashes, thumbnail and keypoints (no image decoded: this measures the index)."""
    import numpy as np

    from matching.signature import SIGNATURE_VERSION, Hash64, HashSet, ImageSignature, Keypoints

    def hashes() -> HashSet:
        return HashSet(*(Hash64(int(v)) for v in rng.integers(0, 2**64, size=6, dtype=np.uint64)))

    kp = Keypoints(rng.uniform(0, 320, size=(n_keypoints, 2)).astype(np.float32),
                   rng.integers(0, 256, size=(n_keypoints, 32), dtype=np.uint8))
    return ImageSignature(version=SIGNATURE_VERSION, width=1200, height=1200, analysed_size=(320, 320),
                          hashes=hashes(), trimmed=None, content_box=None,
                          thumb=rng.integers(0, 256, size=24 * 24 * 3, dtype=np.uint8).tobytes(), keypoints=kp,
                          keypoints_mirrored=Keypoints(kp.xy[:128], kp.descriptors[:128]))


def _edited(sig, rng):  # noqa: ANN001, ANN202
    """A near copy: a few hash bits and descriptor bits flipped, keypoints jittered, a quarter of them lost."""
    import numpy as np

    from matching.signature import HASH_FIELDS, Hash64, HashSet, Keypoints

    def near(h: Hash64) -> Hash64:
        value = int(h)
        for b in rng.choice(64, size=3, replace=False):
            value ^= 1 << int(b)
        return Hash64(value)

    hashes = HashSet(*(near(getattr(sig.hashes, k)) for k in HASH_FIELDS))
    keep = rng.random(len(sig.keypoints)) > 0.25
    desc = sig.keypoints.descriptors[keep].copy()
    desc[np.arange(len(desc)), rng.integers(0, 32, size=len(desc))] ^= 1
    xy = sig.keypoints.xy[keep] + rng.normal(0, 0.7, size=(int(keep.sum()), 2)).astype(np.float32)
    return ImageSignatureReplace(sig, hashes, Keypoints(xy.astype(np.float32), desc))


def ImageSignatureReplace(sig, hashes, kp):  # noqa: ANN001, ANN201, N802 (a tiny helper kept next to its use)
    from dataclasses import replace

    return replace(sig, hashes=hashes, keypoints=kp, keypoints_mirrored=None)


def index_curve(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), n_queries: int = 300) -> list[tuple[str, str, str]]:
    """Listing images per second against a ReferenceImageIndex of each size: half near copies of a reference
    (found by hashes), a quarter copies whose hashes were lost (found by keypoint votes), a quarter unrelated."""
    import numpy as np

    from matching.image_index import ReferenceImageIndex

    rows = []
    rng = np.random.default_rng(7)
    refs = [_random_signature(rng) for _ in range(max(sizes))]
    for size in sizes:
        index = ReferenceImageIndex()
        start = time.perf_counter()
        for key, sig in enumerate(refs[:size]):
            index.add(key, sig)
        build = time.perf_counter() - start
        qrng = np.random.default_rng(size)
        queries = []
        for i in range(n_queries):
            target = refs[int(qrng.integers(0, size))]
            if i % 4 in (0, 1):
                queries.append(_edited(target, qrng))
            elif i % 4 == 2:
                copy = _edited(target, qrng)
                queries.append(ImageSignatureReplace(copy, _random_signature(qrng).hashes, copy.keypoints))
            else:
                queries.append(_random_signature(qrng))
        index.search(queries[0])  # the sorted vote tables are built outside the clock
        start = time.perf_counter()
        found = sum(bool(index.search(q)) for q in queries)
        rate = n_queries / (time.perf_counter() - start)
        # Baseline side by side: the same index and queries with bucket look-up by binary search only.
        votes = index._keypoints  # noqa: SLF001 (the bench compares the two look-ups of one index)
        votes.CSR_MIN_ENTRIES, kept = 1 << 62, votes._offsets  # noqa: SLF001
        votes._offsets = [None] * len(kept)  # noqa: SLF001
        start = time.perf_counter()
        found_plain = sum(bool(index.search(q)) for q in queries)
        plain_rate = n_queries / (time.perf_counter() - start)
        votes._offsets = kept  # noqa: SLF001
        del votes.CSR_MIN_ENTRIES
        offsets_used = any(o is not None for o in kept)
        hash_ms = _hash_query_ms(refs[:size], qrng)
        rows.append((f"image index: {size:,} references", f"{rate:.0f} images/s",
                     f"{1000 / rate:.1f} ms per listing image ({1000 / plain_rate:.1f} ms with binary-search buckets "
                     f"only{'' if offsets_used else ': the same path, the tables are below CSR_MIN_ENTRIES'}; "
                     f"{found_plain} matched); {found}/{n_queries} matched (expected "
                     f"{3 * n_queries // 4}); build {build:.1f} s; vote tables {index.keypoint_index_bytes() / 1e6:.0f} MB; "
                     f"HashIndex.query {hash_ms:.3f} ms"))
    return rows


def _hash_query_ms(refs: list, rng, n_queries: int = 2000) -> float:  # noqa: ANN001
    """Milliseconds of one bare :meth:`HashIndex.query` (radius 12) over the pHashes of ``refs``: half near a
    stored hash (3 bits flipped), half random."""
    from matching.image_index import HashIndex

    index = HashIndex()
    stored = [int(sig.hashes.phash) for sig in refs]
    for slot, value in enumerate(stored):
        index.add(value, slot)
    index.query(0, 12)  # the tables are built outside the clock
    values = []
    for i in range(n_queries):
        if i % 2:
            values.append(int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2)))
        else:
            v = stored[int(rng.integers(0, len(stored)))]
            for b in rng.choice(64, 3, replace=False):
                v ^= 1 << int(b)
            values.append(v)
    start = time.perf_counter()
    for v in values:
        index.query(v, 12)
    return (time.perf_counter() - start) * 1000 / n_queries


if __name__ == "__main__":
    import sys

    sizes = tuple(int(v) for v in sys.argv[1:]) or (1_000, 10_000, 100_000)
    for row in index_curve(sizes):
        print(" | ".join(row))
