"""Typed SQLAlchemy 2 models: the whole database schema.

Design rules:
- every natural key has a UNIQUE constraint, so re-runs update rows instead of duplicating them;
- images are content-addressed (``images.sha256``); their signatures (``image_signatures``) are computed
  once, by the signature stage, apart from the crawl;
- JSON columns hold machine-readable data (evidence, stats); reasons are a JSON list of sentences;
- timestamps are timezone-aware UTC.
The same models run unchanged on SQLite and PostgreSQL; migrations live in ``storage/migrations``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.schema import Money as Money  # the one definition of a money column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, list[str]: JSON}


class Owner(Base):
    """A company that owns brands and receives their digests."""

    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Digest preferences (registry ``owners:``, docs/digests.md): ``daily`` or ``weekly``.
    digest_frequency: Mapped[str] = mapped_column(String(10), default="daily", server_default="daily")
    #: Lowest match score (0..1) a digest reports as a new item; None: every suspect.
    digest_min_score: Mapped[float | None] = mapped_column(Float)
    #: Match classes reported as new items; empty: every suspect class.
    digest_classes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    #: The off switch: False sends this owner no digest.
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    brands: Mapped[list[Brand]] = relationship(back_populates="owner")


class Brand(Base):
    __tablename__ = "brands"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[str | None] = mapped_column(String(200))
    #: Words of the brand's trade (category and product words); needed for marks that are ordinary words.
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Email addresses that receive this brand's digest.
    digest_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Per-brand overrides of matching thresholds (names of ``MatchConfig`` fields).
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Trademark registrations: [{"office", "number", "classes": [int], "jurisdiction", "owner_of_record"}].
    trademarks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    #: Who files notices: {"name", "email", "address", "phone"} (all optional but name and email).
    rights_holder: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    #: Domains the brand owns or authorises (lower-case Unicode; subdomains included): never candidates.
    official_domains: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    owner: Mapped[Owner] = relationship(back_populates="brands")
    marks: Mapped[list[Mark]] = relationship(back_populates="brand", cascade="all, delete-orphan")
    products: Mapped[list[Product]] = relationship(back_populates="brand", cascade="all, delete-orphan")
    authorized_sellers: Mapped[list[AuthorizedSeller]] = relationship(
        back_populates="brand", cascade="all, delete-orphan"
    )


class Mark(Base):
    """The brand name or one of its aliases, as registered."""

    __tablename__ = "marks"
    __table_args__ = (UniqueConstraint("brand_id", "text"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(200))
    #: ``name`` for the brand name itself, ``alias`` for the others.
    kind: Mapped[str] = mapped_column(String(20), default="alias")
    brand: Mapped[Brand] = relationship(back_populates="marks")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("brand_id", "sku"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    #: Manufacturer's suggested retail price, in ``currency``.
    msrp: Mapped[Decimal | None] = mapped_column(Money)
    #: ISO 4217 code.
    currency: Mapped[str | None] = mapped_column(String(3))
    brand: Mapped[Brand] = relationship(back_populates="products")
    images: Mapped[list[ReferenceImage]] = relationship(back_populates="product", cascade="all, delete-orphan")


class Image(Base):
    """One stored image file, content-addressed. The crawl and the registry write it after a header probe
    only (no pixel decoded); its signature is computed later by the signature stage (``image_signatures``)."""

    __tablename__ = "images"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Path relative to the data folder's ``images`` directory.
    path: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    #: Pixels, from the file's header.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: The signature (None while the signature stage has not seen the image).
    signature: Mapped[ImageSignatureRow | None] = relationship(
        back_populates="image", uselist=False, passive_deletes=True)




class ImageSignatureRow(Base):
    """The signature of one stored image, written by the signature stage (``services/signatures.py``).

    ``fields`` and ``keypoints`` are the two parts ``matching.signature_codec.encode`` writes (hashes as hex,
    boxes, thumbnail: about 3 KB of JSON; keypoints binary, 36 bytes each), kept
    apart so that hash-only readers never load it. A row whose ``version`` is below the code's
    ``SIGNATURE_VERSION`` is computed again; a ``failed`` row of the current version is not (the failure is
    in the file: truncated, not decodable, too many pixels).
    """

    __tablename__ = "image_signatures"
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256", ondelete="CASCADE"), primary_key=True)
    #: ``SIGNATURE_VERSION`` of the code that computed the row.
    version: Mapped[int] = mapped_column(Integer)
    #: One of ``storage.vocabulary.SIGNATURE_STATUSES``.
    status: Mapped[str] = mapped_column(String(20), index=True)
    #: One line: why the signature could not be computed (``failed`` only).
    error: Mapped[str | None] = mapped_column(String(500))
    #: ``matching.signature_codec.encode(sig).fields``; ``{}`` when failed.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: ``matching.signature_codec.encode(sig).keypoints``; None when failed or when the image has no keypoints.
    keypoints: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Words read in the image by OCR, space-separated; None when OCR did not run or timed out.
    ocr_text: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    image: Mapped[Image] = relationship(back_populates="signature")


class ReferenceImage(Base):
    """An official product photo registered by the brand."""

    __tablename__ = "reference_images"
    __table_args__ = (UniqueConstraint("product_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    #: Where it came from: the path as written in the registry, or the URL.
    source: Mapped[str] = mapped_column(String(1000))
    #: Position in the product's image list (0 = first photo, shown as "photo a").
    position: Mapped[int] = mapped_column(Integer, default=0)
    product: Mapped[Product] = relationship(back_populates="images")
    image: Mapped[Image] = relationship()


class AuthorizedSeller(Base):
    __tablename__ = "authorized_sellers"
    __table_args__ = (UniqueConstraint("brand_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[Brand] = relationship(back_populates="authorized_sellers")


class Marketplace(Base):
    """A site that is crawled: a marketplace, or a single web shop."""

    __tablename__ = "marketplaces"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable name: the profile name, or the host of a shop.
    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_url: Mapped[str | None] = mapped_column(String(1000))
    #: ``shop``, ``marketplace``, ``shopify`` or ``woocommerce``.
    kind: Mapped[str] = mapped_column(String(40), default="shop")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_scan_target", "scan_id", "target_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    marketplace_id: Mapped[int | None] = mapped_column(ForeignKey("marketplaces.id", ondelete="SET NULL"), index=True)
    #: Groups the crawls of one scan (one night).
    scan_id: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``running``, ``finished``, ``failed``.
    status: Mapped[str] = mapped_column(String(20), default="running")
    #: Which crawl this is, whatever the run: ``crawlers.run.CrawlRequest.target_key`` (a hash of the start
    #: URLs, profile and base URL), so a scan finds the runs of each of its targets by equality.
    target_key: Mapped[str | None] = mapped_column(String(64))
    #: What was asked: start URLs, profile, queries (for people; programs use ``target_key``).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Counts and outcome, as ``crawlers.stats.CrawlStats.as_json`` writes them (read with ``from_json``).
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SourceState(Base):
    """What a source (a scan file's ``sources:`` entry) has used and where it stopped, kept between
    nights and processes: calls made on ``day`` (UTC), no request before ``not_before`` (a Retry-After),
    the queries left unfinished with their offsets (``resume``), and its last run and error."""

    __tablename__ = "source_states"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), default="")
    calls_today: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resume: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    last_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``finished``, ``budget_exhausted``, ``credentials_refused``... (the run's finish reason)
    last_outcome: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Listing(Base):
    """One product offer on one marketplace; one row per (marketplace, canonical URL)."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("marketplace_id", "canonical_url"),
        Index("ix_listings_marketplace_external", "marketplace_id", "external_id"),
        Index("ix_listings_seller", "seller"),  # the review app's seller filter and seller page
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplaces.id", ondelete="CASCADE"), index=True)
    canonical_url: Mapped[str] = mapped_column(String(2000))
    #: The URL last fetched (may carry parameters the canonical URL drops).
    url: Mapped[str] = mapped_column(String(2000))
    external_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    seller: Mapped[str | None] = mapped_column(String(300))
    #: The marketplace's id of the seller and the seller's page, when the listing page states them.
    seller_id: Mapped[str | None] = mapped_column(String(200))
    seller_url: Mapped[str | None] = mapped_column(String(2000))
    #: The marketplace's feedback for the seller in words, as its API states it (API sources).
    seller_feedback: Mapped[str | None] = mapped_column(String(200))
    sku: Mapped[str | None] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(50))
    mpn: Mapped[str | None] = mapped_column(String(200))
    #: The brand as the page states it.
    brand_text: Mapped[str | None] = mapped_column(String(300))
    availability: Mapped[str | None] = mapped_column(String(40))
    image_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: sha256 of the fields that matter for review (title, description, price, seller, images).
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    #: Crawls of this marketplace in a row that did not see the listing.
    missed_runs: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    gone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set when content changed and matching has not yet seen the new content.
    needs_matching: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    marketplace: Mapped[Marketplace] = relationship()
    images: Mapped[list[ListingImage]] = relationship(
        back_populates="listing", cascade="all, delete-orphan", order_by="ListingImage.position"
    )


class ListingPrice(Base):
    """Price history: a row each time a listing's price or currency changes."""

    __tablename__ = "listing_prices"
    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ListingImage(Base):
    """An image URL of a listing and, once downloaded, the stored image it points to."""

    __tablename__ = "listing_images"
    __table_args__ = (UniqueConstraint("listing_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    position: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(ForeignKey("images.sha256"), index=True)
    #: ``pending``, ``ok``, or why it is not usable: ``too_large``, ``corrupt``, ``bomb``, ``not_image``,
    #: ``refused``, ``http_error``.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(String(500))
    listing: Mapped[Listing] = relationship(back_populates="images")
    image: Mapped[Image | None] = relationship()


class Match(Base):
    """A listing suspected of infringing one brand: created once, updated each night, reviewed by analysts."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("listing_id", "brand_id"),
        # The review queue: open work by status, best score first (counts and the first page).
        Index("ix_matches_status_score", "status", "score"),
        Index("ix_matches_created_at", "created_at"),  # the dashboard's periods
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    score: Mapped[float] = mapped_column(Float)
    #: ``counterfeit``, ``lookalike``, ``accessory``, ``resale`` or ``clean`` (matching.model.CLASSES).
    klass: Mapped[str] = mapped_column(String(20))
    #: The scorer's sentences, strongest first (what a digest or a notice quotes).
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The evidence the score and class came from: a list of ``matching.evidence.Evidence.to_json()`` dicts
    #: (signal, strength, role, reason, spans, disguise, regions, details): the one stored form of the findings,
    #: read back with ``matching.evidence.evidence_from_json``. Rows scored before 0007 got theirs from their
    #: legacy ``signals`` summary in 0010, which dropped that column.
    evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True, default=list)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    #: The listing's content hash when the match was last scored; a dismissed match returns only when it differs.
    listing_content_hash: Mapped[str] = mapped_column(String(64))
    #: The listing's reviewed fields when the match was last scored (``storage.listing_content.review_snapshot``,
    #: the content hash's field list), to say what changed; null on rows scored before snapshots existed.
    review_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: What changed in the listing since the last review, shown to the analyst (list of sentences).
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    listing: Mapped[Listing] = relationship()
    brand: Mapped[Brand] = relationship()
    product: Mapped[Product | None] = relationship()
    events: Mapped[list[MatchEvent]] = relationship(back_populates="match", order_by="MatchEvent.id")

    @property
    def signals(self) -> dict[str, Any]:
        """Each finding's signal and strength, read from ``evidence``: what ``lookalike review show`` lists
        under "signals" (``cli/review.py``). Not stored: 0010 dropped the ``signals`` copy. To go when that
        command renders the typed evidence itself."""
        return {str(e["signal"]): e.get("strength") for e in self.evidence or []
                if isinstance(e, dict) and isinstance(e.get("signal"), str)}


class MatchEvent(Base):
    """Append-only audit log of every status change of a match."""

    __tablename__ = "match_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    #: Who made the change: an analyst's name, or ``lookalike`` for the scan.
    actor: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    match: Mapped[Match] = relationship(back_populates="events")


# ------------------------------------------------------------------ accounts (review app, docs/review.md)



class User(Base):
    """A person who logs in to the review app; the password is stored only as an argon2 hash."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name: 1-100 characters of letters, digits and ``.-_@``, compared case-insensitively (stored lower).
    username: Mapped[str] = mapped_column(String(100), unique=True)
    #: argon2id encoded hash (``$argon2id$v=19$...``).
    password_hash: Mapped[str] = mapped_column(String(300))
    #: One of ``storage.vocabulary.USER_ROLES``.
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: For an owner account: the company it acts for (the owner of the brands it registers in the browser).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"))
    brands: Mapped[list[Brand]] = relationship(secondary="user_brands", order_by="Brand.name")


class UserBrand(Base):
    """An owner account's brands: the only brands it may see."""

    __tablename__ = "user_brands"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True, index=True)




class Invitation(Base):
    """A single-use link sent by e-mail: an invitation to open an account, or a password reset.

    Only the sha256 of the link's token is stored; the link works once, until ``expires_at``."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: One of ``storage.vocabulary.INVITATION_PURPOSES``.
    purpose: Mapped[str] = mapped_column(String(10))
    #: The account's login name (an invitation creates it; a reset changes its password).
    username: Mapped[str] = mapped_column(String(100), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    #: The company an invited owner acts for.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"))
    #: Names of the brands an invited owner sees from the start (it may register more).
    brands: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RegistryAudit(Base):
    """One change of a brand's registry entry made in the review app: who, when, before and after (the
    brand as its registry YAML entry; None before a brand is created)."""

    __tablename__ = "registry_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int | None] = mapped_column(Integer, index=True)
    brand: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class WebSession(Base):
    """A logged-in browser. The cookie holds a random token; only its sha256 is stored here."""

    __tablename__ = "web_sessions"
    #: sha256 (hex) of the session cookie's token.
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The CSRF token every state-changing request of this session must carry (43 url-safe characters).
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: The last decision, for undo: ``[{"match_id": int, "from": status, "to": status}, ...]``.
    last_decision: Mapped[list[Any]] = mapped_column(JSON, default=list)


class LoginAttempt(Base):
    """One login attempt, kept for the rate limit (shared by every app process through the database)."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``user:<name>`` or ``ip:<address>``: an attempt is recorded under both keys.
    key: Mapped[str] = mapped_column(String(300), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


# ------------------------------------------------------------------ digests (docs/digests.md)



class Digest(Base):
    """One digest message to one owner: what it covered, its Message-ID and how its delivery went."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("owner_id", "sequence"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    #: 1, 2, 3... per owner; the unique (owner, sequence) lets only one run build the owner's next digest.
    sequence: Mapped[int] = mapped_column(Integer)
    #: ``<...@...>`` as in the message's Message-ID header.
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="reserved", index=True)
    #: ``smtp`` or ``file``.
    delivery: Mapped[str] = mapped_column(String(10))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: When the digest before it was built (the start of the period); None for an owner's first digest.
    period_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    built_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Until when the run that reserved it owns it; a row still ``reserved``/``sending`` after this is stale.
    lease_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    #: The .eml file of a ``written`` digest.
    path: Mapped[str | None] = mapped_column(String(1000))
    #: Counts for the period: {"new": n, "class": n, "score": n, "confirmed": n, ..., "items": n}.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    items: Mapped[list[DigestItem]] = relationship(back_populates="digest", cascade="all, delete-orphan")


class DigestItem(Base):
    """One match a digest reported, with the state it reported (the next digest compares against it)."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("digest_id", "match_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    #: Why it is in the digest: ``new``, ``class``, ``score``, ``confirmed``, ``reported``, ``removed``,
    #: ``dismissed`` or ``reopened``.
    change: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    klass: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    digest: Mapped[Digest] = relationship(back_populates="items")


class RematchJob(Base):
    """A re-match of every stored listing against one brand (a brand registered after the crawl, its
    products' names or photos changed, or ``lookalike match``), run by the nightly scan or on demand.

    Listings with ids up to ``upto_listing_id`` (the last one stored when the job was queued) are
    scored in id order; ``last_listing_id`` is the cursor, so a killed run resumes where it stopped.
    """

    __tablename__ = "rematch_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    #: Why: ``brand registered``, ``registry changed``, ``on demand``.
    reason: Mapped[str] = mapped_column(String(200))
    #: ``pending``, ``running``, ``done``, ``failed``.
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    upto_listing_id: Mapped[int] = mapped_column(Integer, default=0)
    last_listing_id: Mapped[int] = mapped_column(Integer, default=0)
    #: Listings to score (counted when the job starts) and scored so far.
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(500))


class EvidenceCapture(Base):
    """One capture of a listing as evidence: the page as fetched (WARC), its images, a screenshot.

    Taken when a listing first scores as a suspect (``trigger`` ``suspect``) and again when an analyst
    confirms it (``confirmed``).  Files are content-addressed under ``<data_dir>/evidence`` and never
    rewritten; ``manifest_sha256`` names the manifest file listing every file with its hash.
    """

    __tablename__ = "evidence_captures"
    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    #: ``suspect`` or ``confirmed``.
    trigger: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(2000))
    captured_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: The crawler's identity (user agent) the page was fetched with.
    crawler: Mapped[str] = mapped_column(String(300))
    #: ``ok`` (page captured), ``failed`` (the page could not be fetched; images are still kept).
    status: Mapped[str] = mapped_column(String(20))
    #: HTTP status of the captured answer, when there was one.
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="capture", cascade="all, delete-orphan", order_by="EvidenceFile.id"
    )


class EvidenceFile(Base):
    """A file of a capture: ``kind`` ``warc``, ``image``, ``screenshot`` or ``manifest``."""

    __tablename__ = "evidence_files"
    __table_args__ = (UniqueConstraint("capture_id", "kind", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("evidence_captures.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: Path relative to the evidence folder.
    path: Mapped[str] = mapped_column(String(300))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    #: Where the file came from (the listing or image URL), for the manifest.
    source: Mapped[str | None] = mapped_column(String(2000))
    capture: Mapped[EvidenceCapture] = relationship(back_populates="files")


class TakedownPack(Base):
    """A takedown pack built for one brand (and optionally one marketplace) in one platform format."""

    __tablename__ = "takedown_packs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    marketplace: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    items: Mapped[int] = mapped_column(Integer)
    #: SHA-256 of the zip file as written.
    sha256: Mapped[str] = mapped_column(String(64))


class Takedown(Base):
    """One listing reported in a pack, and what became of it: ``reported``, ``removed``, ``edited``,
    ``still_up`` (after the verification window)."""

    __tablename__ = "takedowns"
    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    pack_id: Mapped[str] = mapped_column(ForeignKey("takedown_packs.id", ondelete="CASCADE"), index=True)
    marketplace: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20), default="reported", index=True)
    outcome_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    checks: Mapped[int] = mapped_column(Integer, default=0)
    #: The listing's content hash when it was reported (an edit is a different hash while still up).
    content_hash: Mapped[str] = mapped_column(String(64))
    #: Set when the notice guard was overridden: why the analyst forced it.
    forced_reason: Mapped[str | None] = mapped_column(String(1000))
    match: Mapped[Match] = relationship()


#: What an operator decided about a candidate domain.
DOMAIN_STATUSES = ("new", "approved", "dismissed")


class DomainCandidate(Base):
    """A domain that may be a rogue shop of one brand, found by a discovery feed (docs/discovery.md).

    ``domain`` is lower-case Unicode (punycode decoded), ``ascii_domain`` its IDNA form. ``feeds`` lists
    where it was seen (``permutation``, ``ct:<log>``, ``nrd:<list>``). ``fingerprint`` sums up what the
    domain looks like now (certificates, addresses, home page); a dismissal holds while it stays the same."""

    __tablename__ = "domain_candidates"
    __table_args__ = (UniqueConstraint("brand_id", "domain"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253))
    ascii_domain: Mapped[str] = mapped_column(String(253), index=True)
    feeds: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The mark found, how it was disguised (``exact``, ``misspelt``, ``homoglyph``...), the score and why.
    mark: Mapped[str] = mapped_column(String(200))
    disguise: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When the name first resolved (permutations keep only names that resolve).
    first_resolved: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``unchecked``, ``shop``, ``parked``, ``for_sale``, ``redirects_official``, ``internal``,
    #: ``unreachable``, ``other`` (set by the liveness check).
    kind: Mapped[str] = mapped_column(String(30), default="unchecked", server_default="unchecked", index=True)
    #: Liveness and first look: {"addresses", "status", "final_url", "title", "names_brand", "reasons"}.
    check: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="new", server_default="new", index=True)
    #: The fingerprint when dismissed: a different fingerprint brings the candidate back as ``new``.
    dismissed_fingerprint: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    brand: Mapped[Brand] = relationship()


class DomainEvent(Base):
    """The audit trail of a candidate: found, seen again, checked, approved, dismissed, reopened."""

    __tablename__ = "domain_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("domain_candidates.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(1000), default="")


class CtLogState(Base):
    """How far the monitor has read one Certificate Transparency log: ``next_index`` is the first entry not
    yet read (entries before it were matched and their candidates committed in the same transaction)."""

    __tablename__ = "ct_log_states"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    #: ``rfc6962`` or ``static``.
    api: Mapped[str] = mapped_column(String(20))
    next_index: Mapped[int] = mapped_column(BigInteger, default=0)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: The cause of the last failed run (None after a good one).
    last_error: Mapped[str | None] = mapped_column(String(1000))


class ResolverBudget(Base):
    """DNS look-ups spent by the permutation resolver on one UTC day (the daily budget)."""

    __tablename__ = "resolver_budgets"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    queries: Mapped[int] = mapped_column(Integer, default=0)


class QueryRun(Base):
    """What one search query found on one source in one crawl (written when the crawl ends; ``suspects``
    counted after matching, None until then).  Read by the query planner (``services.queryplan``) and
    ``lookalike sources queries``."""

    __tablename__ = "query_runs"
    __table_args__ = (Index("ix_query_runs_source_key", "source", "query_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    scan_id: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The source searched: the marketplace profile's name.
    source: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(String(200))
    #: ``query`` case-folded: the same query whatever its case.
    query_key: Mapped[str] = mapped_column(String(200))
    ran_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Listing links the query's result pages gave (within the profile's limits).
    results: Mapped[int] = mapped_column(Integer, default=0)
    #: Of the listings it found, those stored for the first time by this crawl.
    new_listings: Mapped[int] = mapped_column(Integer, default=0)
    #: Of the listings it found, those with a match (not dismissed) after matching; None until counted.
    suspects: Mapped[int | None] = mapped_column(Integer)
    #: The stored listings it found (ids, at most the profile's results per query).
    listing_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


# ------------------------------------------------------------------ seller networks (docs/networks.md)

#: ``active`` while the network has two or more sellers; ``dissolved`` keeps a retired id from reuse.
NETWORK_STATUSES = ("active", "dissolved")


class Network(Base):
    """A group of sellers joined by strong links (``services/networks.py``); the id stays while it grows."""

    __tablename__ = "networks"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When the network last gained a seller (None: not since it was found).
    grew_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Sellers now, and at the recompute before (the digest reports growth).
    sellers: Mapped[int] = mapped_column(Integer, default=0)
    previous_sellers: Mapped[int] = mapped_column(Integer, default=0)
    #: Live listings per marketplace: ``{marketplace: n}``.
    marketplaces: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    relistings: Mapped[int] = mapped_column(Integer, default=0)
    #: The impact estimate (``matching.networks.priority``) and its explanation (a list of sentences).
    impact: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    impact_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)


class NetworkSeller(Base):
    """One seller as network finding knows it: its stable key, its evidence, and its network."""

    __tablename__ = "network_sellers"
    #: ``<marketplace>/<seller id>``, ``<marketplace>/<plain name>``, or ``<shop>`` for a web shop.
    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplaces.id", ondelete="CASCADE"), index=True)
    #: The seller's name as last seen (for people).
    name: Mapped[str | None] = mapped_column(String(300))
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="SET NULL"), index=True)
    #: sha256 of what the evidence was read from (listings' content hashes and photo signatures): the evidence
    #: is read again only when it changes.
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: ``matching.networks.links.SellerEvidence.to_json()``.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NetworkListing(Base):
    """Each listing of a known seller: its network (None: the seller is in none) and its own impact estimate
    (``matching.networks.priority``), so the queue can sort by impact without recomputing it."""

    __tablename__ = "network_listings"
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="SET NULL"), index=True)
    impact: Mapped[float] = mapped_column(Float, default=0.0)


class SellerLink(Base):
    """A link between two sellers (``seller_a`` < ``seller_b``) with its evidence; ``strong`` links merge."""

    __tablename__ = "seller_links"
    __table_args__ = (UniqueConstraint("seller_a", "seller_b"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    seller_a: Mapped[str] = mapped_column(String(600), index=True)
    seller_b: Mapped[str] = mapped_column(String(600), index=True)
    strength: Mapped[float] = mapped_column(Float)
    strong: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``[matching.networks.links.LinkEvidence.to_json(), ...]``, strongest first.
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Relisting(Base):
    """A listing that came back after its earlier one was reported or removed, with why they are one."""

    __tablename__ = "relistings"
    __table_args__ = (UniqueConstraint("listing_id", "earlier_listing_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    earlier_listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Sentences: what the two share (photos, description, seller or its network).
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
