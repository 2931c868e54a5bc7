"""Takedown packs for look-alike domains: what a registrar's or host's abuse desk needs, written with the
takedown code that packs listings (:func:`services.takedowns.notice_batches`, :func:`~services.takedowns.write_zip`).

The pack of one brand holds its approved candidates (by default), each with:

- a row of ``notices/domain-abuse-batch-NNN.csv``: the domain (Unicode and punycode), the addresses it
  resolved to, the registrar when known, the mark and its registration, the disguise, score and reasons,
  what the home page showed, the evidence files' hashes;
- ``statements/domain-<id>.txt``: the statement (mark, registration, why the name imitates it, good faith);
- ``evidence/``: the home page as fetched (WARC) and its offline screenshot, kept by the check;
- ``manifest.json``: every file with its SHA-256.

Registrars and hosts are not looked up (no WHOIS/RDAP client): the column is empty unless a check recorded
one.  Packing writes a ``reported`` event to each domain's audit trail.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import LookalikeError
from core.settings import Settings
from services.discovery.candidates import audit
from services.evidence import EvidenceStore
from services.export import neutralise_cell
from services.review import find_brand
from services.takedowns import NoticeFormat, notice_batches, write_zip
from storage.db import Database
from storage.models import Brand, DomainCandidate, utcnow

DOMAIN_ABUSE = NoticeFormat(
    "domain-abuse",
    ("domain", "punycode", "addresses", "registrar", "brand", "mark", "trademark_office", "trademark_number",
     "jurisdiction", "disguise", "score", "class", "first_seen", "feeds", "reasons", "home_page", "home_page_title",
     "evidence_warc_sha256", "evidence_screenshot_sha256", "statement"),
    200, "Lookalike's own: the fields registrar and hosting abuse desks ask for (domain, IP, evidence, mark)")


@dataclass
class DomainPack:
    pack_id: str
    path: Path
    items: int
    sha256: str


def _first_trademark(brand: Brand) -> dict[str, Any]:
    return dict(brand.trademarks[0]) if brand.trademarks else {}


def statement(candidate: DomainCandidate, brand: Brand) -> str:
    """The statement filed with one domain (plain text; the name quoted, never interpreted)."""
    tm = _first_trademark(brand)
    holder = brand.rights_holder or {}
    check = candidate.check or {}
    registration = (f"{tm.get('office', '?')} registration {tm.get('number', '?')} ({tm.get('jurisdiction', '?')})"
                    if tm else "no registration on file")
    lines = [
        f"Report of a domain imitating the trademark {brand.name}",
        f"Domain: {json.dumps(candidate.domain, ensure_ascii=False)} (IDNA: {candidate.ascii_domain})",
        f"Addresses: {', '.join(check.get('addresses') or []) or 'unknown'}",
        f"Mark: {candidate.mark}; {registration}; owner of record {tm.get('owner_of_record', brand.owner.name)}.",
        f"Why: {'; '.join(candidate.reasons[:5])}.",
        f"Home page: {check.get('final_url') or 'not fetched'}"
        + (f", titled {json.dumps(check.get('title'), ensure_ascii=False)[:200]}" if check.get("title") else "")
        + (" (it names the brand)" if check.get("names_brand") else "") + f"; class {candidate.kind}.",
        f"Official domains of the brand: {', '.join(brand.official_domains or []) or 'none on file'}.",
        f"Rights holder: {holder.get('name', brand.owner.name)} <{holder.get('email', '')}>",
        "I have a good faith belief that this use of the mark is not authorised by the rights owner, its agent, "
        "or the law, and the information in this report is accurate.",
    ]
    return "\n".join(lines) + "\n"


def _row(candidate: DomainCandidate, brand: Brand, text: str) -> list[Any]:
    tm = _first_trademark(brand)
    check = candidate.check or {}
    evidence = check.get("evidence") or {}
    values = {
        "domain": candidate.domain, "punycode": candidate.ascii_domain,
        "addresses": " ".join(check.get("addresses") or []), "registrar": check.get("registrar"),
        "brand": brand.name, "mark": candidate.mark, "trademark_office": tm.get("office"),
        "trademark_number": tm.get("number"), "jurisdiction": tm.get("jurisdiction"),
        "disguise": candidate.disguise, "score": round(candidate.score, 3), "class": candidate.kind,
        "first_seen": candidate.first_seen.isoformat(), "feeds": " ".join(candidate.feeds),
        "reasons": "; ".join(candidate.reasons[:5]), "home_page": check.get("final_url"),
        "home_page_title": check.get("title"), "evidence_warc_sha256": evidence.get("warc_sha256"),
        "evidence_screenshot_sha256": evidence.get("screenshot_sha256"), "statement": text,
    }
    return [neutralise_cell(values.get(column)) for column in DOMAIN_ABUSE.columns]


def select_candidates(session: Session, brand: Brand, *, statuses: Sequence[str]) -> list[DomainCandidate]:
    return list(session.scalars(select(DomainCandidate).where(
        DomainCandidate.brand_id == brand.id, DomainCandidate.status.in_(list(statuses)))
        .options(selectinload(DomainCandidate.brand)).order_by(DomainCandidate.score.desc(), DomainCandidate.id)))


def build_domain_pack(database: Database, settings: Settings, *, brand: str, out: Path,
                      statuses: Sequence[str] = ("approved",), actor: str = "lookalike-takedown",
                      now: dt.datetime | None = None) -> DomainPack:
    """Write the domain takedown pack of ``brand`` to ``out`` (``LookalikeError`` when it has no domain in
    ``statuses``) and audit each packed domain."""
    now = now or utcnow()
    store = EvidenceStore(settings.evidence_dir)
    with database.session() as session:
        row = find_brand(session, brand)
        candidates = select_candidates(session, row, statuses=statuses)
        if not candidates:
            raise LookalikeError(f"brand {row.name!r} has no {'/'.join(statuses)} look-alike domain to report")
        entries: dict[str, bytes] = {}
        rows = []
        for candidate in candidates:
            text = statement(candidate, row)
            entries[f"statements/domain-{candidate.id}.txt"] = text.encode("utf-8")
            evidence = (candidate.check or {}).get("evidence") or {}
            for key in ("warc", "screenshot"):
                relative = evidence.get(key)
                path = store.path(relative) if isinstance(relative, str) and ".." not in relative else None
                if path is not None and path.is_file():
                    entries[f"evidence/domain-{candidate.id}/{Path(relative).name}"] = path.read_bytes()
            rows.append(_row(candidate, row, text))
        entries.update(notice_batches(DOMAIN_ABUSE, rows))
        pack_id = str(uuid.uuid4())
        sha = write_zip(out, entries, {"pack_id": pack_id, "brand": row.name, "format": DOMAIN_ABUSE.name,
                                       "created_at": now.isoformat(), "created_by": actor, "items": len(rows),
                                       "source": DOMAIN_ABUSE.source})
        for candidate in candidates:
            audit(session, candidate, "reported", f"domain takedown pack {pack_id}", actor=actor, now=now)
    return DomainPack(pack_id=pack_id, path=out, items=len(rows), sha256=sha)
