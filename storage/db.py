"""Engines, sessions and migrations: the one way into the database.

Every caller passes a database URL (from ``Settings.database_url``); nothing is cached in process
globals except SQLAlchemy's own pool inside each ``Database`` object, so flows running on other
machines build their own.
"""

from __future__ import annotations

import ast
import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Pick psycopg 3 for bare ``postgresql://`` URLs and create the folder of an SQLite file."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - exercised by every sqlite test
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def declared_heads() -> frozenset[str]:
    """The heads as the revision files declare them (``revision`` / ``down_revision`` literals), read with
    ``ast`` instead of Alembic (start-up time); empty when a file's value is not a literal (then leave the
    decision to Alembic)."""
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


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # deferred: start-up time (only opening a database needs Alembic)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def head_revisions() -> frozenset[str]:
    """The heads of the migration graph (one per feature branch until a merge revision joins them)."""
    from alembic.script import ScriptDirectory  # deferred: start-up time

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(engine: Engine) -> frozenset[str]:
    from alembic.runtime.migration import MigrationContext  # deferred: start-up time

    with engine.connect() as conn:
        return frozenset(MigrationContext.configure(conn).get_current_heads())


def stored_revisions(engine: Engine) -> frozenset[str]:
    """The revisions in ``alembic_version`` read with plain SQL (empty when the table is missing)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return frozenset()
        return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    from alembic import command  # deferred: start-up time

    cfg = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


@dataclass
class Database:
    """A database URL with its engine and session factory.

    ``Database(url).ensure_schema()`` applies pending migrations, which every command that needs
    the database does on first use.
    """

    url: str
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.url = normalise_url(self.url)
        self.engine = make_engine(self.url)

    @functools.cached_property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory, made on first use."""
        # deferred: start-up time (``review list`` and ``brands list`` read through Core and never load the ORM)
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def ensure_schema(self) -> Database:
        heads = declared_heads()
        if heads and stored_revisions(self.engine) == heads:  # up to date: no Alembic import (start-up time)
            return self
        if current_revisions(self.engine) != head_revisions():
            upgrade(self.url)
        return self

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()

    @classmethod
    @contextlib.contextmanager
    def opened(cls, url: str, *, migrate: bool = True) -> Iterator[Database]:
        """``with Database.opened(url) as db:``: migrated on entry, engine disposed on exit.

        The one way code outside storage opens a database; no caller writes its own try/finally.
        """
        db = cls(url)
        try:
            yield db.ensure_schema() if migrate else db
        finally:
            db.dispose()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection in one transaction (committed on success): for the reads of
        :mod:`services.queries`, which need no ORM."""
        with self.engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


def insert_or_ignore(session: Session, model: type, values: dict, *, conflict: list[str]) -> Any | None:
    """INSERT a row unless one with the same ``conflict`` columns exists (race-safe on both backends).

    Returns the new row's primary key, or None when the row already existed.  Two workers inserting
    the same natural key at once both succeed: one row is written, the other insert does nothing.
    """
    table = model.__table__
    key = next(iter(table.primary_key.columns))
    name = session.get_bind().dialect.name
    if name in ("postgresql", "sqlite"):
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict).returning(key)
        return session.execute(stmt).scalar_one_or_none()
    try:  # other backends: a savepoint absorbs the duplicate
        with session.begin_nested():
            return session.execute(table.insert().values(**values).returning(key)).scalar_one()
    except IntegrityError:
        return None
