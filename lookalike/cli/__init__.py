"""The ``lookalike`` command line.

Each group of commands lives in its own module and is registered here.  Errors the user can fix
(``LookalikeError``) are printed as one line and exit with status 2; nothing prints a traceback for
bad input.
"""

from __future__ import annotations

import sys

import typer

from lookalike.cli import brands, core
from lookalike.errors import LookalikeError

app = typer.Typer(
    name="lookalike",
    help="Brand protection for small brands: crawl shops, find counterfeits and look-alikes, review them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
core.register(app)
brands.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        app(args=argv, standalone_mode=True)
    except LookalikeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
