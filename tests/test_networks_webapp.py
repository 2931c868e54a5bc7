"""The Network page in process: evidence shown, links from match and seller pages, tenant isolation,
confirming the network after the count, one pack per marketplace."""

from __future__ import annotations

import re
import zipfile

import pytest
from sqlalchemy import select
from webapp_support import AppClient, add_users, make_settings

from storage.db import Database
from storage.models import Brand, Match, TakedownPack
from tests.networks_support import build_network_web_world
from webapp.app import create_app


@pytest.fixture
def web(tmp_path, db_url):
    settings = make_settings(tmp_path / "data", db_url)
    info = build_network_web_world(settings)
    add_users(settings)
    app = create_app(settings)
    clients = []

    def client(user):
        c = AppClient(app)
        c.login(user)
        clients.append(c)
        return c

    yield settings, info["network_id"], client
    for c in clients:
        c.close()
    app.state.review.database.dispose()


def test_network_page_shows_why_each_seller_belongs(web):
    settings, nid, client = web
    ana = client("ana")
    page = ana.get(f"/networks/{nid}")
    assert page.status_code == 200
    text = page.text
    assert "Network" in text and "<svg" in text and 'class="link strong"' in text
    assert "+447911123456" in text and "sales@marlowfinch.com" in text
    assert "Marl0w &amp; Finch" in text and "Quillon Goods" in text and "Velvora Store" in text
    assert re.search(r"bazaarly</td><td>3</td>", text) and re.search(r"kramwell</td><td>1</td>", text)
    assert "Unrelated" not in text
    # The match page and the seller page link to the network.
    with Database.opened(settings.database_url) as db, db.session() as s:
        match_id = s.scalars(select(Match.id).order_by(Match.id)).first()
    assert f'href="/networks/{nid}"' in ana.get(f"/matches/{match_id}").text
    assert f'href="/networks/{nid}"' in ana.get("/sellers?name=Quillon%20Goods").text
    assert f'href="/networks/{nid}"' in ana.get("/networks").text


def test_owners_see_only_the_parts_touching_their_brands(web):
    _, nid, client = web
    etal = client("etal").get(f"/networks/{nid}").text
    assert "Quillon Goods" in etal and "Marl0w" in etal and "Velvora" not in etal
    assert "Glowwe" not in etal and "1 more seller" in etal
    other = client("otherco").get(f"/networks/{nid}").text
    assert "Velvora" in other and "Quillon" not in other and "Fullips" not in other
    assert "+447911123456" not in other  # the phone links two sellers otherco cannot see
    assert "Owner accounts look" in other and 'id="network-confirm"' not in other


def test_network_confirm_after_the_count_then_one_pack_per_marketplace(web):
    settings, nid, client = web
    ana = client("ana")
    form = ana.get(f"/networks/{nid}/confirm").text
    assert 'id="bulk-count">4<' in form
    token = ana.csrf(f"/networks/{nid}")
    stale = ana.post(f"/networks/{nid}/confirm", data={"csrf": token, "expected": "3"})
    assert stale.status_code == 200 and "The set changed" in stale.text
    done = ana.post(f"/networks/{nid}/confirm", data={"csrf": token, "expected": "4"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=4")
    with Database.opened(settings.database_url) as db, db.session() as s:
        statuses = [m.status for m in s.scalars(select(Match).where(Match.score == 0.95))]
    assert statuses.count("confirmed") == 4
    packs = ana.post(f"/networks/{nid}/packs", data={"csrf": token})
    assert packs.status_code == 200
    rows = re.findall(r'<tr class="pack"><td>([^<]+)</td><td>([^<]+)</td><td>(\d+)</td>', packs.text)
    assert sorted(rows) == [("bazaarly", "Fullips", "2"), ("bazaarly", "Glowwe", "1"), ("kramwell", "Fullips", "1")], \
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", packs.text))[-1200:]
    link = re.search(r'href="(/networks/\d+/packs/[0-9a-f-]+\.zip)"', packs.text).group(1)
    zipped = ana.get(link)
    assert zipped.status_code == 200
    zip_path = settings.data_dir / "z.zip"
    zip_path.write_bytes(zipped.content)
    with zipfile.ZipFile(zip_path) as z:
        assert "manifest.json" in z.namelist()
    with Database.opened(settings.database_url) as db, db.session() as s:
        assert len(s.scalars(select(TakedownPack)).all()) == 3
        statuses = [m.status for m in s.scalars(select(Match).where(Match.score == 0.95))]
        assert statuses.count("reported") == 4 and statuses.count("new") == 3  # the unrelated sellers' stay open
    # An owner may not act, and may not fetch another owner's pack.
    other = client("otherco")
    assert other.post(f"/networks/{nid}/packs", data={"csrf": other.csrf(f"/networks/{nid}")}).status_code == 403
    with Database.opened(settings.database_url) as db, db.session() as s:
        pack_brands = {p.id: p.brand_id for p in s.scalars(select(TakedownPack))}
        glowwe = s.scalars(select(Brand.id).where(Brand.name == "Glowwe")).one()
    for pack_id, brand_id in pack_brands.items():
        expected = 200 if brand_id == glowwe else 404
        assert other.get(f"/networks/{nid}/packs/{pack_id}.zip").status_code == expected


def test_a_network_outside_scope_or_missing_is_not_found(web):
    _, nid, client = web
    ana = client("ana")
    assert ana.get(f"/networks/{nid + 100}").status_code == 404


def test_the_queue_sorts_by_impact_when_asked(web):
    settings, nid, client = web
    ana = client("ana")
    page = ana.get("/queue?sort=impact&status=any")
    assert page.status_code == 200 and "impact: largest network first" in page.text
    ids = [int(i) for i in re.findall(r'<tr[^>]*data-id="(\d+)"', page.text)]
    with Database.opened(settings.database_url) as db, db.session() as s:
        from storage.models import Listing
        in_network = {m.id for m in s.scalars(select(Match).join(Listing, Listing.id == Match.listing_id)
                                              .where(Listing.seller.in_(["Marl0w & Finch", "Quillon Goods",
                                                                         "Velvora Store"])))}
    assert len(ids) == 7 and set(ids[:4]) == in_network  # the network's suspects first
    assert "Unrelated" in ana.get("/queue?sort=impact&status=any").text
