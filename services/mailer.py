"""Handing a finished message to SMTP, or writing it as an ``.eml`` file: the delivery shared by digests and alerts.

SMTP delivery tells apart the two ways it can go wrong, because exactly-once delivery depends on it:

- :class:`NotDelivered`: the server refused the connection, the login, the sender, every recipient, or
  answered the message itself with an error code.  Nothing was accepted; ``transient`` says whether a
  retry may succeed (connection problems and 4xx replies) or not (5xx replies).
- :class:`DeliveryInDoubt`: the connection broke while the message itself was being handed over, before
  the server's reply to it.  The server may have accepted it, so it must not be sent again blindly.

Settings (``core.settings``): ``smtp_host``, ``smtp_port``, ``smtp_security`` (``starttls``, ``tls`` or
``none``), ``smtp_user`` with the password from ``$LOOKALIKE_SMTP_PASSWORD`` or ``smtp_password_file``,
``smtp_from``, ``smtp_timeout``.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

from core.errors import LookalikeError
from core.settings import Settings


class NotDelivered(LookalikeError):
    """The message was certainly not accepted; ``transient``: a later attempt may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class DeliveryInDoubt(LookalikeError):
    """The connection broke while the message was handed over: it may or may not have arrived."""


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {' '.join(text.split())[:200]}"


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port, timeout = settings.smtp_host or "", settings.smtp_port, settings.smtp_timeout
    try:
        if settings.smtp_security == "tls":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        return smtplib.SMTP(host, port, timeout=timeout)
    except smtplib.SMTPResponseException as exc:
        raise NotDelivered(f"SMTP {host}:{port} refused the connection: {_reply(exc)}",
                           transient=exc.smtp_code < 500) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise NotDelivered(f"cannot connect to SMTP {host}:{port}: {exc.strerror or exc}"
                           if isinstance(exc, OSError) else f"SMTP {host}:{port}: {exc}", transient=True) from None


def smtp_send(
    settings: Settings,
    message: EmailMessage,
    recipients: Sequence[str],
    *,
    before_data: Callable[[], None] | None = None,
) -> None:
    """Send ``message`` to ``recipients`` through the configured SMTP server.

    ``before_data`` is called after the server accepted the sender and recipients and just before the
    message itself is handed over (digests record then that the message may arrive).  Raises
    :class:`NotDelivered` or :class:`DeliveryInDoubt`; returns when the server accepted the message.
    """
    if not settings.smtp_host:
        raise LookalikeError("no SMTP server configured (smtp_host)")
    where = f"SMTP {settings.smtp_host}:{settings.smtp_port}"
    conn = _connect(settings)
    try:
        try:
            conn.ehlo()
            if settings.smtp_security == "starttls":
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if settings.smtp_user:
                conn.login(settings.smtp_user, settings.smtp_password() or "")
            code, reply = conn.mail(settings.smtp_from)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, settings.smtp_from)
            refused = []
            for rcpt in recipients:
                code, reply = conn.rcpt(rcpt)
                if code not in (250, 251):
                    refused.append(f"{rcpt} ({code})")
            if len(refused) == len(recipients):
                raise NotDelivered(f"{where} refused every recipient: {', '.join(refused)[:300]}",
                                   transient=all(" (4" in r for r in refused))
        except smtplib.SMTPResponseException as exc:
            raise NotDelivered(f"{where} refused: {_reply(exc)}", transient=exc.smtp_code < 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise NotDelivered(f"{where}: {exc}", transient=True) from None
        if before_data is not None:
            before_data()
        try:
            code, reply = conn.data(message.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPResponseException as exc:  # the server answered: not accepted
            raise NotDelivered(f"{where} did not accept the message: {_reply(exc)}",
                               transient=exc.smtp_code < 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryInDoubt(f"{where}: connection lost while sending the message: {exc}") from None
        if code != 250:  # smtplib returns the reply to the message itself instead of raising
            raise NotDelivered(f"{where} did not accept the message: {_reply(smtplib.SMTPResponseException(code, reply))}",
                               transient=400 <= code < 500)
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


def write_eml(message: EmailMessage, folder: Path, name: str) -> Path:
    """Write ``message`` as ``folder/name`` (``.eml``, CRLF line ends) atomically; returns the path."""
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(message.as_bytes(policy=SMTP_POLICY))
        path = folder / name
        os.replace(tmp, path)
    except OSError as exc:
        raise LookalikeError(f"cannot write {folder / name}: {exc.strerror or exc}") from None
    return path
