"""Takedown packs: notices in each platform's bulk-report columns, with evidence, guarded for good faith.

``build_pack`` selects one brand's matches (confirmed by default, optionally one marketplace) and runs the
notice-quality guard (:func:`plan_pack`), makes sure each has a ``confirmed`` evidence capture, collects the
files and notice rows (:func:`collect_pack`), writes a zip (:func:`write_pack`) and records it
(:func:`record_pack`):

- ``notices/<format>-batch-NNN.csv``: the notice table in the platform's columns (:data:`FORMATS`, documented
  with sources in ``docs/takedowns.md``), split into batches of the platform's limit;
- ``statements/match-<id>.txt``: a short statement per listing (mark, registration, reason, official photo);
- ``official/``: the matched official photos; ``evidence/``: every evidence file of the listed matches;
- ``manifest.json``: every file of the pack with its SHA-256, the pack id, brand, format and time;
- ``report.txt``: what the guard refused and why, what was forced and why, the weakest items packed.

Packing marks each packed match ``reported`` (audited) and records a :class:`storage.models.Takedown` row;
:func:`update_outcomes` turns rechecks into outcomes (removed, edited, still up) and :func:`stats` reports them.

The guard protects the brand's record with the platforms: a notice about a compatible accessory, a genuine
resale, a "dupe" that never uses the mark, or a weak score is refused unless the analyst forces that match
with a reason, which goes into the audit log.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import statistics
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import LookalikeError
from core.settings import Settings
from matching.evidence import evidence_from_json
from matching.model import CLASS_LABELS, may_report
from services.evidence import EvidenceStore, capture_pending, files_of
from services.export import matched_reference, neutralise_cell
from services.review import as_utc, find_brand, set_status
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import (
    Brand,
    Listing,
    Marketplace,
    Match,
    MatchEvent,
    Takedown,
    TakedownPack,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class NoticeFormat:
    """One platform's bulk-report table: its columns, how many listings one batch may hold, its source."""

    name: str
    columns: tuple[str, ...]
    batch_size: int
    source: str


FORMATS: Mapping[str, NoticeFormat] = {
    "generic": NoticeFormat(
        "generic",
        ("listing_url", "marketplace", "item_id", "title", "seller", "seller_url", "price", "currency", "msrp",
         "price_ratio", "brand", "mark", "trademark_office", "trademark_number", "trademark_classes",
         "jurisdiction", "class", "score", "reason", "official_photo", "evidence_manifest_sha256", "statement",
         "confirmed_by", "confirmed_at"),
        1000, "Lookalike's own: every field a notice needs, for platforms without a bulk form"),
    "ebay-vero": NoticeFormat(
        "ebay-vero",
        ("Item Number", "Item URL", "Reason", "Rights Owner", "Intellectual Property", "Registration Number",
         "Registration Office", "Message to Seller", "Comments to eBay"),
        500, "eBay VeRO Program: Notice of Claimed Infringement, reporting tool item list"),
    "amazon": NoticeFormat(
        "amazon",
        ("ASIN", "Listing URL", "Seller Name", "Violation Type", "Trademark Registration Number",
         "Trademark Jurisdiction", "Brand Name", "Additional Details"),
        500, "Amazon Brand Registry: Report a Violation, trademark complaint fields"),
    "alibaba-ipp": NoticeFormat(
        "alibaba-ipp",
        ("Product URL", "IPR Type", "IPR Registration Number", "Infringement Type", "Seller", "Description"),
        300, "Alibaba IP Protection Platform (ipp.alibabagroup.com): batch complaint, up to 300 listings a batch"),
}
PACK_ACTOR_DEFAULT = "lookalike-takedown"
WEAKEST_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Refusal:
    match_id: int
    reasons: tuple[str, ...]


@dataclass
class PackResult:
    pack_id: str
    path: Path
    items: int
    batches: int
    refused: list[Refusal] = field(default_factory=list)
    forced: dict[int, str] = field(default_factory=dict)
    weakest: list[tuple[int, float]] = field(default_factory=list)


def guard_problems(match: Match, *, score_floor: float) -> list[str]:
    """Why a notice about ``match`` would not be in good faith (empty: it may be packed)."""
    problems = []
    if not may_report(match.klass):
        problems.append(f"class {CLASS_LABELS.get(match.klass, match.klass)}")
    signals = {e.signal for e in evidence_from_json(match.evidence)}
    if "dupe" in signals and not signals & {"mark", "photo_text", "image"}:
        problems.append("dupe wording without the mark or an official photo")
    if match.score < score_floor:
        problems.append(f"score {match.score:.2f} below the floor {score_floor:.2f}")
    return problems


def select_matches(session: Session, brand: Brand, *, marketplace: str | None, statuses: Sequence[str],
                   only: Sequence[int] | None = None) -> list[Match]:
    """The brand's matches in ``statuses`` (one marketplace or all; only the ids in ``only`` when given, e.g.
    a seller network's), best score first."""
    query = (select(Match).join(Listing, Listing.id == Match.listing_id)
             .join(Marketplace, Marketplace.id == Listing.marketplace_id)
             .where(Match.brand_id == brand.id, Match.status.in_(list(statuses))).order_by(Match.score.desc(), Match.id))
    if marketplace:
        query = query.where(Marketplace.name == marketplace)
    if only is not None:
        query = query.where(Match.id.in_(list(only)))
    return list(session.scalars(query))


def _decision(session: Session, match: Match) -> tuple[str | None, dt.datetime | None, str | None]:
    event = session.scalars(select(MatchEvent).where(MatchEvent.match_id == match.id,
                                                     MatchEvent.to_status == "confirmed")
                            .order_by(MatchEvent.id.desc()).limit(1)).first()
    if event is None:
        return None, None, None
    return event.actor, as_utc(event.at), event.note


def _ratio(price: Decimal | None, msrp: Decimal | None) -> float | None:
    if price is None or not msrp:
        return None
    return round(float(price) / float(msrp), 3)


def _mark(match: Match, brand: Brand) -> str:
    for ev in evidence_from_json(match.evidence):
        mark = ev.details.get("mark") if isinstance(ev.details, Mapping) else None
        if mark:
            return str(mark)
    return brand.name


def _first_trademark(brand: Brand) -> dict[str, Any]:
    return dict(brand.trademarks[0]) if brand.trademarks else {}


def statement(match: Match, brand: Brand, *, reference_name: str | None) -> str:
    """The short statement filed with one listing (plain text; listing text quoted, never interpreted)."""
    tm = _first_trademark(brand)
    holder = brand.rights_holder or {}
    listing = match.listing
    reasons = "; ".join(match.reasons[:5]) or "see the evidence"
    registration = (f"{tm.get('office', '?')} registration {tm.get('number', '?')}"
                    f" (classes {', '.join(str(c) for c in tm.get('classes', [])) or '?'},"
                    f" {tm.get('jurisdiction', '?')})") if tm else "no registration on file"
    lines = [
        f"Notice of claimed trademark infringement: {brand.name}",
        f"Listing: {listing.url}",
        f"Title as listed: {json.dumps(listing.title or '', ensure_ascii=False)[:400]}",
        f"Seller as listed: {json.dumps(listing.seller or '', ensure_ascii=False)[:200]}",
        f"Mark: {_mark(match, brand)}; {registration}; owner of record {tm.get('owner_of_record', brand.owner.name)}.",
        f"Assessment: {match.klass} (score {match.score:.2f}). Reasons: {reasons}.",
        f"Official photo compared: {reference_name or 'none on file'}.",
        f"Rights holder: {holder.get('name', brand.owner.name)} <{holder.get('email', '')}>",
        "I have a good faith belief that the use described above is not authorised by the rights owner, its "
        "agent, or the law, and the information in this notice is accurate.",
    ]
    return "\n".join(lines) + "\n"


def notice_row(fmt: NoticeFormat, match: Match, brand: Brand, *, extra: Mapping[str, Any]) -> list[Any]:
    listing = match.listing
    tm = _first_trademark(brand)
    reason = "; ".join(match.reasons[:3])
    counterfeit = match.klass == "counterfeit"
    values: dict[str, Any] = {
        "generic": {
            "listing_url": listing.url, "marketplace": listing.marketplace.name, "item_id": listing.external_id,
            "title": listing.title, "seller": listing.seller, "seller_url": listing.seller_url,
            "price": str(listing.price) if listing.price is not None else None, "currency": listing.currency,
            "msrp": str(match.product.msrp) if match.product and match.product.msrp is not None else None,
            "price_ratio": extra.get("price_ratio"), "brand": brand.name, "mark": _mark(match, brand),
            "trademark_office": tm.get("office"), "trademark_number": tm.get("number"),
            "trademark_classes": " ".join(str(c) for c in tm.get("classes", [])),
            "jurisdiction": tm.get("jurisdiction"), "class": match.klass, "score": round(match.score, 3),
            "reason": reason, "official_photo": extra.get("official_photo"),
            "evidence_manifest_sha256": extra.get("manifest"), "statement": extra.get("statement"),
            "confirmed_by": extra.get("confirmed_by"), "confirmed_at": extra.get("confirmed_at"),
        },
        "ebay-vero": {
            "Item Number": listing.external_id, "Item URL": listing.url,
            "Reason": "Trademark - item is a counterfeit product" if counterfeit
            else "Trademark - listing uses the mark without authorisation",
            "Rights Owner": tm.get("owner_of_record", brand.owner.name), "Intellectual Property": _mark(match, brand),
            "Registration Number": tm.get("number"), "Registration Office": tm.get("office"),
            "Message to Seller": f"This listing infringes the {brand.name} trademark.",
            "Comments to eBay": reason,
        },
        "amazon": {
            "ASIN": listing.external_id, "Listing URL": listing.url, "Seller Name": listing.seller,
            "Violation Type": "Trademark - counterfeit" if counterfeit else "Trademark - logo or name misuse",
            "Trademark Registration Number": tm.get("number"), "Trademark Jurisdiction": tm.get("jurisdiction"),
            "Brand Name": brand.name, "Additional Details": reason,
        },
        "alibaba-ipp": {
            "Product URL": listing.url, "IPR Type": "Trademark", "IPR Registration Number": tm.get("number"),
            "Infringement Type": "Counterfeit" if counterfeit else "Unauthorized use of trademark",
            "Seller": listing.seller, "Description": reason,
        },
    }[fmt.name]
    return [neutralise_cell(values.get(column)) for column in fmt.columns]


def _csv(fmt: NoticeFormat, rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fmt.columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True, slots=True)
class PackPlan:
    """What a pack will hold, decided before anything is captured or written: the matches the guard
    accepted (best first), those it refused, and the ones forced past it with their reasons."""

    brand_id: int
    brand: str
    notice: NoticeFormat
    marketplace: str | None
    accepted: tuple[int, ...]
    refused: tuple[Refusal, ...]
    forced: Mapping[int, str]


@dataclass
class PackContents:
    """Every file of a pack but the notice tables, report and manifest, and one notice row per match."""

    files: dict[str, bytes] = field(default_factory=dict)
    rows: list[list[Any]] = field(default_factory=list)
    #: (match id, score), weakest first
    weakest: list[tuple[int, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WrittenPack:
    """A pack zip on disk: its id, when and by whom it was built, its batches and the zip's SHA-256."""

    pack_id: str
    created_at: dt.datetime
    actor: str
    batches: int
    sha256: str


def plan_pack(database: Database, settings: Settings, *, brand: str, fmt: str = "generic",
              marketplace: str | None = None, statuses: Sequence[str] = ("confirmed",),
              force: Mapping[int, str] | None = None, only: Sequence[int] | None = None) -> PackPlan:
    """Select and guard: the brand's matches in ``statuses`` (one marketplace or all) through the notice
    guard; ``force`` (match id -> reason) lets a refused match through.  ``LookalikeError`` in one line for
    an unknown format, a forced match without a reason or outside the selection, or nothing to pack."""
    if fmt not in FORMATS:
        raise LookalikeError(f"unknown pack format {fmt!r}: choose from {', '.join(FORMATS)}")
    forced = {int(k): v.strip() for k, v in (force or {}).items()}
    for match_id, reason in forced.items():
        if not reason:
            raise LookalikeError(f"forcing match {match_id} needs a reason")
    with database.session() as session:
        brand_row = find_brand(session, brand)
        candidates = select_matches(session, brand_row, marketplace=marketplace, statuses=statuses, only=only)
        accepted: list[int] = []
        refused: list[Refusal] = []
        for match in candidates:
            problems = guard_problems(match, score_floor=settings.takedown_score_floor)
            if problems and match.id not in forced:
                refused.append(Refusal(match.id, tuple(problems)))
            else:
                accepted.append(match.id)
        unknown = set(forced) - {m.id for m in candidates}
        if unknown:
            raise LookalikeError(f"cannot force match(es) {', '.join(map(str, sorted(unknown)))}: "
                                 f"not among the {brand_row.name} matches selected")
        plan = PackPlan(brand_id=brand_row.id, brand=brand_row.name, notice=FORMATS[fmt], marketplace=marketplace,
                        accepted=tuple(accepted), refused=tuple(refused), forced=forced)
    if not plan.accepted:
        detail = f"; {len(refused)} refused by the notice guard (force them with a reason)" if refused else ""
        raise LookalikeError(f"no matches to pack for {brand}{detail}")
    return plan


def collect_pack(session: Session, settings: Settings, plan: PackPlan) -> PackContents:
    """Collect, for each accepted match: its matched official photo, every evidence file (a missing one
    is a ``LookalikeError`` naming it: a pack never goes out without its proof), its statement and its
    notice row."""
    images = ImageStore.from_settings(settings)
    store = EvidenceStore(settings.evidence_dir)
    brand = session.get(Brand, plan.brand_id)
    contents = PackContents()
    for match_id in plan.accepted:
        match = session.get(Match, match_id)
        ref = matched_reference(match)
        official = None
        if ref is not None:
            official = f"official/{Path(ref.image.path).name}"
            try:
                contents.files[official] = images.read(ref.image.path)
            except OSError:
                official = None
        evidence_files = files_of(session, match_id)
        manifest = next((f.sha256 for f in reversed(evidence_files) if f.kind == "manifest"), None)
        for f in evidence_files:
            try:
                contents.files[f"evidence/{f.path}"] = store.path(f.path).read_bytes()
            except OSError as exc:
                raise LookalikeError(f"evidence file {f.path} of match {match_id} is unreadable "
                                     f"({exc.strerror}); run `lookalike evidence verify`") from None
        who, when, _note = _decision(session, match)
        statement_name = f"statements/match-{match_id}.txt"
        contents.files[statement_name] = statement(match, brand, reference_name=official).encode()
        extra = {"official_photo": official, "manifest": manifest, "statement": statement_name,
                 "confirmed_by": who, "confirmed_at": when.isoformat() if when else None,
                 "price_ratio": _ratio(match.listing.price, match.product.msrp if match.product else None)}
        contents.rows.append(notice_row(plan.notice, match, brand, extra=extra))
        contents.weakest.append((match_id, match.score))
    contents.weakest.sort(key=lambda item: item[1])
    return contents


def _report(plan: PackPlan, contents: PackContents, *, pack_id: str, batches: int, now: dt.datetime,
            actor: str) -> str:
    """``report.txt``: what the guard refused and why, what was forced and why, the weakest items."""
    refused, forced = plan.refused, plan.forced
    lines = [f"Takedown pack {pack_id} for {plan.brand} ({plan.notice.name}), {len(contents.rows)} listing(s) in "
             f"{batches} batch(es), built {now.isoformat()} by {actor}.", ""]
    lines += ["Refused by the notice guard (not in this pack):"] + [
        f"  match {r.match_id}: {'; '.join(r.reasons)}" for r in refused] + ["" if refused else "  none", ""]
    lines += ["Forced past the guard:"] + [f"  match {k}: {v}" for k, v in forced.items()] + \
        ["" if forced else "  none", ""]
    lines += ["Weakest items packed (check these first):"] + [
        f"  match {mid}: score {score:.2f}" for mid, score in contents.weakest[:WEAKEST_SHOWN]]
    return "\n".join(lines) + "\n"


def write_pack(out: Path, plan: PackPlan, contents: PackContents, *, actor: str,
               now: dt.datetime | None = None) -> WrittenPack:
    """Write the zip: the collected files, the notice table in batches of the platform's limit,
    ``report.txt`` and ``manifest.json`` (every other file with its SHA-256)."""
    notice, pack_id, now = plan.notice, str(uuid.uuid4()), now or utcnow()
    entries = dict(contents.files)
    notices = notice_batches(notice, contents.rows)
    entries.update(notices)
    batches = list(notices)
    entries["report.txt"] = _report(plan, contents, pack_id=pack_id, batches=len(batches), now=now,
                                    actor=actor).encode()
    sha = write_zip(out, entries, {
        "pack_id": pack_id, "brand": plan.brand, "format": notice.name, "marketplace": plan.marketplace,
        "created_at": now.isoformat(), "created_by": actor, "items": len(contents.rows), "source": notice.source,
    })
    return WrittenPack(pack_id=pack_id, created_at=now, actor=actor, batches=len(batches), sha256=sha)


def notice_batches(notice: NoticeFormat, rows: list[list[Any]]) -> dict[str, bytes]:
    """The notice table in batches of the platform's limit: ``notices/<format>-batch-NNN.csv`` -> bytes."""
    batches = [rows[i:i + notice.batch_size] for i in range(0, len(rows), notice.batch_size)]
    return {f"notices/{notice.name}-batch-{n:03d}.csv": _csv(notice, batch) for n, batch in enumerate(batches, 1)}


def write_zip(out: Path, entries: Mapping[str, bytes], meta: Mapping[str, Any]) -> str:
    """Write ``entries`` and a ``manifest.json`` (``meta`` plus every file with its SHA-256 and size) to the zip
    ``out``; returns the zip's SHA-256.  Every pack (listings, domains) is written by this one function."""
    manifest_doc = {**meta, "files": [{"path": name, "sha256": hashlib.sha256(data).hexdigest(),
                                       "size_bytes": len(data)} for name, data in sorted(entries.items())]}
    files = {**entries, "manifest.json": json.dumps(manifest_doc, indent=2).encode()}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def record_pack(session: Session, plan: PackPlan, written: WrittenPack) -> None:
    """Record the pack: its ``takedown_packs`` row, each packed match ``reported`` (audited with the pack
    id and any forced reason) and a ``takedowns`` row per match with the listing's content hash."""
    fmt = plan.notice.name
    session.add(TakedownPack(id=written.pack_id, brand_id=plan.brand_id, marketplace=plan.marketplace, format=fmt,
                             created_at=written.created_at, created_by=written.actor, items=len(plan.accepted),
                             sha256=written.sha256))
    session.flush()
    for match_id in plan.accepted:
        match = session.get(Match, match_id)
        forced = plan.forced.get(match_id)
        note = f"takedown pack {written.pack_id} ({fmt})" + (f"; notice guard forced: {forced}" if forced else "")
        if match.status != "reported":
            set_status(session, match_id, "reported", actor=written.actor, note=note)
        session.add(Takedown(match_id=match_id, pack_id=written.pack_id, marketplace=match.listing.marketplace.name,
                             reported_at=written.created_at, content_hash=match.listing.content_hash,
                             forced_reason=forced))


def build_pack(database: Database, settings: Settings, *, brand: str, out: Path, fmt: str = "generic",
               marketplace: str | None = None, statuses: Sequence[str] = ("confirmed",),
               force: Mapping[int, str] | None = None, actor: str = PACK_ACTOR_DEFAULT,
               resolver=None, only: Sequence[int] | None = None) -> PackResult:
    """Write a takedown pack zip to ``out`` and mark its matches reported; see the module docstring.

    The four steps: :func:`plan_pack` (select and guard), evidence captured for the accepted matches,
    then in one transaction :func:`collect_pack`, :func:`write_pack` and :func:`record_pack` (a failure
    before the commit leaves every match as it was)."""
    plan = plan_pack(database, settings, brand=brand, fmt=fmt, marketplace=marketplace, statuses=statuses,
                     force=force, only=only)
    capture_pending(database, settings, match_ids=list(plan.accepted), resolver=resolver)
    with database.session() as session:
        contents = collect_pack(session, settings, plan)
        written = write_pack(out, plan, contents, actor=actor)
        record_pack(session, plan, written)
    return PackResult(pack_id=written.pack_id, path=out, items=len(contents.rows), batches=written.batches,
                      refused=list(plan.refused), forced=dict(plan.forced), weakest=contents.weakest[:WEAKEST_SHOWN])


def update_outcomes(session: Session, settings: Settings, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Turn the latest rechecks into takedown outcomes; returns counts of what changed.

    ``removed`` when the listing went gone after it was reported (an answer of the recheck said so),
    ``edited`` when it is still up with other content, ``still_up`` once the verification window
    (``takedown_verify_days``) has passed with the listing still there.
    """
    now = as_utc(now or utcnow())
    window = dt.timedelta(days=settings.takedown_verify_days)
    changed = {"removed": 0, "edited": 0, "still_up": 0}
    open_rows = session.scalars(select(Takedown).where(Takedown.outcome.in_(("reported", "edited"))))
    for row in open_rows:
        listing = row.match.listing
        reported_at = as_utc(row.reported_at)
        gone_at = as_utc(listing.gone_at)
        last_seen = as_utc(listing.last_seen)
        if last_seen and last_seen > reported_at:
            row.last_checked_at = last_seen
            row.checks += 1
        if listing.status == "gone" and gone_at is not None and gone_at >= reported_at:
            row.outcome, row.outcome_at = "removed", gone_at
            changed["removed"] += 1
        elif listing.status != "gone" and listing.content_hash != row.content_hash and row.outcome != "edited":
            row.outcome, row.outcome_at = "edited", last_seen
            changed["edited"] += 1
        elif listing.status != "gone" and now - reported_at > window:
            row.outcome, row.outcome_at = "still_up", now
            changed["still_up"] += 1
    session.flush()
    return changed


def open_takedown_listing_ids(session: Session, settings: Settings, *, now: dt.datetime | None = None) -> list[int]:
    """Listings whose notices are still inside the verification window (what the daily recheck visits)."""
    now = as_utc(now or utcnow())
    since = now - dt.timedelta(days=settings.takedown_verify_days)
    return sorted(set(session.scalars(
        select(Match.listing_id).join(Takedown, Takedown.match_id == Match.id)
        .where(Takedown.outcome.in_(("reported", "edited")), Takedown.reported_at >= since)
    )))


@dataclass(frozen=True, slots=True)
class TakedownStats:
    group: str
    reported: int
    removed: int
    edited: int
    still_up: int
    median_hours_to_removal: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "reported": self.reported, "removed": self.removed, "edited": self.edited,
                "still_up_after_window": self.still_up, "median_hours_to_removal": self.median_hours_to_removal}


def takedown_stats(session: Session, *, by: str = "marketplace",
                   brand_ids: Sequence[int] | None = None) -> list[TakedownStats]:
    """Reported, removed, edited, still up after the window and the median time to removal, per
    ``marketplace`` or per ``brand``; ``brand_ids`` limits it (an owner's own brands)."""
    if by not in ("marketplace", "brand"):
        raise LookalikeError("stats are grouped by marketplace or brand")
    query = select(Takedown, Brand.name).join(Match, Match.id == Takedown.match_id).join(Brand, Brand.id == Match.brand_id)
    if brand_ids is not None:
        query = query.where(Match.brand_id.in_(list(brand_ids)))
    groups: dict[str, list[Takedown]] = {}
    for row, brand_name in session.execute(query):
        groups.setdefault(row.marketplace if by == "marketplace" else brand_name, []).append(row)
    out = []
    for name in sorted(groups):
        rows = groups[name]
        hours = [(as_utc(r.outcome_at) - as_utc(r.reported_at)).total_seconds() / 3600
                 for r in rows if r.outcome == "removed" and r.outcome_at]
        out.append(TakedownStats(
            group=name, reported=len(rows), removed=sum(r.outcome == "removed" for r in rows),
            edited=sum(r.outcome == "edited" for r in rows), still_up=sum(r.outcome == "still_up" for r in rows),
            median_hours_to_removal=round(statistics.median(hours), 1) if hours else None,
        ))
    return out


def verify_removals(database: Database, settings: Settings, *, now: dt.datetime | None = None) -> dict[str, int]:
    """The daily verification: recheck every listing whose notice is inside the window, then record
    outcomes.  A marketplace whose recheck crawl fails proves nothing: its listings keep their outcome."""
    from services import recheck  # the recheck crawl runs the crawler in a child process

    since = utcnow()
    with database.session() as session:
        wanted = set(open_takedown_listing_ids(session, settings, now=now))
        groups = [
            recheck.RecheckGroup(g.marketplace, tuple(item for item in g.listings if item[0] in wanted))
            for g in recheck.recheck_groups(session, statuses=("reported", "removed"))
        ]
    failed = 0
    for group in (g for g in groups if g.listings):
        try:
            recheck.recheck_crawl(settings, group)
        except LookalikeError:
            failed += 1
            continue
        with database.session() as session:
            recheck.verify_takedowns(session, group, since=since)
    with database.session() as session:
        changed = update_outcomes(session, settings, now=now)
    return {**changed, "failed_marketplaces": failed}
