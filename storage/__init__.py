"""Storage: SQLAlchemy 2 models, the session factory and Alembic migrations."""

from storage.db import Database, upgrade
from storage import models

__all__ = ["Database", "models", "upgrade"]
