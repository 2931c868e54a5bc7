"""The review app in Chromium: keyboard triage, bulk, undo, hostile text, tenant isolation, CSRF, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from webapp_support import HOSTILE_TITLE, PASSWORD, LiveServer, World, add_users, build_world, make_settings

from storage.db import Database
from storage.models import Match, MatchEvent
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
    app = create_app(world.settings)
    with LiveServer(app) as server:
        yield server
    app.state.review.database.dispose()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=live.url)
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.dialogs = dialogs
    yield tab
    context.close()


def login(page, username: str) -> None:
    page.goto("/queue")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/queue"))


def statuses(world: World) -> dict[int, str]:
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        return {m.id: m.status for m in s.query(Match)}


def wait_status(page, match_id: int, status: str) -> None:
    try:
        page.wait_for_selector(f'tr[data-id="{match_id}"].status-{status}', timeout=10_000)
    except Exception as exc:
        current = page.eval_on_selector_all("#queue tr.row", "rs => rs.map(r => r.dataset.id + ':' + r.className)")
        raise AssertionError(f"match {match_id} not {status}; toast: {page.inner_text('#toast')!r}; {current}") from exc


def test_keyboard_triage_bulk_confirm_and_undo(page, world):
    login(page, "ana")
    page.select_option("select[name=klass]", "counterfeit")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"klass=counterfeit"))
    ids = [int(i) for i in page.eval_on_selector_all("#queue tr.row", "rows => rows.map(r => r.dataset.id)")]
    assert len(ids) == 12  # eight Fullips counterfeits, the hostile listing, three Glowwe
    # Five matches, one key each (dismissals pick a reason with a digit).
    page.keyboard.press("c")
    wait_status(page, ids[0], "confirmed")
    page.keyboard.press("d")
    page.wait_for_selector("#dismiss-chooser:not([hidden])")
    page.keyboard.press("1")
    wait_status(page, ids[1], "dismissed")
    page.keyboard.press("c")
    wait_status(page, ids[2], "confirmed")
    page.keyboard.press("j")  # skip one
    page.keyboard.press("c")
    wait_status(page, ids[4], "confirmed")
    page.keyboard.press("k")
    page.keyboard.press("k")  # back to the one skipped
    page.keyboard.press("d")
    page.keyboard.press("3")
    wait_status(page, ids[3], "dismissed")
    page.keyboard.press("u")  # undo the last decision
    wait_status(page, ids[3], "new")
    now = statuses(world)
    assert [now[i] for i in ids[:5]] == ["confirmed", "dismissed", "confirmed", "new", "confirmed"]
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        note = s.query(MatchEvent).filter_by(match_id=ids[1], to_status="dismissed").one().note
        assert note == "genuine product" and s.query(MatchEvent).filter_by(actor="ana").count() == 6

    # Bulk: every Fullips counterfeit scored >= 0.9 that is still open.
    page.goto(f"/queue?brand={world.fullips}&klass=counterfeit&min_score=0.9")
    total = int(page.get_attribute("#total", "data-total"))
    assert total == 4  # eight scored 0.985..0.915, minus the four decided above
    page.click("a.bulk-link:has-text('confirm all')")
    assert page.inner_text("#bulk-count") == "4"
    page.click("#bulk-apply")
    page.wait_for_url(re.compile(r"done=4"))
    confirmed = [i for i, s in statuses(world).items() if s == "confirmed"]
    assert len(confirmed) == 7
    page.keyboard.press("u")  # one key undoes the whole bulk action
    page.wait_for_selector("#toast.shown")
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('undone: 4')")
    assert len([i for i, s in statuses(world).items() if s == "confirmed"]) == 3


def test_hostile_listing_renders_as_text_and_fires_no_dialog(page, world):
    login(page, "ana")
    page.goto("/queue?sort=score_asc")
    page.goto(f"/matches/{world.hostile_match}")
    assert page.inner_text(".listing-title") == HOSTILE_TITLE
    assert "<script>alert('seller')</script>Evil Shop" in page.inner_text(".facts")
    assert page.locator("a[href^='javascript']").count() == 0
    page.click("details summary")
    assert "onerror" in page.inner_text(".description")
    page.keyboard.press("o")  # the javascript: URL is not opened
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert page.evaluate("document.querySelectorAll('script').length") == 1  # only /static/review.js


def test_owner_of_one_brand_sees_nothing_of_another(page, world):
    login(page, "otherco")
    rows = page.inner_text("#queue")
    assert "Glowwe" in rows and "Fullips" not in rows
    assert page.get_attribute("#total", "data-total") == "4"
    response = page.goto(f"/matches/{world.fullips_matches[0]}")
    assert response.status == 404
    assert page.goto(f"/images/{world.fullips_image}/large").status == 404
    assert page.goto(f"/images/{world.glowwe_image}/large").status == 200
    assert page.goto(f"/export.csv?brand={world.fullips}").status == 404
    body = page.request.get("/export.csv?status=any").text()
    assert "Fullips" not in body and "Glowwe" in body


def test_post_without_csrf_token_is_refused(page, world):
    login(page, "ana")
    refused = page.request.post(f"/matches/{world.fullips_matches[0]}/decide", form={"action": "confirm"})
    assert refused.status == 403
    assert statuses(world)[world.fullips_matches[0]] == "new"


def test_screenshots_for_the_docs(page, world):
    """Regenerates docs/images/review-queue.png and review-match.png (shown in README and docs/review.md)."""
    login(page, "ana")
    page.goto(f"/queue?brand={world.fullips}")
    page.keyboard.press("j")
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMAGES / "review-queue.png"))
    page.goto(f"/matches/{world.fullips_matches[0]}?brand={world.fullips}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(DOCS_IMAGES / "review-match.png"), full_page=True)
    assert (DOCS_IMAGES / "review-queue.png").stat().st_size > 10_000
