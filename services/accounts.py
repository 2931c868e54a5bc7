"""Review-app accounts: users and roles, argon2 passwords, database sessions and the login rate limit.

- Roles (``storage.models.USER_ROLES``): ``admin`` and ``analyst`` see every brand; an ``owner`` sees only
  the brands tied to its account (``user_brands``), and must have at least one.
- Passwords are hashed with argon2id (argon2-cffi's defaults); a hash made with older parameters is
  rehashed at the next successful login.
- A session is a random 256-bit token in an HttpOnly cookie; the database keeps only its sha256, the
  user, its CSRF token and its expiry, so several app processes share sessions and nothing lives in a
  process global.
- Login rate limit, counted in ``login_attempts`` (so every process agrees): at most
  ``MAX_FAILURES_PER_USER`` failed attempts per user name and ``MAX_FAILURES_PER_ADDRESS`` per client
  address within ``FAILURE_WINDOW``; beyond that, logins are refused (even with the right password)
  until the window has passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from core.errors import LookalikeError
from services.review import as_utc, find_brand
from storage.models import USER_ROLES, LoginAttempt, User, WebSession, utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,99}$")
MIN_PASSWORD = 10  # characters
MAX_PASSWORD = 1000  # characters: argon2 takes any length, a form should not
SESSION_TTL = dt.timedelta(hours=12)
FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 30

_HASHER = PasswordHasher()  # stateless parameters object: safe to share, holds no user data
# Verified against when the user name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class LoginRefused(LookalikeError):
    """Wrong name or password, or too many attempts; the message never says which name exists."""


@dataclass(frozen=True)
class Principal:
    """Who is asking, as the query layer needs it: ``brand_ids`` is None for every brand."""

    user_id: int
    username: str
    role: str
    brand_ids: frozenset[int] | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_decide(self) -> bool:
        """Owners look; admins and analysts decide."""
        return self.role in ("admin", "analyst")


def principal_of(user: User) -> Principal:
    brands = None if user.role in ("admin", "analyst") else frozenset(b.id for b in user.brands)
    return Principal(user.id, user.username, user.role, brands)


# ------------------------------------------------------------------------------------------ users


def normalise_username(name: str) -> str:
    value = (name or "").strip().lower()
    if not USERNAME_RE.match(value):
        raise LookalikeError(f"invalid user name {name[:40]!r}: use 1-100 letters, digits and . _ @ -")
    return value


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise LookalikeError(f"password too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise LookalikeError(f"password too long: at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password(password))


def get_user(session: Session, username: str) -> User:
    user = session.scalars(
        select(User).where(User.username == normalise_username(username)).options(selectinload(User.brands))
    ).one_or_none()
    if user is None:
        raise LookalikeError(f"no user named {username[:100]!r}")
    return user


def add_user(session: Session, username: str, password: str, role: str, brands: Sequence[str] = (), *,
             allow_no_brand: bool = False) -> User:
    """Create an account; an ``owner`` needs at least one brand (names or ids), the others take none.
    ``allow_no_brand``: an invited owner who will register its first brand in the browser."""
    name = normalise_username(username)
    if role not in USER_ROLES:
        raise LookalikeError(f"unknown role {role!r}: choose one of {', '.join(USER_ROLES)}")
    if role == "owner" and not brands and not allow_no_brand:
        raise LookalikeError("an owner account needs at least one --brand")
    if role != "owner" and brands:
        raise LookalikeError(f"an {role} sees every brand: --brand is for owners")
    if session.scalars(select(User.id).where(User.username == name)).first() is not None:
        raise LookalikeError(f"user {name!r} exists (use set-password to change the password)")
    user = User(username=name, password_hash=hash_password(password), role=role)
    user.brands = [find_brand(session, b) for b in dict.fromkeys(brands)]
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.brands)).order_by(User.username)))


def remove_user(session: Session, username: str) -> None:
    """Delete the account and, with it, its sessions (foreign key cascade and an explicit delete)."""
    user = get_user(session, username)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.delete(user)


def set_password(session: Session, username: str, password: str) -> User:
    """Replace the password and log the user out everywhere."""
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


# ----------------------------------------------------------------------------------------- logins


def _failures(session: Session, key: str, since: dt.datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.key == key, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))
    ) or 0


def authenticate(session: Session, username: str, password: str, *, address: str,
                 now: dt.datetime | None = None) -> User:
    """The user whose name and password these are; ``LoginRefused`` otherwise or when rate-limited.

    Every attempt is recorded under ``user:<name>`` and ``ip:<address>``, in the caller's transaction
    (commit it also when this raises, so that failures count).
    """
    now = now or utcnow()
    try:
        name = normalise_username(username)
    except LookalikeError:
        name = "?"
    keys = (f"user:{name}"[:300], f"ip:{address}"[:300])
    since = now - FAILURE_WINDOW
    limited = (_failures(session, keys[0], since) >= MAX_FAILURES_PER_USER
               or _failures(session, keys[1], since) >= MAX_FAILURES_PER_ADDRESS)
    user = None
    if not limited and name != "?":
        user = session.scalars(select(User).where(User.username == name)
                               .options(selectinload(User.brands))).one_or_none()
    ok = False
    if not limited:
        try:
            ok = _HASHER.verify(user.password_hash if user else _DUMMY_HASH, (password or "")[:MAX_PASSWORD])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        ok = ok and user is not None
    for key in keys:
        session.add(LoginAttempt(key=key, at=now, succeeded=ok))
    if limited:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise LoginRefused(f"too many failed logins: try again in {minutes} minutes")
    if not ok or user is None:
        raise LoginRefused("wrong user name or password")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def prune_attempts(session: Session, *, now: dt.datetime | None = None) -> int:
    """Forget attempts older than the window (they no longer count); returns how many."""
    cutoff = (now or utcnow()) - FAILURE_WINDOW
    return session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff)).rowcount or 0


# --------------------------------------------------------------------------------------- sessions


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start_session(session: Session, user: User, *, now: dt.datetime | None = None,
                  ttl: dt.timedelta = SESSION_TTL) -> str:
    """A new session for ``user``; returns the cookie token (never stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_sha256=token_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, expires_at=now + ttl, last_decision=[]))
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token


def find_session(session: Session, token: str | None, *, now: dt.datetime | None = None
                 ) -> tuple[WebSession, User] | None:
    """The live session of a cookie token with its user, or None (unknown, malformed or expired)."""
    if not token or len(token) > 100:
        return None
    row = session.get(WebSession, token_digest(token))
    if row is None:
        return None
    if as_utc(row.expires_at) <= (now or utcnow()):
        session.delete(row)
        return None
    user = session.scalars(select(User).where(User.id == row.user_id).options(selectinload(User.brands))).one()
    return row, user


def end_session(session: Session, token: str | None) -> None:
    if token and len(token) <= 100:
        session.execute(delete(WebSession).where(WebSession.token_sha256 == token_digest(token)))


# ------------------------------------------------------------------------------------------- demo

DEMO_ADMIN = "demo-admin"
DEMO_OWNER = "demo-owner"


def ensure_demo_accounts(session: Session) -> list[tuple[str, str, str, list[str]]]:
    """Create (or give new passwords to) the demo's logins: an admin, and an owner of the brands of the
    first owner (by name) that has brands. Returns (username, password, role, brand names) for each.

    Passwords are random and new on every run (the demo prints them); nothing else in the data changes.
    """
    from storage.models import Brand, Owner

    out = []
    owner = session.scalars(select(Owner).join(Brand, Brand.owner_id == Owner.id).order_by(Owner.name)).first()
    wanted = [(DEMO_ADMIN, "admin", [])]
    if owner is not None:
        wanted.append((DEMO_OWNER, "owner", sorted(b.name for b in owner.brands)))
    for name, role, brands in wanted:
        password = secrets.token_urlsafe(12)
        existing = session.scalars(select(User).where(User.username == name)).one_or_none()
        if existing is not None and existing.role == role:
            set_password(session, name, password)
            if role == "owner":
                existing.brands = [find_brand(session, b) for b in brands]
        else:
            if existing is not None:
                remove_user(session, name)
                session.flush()
            add_user(session, name, password, role, brands)
        out.append((name, password, role, brands))
    return out
