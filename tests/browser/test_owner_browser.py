"""An invited brand owner in Chromium: follows the e-mailed link, sets a password, registers a brand with
two products and their photos (a mistake shown beside its field first), sees the re-match find stored
listings; an analyst reads a dashboard chart whose numbers match the database. Screenshots of each step
go to docs/images (docs/owners.md shows them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from webapp_support import PASSWORD, T0, LiveServer, World, add_users, build_world, make_settings, photo

from services import invitations
from services.rematch import run_rematch_jobs
from storage.db import Database
from storage.models import Brand, Listing, Marketplace, Match
from webapp.app import create_app

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture
def world(tmp_path) -> World:
    settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'review.db'}")
    built = build_world(settings)
    add_users(settings)
    return built


@pytest.fixture
def live(world):
    app = create_app(world.settings.model_copy(update={"review_url": None}))
    with LiveServer(app) as server:
        yield server
    app.state.review.database.dispose()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live.url)
    tab = context.new_page()
    yield tab
    context.close()


def shot(page, name: str) -> None:
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMAGES / f"owners-{name}.png"), full_page=True)


def test_an_invited_owner_registers_a_brand_with_photos(page, world, live, tmp_path):
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        link = invitations.invite(s, world.settings, "ada@lipco.example", company="Lip Co", created_by="admin")
        market = s.scalars(select(Marketplace)).first()
        for n in range(4):  # listings stored before the brand is registered
            s.add(Listing(marketplace_id=market.id, canonical_url=f"https://x.test/q{n}", url=f"https://x.test/q{n}",
                          title=f"Plumpa lip plumper original {n}", price=4, currency="USD", seller=f"cheap {n}",
                          content_hash=f"{700 + n:064x}", image_urls=[], needs_matching=False))
    photos = []
    for n in (1, 2, 3):
        path = tmp_path / f"photo{n}.png"
        path.write_bytes(photo(40 + n))
        photos.append(str(path))

    page.goto(live.url + "/" + link.url.split("/", 3)[3])
    shot(page, "1-invitation")
    page.fill("input[name=password]", "lip co's own password")
    page.fill("input[name=password2]", "lip co's own password")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/registry/new$"))

    page.fill("#name", "Plumpa")
    page.fill("#category", "cosmetics")
    page.fill("#keywords", "lip\nplumper")
    page.fill(r"#products\[0\]\.name", "Plumpa Lip Plumper")
    page.fill(r"#products\[0\]\.sku", "PL-1")
    page.fill(r"#products\[0\]\.msrp", "nineteen")  # a mistake
    page.fill(r"#products\[0\]\.currency", "USD")
    page.set_input_files(r"#products\[0\]\.upload", photos[:2])
    page.fill(r"#products\[1\]\.name", "Plumpa Lip Gloss")
    page.fill(r"#products\[1\]\.sku", "PL-2")
    page.fill(r"#products\[1\]\.msrp", "12.00")
    page.fill(r"#products\[1\]\.currency", "USD")
    page.set_input_files(r"#products\[1\]\.upload", photos[2:])
    shot(page, "2-form")
    page.click("button.primary")
    error = page.locator(r"#products\[0\]\.msrp-error")
    error.wait_for()
    assert "must be a positive number" in error.inner_text()
    # The message sits beside its own field, and the field is marked invalid.
    assert page.locator(r"#products\[0\]\.msrp").get_attribute("aria-invalid") == "true"
    field_box = page.locator(r"#products\[0\]\.msrp").bounding_box()
    error_box = error.bounding_box()
    assert 0 <= error_box["y"] - field_box["y"] < 80
    shot(page, "3-mistake")
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        assert s.scalar(select(func.count(Brand.id)).where(Brand.name == "Plumpa")) == 0

    page.fill(r"#products\[0\]\.msrp", "19.90")  # files are chosen again after a refused form
    page.set_input_files(r"#products\[0\]\.upload", photos[:2])
    page.set_input_files(r"#products\[1\]\.upload", photos[2:])
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/registry/\d+\?saved=1"))
    assert "Looking for this brand" in page.inner_text("#rematch")
    assert page.locator(".photos img").count() == 3
    shot(page, "4-saved")
    brand_id = int(re.search(r"/registry/(\d+)", page.url).group(1))

    with Database.opened(world.settings.database_url) as db:
        run_rematch_jobs(db, settings=world.settings)  # what the worker (or the nightly scan) does
        with db.session() as s:
            found = s.scalar(select(func.count(Match.id)).where(Match.brand_id == brand_id))
    assert found == 4
    page.goto(f"/registry/{brand_id}")
    assert "Results are in" in page.inner_text("#rematch") and "4 suspects" in page.inner_text("#rematch")
    shot(page, "5-results")
    page.click("#rematch a")
    page.wait_for_url(re.compile(r"/queue"))
    assert page.locator("#queue tr.row").count() == 4


def test_the_dashboard_chart_shows_the_numbers_of_the_database(page, world, live):
    page.goto("/login")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/dashboard?until={T0.date().isoformat()}")
    chart = page.locator("#chart-suspects img")
    chart.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 300", arg=chart.element_handle())
    page.click("#chart-suspects summary")
    cells = page.eval_on_selector_all("#chart-suspects tbody tr",
                                      "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
    shown = {(night, market, klass): int(n) for night, market, klass, n in cells}
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        rows = s.execute(select(Match.created_at, Marketplace.name, Match.klass)
                         .join(Listing, Listing.id == Match.listing_id).join(Marketplace)).all()
    expected: dict = {}
    for created, market, klass in rows:
        key = (created.date().isoformat(), market, klass)
        expected[key] = expected.get(key, 0) + 1
    assert shown == expected
    shot(page, "6-dashboard")
