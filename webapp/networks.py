"""The Network page: a seller network's sellers, listings and links drawn as a server-rendered SVG, why each
seller belongs (every link's evidence), totals per marketplace, relistings and the impact estimate; and
acting on the whole network: confirm its open suspects after a count confirmation, then build one takedown
pack per marketplace (and brand) from its confirmed suspects.

Scope (tenant isolation): a principal sees the parts of a network that touch its brands: the sellers with a
listing matched to one of its brands (:func:`webapp.queries.in_scope`), the links between those sellers, and
totals over those listings. A network with no such seller is answered 404, like a missing one. Admins and
analysts see every seller of the network.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from core.errors import LookalikeError
from services import takedowns
from services.accounts import Principal
from services.networks import seller_key_of
from storage.models import (
    Brand,
    Listing,
    Match,
    Network,
    NetworkListing,
    NetworkSeller,
    Relisting,
    SellerLink,
    TakedownPack,
)
from webapp import decisions
from webapp.http import Ctx, Forbidden, NotFound, page
from webapp.queries import in_scope

SUSPECT_CLASSES = ("counterfeit", "lookalike")
MAX_SELLERS_DRAWN = 60
MAX_LISTINGS_PER_SELLER_DRAWN = 12
_PACK_ID_RE = re.compile(r"^[0-9a-f-]{36}$")


@dataclass
class SellerNode:
    key: str
    name: str
    marketplace: str
    listings: list[dict[str, Any]] = field(default_factory=list)
    why: list[dict[str, Any]] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0


@dataclass
class NetworkView:
    network: Network
    sellers: list[SellerNode]
    links: list[dict[str, Any]]
    marketplaces: dict[str, int]
    relistings: list[dict[str, Any]]
    suspects: list[Match]
    hidden_sellers: int
    size: int = 640


def _listings_of(session: Session, network_id: int) -> dict[str, list[Listing]]:
    """The network's listings by seller key (``network_listings``, written by the nightly recompute)."""
    out: dict[str, list[Listing]] = defaultdict(list)
    for listing in session.scalars(select(Listing).join(NetworkListing, NetworkListing.listing_id == Listing.id)
                                   .where(NetworkListing.network_id == network_id).order_by(Listing.id)):
        key = seller_key_of(listing)
        if key is not None:
            out[key].append(listing)
    return out


def network_view(session: Session, principal: Principal, network_id: int) -> NetworkView | None:
    """The network as this principal may see it, or None (absent, dissolved, or nothing in scope)."""
    network = session.get(Network, network_id)
    if network is None or network.status != "active":
        return None
    rows = list(session.scalars(select(NetworkSeller).where(NetworkSeller.network_id == network_id)
                                .order_by(NetworkSeller.key)))
    by_key = {r.key: r for r in rows}
    listings = _listings_of(session, network_id)
    ids = [li.id for items in listings.values() for li in items]
    matches = list(session.scalars(select(Match).where(Match.listing_id.in_(ids), in_scope(principal))
                                   .order_by(Match.score.desc(), Match.id))) if ids else []
    matched_listings = {m.listing_id for m in matches}
    visible = [k for k in by_key if principal.brand_ids is None or any(li.id in matched_listings for li in listings[k])]
    if not visible:
        return None
    per_listing: dict[int, list[Match]] = defaultdict(list)
    for m in matches:
        per_listing[m.listing_id].append(m)
    nodes = []
    for key in visible:
        items = [li for li in listings[key] if principal.brand_ids is None or li.id in matched_listings]
        node = SellerNode(key=key, name=by_key[key].name or key, marketplace=items[0].marketplace.name if items
                          else key.split("/", 1)[0])
        for li in items:
            best = per_listing.get(li.id, [None])[0]
            node.listings.append({"id": li.id, "title": li.title, "status": li.status, "marketplace": li.marketplace.name,
                                  "match": best, "suspect": best is not None and best.klass in SUSPECT_CLASSES})
        nodes.append(node)
    shown = set(visible)
    links = []
    for link in session.scalars(select(SellerLink).where(SellerLink.seller_a.in_(sorted(shown)),
                                                         SellerLink.seller_b.in_(sorted(shown)))
                                .order_by(SellerLink.strength.desc(), SellerLink.id)):
        links.append({"a": link.seller_a, "b": link.seller_b, "strength": link.strength, "strong": link.strong,
                      "evidence": list(link.evidence or [])})
    node_of = {n.key: n for n in nodes}
    for link in links:
        for me, other in ((link["a"], link["b"]), (link["b"], link["a"])):
            node_of[me].why.append({"other": node_of[other].name, "other_key": other, **link})
    _layout(nodes)
    markets: Counter[str] = Counter()
    for node in nodes:
        for li in node.listings:
            if li["status"] == "active":
                markets[li["marketplace"]] += 1
    visible_ids = [li["id"] for n in nodes for li in n.listings]
    relistings = []
    if visible_ids:
        for r in session.scalars(select(Relisting).where(Relisting.listing_id.in_(visible_ids)).order_by(Relisting.id)):
            relistings.append({"listing_id": r.listing_id, "earlier_id": r.earlier_listing_id,
                               "evidence": list(r.evidence or []), "at": r.detected_at,
                               "match": (per_listing.get(r.listing_id) or [None])[0]})
    suspects = [m for m in matches if m.klass in SUSPECT_CLASSES]
    return NetworkView(network, nodes, links, dict(sorted(markets.items())), relistings, suspects,
                       hidden_sellers=len(rows) - len(visible))


def _layout(nodes: list[SellerNode], size: int = 640) -> None:
    """Sellers on a circle (one in the middle when alone), listings as dots around each."""
    centre, radius = size / 2, size / 2 - 90
    for i, node in enumerate(nodes[:MAX_SELLERS_DRAWN]):
        angle = 2 * math.pi * i / max(len(nodes[:MAX_SELLERS_DRAWN]), 1) - math.pi / 2
        node.x = round(centre + radius * math.cos(angle), 1) if len(nodes) > 1 else centre
        node.y = round(centre + radius * math.sin(angle), 1) if len(nodes) > 1 else centre
        for j, li in enumerate(node.listings[:MAX_LISTINGS_PER_SELLER_DRAWN]):
            a = 2 * math.pi * j / max(len(node.listings[:MAX_LISTINGS_PER_SELLER_DRAWN]), 1)
            li["x"], li["y"] = round(node.x + 34 * math.cos(a), 1), round(node.y + 34 * math.sin(a), 1)


def network_of_listing(session: Session, listing: Listing) -> Network | None:
    key = seller_key_of(listing)
    row = session.get(NetworkSeller, key) if key else None
    if row is None or row.network_id is None:
        return None
    network = session.get(Network, row.network_id)
    return network if network is not None and network.status == "active" else None


def networks_of_seller_name(session: Session, name: str) -> list[Network]:
    ids = sorted({nid for (nid,) in session.execute(select(NetworkSeller.network_id).where(
        NetworkSeller.name == name[:300], NetworkSeller.network_id.is_not(None)))})
    return [n for n in (session.get(Network, i) for i in ids) if n is not None and n.status == "active"]


def _view(ctx: Ctx) -> NetworkView:
    view = network_view(ctx.db, ctx.principal, ctx.request.path_params["network_id"])
    if view is None:
        raise NotFound
    return view


def _open_suspects(view: NetworkView) -> list[Match]:
    return [m for m in view.suspects if m.status == "new"]


@page()
def network_page(ctx: Ctx) -> Response:
    view = _view(ctx)
    return ctx.render("network.html", v=view, n=view.network, open_suspects=_open_suspects(view),
                      confirmed=[m for m in view.suspects if m.status == "confirmed"],
                      done=ctx.request.query_params.get("done"))


@page()
def networks_list(ctx: Ctx) -> Response:
    """Networks by impact, largest first (only those with something in scope)."""
    rows = []
    for network in ctx.db.scalars(select(Network).where(Network.status == "active")
                                  .order_by(Network.impact.desc(), Network.id).limit(200)):
        view = network_view(ctx.db, ctx.principal, network.id)
        if view is not None:
            rows.append(view)
    return ctx.render("networks.html", rows=rows)


def _can_decide(ctx: Ctx) -> None:
    if not ctx.principal.can_decide:
        raise Forbidden("Owner accounts can look but not decide; an analyst decides.")


@page()
def confirm_form(ctx: Ctx) -> Response:
    _can_decide(ctx)
    view = _view(ctx)
    return ctx.render("network_confirm.html", v=view, n=view.network, ids=[m.id for m in _open_suspects(view)],
                      sample=_open_suspects(view)[:20], changed_count=None)


@page()
def confirm_apply(ctx: Ctx) -> Response:
    _can_decide(ctx)
    view = _view(ctx)
    ids = [m.id for m in _open_suspects(view)]
    expected = ctx.param("expected") or ""
    if not expected.isdigit() or int(expected) != len(ids):
        return ctx.render("network_confirm.html", v=view, n=view.network, ids=ids, sample=_open_suspects(view)[:20],
                          changed_count=expected)
    note = f"network {view.network.id}: {ctx.param('note') or 'confirmed with its network'}"[:1000]
    done = decisions.decide(ctx.db, ctx.web, ctx.user, ids, "confirm", note=note)
    return RedirectResponse(f"/networks/{view.network.id}?done={len(done.changed)}", status_code=303)


@page()
def build_packs(ctx: Ctx) -> Response:
    """One takedown pack per marketplace (and brand) from the network's confirmed suspects in scope."""
    _can_decide(ctx)
    view = _view(ctx)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for m in view.suspects:
        if m.status == "confirmed":
            groups[(m.listing.marketplace.name, m.brand.name)].append(m.id)
    if not groups:
        raise LookalikeError("no confirmed suspect in this network: confirm them first")
    settings = ctx.app.settings
    results, problems = [], []
    for (market, brand), ids in sorted(groups.items()):
        out = settings.data_dir / "packs" / f"network-{view.network.id}-{_slug(market)}-{_slug(brand)}.zip"
        try:
            result = takedowns.build_pack(ctx.app.database, settings, brand=brand, out=out, marketplace=market,
                                          actor=ctx.user.username, only=ids)
        except LookalikeError as exc:
            problems.append(f"{market} ({brand}): {str(exc).splitlines()[0][:300]}")
            continue
        results.append({"marketplace": market, "brand": brand, "notices": result.items, "pack_id": result.pack_id,
                        "refused": len(result.refused), "batches": result.batches})
    return ctx.render("network_packs.html", v=view, n=view.network, results=results, problems=problems)


@page()
def download_pack(ctx: Ctx) -> Response:
    view = _view(ctx)
    pack_id = ctx.request.path_params["pack_id"]
    if not _PACK_ID_RE.match(pack_id):
        raise NotFound
    pack = ctx.db.get(TakedownPack, pack_id)
    brand = ctx.db.get(Brand, pack.brand_id) if pack else None
    if pack is None or brand is None or (ctx.principal.brand_ids is not None and brand.id not in ctx.principal.brand_ids):
        raise NotFound
    path = ctx.app.settings.data_dir / "packs" / \
        f"network-{view.network.id}-{_slug(pack.marketplace or '')}-{_slug(brand.name)}.zip"
    if not Path(path).is_file():
        raise NotFound
    return FileResponse(path, media_type="application/zip", filename=path.name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "x"


def routes() -> list[Route]:
    return [
        Route("/networks", networks_list),
        Route("/networks/{network_id:int}", network_page),
        Route("/networks/{network_id:int}/confirm", confirm_form, methods=["GET"]),
        Route("/networks/{network_id:int}/confirm", confirm_apply, methods=["POST"]),
        Route("/networks/{network_id:int}/packs", build_packs, methods=["POST"]),
        Route("/networks/{network_id:int}/packs/{pack_id:str}.zip", download_pack),
    ]


__all__ = ["network_of_listing", "network_view", "networks_of_seller_name", "routes"]
