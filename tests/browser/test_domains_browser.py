"""The Domains page in Chromium: a hostile look-alike name and reasons shown as text, the screenshot kept by
the check, approve with the form (CSRF), an owner sees only its brand's domains; screenshots for the docs."""

from __future__ import annotations

import re
from pathlib import Path

import idna
import pytest
from PIL import Image
from webapp_support import PASSWORD, LiveServer, add_users, build_world, make_settings

from matching.domains import DomainHit
from services.discovery.candidates import record_hits
from services.evidence import EvidenceStore
from storage.db import Database
from storage.models import DomainCandidate
from webapp.app import create_app

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
HOSTILE = "<img src=x onerror=alert('reason')>"


@pytest.fixture
def live(tmp_path):
    settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'review.db'}")
    world = build_world(settings)
    add_users(settings)
    shot = tmp_path / "shot.png"
    Image.new("RGB", (640, 400), (240, 200, 210)).save(shot)
    sha, relative = EvidenceStore(settings.evidence_dir).put(shot.read_bytes(), ext="png")
    with Database.opened(settings.database_url) as database, database.session() as session:
        hits = [DomainHit(domain="fullіps-outlet.shop", ascii_domain=idna.encode("fullіps-outlet.shop").decode(), brand_id=world.fullips,
                          mark="Fullips", disguise="homoglyph", score=0.9,
                          reasons=("spells the mark 'Fullips' (homoglyph)", "sales words: outlet",
                                   f"mixed scripts {HOSTILE}")),
                DomainHit(domain="glowwe-sale.com", ascii_domain="glowwe-sale.com", brand_id=world.glowwe,
                          mark="Glowwe", disguise="exact", score=0.75, reasons=("spells the mark 'Glowwe'",))]
        record_hits(session, hits, feed="ct:log.example/2026h1")
        candidate = session.query(DomainCandidate).filter_by(mark="Fullips").one()
        candidate.kind = "shop"
        candidate.check = {"addresses": ["203.0.113.7"], "final_url": f"https://{idna.encode('fullіps-outlet.shop').decode()}/",
                           "title": "Fullips Outlet 70% off", "names_brand": True,
                           "reasons": ["a shop: a product offer"],
                           "evidence": {"screenshot": relative, "screenshot_sha256": sha, "warc_sha256": "0" * 64,
                                        "captured_at": "2026-12-07T02:00:00+00:00"}}
    app = create_app(settings)
    with LiveServer(app) as server:
        yield server
    app.state.review.database.dispose()


def _login(page, username: str) -> None:
    page.goto("/queue")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/queue"))


def test_domains_page_in_chromium(browser, live) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 900}, base_url=live.url)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _login(page, "ana")
    page.click("nav >> text=Domains")
    page.wait_for_url(re.compile(r"/domains$"))
    assert page.locator("table.domains tbody tr").count() == 2
    page.select_option("select[name=brand]", "Fullips")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"brand=Fullips"))
    DOCS_IMAGES.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS_IMAGES / "domains-list.png"), full_page=True)
    page.click("table.domains a")
    page.wait_for_selector("img.screenshot")
    assert HOSTILE in page.inner_text("ul.reasons"), "hostile reasons are shown as text"
    assert page.eval_on_selector("img.screenshot", "i => i.naturalWidth") == 640
    assert page.inner_text("h1 mark.foreign") == "і", "the look-alike letter is marked"
    assert "CYRILLIC" in page.inner_text("p.warning")
    page.fill("input[name=note]", "sells fake plumpers")
    page.click("button[value=approve]")
    page.wait_for_selector("dd.status >> text=approved")
    page.screenshot(path=str(DOCS_IMAGES / "domain-approved.png"), full_page=True)
    assert "new -> approved: sells fake plumpers" in page.inner_text("table.history")
    assert dialogs == []
    context.close()

    owner = browser.new_context(viewport={"width": 1300, "height": 900}, base_url=live.url)
    tab = owner.new_page()
    _login(tab, "otherco")
    tab.goto("/domains")
    assert "glowwe-sale.com" in tab.inner_text("main") and "outlet" not in tab.inner_text("table.domains")
    assert tab.locator("button[value=approve]").count() == 0
    owner.close()
