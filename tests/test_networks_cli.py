"""``lookalike networks find|list|eval`` work on a database and on the demo world."""

from __future__ import annotations

from typer.testing import CliRunner

from cli import app
from core.settings import load_settings
from tests.networks_support import build_network_web_world


def test_networks_find_then_list(settings_env, tmp_path):
    settings = load_settings()
    build_network_web_world(settings)
    runner = CliRunner()
    found = runner.invoke(app, ["networks", "find"])
    assert found.exit_code == 0, found.output
    assert "networks: 1 (0 new" in found.output and "relistings: 0 new" in found.output
    listed = runner.invoke(app, ["networks", "list"])
    assert listed.exit_code == 0, listed.output
    assert "1 network(s)" in listed.output and "bazaarly 3" in listed.output


def test_networks_eval_on_a_tuning_seed():
    result = CliRunner().invoke(app, ["networks", "eval", "--seed", "31"])
    assert result.exit_code == 0, result.output
    assert "seed 31 (tuning)" in result.output and "pairs precision 1.000 recall 1.000" in result.output
