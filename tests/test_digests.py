"""Owner digests delivered to an SMTP server on loopback and parsed back with the ``email`` package."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from digest_support import HOSTILE_TITLE, T0, SMTPTestServer, mail_settings, parts_text, seed
from sqlalchemy import select

from services import charts
from services.digestmail import image_parts
from services.digests import digest_charts, send_digests
from services.review import set_status
from storage.db import Database
from storage.models import Digest, DigestItem, Match, Owner

NOW = T0 + dt.timedelta(hours=6)


@pytest.fixture
def smtp():
    with SMTPTestServer() as server:
        yield server


@pytest.fixture
def setup(db_url: str, tmp_path: Path, smtp: SMTPTestServer):
    settings = mail_settings(tmp_path, db_url, smtp_host="127.0.0.1", smtp_port=smtp.port)
    with Database.opened(db_url) as database:
        world = seed(database, settings)
        yield database, settings, world, smtp


def by_recipient(smtp: SMTPTestServer) -> dict[str, object]:
    return {",".join(sorted(rcpts)): msg for rcpts, msg in smtp.inbox.messages}


def test_each_owner_gets_only_its_brands_with_photos_and_links(setup) -> None:
    database, settings, world, smtp = setup
    run = send_digests(database, settings, now=NOW)
    assert run.counts["sent"] == 2 and run.counts["failed"] == 0, run.lines()
    mails = by_recipient(smtp)
    assert set(mails) == {"alder@example.com,legal@alder.example", "birch@example.com"}

    alder = mails["alder@example.com,legal@alder.example"]
    text, html, csv_text, names = parts_text(alder)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    expected = {world.matches[k] for k in world.matches if k[1] in ("Fullips", "Glowra")}
    assert {int(r["match_id"]) for r in rows} == expected
    assert {r["brand"] for r in rows} == {"Fullips", "Glowra"}
    # the shared listing appears with Alder's match (Fullips, 0.81), not Birch's (Nordvik, 0.64)
    shared = [r for r in rows if "bundle" in r["title"]]
    assert len(shared) == 1 and shared[0]["brand"] == "Fullips" and shared[0]["score"] == "0.8100"
    # strongest first
    assert [float(r["score"]) for r in rows] == sorted((float(r["score"]) for r in rows), reverse=True)
    # the reasons are the typed evidence's sentences (those that counted), not a stored copy
    assert {r["reasons"] for r in rows} >= {"title names Fullips | price 67% below MSRP"}
    assert "stored sentence" not in text + html + csv_text and "no lip words" not in text + html + csv_text
    for part in (text, html, csv_text, " ".join(names), str(alder["Subject"])):
        assert "Nordvik" not in part and "Birch" not in part
    # thumbnails attached by Content-ID and referenced from the HTML, no remote image
    images = image_parts(alder)
    photos = {cid: data for cid, data in images.items() if not cid.startswith("chart-")}
    chart_cids = [cid for cid in images if cid.startswith("chart-")]
    assert len(photos) == 2 * len(expected)
    # The world has suspects and sellers but no decision or notice yet: empty charts stay out of the mail.
    assert sorted(c.split(".")[0] for c in chart_cids) == ["chart-sellers", "chart-suspects"]
    assert all(images[c][:8] == b"\x89PNG\r\n\x1a\n" for c in chart_cids)
    # the charts head the digest: every chart comes before the first listing photo
    assert max(html.index(f'src="cid:{c}"') for c in chart_cids) < min(html.index(f'src="cid:{c}"') for c in photos)
    assert "https://review.example/app/dashboard/suspects.csv" in html
    for cid in images:
        assert f'src="cid:{cid}"' in html
    assert "<img" in html and 'src="http' not in html
    for match_id in expected:
        assert f"https://review.example/app/matches/{match_id}" in html
        assert f"https://review.example/app/matches/{match_id}" in text
    assert alder["Message-ID"]

    birch = mails["birch@example.com"]
    text, html, csv_text, names = parts_text(birch)
    for part in (text, html, csv_text, " ".join(names)):
        assert "Fullips" not in part and "Glowra" not in part
        assert "Alder" not in part
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert {r["brand"] for r in rows} == {"Nordvik"} and len(rows) == 2


def test_hostile_title_is_escaped_literal_and_injects_no_header(setup) -> None:
    database, settings, world, smtp = setup
    send_digests(database, settings, now=NOW)
    alder = by_recipient(smtp)["alder@example.com,legal@alder.example"]
    text, html, csv_text, _ = parts_text(alder)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in text  # literal in the plain text
    assert "\r\nBcc" not in text and "Bcc: victim@example.com" in text  # on the title's line, not a header
    assert alder["Bcc"] is None and "victim" not in str(alder["To"])
    hostile = next(r for r in csv.DictReader(io.StringIO(csv_text)) if "script" in r["title"])
    assert hostile["title"].startswith("'=HYPERLINK")  # shown as text by spreadsheets, never run
    assert HOSTILE_TITLE.split("\r")[0] in hostile["title"]
    assert "=HYPERLINK(&#34;http://evil&#34;)" in html or "=HYPERLINK(&quot;http://evil&quot;)" in html


def test_second_run_sends_nothing_then_only_what_changed(setup) -> None:
    database, settings, world, smtp = setup
    send_digests(database, settings, now=NOW)
    assert len(smtp.inbox.messages) == 2
    again = send_digests(database, settings, now=NOW + dt.timedelta(days=1))
    assert len(smtp.inbox.messages) == 2 and again.counts["skipped"] == 2
    assert {r.reason for r in again.results} == {"nothing new"}

    with database.session() as s:
        set_status(s, world.matches[("fl-1", "Fullips")], "reported", actor="analyst")
        m = s.get(Match, world.matches[("gl-1", "Glowra")])
        m.klass, m.score = "lookalike", 0.6
        tiny = s.get(Match, world.matches[("fl-2", "Fullips")])
        tiny.score += 0.01  # below digest_score_change: not news
    not_due = send_digests(database, settings, now=NOW + dt.timedelta(hours=8))
    assert {r.reason.split(" (")[0] for r in not_due.results} == {"not due"}
    third = send_digests(database, settings, now=NOW + dt.timedelta(days=2))
    assert third.counts["sent"] == 1 and len(smtp.inbox.messages) == 3
    _, message = smtp.inbox.messages[-1]
    rows = list(csv.DictReader(io.StringIO(parts_text(message)[2])))
    assert {(int(r["match_id"]), r["change"]) for r in rows} == {
        (world.matches[("fl-1", "Fullips")], "reported"), (world.matches[("gl-1", "Glowra")], "class")}
    text = parts_text(message)[0]
    assert "REPORTED TO THE MARKETPLACE" in text and "class changed from counterfeit to lookalike" in text.lower()


def test_smtp_refusing_then_rerun_sends_everything(setup) -> None:
    database, settings, world, smtp = setup
    smtp.inbox.refuse = True
    failed = send_digests(database, settings, now=NOW)
    assert failed.counts["failed"] == 2 and smtp.inbox.messages == []
    assert all("after 4 attempt(s)" in r.reason for r in failed.results)  # smtp_retries=3 -> 4 attempts
    smtp.inbox.refuse = False
    later = send_digests(database, settings, now=NOW + dt.timedelta(minutes=30))
    assert later.counts["sent"] == 2
    rows = [r for _, m in smtp.inbox.messages for r in csv.DictReader(io.StringIO(parts_text(m)[2]))]
    assert {int(r["match_id"]) for r in rows} == set(world.matches.values())
    with database.session() as s:
        statuses = sorted(s.scalars(select(Digest.status)))
    assert statuses == ["failed", "failed", "sent", "sent"]


def test_connection_refused_is_retried_with_backoff(db_url: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = mail_settings(tmp_path, db_url, smtp_host="127.0.0.1", smtp_port=port, smtp_retries=2,
                             smtp_retry_delay=1.5)
    waits: list[float] = []
    with Database.opened(db_url) as database:
        seed(database, settings)
        run = send_digests(database, settings, owner="Birch Outdoor", now=NOW, sleep=waits.append)
    assert run.counts["failed"] == 1 and waits == [1.5, 3.0]
    assert "cannot connect" in run.results[0].reason


def test_preferences_off_switch_min_score_and_classes(setup) -> None:
    database, settings, world, smtp = setup
    with database.session() as s:
        alder = s.get(Owner, world.owners["Alder Cosmetics"])
        alder.digest_min_score, alder.digest_classes = 0.8, ["counterfeit"]
        s.get(Owner, world.owners["Birch Outdoor"]).digest_enabled = False
    run = send_digests(database, settings, now=NOW)
    assert [r.reason for r in run.results if r.owner == "Birch Outdoor"] == ["digest switched off"]
    (rcpts, message), = smtp.inbox.messages
    rows = list(csv.DictReader(io.StringIO(parts_text(message)[2])))
    assert {(r["brand"], r["score"]) for r in rows} == {("Fullips", "0.9500"), ("Glowra", "0.8800"),
                                                        ("Fullips", "0.8100")}


def test_dry_run_records_nothing_and_file_delivery_writes_eml(setup, tmp_path: Path) -> None:
    database, settings, world, smtp = setup
    dry = send_digests(database, settings, now=NOW, dry_run=True, out_dir=tmp_path / "preview")
    assert dry.counts["planned"] == 2 and len(list((tmp_path / "preview").glob("*.eml"))) == 2
    with database.session() as s:
        assert s.scalars(select(Digest)).first() is None
    written = send_digests(database, settings, now=NOW, out_dir=tmp_path / "out")
    assert written.counts["written"] == 2 and smtp.inbox.messages == []
    import email
    import email.policy

    for path in (tmp_path / "out").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message.get_body(("html",)) is not None and image_parts(message)
    with database.session() as s:
        assert s.scalar(select(DigestItem.id).limit(1)) is not None


def test_weekly_owner_waits_a_week(setup) -> None:
    database, settings, world, smtp = setup
    with database.session() as s:
        s.get(Owner, world.owners["Birch Outdoor"]).digest_frequency = "weekly"
    send_digests(database, settings, owner="Birch Outdoor", now=NOW)
    with database.session() as s:
        set_status(s, world.matches[("nv-1", "Nordvik")], "confirmed", actor="analyst")
    assert send_digests(database, settings, owner="Birch Outdoor", now=NOW + dt.timedelta(days=3)).counts["skipped"] == 1
    assert send_digests(database, settings, owner="Birch Outdoor", now=NOW + dt.timedelta(days=7)).counts["sent"] == 1


def test_digest_charts_count_only_the_owners_brands(setup, monkeypatch) -> None:
    database, settings, world, _ = setup
    drawn = {}
    monkeypatch.setattr(charts, "draw", lambda table, fmt: drawn.setdefault(table.name, table) and b"png")
    with database.session() as session:
        birch = session.scalars(select(Owner).where(Owner.name.like("Birch%"))).one()
        digest_charts(session, birch.id, settings=settings, now=NOW)
    birch_matches = {world.matches[k] for k in world.matches if k[1] == "Nordvik"}
    assert sum(row[-1] for row in drawn["suspects"].rows) == len(birch_matches)
    assert set(drawn) == {"suspects", "sellers"}  # the charts with something in the period
