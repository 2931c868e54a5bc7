"""Pieces of ``lookalike scan`` and ``lookalike demo`` that need no crawl: output safety, the demo's port."""

from __future__ import annotations

import io
import socket
from pathlib import Path

from crawl_support import write_tiny_world
from rich.console import Console

from cli.demo import ensure_world, plain, start_marketplace
from cli.scan import failed_crawls, print_summary
from crawlers.stats import CrawlStats
from services.scan import CrawlOutcome, ScanSummary


def test_listing_text_cannot_drive_the_terminal() -> None:
    hostile = "Fu\x1b[2J\x1b]0;owned\x07llips\u202e \u200bserum\r\nnext line\tend"
    shown = plain(hostile)
    assert all(ch.isprintable() for ch in shown)
    assert "\x1b" not in shown and "\u202e" not in shown and "\n" not in shown
    assert plain("x" * 500, limit=20) == "x" * 19 + "…"


def test_summary_prints_brand_names_as_text_not_markup() -> None:
    summary = ScanSummary(scan_id="scan-1", pages=3, listings_new=2, suspects_new=1,
                          crawls=[CrawlOutcome(target="https://a.example/", crawl_run_id=None, status="failed",
                                               stats=CrawlStats(error="boom"))],
                          per_brand={"[bold red]Evil[/]": {"new": 1, "updated": 0, "reopened": 0, "open": 1}})
    out = io.StringIO()
    print_summary(Console(file=out, width=200, highlight=False), summary.as_dict())
    text = out.getvalue()
    assert "[bold red]Evil[/]" in text
    assert "crawl https://a.example/: failed boom" in text
    assert "2 new" in text and "3 pages" in text
    assert failed_crawls(summary.as_dict()) == 1


def test_demo_world_is_generated_only_when_missing(tmp_path: Path) -> None:
    (tmp_path / "world.json").write_text("{}", encoding="utf-8")
    (tmp_path / "registry.yaml").write_text("brands: []", encoding="utf-8")
    assert ensure_world(tmp_path, seed=7, regenerate=False) is False
    assert (tmp_path / "world.json").read_text(encoding="utf-8") == "{}"


def test_demo_marketplace_keeps_its_port_and_moves_when_it_is_taken(tmp_path: Path) -> None:
    world = tmp_path / "world"
    write_tiny_world(world, listings=3)
    port_file = tmp_path / "demo-port"
    with start_marketplace(world, port_file) as market:
        first = market.url
    assert port_file.read_text(encoding="utf-8") == first.rsplit(":", 1)[1]
    with start_marketplace(world, port_file) as market:
        assert market.url == first
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(first.rsplit(":", 1)[1])))
        blocker.listen()
        with start_marketplace(world, port_file) as market:
            assert market.url != first
    assert port_file.read_text(encoding="utf-8") == market.url.rsplit(":", 1)[1]
    port_file.write_text("not a port", encoding="utf-8")
    with start_marketplace(world, port_file) as market:
        assert market.url.startswith("http://127.0.0.1:")
