"""The Domains page of the review app (in process over ASGI): filters, a candidate's evidence and history,
approve and dismiss with CSRF, owners see only their brands' domains and cannot decide, hostile names escaped."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from webapp_support import AppClient, add_users, build_world, make_settings

from matching.domains import DomainHit
from services.discovery.candidates import record_hits
from storage.db import Database
from storage.models import DomainCandidate, DomainEvent
from webapp.app import create_app

HOSTILE = "<script>alert('d')</script>"


@pytest.fixture
def app(tmp_path, db_url):
    settings = make_settings(tmp_path / "data", db_url)
    world = build_world(settings)
    add_users(settings)
    with Database.opened(settings.database_url) as database, database.session() as session:
        def hit(domain: str, brand: int, score: float, reasons=("spells the mark",)) -> DomainHit:
            return DomainHit(domain=domain, ascii_domain=domain, brand_id=brand, mark="Fullips", disguise="exact",
                             score=score, reasons=reasons)
        record_hits(session, [hit("fullips-outlet.shop", world.fullips, 0.8, (f"reason {HOSTILE}",)),
                              hit("fullips-sale.com", world.fullips, 0.6)], feed="ct:log.test")
        record_hits(session, [hit("glowwe-store.net", world.glowwe, 0.7)], feed="nrd:list.txt")
        ids = dict(session.execute(select(DomainCandidate.domain, DomainCandidate.id)).all())
    application = create_app(settings)
    application.state.ids = ids
    yield application
    application.state.review.database.dispose()


@pytest.fixture
def login(app):
    opened: list[AppClient] = []

    def as_user(name: str) -> AppClient:
        opened.append(AppClient(app))
        assert opened[-1].login(name).status_code == 303
        return opened[-1]

    yield as_user
    for c in opened:
        c.close()


def test_analyst_filters_and_decides_with_csrf(app, login) -> None:
    ana = login("ana")
    page = ana.get("/domains")
    assert page.status_code == 200
    assert "fullips-outlet.shop" in page.text and "glowwe-store.net" in page.text
    assert "glowwe" not in ana.get("/domains?feed=ct").text.replace("Glowwe", "")
    assert "fullips-sale.com" not in ana.get("/domains?min_score=0.65").text
    one = app.state.ids["fullips-outlet.shop"]
    detail = ana.get(f"/domains/{one}")
    assert HOSTILE not in detail.text and "&lt;script&gt;" in detail.text
    refused = ana.post(f"/domains/{one}/decide", data={"action": "approve"})
    assert refused.status_code == 403
    token = re.search(r'name="csrf" value="([^"]+)"', detail.text).group(1)
    done = ana.post(f"/domains/{one}/decide", data={"action": "approve", "csrf": token, "note": "a shop"})
    assert done.status_code == 303
    assert "new -&gt; approved: a shop" in ana.get(f"/domains/{one}").text
    assert "fullips-outlet.shop" in ana.get("/domains?status=approved").text
    with Database.opened(app.state.review.settings.database_url) as database, database.session() as session:
        assert session.scalar(select(DomainEvent.actor).where(DomainEvent.action == "approved")) == "ana"


def test_owners_see_only_their_brands_and_cannot_decide(app, login) -> None:
    etal = login("etal")
    listed = etal.get("/domains").text
    assert "fullips-outlet.shop" in listed and "glowwe-store.net" not in listed
    assert etal.get(f"/domains/{app.state.ids['glowwe-store.net']}").status_code == 404
    one = app.state.ids["fullips-sale.com"]
    token = etal.csrf(f"/domains/{one}")
    assert "Approve" not in etal.get(f"/domains/{one}").text
    assert etal.post(f"/domains/{one}/decide", data={"action": "dismiss", "csrf": token}).status_code == 403
    assert etal.get(f"/domains/{one}/screenshot").status_code == 404
