"""``lookalike users``: review-app accounts (add, list, remove, set-password).

Passwords are read from a hidden prompt (asked twice) or, for scripts, from standard input with
``--password-stdin`` (the first line); never from a command-line argument, which other users can see.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli import context
from core.errors import LookalikeError
from services import accounts
from storage.vocabulary import USER_ROLES

StdinOption = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise LookalikeError("no password on standard input")
        return accounts.check_password(line.rstrip("\r\n"))
    return accounts.check_password(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def add_command(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(USER_ROLES)}.")] = "analyst",
    brand: Annotated[list[str] | None, typer.Option("--brand", help="A brand an owner sees (repeat).")] = None,
    password_stdin: StdinOption = False,
) -> None:
    """Create an account."""
    password = read_password(password_stdin)
    with context.database() as db, db.session() as session:
        user = accounts.add_user(session, username, password, role, brand or [])
        name, shown = user.username, ", ".join(b.name for b in user.brands)
    typer.echo(f"user {name} added ({role}{': ' + shown if shown else ''})")


def list_command() -> None:
    """List the accounts and the brands of each owner."""
    with context.database() as db, db.session() as session:
        table = Table("user", "role", "brands", "created")
        for user in accounts.list_users(session):
            table.add_row(Text(user.username), user.role,
                          Text(", ".join(b.name for b in user.brands) or ("every brand" if user.role != "owner" else "—")),
                          user.created_at.strftime("%Y-%m-%d"))
    Console().print(table)


def remove_command(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Delete an account (its sessions end at once)."""
    with context.database() as db, db.session() as session:
        accounts.remove_user(session, username)
    typer.echo(f"user {accounts.normalise_username(username)} removed")


def set_password_command(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: StdinOption = False,
) -> None:
    """Change a password (logs the user out everywhere)."""
    password = read_password(password_stdin)
    with context.database() as db, db.session() as session:
        accounts.set_password(session, username, password)
    typer.echo(f"password of {accounts.normalise_username(username)} changed")
