"""The review app's query layer: every read goes through here, scoped to the principal's brands.

Tenant isolation lives in this module and nowhere else: each query starts from :func:`scoped_matches`
(or checks :func:`visible_match` / :func:`visible_image`), which keeps only matches of the brands the
principal may see (``Principal.brand_ids``; None means every brand). Something outside the scope is
reported exactly like something that does not exist (None), so that the routes answer 404 for both.

Queue filters arrive as query-string text and are validated by :meth:`QueueFilter.parse`; bad input is a
``LookalikeError`` with a one-line message (the app answers 400 with it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy import Select, and_, case, exists, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from core.errors import LookalikeError
from matching.model import CLASS_RANK, CLASSES
from services.accounts import Principal
from services.export import iso_utc, price_text, rows_of_matches
from services.review import as_utc
from storage.models import (
    MATCH_STATUSES,
    Brand,
    Image,
    Listing,
    ListingImage,
    Marketplace,
    Match,
    MatchEvent,
    Network,
    NetworkListing,
    Owner,
    Product,
    ReferenceImage,
)

PAGE_SIZE = 50
MAX_PAGE = 100_000
#: Sort orders of the queue: name -> (label, sort key, descending). Ties are broken by match id in the
#: same direction, so every order is total and "next" is well defined.
#: ``rank`` is the CLI's queue order (``services.review.queue_order``): suspects, then accessories, then
#: resales, each best score first; as one key, ``2 * class rank - score``, so that "next" is one lookup.
_RANK = case(dict(CLASS_RANK), value=Match.klass, else_=len(CLASS_RANK))
SORT_KEYS: dict[str, tuple[str, Any, bool]] = {
    "rank": ("class, then best score", _RANK * 2 - Match.score, False),
    "score": ("score, best first", Match.score, True),
    "score_asc": ("score, weakest first", Match.score, False),
    "newest": ("newest first", Match.created_at, True),
    "changed": ("recently changed", Match.updated_at, True),
    "price": ("price, lowest first", func.coalesce(Listing.price, 10**12), False),
    # docs/networks.md: the seller network's impact estimate, then the listing's own (it sells nothing of
    # a network); listings of unknown sellers last.
    "impact": ("impact: largest network first", func.coalesce(
        select(Network.impact).join(NetworkListing, NetworkListing.network_id == Network.id)
        .where(NetworkListing.listing_id == Match.listing_id).scalar_subquery(),
        select(NetworkListing.impact).where(NetworkListing.listing_id == Match.listing_id).scalar_subquery(),
        -1.0), True),
}
SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    name: (label, (key.desc(), Match.id.desc()) if desc else (key.asc(), Match.id.asc()))
    for name, (label, key, desc) in SORT_KEYS.items()
}
#: Match classes in the order the queue offers them (others found in the data are listed after these).
KNOWN_CLASSES = CLASSES
#: Status filter values: a review status, ``any``, or the default ``new`` (open work).
STATUS_CHOICES = ("new", "confirmed", "dismissed", "reported", "removed", "any")


def _date(text: str, name: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise LookalikeError(f"{name} {text[:40]!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    return as_utc(value)  # type: ignore[return-value]


def _score(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LookalikeError(f"{name} {text[:40]!r} is not a number") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise LookalikeError(f"{name} must be between 0 and 1")
    return value


def _int(text: str, name: str, *, low: int = 0, high: int = 2**31 - 1) -> int:
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise LookalikeError(f"{name} {text[:40]!r} is not a number between {low} and {high}")
    return int(text)


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows. Every field maps to a query-string parameter of the same name.

    ``brand``, ``owner``, ``marketplace``: ids. ``klass``: a match class. ``status``: a review status or
    ``any`` (default ``new``: open work). ``min_score``/``max_score``: inclusive, 0..1. ``seller``: the exact
    seller name. ``night``: a UTC date; matches created that day. ``created_since``/``changed_since``:
    UTC times (a date means midnight); ``changed``: only matches whose listing changed since the last review.
    """

    brand: int | None = None
    owner: int | None = None
    klass: str | None = None
    status: str = "new"
    min_score: float | None = None
    max_score: float | None = None
    marketplace: int | None = None
    seller: str | None = None
    night: dt.date | None = None
    created_since: dt.datetime | None = None
    changed_since: dt.datetime | None = None
    changed: bool = False
    sort: str = "rank"
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QueueFilter:
        """From query-string values; empty values mean "no filter"; unknown names are ignored."""
        def get(name: str) -> str | None:
            value = params.get(name)
            return value.strip() if isinstance(value, str) and value.strip() else None

        values: dict[str, Any] = {}
        for name in ("brand", "owner", "marketplace"):
            if (text := get(name)) is not None:
                values[name] = _int(text, name)
        if (text := get("klass")) is not None:
            if len(text) > 20:
                raise LookalikeError("klass is too long")
            values["klass"] = text
        if (text := get("status")) is not None:
            if text not in STATUS_CHOICES:
                raise LookalikeError(f"unknown status {text[:20]!r}: choose one of {', '.join(STATUS_CHOICES)}")
            values["status"] = text
        for name in ("min_score", "max_score"):
            if (text := get(name)) is not None:
                values[name] = _score(text, name)
        if (text := get("seller")) is not None:
            values["seller"] = text[:300]
        if (text := get("night")) is not None:
            values["night"] = _date(text, "night").date()
        for name in ("created_since", "changed_since"):
            if (text := get(name)) is not None:
                values[name] = _date(text, name)
        if (text := get("changed")) is not None:
            values["changed"] = text in ("1", "on", "true", "yes")
        if (text := get("sort")) is not None:
            if text not in SORTS:
                raise LookalikeError(f"unknown sort {text[:20]!r}: choose one of {', '.join(SORTS)}")
            values["sort"] = text
        if (text := get("page")) is not None:
            values["page"] = _int(text, "page", low=1, high=MAX_PAGE)
        found = cls(**values)
        if found.min_score is not None and found.max_score is not None and found.min_score > found.max_score:
            raise LookalikeError("min_score is above max_score")
        return found

    def params(self, **changes: Any) -> dict[str, str]:
        """The query-string form (defaults left out), with ``changes`` applied; ``page`` resets unless given."""
        changes.setdefault("page", 1)
        target = replace(self, **changes)
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(target, f.name)
            if value is None or value == f.default or value is False:
                continue
            if isinstance(value, dt.datetime):
                value = iso_utc(value)
            elif isinstance(value, bool):
                value = "1"
            out[f.name] = str(value)
        return out


# ---------------------------------------------------------------------------------------------- scope


def in_scope(principal: Principal) -> Any:
    """The WHERE clause that keeps a principal's brands (true for admins and analysts)."""
    if principal.brand_ids is None:
        return true()
    return Match.brand_id.in_(sorted(principal.brand_ids)) if principal.brand_ids else false()


def scoped_matches(principal: Principal, *columns: Any, listing: bool = True) -> Select:
    """SELECT ``columns`` (default: Match) FROM matches (JOIN listings unless ``listing=False``), limited
    to the principal's brands."""
    stmt = select(*(columns or (Match,))).select_from(Match)
    if listing:
        stmt = stmt.join(Listing, Listing.id == Match.listing_id)
    return stmt.where(in_scope(principal))


def needs_listing(f: QueueFilter, *, skip: str | None = None) -> bool:
    """Whether the filter (or its sort) reads a listing column; counts skip the join when it does not."""
    return (f.marketplace is not None and skip != "marketplace") or f.seller is not None or f.sort == "price"


def _conditions(f: QueueFilter, *, skip: str | None = None) -> list[Any]:
    """WHERE clauses of a filter; ``skip`` leaves one dimension out (for that dimension's counts)."""
    out: list[Any] = []
    if f.brand is not None and skip != "brand":
        out.append(Match.brand_id == f.brand)
    if f.owner is not None and skip != "owner":
        out.append(Match.brand_id.in_(select(Brand.id).where(Brand.owner_id == f.owner)))
    if f.klass is not None and skip != "klass":
        out.append(Match.klass == f.klass)
    if f.status != "any" and skip != "status":
        out.append(Match.status == f.status)
    if f.min_score is not None:
        out.append(Match.score >= f.min_score)
    if f.max_score is not None:
        out.append(Match.score <= f.max_score)
    if f.marketplace is not None and skip != "marketplace":
        out.append(Listing.marketplace_id == f.marketplace)
    if f.seller is not None:
        out.append(Listing.seller == f.seller)
    if f.night is not None:
        start = dt.datetime(f.night.year, f.night.month, f.night.day, tzinfo=dt.UTC)
        out.append(and_(Match.created_at >= start, Match.created_at < start + dt.timedelta(days=1)))
    if f.created_since is not None:
        out.append(Match.created_at >= f.created_since)
    if f.changed_since is not None:
        out.append(Match.updated_at >= f.changed_since)
    if f.changed:
        out.append(func.json_array_length(Match.changes) > 0)
    return out


def filtered_matches(principal: Principal, f: QueueFilter, *columns: Any, listing: bool = True) -> Select:
    return scoped_matches(principal, *columns, listing=listing or needs_listing(f)).where(*_conditions(f))


# ---------------------------------------------------------------------------------------------- queue


@dataclass
class Facet:
    """One filter's choices with how many matches each would show: [(value, label, count)]."""

    name: str
    choices: list[tuple[Any, str, int]] = field(default_factory=list)


@dataclass
class QueueRow:
    match_id: int
    score: float
    klass: str
    status: str
    brand: str
    title: str | None
    price: str | None
    currency: str | None
    seller: str | None
    marketplace: str
    listing_url: str
    created_at: dt.datetime
    changed: bool
    listing_id: int = 0
    thumbnail: str | None = None  # sha256 of the listing's first stored photo


@dataclass
class QueuePage:
    filter: QueueFilter
    rows: list[QueueRow]
    #: Matches the filter selects (all pages).
    total: int
    #: Matches in the principal's scope with the default status filter only ("112 of 362").
    scope_total: int
    facets: dict[str, Facet]
    nights: list[dt.date]

    def counts(self, facet: str) -> dict[Any, int]:
        return {key: count for key, _label, count in self.facets[facet].choices}

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))


def _facet(session: Session, principal: Principal, f: QueueFilter, name: str) -> Facet:
    join = needs_listing(f, skip=name)
    if name == "brand":
        key, label = Brand.id, Brand.name
        stmt = scoped_matches(principal, key, label, func.count(), listing=join).join(Brand, Brand.id == Match.brand_id)
    elif name == "owner":
        key, label = Owner.id, Owner.name
        stmt = (scoped_matches(principal, key, label, func.count(), listing=join).join(Brand, Brand.id == Match.brand_id)
                .join(Owner, Owner.id == Brand.owner_id))
    elif name == "marketplace":
        key, label = Marketplace.id, Marketplace.name
        stmt = scoped_matches(principal, key, label, func.count()).join(
            Marketplace, Marketplace.id == Listing.marketplace_id)
    else:
        column = Match.klass if name == "klass" else Match.status
        key = label = column
        stmt = scoped_matches(principal, column, func.count(), listing=join)
    stmt = stmt.where(*_conditions(f, skip=name)).group_by(*dict.fromkeys((key, label)))
    rows = session.execute(stmt).all()
    if name in ("klass", "status"):
        order = KNOWN_CLASSES if name == "klass" else MATCH_STATUSES
        rank = {v: i for i, v in enumerate(order)}
        choices = sorted(((r[0], r[0], r[1]) for r in rows), key=lambda c: (rank.get(c[0], len(rank)), c[0]))
    else:
        choices = sorted(((r[0], r[1], r[2]) for r in rows), key=lambda c: c[1].lower())
    return Facet(name, choices)


def queue_page(session: Session, principal: Principal, f: QueueFilter) -> QueuePage:
    """One page of the queue, its total, the scope total, and counts for each filter's choices."""
    total = session.scalar(filtered_matches(principal, f, func.count(), listing=False)) or 0
    scope_total = session.scalar(scoped_matches(principal, func.count(), listing=False).where(
        *_conditions(QueueFilter(status=f.status)))) or 0
    page = min(f.page, max(1, math.ceil(total / PAGE_SIZE)))
    # Two steps: the page's ids (no join unless a filter needs one), then their details.
    page_ids = list(session.scalars(
        filtered_matches(principal, f, Match.id, listing=False).order_by(*SORTS[f.sort][1])
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    rows = visible_matches_brief(session, principal, page_ids)
    listing_ids = [row.listing_id for row in rows]
    thumbs = first_photos(session, listing_ids)
    for row, listing_id in zip(rows, listing_ids, strict=True):
        row.thumbnail = thumbs.get(listing_id)
    facets = {name: _facet(session, principal, f, name) for name in ("brand", "owner", "klass", "status",
                                                                     "marketplace")}
    return QueuePage(replace(f, page=page), rows, total, scope_total, facets, recent_nights(session, principal))


def first_photos(session: Session, listing_ids: list[int]) -> dict[int, str]:
    """The first stored photo (sha256) of each listing, by position."""
    if not listing_ids:
        return {}
    out: dict[int, str] = {}
    stmt = (select(ListingImage.listing_id, ListingImage.sha256)
            .where(ListingImage.listing_id.in_(listing_ids), ListingImage.sha256.is_not(None))
            .order_by(ListingImage.listing_id, ListingImage.position))
    for listing_id, sha in session.execute(stmt):
        out.setdefault(listing_id, sha)
    return out


def recent_nights(session: Session, principal: Principal, *, limit: int = 14) -> list[dt.date]:
    """The UTC dates on which matches in scope were created, newest first (at most ``limit``)."""
    utc = func.timezone("UTC", Match.created_at) if session.get_bind().dialect.name == "postgresql" \
        else Match.created_at
    day = func.date(utc)
    stmt = scoped_matches(principal, day, listing=False).group_by(day).order_by(day.desc()).limit(limit)
    out = []
    for (value,) in session.execute(stmt):
        out.append(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10]))
    return out


def match_ids(session: Session, principal: Principal, f: QueueFilter) -> list[int]:
    """Every match id the filter selects, in queue order (for bulk decisions)."""
    return list(session.scalars(filtered_matches(principal, f, Match.id).order_by(*SORTS[f.sort][1])))


def neighbours(session: Session, principal: Principal, f: QueueFilter, match_id: int) -> tuple[int | None, int | None]:
    """The ids before and after ``match_id``'s place in the filtered queue (None at either end).

    Keyset lookups (two indexed LIMIT 1 queries), so a match page costs the same in a queue of any size;
    the match need not itself pass the filter (it may just have been decided).
    """
    _label, key, desc = SORT_KEYS[f.sort]
    value = session.execute(scoped_matches(principal, key, listing=f.sort == "price")
                            .where(Match.id == match_id)).first()
    if value is None:
        return None, None
    value = value[0]

    def step(forward: bool) -> int | None:
        later = forward == desc  # walking towards smaller keys
        if value is None:
            beyond = Match.id < match_id if later else Match.id > match_id
        else:
            beyond = or_(key < value, and_(key == value, Match.id < match_id)) if later else \
                or_(key > value, and_(key == value, Match.id > match_id))
        order = (key.desc(), Match.id.desc()) if later else (key.asc(), Match.id.asc())
        return session.scalar(filtered_matches(principal, f, Match.id, listing=False).where(beyond)
                              .order_by(*order).limit(1))

    return step(False), step(True)


def export_rows(session: Session, principal: Principal, f: QueueFilter) -> list[dict[str, Any]]:
    """The whole filtered set as rows of ``services.export.SUSPECT_COLUMNS``, in queue order."""
    stmt = (filtered_matches(principal, f)
            .options(selectinload(Match.listing).selectinload(Listing.marketplace), selectinload(Match.brand),
                     selectinload(Match.product).selectinload(Product.images))
            .order_by(*SORTS[f.sort][1]))
    return rows_of_matches(session, list(session.scalars(stmt)))


# ------------------------------------------------------------------------------------ match and seller


def visible_match(session: Session, principal: Principal, match_id: int) -> Match | None:
    """A match with everything its page shows, or None when absent or outside the principal's scope."""
    stmt = (
        scoped_matches(principal).where(Match.id == match_id)
        .options(
            selectinload(Match.listing).selectinload(Listing.images),
            selectinload(Match.listing).selectinload(Listing.marketplace),
            selectinload(Match.brand).selectinload(Brand.authorized_sellers),
            selectinload(Match.brand).selectinload(Brand.owner),
            selectinload(Match.product).selectinload(Product.images).selectinload(ReferenceImage.image),
            selectinload(Match.events),
        )
    )
    return session.scalars(stmt).one_or_none()


def brand_reference_images(session: Session, brand_id: int) -> list[ReferenceImage]:
    """Every official photo of a brand (used when the match names no product)."""
    stmt = (select(ReferenceImage).join(Product, Product.id == ReferenceImage.product_id)
            .where(Product.brand_id == brand_id).options(selectinload(ReferenceImage.image),
                                                         selectinload(ReferenceImage.product))
            .order_by(Product.sku, ReferenceImage.position))
    return list(session.scalars(stmt))


@dataclass
class SellerListing:
    match_id: int | None
    listing_id: int
    title: str | None
    marketplace: str
    brand: str | None
    klass: str | None
    score: float | None
    status: str | None


@dataclass
class SellerPage:
    seller: str
    rows: list[SellerListing]
    marketplaces: list[str]
    #: Counts of this seller's matches in scope by status.
    by_status: dict[str, int]
    #: Distinct listings with a confirmed, reported or removed match: the repeat-offender count.
    offences: int


def seller_page(session: Session, principal: Principal, seller: str, *, limit: int = 500) -> SellerPage | None:
    """Every listing and match of one seller (exact name) across marketplaces, within scope.

    Admins and analysts also see the seller's listings that matched no brand; owners see only listings
    matched to their brands. None when the principal can see nothing of this seller.
    """
    stmt = (scoped_matches(principal, Match.id, Listing.id, Listing.title, Marketplace.name, Brand.name,
                           Match.klass, Match.score, Match.status)
            .join(Brand, Brand.id == Match.brand_id).join(Marketplace, Marketplace.id == Listing.marketplace_id)
            .where(Listing.seller == seller).order_by(Match.score.desc(), Match.id).limit(limit))
    rows = [SellerListing(*r) for r in session.execute(stmt)]
    if principal.brand_ids is None:
        seen = {r.listing_id for r in rows}
        unmatched = (select(Listing.id, Listing.title, Marketplace.name)
                     .join(Marketplace, Marketplace.id == Listing.marketplace_id)
                     .where(Listing.seller == seller, ~exists().where(Match.listing_id == Listing.id))
                     .order_by(Listing.id).limit(limit))
        rows += [SellerListing(None, lid, title, market, None, None, None, None)
                 for lid, title, market in session.execute(unmatched) if lid not in seen]
    if not rows:
        return None
    by_status = dict(session.execute(
        scoped_matches(principal, Match.status, func.count()).where(Listing.seller == seller).group_by(Match.status)
    ).all())
    offences = session.scalar(
        scoped_matches(principal, func.count(func.distinct(Listing.id)))
        .where(Listing.seller == seller, Match.status.in_(("confirmed", "reported", "removed")))
    ) or 0
    return SellerPage(seller, rows, sorted({r.marketplace for r in rows}), by_status, offences)


def same_seller(session: Session, principal: Principal, match: Match, *, limit: int = 20) -> list[SellerListing]:
    """Other matches in scope whose listing has the same seller name (any marketplace)."""
    if not match.listing.seller:
        return []
    stmt = (scoped_matches(principal, Match.id, Listing.id, Listing.title, Marketplace.name, Brand.name,
                           Match.klass, Match.score, Match.status)
            .join(Brand, Brand.id == Match.brand_id).join(Marketplace, Marketplace.id == Listing.marketplace_id)
            .where(Listing.seller == match.listing.seller, Match.id != match.id)
            .order_by(Match.score.desc(), Match.id).limit(limit))
    return [SellerListing(*r) for r in session.execute(stmt)]


def seller_repeat_count(session: Session, principal: Principal, seller: str | None) -> int:
    """How many distinct listings of this seller have a confirmed, reported or removed match in scope."""
    if not seller:
        return 0
    return session.scalar(
        scoped_matches(principal, func.count(func.distinct(Listing.id)))
        .where(Listing.seller == seller, Match.status.in_(("confirmed", "reported", "removed")))
    ) or 0


def events_of(session: Session, match_id: int) -> list[MatchEvent]:
    return list(session.scalars(select(MatchEvent).where(MatchEvent.match_id == match_id).order_by(MatchEvent.id)))


# ----------------------------------------------------------------------------------------------- images


def visible_image(session: Session, principal: Principal, sha256: str) -> Image | None:
    """The stored image with this sha256 when the principal may see it: for owners, an official photo of
    one of their brands or a photo of a listing matched to one of them. None otherwise."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        return None
    image = session.get(Image, sha256)
    if image is None or principal.brand_ids is None:
        return image
    brands = sorted(principal.brand_ids)
    official = exists().where(ReferenceImage.sha256 == sha256, ReferenceImage.product_id == Product.id,
                              Product.brand_id.in_(brands))
    listed = exists().where(ListingImage.sha256 == sha256, ListingImage.listing_id == Match.listing_id,
                            Match.brand_id.in_(brands))
    allowed = session.scalar(select(or_(official, listed)))
    return image if allowed else None


def visible_ids(session: Session, principal: Principal, ids: list[int]) -> list[int]:
    """The given match ids that exist and are in scope, in the given order (duplicates dropped)."""
    wanted = list(dict.fromkeys(ids))[:10_000]
    found = set(session.scalars(scoped_matches(principal, Match.id).where(Match.id.in_(wanted))))
    return [i for i in wanted if i in found]


def visible_matches_brief(session: Session, principal: Principal, ids: list[int]) -> list[QueueRow]:
    """Queue rows for some match ids in scope, in the given order (the bulk confirmation's sample)."""
    if not ids:
        return []
    stmt = (scoped_matches(principal, Match.id, Match.score, Match.klass, Match.status, Brand.name, Listing.title,
                           Listing.price, Listing.currency, Listing.seller, Marketplace.name, Listing.url,
                           Match.created_at, func.json_array_length(Match.changes), Listing.id)
            .join(Brand, Brand.id == Match.brand_id).join(Marketplace, Marketplace.id == Listing.marketplace_id)
            .where(Match.id.in_(ids)))
    rows = {r[0]: QueueRow(r[0], r[1], r[2], r[3], r[4], r[5], price_text(r[6]), r[7], r[8], r[9], r[10],
                           as_utc(r[11]), bool(r[12]), r[13]) for r in session.execute(stmt)}
    return [rows[i] for i in ids if i in rows]


# ---------------------------------------------------------------------------------------------- brands


@dataclass(frozen=True, slots=True)
class BrandRow:
    brand_id: int
    name: str
    owner: str
    by_status: dict[str, int]
    takedowns: Any  # services.takedowns.TakedownStats, or None before the first notice


def brand_overview(session: Session, principal: Principal) -> list[BrandRow]:
    """Each brand in scope with its matches by status and its takedown figures (the query is scoped)."""
    from services.takedowns import takedown_stats

    query = select(Brand).order_by(Brand.name)
    if principal.brand_ids is not None:
        query = query.where(Brand.id.in_(sorted(principal.brand_ids)) if principal.brand_ids else false())
    brands = list(session.scalars(query))
    ids = [b.id for b in brands]
    counts: dict[int, dict[str, int]] = {}
    for brand_id, status, n in session.execute(
            select(Match.brand_id, Match.status, func.count()).where(Match.brand_id.in_(ids))
            .group_by(Match.brand_id, Match.status)):
        counts.setdefault(brand_id, {})[status] = n
    stats = {s.group: s for s in takedown_stats(session, by="brand", brand_ids=ids)}
    return [BrandRow(b.id, b.name, b.owner.name, counts.get(b.id, {}), stats.get(b.name)) for b in brands]
