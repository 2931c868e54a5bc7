"""Loading the demo world's networks (data/demo/networks.py) into a database, as a crawl and the signature
stage would have stored them: marketplaces, listings with sellers, images with signatures, official photos."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from sqlalchemy import select
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
    Match,
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


def build_network_web_world(settings: Any) -> dict[str, Any]:
    """A small world for the Network page: one operation of three storefronts on two marketplaces (the first
    two sell Fullips counterfeits and share a phone number; the third sells Glowwe counterfeits and shares
    an e-mail address with the first), among twelve unrelated sellers; networks recomputed. Listing URLs point
    at a closed loopback port (evidence capture fails fast and is recorded as failed)."""
    from services.networks import recompute_networks
    from storage.db import Database

    with Database.opened(settings.database_url) as db:
        with db.session() as s:
            owner, other = Owner(name="Et Al Beauty"), Owner(name="Other Co")
            fullips, glowwe = Brand(owner=owner, name="Fullips"), Brand(owner=other, name="Glowwe")
            s.add_all([owner, other, fullips, glowwe])
            markets = {name: Marketplace(name=name, kind="marketplace", base_url=f"https://{name}.example/")
                       for name in ("bazaarly", "kramwell")}
            s.add_all(markets.values())
            s.flush()
            counter = iter(range(1, 10_000))

            def listing(market: str, seller: str, title: str, description: str, brand: Brand | None) -> Listing:
                n = next(counter)
                row = Listing(marketplace_id=markets[market].id, canonical_url=f"http://127.0.0.1:9/{market}/{n}",
                              url=f"http://127.0.0.1:9/{market}/{n}", external_id=str(n), title=title,
                              description=description, price=Decimal("12.50"), currency="GBP", seller=seller,
                              seller_id=f"{seller.lower().replace(' ', '-')}", content_hash=f"h{n}")
                s.add(row)
                s.flush()
                if brand is not None:
                    s.add(Match(listing_id=row.id, brand_id=brand.id, score=0.95, klass="counterfeit",
                                listing_content_hash=row.content_hash, reasons=["demo counterfeit"]))
                return row

            listing("bazaarly", "Marl0w & Finch", "Fullips lip plumper 1:1", "Order on WhatsApp +44 7911 123456. "
                    "Write to sales [at] marlowfinch [dot] com.", fullips)
            listing("bazaarly", "Marl0w & Finch", "Fullips gloss mirror quality", "Tel 07911 123456", fullips)
            listing("kramwell", "Quillon Goods", "Fullips plumper replica", "Call +44 (0)7911-123456 today.", fullips)
            listing("bazaarly", "Velvora Store", "Glowwe serum copy", "Questions: sales@marlowfinch.com", glowwe)
            for i in range(12):
                listing("kramwell" if i % 2 else "bazaarly", f"Unrelated {i} Trading",
                        f"Plain item {i}", f"Ordinary words number {i} about a lamp and a mug {i * 7}.",
                        fullips if i < 3 else None)
        recompute_networks(db, rates=settings.currency_rates)
        with db.session() as s:
            from storage.models import Network

            network = s.scalars(select(Network).where(Network.status == "active")).one()
            return {"network_id": network.id}
