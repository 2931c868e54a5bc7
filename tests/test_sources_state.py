"""Credentials come only from the environment or secret files and are never shown; a source's stored
state (calls per UTC day, resume point) on both database backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from core.settings import ConfigError, load_settings
from crawlers.connectors.base import Credentials
from storage.sources import calls_left, state_of


def test_a_credential_comes_from_the_environment_first_then_its_file(tmp_path: Path, monkeypatch) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "etsy_keystring").write_text("file-keystring\n")
    settings = load_settings(data_dir=tmp_path, api_secrets_dir=secrets)
    monkeypatch.delenv("LOOKALIKE_ETSY_KEYSTRING", raising=False)
    assert settings.api_credential("etsy_keystring") == "file-keystring"
    assert settings.api_credential("etsy_shared_secret") is None
    monkeypatch.setenv("LOOKALIKE_ETSY_KEYSTRING", "env-keystring")
    assert settings.api_credential("etsy_keystring") == "env-keystring"
    with pytest.raises(ConfigError):
        settings.api_credential("../etc/passwd")
    assert "env-keystring" not in settings.model_dump_json()  # never part of the settings a crawl is sent


def test_lookalike_config_never_prints_a_credential(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOOKALIKE_EBAY_CLIENT_SECRET", "s3cr3t-value-42")
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    assert "s3cr3t-value-42" not in result.output and "api_secrets_dir" in result.output


def test_credentials_hide_their_values() -> None:
    credentials = Credentials({"etsy_keystring": "k-123", "etsy_shared_secret": "s-456"})
    assert "k-123" not in repr(credentials) and "s-456" not in str(credentials)
    assert sorted(credentials.secrets()) == ["k-123", "s-456"]


def test_a_source_state_counts_calls_per_day_and_resets_on_a_new_day(database) -> None:
    with database.session() as session:
        state = state_of(session, "etsy-main")
        state.calls_today, state.resume = 40, {"lip plumper": 200}
    with database.session() as session:
        state = state_of(session, "etsy-main")
        assert state.calls_today == 40 and state.resume == {"lip plumper": 200}
        assert calls_left(state, 100) == 60
        state.day = "2000-01-01"
    with database.session() as session:
        state = state_of(session, "etsy-main")
        assert state.calls_today == 0 and calls_left(state, 100) == 100 and state.resume == {"lip plumper": 200}
