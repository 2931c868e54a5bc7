"""Single-use links sent by e-mail: an admin invites a brand owner, and anyone can ask for a new password.

An invitation names the login (the invitee's e-mail address unless given), the role, and for an owner the
company it acts for (an :class:`~storage.models.Owner`, created if new) and the brands it sees from the
start (it may register more in the browser). The link carries a random token; only its sha256 is stored,
so a copy of the database opens no account. A link works once and only until it expires
(:data:`INVITE_TTL`, :data:`RESET_TTL`); using it sets the password, and a reset also logs the account out
everywhere. Asking for a reset answers the same whether or not the account exists, so the form cannot be
used to find out who has one.

Messages go out through the mailer that digests use (SMTP), or are written as ``.eml`` files when no SMTP
server is configured, so an operator can hand the link over another way.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.errors import LookalikeError
from core.settings import Settings
from core.text import one_line
from services.accounts import (
    add_user,
    check_password,
    get_user,
    normalise_username,
    set_password,
    token_digest,
)
from services.mailer import smtp_send, write_eml
from services.registry.specification import check_emails
from services.review import as_utc, find_brand
from storage.models import USER_ROLES, Invitation, Owner, User, utcnow

INVITE_TTL = dt.timedelta(days=7)
RESET_TTL = dt.timedelta(hours=2)
#: At most one reset link per account in this time.
RESET_EVERY = dt.timedelta(minutes=5)
#: Where the review app answers a link: ``<review_url>/invite/TOKEN`` and ``<review_url>/reset/TOKEN``.
LINK_PATHS = {"invite": "/invite/", "reset": "/reset/"}


class LinkRefused(LookalikeError):
    """A link that is unknown, used already, or expired (one message for each, never which account)."""


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """An invitation or reset just issued: the row's id, who it is for, and the link (shown only once)."""

    id: int
    purpose: Literal["invite", "reset"]
    username: str
    email: str
    url: str
    expires_at: dt.datetime


def link_url(settings: Settings, purpose: str, token: str) -> str:
    base = (settings.review_url or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}{LINK_PATHS[purpose]}{token}"


def _issue(session: Session, settings: Settings, *, purpose: Literal["invite", "reset"], username: str,  # noqa: PLR0913
           email: str, role: str, owner: Owner | None, brands: list[str], created_by: str,
           ttl: dt.timedelta, now: dt.datetime) -> IssuedLink:
    token = secrets.token_urlsafe(32)
    row = Invitation(token_sha256=token_digest(token), purpose=purpose, username=username, email=email, role=role,
                     owner_id=owner.id if owner else None, brands=brands, created_by=one_line(created_by, 200),
                     created_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    return IssuedLink(row.id, purpose, username, email, link_url(settings, purpose, token), row.expires_at)


def invite(session: Session, settings: Settings, email: str, *, role: str = "owner", company: str | None = None,  # noqa: PLR0913
           brands: list[str] | None = None, username: str | None = None, created_by: str,
           now: dt.datetime | None = None) -> IssuedLink:
    """Invite ``email`` to open an account. An owner acts for ``company`` (created if new; default: the owner
    of its first brand) and sees ``brands`` from the start."""
    now = now or utcnow()
    (address,) = check_emails([email])
    login = normalise_username(username or address)
    if role not in USER_ROLES:
        raise LookalikeError(f"unknown role {role!r}: choose one of {', '.join(USER_ROLES)}")
    if session.scalars(select(User.id).where(User.username == login)).first() is not None:
        raise LookalikeError(f"user {login!r} exists (send a password reset instead)")
    names = list(dict.fromkeys(brands or []))
    owner: Owner | None = None
    if role == "owner":
        found = [find_brand(session, name) for name in names]
        if company:
            company = one_line(company, 200)
            owner = session.scalars(select(Owner).where(Owner.name == company)).one_or_none()
            if owner is None:
                owner = Owner(name=company)
                session.add(owner)
                session.flush()
        elif found:
            owner = found[0].owner
        else:
            raise LookalikeError("an owner invitation needs --company or at least one --brand")
        names = [b.name for b in found]
    elif names:
        raise LookalikeError(f"an {role} sees every brand: --brand is for owners")
    # An earlier, unused invitation for the same login stops working: only the newest link opens it.
    session.execute(update(Invitation).where(Invitation.username == login, Invitation.used_at.is_(None),
                                             Invitation.purpose == "invite").values(expires_at=now))
    return _issue(session, settings, purpose="invite", username=login, email=address, role=role, owner=owner,
                  brands=names, created_by=created_by, ttl=INVITE_TTL, now=now)


def request_reset(session: Session, settings: Settings, who: str, *, now: dt.datetime | None = None
                  ) -> IssuedLink | None:
    """A reset link for the account named ``who`` (its login name), or None when there is none (the caller
    answers the same either way). The address is the one its invitation was sent to, or the login name
    when that is an address."""
    now = now or utcnow()
    try:
        user = get_user(session, who[:254])
    except LookalikeError:
        return None
    email = session.scalars(select(Invitation.email).where(Invitation.username == user.username)
                            .order_by(Invitation.id.desc())).first() or user.username
    if "@" not in email:
        return None
    recent = session.scalars(select(Invitation.id).where(
        Invitation.username == user.username, Invitation.purpose == "reset", Invitation.used_at.is_(None),
        Invitation.created_at > now - RESET_EVERY)).first()
    if recent is not None:
        return None  # one link per RESET_EVERY: the form cannot be used to flood someone's mailbox
    return _issue(session, settings, purpose="reset", username=user.username, email=email, role=user.role,
                  owner=None, brands=[], created_by="password reset", ttl=RESET_TTL, now=now)


def find_link(session: Session, token: str | None, purpose: str, *, now: dt.datetime | None = None) -> Invitation:
    """The usable invitation or reset behind ``token``; :class:`LinkRefused` otherwise."""
    now = now or utcnow()
    if not token or len(token) > 100:
        raise LinkRefused("This link is not valid. Ask for a new one.")
    row = session.scalars(select(Invitation).where(Invitation.token_sha256 == token_digest(token),
                                                   Invitation.purpose == purpose)).one_or_none()
    if row is None:
        raise LinkRefused("This link is not valid. Ask for a new one.")
    if row.used_at is not None:
        raise LinkRefused("This link has been used already. Ask for a new one.")
    if as_utc(row.expires_at) <= now:
        raise LinkRefused("This link has expired. Ask for a new one.")
    return row


def redeem(session: Session, token: str | None, purpose: str, password: str, *, now: dt.datetime | None = None
           ) -> User:
    """Use the link: create the invited account, or set the new password; the link works only once (the
    row is claimed by a conditional update, so two browsers racing get one account)."""
    now = now or utcnow()
    row = find_link(session, token, purpose, now=now)
    password = check_password(password)
    claimed = session.execute(update(Invitation).where(Invitation.id == row.id, Invitation.used_at.is_(None))
                              .values(used_at=now)).rowcount
    if claimed != 1:
        raise LinkRefused("This link has been used already. Ask for a new one.")
    if purpose == "reset":
        return set_password(session, row.username, password)
    user = add_user(session, row.username, password, row.role, row.brands, allow_no_brand=row.role == "owner")
    user.owner_id = row.owner_id
    session.flush()
    return user


def link_message(settings: Settings, link: IssuedLink, *, inviter: str = "") -> EmailMessage:
    """The e-mail carrying the link (plain text only; nothing from listings goes in it)."""
    msg = EmailMessage()
    if link.purpose == "invite":
        msg["Subject"] = "You are invited to Lookalike"
        body = (f"Hello,\n\n{one_line(inviter, 100) or 'An administrator'} invited you to Lookalike, which watches "
                f"marketplaces and web shops for knock-offs of your brands.\n\nOpen this link to choose your password "
                f"(your login is {link.username}):\n\n  {link.url}\n\nThe link works once, until "
                f"{link.expires_at:%Y-%m-%d %H:%M} UTC.\n")
    else:
        msg["Subject"] = "Your Lookalike password"
        body = (f"Hello,\n\nSomeone asked for a new password for the Lookalike login {link.username}. Open this link "
                f"to choose it:\n\n  {link.url}\n\nThe link works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC. "
                f"If you did not ask, ignore this message: your password stays as it is.\n")
    msg["From"] = settings.smtp_from
    msg["To"] = one_line(link.email, 254)
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain="lookalike")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def deliver(settings: Settings, link: IssuedLink, *, inviter: str = "") -> str:
    """Send the link by SMTP, or write it as an ``.eml`` file under ``<data_dir>/mail`` when no SMTP server is
    configured; returns where it went (never the link itself)."""
    message = link_message(settings, link, inviter=inviter)
    if settings.smtp_host:
        smtp_send(settings, message, [link.email])
        return f"sent to {link.email}"
    folder = Path(settings.data_dir) / "mail"
    path = write_eml(message, folder, f"{link.purpose}-{link.id}.eml")
    return f"written to {path} (no SMTP server configured)"
