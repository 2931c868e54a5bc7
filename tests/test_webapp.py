"""The review app driven in process (httpx over ASGI), on SQLite and PostgreSQL: pages, filters, decisions,
bulk, undo, tenant isolation, CSRF, login rate limit, security headers, images and exports."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import func, select
from webapp_support import PASSWORD, AppClient, World, add_users, build_world, make_settings

from services import accounts
from storage.db import Database
from storage.models import LoginAttempt, Match, MatchEvent
from webapp.app import create_app

JSON = {"accept": "application/json"}


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
def clients():
    """Open clients, closed when the test ends (passed or failed)."""
    opened: list[AppClient] = []
    yield opened
    for c in opened:
        c.close()


@pytest.fixture
def client(app, clients):
    clients.append(AppClient(app))
    return clients[-1]


@pytest.fixture
def logged_in(clients):
    def login(app, username: str, **kwargs) -> AppClient:
        clients.append(AppClient(app, **kwargs))
        assert clients[-1].login(username).status_code == 303
        return clients[-1]

    return login


def count_line(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", re.search(r'<p class="count">(.*?)</p>', html, re.S).group(1))
    return " ".join(text.split())


def status_of(world: World, match_id: int) -> str:
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        return s.get(Match, match_id).status


# ------------------------------------------------------------------------------------------- login


def test_anonymous_visitors_are_sent_to_the_login_form(client):
    response = client.get("/queue?brand=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fqueue%3Fbrand%3D1"
    assert client.get("/matches/1", headers=JSON).status_code == 401


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(client):
    response = client.login("ana")
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("lookalike_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert client.get("/queue").status_code == 200
    token = client.csrf()
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    assert client.get("/queue").status_code == 303


def test_cookie_is_secure_and_hsts_sent_behind_https(app):
    c = AppClient(app, base_url="https://review.example")
    try:
        response = c.login("ana")
        cookie = [v for v in response.headers.get_list("set-cookie") if v.startswith("lookalike_session=")][0]
        assert "Secure" in cookie
        assert "max-age=31536000" in c.get("/queue").headers["strict-transport-security"]
    finally:
        c.close()


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    wrong = client.login("ana", "not the password")
    unknown = client.login("nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong user name or password" in wrong.text and "wrong user name or password" in unknown.text


def test_login_rate_limit_is_shared_by_app_processes(world, app, logged_in):
    first = AppClient(app)
    for _ in range(accounts.MAX_FAILURES_PER_USER):
        assert first.login("ana", "wrong password!").status_code == 401
    other_process = create_app(world.settings)  # another app object: only the database is shared
    second = AppClient(other_process)
    try:
        refused = second.login("ana", PASSWORD)  # the right password, yet refused
        assert refused.status_code == 429 and "too many failed logins" in refused.text
        assert second.get("/queue").status_code == 303
        assert logged_in(app, "admin").get("/queue").status_code == 200  # other names are not locked
    finally:
        first.close()
        second.close()
        other_process.state.review.database.dispose()
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) > accounts.MAX_FAILURES_PER_USER


def test_login_form_refuses_a_post_without_its_csrf_token(client):
    response = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 403
    assert "lookalike_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_login_never_redirects_off_site(client, target):
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"csrf": token, "username": "ana", "password": PASSWORD, "next": target})
    assert response.headers["location"] == "/queue"


# ---------------------------------------------------------------------------------------- headers


def test_every_page_carries_the_security_headers(app, world, logged_in):
    c = logged_in(app, "ana")
    for path in ("/login", "/queue", f"/matches/{world.fullips_matches[0]}", "/sellers?name=Glow+Deals",
                 "/static/review.js", "/matches/999999"):
        headers = c.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"
    page = c.get("/queue")
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and "onclick" not in page.text and "style=" not in page.text


# ------------------------------------------------------------------------------------------ queue


def test_queue_counts_filters_and_facets(app, world, logged_in):
    c = logged_in(app, "ana")
    assert count_line(c.get("/queue").text).startswith("18 of 18 open")
    page = c.get(f"/queue?brand={world.fullips}&klass=counterfeit&min_score=0.94")
    assert count_line(page.text).startswith("5 of 18 open")
    by_brand = c.get(f"/queue?brand={world.fullips}").text
    assert count_line(by_brand).startswith("14 of 18 open")
    assert ">Glowwe (4)<" in by_brand  # a filter's counts leave that filter out...
    assert ">counterfeit (9)<" in by_brand and ">lookalike (5)<" in by_brand  # ...and apply the others
    assert count_line(c.get("/queue?seller=Glow+Deals").text).startswith("3 of")
    assert count_line(c.get("/queue?max_score=0.8").text).startswith("2 of")  # the gift set (0.80), the hostile (0.70)
    assert count_line(c.get("/queue?created_since=2026-11-30").text).startswith("12 of")
    assert count_line(c.get("/queue?night=2026-11-29").text).startswith("6 of")
    assert count_line(c.get("/queue?changed=1").text).startswith("0 of")
    assert count_line(c.get("/queue?changed_since=2030-01-01").text).startswith("0 of")


@pytest.mark.parametrize("query", ["min_score=2", "sort=evil", "status=bogus", "brand=x", "created_since=yesterday",
                                   "min_score=0.9&max_score=0.1", "page=0"])
def test_bad_filters_get_a_one_line_400(app, query, logged_in):
    c = logged_in(app, "ana")
    response = c.get(f"/queue?{query}")
    assert response.status_code == 400
    message = re.search(r'<p class="message">(.*?)</p>', response.text, re.S).group(1)
    assert "\n" not in message and "Traceback" not in response.text


def test_queue_sorts_and_pages(app, world, logged_in):
    c = logged_in(app, "ana")
    ids = re.findall(r'data-id="(\d+)"', c.get("/queue?sort=score_asc&status=any").text)
    assert ids[0] == str(world.hostile_match)
    assert len(ids) == 18


def test_hostile_listing_text_is_shown_as_text(app, world, logged_in):
    c = logged_in(app, "ana")
    for page in (c.get("/queue").text, c.get(f"/matches/{world.hostile_match}").text):
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold" not in page
        assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    match_page = c.get(f"/matches/{world.hostile_match}").text
    assert 'href="javascript:' not in match_page and "data-url=\"javascript" not in match_page
    assert "(not a web address: not linked)" in match_page


# ------------------------------------------------------------------------------------------ match


def test_match_page_shows_the_evidence(app, world, logged_in):
    c = logged_in(app, "ana")
    match_id = world.fullips_matches[0]
    page = c.get(f"/matches/{match_id}").text
    assert '<mark title="matched mark Fullips">Fu11ips</mark>' in page
    assert "digits for letters" in page  # the disguise, named
    assert f'/images/{world.fullips_image}/large' in page  # the official photo beside the listing's
    assert '<rect x="0.1" y="0.15"' in page  # the matched region
    assert "25%</strong> of MSRP" in page and "24.00 USD" in page
    assert "Et Al Beauty Official Store" in page
    assert 'rel="noopener noreferrer"' in page and 'target="_blank"' in page
    assert "found by scan" in page
    assert "Other matches of this seller" in page
    second = c.get(f"/matches/{world.fullips_matches[1]}?brand={world.fullips}").text
    assert f'href="/matches/{match_id}?brand={world.fullips}">← previous' in second
    assert f'href="/matches/{world.fullips_matches[2]}?brand={world.fullips}">next →' in second


def test_shared_listing_shows_each_owner_only_its_own_match(app, world, logged_in):
    etal, otherco = logged_in(app, "etal"), logged_in(app, "otherco")
    fullips_match, glowwe_match = world.fullips_matches[-2], world.glowwe_matches[-1]
    assert etal.get(f"/matches/{fullips_match}").status_code == 200
    assert etal.get(f"/matches/{glowwe_match}").status_code == 404
    assert otherco.get(f"/matches/{fullips_match}").status_code == 404
    page = otherco.get(f"/matches/{glowwe_match}").text
    assert "Fullips" not in page


def test_owner_sees_none_of_another_brand(app, world, logged_in):
    c = logged_in(app, "otherco")
    queue = c.get("/queue").text
    assert count_line(queue).startswith("4 of 4")
    assert "Fullips" not in queue and "Et Al" not in queue
    for match_id in world.fullips_matches:
        assert c.get(f"/matches/{match_id}").status_code == 404
    assert c.get(f"/images/{world.fullips_image}/thumb").status_code == 404
    assert c.get(f"/images/{world.glowwe_image}/thumb").status_code == 200
    assert c.get(f"/queue?brand={world.fullips}").status_code == 404
    assert c.get(f"/export.csv?brand={world.fullips}").status_code == 404
    csv = c.get("/export.csv?status=any").text
    assert "Fullips" not in csv and csv.count("\n") == 5
    assert c.get("/sellers?name=Deals+1").status_code == 404
    assert "Fullips" not in c.get("/sellers?name=Bundle+King").text


def test_brand_page_shows_takedown_figures_of_the_owners_brands_only(app, world, logged_in):
    from services.review import set_status
    from storage.db import Database
    from storage.models import Match, Takedown, TakedownPack

    with Database.opened(world.settings.database_url) as db, db.session() as s:
        match = s.get(Match, world.glowwe_matches[0])
        set_status(s, match.id, "reported", actor="ana", note="pack")
        s.add(TakedownPack(id="p1", brand_id=world.glowwe, format="generic", created_by="ana", items=1, sha256="0" * 64))
        s.flush()
        s.add(Takedown(match_id=match.id, pack_id="p1", marketplace=match.listing.marketplace.name,
                       content_hash=match.listing.content_hash, outcome="removed",
                       reported_at=match.created_at, outcome_at=match.created_at + dt.timedelta(hours=30)))
    owner = logged_in(app, "otherco").get("/brands").text
    assert "Glowwe" in owner and "Fullips" not in owner and "30.0 h" in owner
    analyst = logged_in(app, "ana").get("/brands").text
    assert "Glowwe" in analyst and "Fullips" in analyst and "no notices filed yet" in analyst


def test_owners_look_but_do_not_decide(app, world, logged_in):
    c = logged_in(app, "etal")
    token = c.csrf()
    response = c.post(f"/matches/{world.fullips_matches[0]}/decide", data={"action": "confirm", "csrf": token})
    assert response.status_code == 403
    assert status_of(world, world.fullips_matches[0]) == "new"


# -------------------------------------------------------------------------------------- decisions


def test_post_without_csrf_token_is_refused(app, world, logged_in):
    c = logged_in(app, "ana")
    match_id = world.fullips_matches[0]
    for data, headers in (({"action": "confirm"}, JSON), ({"action": "confirm", "csrf": "forged"}, {})):
        assert c.post(f"/matches/{match_id}/decide", data=data, headers=headers).status_code == 403
    assert c.post("/undo", headers=JSON).status_code == 403
    assert status_of(world, match_id) == "new"


def test_decisions_are_audited_with_user_and_reason_and_undone(app, world, logged_in):
    c = logged_in(app, "ana")
    token = c.csrf()
    first, second = world.fullips_matches[:2]
    done = c.post(f"/matches/{first}/decide", data={"action": "confirm"}, headers={**JSON, "x-csrf-token": token})
    assert done.json() == {"done": [{"id": first, "status": "confirmed"}], "skipped": 0}
    refused = c.post(f"/matches/{second}/decide", data={"action": "dismiss", "reason": "I just feel like it"},
                     headers={**JSON, "x-csrf-token": token})
    assert refused.status_code == 400
    c.post(f"/matches/{second}/decide", data={"action": "dismiss", "reason": "genuine product", "note": "receipt",
                                              "csrf": token})
    assert status_of(world, second) == "dismissed"
    undone = c.post("/undo", headers={**JSON, "x-csrf-token": token}).json()
    assert undone["done"] == [{"id": second, "status": "new"}]
    assert c.post("/undo", headers={**JSON, "x-csrf-token": token}).status_code == 400  # nothing left to undo
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        events = s.scalars(select(MatchEvent).where(MatchEvent.match_id.in_([first, second]),
                                                    MatchEvent.actor == "ana").order_by(MatchEvent.id)).all()
    assert [(e.match_id, e.from_status, e.to_status) for e in events] == [
        (first, "new", "confirmed"), (second, "new", "dismissed"), (second, "dismissed", "new")]
    assert events[1].note == "genuine product: receipt" and events[2].note.startswith("undo")
    assert all(e.at is not None for e in events)


def test_bulk_confirm_of_a_filtered_set_with_count_check_and_undo(app, world, logged_in):
    c = logged_in(app, "ana")
    query = f"brand={world.fullips}&klass=counterfeit&min_score=0.94"
    confirm = c.get(f"/bulk?action=confirm&all=1&{query}")
    assert "Confirm 5 matches?" in confirm.text
    token = c.csrf()
    fields = {"csrf": token, "action": "confirm", "all": "1", "brand": str(world.fullips), "klass": "counterfeit",
              "min_score": "0.94"}
    stale = c.post("/bulk", data={**fields, "expected": "4"})  # the analyst saw another count: ask again
    assert stale.status_code == 200 and "The set changed" in stale.text
    assert status_of(world, world.fullips_matches[0]) == "new"
    applied = c.post("/bulk", data={**fields, "expected": "5"})
    assert applied.status_code == 303 and "done=5" in applied.headers["location"]
    assert [status_of(world, i) for i in world.fullips_matches[:5]] == ["confirmed"] * 5
    assert status_of(world, world.fullips_matches[5]) == "new"
    assert c.post("/undo", data={"csrf": token, "next": "/queue"}).status_code == 303
    assert [status_of(world, i) for i in world.fullips_matches[:5]] == ["new"] * 5


def test_bulk_selection_ignores_ids_outside_the_scope(app, world, logged_in):
    c = logged_in(app, "admin")
    page = c.get(f"/bulk?action=report&ids={world.fullips_matches[0]}&ids={world.glowwe_matches[0]}&ids=999999")
    assert "Report 2 matches?" in page.text


# ----------------------------------------------------------------------------------- images, exports


def test_images_come_from_the_store_with_a_sniffed_type_and_a_thumbnail_made_once(app, world, logged_in):
    c = logged_in(app, "ana")
    response = c.get(f"/images/{world.fullips_image}/thumb")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg" and response.content[:3] == b"\xff\xd8\xff"
    assert response.headers["x-content-type-options"] == "nosniff"
    cached = list((world.settings.data_dir / "thumbnails").rglob(f"{world.fullips_image}-thumb.*"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    assert c.get(f"/images/{world.fullips_image}/thumb").content == response.content
    assert cached[0].stat().st_mtime_ns == stamp
    for bad in ("0" * 64 + "/thumb", world.fullips_image + "/huge", "../../etc/passwd/thumb"):
        assert c.get(f"/images/{bad}").status_code == 404


def test_export_whole_filtered_set_as_csv_and_parquet(app, world, logged_in):
    c = logged_in(app, "ana")
    csv = c.get(f"/export.csv?brand={world.fullips}&status=any")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(csv.text))
    assert len(frame) == 14 and set(frame["brand"]) == {"Fullips"}
    parquet = pd.read_parquet(io.BytesIO(c.get("/export.parquet?klass=lookalike").content))
    assert len(parquet) == 6 and set(parquet["class"]) == {"lookalike"}
    assert c.get("/export.xlsx").status_code == 404


# ------------------------------------------------------------------------------------ commands


def run_cli(args: list[str], stdin: str = ""):
    from typer.testing import CliRunner

    from cli import app as cli_app

    return CliRunner().invoke(cli_app, args, input=stdin)


def test_users_commands(settings_env, db_url):
    from cli import main

    added = run_cli(["users", "add", "Alice", "--role", "analyst", "--password-stdin"], "a long password\n")
    assert added.exit_code == 0, added.output
    owner = run_cli(["users", "add", "bob", "--role", "owner", "--password-stdin"], "a long password\n")
    assert owner.exit_code != 0 and "needs at least one --brand" in str(owner.exception)
    listed = run_cli(["users", "list"])
    assert "alice" in listed.output and "analyst" in listed.output
    assert run_cli(["users", "set-password", "alice", "--password-stdin"], "another long one\n").exit_code == 0
    with Database.opened(db_url) as db, db.session() as s:
        assert accounts.authenticate(s, "alice", "another long one", address="test").username == "alice"
    for args in (["users", "add", "alice", "--password-stdin"], ["users", "remove", "nobody"],
                 ["users", "add", "x y", "--password-stdin"], ["users", "add", "carol", "--role", "boss",
                                                                "--password-stdin"]):
        with pytest.raises(SystemExit) as exited:
            import io as _io
            import sys

            old = sys.stdin
            sys.stdin = _io.StringIO("a long password\n")
            try:
                main(args)
            finally:
                sys.stdin = old
        assert exited.value.code == 2
    assert run_cli(["users", "remove", "alice"]).exit_code == 0
    assert "alice" not in run_cli(["users", "list"]).output


def test_demo_accounts_get_new_passwords_each_run(world):
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        first = accounts.ensure_demo_accounts(s)
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        second = accounts.ensure_demo_accounts(s)
        assert [(n, r, b) for n, _, r, b in first] == [("demo-admin", "admin", []),
                                                      ("demo-owner", "owner", ["Fullips"])]
        assert first[0][1] != second[0][1]
        assert accounts.authenticate(s, "demo-owner", second[1][1], address="t").brands[0].name == "Fullips"


def test_lookalike_serve_answers_on_its_port(settings_env, db_url, tmp_path):
    import os
    import subprocess
    import sys
    import time

    import httpx
    from webapp_support import free_port

    port = free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()
                time.sleep(0.3)
        assert response.status_code == 200 and "Log in" in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
        taken = subprocess.run([sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port)],
                               env=env, capture_output=True, text=True, timeout=60)
        assert taken.returncode == 2 and "cannot listen on 127.0.0.1" in taken.stderr
        assert "Traceback" not in taken.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()


# ------------------------------------------------------------------------------------ evidence


def test_evidence_rows_give_spans_disguises_and_regions():
    from matching.evidence import evidence_from_json
    from webapp import evidence as ev

    stored = evidence_from_json([
        {"signal": "mark", "strength": 0.7, "role": "identifies", "reason": "title 'Ful1ips' matches mark Fullips",
         "spans": [{"field": "title", "start": 4, "end": 11}], "disguise": "leetspeak", "regions": [],
         "details": {"mark": "Fullips"}},
        {"signal": "image", "strength": 0.9, "role": "identifies", "reason": "image 2 contains FLP-001 photo a",
         "spans": [], "disguise": None, "details": {"kind": "edited_copy"},
         "regions": [{"image_no": 2, "ref_id": "17", "listing_box": [0.1, 0.2, 0.6, 0.9], "reference_box": None}]},
        {"signal": "price", "strength": 0.3, "reason": "price 25% of MSRP",
         "details": {"ratio": 0.25, "msrp": "24.00", "msrp_currency": "USD"}},
        {"signal": "seller", "strength": 0.2, "reason": "seller imitates an authorized seller",
         "details": {"authorized_name": "Et Al Beauty Official Store"}},
    ])
    segments = ev.title_segments("New Ful1ips plumper", stored)
    assert [(s.text, s.mark) for s in segments] == [("New ", None), ("Ful1ips", "Fullips"), (" plumper", None)]
    (finding,) = ev.mark_findings(stored, {"title": "New Ful1ips plumper"})
    assert finding.disguise == "digits for letters" and finding.sentence.startswith("title 'Ful1ips'")
    assert (finding.field, finding.text) == ("title", "Ful1ips")
    (pair,) = ev.photo_pairs(stored, ["a" * 64, "b" * 64], {"17": ("c" * 64, "FLP-001 photo a")})
    assert (pair.listing_sha, pair.reference_sha, pair.region, pair.method) == (
        "b" * 64, "c" * 64, (0.1, 0.2, 0.6, 0.9), "an edited copy")
    assert pair.detail == "image 2 contains FLP-001 photo a"  # stored before regions kept their own note
    price = ev.price_view(Decimal("6.00"), "USD", stored, None, None)
    assert (price.listing, price.converted, price.msrp, price.percent) == ("6.00 USD", "6.00 USD", "24.00 USD", 25)
    assert ev.seller_verdict(stored) == ("imitation", "Et Al Beauty Official Store")
    assert ev.seller_verdict([]) == (None, None)
    # Each pair is captioned with how that pair is alike, not with the best pair's sentence.
    two = evidence_from_json([dict(stored[1].to_json(), regions=[
        {"image_no": 1, "ref_id": "17", "kind": "same_photo", "note": "image 1 is FLP-001 photo a (the same photo)"},
        {"image_no": 2, "ref_id": "18", "kind": "edited_copy",
         "note": "image 2 copies FLP-001 photo b (an edited copy; cropped)"},
    ])])
    first, second = ev.photo_pairs(two, ["a" * 64, "b" * 64], {"17": ("c" * 64, "FLP-001 photo a"),
                                                             "18": ("d" * 64, "FLP-001 photo b")})
    assert (first.method, first.detail) == ("the same photo", "image 1 is FLP-001 photo a (the same photo)")
    assert (second.method, second.detail) == ("an edited copy",
                                              "image 2 copies FLP-001 photo b (an edited copy; cropped)")
    # Hostile shapes give less, never an error: a span past the title, a box turned inside out, junk rows.
    assert ev.title_segments("abc", evidence_from_json(
        [{"signal": "mark", "strength": 1, "spans": [{"field": "title", "start": 2, "end": 99}]}])) == [ev.Segment("abc")]
    outside = evidence_from_json([{"signal": "image", "strength": 1, "regions": [
        {"image_no": 9, "ref_id": "x", "listing_box": [0.5, 0.5, 0.2, 0.2]}]}])
    assert ev.photo_pairs(outside, [], {})[0].region is None and evidence_from_json("junk") == []


def test_every_disguise_the_mark_signal_gives_has_a_name_for_people():
    """One vocabulary: the names the review app shows come from ``matching.evidence.DISGUISE_NAMES``, and every
    ``Evidence.disguise`` the mark signal can set is in it (no raw ``styled_letters`` on a page)."""
    from matching.evidence import DISGUISE_NAMES, disguise_name
    from matching.signals import text

    produced = {name for _, name in text._DISGUISE_OF} | {"joined_words", "misspelling"}
    assert produced <= set(DISGUISE_NAMES)
    assert disguise_name("styled_letters") == "full-width or styled letters" and disguise_name(None) is None
