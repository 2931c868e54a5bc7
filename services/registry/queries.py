"""The registered brands as ``lookalike brands list`` shows them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.quicklist import digest_summary  # shared with the fast `brands list`
from storage.models import Brand, Owner, Product


def _digest_summary(owner: Owner) -> str:
    """``daily``, ``weekly, min 0.6, counterfeit+lookalike`` or ``off``: an owner's digest preferences."""
    return digest_summary(owner.digest_enabled, owner.digest_frequency, owner.digest_min_score,
                          owner.digest_classes)


def _by_id(row: Any) -> int:
    return row.id


def list_brands(session: Session) -> list[dict[str, Any]]:
    """A summary row per registered brand, for ``lookalike brands list`` (aliases and sellers in the order
    they were added; :func:`services.quicklist.brand_rows` gives the same rows without the ORM)."""
    brands = session.scalars(
        select(Brand).order_by(Brand.name).options(
            selectinload(Brand.owner), selectinload(Brand.marks), selectinload(Brand.authorized_sellers),
            selectinload(Brand.products).selectinload(Product.images),
        )
    ).all()
    return [
        {
            "brand": b.name,
            "owner": b.owner.name,
            "digest_to": list(b.digest_to or []),
            "digest": _digest_summary(b.owner),
            "category": b.category,
            "aliases": [m.text for m in sorted(b.marks, key=_by_id) if m.kind == "alias"],
            "products": len(b.products),
            "images": sum(len(p.images) for p in b.products),
            "authorized_sellers": [s.name for s in sorted(b.authorized_sellers, key=_by_id)],
        }
        for b in brands
    ]
