"""The review queue and the brand registry as rows, read without SQLAlchemy (``storage.lean``).

``lookalike review list`` and ``lookalike brands list`` are looked at many times a day; through the ORM
they spent most of their time importing it (issue 14.5).  The functions here give the same rows, in the same
order, with the same errors as :func:`services.review.list_matches` and :func:`services.registry.queries.list_brands`
(tests/test_cli_startup.py compares them on SQLite and PostgreSQL), from a :class:`storage.lean.Reader`.
The rules they share with those services (the status check, the queue order, the brand lookup, the digest
summary) are defined here once and used by both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.errors import LookalikeError
from matching.model import CLASS_RANK
from storage.lean import MATCH_STATUSES, Reader


def check_status(status: str | None) -> str | None:
    """``status`` when it is a match status (or None); ``LookalikeError`` otherwise."""
    if status is not None and status not in MATCH_STATUSES:
        raise LookalikeError(f"unknown status {status!r}: choose one of {', '.join(MATCH_STATUSES)}")
    return status


def digest_summary(enabled: bool | None, frequency: str | None, min_score: float | None,
                   classes: list[str] | None) -> str:
    """``daily``, ``weekly, min 0.6, counterfeit+lookalike`` or ``off``: an owner's digest preferences."""
    if enabled is False:
        return "off"
    parts = [frequency or "daily"]
    if min_score is not None:
        parts.append(f"min {min_score:g}")
    if classes:
        parts.append("+".join(classes))
    return ", ".join(parts)


@dataclass(frozen=True)
class QueueRow:
    """What ``review list`` shows of one match."""

    id: int
    score: float
    klass: str
    status: str
    brand: str
    title: str | None
    price: Decimal | None
    currency: str | None
    seller: str | None
    marketplace: str

    @classmethod
    def from_match(cls, match: Any) -> QueueRow:
        """The row of a ``storage.models.Match`` with its listing, marketplace and brand loaded."""
        listing = match.listing
        return cls(id=match.id, score=match.score, klass=match.klass, status=match.status, brand=match.brand.name,
                   title=listing.title, price=listing.price, currency=listing.currency, seller=listing.seller,
                   marketplace=listing.marketplace.name)


def find_brand_id(reader: Reader, brand: str | int) -> int:
    """The id of a brand given by id or by name (case-insensitive), as :func:`services.review.find_brand`."""
    if isinstance(brand, int) or (isinstance(brand, str) and brand.isdigit()):
        rows = reader.select(["brands.id"], "FROM brands WHERE brands.id = ?", [int(brand)])
        if rows:
            return rows[0][0]
    if isinstance(brand, str):
        rows = reader.select(["brands.id"], "FROM brands WHERE lower(brands.name) = ? LIMIT ?",
                             [brand.strip().lower(), 1])
        if rows:
            return rows[0][0]
    raise LookalikeError(f"no brand named {brand!r}")


def queue_rows(reader: Reader, *, brand: str | int | None = None, status: str | None = None,
               min_score: float | None = None, limit: int | None = None) -> list[QueueRow]:
    """Matches in queue order (suspects, then accessories, then resales, then the rest; best score first,
    then the oldest), filtered as :func:`services.review.list_matches` filters them."""
    where: list[str] = []
    params: list[Any] = []
    if brand is not None:
        where.append("matches.brand_id = ?")
        params.append(find_brand_id(reader, brand))
    if check_status(status) is not None:
        where.append("matches.status = ?")
        params.append(status)
    if min_score is not None:
        where.append("matches.score >= ?")
        params.append(min_score)
    rank = " ".join("WHEN ? THEN ?" for _ in CLASS_RANK)
    rank_params = [value for pair in CLASS_RANK.items() for value in pair]
    rest = (
        "FROM matches JOIN listings ON listings.id = matches.listing_id "
        "JOIN brands ON brands.id = matches.brand_id JOIN marketplaces ON marketplaces.id = listings.marketplace_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY CASE matches.klass {rank} ELSE ? END, matches.score DESC, matches.id"
        + (" LIMIT ?" if limit is not None else "")
    )
    params = [*params, *rank_params, len(CLASS_RANK), *([limit] if limit is not None else [])]
    columns = ["matches.id", "matches.score", "matches.klass", "matches.status", "brands.name", "listings.title",
               "listings.price", "listings.currency", "listings.seller", "marketplaces.name"]
    return [QueueRow(*row) for row in reader.select(columns, rest, params)]


def brand_rows(reader: Reader) -> list[dict[str, Any]]:
    """A summary row per registered brand, by name, as :func:`services.registry.queries.list_brands` gives them."""
    brands = reader.select(
        ["brands.id", "brands.name", "brands.category", "brands.digest_to", "owners.name", "owners.digest_enabled",
         "owners.digest_frequency", "owners.digest_min_score", "owners.digest_classes"],
        "FROM brands JOIN owners ON owners.id = brands.owner_id ORDER BY brands.name")
    aliases: dict[int, list[str]] = {}
    for brand_id, text in reader.select(["marks.brand_id", "marks.text"],
                                        "FROM marks WHERE marks.kind = ? ORDER BY marks.brand_id, marks.id",
                                        ["alias"]):
        aliases.setdefault(brand_id, []).append(text)
    sellers: dict[int, list[str]] = {}
    for brand_id, name in reader.select(
            ["authorized_sellers.brand_id", "authorized_sellers.name"],
            "FROM authorized_sellers ORDER BY authorized_sellers.brand_id, authorized_sellers.id"):
        sellers.setdefault(brand_id, []).append(name)
    products = dict(reader.select(["products.brand_id", "count(products.id)"],
                                  "FROM products GROUP BY products.brand_id"))
    images = dict(reader.select(
        ["products.brand_id", "count(reference_images.id)"],
        "FROM products JOIN reference_images ON reference_images.product_id = products.id "
        "GROUP BY products.brand_id"))
    return [
        {
            "brand": name,
            "owner": owner,
            "digest_to": list(digest_to or []),
            "digest": digest_summary(enabled, frequency, min_score, classes),
            "category": category,
            "aliases": aliases.get(brand_id, []),
            "products": products.get(brand_id, 0),
            "images": images.get(brand_id, 0),
            "authorized_sellers": sellers.get(brand_id, []),
        }
        for brand_id, name, category, digest_to, owner, enabled, frequency, min_score, classes in brands
    ]
