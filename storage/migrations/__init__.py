"""Alembic migrations of the schema (``storage/models.py``); ``storage.db.upgrade`` applies them.

A package so that ``lint-imports`` sees their imports: a migration imports only ``core`` and ``storage`` (and
SQLAlchemy and Alembic), never ``matching`` or ``services``. It must keep doing what it did when it was written,
so any conversion of stored data is frozen inside the migration itself (see ``0002_signatures``).
"""
