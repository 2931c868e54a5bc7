"""A read-only way into an up-to-date database without SQLAlchemy: the fast path of ``review list`` and
``brands list`` (issue 14.5: importing SQLAlchemy, the ORM models and pydantic-settings cost those commands
about 0.8 s of their 1.2 s).

- :func:`open_reader` turns a database URL into a DB-API connection (``sqlite3``, or psycopg for
  PostgreSQL) with the connect arguments SQLAlchemy's dialects would derive from that URL, and returns
  None whenever this module is not the right tool: a URL form it does not handle, a missing SQLite file,
  a driver error, or a database whose ``alembic_version`` is not the declared heads (then
  :class:`storage.db.Database` opens it, migrates it, or reports the error in its usual words).
- :data:`COLUMNS` describes the few columns the fast queries read and how SQLAlchemy converts them on the
  way out (JSON text, 0/1 booleans and floats rounded to a ``Numeric`` scale on SQLite);
  tests/test_cli_startup.py checks every entry against ``storage.models`` so this is no second schema.
- :func:`declared_heads` reads the migration heads from the revision files with ``ast`` (no Alembic);
  ``storage.db`` uses it for its own fast revision check.

Only parameterised SQL: values are never formatted into a statement.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Scale of ``storage.models.Money`` (``Numeric(14, 2)``): SQLite hands back a float, SQLAlchemy rounds it
#: to this many places into a ``Decimal``.
MONEY_SCALE = 2
#: The match statuses (``storage.models.MATCH_STATUSES``; tests/test_cli_startup.py checks they agree).
MATCH_STATUSES = ("new", "confirmed", "dismissed", "reported", "removed")

#: ``table.column`` -> kind, for the columns the fast queries read.  Kinds: ``int``, ``str``, ``float``,
#: ``bool``, ``json`` and ``money`` (``Numeric`` of :data:`MONEY_SCALE`).
COLUMNS: dict[str, str] = {
    "owners.id": "int", "owners.name": "str", "owners.digest_enabled": "bool",
    "owners.digest_frequency": "str", "owners.digest_min_score": "float", "owners.digest_classes": "json",
    "brands.id": "int", "brands.owner_id": "int", "brands.name": "str", "brands.category": "str",
    "brands.digest_to": "json",
    "marks.id": "int", "marks.brand_id": "int", "marks.text": "str", "marks.kind": "str",
    "authorized_sellers.id": "int", "authorized_sellers.brand_id": "int", "authorized_sellers.name": "str",
    "products.id": "int", "products.brand_id": "int",
    "reference_images.id": "int", "reference_images.product_id": "int",
    "marketplaces.id": "int", "marketplaces.name": "str",
    "listings.id": "int", "listings.marketplace_id": "int", "listings.title": "str", "listings.price": "money",
    "listings.currency": "str", "listings.seller": "str",
    "matches.id": "int", "matches.listing_id": "int", "matches.brand_id": "int", "matches.score": "float",
    "matches.klass": "str", "matches.status": "str",
}

#: SQLAlchemy's URL grammar (``sqlalchemy.engine.url._parse_url``), so a URL means the same here.
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)
_SQLITE = ("sqlite", "sqlite+pysqlite")
_POSTGRESQL = ("postgresql", "postgres", "postgresql+psycopg")


def declared_heads() -> frozenset[str]:
    """The heads as the revision files declare them (``revision`` / ``down_revision`` literals), read
    without Alembic; empty when a file's value is not a literal (then leave the decision to Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
                node.target if isinstance(node, ast.AnnAssign) else None
            if not isinstance(target, ast.Name) or node.value is None:
                continue
            if target.id not in ("revision", "down_revision"):
                continue
            try:
                value = ast.literal_eval(node.value)
            except ValueError:  # not a literal: leave the decision to Alembic
                return frozenset()
            values = {value} if isinstance(value, str) else set(value or ())
            (revisions if target.id == "revision" else parents).update(values)
    return frozenset(revisions - parents)


def connect_arguments(url: str) -> tuple[str, dict[str, Any]] | None:
    """``(backend, DB-API connect keyword arguments)`` for the URL forms this module handles, else None.

    SQLite: a file path (``sqlite:///relative.db``, ``sqlite:////absolute.db``) with no query options;
    PostgreSQL through psycopg: what ``url.translate_connect_args(username="user", database="dbname")``
    plus the query give (one host; no ``+driver`` but psycopg).
    """
    match = _URL.match(url)
    if match is None:
        return None
    parts = match.groupdict()
    name = parts["name"]
    username, password, database = (unquote(parts[k]) if parts[k] is not None else None
                                    for k in ("username", "password", "database"))
    host = parts["ipv4host"] or parts["ipv6host"]
    if name in _SQLITE:
        if parts["query"] is not None or username or password or host or parts["port"]:
            return None
        if not database or database == ":memory:" or database.startswith(("~", "file:")):
            return None
        return "sqlite", {"database": database}
    if name in _POSTGRESQL:
        arguments: dict[str, Any] = {}
        for key, value in (("host", host), ("dbname", database), ("user", username), ("password", password)):
            if value:  # translate_connect_args drops empty components
                arguments[key] = value
        if parts["port"]:
            if not parts["port"].isdigit():
                return None
            arguments["port"] = int(parts["port"])
        if parts["query"] is not None:
            query = parse_qsl(parts["query"])
            keys = [key for key, _ in query]
            if len(set(keys)) != len(keys) or {"host", "port"} & set(keys):
                return None  # a repeated key or several hosts: SQLAlchemy's own handling
            arguments.update(query)
        return "postgresql", arguments
    return None


def _convert(kind: str, value: Any, backend: str) -> Any:
    """A column value as SQLAlchemy's result processors hand it to the ORM."""
    if value is None:
        return None
    if backend == "sqlite":
        if kind == "json":
            return json.loads(value)
        if kind == "bool":
            return bool(value)
        if kind == "money":
            return Decimal(f"%.{MONEY_SCALE}f" % value)
        return value
    if kind == "float":
        return float(value)
    if kind == "json" and isinstance(value, str | bytes):
        return json.loads(value)
    return value


class Reader:
    """One read-only DB-API connection; close it with ``with`` or :meth:`close`."""

    def __init__(self, backend: str, connection: Any) -> None:
        self.backend = backend
        self.connection = connection

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    def select(self, columns: Sequence[str], rest: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """``SELECT <columns> <rest>`` with ``?`` placeholders in ``rest``; each column is a ``table.column``
        of :data:`COLUMNS` (or ``count(table.column)``, an int), converted by its kind."""
        kinds = [_kind(column) for column in columns]
        sql = f"SELECT {', '.join(columns)} {rest}"
        if "%" in sql:
            raise ValueError("no % in a lean query: placeholders are ?")
        if self.backend == "postgresql":
            sql = sql.replace("?", "%s")
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return [tuple(_convert(kind, value, self.backend) for kind, value in zip(kinds, row, strict=True))
                for row in rows]


def _kind(column: str) -> str:
    if column.startswith("count(") and column.endswith(")") and column[6:-1] in COLUMNS:
        return "int"
    return COLUMNS[column]  # KeyError: a column the lean description does not know


def driver_errors() -> tuple[type[BaseException], ...]:
    """The DB-API error classes of the drivers already loaded (a failed lean read means: take the full path)."""
    import sqlite3
    import sys

    errors: list[type[BaseException]] = [sqlite3.Error]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)


def open_reader(url: str) -> Reader | None:
    """A :class:`Reader` on the database at ``url`` when it is up to date and this module handles its URL;
    None otherwise (the caller then takes the full path through ``storage.db.Database``)."""
    arguments = connect_arguments(url)
    if arguments is None:
        return None
    backend, kwargs = arguments
    heads = declared_heads()
    if not heads:
        return None
    if backend == "sqlite":
        import sqlite3

        if not os.path.isfile(kwargs["database"]):
            return None  # a new database: storage.db creates and migrates it
        try:
            connection = sqlite3.connect(kwargs["database"], timeout=30)
        except sqlite3.Error:
            return None
        errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    else:
        try:
            import psycopg
        except ImportError:
            return None
        try:
            connection = psycopg.connect(**kwargs)
        except psycopg.Error:
            return None
        errors = (psycopg.Error,)
    reader = Reader(backend, connection)
    try:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT version_num FROM alembic_version")
            stored = frozenset(row[0] for row in cursor.fetchall())
        finally:
            cursor.close()
    except errors:  # no alembic_version table: a database storage.db has not created yet
        reader.close()
        return None
    if stored != heads:
        reader.close()
        return None
    return reader
