"""Export suspects (matches) and listings to CSV, JSON or Parquet with pandas.

Formats of the values, the same in every file format:
- prices are decimal strings in major units (``"24.00"``), with the currency as ISO 4217 beside them;
- times are ISO 8601 in UTC (``"2026-11-28T13:03:03Z"``);
- scores are floats 0..1 rounded to 4 places;
- lists (``reasons``, ``image_urls``) are lists in JSON and Parquet; in CSV reasons are joined with
  `` | `` and image URLs with a space.

CSV is opened by spreadsheets, and listing text is written by counterfeiters: every CSV text cell that
starts (after leading spaces) with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
``'`` so that it is shown as text, never run as a formula. JSON and Parquet carry the text unchanged.

Files are written atomically: to a temporary file beside the target, then renamed over it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import LookalikeError
from core.money import amount_text
from core.times import as_utc
from matching.evidence import evidence_from_json
from services.review import check_status, find_brand, list_matches
from storage.models import (
    Brand,
    EvidenceCapture,
    Listing,
    Match,
    MatchEvent,
    ReferenceImage,
)
from storage.vocabulary import LISTING_STATUSES

FORMATS = ("csv", "json", "parquet")
KINDS = ("suspects", "listings")

#: Columns of ``export suspects``, in order.
SUSPECT_COLUMNS = (
    "match_id", "listing_url", "marketplace", "marketplace_item_id", "brand", "product", "product_sku", "score",
    "class", "reasons", "status", "title", "seller", "seller_id", "seller_url", "price", "currency", "msrp",
    "msrp_currency", "price_ratio", "image_urls", "reference_image", "decided_by", "decided_at", "decision_note",
    "evidence_sha256", "first_seen", "last_seen", "created_at", "changed_at", "changes",
)
#: Columns of ``export listings``, in order.
LISTING_COLUMNS = (
    "listing_id", "listing_url", "canonical_url", "marketplace", "title", "description", "price", "currency",
    "seller", "sku", "gtin", "mpn", "listing_brand", "image_urls", "availability", "status", "first_seen",
    "last_seen", "best_score", "best_brand", "best_class",
)
LIST_COLUMNS = {"reasons": " | ", "changes": " | ", "image_urls": " ", "evidence_sha256": " "}
#: Columns holding times: typed (UTC) in Parquet, ISO 8601 with the zone (``Z``) in CSV and JSON.
TIME_COLUMNS = ("first_seen", "last_seen", "created_at", "changed_at", "decided_at")
#: Columns whose values are built here from numbers, never copied from a page.
SAFE_COLUMNS = frozenset({"match_id", "listing_id", "score", "best_score", "price", "msrp", "price_ratio",
                          *TIME_COLUMNS})
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """Make a CSV text cell safe to open in a spreadsheet (see the module docstring)."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# ------------------------------------------------------------------------------------------- rows


def suspect_rows(
    session: Session,
    *,
    brand: str | None = None,
    status: str | None = None,
    min_score: float | None = None,
    since: dt.datetime | dt.date | None = None,
    created_since: dt.datetime | dt.date | None = None,
    changed_since: dt.datetime | dt.date | None = None,
) -> list[dict[str, Any]]:
    """One dict per match (see ``SUSPECT_COLUMNS``), best score first; filters as ``list_matches``."""
    matches = list_matches(session, brand=brand, status=status, min_score=min_score, since=since,
                           created_since=created_since, changed_since=changed_since)
    return rows_of_matches(session, matches)


def rows_of_matches(session: Session, matches: Sequence[Match]) -> list[dict[str, Any]]:
    """``SUSPECT_COLUMNS`` rows of the given matches, in their order (the CLI export and the review app's)."""
    rows = []
    decisions = _decisions(session, [m.id for m in matches])
    manifests = _manifests(session, [m.id for m in matches])
    for m in matches:
        listing = m.listing
        msrp = m.product.msrp if m.product else None
        decided = decisions.get(m.id)
        rows.append({
            "match_id": m.id,
            "listing_url": listing.url,
            "marketplace": listing.marketplace.name,
            "marketplace_item_id": listing.external_id,
            "brand": m.brand.name,
            "product": m.product.name if m.product else None,
            "product_sku": m.product.sku if m.product else None,
            "score": round(m.score, 4),
            "class": m.klass,
            "reasons": list(m.reasons or []),
            "status": m.status,
            "title": listing.title,
            "seller": listing.seller,
            "seller_id": listing.seller_id,
            "seller_url": listing.seller_url,
            "price": amount_text(listing.price),
            "currency": listing.currency,
            "msrp": amount_text(msrp),
            "msrp_currency": m.product.currency if m.product else None,
            "price_ratio": round(float(listing.price) / float(msrp), 4)
            if listing.price is not None and msrp and (not listing.currency or listing.currency == m.product.currency)
            else None,
            "image_urls": list(listing.image_urls or []),
            "reference_image": ref.source if (ref := matched_reference(m)) else None,
            "decided_by": decided.actor if decided else None,
            "decided_at": as_utc(decided.at) if decided else None,
            "decision_note": decided.note if decided else None,
            "evidence_sha256": manifests.get(m.id, []),
            "first_seen": as_utc(listing.first_seen),
            "last_seen": as_utc(listing.last_seen),
            "created_at": as_utc(m.created_at),
            "changed_at": as_utc(m.updated_at),
            "changes": list(m.changes or []),
        })
    return rows


#: Statuses an analyst's decision moves a match to (the latest such event is "who decided").
DECISION_STATUSES = ("confirmed", "dismissed", "reported")


def _decisions(session: Session, match_ids: list[int]) -> dict[int, MatchEvent]:
    """The latest decision event of each match (confirm, dismiss, report)."""
    latest: dict[int, MatchEvent] = {}
    for chunk in range(0, len(match_ids), 500):
        for event in session.scalars(select(MatchEvent).where(
                MatchEvent.match_id.in_(match_ids[chunk:chunk + 500]),
                MatchEvent.to_status.in_(DECISION_STATUSES)).order_by(MatchEvent.id)):
            latest[event.match_id] = event
    return latest


def _manifests(session: Session, match_ids: list[int]) -> dict[int, list[str]]:
    """SHA-256 of each match's evidence manifests, oldest capture first."""
    out: dict[int, list[str]] = {}
    for chunk in range(0, len(match_ids), 500):
        for match_id, sha in session.execute(select(EvidenceCapture.match_id, EvidenceCapture.manifest_sha256).where(
                EvidenceCapture.match_id.in_(match_ids[chunk:chunk + 500]),
                EvidenceCapture.manifest_sha256.is_not(None)).order_by(EvidenceCapture.id)):
            out.setdefault(match_id, []).append(sha)
    return out


def matched_reference(match: Match) -> ReferenceImage | None:
    """The official photo the image signal matched, else the product's first photo (None without one)."""
    by_id = {str(ref.id): ref for ref in (match.product.images if match.product else [])}
    for found in evidence_from_json(match.evidence):
        for region in found.regions:
            ref = by_id.get(region.ref_id)
            if ref is not None:
                return ref
    return min(by_id.values(), key=lambda r: r.position, default=None)


def listing_rows(
    session: Session,
    *,
    brand: str | None = None,
    status: str | None = None,
    min_score: float | None = None,
    since: dt.datetime | dt.date | None = None,
) -> list[dict[str, Any]]:
    """One dict per listing (see ``LISTING_COLUMNS``) with its best match score against any brand.

    ``brand`` keeps listings matched with that brand and takes the best score against it only;
    ``status`` is a listing status (``active``/``gone``); ``min_score`` applies to the best score
    (listings never matched have none and are left out by it); ``since`` keeps listings last seen at
    or after it.
    """
    if status is not None and status not in LISTING_STATUSES:
        raise LookalikeError(f"unknown listing status {status!r}: choose one of {', '.join(LISTING_STATUSES)}")
    brand_id = find_brand(session, brand).id if brand is not None else None

    best: dict[int, tuple[float, str, str]] = {}
    match_stmt = select(Match.listing_id, Match.score, Brand.name, Match.klass).join(Match.brand)
    if brand_id is not None:
        match_stmt = match_stmt.where(Match.brand_id == brand_id)
    for listing_id, score, brand_name, klass in session.execute(match_stmt):
        if listing_id not in best or score > best[listing_id][0]:
            best[listing_id] = (score, brand_name, klass)

    stmt = select(Listing).options(selectinload(Listing.marketplace)).order_by(Listing.id)
    if status is not None:
        stmt = stmt.where(Listing.status == status)
    if since is not None:
        stmt = stmt.where(Listing.last_seen >= as_utc(since))
    if brand_id is not None:
        stmt = stmt.where(Listing.id.in_(select(Match.listing_id).where(Match.brand_id == brand_id)))
    rows = []
    for listing in session.scalars(stmt):
        top = best.get(listing.id)
        if min_score is not None and (top is None or top[0] < min_score):
            continue
        rows.append({
            "listing_id": listing.id,
            "listing_url": listing.url,
            "canonical_url": listing.canonical_url,
            "marketplace": listing.marketplace.name,
            "title": listing.title,
            "description": listing.description,
            "price": amount_text(listing.price),
            "currency": listing.currency,
            "seller": listing.seller,
            "sku": listing.sku,
            "gtin": listing.gtin,
            "mpn": listing.mpn,
            "listing_brand": listing.brand_text,
            "image_urls": [str(u) for u in (listing.image_urls or [])],
            "availability": listing.availability,
            "status": listing.status,
            "first_seen": as_utc(listing.first_seen),
            "last_seen": as_utc(listing.last_seen),
            "best_score": round(top[0], 4) if top else None,
            "best_brand": top[1] if top else None,
            "best_class": top[2] if top else None,
        })
    return rows


# ------------------------------------------------------------------------------------------- files


def to_frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows as a DataFrame with the given columns (present even when there are no rows)."""
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for name in ("score", "best_score"):
        if name in frame:
            frame[name] = frame[name].astype("float64")
    for name in ("match_id", "listing_id"):
        if name in frame:
            frame[name] = frame[name].astype("int64")
    for name in TIME_COLUMNS:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def _iso_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Time columns as ISO 8601 text in UTC with the zone, ``2026-11-28T13:03:03Z`` (CSV and JSON)."""
    out = frame.copy()
    for name in TIME_COLUMNS:
        if name in out:
            out[name] = [None if pd.isna(v) else v.strftime("%Y-%m-%dT%H:%M:%SZ") for v in out[name]]
    return out


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as CSV wants it: lists joined, text cells neutralised against formula injection."""
    out = _iso_times(frame)
    for name, sep in LIST_COLUMNS.items():
        if name in out:
            out[name] = [sep.join(str(v) for v in value) if isinstance(value, list) else value
                         for value in out[name]]
    for name in out.columns:
        if name not in SAFE_COLUMNS and out[name].dtype != "float64":
            out[name] = out[name].map(neutralise_cell).astype(object)
    return out


def _json_value(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


def _write_json(frame: pd.DataFrame, path: Path) -> None:
    """A JSON array of objects, one per row; missing values are ``null`` (pandas' writer escapes ``/``)."""
    frame = _iso_times(frame)
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    with path.open("w", encoding="utf-8") as fh:
        json.dump(records, fh, ensure_ascii=False, indent=1, default=_json_value, allow_nan=False)
        fh.write("\n")


def _writer(fmt: str) -> Callable[[pd.DataFrame, Path], None]:
    if fmt == "csv":
        return lambda frame, path: csv_frame(frame).to_csv(path, index=False, encoding="utf-8")
    if fmt == "json":
        return _write_json
    return lambda frame, path: frame.to_parquet(path, index=False, engine="pyarrow")


def current_umask() -> int:
    """The process's umask, read without changing it (Linux); elsewhere set and restored at once."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def resolve_format(fmt: str | None, path: Path) -> str:
    """The format asked for, or the one the file name's suffix names; ``LookalikeError`` otherwise."""
    if fmt is None:
        fmt = path.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise LookalikeError(f"cannot tell the format from {path.name!r}: pass --format {'|'.join(FORMATS)}")
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise LookalikeError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def write_frame(frame: pd.DataFrame, path: Path, *, fmt: str) -> Path:
    """Write ``frame`` to ``path`` in ``fmt`` atomically (temporary file + rename); returns the path."""
    fmt = resolve_format(fmt, path)
    path = Path(path).expanduser()
    if path.is_dir():
        raise LookalikeError(f"{path} is a directory: give a file name")
    if not path.parent.is_dir():
        raise LookalikeError(f"folder {path.parent} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise LookalikeError(f"cannot write in {path.parent}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _writer(fmt)(frame, tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; an export gets the usual mode
        os.replace(tmp, path)
    except OSError as exc:
        raise LookalikeError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def export(
    session: Session,
    kind: str,
    path: Path,
    *,
    fmt: str | None = None,
    brand: str | None = None,
    status: str | None = None,
    min_score: float | None = None,
    since: dt.datetime | dt.date | None = None,
    created_since: dt.datetime | dt.date | None = None,
    changed_since: dt.datetime | dt.date | None = None,
) -> int:
    """Export ``suspects`` or ``listings`` to ``path``; returns the number of rows written.

    ``fmt`` is ``csv``, ``json`` or ``parquet`` (default: from the file suffix). For suspects,
    ``status`` is a review status; for listings, a listing status.  ``created_since`` and
    ``changed_since`` (suspects only) keep matches created, or created or changed, at or after them.
    """
    path = Path(path).expanduser()
    fmt = resolve_format(fmt, path)
    if kind != "suspects" and (created_since is not None or changed_since is not None):
        raise LookalikeError("--created-since and --changed-since apply to suspects, not listings (use --since)")
    if kind == "suspects":
        check_status(status)
        frame = to_frame(suspect_rows(session, brand=brand, status=status, min_score=min_score, since=since,
                                      created_since=created_since, changed_since=changed_since),
                         SUSPECT_COLUMNS)
    elif kind == "listings":
        frame = to_frame(listing_rows(session, brand=brand, status=status, min_score=min_score, since=since),
                         LISTING_COLUMNS)
    else:
        raise LookalikeError(f"unknown export {kind!r}: choose one of {', '.join(KINDS)}")
    write_frame(frame, path, fmt=fmt)
    return len(frame)


__all__ = [
    "FORMATS", "KINDS", "LISTING_COLUMNS", "SUSPECT_COLUMNS", "export", "listing_rows", "neutralise_cell",
    "suspect_rows", "write_frame",
]
