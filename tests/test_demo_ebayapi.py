"""The demo's search-only marketplace behind an eBay-shaped API (data/demo/ebayapi.py), read end to end by
the ebay connector through the API spider, as the demo's scan does."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from crawl_support import FAST_CRAWL, write_tiny_world
from sqlalchemy import select

from core.settings import load_settings
from crawlers.run import CrawlRequest, run_crawl
from data.demo.ebayapi import BASE, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FILLER_LISTINGS
from data.demo.marketplace import DemoMarketplace
from storage.db import Database
from storage.models import CrawlRun, Listing


@pytest.fixture
def world(tmp_path: Path) -> Path:
    folder = tmp_path / "world"
    write_tiny_world(folder, listings=30)
    return folder


def call(url: str, *, headers: dict[str, str] | None = None, data: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_api_answers_in_ebays_shapes_and_rules(world: Path) -> None:
    with DemoMarketplace(world, slow_seconds=0.1) as market:
        api = f"{market.url}{BASE}"
        basic = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
        status, token = call(f"{api}/identity/v1/oauth2/token", headers={"Authorization": f"Basic {basic}"},
                             data=b"grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope")
        assert status == 200 and token["expires_in"] == 7200
        assert call(f"{api}/identity/v1/oauth2/token", headers={"Authorization": "Basic eDp5"},
                    data=b"grant_type=client_credentials")[0] == 401
        auth = {"Authorization": f"Bearer {token['access_token']}", "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}
        status, page = call(f"{api}/buy/browse/v1/item_summary/search?q=glowmint&limit=3&offset=0", headers=auth)
        assert status == 200 and page["total"] == 10 and len(page["itemSummaries"]) == 3 and "offset=3" in page["next"]
        assert call(f"{api}/buy/browse/v1/item_summary/search?q=glowmint&limit=3&offset=4", headers=auth)[0] == 400
        assert call(f"{api}/buy/browse/v1/item_summary/search?q=glowmint", headers={})[0] == 401
        assert len(market.ebayapi.items) == 10 + FILLER_LISTINGS  # too big to read whole: search only


def test_the_ebay_connector_reads_the_demo_api_through_the_pipelines(tmp_path: Path, world: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOOKALIKE_EBAY_CLIENT_ID", DEMO_CLIENT_ID)
    monkeypatch.setenv("LOOKALIKE_EBAY_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    db_url = f"sqlite:///{tmp_path / 'crawl.db'}"
    settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
    with DemoMarketplace(world, slow_seconds=0.1) as market:
        run_id = run_crawl(settings, CrawlRequest(connector="ebay", source="demo-ebay", base_url=market.url + BASE,
                                                  queries=["glowmint", "no-such-thing"], details=False,
                                                  scrapy_overrides=FAST_CRAWL, per_second=50))
        expected = set(market.ebayapi.item_urls(market.url).values())
    with Database.opened(db_url) as db, db.session() as session:
        run = session.get(CrawlRun, run_id)
        stored = {row.canonical_url: row for row in session.scalars(select(Listing))}
    assert run.status == "finished", run.stats.get("error") or run.stats.get("log_tail")
    assert set(stored) == expected and len(expected) == 10
    assert all(row.image_urls and row.seller and row.price is not None for row in stored.values())
    assert run.stats["images"]["ok"] >= 10 and run.stats["source"]["calls"] == 2
