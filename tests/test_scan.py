"""The scan's library functions: targets, DB rows -> matching records, matching in batches, summaries."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from scan_support import disposed_after
from sqlalchemy import func, select

from core.prefect_env import configure_prefect_env, prefect_defaults
from core.settings import load_settings
from crawlers.stats import CrawlStats, ListingCounts
from matching.signature import ImageSignature
from services import scan
from services.matchdata import image_signature, listing_input, load_brand_profiles, photo_label
from services.registry.load import load_registry
from services.registry.sync import import_registry
from services.review import set_status
from services.signatures import sign_stored
from storage.db import Database
from storage.imagestore import ImageStore, save_image_row
from storage.models import CrawlRun, Listing, ListingImage, Marketplace, Match, MatchEvent

REPO = Path(__file__).resolve().parent.parent

REGISTRY = """\
brands:
  - name: Glowmint
    owner: Glowmint Labs
    category: skincare
    keywords: [serum, skin, face]
    aliases: [Glow Mint]
    authorized_sellers: [Glowmint Official]
    products:
      - name: Glowmint Vitamin Serum
        sku: GLW-001
        msrp: 40.00
        currency: USD
        images: [refs/glw-001-a.png, refs/glw-001-b.png]
"""

SUSPECT_TITLES = [
    "Gl0wmint Vitamin Serum replica 1:1 AAA",
    "GLOWMINT vitamin serum face dupe cheap",
    "G l o w m i n t Serum skin wholesale",
]
CLEAN_TITLES = ["Garden hose 20 m green", "Steel water bottle 750 ml", "Wooden chess set"]


def _packshot(seed: int) -> bytes:
    image = Image.new("RGB", (320, 320), "white")
    draw = ImageDraw.Draw(image)
    for k in range(8):
        x, y = (seed * 37 + k * 53) % 260, (seed * 91 + k * 29) % 260
        draw.rectangle((x, y, x + 40 + k * 3, y + 30 + k * 2), fill=((seed * 60 + k * 30) % 256, k * 30, 200 - k * 20))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world(tmp_path: Path) -> Path:
    folder = tmp_path / "registry"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "glw-001-a.png").write_bytes(_packshot(1))
    (folder / "refs" / "glw-001-b.png").write_bytes(_packshot(2))
    (folder / "registry.yaml").write_text(REGISTRY, encoding="utf-8")
    return folder


@pytest.fixture
def settings(tmp_path: Path, db_url: str):
    return load_settings(data_dir=tmp_path / "data", db_url=db_url)


@pytest.fixture
def db(settings, world: Path):
    with Database(settings.database_url).ensure_schema() as database:
        store = ImageStore.from_settings(settings)
        with database.session() as session:
            import_registry(session, load_registry(world / "registry.yaml", store=store), store)
        yield database


def add_listing(database: Database, n: int, title: str, *, seller: str = "Some Shop", price: str = "9.99",
                images: list[bytes] = (), store: ImageStore | None = None) -> int:
    with database.session() as session:
        market = session.scalar(select(Marketplace).where(Marketplace.name == "shop.test"))
        if market is None:
            market = Marketplace(name="shop.test", base_url="https://shop.test", kind="shop")
            session.add(market)
            session.flush()
        digest = hashlib.sha256(f"{title}|{price}|{seller}".encode()).hexdigest()
        listing = Listing(marketplace_id=market.id, canonical_url=f"https://shop.test/p/{n}",
                          url=f"https://shop.test/p/{n}", title=title, description="", price=Decimal(price),
                          currency="USD", seller=seller, content_hash=digest, needs_matching=True,
                          image_urls=[f"https://shop.test/img/{n}-{k}.png" for k in range(len(images))])
        session.add(listing)
        session.flush()
        for k, data in enumerate(images):
            stored = store.put(data)
            save_image_row(session, stored)
            session.add(ListingImage(listing_id=listing.id, url=f"https://shop.test/img/{n}-{k}.png", position=k,
                                     sha256=stored.sha256, status="ok"))
        return listing.id


def change_listing(database: Database, listing_id: int, **values) -> None:
    with database.session() as session:
        listing = session.get(Listing, listing_id)
        for key, value in values.items():
            setattr(listing, key, value)
        listing.content_hash = hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()
        listing.needs_matching = True


def queue(database: Database) -> dict[int, tuple[str, str]]:
    with database.session() as session:
        return {m.listing_id: (m.klass, m.status) for m in session.scalars(select(Match))}


# ------------------------------------------------------------------------------------------------ targets

GOOD_SCAN_FILES = [
    ("shops: [https://a.example/]", [scan.ScanTarget(start_urls=("https://a.example/",))]),
    ("shops:\n  - start_urls: [https://a.example/x, https://a.example/y]",
     [scan.ScanTarget(start_urls=("https://a.example/x", "https://a.example/y"))]),
    ("profiles: [ebay]", [scan.ScanTarget(profile="ebay")]),
    ("profiles:\n  - name: demo\n    base_url: http://127.0.0.1:8000\n    queries: [lip gloss]",
     [scan.ScanTarget(profile="demo", base_url="http://127.0.0.1:8000", queries=("lip gloss",))]),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), GOOD_SCAN_FILES)
def test_scan_file_is_read(text: str, expected: list[scan.ScanTarget]) -> None:
    assert scan.parse_targets(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("shops: [ftp://a.example/]", "not an http(s) URL"),
    ("shops: [1, 2]", "shops.0: must be a URL or a mapping {start_urls: [URL, ...]}"),
    ("shops: [{start_urls: [ftp://y]}]", "shops.0.start_urls: not an http(s) URL: 'ftp://y'"),
    ("profiles: [{nam: x}]", "profiles.0.name: Field required"),
    ("profile: [ebay]", "Extra inputs"),
    ("- just a list", "a scan file is a mapping"),
    ("shops: [unclosed", "not valid YAML"),
    ("profiles:\n  - name: demo\n    base_url: javascript:alert(1)", "not an http(s) URL"),
])
def test_bad_scan_file_is_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(scan.ScanFileError) as excinfo:
        scan.parse_targets(text, source="scan.yaml")
    assert message in str(excinfo.value)
    assert str(excinfo.value).startswith("scan.yaml: ")
    assert "\n" not in str(excinfo.value)


def test_scan_file_from_disk_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "scan.yaml"
    with pytest.raises(scan.ScanFileError, match="no such scan file"):
        scan.load_targets(path)
    path.write_text("shops: [https://a.example/]\n", encoding="utf-8")
    assert scan.load_targets(path) == [scan.ScanTarget(start_urls=("https://a.example/",))]


def test_start_urls_are_grouped_into_one_crawl_per_site() -> None:
    targets = scan.targets_from_options(
        start_urls=["https://a.example/x", "https://b.example/", "https://A.example/y"], profiles=["ebay"])
    assert targets == [
        scan.ScanTarget(start_urls=("https://a.example/x", "https://A.example/y")),
        scan.ScanTarget(start_urls=("https://b.example/",)),
        scan.ScanTarget(profile="ebay"),
    ]
    assert [t.key for t in targets] == ["a.example", "b.example", "ebay"]
    with pytest.raises(scan.ScanFileError):
        scan.targets_from_options(start_urls=["file:///etc/passwd"])


def test_profiles_get_the_registry_queries_and_repeats_are_dropped() -> None:
    targets = [scan.ScanTarget(profile="demo", queries=("extra", "Glowmint")), scan.ScanTarget(profile="demo"),
               scan.ScanTarget(start_urls=("https://a.example/",)), scan.ScanTarget(start_urls=("https://a.example/",))]
    planned = scan.plan_targets(targets, queries=["Glowmint", "Glow Mint"])
    assert planned == [scan.ScanTarget(profile="demo", queries=("Glowmint", "Glow Mint", "extra")),
                       scan.ScanTarget(start_urls=("https://a.example/",))]
    groups = scan.group_by_site([*planned, scan.ScanTarget(profile="demo", base_url="http://x.test")])
    assert [len(g) for g in groups.values()] == [2, 1]


def test_registry_queries_are_marks_then_product_names_then_disguises(db: Database) -> None:
    from services.queryplan import plan_for_source

    with db.session() as session:
        planned = plan_for_source(session, "demo", budget=200)
        assert [(q.candidate.text, q.candidate.kind) for q in planned] == [
            ("Glowmint", "mark"), ("Glow Mint", "mark"), ("Glowmint Vitamin Serum", "product"),
            ("Vitamin Serum", "noun"), ("gl0wmint", "guessed"), ("glowmmint", "guessed"),
        ]
        assert [q.candidate.text for q in plan_for_source(session, "demo", budget=1)] == ["Glowmint"]


# ------------------------------------------------------------------------------------------- matchdata


def test_brand_profiles_carry_marks_products_and_labelled_photos(db: Database) -> None:
    with db.session() as session:
        (profile,) = load_brand_profiles(session)
    assert profile.name == "Glowmint" and profile.marks == ("Glowmint", "Glow Mint")
    assert profile.authorized_sellers == ("Glowmint Official",)
    assert profile.keywords == ("serum", "skin", "face") and profile.category == "skincare"
    (product,) = profile.products
    assert (product.sku, product.msrp, product.currency) == ("GLW-001", Decimal("40.00"), "USD")
    assert [i.label for i in product.images] == ["GLW-001 photo a", "GLW-001 photo b"]
    assert all(isinstance(i.signature, ImageSignature) and i.signature.keypoints for i in product.images)
    assert photo_label("X", 27) == "X photo 28"


def test_listing_input_has_image_signatures_in_order_and_skips_unusable(db: Database, settings) -> None:
    store = ImageStore.from_settings(settings)
    listing_id = add_listing(db, 1, "Glowmint serum", images=[_packshot(3), _packshot(4)], store=store)
    sign_stored(db, settings)
    with db.session() as session:
        listing = session.get(Listing, listing_id)
        listing.images[0].status = "corrupt"
        session.flush()
        record = listing_input(listing)
        expected = image_signature(listing.images[1].image)
    assert expected is not None
    assert record.title == "Glowmint serum" and record.price == Decimal("9.99") and record.currency == "USD"
    assert record.images == (expected,)
    with db.session() as session:  # a damaged signature row: that image is left out, never the listing
        listing = session.get(Listing, listing_id)
        listing.images[1].image.signature.fields = {**listing.images[1].image.signature.fields, "thumb": "AAAA"}
        session.flush()
        assert image_signature(listing.images[1].image) is None
        assert listing_input(listing).images == ()


# -------------------------------------------------------------------------------------------- matching


def test_pending_listings_are_matched_recorded_and_unflagged(db: Database, settings) -> None:
    ids = [add_listing(db, n, t) for n, t in enumerate(SUSPECT_TITLES + CLEAN_TITLES)]
    stats = scan.match_pending(db, settings=settings, batch_size=4)
    assert stats.listings == len(ids) and stats.batches == 2 and stats.errors == 0
    assert stats.outcomes["created"] == len(SUSPECT_TITLES)
    assert stats.per_brand == {"Glowmint": {"created": len(SUSPECT_TITLES)}}
    assert set(queue(db)) == set(ids[: len(SUSPECT_TITLES)])
    assert all(status == "new" for _, status in queue(db).values())
    assert scan.pending_count(db) == 0
    # Nothing pending: a second pass does nothing.
    assert scan.match_pending(db, settings=settings).listings == 0


def test_unchanged_rescore_changes_nothing_and_a_change_updates(db: Database, settings) -> None:
    ids = [add_listing(db, n, t) for n, t in enumerate(SUSPECT_TITLES)]
    scan.match_pending(db, settings=settings)
    with db.session() as session:
        session.get(Listing, ids[0]).needs_matching = True  # flagged again, same content
    again = scan.match_pending(db, settings=settings)
    assert again.outcomes == {"unchanged": 1} and again.per_brand == {}
    change_listing(db, ids[1], price=Decimal("5.00"))
    changed = scan.match_pending(db, settings=settings)
    assert changed.outcomes == {"updated": 1}
    with db.session() as session:
        match = session.scalar(select(Match).where(Match.listing_id == ids[1]))
        assert any("price changed" in c for c in match.changes) and match.status == "new"


def test_dismissed_match_stays_dismissed_until_the_listing_changes(db: Database, settings) -> None:
    (listing_id,) = [add_listing(db, 0, SUSPECT_TITLES[0])]
    scan.match_pending(db, settings=settings)
    with db.session() as session:
        match_id = session.scalar(select(Match.id))
        set_status(session, match_id, "dismissed", actor="ana")
    with db.session() as session:
        session.get(Listing, listing_id).needs_matching = True
    scan.match_pending(db, settings=settings)
    assert queue(db)[listing_id] == ("counterfeit", "dismissed")
    change_listing(db, listing_id, title=SUSPECT_TITLES[0] + " NEW", price=Decimal("3.00"))
    reopened = scan.match_pending(db, settings=settings)
    assert reopened.outcomes == {"reopened": 1}
    assert queue(db)[listing_id][1] == "new"


def test_an_interrupted_pass_leaves_only_unfinished_batches(db: Database, settings, tmp_path: Path,
                                                             world: Path, request: pytest.FixtureRequest) -> None:
    titles = (SUSPECT_TITLES + CLEAN_TITLES) * 2
    for n, title in enumerate(titles):
        add_listing(db, n, title)
    first = scan.match_pending(db, settings=settings, batch_size=5, max_batches=1)
    assert first.listings == 5 and scan.pending_count(db) == len(titles) - 5
    scan.match_pending(db, settings=settings, batch_size=5)
    interrupted = queue(db)
    # The same listings matched in one go on a fresh database give the same queue.
    fresh = disposed_after(request, Database(f"sqlite:///{tmp_path / 'fresh.db'}").ensure_schema())
    store = ImageStore.from_settings(settings)
    with fresh.session() as session:
        import_registry(session, load_registry(world / "registry.yaml", store=store), store)
    for n, title in enumerate(titles):
        add_listing(fresh, n, title)
    scan.match_pending(fresh, settings=settings)
    assert queue(fresh) == interrupted and len(interrupted) == 2 * len(SUSPECT_TITLES)


class CrawlerMeanwhile:
    """A matcher that, while scoring listing ``listing_id``, lets a crawl store new content for it (on
    SQLite, before the batch has written anything: a crawl writing later waits for the batch to commit)."""

    def __init__(self, matcher, database: Database, listing_id: int) -> None:
        self.matcher, self.database, self.listing_id = matcher, database, listing_id

    def score(self, listing):
        if listing.listing_id == self.listing_id:
            change_listing(self.database, self.listing_id, title="Gl0wmint serum, new photos")
        return self.matcher.score(listing)


def test_a_listing_changed_while_scored_stays_pending(tmp_path: Path, world: Path) -> None:
    from matching import Matcher

    settings = load_settings(data_dir=tmp_path / "data", db_url=f"sqlite:///{tmp_path / 'race.db'}")
    with Database(settings.database_url).ensure_schema() as database:
        store = ImageStore.from_settings(settings)
        with database.session() as session:
            import_registry(session, load_registry(world / "registry.yaml", store=store), store)
            matcher = Matcher(load_brand_profiles(session))
        ids = [add_listing(database, n, t) for n, t in enumerate(SUSPECT_TITLES)]
        stats = scan.match_pending(database, settings=settings, matcher=CrawlerMeanwhile(matcher, database, ids[0]))
        assert stats.listings == 3 and scan.pending_count(database) == 1
        with database.session() as session:
            assert [lid for lid in ids if session.get(Listing, lid).needs_matching] == [ids[0]]
        again = scan.match_pending(database, settings=settings, matcher=matcher)
        assert again.listings == 1 and again.outcomes == {"updated": 1} and scan.pending_count(database) == 0


def test_summary_counts_crawls_matching_and_open_matches_per_brand(db: Database, settings) -> None:
    for n, title in enumerate(SUSPECT_TITLES):
        add_listing(db, n, title)
    stats = scan.match_pending(db, settings=settings)
    crawl = scan.CrawlOutcome(target="https://a.example/", crawl_run_id=1, status="finished",
                              stats=CrawlStats(pages=12, listings=ListingCounts(new=3, changed=1, reappeared=1,
                                                                                unchanged=4, gone=2)))
    failed = scan.failed_outcome(scan.ScanTarget(profile="demo"), "x")
    assert (failed.target, failed.status, failed.stats.error, failed.crawl_run_id) == ("profile demo", "failed", "x", None)
    summary = scan.scan_summary(db, scan_id="scan-1", crawls=[crawl, failed], matching=stats)
    assert (summary.pages, summary.listings_new, summary.listings_changed, summary.listings_unchanged,
            summary.listings_gone) == (12, 3, 2, 4, 2)
    assert summary.suspects_new == 3 and summary.per_brand["Glowmint"] == {"new": 3, "updated": 0,
                                                                          "reopened": 0, "open": 3}
    lines = scan.summary_lines(summary)
    assert "12 pages" in lines[0] and "crawl profile demo: failed" in lines
    assert scan.ScanSummary.from_dict(summary.as_dict()) == summary
    assert summary.failed_crawls == [failed] and summary.as_dict()["crawls"][1]["stats"]["error"] == "x"


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_on_postgresql_share_the_work_without_duplicates(postgres_url: str, tmp_path: Path, world: Path,
                                                                     request: pytest.FixtureRequest) -> None:
    settings = load_settings(data_dir=tmp_path / "data", db_url=postgres_url)
    database = disposed_after(request, Database(postgres_url).ensure_schema())
    store = ImageStore.from_settings(settings)
    with database.session() as session:
        import_registry(session, load_registry(world / "registry.yaml", store=store), store)
    titles = (SUSPECT_TITLES + CLEAN_TITLES) * 16
    for n, title in enumerate(titles):
        add_listing(database, n, f"{title} {n}")
    go = tmp_path / "go"
    worker = textwrap.dedent(f"""
        import json, time, pathlib
        from services import scan
        from core.settings import load_settings
        from storage.db import Database
        settings = load_settings(data_dir={str(tmp_path / 'data')!r}, db_url={postgres_url!r})
        db = Database(settings.database_url)
        while not pathlib.Path({str(go)!r}).exists():
            time.sleep(0.01)
        stats = scan.match_pending(db, settings=settings, batch_size=4)
        print(json.dumps(stats.as_dict()))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", worker], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=REPO) for _ in range(2)]
    go.touch()
    finished = [(proc, *proc.communicate(timeout=300)) for proc in procs]
    results = []
    for proc, out, err in finished:
        assert proc.returncode == 0, err[-2000:]
        results.append(scan.MatchStats.from_dict(json.loads(out.strip().splitlines()[-1])))
    assert sum(r.listings for r in results) == len(titles)  # each listing scored once, by one worker
    assert all(r.listings > 0 for r in results)  # and both workers took part
    with database.session() as session:
        matches = session.scalar(select(func.count()).select_from(Match))
        pairs = session.scalar(select(func.count()).select_from(
            select(Match.listing_id, Match.brand_id).distinct().subquery()))
        created_events = session.scalar(select(func.count()).select_from(MatchEvent)
                                        .where(MatchEvent.from_status.is_(None)))
    assert matches == pairs == created_events >= 16  # one match and one creation event per suspect pair
    assert sum(r.outcomes.get("created", 0) for r in results) == matches
    assert scan.pending_count(database) == 0


# ----------------------------------------------------------------------------------------- prefect env


def test_prefect_environment_defaults_never_override_the_user(tmp_path: Path) -> None:
    env = {"DO_NOT_TRACK": "0", "PREFECT_HOME": ""}
    applied = configure_prefect_env(tmp_path / "data", environ=env)
    assert env["PREFECT_HOME"] == str((tmp_path / "data" / "prefect").resolve())
    assert Path(env["PREFECT_HOME"]).is_dir()
    assert env["DO_NOT_TRACK"] == "0" and "DO_NOT_TRACK" not in applied
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert int(env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]) >= 60
    again = configure_prefect_env(tmp_path / "other", environ=env)
    assert again == {} and env["PREFECT_HOME"].startswith(str(tmp_path / "data"))
    assert set(prefect_defaults(tmp_path)) == set(applied) | {"DO_NOT_TRACK"}


@pytest.mark.parametrize(
    ("mark", "expected"),
    [
        ("Fullips", ["fu11ips", "fulips", "ful lips"]),
        ("Novalux", ["n0valux", "novallux", "nov alux"]),
        ("Dude", []),
        ("Et Al", []),
    ],
)
def test_profiles_also_search_disguised_spellings(mark: str, expected: list[str]) -> None:
    from services.scantargets import disguised_spellings

    assert disguised_spellings(mark) == expected


# ------------------------------------------------------------------------------- crawls run elsewhere


def test_waiting_for_runs_elsewhere_polls_until_each_is_final_or_time_is_up() -> None:
    """The nightly flow's wait for its ``crawl-site`` runs, on a fake clock: each run is read until it is
    final, never after, and the runs not final at the deadline come back as None."""
    done = scan.FinalState("Completed", completed=True)
    final_after = {"a": 1, "b": 3, "c": None}  # the read at which each run is final; c never is
    reads: list[str] = []
    now = [0.0]

    def read_final(run_id: str) -> scan.FinalState | None:
        reads.append(run_id)
        after = final_after[run_id]
        return done if after is not None and reads.count(run_id) >= after else None

    def sleep(seconds: float) -> None:
        now[0] += seconds

    finals = scan.wait_until_final(["a", "b", "c"], read_final, timeout=10, poll=2, clock=lambda: now[0],
                                   sleep=sleep)
    assert finals == {"a": done, "b": done, "c": None}
    assert (reads.count("a"), reads.count("b"), reads.count("c")) == (1, 3, 7) and now[0] == 12

    def no_sleep(_seconds: float) -> None:
        raise AssertionError("every run was final at the first read: no wait")

    assert scan.wait_until_final(["a"], lambda _r: done, timeout=10, poll=2, sleep=no_sleep) == {"a": done}


def test_the_outcome_of_a_run_elsewhere_says_why_it_has_no_crawl(database: Database) -> None:
    target = scan.ScanTarget(start_urls=("http://a.example/",))

    def outcome(final: scan.FinalState | None) -> scan.CrawlOutcome:
        return scan.outcome_of_run(database, scan_id="scan-1", target=target, run_name="crawl a", final=final,
                                   waited=60)

    completed = scan.FinalState("Completed", completed=True)
    errors = [outcome(None), outcome(scan.FinalState("Crashed", completed=False, message="worker died")),
              outcome(completed)]
    assert [(o.status, o.crawl_run_id, o.target) for o in errors] == [("failed", None, "http://a.example/")] * 3
    assert [o.stats.error for o in errors] == [
        "flow run crawl a not finished after 60 s", "flow run crawl a ended Crashed: worker died",
        "flow run crawl a completed but recorded no crawl in scan-1"]
    with database.session() as session:
        session.add(CrawlRun(scan_id="scan-1", status="finished", stats={"pages": 4},
                             target_key=target.crawl_request(scan_id="scan-1").target_key))
    recorded = outcome(completed)
    assert (recorded.status, recorded.stats.pages) == ("finished", 4) and recorded.crawl_run_id is not None


def test_runs_recorded_before_target_keys_get_theirs_from_params_once(db_url: str) -> None:
    """Migration 0009 backfills ``crawl_runs.target_key`` from ``params`` (a scan in flight during the
    upgrade still finds its runs); runs of no scan are left without one."""
    import datetime as dt

    import sqlalchemy as sa
    from alembic import command

    from storage.db import alembic_config, upgrade

    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "0009_crawl_target-1")
    runs = sa.table("crawl_runs", sa.column("scan_id", sa.String), sa.column("started_at", sa.DateTime),
                    sa.column("status", sa.String), sa.column("params", sa.JSON), sa.column("stats", sa.JSON))
    target = scan.ScanTarget(profile="demo", base_url="http://127.0.0.1:8000", queries=("fullips",))
    params = {"spider": "search", "start_urls": [], "profile": "demo", "queries": ["fullips"],
              "base_url": "http://127.0.0.1:8000", "scope": "search"}
    with Database(db_url) as database, database.engine.begin() as conn:
        when = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        conn.execute(sa.insert(runs), [
            {"scan_id": "scan-1", "started_at": when, "status": "finished", "params": params, "stats": {"pages": 2}},
            {"scan_id": None, "started_at": when, "status": "finished", "params": params, "stats": {}}])
    upgrade(db_url)
    with Database(db_url) as database:
        assert scan.recorded_outcome(database, scan_id="scan-1", target=target).stats.pages == 2
        with database.session() as session:
            assert [r.target_key for r in session.scalars(select(CrawlRun).order_by(CrawlRun.id))] == [
                target.crawl_request().target_key, None]
