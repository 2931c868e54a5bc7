"""Pages reached from an e-mailed link, before the visitor is logged in: accept an invitation (choose a
password), reset a forgotten password, and ask for a reset.

The links are single-use and expire (:mod:`services.invitations`). These forms are protected like the
login form: a CSRF token in a short-lived cookie that the form must echo. After a password is chosen the
visitor is logged in: an invited owner without a brand yet lands on the form to register one.
"""

from __future__ import annotations

import contextlib

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.errors import LookalikeError, first_line
from services import accounts, invitations
from webapp import security
from webapp.http import Ctx, page

PURPOSES = {"invite": "Choose your password", "reset": "Choose a new password"}


def _form(ctx: Ctx, purpose: str, *, status: int = 200, error: str | None = None, username: str = "") -> Response:
    token = security.new_token()
    response = ctx.render("set_password.html", status=status, purpose=purpose, heading=PURPOSES[purpose],
                          form_csrf=token, error=error, username=username,
                          action=f"/{purpose}/{ctx.request.path_params['token']}")
    security.set_cookie(response, ctx.request, security.LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


def _csrf_ok(ctx: Ctx) -> bool:
    return security.tokens_equal(ctx.request.cookies.get(security.LOGIN_CSRF_COOKIE), ctx.param(security.CSRF_FIELD))


def _show(purpose: str):  # noqa: ANN202 - a page handler
    @page(login=False)
    def show(ctx: Ctx) -> Response:
        try:
            row = invitations.find_link(ctx.db, ctx.request.path_params["token"], purpose)
        except invitations.LinkRefused as exc:
            return ctx.render("error.html", status=410, code=410, message=str(exc))
        return _form(ctx, purpose, username=row.username)

    show.__name__ = f"{purpose}_form"
    return show


def _use(purpose: str):  # noqa: ANN202 - a page handler
    @page(login=False)
    def use(ctx: Ctx) -> Response:
        if not _csrf_ok(ctx):
            return ctx.render("error.html", status=403, code=403, message="Refused: the form's CSRF token is missing "
                              "or wrong. Open the link again.")
        token = ctx.request.path_params["token"]
        password, again = ctx.param("password") or "", ctx.param("password2") or ""
        try:
            row = invitations.find_link(ctx.db, token, purpose)
        except invitations.LinkRefused as exc:
            return ctx.render("error.html", status=410, code=410, message=str(exc))
        if password != again:
            return _form(ctx, purpose, status=400, error="The two passwords differ.", username=row.username)
        try:
            user = invitations.redeem(ctx.db, token, purpose, password)
        except invitations.LinkRefused as exc:
            return ctx.render("error.html", status=410, code=410, message=str(exc))
        except LookalikeError as exc:
            return _form(ctx, purpose, status=400, error=first_line(exc, 300), username=row.username)
        session_token = accounts.start_session(ctx.db, user)
        target = "/registry/new" if user.role == "owner" and not user.brands else "/dashboard"
        response = RedirectResponse(target, status_code=303)
        security.set_cookie(response, ctx.request, security.SESSION_COOKIE, session_token,
                            max_age=int(accounts.SESSION_TTL.total_seconds()))
        security.clear_cookie(response, ctx.request, security.LOGIN_CSRF_COOKIE)
        return response

    use.__name__ = f"{purpose}_submit"
    return use


@page(login=False)
def forgot_form(ctx: Ctx) -> Response:
    token = security.new_token()
    response = ctx.render("forgot.html", form_csrf=token, sent=False)
    security.set_cookie(response, ctx.request, security.LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@page(login=False)
def forgot_submit(ctx: Ctx) -> Response:
    if not _csrf_ok(ctx):
        return ctx.render("error.html", status=403, code=403, message="Refused: the form's CSRF token is missing or "
                          "wrong. Reload the page and try again.")
    link = invitations.request_reset(ctx.db, ctx.app.settings, (ctx.param("username") or "").strip())
    if link is not None:
        # The same answer whatever happened: this form never tells who has an account.
        with contextlib.suppress(LookalikeError):
            invitations.deliver(ctx.app.settings, link)
    return ctx.render("forgot.html", form_csrf="", sent=True)


def routes() -> list[Route]:
    return [
        Route("/invite/{token:str}", _show("invite"), methods=["GET"]),
        Route("/invite/{token:str}", _use("invite"), methods=["POST"]),
        Route("/reset/{token:str}", _show("reset"), methods=["GET"]),
        Route("/reset/{token:str}", _use("reset"), methods=["POST"]),
        Route("/forgot", forgot_form, methods=["GET"]),
        Route("/forgot", forgot_submit, methods=["POST"]),
    ]
