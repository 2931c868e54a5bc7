"""Seller networks from the database: read sellers' evidence, link them, keep networks with stable ids.

:func:`recompute_networks` is the nightly step (after matching):

1. every seller (``seller_key``: ``<marketplace>/<seller id>``, else ``<marketplace>/<plain name>``; a web shop
   whose listings name no seller is one seller, the shop) is read into plain
   :class:`matching.networks.links.SellerFacts` with its listings' text, the pHashes and OCR words of their
   photos (stored signatures only), and the region its prices' currency tells;
2. a seller's evidence is read again only when its *fingerprint* (listing content hashes and photo signatures)
   changed, so a night redoes the sellers it saw change (``network_sellers.evidence``);
3. links are found over all stored evidence at once (rarity needs everybody), the official photos of every
   brand excluded; strong links make networks (:mod:`matching.networks.groups`), whose ids carry over from
   the last run (:func:`matching.networks.groups.assign_ids`); a network that lost all but one seller is
   ``dissolved`` and its id is never used again;
4. each network's totals (live listings per marketplace, relistings) and impact estimate are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from matching.config import MatchConfig
from matching.networks.config import NetworkConfig
from matching.networks.contacts import region_of_currency
from matching.networks.groups import assign_ids, strong_groups
from matching.networks.links import ListingFacts, SellerEvidence, SellerFacts, find_links, seller_evidence
from matching.networks.priority import ListingImpact, network_impact
from matching.sellers import plain_name
from matching.signature_codec import decode
from storage.db import Database
from storage.models import (
    ImageSignatureRow,
    Listing,
    ListingImage,
    Marketplace,
    Match,
    Network,
    NetworkListing,
    NetworkSeller,
    ReferenceImage,
    Relisting,
    SellerLink,
    utcnow,
)

__all__ = ["NetworkRun", "digest_lines", "listing_photos", "official_phashes", "recompute_networks", "seller_key", "seller_key_of"]

#: Marketplace kinds that are one web shop: its listings without a seller are the shop's own.
SHOP_KINDS = ("shop", "shopify", "woocommerce")
#: Match classes whose listings make a network worth an analyst's time.
SUSPECT_CLASSES = ("counterfeit", "lookalike")
_BATCH = 500


@dataclass
class NetworkRun:
    """What a recompute did."""

    sellers: int = 0
    sellers_read: int = 0
    links: int = 0
    strong_links: int = 0
    networks: int = 0
    new_networks: int = 0
    grown_networks: int = 0
    dissolved: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def seller_key(marketplace: str, kind: str, seller: str | None, seller_id: str | None) -> str | None:
    """The stable key of a listing's seller, None when the listing names none on a marketplace."""
    if seller_id and seller_id.strip():
        return f"{marketplace}/id:{seller_id.strip().lower()[:200]}"
    if seller and plain_name(seller):
        return f"{marketplace}/{plain_name(seller)[:300]}"
    if kind in SHOP_KINDS:
        return marketplace
    return None


def seller_key_of(listing: Listing) -> str | None:
    return seller_key(listing.marketplace.name, listing.marketplace.kind, listing.seller, listing.seller_id)


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


def official_phashes(session: Session) -> list[int]:
    """pHashes of every brand's official photos (they never link sellers)."""
    rows = session.execute(
        select(ImageSignatureRow.fields)
        .join(ReferenceImage, ReferenceImage.sha256 == ImageSignatureRow.sha256)
        .where(ImageSignatureRow.status == "ok")
    )
    out = []
    for (fields,) in rows:
        try:
            out.append(int(decode(fields or {}, None).hashes.phash))
        except ValueError:
            continue
    return out


def listing_photos(session: Session, listing_ids: Sequence[int]) -> dict[int, list[tuple[str, int, str]]]:
    """``{listing id: [(sha256, pHash, OCR words)]}`` of the listings' signed photos, in position order."""
    out: dict[int, list[tuple[str, int, str]]] = defaultdict(list)
    for start in range(0, len(listing_ids), _BATCH):
        chunk = listing_ids[start:start + _BATCH]
        rows = session.execute(
            select(ListingImage.listing_id, ListingImage.sha256, ImageSignatureRow.fields, ImageSignatureRow.ocr_text)
            .join(ImageSignatureRow, ImageSignatureRow.sha256 == ListingImage.sha256)
            .where(ListingImage.listing_id.in_(chunk), ImageSignatureRow.status == "ok")
            .order_by(ListingImage.listing_id, ListingImage.position)
        )
        for listing_id, sha, fields, ocr in rows:
            try:
                phash = int(decode(fields or {}, None).hashes.phash)
            except ValueError:
                continue
            out[listing_id].append((sha, phash, (ocr or "")[:2000]))
    return out


@dataclass
class _Seller:
    key: str
    marketplace: Marketplace
    name: str | None = None
    seller_id: str | None = None
    storefront: str | None = None
    listings: list[Listing] | None = None


def _sellers(session: Session) -> dict[str, _Seller]:
    sellers: dict[str, _Seller] = {}
    for listing in session.scalars(select(Listing).join(Marketplace).order_by(Listing.id)):
        key = seller_key_of(listing)
        if key is None:
            continue
        entry = sellers.get(key)
        if entry is None:
            entry = sellers[key] = _Seller(key, listing.marketplace, listings=[])
        entry.name = listing.seller or entry.name or (listing.marketplace.name if key == listing.marketplace.name else None)
        entry.seller_id = listing.seller_id or entry.seller_id
        entry.storefront = listing.seller_url or entry.storefront
        entry.listings.append(listing)
    return sellers


def _facts(seller: _Seller, photos: dict[int, list[tuple[str, int, str]]]) -> tuple[SellerFacts, str]:
    """The seller's facts and their fingerprint."""
    market = seller.marketplace
    own = tuple(h for h in {_host(market.base_url), *(_host(li.url) for li in seller.listings or [])} if h)
    is_shop = seller.key == market.name
    digest = hashlib.sha256(f"{seller.key}|{seller.name}|{seller.seller_id}|{seller.storefront}".encode())
    listings = []
    for listing in seller.listings or []:
        shots = photos.get(listing.id, [])
        digest.update(f"|{listing.id}:{listing.content_hash}:{','.join(s for s, _, _ in shots)}".encode())
        listings.append(ListingFacts(
            key=str(listing.id), title=(listing.title or "")[:1000], description=(listing.description or "")[:20_000],
            photo_text=" ".join(o for _, _, o in shots)[:5000], photos=tuple(p for _, p, _ in shots),
            region=region_of_currency(listing.currency)))
    facts = SellerFacts(
        key=seller.key, marketplace=market.name, name=seller.name, seller_id=seller.seller_id,
        storefront=seller.storefront, shop_domain=_host(market.base_url) if is_shop else None,
        own_domains=() if is_shop else own, listings=tuple(listings))
    return facts, digest.hexdigest()


def _refresh_evidence(session: Session, config: NetworkConfig, now: dt.datetime, run: NetworkRun) -> None:
    sellers = _sellers(session)
    stored = {row.key: row for row in session.scalars(select(NetworkSeller))}
    listing_ids = [li.id for s in sellers.values() for li in (s.listings or [])]
    photos = listing_photos(session, listing_ids)
    for key, seller in sellers.items():
        facts, fingerprint = _facts(seller, photos)
        row = stored.get(key)
        if row is not None and row.fingerprint == fingerprint:
            continue
        evidence = seller_evidence(facts, config).to_json()
        run.sellers_read += 1
        if row is None:
            session.add(NetworkSeller(key=key, marketplace_id=seller.marketplace.id, name=(seller.name or "")[:300],
                                      fingerprint=fingerprint, evidence=evidence, first_seen=now, updated_at=now))
        else:
            row.fingerprint, row.evidence, row.updated_at = fingerprint, evidence, now
            row.name = (seller.name or "")[:300]
    for key in set(stored) - set(sellers):
        session.delete(stored[key])
    run.sellers = len(sellers)
    session.flush()


def _live_totals(session: Session, members: dict[int, frozenset[str]],
                 rates: Mapping[str, Decimal]) -> dict[int, dict[str, Any]]:
    """Per network: live listings per marketplace, listing impacts, relistings."""
    of_seller = {s: nid for nid, group in members.items() for s in group}
    totals: dict[int, dict[str, Any]] = {nid: {"marketplaces": Counter(), "impacts": [], "listing_ids": []}
                                         for nid in members}
    suspects = {lid: klass for lid, klass in session.execute(
        select(Match.listing_id, Match.klass).where(Match.klass.in_(SUSPECT_CLASSES), Match.status != "dismissed"))}
    for listing in session.scalars(select(Listing).join(Marketplace).order_by(Listing.id)):
        nid = of_seller.get(seller_key_of(listing) or "")
        if nid is None:
            continue
        entry = totals[nid]
        entry["listing_ids"].append(listing.id)
        if listing.status == "active":
            entry["marketplaces"][listing.marketplace.name] += 1
            entry["impacts"].append(ListingImpact.of_listing(listing, suspect=listing.id in suspects, rates=rates))
    for entry in totals.values():
        ids = entry["listing_ids"]
        entry["relistings"] = session.scalar(
            select(func.count()).select_from(Relisting).where(Relisting.listing_id.in_(ids))) if ids else 0
    return totals


def recompute_networks(database: Database, *, rates: Mapping[str, Decimal] | None = None,
                       config: NetworkConfig | None = None, now: dt.datetime | None = None) -> NetworkRun:
    """The nightly recompute (see the module doc); ``rates`` (USD per unit, ``Settings.currency_rates``) price
    the impact estimate. Returns what it did."""
    config = config or MatchConfig().networks
    now = now or utcnow()
    run = NetworkRun()
    with database.session() as session:
        _refresh_evidence(session, config, now, run)
        rows = list(session.scalars(select(NetworkSeller).order_by(NetworkSeller.key)))
        evidence = [SellerEvidence.from_json(row.key, row.evidence or {}) for row in rows]
        links = find_links(evidence, official_photos=official_phashes(session), config=config)
        session.execute(delete(SellerLink))
        for link in links:
            session.add(SellerLink(seller_a=link.a, seller_b=link.b, strength=link.strength, strong=link.strong,
                                   evidence=[e.to_json() for e in link.evidence]))
        run.links, run.strong_links = len(links), sum(link.strong for link in links)
        previous = {row.key: row.network_id for row in rows if row.network_id is not None}
        next_id = (session.scalar(select(func.max(Network.id))) or 0) + 1
        members = assign_ids(strong_groups([r.key for r in rows], links), previous, next_id=next_id)
        existing = {n.id: n for n in session.scalars(select(Network))}
        totals = _live_totals(session, members, rates or {})
        for nid, group in members.items():
            network = existing.get(nid)
            if network is None:
                network = Network(id=nid, status="active", created_at=now, sellers=0, previous_sellers=0)
                session.add(network)
                run.new_networks += 1
            before = network.sellers if network.status == "active" else 0
            if len(group) > before and before:
                network.grew_at = now
                run.grown_networks += 1
            network.status, network.previous_sellers, network.sellers = "active", before, len(group)
            network.updated_at = now
            entry = totals[nid]
            network.marketplaces = dict(sorted(entry["marketplaces"].items()))
            network.relistings = int(entry["relistings"] or 0)
            impact = network_impact(entry["impacts"], relistings=network.relistings)
            network.impact, network.impact_reasons = impact.score, impact.reasons
        for nid, network in existing.items():
            if nid not in members and network.status == "active":
                network.status, network.updated_at, network.previous_sellers = "dissolved", now, network.sellers
                network.sellers = 0
                run.dissolved += 1
        session.flush()
        of_seller = {s: nid for nid, group in members.items() for s in group}
        for row in rows:
            row.network_id = of_seller.get(row.key)
        _write_listing_impacts(session, of_seller, rates or {})
        run.networks = len(members)
    return run


def _write_listing_impacts(session: Session, of_seller: dict[str, int], rates: Mapping[str, Decimal]) -> None:
    """``network_listings``: every listing of a known seller with its network and its own impact."""
    suspects = set(session.scalars(select(Match.listing_id).where(Match.klass.in_(SUSPECT_CLASSES),
                                                                 Match.status != "dismissed")))
    session.execute(delete(NetworkListing))
    for listing in session.scalars(select(Listing).join(Marketplace).order_by(Listing.id)):
        key = seller_key_of(listing)
        if key is None:
            continue
        impact = ListingImpact.of_listing(listing, suspect=listing.id in suspects, rates=rates)
        score = impact.score if listing.status == "active" else 0.0
        session.add(NetworkListing(listing_id=listing.id, network_id=of_seller.get(key), impact=round(score, 4)))
    session.flush()


def network_of_listing(session: Session, listing: Listing) -> int | None:
    """The network id of a listing's seller, or None."""
    key = seller_key_of(listing)
    if key is None:
        return None
    row = session.get(NetworkSeller, key)
    return row.network_id if row is not None else None


def sellers_of(session: Session, network_id: int) -> list[NetworkSeller]:
    return list(session.scalars(select(NetworkSeller).where(NetworkSeller.network_id == network_id)
                                .order_by(NetworkSeller.key)))


def links_of(session: Session, keys: Iterable[str]) -> list[SellerLink]:
    """Links with both sellers in ``keys`` (strong and weak), strongest first."""
    keys = list(keys)
    if not keys:
        return []
    return list(session.scalars(select(SellerLink).where(SellerLink.seller_a.in_(keys), SellerLink.seller_b.in_(keys))
                                .order_by(SellerLink.strength.desc(), SellerLink.id)))



def digest_lines(session: Session, brand_ids: Iterable[int], *, since: dt.datetime | None,
                 limit: int = 5) -> tuple[list[str], list[str]]:
    """For an owner's digest (its brands only): sentences about the largest networks found or grown since
    ``since`` that sell its brands, and about relistings of its brands' listings detected since then."""
    brand_ids = list(brand_ids)
    if not brand_ids:
        return [], []
    since = since.astimezone(dt.UTC) if since and since.tzinfo else since
    mine: dict[int, dict[str, Any]] = {}
    for match, network_id in session.execute(
            select(Match, NetworkListing.network_id).join(NetworkListing, NetworkListing.listing_id == Match.listing_id)
            .where(Match.brand_id.in_(brand_ids), NetworkListing.network_id.is_not(None))):
        listing = match.listing
        key = seller_key_of(listing)
        entry = mine.setdefault(network_id, {"sellers": set(), "suspects": 0, "markets": Counter()})
        entry["sellers"].add(key)
        if match.klass in SUSPECT_CLASSES and match.status != "dismissed" and listing.status == "active":
            entry["suspects"] += 1
            entry["markets"][listing.marketplace.name] += 1
    lines = []
    ranked = []
    for network_id, entry in mine.items():
        network = session.get(Network, network_id)
        if network is None or network.status != "active":
            continue
        created, grew = _utc(network.created_at), _utc(network.grew_at)
        is_new = since is None or (created is not None and created >= since)
        has_grown = grew is not None and (since is None or grew >= since)
        if is_new or has_grown:
            ranked.append((network.impact, network_id, network, entry, is_new))
    for _impact, network_id, network, entry, is_new in sorted(ranked, key=lambda r: (-r[0], r[1]))[:limit]:
        how = "new" if is_new else f"grew from {network.previous_sellers} to {network.sellers} sellers"
        where = ", ".join(f"{m} {n}" for m, n in sorted(entry["markets"].items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(f"Network {network_id} ({how}): {len(entry['sellers'])} of its sellers sell your brands, "
                     f"{entry['suspects']} live suspect listing(s){f' ({where})' if where else ''}, "
                     f"{network.relistings} relisting(s), impact {network.impact:.1f}")
    relisted = []
    query = (select(Relisting).join(Match, Match.listing_id == Relisting.listing_id)
             .where(Match.brand_id.in_(brand_ids)).order_by(Relisting.id))
    if since is not None:
        query = query.where(Relisting.detected_at >= since)
    for relisting in dict.fromkeys(session.scalars(query)):
        later, earlier = session.get(Listing, relisting.listing_id), session.get(Listing, relisting.earlier_listing_id)
        if later is None or earlier is None:
            continue
        relisted.append(f"“{(later.title or '(no title)')[:100]}” on {later.marketplace.name} relists listing "
                        f"{earlier.id} taken down on {earlier.marketplace.name}: {'; '.join(relisting.evidence)[:300]}")
    return lines, relisted[:20]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
