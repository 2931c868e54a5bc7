"""The private-network guard in a real crawl: a page on the (trusted) start host points its images at
other internal addresses; none of them is fetched, each image is recorded as refused."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from crawl_support import FAST_CRAWL
from sqlalchemy import select

from core.settings import load_settings
from crawlers.run import CrawlRequest, run_crawl
from storage.db import Database
from storage.models import CrawlRun, ListingImage


class Server:
    def __init__(self, page: str = "") -> None:
        self.hits: list[str] = []
        self.page = page
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                outer.hits.append(self.path)
                body = outer.page.encode() if self.path.startswith("/p/") else b"User-agent: *\n"
                self.send_response(200 if self.path.startswith(("/p/", "/robots.txt")) else 404)
                self.send_header("Content-Type", "text/html" if self.path.startswith("/p/") else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_images_on_other_internal_hosts_are_refused(tmp_path: Path):
    secret = Server()
    product = {
        "@context": "https://schema.org", "@type": "Product", "name": "Trap",
        "image": [f"{secret.url}/secret.jpg", "http://10.255.255.1/meta.jpg", "http://[::1]:9/x.jpg",
                  "file:///etc/passwd"],
        "offers": {"@type": "Offer", "price": "5.00", "priceCurrency": "USD"},
    }
    shop = Server(page=f'<html><head><script type="application/ld+json">{json.dumps(product)}</script></head>'
                       f'<body><h1>Trap</h1><a href="{secret.url}/p/other">elsewhere</a></body></html>')
    db_url = f"sqlite:///{tmp_path / 's.db'}"
    try:
        run_id = run_crawl(load_settings(data_dir=tmp_path / "data", db_url=db_url), CrawlRequest(start_urls=[shop.url + "/p/trap"], scrapy_overrides=FAST_CRAWL))
    finally:
        shop.close()
        secret.close()
    assert secret.hits == []
    db = Database(db_url)
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        images = {row.url: row.status for row in session.execute(select(ListingImage)).scalars()}
    db.dispose()
    assert run.status == "finished", run.stats.get("log_tail")
    assert run.stats["listings"]["new"] == 1
    assert images and set(images.values()) == {"refused"}
    assert not any(url.startswith("file:") for url in images)
    assert sum(v for k, v in run.stats["refused"].items() if k != "robots_txt") == len(images)
