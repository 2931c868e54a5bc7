"""ISO 4217 currency codes: the one table, taken from ``pycountry`` (the Debian iso-codes data).

:data:`ISO_4217_CODES` is every code pycountry lists as current, minus the codes that are not money a
shop prices in (:data:`NOT_MONEY`: precious metals, bond-market units, the SDR, settlement units, fund
codes, the testing and "no currency" codes).  :data:`STILL_SEEN` are codes withdrawn recently that
saved and stale shop pages still show; page parsing accepts them, the registry does not.
"""

from __future__ import annotations

import pycountry

NOT_MONEY: frozenset[str] = frozenset(
    ["XAG", "XAU", "XPD", "XPT",            # precious metals
     "XBA", "XBB", "XBC", "XBD",            # bond-market units
     "XDR", "XSU", "XUA", "XAD",            # SDR and settlement units
     "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW",  # fund codes
     "XTS", "XXX"]                          # testing, no currency
)
"""Codes in ISO 4217 that name no currency a price is written in."""

ISO_4217_CODES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies) - NOT_MONEY
"""Upper-case ISO 4217 codes of currencies in current use."""

STILL_SEEN: frozenset[str] = frozenset(["ANG", "BGN", "HRK"])
"""Withdrawn codes (2023-2026) still found on shop pages."""

PAGE_CURRENCIES: frozenset[str] = ISO_4217_CODES | STILL_SEEN
"""The codes page parsing recognises."""


def is_currency_code(code: str) -> bool:
    """True for an upper-case ISO 4217 code in current use (``"USD"``), False otherwise."""
    return code in ISO_4217_CODES
