"""API connectors: one pure module per marketplace API (request building, answer -> ``Listing``).

No Scrapy here: :mod:`crawlers.spiders.api` navigates, :mod:`crawlers.middlewares.apiauth` applies the
credentials, :mod:`crawlers.middlewares.apiquota` keeps the quotas; see ``crawlers/connectors/base.py``
for the functions every connector module provides.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from core.errors import LookalikeError

#: The connectors, by name (each a module of this package).
CONNECTOR_NAMES = ("ebay", "etsy", "aliexpress")


def connector(name: str) -> ModuleType:
    """The connector module called ``name``; ``LookalikeError`` in one line for an unknown one."""
    if name not in CONNECTOR_NAMES:
        raise LookalikeError(f"unknown API connector {str(name)[:40]!r} (known: {', '.join(CONNECTOR_NAMES)})")
    # Imported by name: crawlers.run (and so `lookalike --help`) needs only the names, not the parsers.
    return importlib.import_module(f"crawlers.connectors.{name}")
