"""Finding 1: request forgery through recheck.  A WooCommerce shop's API names a listing ``permalink``
on another host (here: an internal admin service on loopback).  The platform crawl keeps it as data only,
and the recheck that follows refuses it (its URL came from the database, so its host is not trusted):
the internal service never gets a request, and the takedown is not "verified"."""

from __future__ import annotations

from pathlib import Path

import pytest
from crawl_support import FAST_CRAWL
from hostile_support import Server, json_route, text_route
from sqlalchemy import select

from core.settings import load_settings
from crawlers.run import CrawlRequest, run_crawl
from services.recheck import RecheckGroup, recheck_crawl
from services.scan import CrawlFailed
from storage.db import Database
from storage.models import CrawlRun, Listing


def test_a_permalink_on_another_host_is_data_and_recheck_never_fetches_it(tmp_path: Path) -> None:
    with Server({"/": text_route("<h1>admin</h1><p>everything deleted</p>")}) as internal:
        target = f"{internal.url}/internal-admin/delete-everything?token=s3cret"
        product = {"id": 7, "name": "Fullips Lip Plumper", "permalink": target, "sku": "FLP-1",
                   "prices": {"price": "2400", "currency_code": "USD", "currency_minor_unit": 2},
                   "images": [], "is_in_stock": True}
        routes = {"/robots.txt": text_route("User-agent: *\n", content_type="text/plain"),
                  "/wp-json/wc/store/v1/products": json_route([product], {"X-WP-TotalPages": "1"})}
        with Server(routes) as shop:
            db_url = f"sqlite:///{tmp_path / 'r.db'}"
            settings = load_settings(data_dir=tmp_path / "data", db_url=db_url)
            run_crawl(settings, CrawlRequest(start_urls=(shop.url,), platform="woocommerce", images=False,
                                             scrapy_overrides=FAST_CRAWL))
            with Database.opened(db_url) as db, db.session() as session:
                listing = session.scalars(select(Listing)).one()
                listing_id, url, marketplace = listing.id, listing.url, listing.marketplace.name
            assert url == target  # kept as data
            assert internal.requests == []
            # The only URL was refused: the recheck fetched nothing, which is a failure, not a "gone".
            with pytest.raises(CrawlFailed, match="guard refused 1 request"):
                recheck_crawl(settings, RecheckGroup(marketplace, ((listing_id, url),)))
        assert internal.requests == [], [r.path for r in internal.requests]
    with Database.opened(db_url) as db, db.session() as session:
        listing = session.get(Listing, listing_id)
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert listing.status == "active" and listing.gone_at is None
        assert (run.stats.get("refused") or {}).get("private_address", 0) == 1, run.stats
