"""``lookalike users``: review-app accounts (add, list, remove, set-password, invite, reset).

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

#: Roles for ``--help``; equal to storage.models.USER_ROLES (tests/test_cli_startup.py checks), written out
#: so that ``--help`` does not load SQLAlchemy (deferred: start-up time).
USER_ROLES = ("admin", "analyst", "owner")

users_app = typer.Typer(help="Accounts of the review app: admin, analyst, owner (tied to brands).",
                        no_args_is_help=True)

StdinOption = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


def read_password(from_stdin: bool) -> str:
    from services import accounts  # deferred: start-up time

    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise LookalikeError("no password on standard input")
        return accounts.check_password(line.rstrip("\r\n"))
    return accounts.check_password(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def add_command(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(USER_ROLES)}.")] = "analyst",
    brand: Annotated[list[str] | None, typer.Option("--brand", help="A brand an owner sees (repeat).")] = None,
    password_stdin: StdinOption = False,
) -> None:
    """Create an account."""
    from services import accounts  # deferred: start-up time

    password = read_password(password_stdin)
    with context.database() as db, db.session() as session:
        user = accounts.add_user(session, username, password, role, brand or [])
        name, shown = user.username, ", ".join(b.name for b in user.brands)
    typer.echo(f"user {name} added ({role}{': ' + shown if shown else ''})")


@users_app.command("list")
def list_command() -> None:
    """List the accounts and the brands of each owner."""
    from services import accounts  # deferred: start-up time

    with context.database() as db, db.session() as session:
        table = Table("user", "role", "brands", "created")
        for user in accounts.list_users(session):
            table.add_row(Text(user.username), user.role,
                          Text(", ".join(b.name for b in user.brands) or ("every brand" if user.role != "owner" else "—")),
                          user.created_at.strftime("%Y-%m-%d"))
    Console().print(table)


@users_app.command("remove")
def remove_command(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Delete an account (its sessions end at once)."""
    from services import accounts  # deferred: start-up time

    with context.database() as db, db.session() as session:
        accounts.remove_user(session, username)
    typer.echo(f"user {accounts.normalise_username(username)} removed")


@users_app.command("set-password")
def set_password_command(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: StdinOption = False,
) -> None:
    """Change a password (logs the user out everywhere)."""
    from services import accounts  # deferred: start-up time

    password = read_password(password_stdin)
    with context.database() as db, db.session() as session:
        accounts.set_password(session, username, password)
    typer.echo(f"password of {accounts.normalise_username(username)} changed")


PrintLinkOption = Annotated[bool, typer.Option(
    "--print-link", help="Also print the link here (to hand it over another way); it opens the account.")]


def _deliver(link, inviter: str, print_link: bool) -> None:  # noqa: ANN001 - services.invitations.IssuedLink
    from services import invitations  # deferred: start-up time

    try:
        where = invitations.deliver(context.settings(), link, inviter=inviter)
    except LookalikeError as exc:
        where = f"NOT delivered ({str(exc).splitlines()[0]}); use --print-link or fix the mail settings and ask again"
    typer.echo(f"{link.purpose} link for {link.username}: {where}; it works once, until "
               f"{link.expires_at:%Y-%m-%d %H:%M} UTC")
    if print_link:
        typer.echo(link.url)


@users_app.command("invite")
def invite_command(
    email: Annotated[str, typer.Argument(help="The invitee's e-mail address (also the login name by default).")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(USER_ROLES)}.")] = "owner",
    company: Annotated[str | None, typer.Option(help="For an owner: the company it acts for (created if new).")] = None,
    brand: Annotated[list[str] | None, typer.Option("--brand", help="A brand an owner sees from the start (repeat).")]
    = None,
    login: Annotated[str | None, typer.Option(help="Login name, if not the e-mail address.")] = None,
    by: Annotated[str, typer.Option(help="Who invites (shown in the message and kept).")] = "an administrator",
    print_link: PrintLinkOption = False,
) -> None:
    """Invite someone by e-mail: a single-use link (7 days) to choose a password; owners then register brands."""
    from services import invitations  # deferred: start-up time

    with context.database() as db, db.session() as session:
        link = invitations.invite(session, context.settings(), email, role=role, company=company,
                                  brands=brand or [], username=login, created_by=by)
    _deliver(link, by, print_link)


@users_app.command("reset")
def reset_command(username: Annotated[str, typer.Argument(help="Login name.")],
                  print_link: PrintLinkOption = False) -> None:
    """Send a password-reset link (single use, 2 hours) to the account's e-mail address."""
    from services import invitations  # deferred: start-up time

    with context.database() as db, db.session() as session:
        link = invitations.request_reset(session, context.settings(), username)
    if link is None:
        raise LookalikeError(f"no user named {username[:100]!r} with an e-mail address")
    _deliver(link, "", print_link)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
