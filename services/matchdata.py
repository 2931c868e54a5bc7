"""Database rows -> the plain records of :mod:`matching.model`.

Matching never touches the database; this module is the one place that reads brands, products,
reference photos and listings and hands them over as frozen records.  Image signatures are
:class:`matching.signature.ImageSignature` values read from ``image_signatures`` rows by
:func:`matching.signature_codec.decode` (computed once by the signature stage, ``services/signatures.py``), so
nothing here decodes an image; an image without an ``ok`` signature row (not signed yet, or not decodable), or
whose row cannot be read, is left out.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matching.model import BrandProfile, ListingInput, ProductRef, ReferenceImage
from matching.signature import ImageSignature
from matching.signature_codec import decode
from storage.models import Brand, Image, Listing, ListingImage, Product
from storage.models import ReferenceImage as ReferenceImageRow

#: Longest title and description handed to matching, in characters (listing text is hostile).
MAX_TITLE_CHARS = 1_000
MAX_DESCRIPTION_CHARS = 20_000


def image_signature(image: Image | None) -> ImageSignature | None:
    """The signature of a stored image from its ``image_signatures`` row; None when there is no ``ok`` row
    or the row is malformed (that image is left out, never the listing)."""
    row = image.signature if image is not None else None
    if row is None or row.status != "ok":
        return None
    try:
        return decode(row.fields or {}, row.keypoints)
    except ValueError:
        return None


def photo_label(sku: str, position: int) -> str:
    """How a reason names a reference photo: ``"FLP-001 photo a"`` for position 0, ``b`` for 1 ..."""
    letter = chr(ord("a") + position) if 0 <= position < 26 else str(position + 1)
    return f"{sku} photo {letter}"


def _product_ref(product: Product) -> ProductRef:
    images = tuple(
        ReferenceImage(
            ref_id=str(ref.id),
            label=photo_label(product.sku, ref.position),
            signature=sig,
        )
        for ref in sorted(product.images, key=lambda r: (r.position, r.id))
        if (sig := image_signature(ref.image)) is not None
    )
    return ProductRef(sku=product.sku, name=product.name, msrp=product.msrp, currency=product.currency,
                      images=images)


def brand_profile(brand: Brand) -> BrandProfile:
    """One brand as matching sees it: the brand name first among the marks, then its aliases."""
    marks = [brand.name]
    for mark in sorted(brand.marks, key=lambda m: (m.kind != "name", m.id)):
        if mark.text.casefold() not in {m.casefold() for m in marks}:
            marks.append(mark.text)
    return BrandProfile(
        brand_id=brand.id,
        name=brand.name,
        marks=tuple(marks),
        keywords=tuple(brand.keywords or ()),
        category=brand.category,
        authorized_sellers=tuple(s.name for s in sorted(brand.authorized_sellers, key=lambda s: s.id)),
        products=tuple(_product_ref(p) for p in sorted(brand.products, key=lambda p: p.id)),
        thresholds=dict(brand.thresholds or {}),
    )


def load_brand_profiles(session: Session) -> list[BrandProfile]:
    """Every registered brand with its marks, sellers, products and reference image signatures, by id."""
    stmt = (
        select(Brand)
        .order_by(Brand.id)
        .options(
            selectinload(Brand.marks),
            selectinload(Brand.authorized_sellers),
            selectinload(Brand.products)
            .selectinload(Product.images)
            .selectinload(ReferenceImageRow.image)
            .selectinload(Image.signature),
        )
    )
    return [brand_profile(brand) for brand in session.scalars(stmt)]


def product_ids(session: Session) -> dict[tuple[int, str], int]:
    """(brand id, SKU) -> product id, to turn a result's ``product_sku`` into a foreign key."""
    return {(brand_id, sku): pid for pid, brand_id, sku in session.execute(
        select(Product.id, Product.brand_id, Product.sku))}


def listing_input(listing: Listing) -> ListingInput:
    """A stored listing as matching sees it; images are the signatures of its stored images, in order.

    Images not (yet) stored, or refused (corrupt, too large...), are left out; the crawl bounds how many a
    listing has (``crawlers.items.MAX_IMAGE_URLS``) and the matcher looks at the first
    ``MatchConfig.image.max_listing_images``.  Text is bounded.
    """
    signatures = []
    for image in sorted(listing.images, key=lambda i: (i.position, i.id)):
        sig = image_signature(image.image) if image.status == "ok" else None
        if sig is not None:
            signatures.append(sig)
    return ListingInput(
        listing_id=listing.id,
        title=(listing.title or "")[:MAX_TITLE_CHARS],
        description=(listing.description or "")[:MAX_DESCRIPTION_CHARS],
        seller=listing.seller,
        price=listing.price,
        currency=listing.currency,
        brand_text=listing.brand_text,
        images=tuple(signatures),
    )


def listing_load_options():
    """Loader options that fetch what :func:`listing_input` and ``record_match`` read, in few queries."""
    return (selectinload(Listing.images).selectinload(ListingImage.image).selectinload(Image.signature),)
