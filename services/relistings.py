"""Relistings from the database: a reported or removed listing that is back, flagged and linked.

:func:`detect_relistings` (nightly, after matching and a recompute of networks, so tonight's sellers have
theirs; networks are recomputed once more afterwards to count relistings) takes every listing
with a match that went ``reported`` or ``removed`` (``down_at``: the first such audit event) and every listing
first seen since the earliest of those times, as plain :class:`matching.networks.relisting.ListingPrint`
(stored photo signatures, text, seller key and the seller's network), and records each pair
:func:`matching.networks.relisting.find_relistings` finds as a :class:`storage.models.Relisting` with its
evidence. The new listing's matches get a sentence in ``changes`` ("relisting of listing 12 ..."), so the
analyst sees it in the queue; network pages count relistings per network.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.networks.config import NetworkConfig
from matching.networks.relisting import ListingPrint, find_relistings
from services.networks import listing_photos, official_phashes, seller_key_of
from services.review import as_utc
from storage.db import Database
from storage.models import Listing, Match, MatchEvent, NetworkSeller, Relisting, utcnow

__all__ = ["RelistingRun", "detect_relistings", "relisting_sentence"]

DOWN_STATUSES = ("reported", "removed")


@dataclass
class RelistingRun:
    down: int = 0
    compared: int = 0
    found: int = 0
    new: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def relisting_sentence(earlier: Listing, evidence: list[str]) -> str:
    return (f"relisting of listing {earlier.id} ({earlier.marketplace.name}, taken down): "
            f"{'; '.join(evidence)}")[:500]


def _down_times(session: Session) -> dict[int, dt.datetime]:
    rows = session.execute(
        select(Match.listing_id, func.min(MatchEvent.at))
        .join(MatchEvent, MatchEvent.match_id == Match.id)
        .where(MatchEvent.to_status.in_(DOWN_STATUSES))
        .group_by(Match.listing_id)
    )
    return {listing_id: as_utc(at) for listing_id, at in rows if at is not None}


def detect_relistings(database: Database, *, config: NetworkConfig | None = None,
                      now: dt.datetime | None = None) -> RelistingRun:
    """Find and record relistings (see the module doc); returns the counts."""
    now = now or utcnow()
    run = RelistingRun()
    with database.session() as session:
        down = _down_times(session)
        run.down = len(down)
        if not down:
            return run
        since = min(down.values())
        listings = list(session.scalars(select(Listing).where(
            (Listing.id.in_(list(down))) | (Listing.first_seen >= since)).order_by(Listing.id)))
        networks = {row.key: row.network_id for row in session.scalars(select(NetworkSeller))}
        photos = listing_photos(session, [li.id for li in listings])
        prints = []
        for listing in listings:
            key = seller_key_of(listing)
            prints.append(ListingPrint(
                id=listing.id, marketplace=listing.marketplace.name, seller=key, network=networks.get(key or ""),
                title=(listing.title or "")[:1000], description=(listing.description or "")[:20_000],
                photos=tuple(p for _, p, _ in photos.get(listing.id, [])), first_seen=as_utc(listing.first_seen),
                down_at=down.get(listing.id)))
        run.compared = len(prints)
        found = find_relistings(prints, official_photos=official_phashes(session), config=config)
        run.found = len(found)
        known = set(session.execute(select(Relisting.listing_id, Relisting.earlier_listing_id)).all())
        for relist in found:
            if (relist.listing_id, relist.earlier_id) in known:
                continue
            earlier = session.get(Listing, relist.earlier_id)
            evidence = list(relist.evidence)
            session.add(Relisting(listing_id=relist.listing_id, earlier_listing_id=relist.earlier_id,
                                  detected_at=now, evidence=evidence))
            sentence = relisting_sentence(earlier, evidence)
            for match in session.scalars(select(Match).where(Match.listing_id == relist.listing_id)):
                if sentence not in (match.changes or []):
                    match.changes = [*(match.changes or []), sentence]
            run.new += 1
    return run
