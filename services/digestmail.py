"""The digest as a mail message: HTML and plain-text parts, inline thumbnails, a CSV of every item.

Message layout (what mail clients render)::

    multipart/mixed
      multipart/alternative
        text/plain                     the digest as plain text (listing text literal, one line per field)
        multipart/related
          text/html                    inline CSS, no remote images, no script
          image/png   Content-ID <chart-NAME.…>   the owner's dashboard charts, at the head of the digest
          image/jpeg  Content-ID <listing-ID.…>   the listing's photo, at most 240 px
          image/jpeg  Content-ID <official-ID.…>  the official photo of the matched product
      text/csv  lookalike-digest-<owner>-<date>.csv   every item (the HTML shows at most digest_max_items)

Listing text is written by counterfeiters: the HTML template autoescapes everything, invisible and
control characters are spelt out as ``\\uXXXX`` in both parts, each field is bounded, CSV cells are
neutralised against formula injection, and no listing text ever goes into a header (the subject and the
file names are built from the owner's name and numbers only, with newlines removed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from core.money import amount_text
from core.settings import Settings
from core.text import one_line, spell_out
from matching.evidence import evidence_from_json, reasons_of
from services.export import neutralise_cell
from storage.imagestore import ImageStore
from storage.models import Match

THUMB_PX = 240
MAX_TITLE = 200
MAX_REASON = 300
MAX_REASONS = 4
#: Columns of the attached CSV, in order.
CSV_COLUMNS = ("match_id", "change", "brand", "marketplace", "score", "class", "status", "previous_class",
               "previous_score", "previous_status", "title", "seller", "price", "currency", "listing_url",
               "review_url", "reasons", "first_seen")
CHANGE_LABELS = {
    "new": "new suspect", "reopened": "back in the queue", "class": "class changed", "score": "score changed",
    "confirmed": "confirmed by an analyst", "reported": "reported to the marketplace",
    "removed": "removed from the marketplace", "dismissed": "dismissed by an analyst",
}

#: How the period's counts are named in the digest's summary.
COUNT_LABELS = {
    "new": "new suspects", "reopened": "back in the queue", "class": "class changes", "score": "score changes",
    "confirmed": "confirmed by an analyst", "reported": "reported to the marketplace",
    "removed": "removed from the marketplace", "dismissed": "dismissed by an analyst",
}

_env = Environment(loader=PackageLoader("services", "templates"), autoescape=select_autoescape(["html", "j2"]),
                   trim_blocks=True, lstrip_blocks=True)
_text_env = Environment(loader=PackageLoader("services", "templates"), autoescape=False,
                        trim_blocks=True, lstrip_blocks=True)


@dataclass
class ItemView:
    """One digest item, every text field already made safe to show (spelt out and bounded)."""

    match_id: int
    change: str
    brand: str
    marketplace: str
    title: str
    seller: str
    price: str
    currency: str
    score: float
    klass: str
    status: str
    previous_klass: str | None
    previous_score: float | None
    previous_status: str | None
    reasons: list[str]
    listing_url: str
    #: The listing URL when it is http(s), else "" (never a link to another scheme).
    listing_href: str
    review_href: str
    first_seen: str
    listing_image: bytes | None = None
    official_image: bytes | None = None
    listing_cid: str = ""
    official_cid: str = ""

    @property
    def change_label(self) -> str:
        label = CHANGE_LABELS.get(self.change, self.change)
        if self.change == "class" and self.previous_klass:
            return f"class changed from {self.previous_klass} to {self.klass}"
        if self.change == "score" and self.previous_score is not None:
            return f"score changed from {self.previous_score:.2f} to {self.score:.2f}"
        return label


@dataclass(frozen=True)
class DomainView:
    """A look-alike domain first seen in the digest's period (docs/discovery.md): the name as the owner reads
    it (Unicode, with its punycode when it differs), the brand, score, class, feeds and reasons."""

    domain: str
    ascii_domain: str
    brand: str
    score: float
    kind: str
    feeds: tuple[str, ...]
    reasons: tuple[str, ...]
    review_href: str


@dataclass(frozen=True, slots=True)
class ChartView:
    """One dashboard chart at the head of the digest: a PNG shown inline, with a link to its numbers."""

    name: str
    title: str
    png: bytes
    cid: str
    #: The chart's table as CSV in the review app ("" without a review URL).
    numbers_href: str = ""


@dataclass
class DigestContent:
    """Everything one digest shows; ``items`` strongest first; ``domains``: new look-alike domains."""

    owner: str
    items: list[ItemView]
    period_start: dt.datetime | None
    built_at: dt.datetime
    open_per_brand: dict[str, int] = field(default_factory=dict)
    review_url: str = ""
    max_items: int = 50
    domains: list[DomainView] = field(default_factory=list)
    #: The owner's dashboard charts, shown first (see :func:`services.digests.digest_charts`).
    charts: list[ChartView] = field(default_factory=list)
    #: Sentences about the largest new or growing seller networks selling the owner's brands, and about
    #: relistings of its brands' listings after takedowns (``services.networks.digest_lines``).
    networks: list[str] = field(default_factory=list)
    relistings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Items per change kind, and ``items`` in all."""
        out: dict[str, int] = {"items": len(self.items)}
        for item in self.items:
            out[item.change] = out.get(item.change, 0) + 1
        return out

    @property
    def shown(self) -> list[ItemView]:
        return self.items[: self.max_items]

    def groups(self) -> list[tuple[str, str, list[ItemView]]]:
        """The shown items grouped by (brand, marketplace), the group with the strongest item first."""
        grouped: dict[tuple[str, str], list[ItemView]] = {}
        for item in self.shown:
            grouped.setdefault((item.brand, item.marketplace), []).append(item)
        ordered = sorted(grouped.items(), key=lambda kv: (-max(i.score for i in kv[1]), kv[0]))
        return [(brand, market, sorted(items, key=lambda i: -i.score)) for (brand, market), items in ordered]


# ------------------------------------------------------------------------------------------ items


def _thumbnail(store: ImageStore, relative: str | None) -> bytes | None:
    """A JPEG of at most ``THUMB_PX`` pixels a side from the image store, or None when unreadable."""
    if not relative:
        return None
    try:
        with PILImage.open(io.BytesIO(store.read(relative))) as img:
            img.thumbnail((THUMB_PX, THUMB_PX))
            out = io.BytesIO()
            img.convert("RGB").save(out, format="JPEG", quality=82)
            return out.getvalue()
    except (OSError, ValueError, UnidentifiedImageError, PILImage.DecompressionBombError):
        return None


def _listing_image(match: Match) -> str | None:
    for image in match.listing.images:
        if image.sha256 and image.status == "ok" and image.image is not None:
            return image.image.path
    return None


def _official_image(match: Match) -> str | None:
    products = [match.product] if match.product is not None else []
    products += [p for p in match.brand.products if p is not match.product]
    for product in products:
        for ref in sorted(product.images, key=lambda r: r.position):
            if ref.image is not None:
                return ref.image.path
    return None


def _reasons(match: Match) -> list[str]:
    """What the owner reads about a match: the sentences of its typed evidence (``matching.evidence.reasons_of``,
    the rule the scorer's reasons follow), or the stored reasons of a row without evidence."""
    return list(reasons_of(evidence_from_json(match.evidence))) or list(match.reasons or [])


def _iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def item_view(match: Match, change: str, previous: Any, *, settings: Settings, store: ImageStore) -> ItemView:
    """The safe view of one match for the digest (``previous``: what the owner last heard, or None)."""
    listing = match.listing
    url = spell_out(listing.url, 500)
    href = url if urlsplit(url).scheme in ("http", "https") and "\\u" not in url else ""
    base = settings.review_url.rstrip("/")
    token = make_msgid(domain="lookalike")[1:-1].split("@")[0]
    return ItemView(
        match_id=match.id, change=change, brand=one_line(match.brand.name, 200),
        marketplace=one_line(listing.marketplace.name, 200), title=spell_out(listing.title or "(no title)", MAX_TITLE),
        seller=spell_out(listing.seller or "", 120),
        price=amount_text(listing.price) or "", currency=one_line(listing.currency, 3),
        score=float(match.score), klass=match.klass, status=match.status,
        previous_klass=previous.klass if previous else None, previous_score=previous.score if previous else None,
        previous_status=previous.status if previous else None,
        reasons=[spell_out(r, MAX_REASON) for r in _reasons(match)[:MAX_REASONS]],
        listing_url=url, listing_href=href, review_href=f"{base}/matches/{match.id}",
        first_seen=_iso(listing.first_seen),
        listing_image=_thumbnail(store, _listing_image(match)),
        official_image=_thumbnail(store, _official_image(match)),
        listing_cid=f"listing-{match.id}.{token}@lookalike", official_cid=f"official-{match.id}.{token}@lookalike",
    )


# ------------------------------------------------------------------------------------------ parts


def render_html(content: DigestContent) -> str:
    return _env.get_template("digest.html.j2").render(d=content, labels=COUNT_LABELS)


def render_text(content: DigestContent) -> str:
    return _text_env.get_template("digest.txt.j2").render(d=content, labels=COUNT_LABELS)


def render_csv(items: Sequence[ItemView]) -> bytes:
    """Every item as CSV (UTF-8 with BOM, so spreadsheets read it as UTF-8); text cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for i in items:
        row = [i.match_id, i.change, i.brand, i.marketplace, f"{i.score:.4f}", i.klass, i.status,
               i.previous_klass or "", "" if i.previous_score is None else f"{i.previous_score:.4f}",
               i.previous_status or "", i.title, i.seller, i.price, i.currency, i.listing_url, i.review_href,
               " | ".join(i.reasons), i.first_seen]
        writer.writerow([neutralise_cell(v) if isinstance(v, str) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def slug(text: str, limit: int = 40) -> str:
    """File-name-safe ASCII form of an owner's name: ``Et Al Beauty`` -> ``et-al-beauty``."""
    value = re.sub(r"[^a-z0-9]+", "-", one_line(text).lower()).strip("-")
    return value[:limit].strip("-") or "owner"


def eml_name(owner: str, sequence: int, now: dt.datetime) -> str:
    """``digest-<owner>-<YYYYMMDD>-<sequence>.eml``."""
    return f"digest-{slug(owner)}-{now:%Y%m%d}-{sequence}.eml"


def subject(content: DigestContent) -> str:
    counts = content.counts()
    new = counts.get("new", 0) + counts.get("reopened", 0)
    changed = counts["items"] - new
    domains = f", {len(content.domains)} look-alike domain(s)" if content.domains else ""
    return one_line(f"Lookalike digest for {content.owner}: {new} new, {changed} changed{domains}", 200)


def build_message(content: DigestContent, *, settings: Settings, recipients: Sequence[str],
                  message_id: str) -> EmailMessage:
    """The whole digest message (see the module docstring for its layout)."""
    msg = EmailMessage()
    msg["Subject"] = subject(content)
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(one_line(r, 254) for r in recipients)
    msg["Date"] = format_datetime(content.built_at)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render_text(content), cte="quoted-printable")
    msg.add_alternative(render_html(content), subtype="html", cte="quoted-printable")
    html_part = msg.get_payload()[1]
    for chart in content.charts:
        html_part.add_related(chart.png, maintype="image", subtype="png", cid=f"<{chart.cid}>",
                              filename=f"chart-{chart.name}.png", disposition="inline")
    for item in content.shown:
        for data, cid, kind in ((item.listing_image, item.listing_cid, "listing"),
                                (item.official_image, item.official_cid, "official")):
            if data:
                html_part.add_related(data, maintype="image", subtype="jpeg", cid=f"<{cid}>",
                                      filename=f"{kind}-{item.match_id}.jpg", disposition="inline")
    msg.add_attachment(render_csv(content.items), maintype="text", subtype="csv",
                       filename=f"lookalike-digest-{slug(content.owner)}-{content.built_at:%Y%m%d}.csv")
    return msg


def image_parts(message: EmailMessage) -> dict[str, bytes]:
    """Content-ID (without brackets) -> bytes of every inline image of a digest (tests and tools)."""
    out = {}
    for part in message.walk():
        if part.get_content_maintype() == "image" and part["Content-ID"]:
            out[part["Content-ID"].strip().strip("<>")] = part.get_payload(decode=True)
    return out


def html_for_browser(message: EmailMessage) -> str:
    """The digest's HTML part with each ``cid:`` image replaced by a ``data:`` URI, for viewing in a browser
    (mail clients resolve ``cid:`` themselves)."""
    import base64

    body = message.get_body(("html",))
    if body is None:
        raise ValueError("the message has no HTML part")
    html = body.get_content()
    for part in message.walk():
        cid = (part["Content-ID"] or "").strip().strip("<>")
        if cid and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_payload(decode=True)).decode("ascii")
            html = html.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
    return html


__all__ = ["CSV_COLUMNS", "DigestContent", "ItemView", "build_message", "eml_name", "html_for_browser", "image_parts",
           "item_view", "render_csv", "render_html", "render_text", "slug"]
