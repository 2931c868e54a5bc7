"""The revisions, one module each (Alembic loads them by file; the package is for ``lint-imports``)."""
