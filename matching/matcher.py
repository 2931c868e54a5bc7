"""The matching engine: score one listing against every registered brand, as evidence.

:class:`Matcher` is built once per run from the brand profiles. It indexes every mark
(:class:`~matching.marks.MarkIndex`) and every official photo (:class:`~matching.signals.image.ReferencePhotos`),
so scoring a listing looks up candidate brands instead of scanning all of them. Brands and photos can be added
at any time.

For each candidate brand the signals of :mod:`matching.signals` each return :class:`~matching.evidence.Evidence`;
:func:`~matching.combine.combine` turns the evidence into the score and :func:`~matching.combine.classify` into
the class. The same inputs always give the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from matching.combine import classify, combine
from matching.config import MatchConfig
from matching.evidence import LIMITS, Evidence, reasons_of
from matching.lexicon import Lexicon, everyday_lexicon
from matching.marks import MarkHit, MarkIndex, terms_of
from matching.model import BrandProfile, ListingInput, MatchResult, ProductRef, ReferenceImage
from matching.normalize import analyse
from matching.sellers import GENERIC_SELLER_WORDS, SellerVerdict, judge_seller, skeleton_words
from matching.signals.base import BrandView, ListingView, stem, view_of
from matching.signals.commerce import authorized_evidence, price_evidence, seller_evidence
from matching.signals.image import (
    ImageHit,
    ReferencePhotos,
    another_name,
    exclusive,
    image_evidence,
    renamed,
)
from matching.signals.text import (
    FILLER_WORDS,
    context_evidence,
    has_context,
    mark_evidence,
    other_goods_evidence,
    other_maker_evidence,
    photo_text_evidence,
    product_cues,
    product_evidence,
    product_words,
    registered_maker_evidence,
)
from matching.signals.wording import (
    dupe_evidence,
    nominative_evidence,
    replica_evidence,
    resale_evidence,
    tied_dupe_wording,
)
from matching.wording import WordingHit, find_dupe_wording, find_replica_wording, find_resale_wording

__all__ = ["Matcher"]



@dataclass(frozen=True, slots=True)
class _Wording:
    """Wording found once per listing (it does not depend on the brand)."""

    replica: list[WordingHit]
    dupe: list[WordingHit]
    resale: list[WordingHit]
    #: Brands named outright in the title or brand field (see :func:`_firm`).
    firm: frozenset[int]
    #: Listing photo -> the one brand whose mark it shows, for photos that copy no official photo.
    photo_only: Mapping[int, int]


def _firm(field: str, hit: MarkHit) -> bool:
    """A mark named outright: in the title or brand field, a coined mark, as a word of its own (exact or within
    its allowed edits; the caller also rules out everyday words)."""
    return field in ("title", "brand") and not hit.mark.ordinary and hit.term.kind in ("token", "piece", "spaced")


class Matcher:
    """Scores listings against brands. Build once per run; ``add_brand`` and ``add_reference`` extend it.

    ``lexicon`` decides which marks are ordinary words (default: English); ``everyday`` decides which listing
    words are everyday words for weak mark hits (default: :func:`matching.lexicon.everyday_lexicon`, loaded on
    first need)."""

    def __init__(
        self,
        brands: Sequence[BrandProfile] = (),
        *,
        config: MatchConfig | None = None,
        rates: Mapping[str, Decimal] | None = None,
        lexicon: Lexicon | None = None,
        everyday: Callable[[str], bool] | None = None,
        attested: Callable[[str], bool] | None = None,
    ) -> None:
        self.config = config or MatchConfig()
        self.rates: dict[str, Decimal] = {k.upper(): Decimal(v) for k, v in (rates or {"USD": 1}).items()}
        self._lexicon = lexicon or Lexicon()
        self._everyday = everyday or (lambda word: everyday_lexicon().is_ordinary(word))
        self._attested = attested or (lambda word: everyday_lexicon().is_attested(word))
        self._marks = MarkIndex(self.config, is_ordinary=self._lexicon.is_ordinary)
        self._brands: list[BrandView] = []
        self._photos = ReferencePhotos(self.config.image)
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
        entries = []
        for mark in dict.fromkeys(m for m in (brand.name, *brand.marks) if m and m.strip()):
            entry = self._marks.add(slot, mark)
            if entry is not None:
                entries.append(entry)
                mark_keys.update(entry.keys)
                mark_keys.update(t.key_l for t in analyse(mark))
        marks = frozenset(mark_keys)
        context_text = " ".join([*brand.keywords, brand.category or "", *(p.name for p in brand.products)])
        context = frozenset(  # words in the "i" reading: "Insulated", not the mark reading "lnsulated"
            stem(t.key_i) for t in analyse(context_text, max_chars=20000)
            if len(t.key_i) >= 3 and t.key_i not in marks and t.key_l not in marks and t.key_i not in FILLER_WORDS
        )
        seller_words = frozenset(
            w for name in brand.authorized_sellers for w in skeleton_words(name)
            if w not in GENERIC_SELLER_WORDS and len(w) >= 2
        )
        products = {p.sku: product_words(p.name, marks) for p in brand.products}
        cues = product_cues(brand, entries, self._everyday)
        self._brands.append(BrandView(slot, brand, config, context, seller_words, marks, products, cues))
        for word in seller_words:
            self._seller_words.setdefault(word, []).append(slot)
        for product in brand.products:
            for image in product.images:
                self._photos.add(brand=slot, sku=product.sku, label=image.label, ref_id=image.ref_id,
                                 signature=image.signature)

    def add_reference(self, brand_id: int | str, product_sku: str, image: ReferenceImage) -> None:
        """Index one more official photo of an already added brand's product (no rebuild); ``KeyError`` for
        an unknown brand. A damaged signature is left out."""
        for brand in self._brands:
            if brand.profile.brand_id == brand_id:
                self._photos.add(brand=brand.slot, sku=product_sku, label=image.label, ref_id=image.ref_id,
                                 signature=image.signature)
                return
        raise KeyError(f"unknown brand {brand_id!r}")

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
        view = view_of(listing, max_images=self.config.image.max_listing_images)
        marks = self._mark_hits(view)
        raw_images = [self._unless_renamed(h, listing, view) for h in self._photos.search(listing.images)]
        consistent = {h.ref.brand for h in raw_images if has_context(view, self._brands[h.ref.brand])}
        images: dict[int, list[ImageHit]] = {}
        for hit in exclusive(raw_images, named=set(marks), consistent=consistent):
            images.setdefault(hit.ref.brand, []).append(hit)
        photo_brands = self._photo_text_candidates(view)
        candidates = set(marks) | set(images) | self._seller_candidates(view.fields["seller"])
        candidates |= {slot for brands in photo_brands.values() for slot in brands}
        if not candidates:
            return []
        copied = {h.image_no for hits in images.values() for h in hits if h.copied}
        wording = _Wording(
            find_replica_wording(view.loose), find_dupe_wording(view.loose), find_resale_wording(view.loose),
            firm=frozenset(slot for slot, hits in marks.items()
                           if any(_firm(f, h) and not (h.edits and self._everyday(h.term.key_l)) for f, h in hits)),
            photo_only={n: next(iter(b)) for n, b in photo_brands.items() if len(b) == 1 and n not in copied},
        )
        results = []
        for slot in sorted(candidates):
            result = self._judge(self._brands[slot], view, marks.get(slot, []), images.get(slot, []), wording)
            if result is not None:
                results.append(result)
        results.sort(key=lambda r: (-r.score, str(r.brand_id)))
        return results

    def _mark_hits(self, view: ListingView) -> dict[int, list[tuple[str, MarkHit]]]:
        out: dict[int, list[tuple[str, MarkHit]]] = {}
        for field, toks in view.tokens.items():
            if toks:
                terms = terms_of(toks, max_words=self._marks.max_words, max_length=self._marks.max_length)
                for hit in self._marks.search(terms):
                    out.setdefault(hit.mark.owner, []).append((field, hit))
        return out

    def _seller_candidates(self, seller: str) -> set[int]:
        out: set[int] = set()
        if seller and self._seller_words:
            for word in skeleton_words(seller):
                out.update(self._seller_words.get(word, ()))
        return out

    def _unless_renamed(self, hit: ImageHit, listing: ListingInput, view: ListingView) -> ImageHit:
        """A copy whose copied part shows another maker's name instead of any of the brand's marks becomes a
        look-alike (:func:`matching.signals.image.another_name`)."""
        if not hit.matched:
            return hit
        brand = self._brands[hit.ref.brand]
        name = another_name(hit, listing.images[hit.image_no - 1], marks=brand.mark_keys,
                            own_words=view.keys | {stem(k) for k in view.keys}, is_everyday=self._everyday)
        return hit if name is None else renamed(hit, name)

    def _photo_text_candidates(self, view: ListingView) -> dict[int, set[int]]:
        """Per listing photo (1-based), the brands whose mark is among the words read in it (mark index search;
        the signal then checks the edit rule). Coined marks first: an ordinary-word mark (read exactly only) names
        a brand only in a photo that shows no coined mark, where the word may just describe the product."""
        out: dict[int, set[int]] = {}
        for image_no, words in enumerate(view.photo_words, start=1):
            if words:
                tokens = analyse(" ".join(words), max_chars=2000)
                hits = [h for h in self._marks.search(terms_of(tokens, max_words=2, max_length=40))
                        if h.mark.length >= 4]
                brands = ({h.mark.owner for h in hits if not h.mark.ordinary}
                          or {h.mark.owner for h in hits if h.mark.ordinary and h.edits == 0})
                if brands:
                    out[image_no] = brands
        return out

    # --- one brand ---------------------------------------------------------------------------------
    def _judge(self, brand: BrandView, view: ListingView, marks: list[tuple[str, MarkHit]],
               images: list[ImageHit], wording: _Wording) -> MatchResult | None:
        """Gather the evidence for one brand, combine and classify it; None when there is nothing to say."""
        verdict = judge_seller(view.listing.seller, brand.profile.authorized_sellers,
                               similarity=brand.config.seller_similarity)
        evidence, product = self._gather(brand, view, marks, images, wording, verdict)
        identifying = any(e.signal in ("mark", "image", "photo_text") for e in evidence)
        if verdict.status == "authorized" and not identifying:
            return None
        if not any(e.strength > 0 for e in evidence) and verdict.status != "authorized":
            return None
        cfg = brand.config
        score = combine(evidence, cfg)
        if score < cfg.report_threshold and verdict.status != "authorized":
            return None
        ordered = _ordered(evidence)
        return MatchResult(
            brand_id=brand.profile.brand_id,
            product_sku=product.sku if product else None,
            score=score,
            klass=classify(evidence, score, cfg),
            reasons=reasons_of(ordered),
            evidence=ordered,
        )

    def _gather(self, brand: BrandView, view: ListingView, marks: list[tuple[str, MarkHit]],
                images: list[ImageHit], wording: _Wording, verdict: SellerVerdict
                ) -> tuple[list[Evidence], ProductRef | None]:
        """Every signal's evidence for this brand, and the product the listing most likely offers."""
        context = context_evidence(view, brand)
        shown = product_evidence(view, brand)
        found = mark_evidence(view, brand, hits=marks, has_context=context is not None,
                              seller_authorized=verdict.status == "authorized", is_everyday=self._everyday,
                              has_product=shown is not None)
        mark = next((e for e in found if e.signal == "mark"), None)
        # Firm: not weak, not an ordinary word without the brand's product, not two words read as a one-word mark.
        firm_mark = mark is not None and not mark.details.get("weak") and (
            shown is not None or not mark.details.get("ordinary_word")) and not (
            mark.details.get("kind") == "joined" and " " not in str(mark.details.get("mark", "")))
        image = image_evidence(view, brand, hits=images, has_mark=firm_mark, has_context=context is not None)
        photo_text = photo_text_evidence(
            view, brand, images=frozenset(n for n, slot in wording.photo_only.items() if slot == brand.slot),
            has_context=context is not None, has_product=shown is not None)
        identifying = [e for e in (mark, image, photo_text) if e is not None]
        strong = max((e.strength for e in identifying), default=0.0) >= brand.config.strong_evidence
        seller = seller_evidence(view, brand, verdict=verdict, brand_evidence=bool(identifying))
        replica = replica_evidence(brand, replica=wording.replica, strong=strong)
        dupe = dupe_evidence(brand, dupe=tied_dupe_wording(view, brand, wording.dupe) if wording.dupe else [],
                             mark=mark, strong=strong)
        copy_talk = replica is not None or dupe is not None
        # An ordinary word in its ordinary sense ("for full lips") names no brand: no accessory of it.
        names_brand = mark is not None and (shown is not None or not mark.details.get("ordinary_word"))
        nominative = nominative_evidence(brand, mark=mark if names_brand else None,
                                         blocked=copy_talk or seller is not None)
        resale = resale_evidence(brand, resale=wording.resale, points_at_brand=strong,
                                 blocked=copy_talk or nominative is not None)
        others = [self._brands[s].profile.name for s in sorted(wording.firm - {brand.slot})]
        other = None if firm_mark else (registered_maker_evidence(brand, named=others)
                                        or other_maker_evidence(view, brand))
        product = _product_for(brand, view, image, allow_default=context is not None)
        price = price_evidence(view, brand, product=product, rates=self.rates,
                               counts=strong or verdict.status == "imitation")
        authorized = authorized_evidence(view, brand, verdict=verdict)
        elsewhere = other_goods_evidence(brand, mark=mark, has_context=context is not None, attested=self._attested)
        evidence = [*found, image, photo_text, seller, replica, dupe, nominative, resale, other, price, authorized,
                    context, shown, elsewhere]
        return [e for e in evidence if e is not None], product


def _ordered(evidence: Sequence[Evidence]) -> tuple[Evidence, ...]:
    """An authorized seller first (it decides), then the findings strongest first, then the other limits."""
    def key(e: Evidence) -> tuple[int, float]:
        if e.signal == "authorized_seller":
            return (0, 0.0)
        return (2, 0.0) if e.role == LIMITS or e.strength == 0 else (1, -e.strength)
    return tuple(sorted(evidence, key=key))


def _product_for(brand: BrandView, view: ListingView, image: Evidence | None, *, allow_default: bool
                 ) -> ProductRef | None:
    """The product the listing most likely offers: the one whose photo it copies, else the one sharing most
    words with it, else (``allow_default``, when the brand's context words are present) the brand's only
    product."""
    products = brand.profile.products
    if not products:
        return None
    if image is not None:
        sku = image.details.get("sku")
        for product in products:
            if product.sku == sku:
                return product
    words = {stem(t.key_l) for name in ("title", "description") for t in view.tokens[name]}
    best: tuple[int, int, ProductRef] | None = None
    for idx, product in enumerate(products):
        names = {stem(t.key_l) for t in analyse(product.name)} | {stem(product.sku.casefold())}
        overlap = len(names & words)
        if overlap and (best is None or overlap > best[0]):
            best = (overlap, -idx, product)
    if best is not None:
        return best[2]
    return products[0] if allow_default and len(products) == 1 else None
