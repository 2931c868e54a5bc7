"""What every command needs: the settings in force and the database, migrated on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.configfile import read_database_settings
from core.errors import LookalikeError, first_line

if TYPE_CHECKING:
    from core.settings import Settings
    from storage.db import Database


def settings() -> Settings:
    from core.settings import load_settings  # deferred: start-up time (pydantic-settings)

    return load_settings()


def database_url() -> str:
    """The configured database URL, read without pydantic-settings where :func:`core.configfile.read_database_settings`
    can (the same file and ``LOOKALIKE_*`` variables; start-up time of ``review list`` and ``brands list``), else
    from :func:`settings`, which accepts or reports what the light read declined."""
    found = read_database_settings()
    return found.database_url if found is not None else settings().database_url


def database(settings_: Settings | None = None, *, url: str | None = None) -> Database:
    """Open the configured database (or the one at ``url``) and apply pending migrations."""
    from storage.db import Database  # deferred: start-up time (SQLAlchemy only where a database is opened)

    if url is None:
        url = (settings_ or settings()).database_url
    try:
        return Database(url).ensure_schema()
    except LookalikeError:
        raise
    except Exception as exc:  # a driver error on connect: one clear line instead of a traceback
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError | OSError):
            raise LookalikeError(f"cannot open database {url!r}: {first_line(exc)}") from None
        raise

