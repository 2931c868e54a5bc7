"""The dashboard: its tables count what the database holds, within the viewer's brands; charts and CSV
are drawn from the same rows; hostile names stay inert; bad parameters get a one-line error or 404."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from xml.etree import ElementTree

import pytest
from sqlalchemy import select
from webapp_support import T0, AppClient, World, add_users, build_world, make_settings

from services import charts
from services.dashboard import build_dashboard
from services.review import set_status
from storage.db import Database
from storage.models import Listing, Marketplace, Match
from webapp.app import create_app

UNTIL = T0.date().isoformat()


@pytest.fixture
def world(tmp_path, db_url) -> World:
    settings = make_settings(tmp_path / "data", db_url)
    built = build_world(settings)
    add_users(settings)
    return built


@pytest.fixture
def app(world):
    application = create_app(world.settings)
    yield application
    application.state.review.database.dispose()


@pytest.fixture
def login(app):
    opened: list[AppClient] = []

    def as_user(username: str) -> AppClient:
        opened.append(AppClient(app))
        assert opened[-1].login(username).status_code == 303
        return opened[-1]

    yield as_user
    for client in opened:
        client.close()


def expected_suspects(world: World, brand_ids: set[int] | None) -> Counter:
    """(night, marketplace, class) -> matches, counted in Python from the rows themselves."""
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        rows = s.execute(select(Match.created_at, Marketplace.name, Match.klass, Match.brand_id)
                         .join(Listing, Listing.id == Match.listing_id)
                         .join(Marketplace, Marketplace.id == Listing.marketplace_id)).all()
    out: Counter = Counter()
    for created, market, klass, brand in rows:
        if brand_ids is None or brand in brand_ids:
            created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
            out[(created.astimezone(dt.UTC).date().isoformat(), market, klass)] += 1
    return out


def test_suspects_per_night_count_every_match_of_the_scope(world):
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        every = build_dashboard(s, None, days=30, now=T0)
        own = build_dashboard(s, frozenset({world.fullips}), days=30, now=T0)
        one = build_dashboard(s, None, days=30, now=T0, brand_id=world.glowwe)
    got = {row[:3]: row[3] for row in every.table("suspects").rows}
    assert got == expected_suspects(world, None)
    assert len({night for night, *_ in got}) == 2  # the world's suspects were found on two nights
    assert {row[:3]: row[3] for row in own.table("suspects").rows} == expected_suspects(world, {world.fullips})
    assert {row[:3]: row[3] for row in one.table("suspects").rows} == expected_suspects(world, {world.glowwe})
    assert own.brands == ((world.fullips, "Fullips"),)


def test_the_period_bounds_the_nights(world):
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        last_day = build_dashboard(s, None, days=1, now=T0)
        before = build_dashboard(s, None, days=30, now=T0 - dt.timedelta(days=5))
    assert {row[0] for row in last_day.table("suspects").rows} == {UNTIL}
    assert before.table("suspects").rows == ()


def test_decisions_count_people_not_the_scan(world):
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        assert build_dashboard(s, None, now=T0).table("decisions").rows == ()  # the scan's events are not decisions
        for match_id in world.fullips_matches[:3]:
            set_status(s, match_id, "confirmed", actor="ana")
        set_status(s, world.glowwe_matches[0], "dismissed", actor="ana")
        s.flush()
        every = build_dashboard(s, None).table("decisions")
        own = build_dashboard(s, frozenset({world.fullips})).table("decisions")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert set(every.rows) == {(today, "confirmed", 3), (today, "dismissed", 1)}
    assert own.rows == ((today, "confirmed", 3),)


def test_owner_pages_show_only_their_brands_and_404_outside(app, world, login):
    owner = login("etal")
    page = owner.get(f"/dashboard?until={UNTIL}")
    assert page.status_code == 200
    assert "Glowwe" not in page.text and "Glow Deals" not in page.text
    for name in ("suspects", "decisions", "takedowns", "sellers"):
        assert f"/dashboard/{name}.svg" in page.text and f"/dashboard/{name}.csv" in page.text
    assert owner.get(f"/dashboard?brand={world.glowwe}").status_code == 404
    assert owner.get(f"/dashboard/suspects.csv?brand={world.glowwe}").status_code == 404
    assert owner.get(f"/dashboard?brand={world.fullips}&until={UNTIL}").status_code == 200
    rows = list(csv.DictReader(io.StringIO(owner.get(f"/dashboard/suspects.csv?until={UNTIL}").text)))
    got = Counter({(r["night"], r["marketplace"], r["class"]): int(r["suspects"]) for r in rows})
    assert got == expected_suspects(world, {world.fullips})
    sellers = owner.get(f"/dashboard/sellers.csv?until={UNTIL}").text
    assert "Glow Deals" not in sellers and "Deals 1" in sellers


def test_the_page_table_and_the_csv_give_the_same_numbers(app, world, login):
    analyst = login("ana")
    html = analyst.get(f"/dashboard?until={UNTIL}").text
    figure = re.search(r'<figure class="chart" id="chart-suspects".*?</figure>', html, re.S).group(0)
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(<td>.*?)</tr>", figure, re.S)]
    rows = list(csv.reader(io.StringIO(analyst.get(f"/dashboard/suspects.csv?until={UNTIL}").text)))[1:]
    assert cells == rows and len(rows) >= 3


def test_charts_are_real_images(app, world, login):
    analyst = login("ana")
    svg = analyst.get(f"/dashboard/suspects.svg?until={UNTIL}")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content[:500] and b"<path" in svg.content
    png = analyst.get(f"/dashboard/takedowns.png?until={UNTIL}")
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    again = analyst.get(f"/dashboard/suspects.svg?until={UNTIL}", headers={"if-none-match": svg.headers["etag"]})
    assert again.status_code == 304 and not again.content  # unchanged numbers: not drawn again
    other = analyst.get(f"/dashboard/suspects.svg?until={UNTIL}&days=1", headers={"if-none-match": svg.headers["etag"]})
    assert other.status_code == 200 and other.headers["etag"] != svg.headers["etag"]
    assert analyst.get("/dashboard/other.svg").status_code == 404
    assert analyst.get("/dashboard/suspects.gif").status_code == 404


@pytest.mark.parametrize("query", ["days=0", "days=9999", "days=x", "brand=abc", "brand=0"])
def test_bad_parameters_are_404(app, world, login, query):
    assert login("ana").get(f"/dashboard?{query}").status_code == 404


def test_a_bad_date_gets_a_one_line_error(app, world, login):
    answer = login("ana").get("/dashboard?until=yesterday")
    assert answer.status_code == 400 and "until must be a date" in answer.text


def test_hostile_seller_names_are_inert_in_charts_and_csv(world):
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        listing = s.scalars(select(Listing).where(Listing.seller.like("<script>%"))).one()
        listing.seller = hostile = "=HYPERLINK(\"http://evil.test\") $x^2$ --> <script>alert(1)</script>"
        s.flush()
        table = build_dashboard(s, None, now=T0).table("sellers")
    svg = charts.draw(table, "svg")
    # Text is drawn as paths; matplotlib keeps it only in an escaped comment that "-->" cannot close.
    assert b"<script" not in svg
    assert not [e for e in ElementTree.fromstring(svg).iter() if e.tag.rsplit("}", 1)[-1] in ("script", "foreignObject")]
    assert charts.draw(table, "png")[:4] == b"\x89PNG"
    sellers = [row["seller"] for row in csv.DictReader(io.StringIO(table.as_csv().decode()))]
    assert "'" + hostile in sellers and hostile not in sellers


def test_an_empty_period_draws_a_chart_that_says_so(world):
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        table = build_dashboard(s, None, now=T0 - dt.timedelta(days=90)).table("suspects")
    assert table.rows == ()
    assert b"<svg" in charts.draw(table, "svg")[:500]
