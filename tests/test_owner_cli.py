"""``lookalike users invite|reset``: the link goes out by SMTP (a local server) or as an .eml file, works
once, and never appears in the database."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest
from digest_support import SMTPTestServer
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from services import invitations
from storage.db import Database
from storage.models import Invitation, Owner, User


@pytest.fixture
def smtp():
    with SMTPTestServer() as server:
        yield server


def test_invite_by_smtp_then_reset(settings_env: Path, db_url: str, smtp, monkeypatch) -> None:
    monkeypatch.setenv("LOOKALIKE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LOOKALIKE_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("LOOKALIKE_SMTP_SECURITY", "none")
    monkeypatch.setenv("LOOKALIKE_REVIEW_URL", "https://review.example/app")
    runner = CliRunner()
    done = runner.invoke(app, ["users", "invite", "Ada@LipCo.example", "--company", "Lip Co", "--by", "Sam"])
    assert done.exit_code == 0, done.output
    assert "sent to Ada@LipCo.example" in done.output and "https://" not in done.output
    (rcpts, message), = smtp.inbox.messages
    body = message.get_payload(decode=True).decode() if not message.is_multipart() else message.get_body().get_content()
    url = re.search(r"https://review\.example/app/invite/\S+", body).group(0)
    assert "Sam invited you" in body and "ada@lipco.example" in body
    with Database.opened(db_url) as db, db.session() as s:
        row = s.scalars(select(Invitation)).one()
        assert row.owner_id == s.scalars(select(Owner.id).where(Owner.name == "Lip Co")).one()
        assert url.rsplit("/", 1)[1] not in (row.token_sha256,)
        user = invitations.redeem(s, url.rsplit("/", 1)[1], "invite", "a long enough password")
        assert user.username == "ada@lipco.example" and user.role == "owner" and user.owner_id == row.owner_id
        with pytest.raises(invitations.LinkRefused, match="used already"):
            invitations.redeem(s, url.rsplit("/", 1)[1], "invite", "a long enough password")
    reset = runner.invoke(app, ["users", "reset", "ada@lipco.example"])
    assert reset.exit_code == 0 and "reset link for ada@lipco.example: sent to" in reset.output, reset.output
    assert len(smtp.inbox.messages) == 2
    again = runner.invoke(app, ["users", "invite", "ada@lipco.example", "--company", "Lip Co"])
    assert again.exit_code != 0 and "exists" in str(again.exception)  # the CLI's main prints it as one line


def test_without_smtp_the_link_is_written_to_a_file(settings_env: Path, db_url: str) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["users", "invite", "bo@shop.example", "--company", "Bo", "--print-link"])
    assert done.exit_code == 0, done.output
    (eml,) = (settings_env / "mail").glob("invite-*.eml")
    link = done.output.strip().splitlines()[-1]
    assert link.startswith("http") and "/invite/" in link
    assert link in email.message_from_bytes(eml.read_bytes()).get_payload(decode=True).decode()
    bad = runner.invoke(app, ["users", "invite", "not-an-address"])
    assert bad.exit_code != 0 and "not-an-address" in str(bad.exception)
    nobody = runner.invoke(app, ["users", "reset", "nobody"])
    assert nobody.exit_code != 0 and "no user named 'nobody'" in str(nobody.exception)
    with Database.opened(db_url) as db, db.session() as s:
        assert s.scalars(select(User)).all() == []
