"""How an amount of money is written for people: two decimals, then the ISO 4217 code.

Prices are ``Decimal`` values (``storage.models.Money``, ``Numeric(14, 2)``); a page may also hand a string.
Every face (the CLI's tables, the review app, digests, CSV exports, change sentences) writes them through
these two functions, so ``24.00 USD`` looks the same everywhere.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

#: What a table cell shows for a missing price.
MISSING = "—"


def amount_text(value: Decimal | float | str | None) -> str | None:
    """``"24.00"``: the amount with two decimals (rounded half to even, as ``Decimal`` does); None when
    ``value`` is None or not a number."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    return f"{amount:.2f}"


def money_text(value: Decimal | float | str | None, currency: str | None, *, missing: str = MISSING) -> str:
    """``"24.00 USD"`` (``"24.00"`` without a currency), or ``missing`` when there is no amount."""
    amount = amount_text(value)
    if amount is None:
        return missing
    return f"{amount} {currency}" if currency else amount
