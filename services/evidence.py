"""Evidence that outlives the listing: the page as fetched (WARC), its images, a screenshot, a manifest.

A capture is taken when a listing first scores as a suspect (trigger ``suspect``) and again when an
analyst confirms it (``confirmed``).  :func:`capture_pending` finds the matches that lack one, so the
nightly scan, ``lookalike evidence capture``, a confirm in the CLI and a takedown pack all use one path.

Files live in ``<data_dir>/evidence/<sha[:2]>/<sha>.<ext>``: content-addressed, written once (atomic
rename, then made read-only) and never rewritten, so the same image kept for ten captures is stored once
and a file whose bytes changed no longer matches its name.  Each capture writes a manifest (JSON) that
lists every file with its SHA-256, the capture time in UTC and the crawler's identity; the manifest is an
evidence file itself.  :func:`verify` re-hashes everything the database lists.

Sizes (bounded): one WARC holds at most ``max_page_bytes`` of body plus headers (gzip-compressed), at
most ``evidence_max_images`` images of at most ``max_image_bytes`` each, one PNG screenshot (typically
0.2 to 2 MB), and a manifest of about 1 KB.  Evidence of dismissed matches is pruned after
``evidence_prune_days`` by :func:`prune`.

The page is fetched under the one network policy (:func:`core.netpolicy.fetch`): a stored listing URL
is never trusted, so it is fetched only if its address is public (or the operator allowed private
networks).  The screenshot is rendered offline from the captured bytes, with scripts off and every host
name mapped to nothing, so a hostile page cannot make Chromium fetch anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from core.errors import LookalikeError
from core.files import write_atomic
from core.netpolicy import Fetched, fetch
from core.settings import Settings
from matching.model import INFRINGING_CLASSES
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import EvidenceCapture, EvidenceFile, Listing, Match, utcnow
from storage.vocabulary import UPHELD_STATUSES

TRIGGERS = ("suspect", "confirmed")
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
SCREENSHOT_TIMEOUT_S = 45.0
NO_SCRIPT_POLICY = b'<meta http-equiv="Content-Security-Policy" content="script-src \'none\'; object-src \'none\'">'
EXTENSIONS = {"warc": "warc.gz", "screenshot": "png", "manifest": "json"}


@dataclass(frozen=True, slots=True)
class EvidenceProblem:
    """A file ``verify`` found missing or changed."""

    capture_id: int
    kind: str
    path: str
    problem: str

    def line(self) -> str:
        return f"capture {self.capture_id}: {self.kind} {self.path}: {self.problem}"


@dataclass
class CaptureReport:
    captured: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"captured": len(self.captured), "failed": len(self.failed)}


class EvidenceStore:
    """Content-addressed, write-once files under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, *, ext: str) -> tuple[str, str]:
        """Store ``data`` once; returns (sha256, path relative to the root).  Never rewrites a file."""
        sha = hashlib.sha256(data).hexdigest()
        relative = f"{sha[:2]}/{sha}.{ext}"
        target = self.root / relative
        if not target.exists():
            write_atomic(target, data, mode=0o444)
        return sha, relative

    def path(self, relative: str) -> Path:
        return self.root / relative


def warc_bytes(answer: Fetched, *, crawler: str, captured_at: dt.datetime) -> bytes:
    """A gzip WARC file holding a warcinfo record and the request and response records of ``answer``."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    stamp = captured_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    writer.write_record(writer.create_warcinfo_record("lookalike-evidence.warc.gz", {
        "software": "Lookalike evidence capture", "http-header-user-agent": crawler, "format": "WARC File Format 1.1",
    }))
    extra = {"WARC-Date": stamp, "WARC-IP-Address": answer.address}
    request_head = StatusAndHeaders(
        f"GET {_request_target(answer.url)} {answer.http_version}", list(answer.request_headers),
        is_http_request=True,
    )
    writer.write_record(writer.create_warc_record(answer.url, "request", http_headers=request_head,
                                                  warc_headers_dict=extra))
    status_line = f"{answer.status} {answer.reason}".strip()
    response_head = StatusAndHeaders(status_line, list(answer.headers), protocol=answer.http_version)
    writer.write_record(writer.create_warc_record(
        answer.url, "response", payload=io.BytesIO(answer.body), length=len(answer.body),
        http_headers=response_head, warc_headers_dict=extra,
    ))
    return buffer.getvalue()


def _request_target(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def chromium_path() -> str | None:
    return next((p for p in CHROMIUM_PATHS if Path(p).exists()), shutil.which("chromium"))


def offline_screenshot(html: bytes, *, chromium: str, timeout: float = SCREENSHOT_TIMEOUT_S) -> bytes | None:
    """A full-page PNG of captured HTML, rendered with scripts off and no network at all; None on failure."""
    with tempfile.TemporaryDirectory(prefix="lookalike-shot-") as folder:
        page, shot = Path(folder) / "page.html", Path(folder) / "shot.png"
        # Scripts off by a policy placed before anything of the page (the captured bytes stay as they were).
        page.write_bytes(NO_SCRIPT_POLICY + html)
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-background-networking", f"--user-data-dir={folder}/profile",
            "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return shot.read_bytes() if shot.exists() and shot.stat().st_size else None


def capture(session: Session, settings: Settings, match: Match, *, trigger: str,
            store: EvidenceStore | None = None, resolver=None) -> EvidenceCapture:
    """Capture ``match``'s listing now: page (WARC), images, screenshot, manifest; returns the capture row.

    A page that cannot be fetched gives a ``failed`` capture that still keeps the stored images.
    """
    if trigger not in TRIGGERS:
        raise LookalikeError(f"unknown evidence trigger {trigger!r}")
    store = store or EvidenceStore(settings.evidence_dir)
    listing: Listing = match.listing
    now = utcnow()
    row = EvidenceCapture(match_id=match.id, listing_id=listing.id, trigger=trigger, url=listing.url[:2000],
                          captured_at=now, crawler=settings.user_agent[:300], status="ok")
    files: list[EvidenceFile] = []
    answer: Fetched | None = None
    try:
        answer = fetch(listing.url, max_bytes=settings.max_page_bytes, user_agent=settings.user_agent,
                       accept="text/html,application/xhtml+xml,*/*;q=0.8",
                       allow_private=settings.allow_private_network, timeout=settings.download_timeout,
                       total_timeout=settings.download_timeout * 2, resolver=resolver)
    except LookalikeError as exc:
        row.status, row.error = "failed", str(exc)[:500]
    if answer is not None:
        row.http_status = answer.status
        sha, path = store.put(warc_bytes(answer, crawler=settings.user_agent, captured_at=now), ext="warc.gz")
        files.append(EvidenceFile(kind="warc", sha256=sha, path=path, size_bytes=len(answer.body), source=answer.url))
        chromium = chromium_path() if settings.evidence_screenshots else None
        if chromium and answer.status == 200:
            png = offline_screenshot(answer.body, chromium=chromium)
            if png:
                sha, path = store.put(png, ext="png")
                files.append(EvidenceFile(kind="screenshot", sha256=sha, path=path, size_bytes=len(png),
                                          source=answer.url))
    images = ImageStore.from_settings(settings)
    kept = 0
    for image in sorted(listing.images, key=lambda i: i.position):
        if kept >= settings.evidence_max_images or image.status != "ok" or image.image is None:
            continue
        try:
            data = images.read(image.image.path)
        except OSError:
            continue
        ext = Path(image.image.path).suffix.lstrip(".") or "bin"
        sha, path = store.put(data, ext=ext)
        files.append(EvidenceFile(kind="image", sha256=sha, path=path, size_bytes=len(data), source=image.url[:2000]))
        kept += 1
    manifest = {
        "listing_url": listing.url, "marketplace": listing.marketplace.name if listing.marketplace else None,
        "match_id": match.id, "trigger": trigger, "captured_at": now.astimezone(dt.UTC).isoformat(),
        "crawler": settings.user_agent, "status": row.status, "http_status": row.http_status, "error": row.error,
        "fetched_url": answer.url if answer else None, "fetched_address": answer.address if answer else None,
        "redirects": [list(r) for r in answer.redirects] if answer else [],
        "files": [{"kind": f.kind, "sha256": f.sha256, "path": f.path, "size_bytes": f.size_bytes,
                   "source": f.source} for f in files],
    }
    data = json.dumps(manifest, indent=2, sort_keys=True).encode()
    sha, path = store.put(data, ext="json")
    files.append(EvidenceFile(kind="manifest", sha256=sha, path=path, size_bytes=len(data)))
    row.manifest_sha256 = sha
    row.files = _unique(files)
    session.add(row)
    session.flush()
    return row


def _unique(files: Iterable[EvidenceFile]) -> list[EvidenceFile]:
    seen: set[tuple[str, str]] = set()
    out = []
    for f in files:
        if (f.kind, f.sha256) not in seen:
            seen.add((f.kind, f.sha256))
            out.append(f)
    return out


def pending_matches(session: Session, *, min_score: float | None = None, limit: int | None = None,
                    match_ids: Sequence[int] | None = None) -> list[tuple[Match, str]]:
    """Matches that lack a capture: (match, trigger), oldest first.

    ``suspect``: an open suspect (counterfeit or lookalike class) with no capture at all;
    ``confirmed``: a confirmed or reported match with no ``confirmed`` capture.
    """
    has = lambda trig: exists().where(EvidenceCapture.match_id == Match.id,  # noqa: E731
                                      *(() if trig is None else (EvidenceCapture.trigger == trig,)))
    out: list[tuple[Match, str]] = []
    confirmed = select(Match).where(Match.status.in_(UPHELD_STATUSES), ~has("confirmed")).order_by(Match.id)
    suspects = select(Match).where(Match.status == "new", Match.klass.in_(sorted(INFRINGING_CLASSES)),
                                   ~has(None)).order_by(Match.id)
    if min_score is not None:
        suspects = suspects.where(Match.score >= min_score)
    for query, trigger in ((confirmed, "confirmed"), (suspects, "suspect")):
        if match_ids is not None:
            query = query.where(Match.id.in_(list(match_ids)))
        if limit is not None:
            query = query.limit(max(limit - len(out), 0))
        out.extend((m, trigger) for m in session.scalars(query))
    return out


def capture_pending(database: Database, settings: Settings, *, limit: int | None = None,
                    match_ids: Sequence[int] | None = None, resolver=None) -> CaptureReport:
    """Capture every match that lacks evidence (one transaction per capture, so a kill loses nothing)."""
    report = CaptureReport()
    store = EvidenceStore(settings.evidence_dir)
    with database.session() as session:
        todo = [(m.id, trig) for m, trig in pending_matches(session, limit=limit, match_ids=match_ids)]
    for match_id, trigger in todo:
        with database.session() as session:
            match = session.get(Match, match_id)
            if match is None:
                continue
            row = capture(session, settings, match, trigger=trigger, store=store, resolver=resolver)
            report.captured.append(row.id)
            if row.status != "ok":
                report.failed.append(f"match {match_id}: {row.error}")
    return report


def verify(session: Session, settings: Settings) -> tuple[int, list[EvidenceProblem]]:
    """Re-hash every evidence file the database lists: (files checked, problems)."""
    store = EvidenceStore(settings.evidence_dir)
    problems: list[EvidenceProblem] = []
    checked = 0
    for f in session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)):
        checked += 1
        target = store.path(f.path)
        try:
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
        except FileNotFoundError:
            problems.append(EvidenceProblem(f.capture_id, f.kind, str(target), "missing"))
            continue
        except OSError as exc:
            problems.append(EvidenceProblem(f.capture_id, f.kind, str(target), f"unreadable ({exc.strerror})"))
            continue
        if digest != f.sha256:
            problems.append(EvidenceProblem(f.capture_id, f.kind, str(target),
                                            f"changed: sha256 {digest} where {f.sha256} was recorded"))
    return checked, problems


def prune(session: Session, settings: Settings, *, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete evidence of matches dismissed for ``evidence_prune_days``: (captures, files deleted).

    A file still listed by another capture is kept.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=settings.evidence_prune_days)
    doomed = list(session.scalars(
        select(EvidenceCapture).join(Match, Match.id == EvidenceCapture.match_id)
        .where(Match.status == "dismissed", Match.updated_at < cutoff)
    ))
    store = EvidenceStore(settings.evidence_dir)
    deleted_files = 0
    doomed_ids = {c.id for c in doomed}
    for capture_row in doomed:
        for f in capture_row.files:
            shared = session.scalar(select(EvidenceFile.id).where(
                EvidenceFile.sha256 == f.sha256, EvidenceFile.capture_id.not_in(doomed_ids)).limit(1))
            if shared is None and store.path(f.path).exists():
                store.path(f.path).unlink()
                deleted_files += 1
        session.delete(capture_row)
    session.flush()
    return len(doomed), deleted_files


def files_of(session: Session, match_id: int) -> list[EvidenceFile]:
    """Every evidence file of a match, oldest capture first."""
    return list(session.scalars(
        select(EvidenceFile).join(EvidenceCapture).where(EvidenceCapture.match_id == match_id)
        .order_by(EvidenceCapture.id, EvidenceFile.id)
    ))
