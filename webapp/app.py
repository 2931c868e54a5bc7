"""The review app's factory: ``create_app(settings)`` builds a Starlette app over the configured database.

``lookalike serve`` runs it with uvicorn (``uvicorn --factory webapp.app:create_app`` works too; settings
come from ``LOOKALIKE_*``). The app keeps no state in process globals: the database holds sessions, CSRF
tokens, the undo record and the login rate limit, so several app processes behind one proxy agree.

The request context, the ``page`` wrapper (sessions, CSRF, errors) and the template helpers live in
``webapp.http``; the routes in ``webapp.views``. This module only assembles them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from core.errors import LookalikeError
from core.settings import Settings, load_settings
from storage.db import Database
from webapp import domains, networks, security, views
from webapp.http import ReviewApp, make_templates, not_found


def create_app(settings: Settings | None = None) -> Starlette:
    """The review app over ``settings.database_url`` (migrated on start); images from ``settings``' store."""
    settings = settings or load_settings()
    database = Database(settings.database_url)
    try:
        database.ensure_schema()
    except LookalikeError:
        database.dispose()
        raise
    routes = [
        *views.routes(),
        *domains.routes(),
        *networks.routes(),
        Mount("/static", app=StaticFiles(packages=[("webapp", "static")]), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        database.dispose()

    app = Starlette(routes=routes, exception_handlers={404: not_found}, lifespan=lifespan)
    app.state.review = ReviewApp(settings, database, make_templates())
    app.add_middleware(security.SecurityHeaders)
    return app


__all__ = ["create_app"]
