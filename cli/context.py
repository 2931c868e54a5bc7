"""What every command needs: the settings in force and the database, migrated on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import LookalikeError, first_line

if TYPE_CHECKING:
    from core.settings import Settings
    from storage.db import Database
    from storage.lean import Reader


def settings() -> Settings:
    from core.settings import load_settings  # deferred: start-up time (pydantic-settings)

    return load_settings()


def database(settings_: Settings | None = None) -> Database:
    """Open the configured database and apply pending migrations."""
    from storage.db import Database  # deferred: start-up time (SQLAlchemy only where a database is opened)

    settings_ = settings_ or settings()
    try:
        return Database(settings_.database_url).ensure_schema()
    except LookalikeError:
        raise
    except Exception as exc:  # a driver error on connect: one clear line instead of a traceback
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError | OSError):
            raise LookalikeError(f"cannot open database {settings_.database_url!r}: {first_line(exc)}") from None
        raise


def quick_reader() -> Reader | None:
    """A read-only connection for ``review list`` and ``brands list`` that loads neither pydantic-settings nor
    SQLAlchemy (start-up time, docs/performance.md), or None: then use :func:`database`, which creates,
    migrates or reports the database as every other command does.

    The settings come from :func:`core.configfile.read_database_settings` (the same file and ``LOOKALIKE_*``
    variables as ``Settings``); the database from :func:`storage.lean.open_reader`, which only opens a
    database already at the declared migration heads.
    """
    from core.configfile import read_database_settings
    from storage.lean import open_reader

    found = read_database_settings()
    return open_reader(found.database_url) if found is not None else None
