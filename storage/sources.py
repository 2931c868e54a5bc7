"""The stored state of sources (``source_states``): what a source used today and where it stopped.

Read and written by the quota middleware during a crawl (:mod:`crawlers.middlewares.apiquota`), by
:func:`crawlers.run.run_crawl` for the resume point, and by ``lookalike sources``.  A day is a UTC date.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from storage.models import SourceState, utcnow


def today() -> str:
    return utcnow().date().isoformat()


def state_of(session: Session, name: str) -> SourceState:
    """The row of source ``name``, created when absent, its day's count reset on a new day."""
    state = session.get(SourceState, name)
    if state is None:
        state = SourceState(name=name, day=today(), calls_today=0, resume={}, updated_at=utcnow())
        session.add(state)
        session.flush()
    if state.day != today():
        state.day, state.calls_today = today(), 0
    return state


def calls_left(state: SourceState | None, budget: int) -> int:
    """Calls the source may still make today under ``budget``."""
    if state is None or state.day != today():
        return budget
    return max(0, budget - state.calls_today)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time as UTC-aware (SQLite returns naive datetimes)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
