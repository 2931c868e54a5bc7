"""Honest crawl states (issue 10.5): a crawl that fetched no product page is ``failed`` with the cause in
words, and the parent's deadline stops a crawl even while the crawler prints nothing (issue 8, bug 1).

Each test starts a loopback server playing one failure and runs a real crawl in a child process."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from crawl_support import FAST_CRAWL

from core.errors import LookalikeError
from core.settings import load_settings
from crawlers.run import CrawlRequest, run_crawl
from storage.db import Database
from storage.models import CrawlRun

PRODUCT = (b'<html><body><h1>Lamp</h1><span class="price">$10.00</span><p>SKU: LMP-1</p>'
           b'<a href="/p/2">next</a></body></html>')


class Site:
    """``mode``: ``robots`` (robots.txt denies all), ``loop`` (every page redirects to the next),
    ``stall`` (pages never answer), ``ok`` (one product page)."""

    def __init__(self, mode: str) -> None:
        self.release = threading.Event()
        self.hits: list[tuple[float, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                outer.hits.append((time.monotonic(), self.path))
                if self.path == "/robots.txt":
                    body = b"User-agent: *\nDisallow: /\n" if mode == "robots" else b"User-agent: *\n"
                    return self.answer(200, body, "text/plain")
                if mode == "loop":
                    number = int(self.path.rsplit("/", 1)[-1] or 0) if self.path[-1:].isdigit() else 0
                    self.send_response(302)
                    self.send_header("Location", f"/r/{number + 1}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if mode == "busy":  # /p/3 asks for a pause once; /p/1 links to /p/2
                    if self.path == "/p/3" and sum(1 for _, p in outer.hits if p == "/p/3") == 1:
                        self.send_response(503)
                        self.send_header("Retry-After", "8")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    return self.answer(200, PRODUCT, "text/html")
                if mode == "stall":
                    outer.release.wait(120)
                return self.answer(200, PRODUCT, "text/html")

            def answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def crawl(tmp_path: Path, mode: str, site: Site | None = None, **request) -> tuple[CrawlRun, float]:
    site = site or Site(mode)
    db_url = f"sqlite:///{tmp_path / 's.db'}"
    started = time.monotonic()
    try:
        run_id = run_crawl(load_settings(data_dir=tmp_path / "data", db_url=db_url),
                           CrawlRequest(start_urls=request.pop("start_urls", [site.url + "/p/1"]), images=False,
                                        scrapy_overrides={**FAST_CRAWL, **request.pop("overrides", {})}, **request))
    finally:
        site.close()
    elapsed = time.monotonic() - started
    with Database.opened(db_url) as db, db.session() as session:
        run = session.get(CrawlRun, run_id)
        session.expunge(run)
    return run, elapsed


def test_robots_denying_everything_is_a_failed_crawl_not_retried(tmp_path: Path):
    run, _ = crawl(tmp_path, "robots")
    assert run.status == "failed"
    assert run.stats["error"].startswith("no product page was fetched: robots.txt denied")
    assert run.stats["retryable"] is False


def test_a_redirect_loop_is_a_failed_crawl_with_its_cause(tmp_path: Path):
    run, _ = crawl(tmp_path, "loop")
    assert run.status == "failed"
    assert "redirect loop" in run.stats["error"]
    assert run.stats["retryable"] is False


def test_timeouts_are_a_failed_crawl_worth_a_retry(tmp_path: Path):
    run, _ = crawl(tmp_path, "stall", overrides={"DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 0})
    assert run.status == "failed"
    assert "timed out" in run.stats["error"] and run.stats["retryable"] is True


def test_the_deadline_stops_a_silent_crawler(tmp_path: Path):
    # The page never answers and the download timeout is long: only the parent's deadline can end it.
    run, elapsed = crawl(tmp_path, "stall", timeout=4, overrides={"DOWNLOAD_TIMEOUT": 100, "RETRY_TIMES": 0})
    assert run.status == "failed"
    assert run.stats["error"] == "the crawl took longer than 4 s and was stopped"
    assert elapsed < 60  # the download timeout (100 s) was never waited for


def test_a_shop_with_products_still_finishes(tmp_path: Path):
    run, _ = crawl(tmp_path, "ok", max_pages=2)
    assert run.status == "finished", run.stats.get("error")
    assert "error" not in run.stats


def test_a_bad_start_url_writes_no_run_row(tmp_path: Path):
    db_url = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(LookalikeError, match="Port out of range"):
        run_crawl(load_settings(data_dir=tmp_path / "data", db_url=db_url),
                  CrawlRequest(start_urls=["http://127.0.0.1:99999/"]))
    assert not (tmp_path / "s.db").exists()


def test_a_retry_waiting_for_retry_after_does_not_hold_up_other_pages(tmp_path: Path):
    # One request at a time: a retry that waited inside the downloader would block /p/2 for 8 s.
    site = Site("busy")
    run, _ = crawl(tmp_path, "busy", site=site, start_urls=[site.url + "/p/3", site.url + "/p/1"], overrides={
        "LOOKALIKE_RETRY_BACKOFF_BASE": 1.0, "CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1})
    assert run.status == "finished", run.stats.get("error")
    times = {}
    for when, path in site.hits:
        times.setdefault(path, []).append(when)
    first_try, retry = times["/p/3"][:2]
    assert retry - first_try >= 8  # Retry-After was honoured
    assert times["/p/2"][0] < retry  # ... while the other page went ahead
