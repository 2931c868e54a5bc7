"""Loading the demo world's networks (data/demo/networks.py) into a database, as a crawl and the signature
stage would have stored them: marketplaces, listings with sellers, images with signatures, official photos."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from matching.signature import SIGNATURE_VERSION, THUMB_SIZE, Hash64, HashSet, ImageSignature
from matching.signature_codec import encode
from storage.models import (
    Brand,
    Image,
    ImageSignatureRow,
    Listing,
    ListingImage,
    Marketplace,
    Owner,
    Product,
    ReferenceImage,
)


def signature_fields(phash: int) -> dict[str, Any]:
    h = Hash64(phash)
    sig = ImageSignature(version=SIGNATURE_VERSION, width=400, height=400, analysed_size=(256, 256),
                         hashes=HashSet(h, h, h, h, h, h), trimmed=None, content_box=None,
                         thumb=bytes(THUMB_SIZE * THUMB_SIZE * 3))
    return encode(sig).fields


def add_image(session: Session, phash: int, *, salt: str = "") -> str:
    sha = hashlib.sha256(f"{phash:016x}{salt}".encode()).hexdigest()
    if session.get(Image, sha) is None:
        session.add(Image(sha256=sha, path=f"{sha[:2]}/{sha}.jpg", content_type="image/jpeg", size_bytes=1000,
                          width=400, height=400))
        session.add(ImageSignatureRow(sha256=sha, version=SIGNATURE_VERSION, status="ok",
                                      fields=signature_fields(phash)))
    return sha


def marketplace(session: Session, name: str, cache: dict[str, Marketplace]) -> Marketplace:
    if name not in cache:
        is_shop = "." in name
        cache[name] = Marketplace(name=name, kind="shop" if is_shop else "marketplace",
                                  base_url=f"https://{name}/" if is_shop else f"https://{name}.example/")
        session.add(cache[name])
        session.flush()
    return cache[name]


def add_seller(session: Session, record: dict[str, Any], cache: dict[str, Marketplace], *,
               night: int | None = None) -> dict[str, Listing]:
    """The seller's listings (of one ``night`` only, when given) as stored rows, by world key."""
    market = marketplace(session, record["marketplace"], cache)
    is_shop = market.kind == "shop"
    rows = {}
    for item in record["listings"]:
        if night is not None and item.get("night", 1) != night:
            continue
        listing = Listing(
            marketplace_id=market.id, canonical_url=f"{market.base_url}item/{item['key']}",
            url=f"{market.base_url}item/{item['key']}", external_id=item["key"], title=item["title"],
            description=item["description"], price=Decimal("19.90"), currency=item.get("currency"),
            seller=None if is_shop else record["name"], seller_id=record.get("seller_id"),
            content_hash=hashlib.sha256(repr(item).encode()).hexdigest(), status="active")
        session.add(listing)
        session.flush()
        for position, phash in enumerate(item["photos"]):
            sha = add_image(session, int(phash, 16))
            session.add(ListingImage(listing_id=listing.id, url=f"{listing.url}/{position}.jpg", position=position,
                                     sha256=sha, status="ok"))
        rows[item["key"]] = listing
    return rows


def load_world(session: Session, world: dict[str, Any], *, skip: set[str] = frozenset(),
               night: int | None = None) -> dict[str, Marketplace]:
    cache: dict[str, Marketplace] = {}
    owner = Owner(name="Demo Owner")
    brand = Brand(owner=owner, name="Demo Brand")
    product = Product(brand=brand, sku="DEMO-1", name="Demo product")
    session.add_all([owner, brand, product])
    session.flush()
    for position, phash in enumerate(world["official_photos"]):
        sha = add_image(session, int(phash, 16), salt="official")
        session.add(ReferenceImage(product_id=product.id, sha256=sha, source=f"refs/{position}.jpg", position=position))
    for record in world["sellers"]:
        if record["key"] not in skip:
            add_seller(session, record, cache, night=night)
    session.flush()
    return cache
