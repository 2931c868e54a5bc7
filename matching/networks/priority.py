"""Impact: which suspects and networks to act on first, from what the pages show, explained in words.

A listing's impact is what it may sell, on a log scale so that one luxury listing does not drown a hundred
cheap ones:

``listing = log10(1 + price in USD) * (1 + log10(1 + units sold or reviews shown)) * stock * suspect``

where ``stock`` is 1 for a listing in stock (or not saying) and 0.5 when it says it is out of stock, and
``suspect`` is 1 for a listing matched as counterfeit or look-alike and 0.25 for the network's other
listings. A network's impact is the sum over its live listings, times ``1 + 0.25`` per marketplace beyond
the first (more places to buy, more notices to send) and ``1 + 0.2`` per relisting up to five (an operation
that comes back after takedowns). Prices come from the pages; units sold and reviews only where the listing's
text shows them ("1,204 sold", "350 reviews"); marketplaces that hide them count as zero.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Impact", "ListingImpact", "demand_shown", "network_impact"]

_DEMAND_RE = re.compile(r"(\d{1,3}(?:[,.\s]\d{3})+|\d{1,7})\s*\+?\s*(sold|orders|reviews|ratings|verkauft|vendidos|vendus)\b",
                        re.IGNORECASE)
_OUT_OF_STOCK = ("outofstock", "out_of_stock", "out of stock", "soldout", "sold_out", "discontinued")
MARKETPLACE_FACTOR = 0.25
RELISTING_FACTOR = 0.2
MAX_RELISTINGS_COUNTED = 5


def demand_shown(text: str | None) -> int:
    """The largest "N sold" / "N reviews" the text shows (0 when none)."""
    best = 0
    for match in _DEMAND_RE.finditer((text or "")[:20_000]):
        digits = re.sub(r"\D", "", match.group(1))
        if digits:
            best = max(best, min(int(digits), 10_000_000))
    return best


@dataclass(frozen=True, slots=True)
class ListingImpact:
    """What one live listing shows: price in USD (None: unknown), demand shown, in stock, suspect."""

    marketplace: str
    price_usd: float | None
    demand: int
    in_stock: bool
    suspect: bool

    @property
    def score(self) -> float:
        price = math.log10(1 + self.price_usd) if self.price_usd else 0.5
        return price * (1 + math.log10(1 + self.demand)) * (1.0 if self.in_stock else 0.5) * \
            (1.0 if self.suspect else 0.25)

    @classmethod
    def of_listing(cls, listing: Any, *, suspect: bool, rates: Mapping[str, Decimal] | None = None) -> ListingImpact:
        """From a stored listing (anything with ``price``, ``currency``, ``availability``, ``title``,
        ``description`` and ``marketplace.name``); ``rates``: USD per unit of each currency."""
        price = None
        if listing.price is not None:
            rate = (rates or {}).get((listing.currency or "USD").upper(), Decimal(1) if not listing.currency
                                     or listing.currency.upper() == "USD" else None)
            if rate is not None:
                price = float(Decimal(listing.price) * Decimal(rate))
        availability = (listing.availability or "").lower().replace("https://schema.org/", "")
        return cls(marketplace=listing.marketplace.name, price_usd=price,
                   demand=demand_shown(f"{listing.title or ''} {listing.description or ''}"),
                   in_stock=not any(word in availability for word in _OUT_OF_STOCK), suspect=suspect)


@dataclass(frozen=True, slots=True)
class Impact:
    score: float
    reasons: list[str]


def network_impact(listings: Sequence[ListingImpact], *, relistings: int = 0) -> Impact:
    """The impact of a network's (or one suspect's) live listings, with sentences saying where it comes from."""
    if not listings:
        return Impact(0.0, ["no live listing: nothing to take down now"])
    markets: dict[str, int] = {}
    for item in listings:
        markets[item.marketplace] = markets.get(item.marketplace, 0) + 1
    base = sum(item.score for item in listings)
    market_factor = 1 + MARKETPLACE_FACTOR * (len(markets) - 1)
    relist_factor = 1 + RELISTING_FACTOR * min(relistings, MAX_RELISTINGS_COUNTED)
    score = round(base * market_factor * relist_factor, 2)
    suspects = sum(item.suspect for item in listings)
    where = ", ".join(f"{name} {n}" for name, n in sorted(markets.items(), key=lambda kv: (-kv[1], kv[0])))
    reasons = [f"{len(listings)} live listing(s), {suspects} of them suspects, on {len(markets)} "
               f"marketplace(s) ({where})"]
    prices = [item.price_usd for item in listings if item.price_usd]
    if prices:
        reasons.append(f"prices {min(prices):.0f}-{max(prices):.0f} USD, {sum(prices):.0f} USD for one of each")
    else:
        reasons.append("no price shown")
    demand = [item.demand for item in listings if item.demand]
    if demand:
        reasons.append(f"units sold or reviews shown on {len(demand)} listing(s): {sum(demand):,} in all")
    else:
        reasons.append("no units sold or reviews shown (not every marketplace shows them)")
    out = sum(not item.in_stock for item in listings)
    if out:
        reasons.append(f"{out} listing(s) out of stock (count half)")
    if relistings:
        reasons.append(f"{relistings} relisting(s) after takedowns: it comes back (x{relist_factor:.1f})")
    reasons.append(f"impact {score}: log price x demand summed over live listings (other listings count a "
                   f"quarter), x{market_factor:.2f} for {len(markets)} marketplace(s)")
    return Impact(score, reasons)
