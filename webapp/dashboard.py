"""The dashboard page: charts of the fight against knock-offs, each with its numbers one click away.

``/dashboard`` shows every chart of :mod:`services.dashboard` for the viewer's brands (owners) or for
every brand (analysts, admins), optionally narrowed to one brand (``?brand=ID``, 404 outside the viewer's
scope, as everywhere) and to the ``?days=N`` days up to ``?until=YYYY-MM-DD`` (default: today, UTC). Each chart is an image served at
``/dashboard/NAME.svg`` (or ``.png``) and its table at ``/dashboard/NAME.csv``; the page also shows each
table under its chart.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from starlette.responses import Response
from starlette.routing import Route

from core.errors import LookalikeError
from services import charts
from services.dashboard import DEFAULT_DAYS, MAX_DAYS, TABLE_NAMES, Dashboard, build_dashboard
from webapp.http import Ctx, NotFound, page, query_string


def _int(value: str | None, *, default: int | None, low: int, high: int) -> int | None:
    if value is None or value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise NotFound
    return int(value)


def _until(value: str | None) -> dt.datetime | None:
    """The end of the UTC day ``value`` (YYYY-MM-DD), or None for now."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        raise LookalikeError("until must be a date like 2026-12-31") from None
    return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)


def _dashboard(ctx: Ctx) -> tuple[Dashboard, dict[str, object]]:
    brand_id = _int(ctx.param("brand"), default=None, low=1, high=2**31 - 1)
    days = _int(ctx.param("days"), default=DEFAULT_DAYS, low=1, high=MAX_DAYS)
    until = _until(ctx.param("until"))
    scope = ctx.principal.brand_ids
    if brand_id is not None and scope is not None and brand_id not in scope:
        raise NotFound
    board = build_dashboard(ctx.db, scope, days=days or DEFAULT_DAYS, brand_id=brand_id, now=until)
    if brand_id is not None and brand_id not in {i for i, _ in board.brands}:
        raise NotFound
    return board, {"brand": brand_id, "days": days, "until": until.date().isoformat() if until else None}


@page()
def dashboard(ctx: Ctx) -> Response:
    board, params = _dashboard(ctx)
    return ctx.render("dashboard.html", board=board, params=params, query=query_string(params),
                      day_choices=(7, 30, 90, 365))


@page()
def chart(ctx: Ctx) -> Response:
    name, fmt = ctx.request.path_params["name"], ctx.request.path_params["fmt"]
    if name not in TABLE_NAMES or fmt not in (*charts.FORMATS, "csv"):
        raise NotFound
    board, _ = _dashboard(ctx)
    table = board.table(name)
    # Drawing costs about 0.2 s of CPU; counting costs little. The browser revalidates with the ETag of
    # the numbers, so an unchanged chart is answered 304 without drawing it again.
    etag = '"' + hashlib.sha256(fmt.encode() + b"\0" + table.title.encode() + b"\0" + table.as_csv()).hexdigest()[:32] + '"'
    headers = {"cache-control": "private, no-cache", "etag": etag}
    if ctx.request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if fmt == "csv":
        headers["content-disposition"] = f'attachment; filename="lookalike-{name}-{board.until:%Y%m%d}.csv"'
        return Response(table.as_csv(), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(charts.draw(table, fmt), media_type=charts.FORMATS[fmt], headers=headers)


def routes() -> list[Route]:
    return [
        Route("/dashboard", dashboard),
        Route("/dashboard/{name:str}.{fmt:str}", chart),
    ]
