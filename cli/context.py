"""What every command needs: the settings in force and the database, migrated on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import LookalikeError

if TYPE_CHECKING:
    from core.settings import Settings
    from storage.db import Database


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
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LookalikeError(f"cannot open database {settings_.database_url!r}: {first}") from None
        raise
