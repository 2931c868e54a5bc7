"""The matching engine: score one listing against every registered brand, with reasons.

:class:`Matcher` is built once per run from the brand profiles. It indexes every mark
(:class:`~matching.marks.MarkIndex`), every reference image hash (:class:`~matching.image_index.HashIndex`)
and keypoint descriptors (:class:`~matching.image_index.KeypointIndex`), so scoring a listing looks up
candidates instead of scanning all brands. New brands and reference images can be added at any time.

Scoring collects evidence per brand, each piece a strength in [0, 1] with a sentence:

* the best mark hit (field weight x edit penalty x context factor),
* the best copied reference image (hash agreement or keypoint verification),
* replica wording, dupe wording ("dupe", "inspired by", "<mark> style"),
* a seller imitating an authorized seller,
* a price far below MSRP (only next to other evidence),

and combines them as a noisy-OR: ``score = 1 - prod(1 - e)``. An authorized seller multiplies the score by
``authorized_factor``; a nominative use with nothing else caps it at ``nominative_cap``. The class follows
from the score and the wording. The same inputs always give the same result.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rapidfuzz.distance import OSA

from matching.config import MatchConfig
from matching.image_index import HashIndex, KeypointIndex
from matching.image_match import compare_hashes, verify_keypoints
from matching.images import HASH_KINDS, decode_orb
from matching.lexicon import Lexicon
from matching.marks import MarkHit, MarkIndex, allowed_edits, terms_of
from matching.model import BrandProfile, ListingInput, MatchResult, ProductRef, ReferenceImage
from matching.normalize import Token, analyse, loose_text
from matching.price import price_ratio
from matching.sellers import GENERIC_SELLER_WORDS, judge_seller, skeleton_words
from matching.wording import find_dupe_wording, find_replica_wording, nominative_phrase, style_after

__all__ = ["Matcher"]

#: Characters of listing text read per field (bounds the work an adversarial listing can cause).
_MAX_FIELD_CHARS = {"title": 500, "brand": 200, "description": 4000, "seller": 200}
#: Listing images looked at.
_MAX_IMAGES = 12
_FIELD_NAMES = {"title": "title", "brand": "brand field", "description": "description", "seller": "seller name"}
_HASH_INDEX_KINDS = ("phash", "dhash")
#: Words of product names too common to tell one brand's context from another's.
_FILLER_WORDS = frozenset({"and", "the", "for", "with", "set", "kit", "pack", "new", "size", "one", "mini"})
_HEX64 = re.compile(r"[0-9a-f]{16}")
HASH_FIELDS = tuple(k + suffix for k in HASH_KINDS for suffix in ("", "_m"))
#: Fewest keypoint votes for a reference to be verified at all.
_MIN_VOTES = 6


@dataclass(slots=True)
class _Brand:
    slot: int
    profile: BrandProfile
    config: MatchConfig
    context: frozenset[str]
    seller_words: frozenset[str]
    mark_keys: frozenset[str]


@dataclass(slots=True)
class _Ref:
    slot: int
    brand: int
    sku: str
    label: str
    ref_id: str
    signature: Mapping[str, Any]


@dataclass(slots=True)
class _ImageHit:
    image_no: int
    ref: _Ref
    strength: float
    method: str
    detail: dict[str, Any]
    reason: str


@dataclass(slots=True)
class _Evidence:
    strengths: dict[str, float] = field(default_factory=dict)
    reasons: list[tuple[float, str]] = field(default_factory=list)

    def add(self, name: str, strength: float, reason: str | None) -> None:
        if strength > self.strengths.get(name, 0.0):
            self.strengths[name] = strength
        if reason:
            self.reasons.append((strength, reason))


def _stem(key: str) -> str:
    if len(key) > 4 and key.endswith("es"):
        return key[:-2]
    if len(key) > 3 and key.endswith("s"):
        return key[:-1]
    return key


def _quote(text: str, limit: int = 60) -> str:
    """Listing text made safe to show inside a reason: control characters dropped, one line, bounded."""
    clean = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    clean = " ".join(clean.split())
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return "'" + clean.replace("'", "’") + "'"


_CHANGE_TEXT = {
    "zero_width": "hidden zero-width characters",
    "compat": "full-width or styled letters",
    "accents": "added accents",
    "separators": "letters split by punctuation",
    "spacing": "spaced-out letters",
    "repeats": "repeated letters",
}


def _valid_signature(sig: Any) -> bool:
    """A signature whose hashes (and trimmed hashes, if any) are 16 hex digits; other fields are checked
    where read."""
    if not isinstance(sig, Mapping):
        return False
    sources = [sig] + ([sig["trim"]] if isinstance(sig.get("trim"), Mapping) else [])
    if sig.get("trim") is not None and len(sources) == 1:
        return False
    return all(isinstance(src.get(k), str) and _HEX64.fullmatch(src[k]) for src in sources for k in HASH_FIELDS)


class Matcher:
    """Scores listings against brands. Build once per run; ``add_brand`` and ``add_reference`` extend it."""

    def __init__(
        self,
        brands: Sequence[BrandProfile] = (),
        *,
        config: MatchConfig | None = None,
        rates: Mapping[str, Decimal] | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.config = config or MatchConfig()
        self.rates: dict[str, Decimal] = {k.upper(): Decimal(v) for k, v in (rates or {"USD": 1}).items()}
        self._lexicon = lexicon or Lexicon()
        self._marks = MarkIndex(self.config, is_ordinary=self._lexicon.is_ordinary)
        self._brands: list[_Brand] = []
        self._refs: list[_Ref] = []
        self._hash_indexes = {kind: HashIndex(max_chunk_flips=2) for kind in _HASH_INDEX_KINDS}
        self._keypoints = KeypointIndex()
        self._seller_words: dict[str, list[int]] = {}
        for brand in brands:
            self.add_brand(brand)

    # --- building ----------------------------------------------------------------------------------
    def add_brand(self, brand: BrandProfile) -> None:
        """Index a brand: its marks, context words, authorized sellers and reference images. Raises
        ``ValueError`` for an unknown threshold override."""
        config = self.config.with_overrides(brand.thresholds)
        slot = len(self._brands)
        mark_keys: set[str] = set()
        for mark in dict.fromkeys(m for m in (brand.name, *brand.marks) if m and m.strip()):
            entry = self._marks.add(slot, mark)
            if entry is not None:
                mark_keys.update(entry.keys)
                mark_keys.update(t.key_l for t in analyse(mark))
        context_text = " ".join([*brand.keywords, brand.category or "", *(p.name for p in brand.products)])
        context = frozenset(
            _stem(t.key_l) for t in analyse(context_text, max_chars=20000)
            if len(t.key_l) >= 3 and t.key_l not in mark_keys and not self._is_filler(t.key_l)
        )
        seller_words = frozenset(
            w for name in brand.authorized_sellers for w in skeleton_words(name)
            if w not in GENERIC_SELLER_WORDS and len(w) >= 2
        )
        self._brands.append(_Brand(slot, brand, config, context, seller_words, frozenset(mark_keys)))
        for word in seller_words:
            self._seller_words.setdefault(word, []).append(slot)
        for product in brand.products:
            for image in product.images:
                self._add_ref(slot, product, image)

    def add_reference(self, brand_id: int | str, product_sku: str, image: ReferenceImage) -> None:
        """Index one more official photo of an already added brand's product (no rebuild)."""
        for brand in self._brands:
            if brand.profile.brand_id == brand_id:
                for product in brand.profile.products:
                    if product.sku == product_sku:
                        self._add_ref(brand.slot, product, image)
                        return
                self._add_ref(brand.slot, ProductRef(sku=product_sku, name=product_sku), image)
                return
        raise KeyError(f"unknown brand {brand_id!r}")

    def _add_ref(self, brand_slot: int, product: ProductRef, image: ReferenceImage) -> None:
        sig = image.signature
        if not _valid_signature(sig):
            return  # a damaged stored signature: the photo is left out rather than failing the run
        ref = _Ref(len(self._refs), brand_slot, product.sku, image.label, image.ref_id, sig)
        self._refs.append(ref)
        for kind, index in self._hash_indexes.items():
            for source in (sig, sig.get("trim") or None):
                if source and isinstance(source.get(kind), str):
                    index.add(int(source[kind], 16), ref.slot)
        _, desc = decode_orb(sig.get("orb"))
        self._keypoints.add(desc, ref.slot)

    @staticmethod
    def _is_filler(key: str) -> bool:
        return key in _FILLER_WORDS

    @property
    def brands(self) -> list[BrandProfile]:
        return [b.profile for b in self._brands]

    # --- scoring -----------------------------------------------------------------------------------
    def score_many(self, listings: Iterable[ListingInput]) -> Iterator[tuple[ListingInput, list[MatchResult]]]:
        """Score listings one at a time as they are read (memory does not grow with their number)."""
        for listing in listings:
            yield listing, self.score(listing)

    def score(self, listing: ListingInput) -> list[MatchResult]:
        """Results for every brand with some evidence in ``listing``, highest score first; [] when none."""
        fields = {
            "title": listing.title or "",
            "brand": listing.brand_text or "",
            "description": listing.description or "",
            "seller": listing.seller or "",
        }
        tokens = {name: analyse(text, max_chars=_MAX_FIELD_CHARS[name]) for name, text in fields.items()}
        hits_by_brand: dict[int, list[tuple[str, MarkHit]]] = {}
        for name, toks in tokens.items():
            if not toks:
                continue
            terms = terms_of(toks, max_words=self._marks.max_words, max_length=self._marks.max_length)
            for hit in self._marks.search(terms):
                hits_by_brand.setdefault(hit.mark.owner, []).append((name, hit))
        listing_keys = {
            _stem(t.key_l) for name in ("title", "brand", "description") for t in tokens[name]
        } | {_stem(p) for name in ("title", "brand", "description") for t in tokens[name] for p in t.pieces_l}
        raw_image_hits = self._image_hits(listing)
        consistent = {h.ref.brand for h in raw_image_hits if self._brands[h.ref.brand].context & listing_keys}
        image_hits = self._exclusive(raw_image_hits, set(hits_by_brand), consistent)
        images_by_brand: dict[int, list[_ImageHit]] = {}
        for hit in image_hits:
            images_by_brand.setdefault(hit.ref.brand, []).append(hit)
        candidates = set(hits_by_brand) | set(images_by_brand) | self._seller_candidates(listing.seller)
        if not candidates:
            return []
        text_loose = loose_text(" ".join([fields["title"][:500], fields["brand"][:200], fields["description"][:4000]]))
        replica = find_replica_wording(text_loose)
        dupe = find_dupe_wording(text_loose)
        results = []
        for slot in sorted(candidates):
            result = self._score_brand(
                self._brands[slot], listing, tokens, hits_by_brand.get(slot, []), images_by_brand.get(slot, []),
                replica, dupe, listing_keys,
            )
            if result is not None:
                results.append(result)
        results.sort(key=lambda r: (-r.score, str(r.brand_id)))
        return results

    @staticmethod
    def _exclusive(hits: list[_ImageHit], marked: set[int], consistent: set[int]) -> list[_ImageHit]:
        """Keep, per listing image, only the hits of one brand: a photo copies one product, and the other
        references it resembles share a shop template with it (or sit beside it in a collage). The brand
        named in the text wins; then one whose product words are in the listing; then the best match
        (strength, colour agreement, hash distance or keypoint count)."""
        def quality(h: _ImageHit) -> tuple[bool, bool, float, float, float, int]:
            closeness = (-sum(h.detail.get("distances", {}).values()) if h.method == "hashes"
                         else h.detail.get("inliers", 0))
            return (h.ref.brand in marked, h.ref.brand in consistent, h.strength,
                    -h.detail.get("color_mismatch", 1.0), closeness, -h.ref.slot)

        by_image: dict[int, list[_ImageHit]] = {}
        for hit in hits:
            by_image.setdefault(hit.image_no, []).append(hit)
        kept: list[_ImageHit] = []
        for image_hits in by_image.values():
            winner = max(image_hits, key=quality).ref.brand
            kept.extend(h for h in image_hits if h.ref.brand == winner)
        return kept

    def _seller_candidates(self, seller: str | None) -> set[int]:
        if not seller or not self._seller_words:
            return set()
        out: set[int] = set()
        for word in skeleton_words(seller[:200]):
            out.update(self._seller_words.get(word, ()))
        return out

    # --- images ------------------------------------------------------------------------------------
    def _image_hits(self, listing: ListingInput) -> list[_ImageHit]:
        if not self._refs:
            return []
        cfg = self.config
        hits: list[_ImageHit] = []
        for image_no, sig in enumerate(listing.images[:_MAX_IMAGES], start=1):
            if not _valid_signature(sig):
                continue
            candidates: set[int] = set()
            for kind, index in self._hash_indexes.items():
                for source in (sig, sig.get("trim") or None):
                    if not source:
                        continue
                    for suffix in ("", "_m"):
                        value = source.get(kind + suffix)
                        if isinstance(value, str):
                            candidates.update(index.query(int(value, 16), cfg.hash_index_radius))
            matched: set[int] = set()
            for ref_slot in sorted(candidates):
                ref = self._refs[ref_slot]
                comparison = compare_hashes(sig, ref.signature, self._brands[ref.brand].config)
                if comparison is None:
                    continue
                matched.add(ref_slot)
                strength = 1.0 if comparison.agreeing == 3 else 0.85
                variant = ", ".join(
                    x for x, on in (("mirrored", comparison.mirrored), ("padding removed", comparison.trimmed)) if on
                )
                dist = comparison.distances
                reason = (
                    f"image {image_no} matches {ref.label} (pHash {dist['phash']} of 64, dHash {dist['dhash']}, "
                    f"wHash {dist['whash']}{', ' + variant if variant else ''})"
                )
                hits.append(_ImageHit(image_no, ref, strength, "hashes", {
                    "distances": dist, "agreeing": comparison.agreeing, "mirrored": comparison.mirrored,
                    "trimmed": comparison.trimmed, "color_mismatch": round(comparison.color_mismatch, 3),
                }, reason))
            for mirrored, key in ((False, "orb"), (True, "orb_m")):
                self._keypoint_hits(image_no, sig, key, mirrored, matched, hits)
        return hits

    def _keypoint_hits(self, image_no: int, sig: Mapping[str, Any], key: str, mirrored: bool, matched: set[int],
                       hits: list[_ImageHit]) -> None:
        """Vote with the listing image's keypoints (or its mirror's), verify the best voted references."""
        cfg = self.config
        xy, desc = decode_orb(sig.get(key))
        if len(desc) == 0:
            return
        votes = self._keypoints.votes(desc)
        ranked = [
            (slot, n) for slot, n in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
            if n >= _MIN_VOTES and slot not in matched
        ][: cfg.orb_candidates]
        for ref_slot, n_votes in ranked:
            ref = self._refs[ref_slot]
            ref_xy, ref_desc = decode_orb(ref.signature.get("orb"))
            check = verify_keypoints(sig, xy, desc, ref.signature, ref_xy, ref_desc,
                                     self._brands[ref.brand].config, mirrored=mirrored)
            if check is None:
                continue
            matched.add(ref_slot)
            strength = min(1.0, 0.7 + 0.3 * check.inliers / (3 * cfg.orb_min_inliers))
            geometry = []
            if abs(check.rotation) >= 3:
                geometry.append(f"rotated {check.rotation:.0f}°")
            if check.scale < 0.8 or check.scale > 1.25:
                geometry.append(f"scaled {check.scale:.2f}x")
            if mirrored:
                geometry.insert(0, "mirrored")
            reason = (
                f"image {image_no} contains {ref.label} ({check.inliers} matching keypoints"
                f"{', ' + ', '.join(geometry) if geometry else ''})"
            )
            hits.append(_ImageHit(image_no, ref, strength, "keypoints", {
                "inliers": check.inliers, "matches": check.matches, "votes": n_votes,
                "rotation": round(check.rotation, 1), "scale": round(check.scale, 3),
                "color_mismatch": round(check.color_mismatch, 3), "mirrored": mirrored,
                "region": [round(v, 3) for v in check.region],
            }, reason))

    # --- one brand ---------------------------------------------------------------------------------
    def _score_brand(
        self,
        brand: _Brand,
        listing: ListingInput,
        tokens: Mapping[str, list[Token]],
        hits: list[tuple[str, MarkHit]],
        image_hits: list[_ImageHit],
        replica: list,
        dupe: list,
        listing_keys: set[str],
    ) -> MatchResult | None:
        cfg = brand.config
        profile = brand.profile
        evidence = _Evidence()
        signals: dict[str, Any] = {}
        has_context = bool(brand.context & listing_keys)
        signals["context"] = has_context

        # Seller first: an authorized seller's own mentions of the mark are expected.
        seller_verdict = judge_seller(listing.seller, profile.authorized_sellers, similarity=cfg.seller_similarity)
        signals["seller"] = {"status": seller_verdict.status, "authorized_name": seller_verdict.authorized_name,
                             "how": seller_verdict.how or None}

        # Marks.
        best_mark: tuple[float, str, MarkHit] | None = None
        mark_signals = []
        nominative: str | None = None
        styled: str | None = None
        for field_name, hit in hits:
            if field_name == "seller" and seller_verdict.status == "authorized":
                continue
            if hit.edits > max(allowed_edits(hit.mark.length, cfg), 1 if hit.mark.allowed == 0 else 0):
                continue
            strength = cfg.fuzzy_hit_strength ** hit.edits
            weak_join = (
                hit.term.kind == "joined" and hit.mark.words == 1
                and all(len(t.key_l) >= 3 for t in tokens[field_name][hit.term.start : hit.term.end])
            )
            if weak_join:
                strength *= cfg.joined_words_strength
            strength *= {
                "title": cfg.field_weight_title, "brand": cfg.field_weight_brand,
                "description": cfg.field_weight_description, "seller": cfg.field_weight_seller,
            }[field_name]
            if not has_context and field_name != "seller":
                strength *= cfg.no_context_factor if hit.mark.ordinary else cfg.coined_no_context_factor
            field_tokens = tokens[field_name]
            before = loose_text(" ".join(t.raw for t in field_tokens[max(0, hit.term.start - 4) : hit.term.start]))
            after_parts = [t.raw for t in field_tokens[hit.term.end : hit.term.end + 2]]
            if hit.term.kind == "piece":  # "Raello-like": what follows the mark inside its own token
                pieces = field_tokens[hit.term.start].pieces_l
                if hit.term.key_l in pieces:
                    after_parts = [*pieces[pieces.index(hit.term.key_l) + 1 :], *after_parts]
            after = loose_text(" ".join(after_parts))
            hit_nominative = nominative_phrase(before) if field_name != "seller" else None
            hit_style = style_after(after) if field_name != "seller" else None
            mark_signals.append({
                "field": field_name, "mark": hit.mark.text, "text": _quote(self._span(field_tokens, hit))[1:-1],
                "edits": hit.edits, "kind": hit.term.kind, "changes": sorted(hit.term.changes),
                "ordinary_word": hit.mark.ordinary, "nominative": hit_nominative, "style": hit_style,
                "strength": round(strength, 4),
            })
            if best_mark is None or strength > best_mark[0]:
                best_mark = (strength, field_name, hit)
                nominative, styled = hit_nominative, hit_style
        signals["marks"] = mark_signals[:10]
        if best_mark is not None:
            strength, field_name, hit = best_mark
            evidence.add("mark", strength, self._mark_reason(field_name, hit, tokens[field_name], has_context,
                                                            strength, cfg))

        # Images: the best hit per listing image, the best overall as evidence.
        image_signals = []
        best_image: _ImageHit | None = None
        for ih in sorted(image_hits, key=lambda h: (-h.strength, h.image_no, h.ref.slot)):
            image_signals.append({"image": ih.image_no, "ref": ih.ref.label, "ref_id": ih.ref.ref_id,
                                  "sku": ih.ref.sku, "method": ih.method, "strength": round(ih.strength, 4),
                                  **ih.detail})
            if best_image is None:
                best_image = ih
        signals["images"] = image_signals[:10]
        if best_image is not None:
            factor, note = self._image_factor(brand, best_image, best_mark is not None, listing, tokens,
                                              listing_keys, has_context)
            evidence.add("image", cfg.image_weight * best_image.strength * factor,
                         best_image.reason + (f"; {note}" if note else ""))

        brand_evidence = "mark" in evidence.strengths or "image" in evidence.strengths
        # Wording and price speak about this brand only when the listing clearly points at it.
        strong_evidence = max(evidence.strengths.get("mark", 0.0), evidence.strengths.get("image", 0.0)) >= 0.5

        # Seller imitation.
        if seller_verdict.status == "imitation":
            evidence.add("seller", cfg.seller_impersonation_weight * (1.0 if brand_evidence else cfg.seller_alone_factor),
                         f"seller {_quote(listing.seller or '')} imitates authorized seller "
                         f"{_quote(seller_verdict.authorized_name or '')} ({seller_verdict.how})")

        # Wording (only where the listing already points at this brand).
        signals["wording"] = {"replica": [h.text for h in replica], "dupe": [h.text for h in dupe],
                              "nominative": nominative, "style": styled}
        if strong_evidence and replica:
            evidence.add("replica", cfg.replica_weight,
                         f"replica wording: {', '.join(_quote(h.text, 30) for h in replica[:3])}")
        is_dupe = strong_evidence and (bool(dupe) or bool(styled))
        if is_dupe:
            words = [h.text for h in dupe] + ([f"{best_mark[2].mark.text} {styled}"] if styled and best_mark else [])
            evidence.add("dupe", cfg.dupe_weight, f"dupe wording: {', '.join(_quote(w, 30) for w in words[:3])}")

        # Price, against the product the listing most likely is.
        product = self._product_for(profile, best_image, tokens, allow_default=has_context)
        signals["product"] = product.sku if product else None
        if product is not None and product.msrp is not None:
            ratio = price_ratio(listing.price, listing.currency, product.msrp, product.currency, rates=self.rates)
            if ratio is not None:
                signals["price"] = {"ratio": round(ratio, 4), "msrp": str(product.msrp),
                                    "msrp_currency": product.currency}
                price_strength = 0.0
                if ratio < cfg.price_ratio_suspicious:
                    span = max(1e-9, cfg.price_ratio_suspicious - cfg.price_ratio_floor)
                    price_strength = cfg.price_weight * min(1.0, (cfg.price_ratio_suspicious - ratio) / span)
                if strong_evidence or seller_verdict.status == "imitation":
                    evidence.add("price", price_strength,
                                 f"price {ratio * 100:.0f}% of MSRP ({product.msrp} {product.currency or ''}".rstrip()
                                 + f" for {product.sku})")

        if not evidence.strengths and seller_verdict.status != "authorized":
            return None
        if seller_verdict.status == "authorized" and not brand_evidence:
            return None

        remaining = 1.0
        for value in evidence.strengths.values():
            remaining *= 1.0 - max(0.0, min(1.0, value))
        score = 1.0 - remaining
        reasons = [r for _, r in sorted(evidence.reasons, key=lambda sr: -sr[0])]

        accessory = (
            nominative is not None and not is_dupe and not replica and seller_verdict.status != "imitation"
        )
        if accessory:
            score = min(score, cfg.nominative_cap)
            reasons.append(f"names the brand to describe its own product ({_quote(nominative or '', 30)} "
                           f"{best_mark[2].mark.text if best_mark else profile.name})")
        if seller_verdict.status == "authorized":
            score *= cfg.authorized_factor
            reasons.insert(0, f"seller {_quote(listing.seller or '')} is an authorized seller of {profile.name}")

        score = round(max(0.0, min(1.0, score)), 4)
        if seller_verdict.status == "authorized":
            klass = "clean"
        elif score >= cfg.infringing_threshold:
            klass = "lookalike" if is_dupe and not replica else "counterfeit"
        elif accessory:
            klass = "accessory"
        else:
            klass = "clean"
        if score < cfg.report_threshold and seller_verdict.status != "authorized":
            return None
        signals["evidence"] = {k: round(v, 4) for k, v in sorted(evidence.strengths.items())}
        return MatchResult(
            brand_id=profile.brand_id,
            product_sku=product.sku if product else None,
            score=score,
            klass=klass,
            signals=signals,
            reasons=tuple(reasons),
        )

    def _image_factor(self, brand: _Brand, hit: _ImageHit, has_mark: bool, listing: ListingInput,
                      tokens: Mapping[str, list[Token]], listing_keys: set[str], has_context: bool
                      ) -> tuple[float, str]:
        """How much a copied photo counts when the text does not name the brand (see config)."""
        if has_mark:
            return 1.0, ""
        cfg = brand.config
        factor, notes = 1.0, []
        if tokens["brand"] and (listing.brand_text or "").strip() and not self._resembles_mark(brand, tokens["brand"]):
            factor *= cfg.other_brand_image_factor
            notes.append(f"but the listing names brand {_quote(listing.brand_text or '', 30)}")
        product = next((p for p in brand.profile.products if p.sku == hit.ref.sku), None)
        product_words = {
            _stem(t.key_l) for t in analyse(product.name if product else "")
            if len(t.key_l) >= 3 and t.key_l not in brand.mark_keys
        }
        if not has_context and not (product_words & listing_keys):
            factor *= cfg.unrelated_product_image_factor
            notes.append("and none of the product's words")
        return factor, " ".join(notes)

    @staticmethod
    def _resembles_mark(brand: _Brand, tokens: Sequence[Token]) -> bool:
        """Whether a text (a listing's brand field) is one of the brand's marks misspelt: within one edit of a
        mark of up to ``medium_mark_length`` letters, or ``long_mark_edits`` of a longer one. Then it names
        this brand rather than another one."""
        key = "".join(t.key_l for t in tokens)
        cfg = brand.config
        for mark in brand.mark_keys:
            if len(mark) < 3:
                continue
            limit = max(1, allowed_edits(len(mark), cfg))
            if OSA.distance(key, mark, score_cutoff=limit) <= limit:
                return True
        return False

    @staticmethod
    def _span(tokens: Sequence[Token], hit: MarkHit) -> str:
        return " ".join(t.raw for t in tokens[hit.term.start : hit.term.end])

    def _mark_reason(self, field_name: str, hit: MarkHit, tokens: Sequence[Token], has_context: bool,
                     strength: float, cfg: MatchConfig) -> str:
        notes: list[str] = []
        subs = [(a, b) for a, b in hit.term.substitutions if a != b]
        if "confusables_I" in hit.term.changes and hit.term.key_l != hit.term.key_i:
            subs.append(("I", "l"))
        confusable = [f"{a}→{b}" for a, b in subs if not a.isascii() or a == "I"]
        leet = [f"{a}→{b}" for a, b in subs if a.isascii() and a != "I"]
        if confusable:
            notes.append("look-alike letters " + ", ".join(dict.fromkeys(confusable[:4])))
        if leet and "leetspeak" in hit.term.changes:
            notes.append("leetspeak " + ", ".join(dict.fromkeys(leet[:4])))
        for change in sorted(hit.term.changes):
            if change in _CHANGE_TEXT:
                notes.append(_CHANGE_TEXT[change])
        if hit.term.kind == "joined" and hit.mark.words == 1:
            notes.append("words run together")
        if hit.edits:
            notes.append(f"{hit.edits} letter{'s' if hit.edits > 1 else ''} off")
        if hit.mark.ordinary:
            notes.append("ordinary word, brand's product words present" if has_context
                         else "ordinary word without the brand's product words")
        span = self._span(tokens, hit)
        detail = f" ({'; '.join(notes)})" if notes else ""
        return f"{_FIELD_NAMES[field_name]} {_quote(span)} matches mark {hit.mark.text}{detail}"

    def _product_for(self, profile: BrandProfile, best_image: _ImageHit | None,
                     tokens: Mapping[str, list[Token]], *, allow_default: bool) -> ProductRef | None:
        """The product the listing most likely offers: the one whose photo it copies, else the one sharing
        most words with it, else (``allow_default``, when the brand's context words are present) the
        brand's only product."""
        if not profile.products:
            return None
        if best_image is not None:
            for product in profile.products:
                if product.sku == best_image.ref.sku:
                    return product
        words = {_stem(t.key_l) for name in ("title", "description") for t in tokens[name]}
        best: tuple[int, int, ProductRef] | None = None
        for idx, product in enumerate(profile.products):
            product_words = {_stem(t.key_l) for t in analyse(product.name)} | {_stem(product.sku.casefold())}
            overlap = len(product_words & words)
            if overlap and (best is None or overlap > best[0]):
                best = (overlap, -idx, product)
        if best is not None:
            return best[2]
        if allow_default and len(profile.products) == 1:
            return profile.products[0]
        return None

