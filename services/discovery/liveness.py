"""The safe check of a candidate: DNS, then the home page through the network policy with the crawler's
limits, then a first look with the page classes and the matcher.

- A name that does not resolve is ``unreachable``.  A name with an address inside the network (loopback,
  private, link-local, the cloud metadata address...) is ``internal``: recorded, never fetched.  A home page
  that redirects to such an address is refused by the policy at the redirect and classed ``internal`` too.
- A home page that lands on one of the brand's official domains is ``redirects_official``; a parking or
  domain-sale page is ``parked`` or ``for_sale``; a page the generic product page class reads as an offer,
  or that has a cart, is ``shop``; anything else ``other``.
- The first look runs the listing matcher on the page's title, text and photos, so "does the home page name
  the brand" and "does it show a registered photo" have the answers listings get: the page's product (when
  there is one) is read by :class:`crawlers.pages.ProductPage`, and its first :data:`FIRST_LOOK_PHOTOS`
  photos are fetched through the network policy (within the image limits) and signed as listing photos are.

Each check updates the candidate's fingerprint (addresses and home page), so a dismissed candidate whose
address or page changes comes back (:func:`services.discovery.candidates.note_change`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import idna
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import LookalikeError
from core.netpolicy import Fetched, Resolver, UnsafeURL, address_refusal, fetch, fetch_bytes, system_resolver
from core.settings import Settings
from crawlers.pages import ProductPage
from crawlers.pages.document import parse_document
from crawlers.processors import absolute_url
from matching.config import MatchConfig
from matching.domains import is_official
from matching.images import ImageDecodeError, compute_image_signature
from matching.matcher import Matcher
from matching.model import ListingInput
from matching.signature import ImageSignature
from services.discovery.candidates import audit, note_change
from services.evidence import EvidenceStore, chromium_path, offline_screenshot, warc_bytes
from services.matchdata import load_brand_profiles
from storage.db import Database
from storage.models import DomainCandidate, utcnow

#: Words of parking pages and of domains offered for sale (lower case, matched in the page text).
PARKED_WORDS = ("domain is parked", "parked free", "parkingcrew", "sedoparking", "this domain is parked",
                "parked domain", "bodis.com", "domain parking")
FOR_SALE_WORDS = ("domain is for sale", "domain may be for sale", "buy this domain", "make an offer",
                  "afternic", "dan.com", "sedo.com/search", "this domain is available")
#: Words of a shop's home page (cart, checkout) in a few languages.
SHOP_WORDS = ("add to cart", "add to basket", "shopping cart", "checkout", "warenkorb", "panier", "carrito",
              "carrello", "winkelwagen", "koszyk")
#: Characters of the page text the matcher reads.
TEXT_CHARS = 4000
#: Photos of a home page the first look fetches and compares with the brand's official photos.
FIRST_LOOK_PHOTOS = 6


@dataclass
class Check:
    """What one check found; ``kind`` is the candidate's new class."""

    kind: str
    addresses: list[str] = field(default_factory=list)
    status: int | None = None
    final_url: str | None = None
    title: str | None = None
    names_brand: bool = False
    #: The home page shows one of the brand's registered photos (the matcher's image evidence).
    shows_photo: bool = False
    match_score: float | None = None
    reasons: list[str] = field(default_factory=list)
    page_sha256: str | None = None
    #: The home page as fetched (kept as evidence by :func:`record_check`).
    answer: Fetched | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"addresses": self.addresses, "status": self.status, "final_url": self.final_url,
                "title": self.title, "names_brand": self.names_brand, "shows_photo": self.shows_photo,
                "match_score": self.match_score,
                "reasons": self.reasons}


def _unicode_host(host: str) -> str:
    try:
        return idna.decode(host)
    except (idna.IDNAError, UnicodeError):
        return host


def page_photos(url: str, tree: Any, item: Any) -> list[str]:
    """The first :data:`FIRST_LOOK_PHOTOS` photo URLs of a page: its product's, then its ``<img>`` tags."""
    found: list[str] = []
    candidates = list(item.image_urls) if item is not None and item.image_urls else []
    if tree is not None:
        candidates += [img.get("src") for img in tree.iter("img")]
    for value in candidates:
        photo = absolute_url(value, base=url)
        if photo and photo not in found:
            found.append(photo)
        if len(found) >= FIRST_LOOK_PHOTOS:
            break
    return found


def sign_photos(settings: Settings, urls: list[str], resolver: Resolver) -> tuple[ImageSignature, ...]:
    """Fetch each photo through the network policy (the image byte limit, the crawler's timeout) and sign
    it as a listing photo is signed; a photo that is refused, missing or not an image is left out."""
    signatures = []
    for url in urls:
        try:
            data, _type = fetch_bytes(url, max_bytes=settings.max_image_bytes, user_agent=settings.rendered_user_agent,
                                      allow_private=settings.allow_private_network, timeout=settings.download_timeout,
                                      resolver=resolver)
            signatures.append(compute_image_signature(data, max_pixels=settings.max_image_pixels))
        except (LookalikeError, UnsafeURL, ImageDecodeError):
            continue
    return tuple(signatures)


def first_look(url: str, body: bytes, content_type: str | None, brand_id: int | str, matcher: Matcher, *,
               photos: Any = None) -> tuple[bool, bool, float | None, str | None, bool]:
    """(the page names the brand, it shows a registered photo, the match score, the page title, the page is a
    product offer). ``photos(urls)`` signs the page's photos (None: text only)."""
    document = parse_document(url, body, content_type=content_type)
    tree = document.tree
    title = (tree.findtext(".//title") or "").strip()[:300] if tree is not None else ""
    text = " ".join(tree.text_content().split())[:TEXT_CHARS] if tree is not None else ""
    item = ProductPage(url, body, content_type=content_type).to_item()
    images = photos(page_photos(url, tree, item)) if photos is not None else ()
    listing = ListingInput(listing_id=url, title=(item.title if item and item.title else title) or "",
                           description=text, brand_text=item.brand if item else None,
                           price=item.price if item else None, currency=item.currency if item else None,
                           images=images)
    results = [r for r in matcher.score(listing) if r.brand_id == brand_id]
    score = results[0].score if results else None
    names = bool(results) and any(e.signal in ("mark", "photo_text") for e in results[0].evidence)
    shows = bool(results) and any(e.signal == "image" for e in results[0].evidence)
    return names, shows, score, title or None, item is not None


def check_candidate(settings: Settings, candidate: DomainCandidate, matcher: Matcher, *,
                    resolver: Resolver | None = None) -> Check:
    """DNS, home page and first look of one candidate (no database write; see :func:`record_check`)."""
    resolver = resolver or system_resolver
    host = candidate.ascii_domain
    try:
        addresses = sorted(set(resolver(host, 443)))[:16]
    except OSError:
        return Check("unreachable", reasons=["the name does not resolve"])
    if not addresses:
        return Check("unreachable", reasons=["the name does not resolve"])
    inside = [a for a in addresses if address_refusal(a)]
    if inside and not settings.allow_private_network:
        return Check("internal", addresses=addresses,
                     reasons=[f"points inside the network ({', '.join(inside[:3])}): recorded, never fetched"])
    answer = None
    problems = []
    for scheme in ("https", "http"):
        try:
            answer = fetch(f"{scheme}://{host}/", max_bytes=settings.max_page_bytes,
                           user_agent=settings.rendered_user_agent, accept="text/html,*/*;q=0.5",
                           allow_private=settings.allow_private_network, timeout=settings.download_timeout,
                           resolver=lambda h, p: addresses if h == host else resolver(h, p))
            break
        except UnsafeURL as exc:
            return Check("internal", addresses=addresses,
                         reasons=[f"the home page leads inside the network, refused: {str(exc)[:200]}"])
        except LookalikeError as exc:
            problems.append(str(exc)[:200])
    if answer is None:
        return Check("unreachable", addresses=addresses, reasons=[f"no home page: {problems[-1]}"])
    check = Check("other", addresses=addresses, status=answer.status, final_url=answer.url,
                  page_sha256=hashlib.sha256(answer.body).hexdigest(), answer=answer)
    final_host = _unicode_host((urlsplit(answer.url).hostname or "").lower())
    if answer.redirects:
        check.reasons.append(f"redirects to {answer.url[:200]}")
    official = tuple(candidate.brand.official_domains or ())
    if final_host and is_official(final_host, official):
        check.kind = "redirects_official"
        check.reasons.append("lands on the brand's own domain")
        return check
    text = answer.body[:200_000].decode("utf-8", errors="replace").lower()
    pinned = lambda h, p: addresses if h == host else resolver(h, p)  # noqa: E731 - the checked addresses
    names, shows, score, title, offer = first_look(answer.url, answer.body, answer.header("Content-Type"),
                                                   candidate.brand_id, matcher,
                                                   photos=lambda urls: sign_photos(settings, urls, pinned))
    check.names_brand, check.shows_photo, check.match_score, check.title = names, shows, score, title
    if names:
        check.reasons.append(f"the home page names the brand (match score {score:.2f})")
    if shows:
        check.reasons.append(f"the home page shows a registered photo of the brand (match score {score:.2f})")
    if any(word in text for word in FOR_SALE_WORDS):
        check.kind = "for_sale"
        check.reasons.append("the domain is offered for sale")
    elif any(word in text for word in PARKED_WORDS):
        check.kind = "parked"
        check.reasons.append("a parking page")
    elif offer or any(word in text for word in SHOP_WORDS):
        check.kind = "shop"
        check.reasons.append("a shop: " + ("a product offer" if offer else "a cart or checkout"))
    if answer.status >= 400:
        check.reasons.append(f"HTTP {answer.status}")
    return check


def keep_evidence(settings: Settings, answer: Fetched, *, now: dt.datetime) -> dict[str, str]:
    """The home page as evidence, with the listing captures' store and formats: a WARC of the request and
    answer, and a screenshot rendered offline from the captured bytes (where Chromium is and
    ``evidence_screenshots`` is on).  Returns the files' paths and hashes."""
    store = EvidenceStore(settings.evidence_dir)
    warc_sha, warc = store.put(warc_bytes(answer, crawler=settings.rendered_user_agent, captured_at=now), ext="warc.gz")
    out = {"warc": warc, "warc_sha256": warc_sha, "captured_at": now.isoformat()}
    chromium = chromium_path() if settings.evidence_screenshots else None
    shot = offline_screenshot(answer.body, chromium=chromium) if chromium else None
    if shot:
        shot_sha, shot_path = store.put(shot, ext="png")
        out.update(screenshot=shot_path, screenshot_sha256=shot_sha)
    return out


def record_check(session: Session, candidate: DomainCandidate, check: Check, *,
                 settings: Settings | None = None) -> None:
    """Store a check on the candidate, with its fingerprint parts, its evidence (``settings`` given and a
    home page fetched) and an audit event."""
    now = utcnow()
    before = candidate.kind
    candidate.kind = check.kind
    candidate.checked_at = now
    parts = (candidate.check or {}).get("parts") or {}
    evidence = (candidate.check or {}).get("evidence")
    if settings is not None and check.answer is not None:
        evidence = keep_evidence(settings, check.answer, now=now)
    candidate.check = {**check.as_dict(), "parts": parts, **({"evidence": evidence} if evidence else {})}
    note_change(session, candidate, "addresses", ",".join(check.addresses), "a new address", now=now)
    if check.page_sha256:
        note_change(session, candidate, "home_page", check.page_sha256, "a changed home page", now=now)
    audit(session, candidate, "checked", f"{before} -> {check.kind}: {'; '.join(check.reasons)[:900]}", now=now)


@dataclass
class CheckReport:
    checked: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.kinds.items())) or "nothing to check"
        return f"{self.checked} candidate(s) checked: {kinds}"


def check_candidates(settings: Settings, database: Database, *, limit: int = 100, recheck: bool = False,
                     resolver: Resolver | None = None) -> CheckReport:
    """Check candidates not checked yet (``recheck``: every candidate, dismissed ones included, so that one
    that changed comes back; oldest check first), at most ``limit``, each committed on its own."""
    with database.session() as session:
        profiles = load_brand_profiles(session)
        query = select(DomainCandidate.id)
        if not recheck:
            query = query.where(DomainCandidate.kind == "unchecked")
        ids = list(session.scalars(query.order_by(DomainCandidate.checked_at.is_not(None),
                                                  DomainCandidate.checked_at, DomainCandidate.id).limit(limit)))
    matcher = Matcher(profiles, config=MatchConfig(), rates=dict(settings.currency_rates))
    report = CheckReport()
    for candidate_id in ids:
        with database.session() as session:
            candidate = session.get(DomainCandidate, candidate_id)
            check = check_candidate(settings, candidate, matcher, resolver=resolver)
            record_check(session, candidate, check, settings=settings)
        report.checked += 1
        report.kinds[check.kind] = report.kinds.get(check.kind, 0) + 1
    return report
