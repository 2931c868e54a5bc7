"""Migrations apply on a fresh database of each backend, and constraints make writes idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from storage.db import Database, current_revisions, head_revisions, upgrade
from storage.models import Base, Brand, Listing, Marketplace, Match, Owner


def test_migrations_create_every_table(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)  # idempotent
    with Database(db_url) as db:
        assert current_revisions(db.engine) == head_revisions()
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables


def test_models_match_migrations(database: Database) -> None:
    """Autogenerate finds nothing to do: the migrations describe the models exactly."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_listing_and_match_are_unique(database: Database) -> None:
    with database.session() as s:
        owner = Owner(name="Et Al Beauty")
        brand = Brand(owner=owner, name="Fullips")
        market = Marketplace(name="shop.example", kind="shop")
        s.add_all([owner, brand, market])
        s.flush()
        listing = Listing(marketplace_id=market.id, canonical_url="https://shop.example/p/1",
                          url="https://shop.example/p/1", content_hash="x")
        s.add(listing)
        s.flush()
        s.add(Match(listing_id=listing.id, brand_id=brand.id, score=0.9, klass="counterfeit",
                    listing_content_hash="x"))
    with pytest.raises(IntegrityError), database.session() as s:
        s.add(Listing(marketplace_id=market.id, canonical_url="https://shop.example/p/1",
                      url="https://shop.example/p/1?utm=1", content_hash="y"))
    with pytest.raises(IntegrityError), database.session() as s:
        s.add(Match(listing_id=listing.id, brand_id=brand.id, score=0.5, klass="clean",
                    listing_content_hash="y"))
    with database.session() as s:
        assert len(s.scalars(select(Listing)).all()) == 1
        assert len(s.scalars(select(Match)).all()) == 1


def test_every_migration_is_a_module_that_lint_imports_holds_to_core_and_storage() -> None:
    """Migrations are a package, so import-linter sees their imports (inside functions too) and a contract
    keeps them off matching and services: a migration must do what it did when it was written."""
    import importlib
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    versions = sorted((root / "storage" / "migrations" / "versions").glob("0*.py"))
    assert versions
    for path in versions:
        module = importlib.import_module(f"storage.migrations.versions.{path.stem}")
        assert module.revision and module.upgrade
    contracts = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    frozen = [c for c in contracts if c.get("source_modules") == ["storage.migrations"]]
    assert frozen and {"matching", "services"} <= set(frozen[0]["forbidden_modules"])
    assert frozen[0]["allow_indirect_imports"] is False
