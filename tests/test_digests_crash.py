"""Exactly once across a crash: ``lookalike digest send`` killed (SIGKILL) while the SMTP server holds the
message, then run again, never delivers a digest twice, and still delivers the other owners'."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from digest_support import SMTPTestServer, mail_settings, seed
from sqlalchemy import select

from services.digests import send_digests
from storage.db import Database
from storage.models import Digest, utcnow

LOOKALIKE = Path(sys.executable).with_name("lookalike")


def cli_env(tmp_path: Path, db_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOKALIKE_")}
    env.update({"LOOKALIKE_DATA_DIR": str(tmp_path / "data"), "LOOKALIKE_DB_URL": db_url,
                "LOOKALIKE_CONFIG": str(tmp_path / "absent.toml"), "LOOKALIKE_SMTP_HOST": "127.0.0.1",
                "LOOKALIKE_SMTP_PORT": str(port), "LOOKALIKE_SMTP_SECURITY": "none",
                "LOOKALIKE_SMTP_RETRY_DELAY": "0", "LOOKALIKE_DIGEST_LEASE_SECONDS": "10",
                "LOOKALIKE_SMTP_FROM": "digests@lookalike.test"})
    return env


def test_killed_while_sending_then_rerun_sends_nothing_twice(db_url: str, tmp_path: Path) -> None:
    with SMTPTestServer() as smtp, Database.opened(db_url) as database:
        settings = mail_settings(tmp_path, db_url, smtp_host="127.0.0.1", smtp_port=smtp.port,
                                 digest_lease_seconds=10)
        seed(database, settings)
        env = cli_env(tmp_path, db_url, smtp.port)
        log = tmp_path / "child.log"
        with log.open("wb") as out:
            child = subprocess.Popen([str(LOOKALIKE), "digest", "send"], env=env, stdout=out, stderr=out)

        def kill_sender(_content: bytes) -> None:  # the message is here; the sender dies before the reply
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)

        smtp.inbox.on_data = kill_sender
        child.wait(timeout=120)
        assert child.returncode == -signal.SIGKILL, log.read_text()
        smtp.inbox.on_data = None
        assert len(smtp.inbox.messages) == 1  # Alder's digest arrived; Birch's was never started
        first_to = smtp.inbox.messages[0][0]

        # At once: Alder's digest is within its lease (in flight as far as anyone knows): skipped.
        rerun = subprocess.run([str(LOOKALIKE), "digest", "send"], env=env, capture_output=True, text=True,
                               timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert "Alder Cosmetics: skipped" in rerun.stdout and "Birch Outdoor: sent" in rerun.stdout
        assert len(smtp.inbox.messages) == 2

        # After the lease: the interrupted digest is unconfirmed, never re-sent; nothing else is new.
        later = send_digests(database, settings, now=utcnow() + dt.timedelta(minutes=5), force=True)
        assert later.counts["sent"] == 0
        with database.session() as s:
            rows = {d.id: d.status for d in s.scalars(select(Digest).order_by(Digest.id))}
        assert sorted(rows.values()) == ["sent", "unconfirmed"]
        recipients = [tuple(r) for r, _ in smtp.inbox.messages]
        assert len(recipients) == len(set(recipients)) == 2 and tuple(first_to) in recipients


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_dry_run_writes_previews_and_list_shows_digests(db_url: str, tmp_path: Path) -> None:
    with Database.opened(db_url) as database:
        seed(database, mail_settings(tmp_path, db_url))
    env = cli_env(tmp_path, db_url, 1)
    del env["LOOKALIKE_SMTP_HOST"]  # no SMTP: delivery writes .eml files into <data_dir>/digests
    dry = subprocess.run([str(LOOKALIKE), "digest", "send", "--dry-run", "--out", str(tmp_path / "preview")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "2 planned (dry run)" in dry.stdout and len(list((tmp_path / "preview").glob("*.eml"))) == 2
    sent = subprocess.run([str(LOOKALIKE), "digest", "send"], env=env, capture_output=True, text=True, timeout=120)
    assert sent.returncode == 0 and "2 written" in sent.stdout
    assert len(list((tmp_path / "data" / "digests").glob("digest-*.eml"))) == 2
    listed = subprocess.run([str(LOOKALIKE), "digest", "list"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0 and listed.stdout.count("written") == 2
    bad = subprocess.run([str(LOOKALIKE), "digest", "send", "--owner", "Nobody"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "no owner named 'Nobody'" in bad.stderr and "Traceback" not in bad.stderr
