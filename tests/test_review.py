"""The review queue's rules: create once, update nightly, dismissed stays dismissed, audit log, races."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from core.errors import LookalikeError
from services import review
from storage.db import Database
from storage.models import (
    AuthorizedSeller,
    Brand,
    Listing,
    ListingImage,
    Marketplace,
    Match,
    MatchEvent,
    Owner,
    Product,
)

T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def sqlite_database(tmp_path):
    """For tables of cases of backend-independent logic (each rule also has a test on both backends)."""
    db = Database(f"sqlite:///{tmp_path / 'cases.db'}").ensure_schema()
    yield db
    db.dispose()


def content_hash(listing: Listing) -> str:
    """What a crawler would hash: title, description, price, seller, images (raw, not normalised)."""
    parts = [listing.title, listing.description, str(listing.price), listing.currency, listing.seller,
             *listing.image_urls]
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def make_world(db: Database) -> dict[str, int]:
    with db.session() as s:
        owner = Owner(name="Et Al Beauty")
        brand = Brand(owner=owner, name="Fullips", keywords=["lip"])
        other = Brand(owner=owner, name="Glowwe")
        product = Product(brand=brand, sku="FLP-001", name="Fullips Lip Plumper", msrp=Decimal("24.00"),
                          currency="USD")
        s.add(AuthorizedSeller(brand=brand, name="Et Al Beauty Official Store"))
        market = Marketplace(name="bazaarly", kind="marketplace")
        s.add_all([owner, brand, other, product, market])
        s.flush()
        listing = Listing(marketplace_id=market.id, canonical_url="https://bazaarly.test/p/1",
                          url="https://bazaarly.test/p/1?ref=x", title="Ful1ips Lip Plumper",
                          description="Best  lip plumper", price=Decimal("24.00"), currency="USD",
                          seller="Cheap Deals 4U", availability="InStock",
                          image_urls=["https://img.bazaarly.test/1.jpg"], first_seen=T0, last_seen=T0)
        listing.content_hash = content_hash(listing)
        s.add(listing)
        s.flush()
        return {"brand": brand.id, "other": other.id, "product": product.id, "listing": listing.id,
                "market": market.id}


def score(db: Database, ids: dict[str, int], *, klass: str = "counterfeit", value: float = 0.91,
          reasons: tuple[str, ...] = ("name 'Ful1ips' reads as 'Fullips' (leetspeak)",), brand: str = "brand",
          edit=None, now: dt.datetime | None = None, min_score: float | None = None) -> str:
    """One night: optionally edit the listing (as a crawl would), then record the score."""
    with db.session() as s:
        listing = s.get(Listing, ids["listing"])
        if edit is not None:
            edit(listing)
            listing.content_hash = content_hash(listing)
            s.flush()
        verdict = review.Verdict(brand_id=ids[brand], product_id=ids["product"], score=value, klass=klass,
                                 reasons=tuple(reasons))
        return review.record_match(s, listing, verdict, now=now, min_score=min_score)


def the_match(db: Database, ids: dict[str, int]) -> Match:
    with db.session() as s:
        m = s.scalars(select(Match).where(Match.listing_id == ids["listing"], Match.brand_id == ids["brand"])).one()
        s.expunge(m)
        return m


def events(db: Database) -> list[tuple[str | None, str, str, str | None]]:
    with db.session() as s:
        return [(e.from_status, e.to_status, e.actor, e.note)
                for e in s.scalars(select(MatchEvent).order_by(MatchEvent.id))]


def match_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Match))


# ------------------------------------------------------------------------------------------- recording


def test_created_once_then_unchanged_then_updated(database: Database) -> None:
    ids = make_world(database)
    assert score(database, ids, now=T0) == "created"
    created = the_match(database, ids)
    assert (created.status, created.klass, created.score) == ("new", "counterfeit", 0.91)
    assert created.review_snapshot["title"] == "Ful1ips Lip Plumper"
    assert created.review_snapshot["price"] == "24"  # the content hash's price rule (24.0 and 24.00 are one)
    assert events(database) == [(None, "new", "lookalike", "found by scan: score 0.91 (counterfeit)")]

    assert score(database, ids, now=T0 + dt.timedelta(days=1)) == "unchanged"
    assert the_match(database, ids).updated_at == created.updated_at

    assert score(database, ids, value=0.95, reasons=("another reason",)) == "updated"
    updated = the_match(database, ids)
    assert (updated.id, updated.status, updated.score, updated.reasons) == (created.id, "new", 0.95,
                                                                            ["another reason"])
    assert match_count(database) == 1
    assert len(events(database)) == 1  # a rescore is not a status change


def test_listing_change_on_a_new_match_updates_it_and_shows_the_change(database: Database) -> None:
    ids = make_world(database)
    score(database, ids)

    def cheaper(listing: Listing) -> None:
        listing.price = Decimal("9.99")

    assert score(database, ids, edit=cheaper) == "updated"
    m = the_match(database, ids)
    assert m.status == "new"
    assert m.changes == ["price changed from 24.00 USD to 9.99 USD"]
    assert m.listing_content_hash != "" and m.review_snapshot["price"] == "9.99"
    assert events(database)[-1] == ("new", "new", "lookalike",
                                    "listing changed: price changed from 24.00 USD to 9.99 USD")


def test_dismissed_stays_dismissed_without_a_material_change(database: Database) -> None:
    ids = make_world(database)
    score(database, ids)
    with database.session() as s:
        review.set_status(s, the_match(database, ids).id, "dismissed", actor="ana", note="parody shop")
    assert score(database, ids) == "unchanged"
    assert score(database, ids, value=0.97) == "suppressed"  # rescored, still dismissed
    m = the_match(database, ids)
    assert (m.status, m.score) == ("dismissed", 0.97)
    assert [e[:2] for e in events(database)] == [(None, "new"), ("new", "dismissed")]


def test_dismiss_then_reopen_on_both_backends(database: Database) -> None:
    ids = make_world(database)
    score(database, ids)
    with database.session() as s:
        review.set_status(s, the_match(database, ids).id, "dismissed", actor="ana")
    assert score(database, ids, edit=_whitespace) == "suppressed"
    assert score(database, ids, edit=_new_image) == "reopened"
    assert the_match(database, ids).changes == ["new image https://img.bazaarly.test/2.jpg"]
    assert [e[:2] for e in events(database)] == [(None, "new"), ("new", "dismissed"), ("dismissed", "new")]


def _retitle(listing: Listing) -> None:
    listing.title = "Fullips Lip Plumper ORIGINAL"


def _reprice(listing: Listing) -> None:
    listing.price = Decimal("9.99")


def _new_image(listing: Listing) -> None:
    listing.image_urls = [*listing.image_urls, "https://img.bazaarly.test/2.jpg"]


@pytest.mark.parametrize(("edit", "sentences"), [
    (_retitle, ["title changed from 'Ful1ips Lip Plumper' to 'Fullips Lip Plumper ORIGINAL'"]),
    (_reprice, ["price changed from 24.00 USD to 9.99 USD"]),
    (_new_image, ["new image https://img.bazaarly.test/2.jpg"]),
])
def test_dismissed_match_comes_back_after_a_material_change(sqlite_database: Database, edit, sentences) -> None:
    database = sqlite_database
    ids = make_world(database)
    score(database, ids)
    with database.session() as s:
        review.set_status(s, the_match(database, ids).id, "dismissed", actor="ana")
    assert score(database, ids, edit=edit) == "reopened"
    m = the_match(database, ids)
    assert m.status == "new"
    assert m.changes == sentences
    last = events(database)[-1]
    assert last == ("dismissed", "new", "lookalike", "reopened: " + "; ".join(sentences))
    # once seen again, it does not reopen twice for the same change
    assert score(database, ids) == "unchanged"


def _whitespace(listing: Listing) -> None:
    listing.description = "Best lip   plumper \n"


def _availability(listing: Listing) -> None:
    listing.availability = "OutOfStock"


def _title_spacing(listing: Listing) -> None:
    listing.title = " Ful1ips  Lip\u200b Plumper"


def _seller(listing: Listing) -> None:
    listing.seller = "Cheap Deals 5U"


@pytest.mark.parametrize("edit", [_whitespace, _availability, _title_spacing, _seller])
def test_immaterial_change_does_not_reopen(sqlite_database: Database, edit) -> None:
    database = sqlite_database
    ids = make_world(database)
    score(database, ids)
    with database.session() as s:
        review.set_status(s, the_match(database, ids).id, "dismissed", actor="ana")
    outcome = score(database, ids, edit=edit)
    assert outcome in ("unchanged", "suppressed")
    assert the_match(database, ids).status == "dismissed"
    assert [e[1] for e in events(database)] == ["new", "dismissed"]
    # and the immaterial change becomes the new baseline: a later real change still reopens
    assert score(database, ids, edit=_reprice) == "reopened"


def test_clean_result_never_creates_or_deletes(database: Database) -> None:
    ids = make_world(database)
    assert score(database, ids, klass="clean", value=0.1) == "suppressed"
    assert score(database, ids, value=0.3, min_score=0.5) == "suppressed"  # below the floor
    assert match_count(database) == 0
    score(database, ids)
    with database.session() as s:
        review.set_status(s, the_match(database, ids).id, "confirmed", actor="ana")
    assert score(database, ids, klass="clean", value=0.1) == "updated"
    m = the_match(database, ids)
    assert (m.status, m.klass, m.score) == ("confirmed", "clean", 0.1)
    # a dismissed match does not come back for a clean result even after a material change
    with database.session() as s:
        review.set_status(s, m.id, "dismissed", actor="ana")
    assert score(database, ids, klass="clean", value=0.1, edit=_reprice) == "suppressed"
    assert the_match(database, ids).status == "dismissed"


@pytest.mark.parametrize("status_path", [["confirmed"], ["reported"], ["reported", "removed"]])
def test_reviewed_matches_keep_status_and_history(sqlite_database: Database, status_path: list[str]) -> None:
    database = sqlite_database
    ids = make_world(database)
    score(database, ids)
    match_id = the_match(database, ids).id
    for status in status_path:
        with database.session() as s:
            review.set_status(s, match_id, status, actor="ana", note=f"to {status}")
    assert score(database, ids, value=0.99, reasons=("fresh",), edit=_new_image) == "updated"
    m = the_match(database, ids)
    assert (m.status, m.score, m.reasons) == (status_path[-1], 0.99, ["fresh"])
    log = events(database)
    assert [e[1] for e in log] == ["new", *status_path, status_path[-1]]
    assert log[-1][3] == "listing changed: new image https://img.bazaarly.test/2.jpg"


def test_one_match_per_brand_and_listing(database: Database) -> None:
    ids = make_world(database)
    assert score(database, ids) == "created"
    assert score(database, ids, brand="other") == "created"
    assert match_count(database) == 2


def test_record_match_rejects_bad_input(database: Database) -> None:
    ids = make_world(database)
    with pytest.raises(LookalikeError, match="invalid score"):
        score(database, ids, value=float("nan"))
    with pytest.raises(LookalikeError, match="invalid match class"):
        score(database, ids, klass="x" * 21)


# ------------------------------------------------------------------------------------ analyst actions


def test_set_status_validates_and_writes_the_audit_log(database: Database) -> None:
    ids = make_world(database)
    score(database, ids)
    score(database, ids, edit=_reprice)
    match_id = the_match(database, ids).id
    assert the_match(database, ids).changes  # shown until reviewed
    with database.session() as s:
        review.set_status(s, match_id, "confirmed", actor="ana", note="same photo as the official one")
    assert the_match(database, ids).changes == []
    for bad, message in [("confirmed", "already confirmed"), ("deleted", "unknown status")]:
        with pytest.raises(LookalikeError, match=message), database.session() as s:
            review.set_status(s, match_id, bad, actor="ana")
    with pytest.raises(LookalikeError, match="no match with id 9999"), database.session() as s:
        review.set_status(s, 9999, "confirmed", actor="ana")
    with database.session() as s:
        review.set_status(s, match_id, "reported", actor="bo")
    with pytest.raises(LookalikeError, match="it can go to confirmed, removed, not dismissed"), \
            database.session() as s:
        review.set_status(s, match_id, "dismissed", actor="bo")
    log = events(database)
    assert [(e[0], e[1], e[2]) for e in log] == [
        (None, "new", "lookalike"), ("new", "new", "lookalike"), ("new", "confirmed", "ana"),
        ("confirmed", "reported", "bo"),
    ]
    assert log[2][3] == "same photo as the official one"
    with database.session() as s:
        assert all(e.at is not None for e in s.scalars(select(MatchEvent)))


def test_list_matches_filters(database: Database) -> None:
    ids = make_world(database)
    score(database, ids, value=0.9)
    score(database, ids, brand="other", value=0.4, klass="lookalike")
    with database.session() as s:
        assert [m.brand.name for m in review.list_matches(s)] == ["Fullips", "Glowwe"]
        assert [m.brand.name for m in review.list_matches(s, brand="fullips")] == ["Fullips"]
        assert [m.brand.name for m in review.list_matches(s, min_score=0.5)] == ["Fullips"]
        assert review.list_matches(s, status="dismissed") == []
        assert len(review.list_matches(s, since=dt.date(2026, 10, 31))) == 2
        assert review.list_matches(s, since=dt.date(2026, 11, 2)) == []
        assert len(review.list_matches(s, limit=1)) == 1
        with pytest.raises(LookalikeError, match="no brand named"):
            review.list_matches(s, brand="Nope")
        with pytest.raises(LookalikeError, match="unknown status"):
            review.list_matches(s, status="open")


# -------------------------------------------------------------------------------------------- changes


@pytest.mark.parametrize(("old", "new", "sentences", "material"), [
    ({"title": "A"}, {"title": "B"}, ["title changed from 'A' to 'B'"], True),
    ({"title": "A  b"}, {"title": "A b\u200b"}, [], False),
    ({"price": "24.00", "currency": "USD"}, {"price": "24", "currency": "USD"}, [], False),
    ({"price": "24.00", "currency": "USD"}, {"price": "24.00", "currency": "EUR"},
     ["price changed from 24.00 USD to 24.00 EUR"], True),
    ({"price": None}, {"price": "5.00"}, ["price changed from no price to 5.00"], True),
    ({"image_urls": ["u1", "u2"]}, {"image_urls": ["u2"]}, ["image removed u1"], False),
    ({"image_urls": ["u1"], "image_sha256": {"u1": "a"}}, {"image_urls": ["u1"], "image_sha256": {"u1": "b"}},
     ["image replaced at u1"], True),
    ({"image_urls": ["u1"], "image_sha256": {}}, {"image_urls": ["u1"], "image_sha256": {"u1": "b"}}, [], False),
    ({"seller": "S"}, {"seller": None}, ["seller changed from 'S' to (none)"], False),
    ({"description_sha256": "a"}, {"description_sha256": "b"}, ["description changed"], False),
])
def test_describe_changes(old, new, sentences, material) -> None:
    assert review.describe_changes(old, new) == (sentences, material)


def test_change_sentences_are_bounded() -> None:
    sentences, _ = review.describe_changes({"title": "x"}, {"title": "y" * 10_000})
    assert len(sentences[0]) < 400


def test_image_content_replaced_at_the_same_url_reopens(database: Database) -> None:
    from storage.models import Image

    ids = make_world(database)
    with database.session() as s:
        for sha in ("a" * 64, "b" * 64):
            s.add(Image(sha256=sha, path=f"{sha[:2]}/{sha}.jpg", size_bytes=1, width=1, height=1))
        s.add(ListingImage(listing_id=ids["listing"], url="https://img.bazaarly.test/1.jpg", sha256="a" * 64,
                           status="ok"))
    score(database, ids)
    with database.session() as s:
        review.set_status(s, the_match(database, ids).id, "dismissed", actor="ana")

    def swap(listing: Listing) -> None:
        listing.images[0].sha256 = "b" * 64
        listing.content_hash = "changed"

    with database.session() as s:
        listing = s.get(Listing, ids["listing"])
        swap(listing)
        s.flush()
        outcome = review.record_match(s, listing, review.Verdict(
            brand_id=ids["brand"], product_id=ids["product"], score=0.91, klass="counterfeit",
            reasons=("name 'Ful1ips' reads as 'Fullips' (leetspeak)",)))
    assert outcome == "reopened"
    assert the_match(database, ids).changes == ["image replaced at https://img.bazaarly.test/1.jpg"]


# ------------------------------------------------------------------------------------------- races


def _record(db: Database, ids: dict[str, int]) -> str:
    with db.session() as s:
        listing = s.get(Listing, ids["listing"])
        return review.record_match(s, listing, review.Verdict(ids["brand"], ids["product"], 0.91, "counterfeit",
                                                              reasons=("r",)))


@pytest.mark.postgres
def test_two_workers_racing_create_one_match(postgres_url: str) -> None:
    """Worker A inserts and holds its transaction; B's insert waits on it; A commits; B updates."""
    with Database(postgres_url).ensure_schema() as db:
        ids = make_world(db)
        results: dict[str, Any] = {}
        b_pid: list[int] = []
        with db.session() as a:
            listing = a.get(Listing, ids["listing"])
            assert review.record_match(a, listing, review.Verdict(ids["brand"], ids["product"], 0.91, "counterfeit",
                                                                  reasons=("r",))) == "created"

            def worker_b() -> None:
                try:
                    with db.session() as b:
                        b_pid.append(b.connection().exec_driver_sql("select pg_backend_pid()").scalar())
                        other = b.get(Listing, ids["listing"])
                        results["b"] = review.record_match(
                            b, other, review.Verdict(ids["brand"], ids["product"], 0.93, "counterfeit",
                                                     reasons=("r",)))
                except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
                    results["b"] = exc

            thread = threading.Thread(target=worker_b)
            thread.start()
            waiting = False
            with db.engine.connect() as probe:
                for _ in range(500):  # until B is blocked on A's row (bounded; not a timing assertion)
                    if b_pid and probe.execute(text(
                            "select count(*) from pg_locks where pid = :pid and not granted"),
                            {"pid": b_pid[0]}).scalar():
                        waiting = True
                        break
                    threading.Event().wait(0.02)
            assert waiting, "worker B never waited for worker A"
        thread.join(timeout=60)
        assert results["b"] == "updated"
        assert match_count(db) == 1
        assert [e[:2] for e in events(db)] == [(None, "new")]


def test_many_workers_at_once_create_one_match(database: Database) -> None:
    ids = make_world(database)
    barrier = threading.Barrier(6)
    outcomes: list[Any] = []

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(_record(database, ids))
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            outcomes.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["created"] + ["unchanged"] * 5
    assert match_count(database) == 1


# ---------------------------------------------------------------------------------------------- CLI


HOSTILE = "[bold red]FREE[/] [link=https://evil.test]Ful1ips[/link] \x1b[31m\u202e"


def test_review_cli_list_show_and_status(settings_env, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import app
    from cli.context import database

    db = database()
    ids = make_world(db)
    with db.session() as s:
        s.get(Listing, ids["listing"]).title = HOSTILE
    score(db, ids)
    match_id = the_match(db, ids).id
    db.dispose()

    runner = CliRunner()
    env = {"COLUMNS": "300", "USER": "ana"}
    listed = runner.invoke(app, ["review", "list", "--brand", "Fullips", "--min-score", "0.5"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "[bold red]FREE[/]" in listed.output and "[link=https://evil.test]" in listed.output
    assert "\x1b" not in listed.output and "\u202e" not in listed.output
    assert "\\u001b" in listed.output and "\\u202e" in listed.output

    shown = runner.invoke(app, ["review", "show", str(match_id)], env=env)
    assert shown.exit_code == 0, shown.output
    for expected in ("[bold red]FREE[/]", "Fullips Lip Plumper", "24.00 USD", "Cheap Deals 4U",
                     "Et Al Beauty Official Store", "leetspeak", "found by scan", "https://img.bazaarly.test/1.jpg"):
        assert expected in shown.output, expected
    assert "\x1b" not in shown.output

    done = runner.invoke(app, ["review", "dismiss", str(match_id), "--note", "[red]parody[/red]"], env=env)
    assert done.exit_code == 0, done.output
    assert "new -> dismissed" in done.output
    again = runner.invoke(app, ["review", "confirm", str(match_id), "--by", "bo"], env=env)
    assert again.exit_code == 0, again.output

    db = database()
    log = events(db)
    db.dispose()
    assert log[-2] == ("new", "dismissed", "ana", "[red]parody[/red]")
    assert log[-1] == ("dismissed", "confirmed", "bo", None)
    assert "[red]parody[/red]" in runner.invoke(app, ["review", "show", str(match_id)], env=env).output

    missing = runner.invoke(app, ["review", "show", "9999"], env=env)
    assert isinstance(missing.exception, LookalikeError) and "no match with id 9999" in str(missing.exception)
    bad = runner.invoke(app, ["review", "list", "--status", "open"], env=env)
    assert isinstance(bad.exception, LookalikeError)


def test_cli_errors_are_one_line(settings_env, capsys: pytest.CaptureFixture[str]) -> None:
    from cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["review", "confirm", "12345"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: no match with id 12345"


# ------------------------------------------------------------------------------ evidence and classes


def test_evidence_is_stored_read_back_and_refreshed(database: Database) -> None:
    from matching.evidence import Evidence, ImageRegion, TextSpan, evidence_from_json

    ids = make_world(database)
    mark = Evidence("mark", 0.72, "title 'Ful1ips' matches mark Fullips (leetspeak 1→l)",
                    spans=(TextSpan("title", 0, 7),), disguise="leetspeak", details={"mark": "Fullips"})
    image = Evidence("image", 0.9, "image 1 copies FLP-001 photo a",
                     regions=(ImageRegion(1, "17", (0.1, 0.2, 0.6, 0.9), (0.0, 0.0, 1.0, 1.0)),),
                     details={"kind": "edited_copy", "score": float("nan")})

    def record(*evidence: Evidence) -> str:
        with database.session() as s:
            listing = s.get(Listing, ids["listing"])
            return review.record_match(s, listing, review.Verdict(ids["brand"], ids["product"], 0.93, "counterfeit",
                                                                  evidence=evidence, reasons=("r",)))

    assert record(mark, image) == "created"
    stored = the_match(database, ids).evidence
    assert stored[0]["spans"] == [{"field": "title", "start": 0, "end": 7}] and stored[0]["disguise"] == "leetspeak"
    assert stored[1]["regions"][0]["listing_box"] == [0.1, 0.2, 0.6, 0.9]
    noted = ImageRegion(2, "18", None, None, "edited_copy", "image 2 copies FLP-001 photo b (an edited copy)")
    (back,) = evidence_from_json([Evidence("image", 0.9, "r", regions=(noted,)).to_json()])
    assert back.regions == (noted,)  # each pair's kind and note survive the round trip
    assert stored[1]["details"]["score"] is None  # NaN is not JSON
    assert [e.signal for e in evidence_from_json(stored)] == ["mark", "image"]
    assert record(mark, image) == "unchanged"
    assert record(mark) == "updated"  # only the evidence changed
    assert [e["signal"] for e in the_match(database, ids).evidence] == ["mark"]
    assert evidence_from_json(None) == [] and evidence_from_json([{"signal": "nope"}, "x"]) == []


def test_queue_ranks_accessories_and_resales_below_suspects(database: Database) -> None:
    ids = make_world(database)
    with database.session() as s:
        base = s.get(Listing, ids["listing"])
        rows = []
        for n, (klass, value) in enumerate([("resale", 0.3), ("accessory", 0.3), ("lookalike", 0.55),
                                            ("counterfeit", 0.6)]):
            row = Listing(marketplace_id=base.marketplace_id, external_id=f"q{n}", url=f"https://bazaarly.test/q{n}",
                          canonical_url=f"https://bazaarly.test/q{n}",
                          title=f"q{n}", first_seen=T0, last_seen=T0, content_hash=f"h{n}")
            s.add(row)
            s.flush()
            rows.append(row)
            review.record_match(s, row, review.Verdict(ids["brand"], None, value, klass))
    with database.session() as s:
        assert [m.klass for m in review.list_matches(s)] == ["counterfeit", "lookalike", "accessory", "resale"]
    assert review.may_report("counterfeit") and review.may_report("lookalike")
    assert not any(review.may_report(k) for k in ("accessory", "resale", "clean"))
    assert frozenset({"counterfeit", "lookalike"}) == review.NOTICE_SAFE_CLASSES
