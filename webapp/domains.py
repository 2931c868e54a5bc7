"""The Domains page: look-alike domains found by discovery (docs/discovery.md), filtered by brand, feed, class,
status, score and first seen; one domain's reasons, checks, evidence, screenshot and history; approve and
dismiss (CSRF-checked by :func:`webapp.app.page`, analysts and admins only).

Reads and decisions go through :mod:`services.discovery.decisions`, which scopes every query to the user's
brands: a candidate of another owner's brand is 404, as a missing one.
"""

from __future__ import annotations

import re
import unicodedata

from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from core.errors import LookalikeError
from core.times import parse_since
from services.discovery import decisions
from services.discovery.decisions import DOMAIN_KINDS, CandidateFilter
from services.evidence import EvidenceStore
from storage.models import DOMAIN_STATUSES
from webapp.http import Ctx, Forbidden, NotFound, page, query_string

FEEDS = ("ct", "nrd", "permutation")
_EVIDENCE_PATH = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.png$")


def name_parts(domain: str) -> list[tuple[str, str | None]]:
    """The name cut into runs: ASCII text as it is, and each other character with its Unicode name, so the
    page can mark a look-alike letter (``fullіps``: the ``і`` is CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I)."""
    parts: list[tuple[str, str | None]] = []
    for ch in domain[:253]:
        if ch.isascii():
            if parts and parts[-1][1] is None:
                parts[-1] = (parts[-1][0] + ch, None)
            else:
                parts.append((ch, None))
        else:
            parts.append((ch, f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"))
    return parts


def _filters(ctx: Ctx) -> CandidateFilter:
    def choice(name: str, allowed: tuple[str, ...]) -> str | None:
        value = (ctx.param(name) or "").strip()
        return value if value in allowed else None

    score = (ctx.param("min_score") or "").strip()
    try:
        min_score = min(1.0, max(0.0, float(score))) if score else None
    except ValueError:
        raise LookalikeError("min_score must be a number from 0 to 1") from None
    since = (ctx.param("seen_since") or "").strip()
    return CandidateFilter(brand=(ctx.param("brand") or "").strip()[:200] or None, feed=choice("feed", FEEDS),
                           kind=choice("kind", DOMAIN_KINDS), status=choice("status", DOMAIN_STATUSES),
                           min_score=min_score, seen_since=parse_since(since, "seen_since") if since else None)


@page()
def domains(ctx: Ctx) -> Response:
    f = _filters(ctx)
    rows = decisions.list_candidates(ctx.db, f, principal=ctx.principal, limit=500)
    brands = sorted({c.brand.name for c in decisions.list_candidates(ctx.db, principal=ctx.principal, limit=5000)})
    return ctx.render("domains.html", rows=rows, f=f, brands=brands, feeds=FEEDS, kinds=DOMAIN_KINDS,
                      statuses=DOMAIN_STATUSES, done=ctx.param("done"), parts=name_parts)


def _candidate(ctx: Ctx):
    try:
        return decisions.get_candidate(ctx.db, ctx.request.path_params["candidate_id"], principal=ctx.principal)
    except LookalikeError:
        raise NotFound from None


@page()
def domain(ctx: Ctx) -> Response:
    candidate = _candidate(ctx)
    evidence = (candidate.check or {}).get("evidence") or {}
    return ctx.render("domain.html", c=candidate, check=candidate.check or {}, evidence=evidence,
                      history=decisions.history(ctx.db, candidate.id), parts=name_parts)


@page()
def screenshot(ctx: Ctx) -> Response:
    candidate = _candidate(ctx)
    relative = ((candidate.check or {}).get("evidence") or {}).get("screenshot")
    if not isinstance(relative, str) or not _EVIDENCE_PATH.match(relative):
        raise NotFound
    path = EvidenceStore(ctx.app.settings.evidence_dir).path(relative)
    if not path.is_file():
        raise NotFound
    return FileResponse(path, media_type="image/png", headers={"cache-control": "private, max-age=86400"})


@page()
def decide(ctx: Ctx) -> Response:
    if not ctx.principal.can_decide:
        raise Forbidden("Owner accounts can look but not decide; an analyst decides.")
    candidate = _candidate(ctx)
    action = ctx.param("action")
    if action not in ("approve", "dismiss"):
        raise LookalikeError("action must be approve or dismiss")
    note = (ctx.param("note") or "").strip()[:500] or None
    getattr(decisions, action)(ctx.db, candidate.id, actor=ctx.user.username, note=note, principal=ctx.principal)
    return RedirectResponse(f"/domains/{candidate.id}" + query_string({"done": action}), status_code=303)


def routes() -> list[Route]:
    return [
        Route("/domains", domains),
        Route("/domains/{candidate_id:int}", domain),
        Route("/domains/{candidate_id:int}/screenshot", screenshot),
        Route("/domains/{candidate_id:int}/decide", decide, methods=["POST"]),
    ]
