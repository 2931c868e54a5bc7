"""Times as the project stores and shows them: timezone-aware UTC, written in ISO 8601 with a ``Z``."""

from __future__ import annotations

import datetime as dt

from core.errors import LookalikeError


def as_utc(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    """A timezone-aware UTC datetime; naive values (as SQLite returns them) are taken as UTC, a date as its
    midnight."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def iso_utc(value: dt.datetime | None) -> str | None:
    """``2026-12-01T02:00:00Z``, or None."""
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def parse_since(text: str | None, option: str = "--since") -> dt.datetime | None:
    """``YYYY-MM-DD`` or an ISO 8601 datetime (naive = UTC) as an aware UTC datetime; ``option`` names the
    command-line option in the error."""
    if text is None:
        return None
    try:
        return as_utc(dt.datetime.fromisoformat(text.strip()))
    except ValueError:
        raise LookalikeError(f"{option} {text!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
