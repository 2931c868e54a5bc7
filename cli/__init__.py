"""The ``lookalike`` command line.

Each group of commands lives in its own module and is registered here.  Errors the user can fix
(``LookalikeError``) are printed as one line and exit with status 2; nothing prints a traceback for
bad input.
"""

from __future__ import annotations

import sys

import typer

from cli import brands, system
from cli import crawl as crawl_cli
from cli import demo as demo_cli
from cli import digest as digest_cli
from cli import domains as domains_cli
from cli import evaluate as evaluate_cli
from cli import export as export_cli
from cli import marketplace as marketplace_cli
from cli import match as match_cli
from cli import networks as networks_cli
from cli import review as review_cli
from cli import scan as scan_cli
from cli import serve as serve_cli
from cli import sources as sources_cli
from cli import takedown as takedown_cli
from cli import users as users_cli
from core.errors import LookalikeError

app = typer.Typer(
    name="lookalike",
    help="Brand protection for small brands: crawl shops, find counterfeits and look-alikes, review them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
system.register(app)
brands.register(app)
scan_cli.register(app)
demo_cli.register(app)
review_cli.register(app)
export_cli.register(app)
digest_cli.register(app)
crawl_cli.register(app)
marketplace_cli.register(app)
networks_cli.register(app)
match_cli.register(app)
evaluate_cli.register(app)
serve_cli.register(app)
users_cli.register(app)
takedown_cli.register(app)
domains_cli.register(app)
sources_cli.register(app)  # the `sources` group, with `sources queries` of cli/queries.py in it


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        app(args=argv, standalone_mode=True)
    except LookalikeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
