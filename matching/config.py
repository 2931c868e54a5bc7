"""Every threshold and weight of the matching engine, in one frozen, documented object.

Defaults were set on the ``dev`` split of the demo world (``lookalike eval``) and on general reasoning
stated in each field's docstring, never on one brand. A brand's registry entry may override any field
(``thresholds:``), which :meth:`MatchConfig.with_overrides` applies, except the nested image-comparison
thresholds (:class:`ImageMatchConfig`, ``MatchConfig.image``): one listing photo is compared once with every
brand's photos, so those are global to a matcher.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from matching.networks.config import NetworkConfig

__all__ = ["DomainConfig", "ImageMatchConfig", "MatchConfig", "NetworkConfig"]


@dataclass(frozen=True, slots=True)
class ImageMatchConfig:
    """Thresholds, scores and caps of comparing listing photos with official photos
    (:func:`matching.image_match.compare_images` and the reference index). Distances are bits of a 64-bit hash
    (or of a 256-bit ORB descriptor where said); shares are 0-1; pixels are analysed-image pixels (shorter side
    320). Nested in :class:`MatchConfig` as ``image``; global to a matcher (a listing photo is compared once with
    every brand's photos), so a brand cannot override them."""

    hash_max_distance: int = 10
    """Largest Hamming distance at which one perceptual hash counts as agreeing."""

    hash_min_agreeing: int = 2
    """How many of pHash, dHash and wHash must agree on one variant pair to propose a whole-image match."""

    hash_index_radius: int = 12
    """Search radius of the reference-hash index (complete up to 11 bits)."""

    same_photo_distance: int = 6
    """Largest summed distance of the three hashes (of 192) for ``same_photo`` rather than ``edited_copy``."""

    guided_radius: float = 6.0
    """How far (pixels) from where the transform puts a reference keypoint a listing keypoint may be."""

    descriptor_distance: int = 64
    """Largest Hamming distance (of 256) of two ORB descriptors that count as the same feature."""

    min_coverage: float = 0.25
    """Smallest guided coverage (share of the reference keypoints inside the matched part that are found
    again) that confirms a hash match. Copies keep 0.4-0.9; template look-alikes reach 0.05-0.2."""

    min_inliers: int = 16
    """Fewest RANSAC inliers for a keypoint match. Unrelated images reach 6-8 by chance."""

    min_inlier_ratio: float = 0.25
    """Smallest share of the ratio-test matches that must be inliers."""

    min_spread: float = 0.06
    """Smallest area of the inliers' bounding box, as a share of the box of the reference's own keypoints in
    the part the listing shows (waived from three times ``min_inliers``). Chance inliers cluster."""

    color_distance: float = 25.0
    """Euclidean RGB distance (0-441) above which a sampled point's colour counts as changed."""

    color_max_changed: float = 0.25
    """Share of changed sample points above which a copy is reported ``recoloured`` (and above which a small
    collage cell, too small for guided coverage, is not confirmed)."""

    recolour_min_span: float = 0.4
    """Smallest share of the listing image's width and of its height that the matched part must span for a
    colour difference to be named as the edit ``recoloured`` when keypoints confirmed the copy: a smaller
    part covers too few of the 24x24 thumbnail's cells to tell a recolouring from averaging."""

    recolour_doubt: float = 0.4
    """Share of the reference's details (keypoints) whose colour changed above which a hash-stage copy is in
    doubt: it may be another colouring of the same packshot template (another maker's product). Such a copy
    counts only with ``recoloured_min_coverage`` or with a label word of the reference read in the listing
    photo. A real recolouring keeps the lightness channel the signatures are computed on, so its details stay
    in place; a template look-alike shares the outline."""

    recoloured_min_coverage: float = 0.5
    """Guided coverage that confirms a copy in doubt over its colours (see ``recolour_doubt``)."""

    max_keypoint_checks: int = 8
    """Most references verified by RANSAC per listing image (in the index: the best voted ones)."""

    min_votes: int = 6
    """Fewest keypoint votes (shared LSH keys) that make a reference worth verifying by RANSAC when its hashes
    did not propose it: unrelated images collect a few by chance."""

    voting_descriptors: int = 96
    """Descriptors of each reference that vote in the index (its strongest): enough to find an edited copy, and
    the vote tables stay a fixed small size per reference (4 tables x 8 bytes x 96 = 3 KB)."""

    ratio_test: float = 0.8
    """Lowe's ratio test of the keypoint stage: a reference keypoint's nearest listing descriptor is a
    tentative match only when its distance is below this share of the second nearest's (a repeated texture
    has many near twins and proves nothing) and at most ``ratio_max_distance``."""

    ratio_max_distance: int = 64
    """Largest Hamming distance (of 256) of a tentative match that passed the ratio test."""

    lone_match_distance: int = 40
    """Largest Hamming distance of a tentative match for a reference keypoint with a single candidate (no
    second nearest to test the ratio against): stricter, since nothing shows it is distinctive."""

    ransac_reprojection: float = 6.0
    """RANSAC's reprojection threshold: largest distance (analysed pixels) between where the similarity
    transform puts a reference keypoint and its tentative match for the pair to be an inlier."""

    ransac_max_iterations: int = 2000
    """Most RANSAC draws per keypoint verification."""

    ransac_confidence: float = 0.99
    """Confidence at which RANSAC stops drawing early (OpenCV's ``confidence``)."""

    ransac_refine_iterations: int = 5
    """Levenberg-Marquardt refinement steps of the RANSAC transform on its inliers."""

    collage_cell_share: float = 0.36
    """A hash-stage match whose listing part is smaller than this share of the matched reference area is a
    collage cell: too few keypoints lie in it for guided coverage, so agreeing colours confirm it instead
    (``color_max_changed``)."""

    same_photo_score: float = 1.0
    """Score of the same photo: hashes within ``same_photo_distance`` and no edit seen."""

    copy_score_max: float = 0.95
    """Highest score of an edited copy (kept below ``same_photo_score``)."""

    hash_copy_score: float = 0.75
    """Score of an edited copy confirmed at the hash stage: this plus ``hash_copy_coverage_score`` times its
    guided coverage, at most ``copy_score_max``."""

    hash_copy_coverage_score: float = 0.4
    """See ``hash_copy_score``."""

    keypoint_copy_score: float = 0.6
    """Score of an edited copy found by keypoints: this plus ``keypoint_copy_inlier_score`` times the share of
    three times ``min_inliers`` its inliers reach (at most 1), at most ``copy_score_max``."""

    keypoint_copy_inlier_score: float = 0.35
    """See ``keypoint_copy_score``."""

    similar_style_score: float = 0.25
    """Score of a similar style: the hashes or keypoints agree but the details do not, or the label carries
    another name (weighted further by ``similar_style_factor``)."""

    # --- the instance stage: SIFT features, a homography (matching.image_match._instance_stage) -----------
    instance_ratio_test: float = 0.8
    """Lowe's ratio test of the instance stage: a reference SIFT feature's nearest listing feature is a tentative
    match only when its distance is below this share of the second nearest's."""

    instance_reprojection: float = 5.0
    """RANSAC's reprojection threshold of the instance homography (analysed pixels)."""

    instance_min_inliers: int = 12
    """Fewest homography inliers for "shows the brand's packaging". Chosen with a prototype of this stage on a
    third of the grocery photos' ``train/`` part: the lowest count at which at most 1% of the unregistered
    brands' photos were flagged (``val/`` was not looked at)."""

    instance_min_area: float = 0.01
    """Smallest share of the listing photo that the reference's outline, put there by the homography, must
    cover (a degenerate homography squeezes it to a sliver)."""

    instance_max_skew: float = 4.0
    """Largest ratio of the longer to the shorter side (and of the two diagonals) of the reference's outline
    in the listing photo: a pack seen in perspective stays a plausible quadrilateral."""

    instance_copy_coverage: float = 0.3
    """Share of the reference's SIFT features in the part the listing shows that must be inliers for "the same
    photo, edited" (together with an affine transform explaining ``instance_copy_similarity`` of the
    inliers). A new photo of the pack keeps far fewer: it is "shows the brand's packaging"."""

    instance_copy_similarity: float = 0.9
    """Share of the homography inliers that an affine transform (rotation, scale, aspect, shift, mirror) must
    also explain for an edited copy: a new photo sees the pack in perspective, an edit keeps the photo's plane."""

    instance_checks: int = 12
    """Most references verified by the instance stage per listing photo: those whose SIFT features are the
    nearest neighbours of most of the listing photo's features (one search over all references' features)."""

    instance_min_votes: int = 8
    """Fewest nearest-neighbour votes that make a reference worth an instance check."""

    instance_score: float = 0.55
    """Score of "shows the brand's packaging": this plus ``instance_inlier_score`` times the share of three
    times ``instance_min_inliers`` its inliers reach (at most 1)."""

    instance_inlier_score: float = 0.3
    """See ``instance_score``."""

    max_listing_images: int = 12
    """Listing photos looked at, the first in listing order: compared with the official photos and read for
    marks (photo text). How many a listing has at all is the crawl's cap (``crawlers.items.MAX_IMAGE_URLS``,
    of which ``LOOKALIKE_MAX_IMAGES_PER_LISTING`` are downloaded)."""

    max_hits_per_photo: int = 8
    """Most official photos a listing photo is reported to copy (the best first)."""


@dataclass(frozen=True, slots=True)
class DomainConfig:
    """Scores of a domain hit (0..1).  A hit is a candidate at ``min_score`` or more."""

    base_exact: float = 0.55
    """A mark spelt exactly in a name that is not the brand's."""
    base_disguised: float = 0.65
    """A mark disguised: look-alike letters, a letter left out, doubled, swapped or replaced."""
    sales_word: float = 0.2
    """Added when the name holds a sales word (``outlet``, ``shop``, ``official``)."""
    context_word: float = 0.1
    """Added when the name holds one of the brand's trade words."""
    shop_suffix: float = 0.05
    """Added for a public suffix sold to shops (``.shop``, ``.store``)."""
    subdomain: float = -0.1
    """Added when the mark is only in a subdomain label (a shop on a hosting platform, or noise)."""
    ordinary_mark: float = -0.05
    """Added when the mark is an ordinary word (it counts only beside trade or sales words, or disguised)."""
    short_label_edits: int = 1
    """Edits a short mark (up to ``MatchConfig.short_mark_length`` letters, which tolerates none in text)
    tolerates when it is the whole label of a name (``riym.xyz`` for ``Rium``): a label is one word, chosen."""
    short_label_edit: float = -0.1
    """Added for such a near-miss of a short mark."""
    min_score: float = 0.5
    """Lowest score that makes a candidate."""


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Thresholds and weights. Scores and weights are in [0, 1]; distances are in bits of a 64-bit hash."""

    # --- verdict -------------------------------------------------------------------------------------
    infringing_threshold: float = 0.5
    """Score at or above which a pair is counterfeit or lookalike (below: accessory, resale or clean). 0.5 is the
    point where the combined evidence is more likely than not; ``lookalike eval`` prints a sweep."""

    report_threshold: float = 0.05
    """Smallest score for which a result is returned at all (weaker evidence is dropped as noise)."""

    strong_evidence: float = 0.5
    """Strength from which identifying evidence (a mark, a copied photo, a mark read in a photo) points clearly
    at the brand: then replica, dupe and resale wording speak about the brand, and so does a price far below
    MSRP."""

    # --- text: marks ---------------------------------------------------------------------------------
    short_mark_length: int = 4
    """Marks (normalised, separators removed) of at most this many letters need a near-exact hit: the
    same letters, or two adjacent letters swapped, or one letter doubled; any other edit of a four-letter
    word makes another word."""

    medium_mark_length: int = 7
    """Marks up to this length tolerate one edit; longer coined marks tolerate ``long_mark_edits``."""

    long_mark_edits: int = 2
    """Edits (insert, delete, substitute, transpose) tolerated in a mark longer than
    ``medium_mark_length``: two typos in an eight-letter coined word are still that word."""

    fuzzy_hit_strength: float = 0.8
    """Strength of a one-edit hit relative to an exact one; each further edit multiplies it again."""

    joined_words_strength: float = 0.45
    """Strength of a hit found only by joining two ordinary words ("nova lux" for Novalux): alone it must
    stay below the verdict threshold, because a phrase close to a coined name is usually innocent."""

    field_weight_title: float = 0.9
    """Evidence weight of a mark in the title (the counterfeiter's shop window)."""

    field_weight_brand: float = 0.9
    """Evidence weight of a mark in the listing's brand field."""

    field_weight_description: float = 0.75
    """Evidence weight of a mark found only in the description (``desc_only`` disguise): the title was
    scrubbed on purpose, which is itself telling, but descriptions also mention other brands."""

    field_weight_seller: float = 0.35
    """Evidence weight of a mark inside a seller's name that is not an authorized seller."""

    no_context_factor: float = 0.25
    """Multiplier of a mark hit when the mark is an ordinary word and none of the brand's keywords,
    category or product words appear: "meadow" in a seed-mix title is not the fragrance brand."""

    coined_no_context_factor: float = 0.5
    """Multiplier of a hit on a coined (non-dictionary) mark without any context word: a near-identical
    name on a garden hose is more often a coincidence than a fake of the brand's lip gloss; with the
    brand's own product words around it, it is the brand."""

    # --- text: wording -------------------------------------------------------------------------------
    replica_weight: float = 0.6
    """Evidence weight of replica wording ("replica", "1:1", "AAA", "réplica", "高仿") next to brand
    evidence. Counts only when the listing already points at the brand."""

    dupe_weight: float = 0.6
    """Evidence weight of dupe wording ("dupe", "inspired by", "<mark> style") next to a mark."""

    nominative_cap: float = 0.3
    """Highest score of a listing whose only brand evidence is a nominative use ("compatible with X",
    "case for X"): it names the brand to describe its own product, which is lawful."""

    resale_cap: float = 0.3
    """Highest score of a listing that offers the brand's item second-hand or grey-market ("pre-owned",
    "gebraucht", "d'occasion", "parallel import") with no replica or dupe wording: reselling a genuine item is
    lawful, and a notice against it costs the brand its standing with the platform. Class ``resale``."""

    weak_mark_cap: float = 0.35
    """Highest score when the only mark hit is weak (an ordinary word one or two letters from a coined mark,
    everyday words that join into it, or a misspelt or run-together coined mark in a listing without the
    brand's product words) and nothing corroborates it: no copied photo, mark in a photo, seller imitation,
    price far below MSRP, nor replica or dupe wording. Kept below the verdict threshold."""

    corroboration_min: float = 0.4
    """Least strength of a copied photo, a mark read in a photo, a seller imitation or replica or dupe wording
    for it to lift the ``weak_mark`` cap (a price far below MSRP lifts it at any strength: price counts only
    where the listing already points at the brand). A photo copy discounted for "none of the product's words
    in the listing" stays under it unless it is nearly the same photo."""

    other_maker_cap: float = 0.3
    """Highest score when the listing names another maker (its brand field, or "brand: X" in the text) and the
    brand is pointed at only by a photo or a weak mark: shops shoot many makers' products on one template."""

    # --- images (how a comparison counts; the comparison's own thresholds are the nested ``image``) ------
    image: ImageMatchConfig = field(default_factory=ImageMatchConfig)
    """Thresholds of comparing two photos (:class:`ImageMatchConfig`; documented as ``image.<name>``)."""

    domains: DomainConfig = field(default_factory=DomainConfig)
    """Scores of look-alike domain names (:class:`DomainConfig`, issue 30; documented as ``domains.<name>``)."""

    networks: NetworkConfig = field(default_factory=NetworkConfig)
    """Thresholds of seller networks (:class:`~matching.networks.config.NetworkConfig`, issue 31; documented
    as ``networks.<name>``, and explained in docs/networks.md)."""

    image_weight: float = 0.9
    """Evidence weight of a verified copy of an official photo (score of a perfect match)."""

    unrelated_product_image_factor: float = 0.5
    """Multiplier of image evidence when none of the matched product's words nor the brand's keywords
    appear in the listing (a look-alike photo of a different kind of product)."""

    photo_text_weight: float = 0.8
    """Evidence weight of the brand's mark read (OCR) in a listing photo that does not copy an official photo:
    the counterfeiter's own photo of the product with the mark on it, under a generic title."""

    similar_style_factor: float = 0.25
    """Multiplier of image evidence when the comparison says "similar studio style" (same kind of object on a
    look-alike background, or the same template with other text on the label) rather than a copied photo."""

    # --- commercial ----------------------------------------------------------------------------------
    price_ratio_suspicious: float = 0.6
    """Price below this fraction of MSRP (after currency conversion) is evidence; fakes are often only
    15% cheaper, so it stays a weak signal."""

    price_weight: float = 0.2
    """Evidence weight of a price far below MSRP (reached at ``price_ratio_floor``)."""

    price_ratio_floor: float = 0.25
    """Price ratio at which the price evidence is full strength."""

    seller_impersonation_weight: float = 0.75
    """Evidence weight of a seller name imitating an authorized seller (look-alike letters, an extra
    word)."""

    seller_alone_factor: float = 0.5
    """Multiplier of seller imitation when nothing else in the listing points at the brand (the imitated
    seller may sell several brands)."""

    seller_similarity: float = 85.0
    """rapidfuzz token-set ratio (0-100) between normalised seller names above which a non-authorized
    seller imitates an authorized one."""

    authorized_factor: float = 0.1
    """Multiplier of the score when the seller is an authorized seller: the brand's own shop."""

    # --- text: marks that are words, and the brand's products (issue 28; helper detect-text) -------------
    ordinary_category_factor: float = 0.4
    """Multiplier of a hit on an ordinary-word mark (a dictionary word, or a phrase of dictionary words) when
    the listing uses the brand's keywords or category words but shows none of its products (no product noun,
    model name or SKU, packaging word): the word's ordinary sense goes with the category ("for full lips" on
    a lip liner), so it stays below the verdict threshold unless a photo, photo text or a seller imitation
    agrees. With a product of the brand shown the hit counts fully; with nothing, ``no_context_factor``."""

    packaging_words_min: int = 2
    """Words printed on the brand's official photos (read by OCR at registration; marks, quantities and filler
    left out) that a listing's title or photo text must share for the packaging to count as evidence of the
    brand's product. One shared word is often the category noun."""

    variant_min_length: int = 3
    """Shortest word that a spelling one letter longer can be a variant of (``soy``/``soya``), when product
    words of a listing and of the brand are compared."""

    variant_vowel_length: int = 5
    """Length from which the shorter spelling may lack a vowel anywhere after its first letter
    (``color``/``colour``); shorter words may lack only a final vowel other than a silent e (``pan``/``pain``,
    ``cap``/``cape`` are other words)."""

    variant_any_length: int = 6
    """Length from which the shorter spelling may lack any one letter after its first
    (``yogurt``/``yoghurt``): long words one letter apart are one word."""

    dupe_tie_window: int = 6
    """Words after dupe wording ("alternative to", "inspired by", "similar to", "smells like") within which one
    of the brand's marks must follow, and words on either side of a bare "dupe" or "look-alike", for the
    wording to be about the brand: "alternative to yoghurt" speaks of a category, not of a brand."""

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> MatchConfig:
        """A copy with ``overrides`` applied; an unknown key or a value of the wrong type raises
        ``ValueError`` naming it."""
        if not overrides:
            return self
        known = {f.name: f for f in fields(self) if f.name not in NESTED}
        clean: dict[str, Any] = {}
        for key, value in overrides.items():
            nested = str(key).split(".", 1)[0]
            if nested in NESTED:
                raise ValueError(f"matching threshold {key!r} is {NESTED[nested]}: global to the matcher "
                                 f"(MatchConfig.{nested}), not overridable per brand")
            if key not in known:
                raise ValueError(f"unknown matching threshold {key!r}")
            current = getattr(self, key)
            try:
                clean[key] = int(value) if isinstance(current, int) else float(value)
            except (TypeError, ValueError):
                raise ValueError(f"matching threshold {key!r} must be a number, not {value!r}") from None
        return dataclasses.replace(self, **clean)

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """(name, default, docstring) of every field, for documentation; the nested image thresholds as
        ``image.<name>``."""
        docs = _field_docs(cls)
        out: list[tuple[str, Any, str]] = []
        for f in fields(cls):
            if f.name in ("image", "domains"):
                nested = ImageMatchConfig if f.name == "image" else DomainConfig
                nested_docs = _field_docs(nested)
                out.extend((f"{f.name}.{g.name}", g.default, nested_docs.get(g.name, "")) for g in fields(nested))
            elif f.name == "networks":
                out.extend((f"networks.{name}", default, doc) for name, default, doc in NetworkConfig.describe())
            else:
                out.append((f.name, f.default, docs.get(f.name, "")))
        return out


#: The nested threshold groups, global to the matcher (never overridden per brand), and what each is.
NESTED = {"image": "an image-comparison threshold", "domains": "a domain-name threshold",
          "networks": "a seller-network threshold"}


def _field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings (the string literal after each field) of a dataclass of this module."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs
