"""Commercial signals: who sells (an authorized seller, or one imitating it) and at what price."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from core.text import quoted
from matching.evidence import Evidence
from matching.model import ProductRef
from matching.price import price_ratio
from matching.sellers import SellerVerdict
from matching.signals.base import BrandView, ListingView

__all__ = ["authorized_evidence", "price_evidence", "seller_evidence"]


def authorized_evidence(view: ListingView, brand: BrandView, *, verdict: SellerVerdict) -> Evidence | None:
    """``authorized_seller``: the seller is one of the brand's own (score times ``authorized_factor``)."""
    if verdict.status != "authorized":
        return None
    return Evidence("authorized_seller", 0.0,
                    f"seller {quoted(view.fields['seller'])} is an authorized seller of {brand.profile.name}",
                    details={"authorized_name": (verdict.authorized_name or "")[:100]})


def seller_evidence(view: ListingView, brand: BrandView, *, verdict: SellerVerdict, brand_evidence: bool
                    ) -> Evidence | None:
    """``seller``: the seller's name imitates an authorized seller (weight ``seller_impersonation_weight``,
    times ``seller_alone_factor`` when nothing else points at the brand)."""
    if verdict.status != "imitation":
        return None
    cfg = brand.config
    strength = cfg.seller_impersonation_weight * (1.0 if brand_evidence else cfg.seller_alone_factor)
    return Evidence(
        "seller", strength,
        f"seller {quoted(view.fields['seller'])} imitates authorized seller "
        f"{quoted(verdict.authorized_name or '')} ({verdict.how})",
        details={"authorized_name": (verdict.authorized_name or "")[:100], "how": verdict.how},
    )


def price_evidence(view: ListingView, brand: BrandView, *, product: ProductRef | None,
                   rates: Mapping[str, Decimal], counts: bool) -> Evidence | None:
    """``price``: the price as a ratio to the product's MSRP (after currency conversion). Below
    ``price_ratio_suspicious`` it is evidence rising to ``price_weight`` at ``price_ratio_floor``; it counts only
    where the listing already points at the brand (``counts``). ``details``: ratio, msrp, msrp_currency, sku."""
    if product is None or product.msrp is None or not counts:
        return None
    listing = view.listing
    ratio = price_ratio(listing.price, listing.currency, product.msrp, product.currency, rates=rates)
    if ratio is None:
        return None
    cfg = brand.config
    strength = 0.0
    if ratio < cfg.price_ratio_suspicious:
        span = max(1e-9, cfg.price_ratio_suspicious - cfg.price_ratio_floor)
        strength = cfg.price_weight * min(1.0, (cfg.price_ratio_suspicious - ratio) / span)
    reason = (f"price {ratio * 100:.0f}% of MSRP ({product.msrp} {product.currency or ''}".rstrip()
              + f" for {product.sku})")
    return Evidence("price", strength, reason,
                    details={"ratio": round(ratio, 4), "msrp": str(product.msrp),
                             "msrp_currency": product.currency, "sku": product.sku})
