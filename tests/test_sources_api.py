"""API sources end to end: the api spider, through the same pipelines and crawl_runs record, against a
local fake of eBay's Browse API (tests/fakeapis.py) that follows its documented shapes and faults."""

from __future__ import annotations

from pathlib import Path

import pytest
from crawl_support import FAST_CRAWL
from fakeapis import (
    CLIENT_ID,
    CLIENT_SECRET,
    ETSY_KEYSTRING,
    ETSY_SECRET,
    FakeEbay,
    FakeEtsy,
    Faults,
    ForwardProxy,
    Recorder,
)
from sqlalchemy import func, select

from core.errors import LookalikeError
from core.settings import load_settings
from crawlers.run import CrawlRequest, run_crawl
from storage.db import Database
from storage.models import CrawlRun, Image, Listing, SourceState

API_CRAWL = {**FAST_CRAWL, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'crawl.db'}"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOKALIKE_EBAY_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("LOOKALIKE_EBAY_CLIENT_SECRET", CLIENT_SECRET)


def crawl(tmp_path: Path, db_url: str, api: FakeEbay, queries: list[str], **request) -> CrawlRun:
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    overrides = {**API_CRAWL, **request.pop("scrapy_overrides", {})}
    run_id = run_crawl(settings, CrawlRequest(connector="ebay", base_url=api.url, queries=queries,
                                              source=request.pop("source", "ebay-us"), scrapy_overrides=overrides,
                                              **request))
    with Database.opened(db_url) as db, db.session() as session:
        return session.get(CrawlRun, run_id)


def stored(db_url: str) -> list[Listing]:
    with Database.opened(db_url) as db, db.session() as session:
        return list(session.scalars(select(Listing).order_by(Listing.external_id)))


def state(db_url: str, name: str = "ebay-us") -> SourceState:
    with Database.opened(db_url) as db, db.session() as session:
        return session.get(SourceState, name)


def test_search_pages_details_and_images_go_through_the_pipelines(tmp_path, db_url, credentials):
    recorder = Recorder()
    try:
        with FakeEbay(items=25, faults=Faults(internal_image_url=f"{recorder.url}/secret.jpg")) as api:
            run = crawl(tmp_path, db_url, api, ["fullips"], page_size=10)
    finally:
        recorder.close()
    assert run.status == "finished", run.stats.get("error") or run.stats.get("log_tail")
    listings = stored(db_url)
    assert len(listings) == 25
    first = next(item for item in listings if item.external_id == "v1|100002|0")
    assert first.title == "Fullips lip plumper no. 2" and str(first.price) == "11.99" and first.currency == "USD"
    assert first.canonical_url == "https://www.ebay.example/itm/100002"
    assert first.seller == "seller_2" and first.seller_feedback == "98.5% positive, score 102"
    assert first.description == "Genuine-looking Fullips kit 2" and first.brand_text == "Fullips"
    assert len(first.image_urls) == 2  # the summary's image and every image of item/{id}
    searches = [h for h in api.hits if h.path.endswith("/item_summary/search")]
    assert [h.query["offset"] for h in searches] == [["0"], ["10"], ["20"]]
    assert all(h.headers.get("x-ebay-c-marketplace-id") == "EBAY_US" for h in searches)
    assert sum(h.path.endswith("/token") for h in api.hits) == 1  # cached for the whole run
    assert recorder.hits == []  # an image URL inside the network is never fetched
    assert run.stats["refused"].get("private_address", 0) >= 1
    assert run.stats["images"]["ok"] >= 40
    assert run.stats["source"]["calls"] == 3 + 25 and run.stats["source"]["unfinished_queries"] == 0
    with Database.opened(db_url) as db, db.session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) >= 40
    assert state(db_url).calls_today == 28 and state(db_url).last_outcome == "finished"


def test_a_token_revoked_mid_run_is_renewed_once_and_credentials_appear_nowhere(tmp_path, db_url, credentials):
    with FakeEbay(items=12, faults=Faults(revoke_after_calls=5, token_lifetime=3600)) as api:
        run = crawl(tmp_path, db_url, api, ["fullips"], page_size=5)
    assert run.status == "finished", run.stats.get("error")
    assert len(stored(db_url)) == 12
    assert len(api.tokens) == 2  # the 401 fetched a fresh token, and the call was made again with it
    assert run.stats["scrapy"].get("lookalike/api/unauthorized") >= 1  # calls signed before it was revoked
    log = Path(run.stats.get("log") or tmp_path / "data" / "logs" / f"crawl-{run.id}.log").read_text()
    everything = log + repr(run.stats) + repr(run.params) + repr(state(db_url).__dict__)
    for secret in (CLIENT_ID, CLIENT_SECRET, *api.tokens):
        assert secret not in everything
    dump = (tmp_path / "crawl.db").read_bytes()
    assert CLIENT_SECRET.encode() not in dump and CLIENT_ID.encode() not in dump


def test_a_token_that_expires_is_renewed_before_it_runs_out(tmp_path, db_url, credentials):
    with FakeEbay(items=6, faults=Faults(token_lifetime=2)) as api:
        run = crawl(tmp_path, db_url, api, ["fullips"], page_size=2, per_second=2.0)
    assert run.status == "finished", run.stats.get("error")
    assert len(api.tokens) >= 2 and run.stats["scrapy"].get("lookalike/api/unauthorized", 0) == 0


def test_refused_client_credentials_end_the_run_in_one_sentence_without_looping(tmp_path, db_url, credentials):
    with FakeEbay(items=6, faults=Faults(refuse_all_tokens=True)) as api:
        run = crawl(tmp_path, db_url, api, ["fullips", "full lips", "fulips"])
    assert run.status == "failed"
    assert run.stats["error"] == "eBay Browse API refused the client credentials (HTTP 401 from the token endpoint)"
    assert run.stats["retryable"] is False
    assert sum(h.path.endswith("/token") for h in api.hits) == 1
    assert state(db_url).last_outcome == "credentials_refused"


def test_missing_credentials_are_named_before_anything_runs(tmp_path, db_url, monkeypatch):
    monkeypatch.delenv("LOOKALIKE_EBAY_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("LOOKALIKE_EBAY_CLIENT_ID", CLIENT_ID)
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    with pytest.raises(LookalikeError, match="needs ebay_client_secret: set LOOKALIKE_EBAY_CLIENT_SECRET") as info:
        run_crawl(settings, CrawlRequest(connector="ebay", base_url="http://127.0.0.1:9", queries=["x"]))
    assert CLIENT_ID not in str(info.value)


def test_retry_after_is_waited_out_with_no_request_during_the_wait(tmp_path, db_url, credentials):
    with FakeEbay(items=8, faults=Faults(retry_after_on_call=3, retry_after_seconds=2)) as api:
        run = crawl(tmp_path, db_url, api, ["fullips"], page_size=4)
    assert run.status == "finished", run.stats.get("error")
    assert api.waits and api.calls_during_waits() == []
    assert run.stats["source"]["retry_after"] == 1 and run.stats["source"]["waited_seconds"] >= 1.5
    assert len(stored(db_url)) == 8


def test_a_daily_budget_stops_the_night_and_the_next_resumes_where_it_stopped(tmp_path, db_url, credentials):
    with FakeEbay(items=30, faults=Faults()) as api:
        first = crawl(tmp_path, db_url, api, ["fullips", "ful1ips"], page_size=10, daily_budget=2,
                      scrapy_overrides={"LOOKALIKE_IMAGES_ENABLED": False})
        assert first.status == "finished" and first.stats["source"]["budget_exhausted"] is True
        assert first.stats["source"]["calls"] == 2 and first.stats["source"]["budget_left"] == 0
        resume = state(db_url).resume
        assert state(db_url).last_outcome == "budget_exhausted"
        assert resume == {"fullips": 10, "ful1ips": 10}  # each query's first page was read
        calls_first = api.api_calls
        # the same day: the budget is spent, nothing is called, the record says so
        again = crawl(tmp_path, db_url, api, ["fullips", "ful1ips"], page_size=10, daily_budget=2)
        assert api.api_calls == calls_first
        assert again.status == "failed" and "daily budget of 2 API calls was already used" in again.stats["error"]
        # the next night (a new day): resumed at the stored offset, before the untouched query
        with Database.opened(db_url) as db, db.session() as session:
            session.get(SourceState, "ebay-us").day = "2000-01-01"
        hits_before = len(api.hits)
        crawl(tmp_path, db_url, api, ["fullips", "ful1ips"], page_size=10, daily_budget=100, details=False,
              scrapy_overrides={"LOOKALIKE_IMAGES_ENABLED": False})
        first_search = next(h for h in api.hits[hits_before:] if h.path.endswith("/search"))
        assert first_search.query["q"] == ["fullips"] and first_search.query["offset"] == ["10"]
        assert not any(h.query.get("offset") == ["0"] for h in api.hits[hits_before:] if h.path.endswith("/search"))
    assert state(db_url).resume == {}


def test_broken_offsets_bad_fields_and_hostile_answers_are_counted_not_followed(tmp_path, db_url, credentials):
    with FakeEbay(items=30, faults=Faults(broken_next=True, bad_entries=True)) as api:
        run = crawl(tmp_path, db_url, api, ["fullips", "deep", "huge"], page_size=10, details=False,
                    scrapy_overrides={"LOOKALIKE_IMAGES_ENABLED": False})
    assert run.status == "finished", run.stats.get("error")
    offsets = [h.query["offset"][0] for h in api.hits if h.path.endswith("/search") and h.query["q"] == ["fullips"]]
    assert offsets == ["0", "10", "20"]  # the documented next offset, not the broken one
    scrapy = run.stats["scrapy"]
    assert scrapy["lookalike/api/next_rebuilt"] == 2
    assert scrapy["lookalike/api/answers_malformed"] == 1  # "deep": nested beyond the bound
    assert scrapy["lookalike/api/entries_skipped"] == 4  # fullips' 4 entries without itemWebUrl (7, 14, 21, 28)
    rows = {row.external_id: row for row in stored(db_url)}
    # wrong types are left empty, never coerced: items 5, 10, 15, 20, 25, 30 lost their title; validation drops
    # a listing without one, with its reason; "huge" repeats item 1, stored once
    assert sum(run.stats["dropped"].values()) >= 6 and "v1|100005|0" not in rows
    assert len(rows) == 30 - 4 - 6 and "v1|100001|0" in rows


def test_the_operators_proxy_is_used_and_the_policy_still_judges_the_final_target(tmp_path, db_url, credentials,
                                                                                  monkeypatch):
    proxy, recorder = ForwardProxy(), Recorder()
    for name in ("no_proxy", "NO_PROXY", "https_proxy", "HTTPS_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", proxy.url)
    inside = recorder.url.replace("127.0.0.1", "localhost")  # a name: only the final-target check can see it
    try:
        with FakeEbay(items=4, faults=Faults(internal_image_url=f"{inside}/secret.jpg")) as api:
            run = crawl(tmp_path, db_url, api, ["fullips"], page_size=4)
    finally:
        proxy.close()
        recorder.close()
    assert run.status == "finished", run.stats.get("error")
    assert any(t.startswith(api.url + "/buy/browse/v1/item_summary/search") for t in proxy.targets)
    assert any(t.startswith(api.url + "/identity/v1/oauth2/token") for t in proxy.targets)
    assert not any("localhost" in t for t in proxy.targets) and recorder.hits == []
    assert run.stats["refused"].get("private_address", 0) >= 1
    assert len(stored(db_url)) == 4


@pytest.mark.parametrize("key_ok", [True, False])
def test_etsy_listings_with_their_images_and_shops_and_a_refused_key(tmp_path, db_url, monkeypatch, key_ok):
    monkeypatch.setenv("LOOKALIKE_ETSY_KEYSTRING", ETSY_KEYSTRING)
    monkeypatch.setenv("LOOKALIKE_ETSY_SHARED_SECRET", ETSY_SECRET if key_ok else "wrong")
    api = FakeEtsy(items=7)
    try:
        settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
        run_id = run_crawl(settings, CrawlRequest(connector="etsy", base_url=api.url, queries=["fullips"],
                                                  source="etsy", page_size=3, scrapy_overrides=API_CRAWL))
    finally:
        api.close()
    with Database.opened(db_url) as db, db.session() as session:
        run = session.get(CrawlRun, run_id)
        rows = {row.external_id: row for row in session.scalars(select(Listing))}
    if not key_ok:
        assert run.status == "failed" and run.stats["error"] == "Etsy Open API v3 refused the key (HTTP 403)"
        assert len([h for h in api.hits if h.path.startswith("/v3/")]) == 1 and rows == {}  # no loop
        assert "wrong" not in Path(run.stats["log"]).read_text()
        return
    assert run.status == "finished", run.stats.get("error")
    searches = [h.query["offset"][0] for h in api.hits if h.path.endswith("/listings/active")]
    assert searches == ["0", "3", "6"] and all(h.query["limit"] == ["3"] for h in api.hits if "active" in h.path)
    assert sum(h.path.endswith("/listings/batch") for h in api.hits) == 3  # one batch call per result page
    assert len(rows) == 7
    row = rows["5002"]
    assert (row.seller, row.seller_id, str(row.price), row.currency) == ("Shop0", "900", "10.02", "USD")
    assert row.canonical_url == "https://www.etsy.example/listing/5002/fullips" and len(row.image_urls) == 1
    assert run.stats["images"]["ok"] == 7
