"""Where the settings come from, read without pydantic: the TOML file, the ``LOOKALIKE_*`` environment.

:class:`core.settings.Settings` is the one settings object; it reads its file through :func:`read_config_file`
and derives its database URL with :func:`default_database_url`, both defined here so that
:func:`read_database_settings` (the fast path of ``lookalike review list`` and ``brands list``, which need
only ``data_dir`` and ``db_url``) reads the same file and the same variables with the same precedence
(env over file over default) without importing pydantic-settings (deferred: start-up time, issue 14.5).
Any value the fast path cannot read exactly as pydantic would (not a string, a broken file) makes it return
None, and the caller builds the full ``Settings``, which reports the problem as it always did;
tests/test_cli_startup.py checks that both agree.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import LookalikeError

CONFIG_ENV = "LOOKALIKE_CONFIG"
DEFAULT_CONFIG_FILE = "lookalike.toml"
ENV_PREFIX = "LOOKALIKE_"


class ConfigError(LookalikeError, ValueError):
    """The configuration file or environment holds something that cannot be used."""


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/lookalike``, or ``~/.local/share/lookalike`` where XDG_DATA_HOME is unset."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lookalike"


def config_file_path() -> Path:
    """The TOML file that is read: ``$LOOKALIKE_CONFIG`` or ``./lookalike.toml``."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE)


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in the TOML file at ``path`` (flat, or under a ``[lookalike]`` table); ``{}`` when the
    file is missing, ``ConfigError`` when it is not valid TOML."""
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return dict(raw.get("lookalike", raw))


def default_database_url(db_url: str | None, data_dir: Path) -> str:
    """The URL in force: ``db_url`` or the SQLite file ``lookalike.db`` in ``data_dir``."""
    if db_url:
        return db_url
    return f"sqlite:///{(data_dir / 'lookalike.db').resolve()}"


def _env_values(names: tuple[str, ...]) -> dict[str, str]:
    """``LOOKALIKE_<NAME>`` values, matched without regard to case as pydantic-settings does (its
    ``case_sensitive=False``: every variable name is lower-cased, a later duplicate wins)."""
    wanted = {f"{ENV_PREFIX}{name}".lower(): name for name in names}
    found: dict[str, str] = {}
    for key, value in os.environ.items():
        name = wanted.get(key.lower())
        if name is not None:
            found[name] = value
    return found


@dataclass(frozen=True)
class DatabaseSettings:
    """The two settings that locate the database, as ``Settings`` would hold them."""

    data_dir: Path
    db_url: str | None

    @property
    def database_url(self) -> str:
        return default_database_url(self.db_url, self.data_dir)


def read_database_settings() -> DatabaseSettings | None:
    """``data_dir`` and ``db_url`` as :class:`core.settings.Settings` reads them, or None when a value is
    one only pydantic can judge (then build ``Settings`` itself, which accepts or reports it).

    Only these two fields are read: a bad value of another field is reported by the commands that read it
    (and by ``lookalike config``), not by the fast ``review list`` and ``brands list``.
    """
    try:
        file_values = read_config_file(config_file_path())
    except (ConfigError, OSError, AttributeError, TypeError, ValueError):
        return None  # a broken file: the full Settings reports it in its own words
    env = _env_values(("data_dir", "db_url"))
    values: dict[str, Any] = {}
    for name in ("data_dir", "db_url"):
        if name in env:
            values[name] = env[name]
        elif file_values.get(name) is not None:
            values[name] = file_values[name]
    if any(not isinstance(value, str) or "\x00" in value for value in values.values()):
        return None
    data_dir = Path(values["data_dir"]).expanduser() if "data_dir" in values else default_data_dir()
    return DatabaseSettings(data_dir=data_dir, db_url=values.get("db_url"))
