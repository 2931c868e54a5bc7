"""Finding 7 (terminal output) and finding 8's price: hostile names are printed with control and bidi
characters made visible; ``1e999999`` is no price."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from core.terminal import visible
from crawlers.processors import parse_price

HOSTILE_NAME = "Fullips\x1b[2J\x1b]8;;http://evil.test/\x07click\x1b]8;;\x07 \u202egpj.exe\u202c\r\x9bX"
RAW_DANGER = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\r")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain name", "plain name"),
        ("a\x1b[31mred", "a\\u001b[31mred"),
        ("\u202eexe.txt", "\\u202eexe.txt"),
        ("two\nlines\ttab", "two lines tab"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        (None, ""),
    ],
)
def test_visible_spells_out_what_a_terminal_would_hide_or_obey(text, shown) -> None:
    assert visible(text) == shown


def test_visible_is_bounded() -> None:
    assert len(visible("x" * 10_000)) <= 300


def test_brands_import_and_list_print_hostile_names_visibly(settings_env: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    path = tmp_path / "r.yaml"
    escaped = HOSTILE_NAME.encode("unicode_escape").decode("ascii").replace('"', '\\\\"')
    path.write_text(f'brands:\n  - name: "{escaped}"\n    owner: "Owner \\u202eX"\n    aliases: ["A\\x1b[1m"]\n',
                    encoding="utf-8")
    runner = CliRunner()
    imported = runner.invoke(app, ["brands", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    listed = runner.invoke(app, ["brands", "list"])
    assert listed.exit_code == 0, listed.output
    for output in (imported.output, listed.output):
        assert not [c for c in RAW_DANGER if c in output], repr(output)
    assert "\\u001b[2J" in imported.output and "\\u202e" in imported.output
    assert "\\u202e" in listed.output


@pytest.mark.parametrize(
    ("value", "structured", "price"),
    [("1e999999", False, None), ("1e999999", True, None), ("1E5 EUR", False, None), ("1e-999999", True, None),
     ("12.50", False, Decimal("12.50")), ("2.4e1", True, Decimal("24")), ("$1,234.56", False, Decimal("1234.56"))],
)
def test_exponent_prices_are_not_read_as_one(value, structured, price) -> None:
    assert parse_price(value, structured=structured) == price
