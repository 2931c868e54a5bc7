"""Storage: SQLAlchemy 2 models, the session factory and Alembic migrations.

The names below load on first use (PEP 562), so that ``storage.vocabulary`` (the status and role words) loads
without SQLAlchemy and ``storage.schema`` (the Core tables of the list commands) without the ORM (start-up
time, docs/performance.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage import models
    from storage.db import Database, upgrade

__all__ = ["Database", "models", "upgrade"]


def __getattr__(name: str) -> Any:
    if name == "models":
        return importlib.import_module("storage.models")
    if name in ("Database", "upgrade"):
        return getattr(importlib.import_module("storage.db"), name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
