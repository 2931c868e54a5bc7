"""Price as a ratio to MSRP, after currency conversion from a rate table."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

__all__ = ["price_ratio"]


def price_ratio(
    price: Decimal | None,
    currency: str | None,
    msrp: Decimal | None,
    msrp_currency: str | None,
    *,
    rates: Mapping[str, Decimal],
) -> float | None:
    """``price / msrp`` with both converted to the rate table's common unit; None when either amount is
    missing, not positive, or a currency has no rate. ``rates`` maps ISO 4217 codes to the value of one
    unit in the common unit (``{"USD": 1, "EUR": 1.08}``); a missing currency on either side is taken to be
    the other side's."""
    if price is None or msrp is None:
        return None
    try:
        price = Decimal(price)
        msrp = Decimal(msrp)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not price.is_finite() or not msrp.is_finite() or price <= 0 or msrp <= 0:
        return None
    cur = (currency or msrp_currency or "").upper()
    msrp_cur = (msrp_currency or currency or "").upper()
    if cur == msrp_cur:
        return float(price / msrp)
    rate = rates.get(cur)
    msrp_rate = rates.get(msrp_cur)
    if rate is None or msrp_rate is None or Decimal(msrp_rate) <= 0:
        return None
    return float((price * Decimal(rate)) / (msrp * Decimal(msrp_rate)))
