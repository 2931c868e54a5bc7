"""The Network page in Chromium: an analyst opens a network from a match, sees why each seller belongs,
confirms the network's suspects after the count, and gets one takedown pack per marketplace (and brand)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from webapp_support import PASSWORD, LiveServer, add_users, make_settings

from storage.db import Database
from storage.models import Listing, Match
from tests.networks_support import build_network_web_world
from webapp.app import create_app


@pytest.fixture
def live(tmp_path):
    settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'networks.db'}")
    build_network_web_world(settings)
    add_users(settings)
    app = create_app(settings)
    with LiveServer(app) as server:
        yield settings, server
    app.state.review.database.dispose()


def test_open_a_network_from_a_match_confirm_it_and_get_one_pack_per_marketplace(browser, live, tmp_path):
    settings, server = live
    with Database.opened(settings.database_url) as db, db.session() as s:
        match_id = s.scalars(select(Match.id).join(Listing, Listing.id == Match.listing_id)
                             .where(Listing.seller == "Quillon Goods")).one()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url)
    page = context.new_page()
    try:
        page.goto(f"/matches/{match_id}")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(rf"/matches/{match_id}"))

        page.click("a.network-link")
        page.wait_for_url(re.compile(r"/networks/\d+$"))
        assert page.inner_text("#network-sellers") == "3"
        assert page.locator("#network-graph line.link.strong").count() >= 2
        assert page.locator("#network-graph circle.seller").count() == 3
        why = {el.get_attribute("data-seller"): el.inner_text() for el in page.query_selector_all("article.seller-why")}
        assert len(why) == 3
        for text in why.values():  # every seller shows a strong link and the evidence behind it
            assert "Strong link" in text and ("+447911123456" in text or "sales@marlowfinch.com" in text)
        totals = page.inner_text("#network-totals")
        assert "bazaarly\t3" in totals and "kramwell\t1" in totals
        page.screenshot(path=str(tmp_path / "network.png"), full_page=True)

        page.click("#network-confirm")
        page.wait_for_url(re.compile(r"/confirm$"))
        assert page.inner_text("#bulk-count") == "4"
        page.click("#bulk-apply")
        page.wait_for_url(re.compile(r"\?done=4$"))
        assert "4 suspects confirmed" in page.inner_text("#network-done")
        assert page.locator("#network-suspects tr.status-confirmed").count() == 4

        page.click("#network-packs")
        page.wait_for_selector("#network-pack-list")
        rows = [tuple(td.inner_text() for td in row.query_selector_all("td")[:3])
                for row in page.query_selector_all("#network-pack-list tr.pack")]
        assert sorted(rows) == [("bazaarly", "Fullips", "2"), ("bazaarly", "Glowwe", "1"), ("kramwell", "Fullips", "1")]
        page.screenshot(path=str(tmp_path / "packs.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#network-pack-list tr.pack a")
        assert download.value.suggested_filename.endswith(".zip")
    finally:
        context.close()
    with Database.opened(settings.database_url) as db, db.session() as s:
        assert sum(m.status == "reported" for m in s.scalars(select(Match))) == 4
