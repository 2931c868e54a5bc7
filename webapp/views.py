"""The review app's pages: login, queue, match, seller, decisions (single, bulk, undo), images, exports.

Every read goes through ``webapp.queries`` (scoped to the user's brands); every decision goes through
``webapp.decisions`` (which calls ``services.review.set_status``). Handlers return HTML for browsers
and small JSON for the keyboard script (``Accept: application/json``).
"""

from __future__ import annotations

import io
import re
import urllib.parse

from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from core.errors import LookalikeError
from matching.evidence import evidence_from_json
from services import accounts
from services.export import SUSPECT_COLUMNS, csv_frame, to_frame
from storage.imagestore import ImageStore
from storage.models import utcnow
from webapp import accounts as account_pages
from webapp import dashboard, decisions, evidence, images, networks, queries, registry, security
from webapp.http import Ctx, Forbidden, NotFound, page, query_string, safe_link

SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def _next_target(value: str | None) -> str:
    """A post-login redirect target: a local path only (no scheme, no host, no ``//``)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return "/queue"
    parts = urllib.parse.urlsplit(value)
    return "/queue" if parts.scheme or parts.netloc else value


# ---------------------------------------------------------------------------------------------- login


@page(login=False)
def login_form(ctx: Ctx) -> Response:
    if ctx.user is not None:
        return RedirectResponse("/queue", status_code=303)
    token = security.new_token()
    response = ctx.render("login.html", login_csrf=token, next=_next_target(ctx.param("next")), error=None)
    security.set_cookie(response, ctx.request, security.LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@page(login=False)
def login_submit(ctx: Ctx) -> Response:
    request = ctx.request
    target = _next_target(ctx.param("next"))
    if not security.tokens_equal(request.cookies.get(security.LOGIN_CSRF_COOKIE), ctx.param(security.CSRF_FIELD)):
        return ctx.render("error.html", status=403, code=403, message="Refused: the form's CSRF token is missing or wrong. "
                          "Reload the login page and try again.")
    address = request.client.host if request.client else "unknown"
    try:
        user = accounts.authenticate(ctx.db, ctx.param("username") or "", ctx.param("password") or "",
                                     address=address)
    except accounts.LoginRefused as exc:
        token = security.new_token()
        response = ctx.render("login.html", status=401 if "wrong" in str(exc) else 429, login_csrf=token,
                              next=target, error=str(exc), username=(ctx.param("username") or "")[:100])
        security.set_cookie(response, request, security.LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response
    session_token = accounts.start_session(ctx.db, user)
    response = RedirectResponse(target, status_code=303)
    security.set_cookie(response, request, security.SESSION_COOKIE, session_token,
                        max_age=int(accounts.SESSION_TTL.total_seconds()))
    security.clear_cookie(response, request, security.LOGIN_CSRF_COOKIE)
    return response


@page()
def logout(ctx: Ctx) -> Response:
    accounts.end_session(ctx.db, ctx.request.cookies.get(security.SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    security.clear_cookie(response, ctx.request, security.SESSION_COOKIE)
    return response


# ---------------------------------------------------------------------------------------------- queue


def _filter(ctx: Ctx) -> queries.QueueFilter:
    """The queue filter of this request; a brand outside the user's scope is 404, like a missing one."""
    f = queries.QueueFilter.parse(ctx.request.query_params)
    brands = ctx.principal.brand_ids
    if brands is not None and f.brand is not None and f.brand not in brands:
        raise NotFound
    return f


@page()
def home(ctx: Ctx) -> Response:
    return RedirectResponse("/queue", status_code=303)


@page()
def queue(ctx: Ctx) -> Response:
    f = _filter(ctx)
    result = queries.queue_page(ctx.db, ctx.principal, f)
    return ctx.render("queue.html", q=result, f=result.filter, sorts=queries.SORTS,
                      statuses=queries.STATUS_CHOICES, reasons=decisions.DISMISS_REASONS)


@page()
def export(ctx: Ctx) -> Response:
    fmt = ctx.request.path_params["fmt"]
    if fmt not in ("csv", "parquet"):
        raise NotFound
    f = _filter(ctx)
    frame = to_frame(queries.export_rows(ctx.db, ctx.principal, f), SUSPECT_COLUMNS)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        body = csv_frame(frame).to_csv(index=False).encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, engine="pyarrow")
        body, media = buffer.getvalue(), "application/vnd.apache.parquet"
    return Response(body, media_type=media, headers={
        "content-disposition": f'attachment; filename="suspects-{stamp}.{fmt}"'})


# ---------------------------------------------------------------------------------------------- match


@page()
def match(ctx: Ctx) -> Response:
    match_id = ctx.request.path_params["match_id"]
    m = queries.visible_match(ctx.db, ctx.principal, match_id)
    if m is None:
        raise NotFound
    f = _filter(ctx)
    before, after = queries.neighbours(ctx.db, ctx.principal, f, m.id)
    found = evidence_from_json(m.evidence)
    listing = m.listing
    listing_photos = [img.sha256 for img in listing.images if img.sha256]
    refs = m.product.images if m.product and m.product.images else queries.brand_reference_images(ctx.db, m.brand_id)
    references = {str(r.id): (r.sha256, f"{r.product.sku} photo {chr(97 + min(r.position, 25))}") for r in refs}
    texts = {"title": listing.title, "description": listing.description, "brand": listing.brand_text,
             "seller": listing.seller}
    msrp = m.product.msrp if m.product else None
    return ctx.render(
        "match.html", m=m, listing=listing, f=f, before=before, after=after,
        segments=evidence.title_segments(listing.title, found),
        invisible=evidence.invisible_characters(listing.title),
        marks=evidence.mark_findings(found, texts), pairs=evidence.photo_pairs(found, listing_photos, references),
        listing_photos=listing_photos, references=list(references.values()),
        price=evidence.price_view(listing.price, listing.currency, found, msrp,
                                  m.product.currency if m.product else None),
        seller_status=evidence.seller_verdict(found),
        same_seller=queries.same_seller(ctx.db, ctx.principal, m),
        repeat=queries.seller_repeat_count(ctx.db, ctx.principal, listing.seller),
        link=safe_link(listing.url), reasons=decisions.DISMISS_REASONS,
        network=networks.network_of_listing(ctx.db, listing),
    )


@page()
def seller(ctx: Ctx) -> Response:
    name = (ctx.request.query_params.get("name") or "").strip()
    if not name:
        raise LookalikeError("which seller? (?name=...)")
    found = queries.seller_page(ctx.db, ctx.principal, name[:300])
    if found is None:
        raise NotFound
    return ctx.render("seller.html", s=found, networks=networks.networks_of_seller_name(ctx.db, name[:300]))


@page()
def brands(ctx: Ctx) -> Response:
    """The principal's brands: matches by status and takedown outcomes (reported, removed, time to removal)."""
    rows = queries.brand_overview(ctx.db, ctx.principal)
    return ctx.render("brands.html", rows=rows)


# ------------------------------------------------------------------------------------------ decisions


def _can_decide(ctx: Ctx) -> None:
    if not ctx.principal.can_decide:
        raise Forbidden("Owner accounts can look but not decide; an analyst decides.")


@page()
def decide(ctx: Ctx) -> Response:
    _can_decide(ctx)
    match_id = ctx.request.path_params["match_id"]
    if queries.visible_match(ctx.db, ctx.principal, match_id) is None:
        raise NotFound
    done = decisions.decide(ctx.db, ctx.web, ctx.user, [match_id], ctx.param("action") or "",
                            reason=ctx.param("reason"), note=ctx.param("note"))
    if ctx.wants_json():
        return JSONResponse({"done": [{"id": i, "status": s} for i, s in done.changed], "skipped": done.skipped})
    target = ctx.param("next")
    return RedirectResponse(_next_target(target) if target else f"/matches/{match_id}", status_code=303)


def _bulk_ids(ctx: Ctx) -> tuple[list[int], queries.QueueFilter, bool]:
    """The selected ids (``ids`` fields, kept within scope) or, with ``all=1``, the whole filtered set."""
    source = ctx.form if ctx.form is not None else ctx.request.query_params
    f = queries.QueueFilter.parse({k: v for k, v in source.items() if isinstance(v, str)})
    if (ctx.param("all") or "") == "1":
        return queries.match_ids(ctx.db, ctx.principal, f), f, True
    chosen = []
    for value in source.getlist("ids"):
        if isinstance(value, str) and value.isdigit():
            chosen.append(int(value))
    if not chosen:
        raise LookalikeError("select at least one match (or act on the whole filtered set)")
    ids = queries.visible_ids(ctx.db, ctx.principal, chosen)
    return ids, f, False


@page()
def bulk_confirm(ctx: Ctx) -> Response:
    _can_decide(ctx)
    action = decisions.check_action(ctx.param("action") or "")
    ids, f, whole = _bulk_ids(ctx)
    sample = queries.visible_matches_brief(ctx.db, ctx.principal, ids[:20])
    return ctx.render("bulk.html", action=action, ids=ids, f=f, whole=whole, sample=sample,
                      reasons=decisions.DISMISS_REASONS, changed_count=None)


@page()
def bulk_apply(ctx: Ctx) -> Response:
    _can_decide(ctx)
    action = decisions.check_action(ctx.param("action") or "")
    ids, f, whole = _bulk_ids(ctx)
    expected = ctx.param("expected") or ""
    if not expected.isdigit() or int(expected) != len(ids):
        sample = queries.visible_matches_brief(ctx.db, ctx.principal, ids[:20])
        return ctx.render("bulk.html", action=action, ids=ids, f=f, whole=whole, sample=sample,
                          reasons=decisions.DISMISS_REASONS, changed_count=expected)
    done = decisions.decide(ctx.db, ctx.web, ctx.user, ids, action, reason=ctx.param("reason"),
                            note=ctx.param("note"))
    return RedirectResponse("/queue" + query_string(f.params() | {"done": str(len(done.changed)),
                                                                  "skipped": str(done.skipped)}),
                            status_code=303)


@page()
def undo(ctx: Ctx) -> Response:
    _can_decide(ctx)
    done = decisions.undo(ctx.db, ctx.web, ctx.user)
    if ctx.wants_json():
        return JSONResponse({"done": [{"id": i, "status": s} for i, s in done.changed], "skipped": done.skipped})
    target = ctx.param("next")
    return RedirectResponse(_next_target(target), status_code=303)


# --------------------------------------------------------------------------------------------- images


@page()
def image(ctx: Ctx) -> Response:
    sha, size = ctx.request.path_params["sha"], ctx.request.path_params["size"]
    if not SHA_RE.match(sha) or size not in images.SIZES:
        raise NotFound
    row = queries.visible_image(ctx.db, ctx.principal, sha)
    if row is None:
        raise NotFound
    settings = ctx.app.settings
    store = ImageStore.from_settings(settings)
    path = images.derivative(settings.data_dir / "thumbnails", store.root, sha, row.path, size,
                             max_pixels=settings.max_image_pixels)
    if path is None:
        raise NotFound
    with path.open("rb") as fh:
        kind = images.sniff(fh.read(16))
    if kind is None:
        raise NotFound
    return FileResponse(path, media_type=kind, headers={"cache-control": "private, max-age=86400"})


def routes() -> list[Route]:
    return [
        Route("/", home),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/queue", queue),
        Route("/export.{fmt:str}", export),
        Route("/matches/{match_id:int}", match),
        Route("/matches/{match_id:int}/decide", decide, methods=["POST"]),
        Route("/bulk", bulk_confirm, methods=["GET"]),
        Route("/bulk", bulk_apply, methods=["POST"]),
        Route("/undo", undo, methods=["POST"]),
        Route("/sellers", seller),
        Route("/brands", brands),
        Route("/images/{sha:str}/{size:str}", image),
        *dashboard.routes(),
        *account_pages.routes(),
        *registry.routes(),
    ]
