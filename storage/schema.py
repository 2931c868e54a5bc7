"""The columns the list queries read, as SQLAlchemy Core tables: the cheap way in for ``review list`` and
``brands list`` (docs/performance.md).

Importing the ORM (``sqlalchemy.orm`` and the mapped classes of ``storage.models``) costs those commands about
as much again as the rest of their start-up together; Core alone does not. These tables name a subset of the
columns of ``storage.models`` with the same names and types (``tests/test_cli_startup.py`` checks every
column against the models), so SQLAlchemy converts the values the same way (JSON, booleans, ``Numeric``
money as ``Decimal``). They are never created from here: ``storage.models`` and the migrations own the schema.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Integer, MetaData, Numeric, String, Table, Text

#: Money columns (prices, MSRPs): two decimals, read back as ``Decimal``.
Money = Numeric(14, 2)

#: Separate from ``storage.models.Base.metadata`` so that it never creates or migrates anything.
metadata = MetaData()

owners = Table(
    "owners", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200)),
    Column("digest_frequency", String(10)),
    Column("digest_min_score", Float),
    Column("digest_classes", JSON),
    Column("digest_enabled", Boolean),
)
brands = Table(
    "brands", metadata,
    Column("id", Integer, primary_key=True),
    Column("owner_id", Integer),
    Column("name", String(200)),
    Column("category", String(200)),
    Column("digest_to", JSON),
)
marks = Table(
    "marks", metadata,
    Column("id", Integer, primary_key=True),
    Column("brand_id", Integer),
    Column("text", String(200)),
    Column("kind", String(20)),
)
authorized_sellers = Table(
    "authorized_sellers", metadata,
    Column("id", Integer, primary_key=True),
    Column("brand_id", Integer),
    Column("name", String(200)),
)
products = Table(
    "products", metadata,
    Column("id", Integer, primary_key=True),
    Column("brand_id", Integer),
)
reference_images = Table(
    "reference_images", metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", Integer),
)
marketplaces = Table(
    "marketplaces", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200)),
)
listings = Table(
    "listings", metadata,
    Column("id", Integer, primary_key=True),
    Column("marketplace_id", Integer),
    Column("url", String(2000)),
    Column("title", Text),
    Column("price", Money),
    Column("currency", String(3)),
    Column("seller", String(300)),
    Column("last_seen", DateTime(timezone=True)),
)
matches = Table(
    "matches", metadata,
    Column("id", Integer, primary_key=True),
    Column("listing_id", Integer),
    Column("brand_id", Integer),
    Column("score", Float),
    Column("klass", String(20)),
    Column("status", String(20)),
    Column("changes", JSON),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)
