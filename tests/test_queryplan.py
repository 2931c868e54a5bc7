"""Search planned from the registry (services/queryplan.py) and its per-query record (services/querystats.py,
the search spider's query record pipeline, ``lookalike sources queries``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from crawl_support import FAST_CRAWL, write_tiny_world
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from core.settings import load_settings
from crawlers.pipelines.queries import record_queries
from crawlers.run import CrawlRequest, run_crawl
from data.demo.marketplace import DemoMarketplace
from services import querystats
from services.queryplan import (
    BrandTerms,
    Candidate,
    PlanConfig,
    QueryRecord,
    candidate_queries,
    learnt_spellings,
    plan_for_source,
    product_noun,
    rank_queries,
    seller_words,
)
from services.scantargets import plan_scan
from storage.db import Database
from storage.models import Brand, CrawlRun, Listing, Mark, Marketplace, Match, Owner, Product, QueryRun

# ------------------------------------------------------------------------------------------- candidates


@pytest.mark.parametrize(("name", "marks", "noun"), [
    ("Fullips Lip Plumper", ["Fullips"], "Lip Plumper"),
    ("Lip Plumper by Fullips", ["Fullips"], "Lip Plumper by"),
    ("Summit Outdoors Camp Mug", ["Summit", "Summit Outdoors"], "Camp Mug"),
    ("FULLIPS Serum", ["Fullips"], "Serum"),
    ("Fullips", ["Fullips"], None),
    ("Fullips XL", ["Fullips"], None),  # two letters left: too little to search for
])
def test_product_nouns_are_the_name_without_the_brands_marks(name: str, marks: list[str], noun: str | None) -> None:
    assert product_noun(name, marks) == noun


def test_learnt_spellings_are_the_disguised_tokens_of_confirmed_titles() -> None:
    titles = ["Fu11ips lip plumper HOT SALE", "NEW Fu11ips Lip Plumper original", "F.U.L.L.I.P.S plumper",
              "Fullіps gloss",  # a Cyrillic і
              "Fullips lip plumper",  # the mark itself: the registry's query already
              "F u l l i p s plumper",  # one-letter words match every listing: not a query
              "Fulips plumper",  # a misspelling: not the mark once normalised
              "Summit headlamp"]
    assert learnt_spellings(titles, ["Fullips"]) == ["Fu11ips", "F.U.L.L.I.P.S", "Fullіps"]
    assert learnt_spellings(titles, ["Fullips"], limit=1) == ["Fu11ips"]
    assert learnt_spellings([], ["Fullips"]) == []


def test_seller_words_are_what_confirmed_titles_say_more_than_other_listings() -> None:
    confirmed = ["Lip Plumper 5 ml clearance", "Clearance lip plumper glossy", "lip plumper glossy Best Seller",
                 "Fu11ips lip plumper best seller", "Fulips Lip Plumper clearance"]
    background = [*confirmed, *[f"Classic lip plumper {n} ml" for n in range(20)], "Clearance rack", "best deals"]
    words = seller_words(confirmed, background, exclude=["Lip Plumper"], marks=["Fullips"], count=3)
    # the noun is excluded, numbers too, and spellings of the mark are not seller words
    assert words[0] == "clearance" and set(words) <= {"clearance", "glossy", "best", "seller"}
    assert "fulips" not in words and "fu11ips" not in words and "lip" not in words
    assert seller_words([], background) == []


def test_candidates_from_the_registry_and_the_review_queue() -> None:
    fullips = BrandTerms(name="Fullips", marks=("Full Lips",), products=("Fullips Lip Plumper", "Fullips Gloss"),
                         confirmed_titles=("Fu11ips lip plumper clearance", "lip plumper clearance sale",
                                           "Gloss clearance sale"))
    summit = BrandTerms(name="Summit", products=("Summit Camp Mug",))
    background = ["Classic lip plumper", "Camp mug", "sale on mugs", "sale", "sale"]
    found = candidate_queries([fullips, summit], background=background, extra=["my own query"])
    kinds = {(c.text, c.kind, c.brand) for c in found}
    assert found[0] == Candidate("my own query", "extra", "")
    assert {("Fullips", "mark", "Fullips"), ("Full Lips", "mark", "Fullips"), ("Fu11ips", "spelling", "Fullips"),
            ("Fullips Lip Plumper", "product", "Fullips"), ("Lip Plumper", "noun", "Fullips"),
            ("Gloss", "noun", "Fullips"), ("Lip Plumper clearance", "seller-words", "Fullips"),
            ("Gloss clearance", "seller-words", "Fullips"), ("Camp Mug", "noun", "Summit"),
            ("Camp Mug clearance", "seller-words", "Summit")} <= kinds
    assert len({c.text.casefold() for c in found}) == len(found)  # no repeats


# ---------------------------------------------------------------------------------------------- ranking


def _cands(n: int, brand: str = "A", kind: str = "noun") -> list[Candidate]:
    return [Candidate(f"{brand} q{i}", kind, brand) for i in range(n)]


def test_queries_that_find_suspects_come_first_and_those_that_never_do_sink() -> None:
    cands = _cands(6)
    records = {"a q0": QueryRecord(runs=5, results=50, suspects=0), "a q1": QueryRecord(runs=3, suspects=6),
               "a q2": QueryRecord(runs=1, suspects=0), "a q3": QueryRecord(runs=4, suspects=1)}
    ranked = rank_queries(cands, records, budget=6, config=PlanConfig(explore_share=0.0))
    order = [r.candidate.text for r in ranked]
    states = {r.candidate.text: r.state for r in ranked}
    assert order[0] == "A q1" and order[-1] == "A q0"
    assert states == {"A q0": "sunk", "A q1": "found", "A q2": "unproven", "A q3": "found", "A q4": "explore",
                      "A q5": "explore"}
    # Within a small budget the sunk query is the one left out.
    assert "A q0" not in [r.candidate.text for r in rank_queries(cands, records, budget=5)]


def test_a_query_that_only_finds_what_others_find_gives_its_place_away() -> None:
    cands = [Candidate(t, "noun", "A") for t in ("broad", "same as broad", "narrow", "untried")]
    records = {"broad": QueryRecord(runs=2, suspects=10, suspect_ids=frozenset({1, 2, 3, 4, 5})),
               "same as broad": QueryRecord(runs=2, suspects=8, suspect_ids=frozenset({1, 2, 3, 4})),
               "narrow": QueryRecord(runs=2, suspects=2, suspect_ids=frozenset({9}))}
    config = PlanConfig(explore_share=0.0)
    ranked = [r.candidate.text for r in rank_queries(cands, records, budget=2, config=config)]
    assert sorted(ranked) == ["broad", "narrow"]
    # With room, the redundant query still goes, after the unproven one; without suspect ids, by score.
    assert [r.candidate.text for r in rank_queries(cands, records, budget=4, config=config)][:2] == ["broad",
                                                                                                    "same as broad"]
    plain = {k: QueryRecord(runs=v.runs, suspects=v.suspects) for k, v in records.items()}
    assert sorted(r.candidate.text for r in rank_queries(cands, plain, budget=2, config=config)) == [
        "broad", "same as broad"]


def test_new_queries_keep_a_share_of_the_budget() -> None:
    proven = _cands(20)
    records = {c.text.casefold(): QueryRecord(runs=2, suspects=3) for c in proven}
    fresh = [Candidate(f"new {i}", "noun", "A") for i in range(10)]
    ranked = rank_queries(proven + fresh, records, budget=8, config=PlanConfig(explore_share=0.25))
    assert sum(r.state == "explore" for r in ranked) == 2 and len(ranked) == 8
    # Unused exploration slots go to known queries, and the other way round.
    assert len(rank_queries(proven, records, budget=8)) == 8
    assert len(rank_queries(fresh, {}, budget=8)) == 8
    assert rank_queries(fresh, {}, budget=0) == []


def test_brands_take_turns_and_the_operators_queries_always_go() -> None:
    cands = [Candidate("mine", "extra", ""), *_cands(10, "A"), *_cands(10, "B"), *_cands(2, "C")]
    ranked = rank_queries(cands, {}, budget=7)
    assert ranked[0].candidate.text == "mine"
    brands = [r.candidate.brand for r in ranked[1:]]
    assert sorted(brands) == ["A", "A", "B", "B", "C", "C"]


# ---------------------------------------------------------------------------------- record, end to end


def _brand(db: Database) -> None:
    with db.session() as session:
        session.add(Brand(name="Glowmint", owner=Owner(name="Glow Labs"), keywords=[], digest_to=[], thresholds={},
                          marks=[Mark(text="Glow Mint", kind="alias")],
                          products=[Product(sku="G-1", name="Glowmint Hydrating Serum")]))


def test_a_search_crawl_records_each_query_and_the_next_plan_ranks_by_it(tmp_path: Path, monkeypatch) -> None:
    world = tmp_path / "world"
    write_tiny_world(world, listings=12)
    db_url = f"sqlite:///{tmp_path / 'q.db'}"
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    db = Database(db_url).ensure_schema()
    _brand(db)
    queries = ["Glowmint Serum 7", "serum", "no-such-thing"]
    with DemoMarketplace(world, slow_seconds=0.1) as market:
        first = run_crawl(settings, CrawlRequest(profile="demo", base_url=market.url, queries=queries,
                                                 scan_id="night-1", scrapy_overrides=FAST_CRAWL))
        with db.session() as session:
            rows = {r.query: r for r in session.scalars(select(QueryRun).where(QueryRun.crawl_run_id == first))}
            assert set(rows) == set(queries) and {r.source for r in rows.values()} == {"demo"}
            assert (rows["serum"].results, rows["serum"].new_listings, len(rows["serum"].listing_ids)) == (12, 12, 12)
            assert (rows["Glowmint Serum 7"].results, rows["Glowmint Serum 7"].new_listings) == (1, 1)
            assert (rows["no-such-thing"].results, rows["no-such-thing"].listing_ids) == (0, [])
            assert all(r.suspects is None and r.scan_id == "night-1" for r in rows.values())
            seven = session.get(Listing, rows["Glowmint Serum 7"].listing_ids[0])
            assert seven.title.startswith("Glowmint Serum 7")
            # Matching has not run: the rows wait; then one listing becomes a suspect, one is dismissed.
        assert querystats.count_suspects(db) == 1  # only the query that found nothing is counted
        with db.session() as session:
            session.execute(Listing.__table__.update().values(needs_matching=False))
            brand = session.scalars(select(Brand)).one()
            listing_ids = rows["serum"].listing_ids
            for listing_id, status in ((rows["Glowmint Serum 7"].listing_ids[0], "confirmed"),
                                       (listing_ids[-1], "dismissed")):
                session.add(Match(listing_id=listing_id, brand_id=brand.id, score=0.9, klass="counterfeit",
                                  status=status, listing_content_hash="x"))
        assert querystats.count_suspects(db) == 2
        assert querystats.count_suspects(db) == 0  # counted once
        second = run_crawl(settings, CrawlRequest(profile="demo", base_url=market.url, queries=["serum"],
                                                  scan_id="night-2", scrapy_overrides=FAST_CRAWL))
    with db.session() as session:
        again = session.scalars(select(QueryRun).where(QueryRun.crawl_run_id == second)).one()
        assert (again.results, again.new_listings) == (12, 0)  # the same listings: nothing new
        records = querystats.records_for(session, "demo")
        seven_id = rows["Glowmint Serum 7"].listing_ids[0]
        assert records["serum"] == QueryRecord(runs=1, results=12, new_listings=12, suspects=1,  # night 2 waits
                                               suspect_ids=frozenset({seven_id}))
        assert records["no-such-thing"] == QueryRecord(runs=1)
        report = {line.query: line for line in querystats.query_report(session)}
        assert (report["serum"].runs, report["serum"].pending, report["serum"].confirmed) == (2, 1, 1)
        assert report["Glowmint Serum 7"].suspects == 1
        planned = plan_for_source(session, "demo", budget=50, extra=["serum"])
    texts = [p.candidate.text for p in planned]
    assert texts[0] == "serum" and "Glowmint" in texts and "Hydrating Serum" in texts
    # The command shows it, hostile titles never reach the terminal raw.
    monkeypatch.setenv("LOOKALIKE_DB_URL", db_url)
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    result = CliRunner().invoke(app, ["sources", "queries", "--plan"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("Glowmint Serum 7" in line and " 1 " in line for line in lines)
    assert "next plan for demo" in result.output and "noun" in result.output
    assert result.output.index("Glowmint Serum 7") < result.output.index("no-such-thing")
    empty = CliRunner().invoke(app, ["sources", "queries", "--source", "elsewhere"])
    assert empty.exit_code == 0 and "no search query has run yet on elsewhere" in empty.output
    db.dispose()


def test_each_profile_searches_within_its_own_budget_or_the_settings(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    demo = (Path(__file__).parents[1] / "crawlers" / "profiles" / "demo.yaml").read_text(encoding="utf-8")
    (profiles / "tiny.yaml").write_text(demo.replace("name: demo", "name: tiny") + "query_budget: 2\n",
                                        encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'b.db'}"
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url, profiles_dir=profiles, query_budget=5)
    db = Database(db_url).ensure_schema()
    _brand(db)
    scan_file = tmp_path / "scan.yaml"
    scan_file.write_text("profiles:\n  - name: tiny\n    queries: [mine]\n  - demo\n", encoding="utf-8")
    plan = plan_scan(settings, db, targets_file=scan_file, base_url="http://127.0.0.1:8080")
    by_profile = {t.profile: t.queries for t in plan.targets}
    assert by_profile["tiny"] == ("Glowmint", "mine")  # its own budget of 2, the scan file's query included
    assert by_profile["demo"] == ("Glowmint", "Glow Mint", "Glowmint Hydrating Serum", "Hydrating Serum", "gl0wmint")
    db.dispose()


def test_the_query_record_on_both_backends(db_url: str) -> None:
    """record_queries (the pipeline's write), count_suspects, records_for and query_report on SQLite and
    PostgreSQL: JSON listing ids, grouping by query, a listing waiting for matching."""
    db = Database(db_url).ensure_schema()
    _brand(db)
    with db.session() as session:
        market = Marketplace(name="demo", kind="marketplace")
        session.add(market)
        session.flush()
        run = CrawlRun(marketplace_id=market.id, scan_id="s1", status="finished")
        session.add(run)
        session.flush()
        listings = [Listing(marketplace_id=market.id, canonical_url=f"https://m.example/p/{n}", url="x",
                            external_id=f"E{n}" if n % 2 else None, content_hash="h", needs_matching=n == 3,
                            title=f"Glowmint {n}") for n in range(4)]
        session.add_all(listings)
        session.flush()
        brand = session.scalars(select(Brand)).one()
        session.add(Match(listing_id=listings[1].id, brand_id=brand.id, score=0.9, klass="counterfeit",
                          status="confirmed", listing_content_hash="h"))
        found = {f"https://m.example/p/{n}?ref=1": (f"E{n}" if n % 2 else None, f"https://m.example/p/{n}")
                 for n in range(4)}
        links = {"Glowmint": list(found)[:3], "glow\u202emint": [list(found)[3]], "nothing": []}
        assert record_queries(session, crawl_run_id=run.id, source="demo", links=links, found=found) == 3
        ids = [row.id for row in listings]
    assert querystats.count_suspects(db, scan_id="s1") == 2  # the row that found listing 3 waits
    with db.session() as session:
        rows = {r.query: r for r in session.scalars(select(QueryRun))}
        assert rows["Glowmint"].listing_ids == ids[:3] and rows["Glowmint"].new_listings == 3
        assert rows["Glowmint"].suspects == 1 and rows["glow\u202emint"].suspects is None
        records = querystats.records_for(session, "demo")
        assert records == {"glowmint": QueryRecord(runs=1, results=3, new_listings=3, suspects=1,
                                                   suspect_ids=frozenset({ids[1]})),
                           "nothing": QueryRecord(runs=1)}
        # Only the last 90 days count.
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=91)
        assert querystats.records_for(session, "demo", now=later) == {}
        report = querystats.query_report(session, source="demo")
    assert [(line.query, line.suspects, line.confirmed, line.pending) for line in report] == [
        ("Glowmint", 1, 1, 0), ("glow\u202emint", 0, 0, 1), ("nothing", 0, 0, 0)]
    db.dispose()
