"""What a registry import changed, as typed records: one :class:`Change` per difference it applied.

The import (:mod:`services.registry.sync`) makes them; ``lookalike brands import`` prints them (``str``
gives the sentence); :func:`services.rematch.brands_to_rematch` decides from ``brand`` and ``kind`` alone
which brands to score again against the stored listings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChangeKind(StrEnum):
    """Which part of a registry entry changed."""

    CREATED = "created"                      #: a brand new to the database
    OWNER = "owner"                          #: the company a brand belongs to
    DIGEST = "digest"                        #: digest addresses, or an owner's digest preferences
    CATEGORY = "category"
    KEYWORDS = "keywords"
    THRESHOLDS = "thresholds"                #: per-brand matching overrides
    TRADEMARKS = "trademarks"
    RIGHTS_HOLDER = "rights_holder"
    MARK = "mark"                            #: the name or an alias
    AUTHORIZED_SELLER = "authorized_seller"
    PRODUCT = "product"                      #: a product added or removed, its name, MSRP or currency
    IMAGE = "image"                          #: an official photo added, removed or moved
    DOMAINS = "domains"                      #: the brand's official domains (discovery only)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference an import applied.

    ``brand`` is the brand's name (None for an owner's own settings, then ``owner`` names it);
    ``subject`` the thing changed in the registry's words (``"mark 'Full Lips'"``, ``"product FLP-001:
    msrp"``; empty for the brand itself); ``detail`` what happened to it (``"added"``,
    ``"'daily' -> 'weekly'"``).  Only ``brand``, ``owner`` and ``kind`` are for programs; ``subject`` and
    ``detail`` are words for people."""

    brand: str | None
    subject: str
    kind: ChangeKind
    detail: str
    owner: str | None = None

    def __str__(self) -> str:
        """``brand Fullips: mark 'Full Lips' added``; ``owner Et Al Beauty: digest_frequency 'daily' -> 'weekly'``."""
        where = f"brand {self.brand}" if self.brand is not None else f"owner {self.owner}"
        return f"{where}: {self.subject} {self.detail}" if self.subject else f"{where}: {self.detail}"


def altered(old: object, new: object) -> str:
    """The words for a value that changed: ``'a' -> 'b'``, or ``set to 'b'`` when there was none."""
    return f"{old!r} -> {new!r}" if old not in (None, [], {}) else f"set to {new!r}"
