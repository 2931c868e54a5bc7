"""Shared fixtures: database URLs for SQLite and (where reachable) PostgreSQL, settings, sample paths.

PostgreSQL tests connect to 127.0.0.1:5432 as ``postgres`` and get a fresh database each; where the
server is absent they skip with the reason, unless ``LOOKALIKE_REQUIRE_POSTGRES=1`` (set by CI), where
they fail instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_pages_support import need_real_pages

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


def postgres_available() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _photo_text_off_unless_asked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that scan whole worlds read no photo text (0.3 s+ an image on a shared core would make the
    suite miss CI's time); the OCR tests, the ones using ``ocr_engine`` or marked ``ocr``, keep it on.
    Set through the environment so the crawl's child processes and Prefect's flows see it too."""
    if "ocr_engine" not in request.fixturenames and request.node.get_closest_marker("ocr") is None:
        monkeypatch.setenv("LOOKALIKE_SIGNATURE_OCR", "false")


@pytest.fixture
def ocr_engine() -> None:
    """Skip where the default OCR engine (RapidOCR, a pip dependency) or Debian's tesseract-ocr is absent (a
    newcomer's laptop); fail in CI (LOOKALIKE_REQUIRE_OCR=1)."""
    from matching.ocr import ENGINES, ocr_available

    missing = [e for e in ENGINES if not ocr_available(e)]
    if not missing:
        return
    if os.environ.get("LOOKALIKE_REQUIRE_OCR") == "1":
        pytest.fail(f"OCR engine {missing[0]} is required (LOOKALIKE_REQUIRE_OCR=1) but not installed")
    pytest.skip(f"OCR engine {missing[0]} is not installed (tesseract: apt-get install tesseract-ocr; rapidocr: "
                "pip install -e .); photo text is not read")


def _require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("LOOKALIKE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (LOOKALIKE_REQUIRE_POSTGRES=1) but {PG_HOST}:{PG_PORT} is unreachable")
    pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT}; SQLite variant still runs")


@pytest.fixture
def postgres_admin_url() -> str:
    """The local server's ``postgres`` database, for code that creates and drops a database of its own."""
    _require_postgres()
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    _require_postgres()
    import psycopg

    name = f"lookalike_test_{uuid.uuid4().hex[:12]}"
    admin = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes ``db_url`` runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lookalike.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def database(db_url: str):
    from storage.db import Database

    db = Database(db_url).ensure_schema()
    yield db
    db.dispose()


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """Point LOOKALIKE_* at a temporary data folder and the test database; returns the data folder."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("LOOKALIKE_DB_URL", db_url)
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    return data_dir


@pytest.fixture
def real_pages_dir() -> Path:
    return need_real_pages(SHARED_DIR / "real-pages")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API leaves its event loop marked as running in this thread
    after it closes, which breaks any later test that runs a loop of its own (Starlette's TestClient)."""
    items.sort(key=lambda item: "browser" in item.path.parts)
