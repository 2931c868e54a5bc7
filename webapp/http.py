"""The request context and the helpers every page of the review app shares.

Handlers are plain functions ``fn(ctx) -> Response`` run in a worker thread inside one database
transaction (committed when the handler returns, rolled back when it raises). :func:`page` wraps them:
it resolves the session cookie (who is asking, and so which brands they may see), sends anonymous
visitors to the login form, checks the CSRF token of every POST, and turns ``LookalikeError`` into a 400
page with its one-line message and ``NotFound`` into 404 (an id outside the user's brands is NotFound,
the same as a missing one). ``Ctx`` carries the request, its form, the session, the user and their
tenant scope (``principal``), and renders templates from :func:`make_templates`.

This module sits below the routes (``webapp.views``) and the factory (``webapp.app``): both import it,
it imports neither, so the app's import graph has no cycle.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from core.errors import LookalikeError, first_line
from core.money import money_text
from core.settings import Settings
from services.accounts import Principal, find_session, principal_of
from storage.db import Database
from storage.models import User, WebSession
from webapp import security

MAX_FORM_FIELDS = 2000  # a bulk selection posts one field per row


class NotFound(Exception):
    """Absent, or outside the user's brands: both answer 404 with the same page."""


class Forbidden(Exception):
    """Logged in, but the role may not do this (owners do not decide)."""


@dataclass(frozen=True)
class Viewer:
    """Who is logged in, as plain values the templates can use after the transaction has ended."""

    username: str
    role: str
    brands: tuple[str, ...]
    csrf: str


@dataclass
class Ctx:
    """What a handler gets: the request, its parsed form (POST), the database session and who is asking."""

    request: Request
    form: FormData | None
    db: Session
    web: WebSession | None
    user: User | None
    principal: Principal | None
    viewer: Viewer | None = None

    @property
    def app(self) -> ReviewApp:
        return self.request.app.state.review

    def param(self, name: str) -> str | None:
        if self.form is not None and name in self.form:
            value = self.form.get(name)
            return value if isinstance(value, str) else None
        return self.request.query_params.get(name)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return self.app.render(self.request, template, status=status, ctx=self, **values)

    def wants_json(self) -> bool:
        return "application/json" in self.request.headers.get("accept", "")


@dataclass
class ReviewApp:
    """The app's own state (one per app object): settings, database and templates."""

    settings: Settings
    database: Database
    templates: Environment

    def render(self, request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        ctx = values.get("ctx")
        viewer = getattr(ctx, "viewer", None)
        html = self.templates.get_template(template).render(
            request=request, user=viewer, principal=getattr(ctx, "principal", None),
            csrf=viewer.csrf if viewer else None, **values)
        return HTMLResponse(html, status_code=status)


def query_string(params: dict[str, Any]) -> str:
    """``?a=1&b=2`` from a dict (None values left out), or the empty string."""
    items = [(k, str(v)) for k, v in params.items() if v is not None]
    return "?" + urllib.parse.urlencode(items) if items else ""


def safe_link(url: str | None) -> str | None:
    """A listing URL usable as a link: http(s) only (a ``javascript:`` URL is shown as text, never linked)."""
    if not url or len(url) > 2000:
        return None
    scheme = urllib.parse.urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https") else None


def make_templates() -> Environment:
    env = Environment(loader=PackageLoader("webapp", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.globals.update(qs=query_string, safe_link=safe_link)
    env.filters["money"] = money_text
    env.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"
    env.filters["bounded"] = lambda text, limit=300: (
        "" if text is None else (text if len(text) <= limit else text[: limit - 1] + "…"))
    return env


Handler = Callable[[Ctx], Response]


def page(*, login: bool = True, uploads: int = 0) -> Callable[[Handler], Callable[[Request], Any]]:
    """Wrap a handler (see the module docstring); ``login=False`` for the login form itself; ``uploads``:
    files a POST may carry (their total size is bounded by :func:`upload_budget` before parsing)."""

    def wrap(handler: Handler) -> Callable[[Request], Any]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            form = None
            if request.method == "POST":
                if uploads:
                    refused = _refuse_large_body(request, upload_budget(request.app.state.review.settings, uploads))
                    if refused is not None:
                        return refused
                form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=uploads)
            try:
                return await run_in_threadpool(_run, handler, request, form, login)
            finally:
                if form is not None:
                    await form.close()  # uploaded files are spooled to temporary files

        return endpoint

    return wrap


def upload_budget(settings: Settings, files: int) -> int:
    """The largest request body a form with ``files`` photos may send: each photo up to the image limit,
    and 1 MB for the rest of the form."""
    return files * settings.max_image_bytes + 1_000_000


def _refuse_large_body(request: Request, limit: int) -> Response | None:
    """413 for a body above ``limit`` bytes, and 411 for an upload that does not say its length (read
    before the body is parsed, so a huge upload is never spooled to disk)."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        return PlainTextResponse("Refused: an upload must state its length.", status_code=411)
    if int(length) > limit:
        return PlainTextResponse(f"Refused: the upload is larger than {limit // 1_000_000} MB.", status_code=413)
    return None


def _run(handler: Handler, request: Request, form: FormData | None, login: bool) -> Response:
    review: ReviewApp = request.app.state.review
    ctx = None
    try:
        with review.database.session() as db:
            found = find_session(db, request.cookies.get(security.SESSION_COOKIE))
            web, user = found if found else (None, None)
            ctx = Ctx(request, form, db, web, user, principal_of(user) if user else None)
            if user is not None and web is not None:
                ctx.viewer = Viewer(user.username, user.role, tuple(b.name for b in user.brands), web.csrf_token)
            if login and user is None:
                if request.method == "GET" and not ctx.wants_json():
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse("/login" + query_string({"next": target}), status_code=303)
                return _error(review, request, ctx, 401, "Log in first.")
            if request.method == "POST" and web is not None:
                given = ctx.param(security.CSRF_FIELD) or request.headers.get(security.CSRF_HEADER)
                if not security.tokens_equal(web.csrf_token, given):
                    return _error(review, request, ctx, 403, "Refused: the form's CSRF token is missing or wrong. "
                                  "Reload the page and try again.")
            return handler(ctx)
    except NotFound:
        return _error(review, request, ctx, 404, "Not found.")
    except Forbidden as exc:
        return _error(review, request, ctx, 403, str(exc) or "Not allowed for your role.")
    except LookalikeError as exc:
        return _error(review, request, ctx, 400, first_line(exc, 500) or "Bad request.")


def _error(review: ReviewApp, request: Request, ctx: Ctx | None, status: int, message: str) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"error": message}, status_code=status)
    return review.render(request, "error.html", status=status, ctx=ctx, code=status, message=message)


async def not_found(request: Request, exc: Exception) -> Response:
    return HTMLResponse("<!doctype html><title>Not found</title><p>Not found.</p>", status_code=404)



__all__ = ["MAX_FORM_FIELDS", "Ctx", "Forbidden", "Handler", "NotFound", "ReviewApp", "Viewer", "make_templates",
           "not_found", "page", "query_string", "safe_link", "upload_budget"]
