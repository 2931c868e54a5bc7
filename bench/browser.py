"""Browser bench: the peak memory of a crawl that renders a JavaScript marketplace, against the same shop
served as plain HTML, measured in the same run.

The demo marketplace serves its search-only JavaScript marketplace (``data/demo/jsmarket.py``) twice:
under ``/js`` every page is an empty shell built in the browser from a JSON API (the ``jsdemo`` profile,
``render: browser``), under ``/jsr`` the same pages come rendered by the server (the same profile with
``render: html``).  Each crawl searches the same product words, stops after ``--pages`` responses
(``CLOSESPIDER_PAGECOUNT``) and downloads no images, so the two differ only in how pages are rendered.

Memory is sampled every 0.2 s over the crawl's whole process tree (the crawler child and, for the
browser crawl, Playwright's driver and every Chromium process): the peak of the summed PSS (proportional
set size: shared pages are split between the processes that share them, so the sum is what the crawl
costs the machine) and of the summed RSS (an upper bound), and the crawler child's own peak RSS.

    python -m bench.browser [--world DIR] [--pages 500] [--repeat 1] [--json out.json]

Without ``--world`` the seed-7 demo world is generated into a temporary folder first (about a minute).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from core.settings import load_settings
from crawlers.profiles import load_profile
from crawlers.run import CrawlRequest, run_crawl
from data.demo.marketplace import DemoMarketplace
from data.demo.vocab import CATEGORIES
from storage.db import Database
from storage.models import CrawlRun

SAMPLE_SECONDS = 0.2


class TreeMemory:
    """Samples the memory of this process's descendants (not of this process: it serves the shop)."""

    def __init__(self) -> None:
        self.peak_pss = self.peak_rss = self.peak_child_rss = 0
        self.peak_processes = 0
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="tree-memory")

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(SAMPLE_SECONDS):
            pss = rss = child = 0
            processes = me.children(recursive=True)
            for process in processes:
                try:
                    info = process.memory_full_info()
                    direct = process.ppid() == me.pid
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue  # a process that ended between the listing and the reading
                pss += getattr(info, "pss", info.rss)
                rss += info.rss
                if direct:
                    child = max(child, info.rss)
            self.samples.append(pss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_child_rss = max(self.peak_child_rss, child)
            self.peak_processes = max(self.peak_processes, len(processes))


def queries() -> list[str]:
    """Product words of the demo's categories: each finds many listings (and no brand in particular)."""
    return [product.noun.split()[-1].lower() for category in CATEGORIES for product in category.products]


def html_twin(profile_dir: Path) -> Path:
    """The jsdemo profile pointed at the server-rendered twin (``/jsr``), as a YAML file."""
    profile = load_profile("jsdemo")
    text = (Path(profile.source).read_text(encoding="utf-8")
            .replace("name: jsdemo", "name: jsdemo-html").replace("/js/search", "/jsr/search")
            .replace("render: browser", "render: html"))
    text = text[: text.index("browser:\n")] if "browser:\n" in text else text
    path = profile_dir / "jsdemo-html.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def crawl(kind: str, *, profile: str, base_url: str, folder: Path, pages: int,
          browser_args: list[str] | None = None) -> dict[str, Any]:
    settings = load_settings(data_dir=folder, db_url=f"sqlite:///{folder / 'bench.db'}")
    overrides: dict[str, Any] = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "LOG_LEVEL": "INFO",
                                 "CLOSESPIDER_PAGECOUNT": pages + 1}  # robots.txt is a response too
    if browser_args:
        overrides["PLAYWRIGHT_LAUNCH_OPTIONS"] = {"args": list(browser_args)}
    request = CrawlRequest(profile=profile, base_url=base_url, queries=queries(), images=False,
                           scrapy_overrides=overrides)
    started = time.perf_counter()
    with TreeMemory() as memory:
        run_id = run_crawl(settings, request)
    elapsed = time.perf_counter() - started
    with Database.opened(settings.database_url) as db, db.session() as session:
        run = session.get(CrawlRun, run_id)
        stats = dict(run.stats or {})
    crawled = int(stats.get("pages", 0))
    return {"kind": kind, "pages": crawled, "listings": int(stats.get("listings_stored", 0)),
            "seconds": round(elapsed, 1), "pages_per_s": round(crawled / elapsed, 2) if elapsed else 0.0,
            "peak_pss_mb": round(memory.peak_pss / 2**20), "peak_rss_mb": round(memory.peak_rss / 2**20),
            "crawler_rss_mb": round(memory.peak_child_rss / 2**20), "processes": memory.peak_processes,
            # the tree's PSS at the end of each quarter of the crawl's time: growth with pages shows here
            "pss_by_quarter_mb": [round(max(memory.samples[: max(1, len(memory.samples) * q // 4)]) / 2**20)
                                  for q in (1, 2, 3, 4)] if memory.samples else [],
            "blocked": int((stats.get("browser") or {}).get("blocked", 0))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, help="a demo world folder (default: generate seed 7)")
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", choices=("html", "browser"), help="run one of the two crawls")
    parser.add_argument("--browser-arg", action="append", default=[], help="an extra Chromium flag (repeatable)")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="lookalike-bench-browser-") as tmp:
        root = Path(tmp)
        world = args.world
        if world is None:
            from data.demo.generate import generate_world

            world = root / "world"
            generate_world(world, seed=7)
        twin = html_twin(root)
        with DemoMarketplace(world, slow_seconds=0.0) as market:
            for n in range(args.repeat):
                for kind, profile in (("html", str(twin)), ("browser", "jsdemo")):
                    if args.only and kind != args.only:
                        continue
                    row = crawl(kind, profile=profile, base_url=market.url, folder=root / f"{kind}-{n}",
                                pages=args.pages, browser_args=args.browser_arg)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    by_kind = {kind: [r for r in rows if r["kind"] == kind] for kind in ("html", "browser")}
    print(f"{'crawl':<8} {'pages':>6} {'s':>7} {'pages/s':>8} {'peak PSS MB':>12} {'peak RSS MB':>12} "
          f"{'crawler RSS MB':>15} {'processes':>10}")
    for row in rows:
        print(f"{row['kind']:<8} {row['pages']:>6} {row['seconds']:>7} {row['pages_per_s']:>8} "
              f"{row['peak_pss_mb']:>12} {row['peak_rss_mb']:>12} {row['crawler_rss_mb']:>15} {row['processes']:>10}")
    for n in range(args.repeat if not args.only else 0):
        html, browser = by_kind["html"][n], by_kind["browser"][n]
        print(f"run {n + 1}: browser / html peak PSS {browser['peak_pss_mb'] / max(html['peak_pss_mb'], 1):.2f}, "
              f"pages/s {browser['pages_per_s'] / max(html['pages_per_s'], 0.01):.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
