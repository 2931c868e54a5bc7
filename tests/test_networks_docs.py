"""docs/networks.md documents every network threshold (a new NetworkConfig field must be documented)."""

from __future__ import annotations

from pathlib import Path

from matching.networks.config import NetworkConfig

DOC = Path(__file__).resolve().parent.parent / "docs" / "networks.md"


def test_every_network_threshold_has_a_docstring_and_a_row():
    text = DOC.read_text(encoding="utf-8")
    for name, default, doc in NetworkConfig.describe():
        assert doc, f"NetworkConfig.{name} has no docstring"
        assert f"| `{name}` | {default} |" in text, f"docs/networks.md lacks a row for {name} = {default}"


def test_docs_state_the_merge_rule_and_the_limits():
    text = DOC.read_text(encoding="utf-8")
    assert "Only a strong link merges" in text and "Limits" in text
