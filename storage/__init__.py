"""Storage: SQLAlchemy 2 models, the session factory and Alembic migrations."""

from storage import models
from storage.db import Database, upgrade

__all__ = ["Database", "models", "upgrade"]
