"""Settings come from env over file over defaults, every setting is documented, and bad values are one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.settings import ConfigError, Settings, describe_sources, load_settings

REPO = Path(__file__).resolve().parent.parent


def test_env_beats_file_beats_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "lookalike.toml"
    config.write_text('download_delay = 1.5\ngone_after_runs = 4\n[currency_rates]\nUSD = 1\nEUR = 1.1\n')
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(config))
    monkeypatch.setenv("LOOKALIKE_GONE_AFTER_RUNS", "7")
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("LOOKALIKE_DB_URL", raising=False)
    settings = load_settings()
    assert settings.download_delay == 1.5 and settings.gone_after_runs == 7
    assert str(settings.currency_rates["EUR"]) == "1.1"
    assert settings.database_url == f"sqlite:///{(tmp_path / 'd' / 'lookalike.db').resolve()}"
    sources = {name: source for name, _v, source, _d in describe_sources(settings)}
    assert sources["download_delay"] == f"file {config}"
    assert sources["gone_after_runs"] == "env LOOKALIKE_GONE_AFTER_RUNS"
    assert sources["obey_robots_txt"] == "default"


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [("LOOKALIKE_GONE_AFTER_RUNS", "zero", "gone_after_runs"), ("LOOKALIKE_DOWNLOAD_TIMEOUT", "-1", "download_timeout")],
)
def test_bad_values_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env, value, fragment) -> None:
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_broken_toml_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "lookalike.toml"
    config.write_text("download_delay = = 2\n")
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(config))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_every_setting_is_documented() -> None:
    """docs/configuration.md has a row for every setting, and no row for a setting that is gone."""
    doc = (REPO / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", doc, flags=re.M))
    assert documented == set(Settings.model_fields)
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"LOOKALIKE_{name.upper()}" in doc


def test_cli_config_shows_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("LOOKALIKE_DOWNLOAD_DELAY", "2.5")
    result = CliRunner().invoke(app, ["config"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if "download_delay" in line)
    assert "2.5" in line and "env LOOKALIKE_DOWNLOAD_DELAY" in line
