"""docs/matching.md documents every matching threshold (a new MatchConfig field must be documented)."""

from __future__ import annotations

from pathlib import Path

from matching.config import MatchConfig

DOC = Path(__file__).resolve().parent.parent / "docs" / "matching.md"


def test_every_config_field_has_a_docstring_and_a_row_in_the_docs():
    text = DOC.read_text(encoding="utf-8")
    for name, default, doc in MatchConfig.describe():
        assert doc, f"MatchConfig.{name} has no docstring"
        assert f"| `{name}` | {default} |" in text, f"docs/matching.md lacks a row for {name} = {default}"


def test_docs_name_the_commands():
    text = DOC.read_text(encoding="utf-8")
    assert "lookalike eval --world" in text
    assert "python -m bench" in text
