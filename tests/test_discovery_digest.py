"""The digest's "new look-alike domains" section: each owner hears of its own brands' new candidates once,
escaped; a digest with only new domains is still sent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import idna
import pytest
from digest_support import T0, SMTPTestServer, mail_settings, parts_text, seed
from sqlalchemy import select

from matching.domains import DomainHit
from services.digests import send_digests
from services.discovery.candidates import record_hits
from storage.db import Database
from storage.models import Brand

NOW = T0 + dt.timedelta(hours=6)


@pytest.fixture
def setup(db_url: str, tmp_path: Path):
    with SMTPTestServer() as smtp:
        settings = mail_settings(tmp_path, db_url, smtp_host="127.0.0.1", smtp_port=smtp.port)
        with Database.opened(db_url) as database:
            seed(database, settings)
            yield database, settings, smtp


def _candidate(database, brand: str, domain: str, *, at: dt.datetime) -> None:
    with database.session() as session:
        brand_id = session.scalar(select(Brand.id).where(Brand.name == brand))
        record_hits(session, [DomainHit(domain=domain, ascii_domain=idna.encode(domain).decode(), brand_id=brand_id,
                                        mark=brand, disguise="exact", score=0.8,
                                        reasons=("spells the mark <b>" + brand + "</b>",))],
                    feed="ct:log.example", now=at)


def test_new_look_alike_domains_section_once_per_owner(setup) -> None:
    database, settings, smtp = setup
    _candidate(database, "Fullips", "fullips-outlet.shop", at=T0)
    _candidate(database, "Nordvik", "nordvik-sale.store", at=T0)
    run = send_digests(database, settings, now=NOW)
    assert run.counts["sent"] == 2, run.lines()
    mails = {",".join(sorted(r)): m for r, m in smtp.inbox.messages}
    alder = mails["alder@example.com,legal@alder.example"]
    text, html, _csv, _names = parts_text(alder)
    assert "== New look-alike domains ==" in text and "fullips-outlet.shop" in text
    assert "New look-alike domains" in html and "&lt;b&gt;Fullips&lt;/b&gt;" in html
    assert "nordvik" not in text.lower() and "look-alike domain(s)" in str(alder["Subject"])
    assert "nordvik-sale.store" in parts_text(mails["birch@example.com"])[0]

    # A day later: only a new domain, no match change -> a digest with just that domain.
    later = NOW + dt.timedelta(days=1)
    _candidate(database, "Fullips", "fullіps.store", at=later - dt.timedelta(hours=1))
    smtp.inbox.messages.clear()
    again = send_digests(database, settings, now=later)
    assert again.counts["sent"] == 1, again.lines()
    text = parts_text(smtp.inbox.messages[0][1])[0]
    assert "fullіps.store (xn--" in text and "fullips-outlet.shop" not in text
