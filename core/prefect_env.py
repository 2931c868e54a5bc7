"""Prefect's environment for Lookalike, set before ``prefect`` is first imported.

Prefect reads its settings from the environment when it is imported, so every entry point that runs a
flow (``lookalike scan``, ``lookalike demo``, ``flows/*.py`` under a worker) calls
:func:`configure_prefect_env` first.  Each value is only a default: a variable the user has already set
wins.  What is set:

- ``PREFECT_HOME``: ``<data_dir>/prefect``, so Prefect's database, logs and results stay inside the
  project's data folder instead of ``~/.prefect``;
- ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``: 120 (the ephemeral server takes 10 to 20 s to
  start on two cores, and the default timeout is 20 s);
- ``PREFECT_SERVER_ANALYTICS_ENABLED=false`` and ``DO_NOT_TRACK=1``: no telemetry leaves the machine.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

#: Seconds the ephemeral Prefect server may take to start.
EPHEMERAL_STARTUP_TIMEOUT_SECONDS = 120


def prefect_defaults(data_dir: Path) -> dict[str, str]:
    """The environment defaults for a data folder (name -> value)."""
    return {
        "PREFECT_HOME": str((Path(data_dir).expanduser() / "prefect").resolve()),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(EPHEMERAL_STARTUP_TIMEOUT_SECONDS),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }


def configure_prefect_env(data_dir: Path, *, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set Prefect's defaults in ``environ`` (``os.environ`` by default) where not already set.

    Returns the variables that were set by this call.  Creates ``PREFECT_HOME``.  Call it before the
    first ``import prefect``: settings read later in the same process are not guaranteed to be picked up.
    """
    env = os.environ if environ is None else environ
    applied: dict[str, str] = {}
    for name, value in prefect_defaults(data_dir).items():
        if not env.get(name):
            env[name] = value
            applied[name] = value
    Path(env["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    return applied


#: Marker written in ``PREFECT_HOME`` once Prefect's own database is created and migrated.
DATABASE_READY_MARKER = ".lookalike-prefect-db-ready"


def prepare_prefect_database(*, environ: MutableMapping[str, str] | None = None) -> bool:
    """Create and migrate Prefect's local database once, under a file lock; True when this call did it.

    Two ``lookalike scan`` runs started together in a fresh data folder would otherwise both start an
    ephemeral Prefect server that runs the migrations on the same SQLite file at the same time, and one
    fails.  The first caller takes an exclusive ``flock`` on ``PREFECT_HOME/prefect-db.lock``, migrates
    and writes :data:`DATABASE_READY_MARKER` (with the Prefect version); the others wait for the lock and
    find the marker.  Nothing is done when ``PREFECT_API_URL`` points at a Prefect server.  Call after
    :func:`configure_prefect_env`.
    """
    import fcntl

    env = os.environ if environ is None else environ
    if env.get("PREFECT_API_URL"):
        return False
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    # Imported here: Prefect reads its settings from the environment at import (see the module docstring).
    import prefect

    version = str(prefect.__version__)
    marker = home / DATABASE_READY_MARKER
    with (home / "prefect-db.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text(encoding="utf-8").strip() == version:
            return False
        import asyncio

        from prefect.server.database import provide_database_interface

        asyncio.run(provide_database_interface().create_db())
        marker.write_text(version + "\n", encoding="utf-8")
        return True
