"""Crawl benchmark: the full Lookalike pipeline against a bare Scrapy spider, side by side.

Both crawl the same demo marketplace (``data/demo/marketplace.py``) with the same navigation (the generic
spider), concurrency and no delays; each runs in its own child process, and pages per second are
measured inside the crawl (Scrapy's ``start_time`` to ``finish_time``), so process start-up is excluded.

- ``bare``: Scrapy's default components only; pages are parsed by the page parser, items discarded.
- ``full (first)``: every Lookalike component: private-network guard, tracking stripping, retry backoff,
  robots.txt, validation, image download + header check + content-addressed storage, batched upserts; on an
  empty database, so every listing and image is new. No image is decoded: signatures are the next stage.
- ``full (again)``: the same crawl once more: listings unchanged, images already stored.
- ``signature stage``: after the first pass, the stage that signs the crawl's images
  (``services.signatures.sign_stored``, default settings: one process per core), timed on its own.

    python -m bench.crawl [--world DIR] [--seed 7] [--repeat 3] [--json out.json]

The ratios ``full / bare`` are the figures to watch (aims: first pass >= 0.8, next pass >= 1.0).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_SCRAPY = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "LOOKALIKE_RETRY_BACKOFF_BASE": 0.0,
    "LOG_LEVEL": "WARNING",
}


def _elapsed(stats: dict[str, Any]) -> float:
    start, finish = stats.get("start_time"), stats.get("finish_time")
    if isinstance(start, str):
        start, finish = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(finish)
    return max((finish - start).total_seconds(), 1e-6)


def run_bare(url: str) -> dict[str, float]:
    """The bare spider in a child process; returns pages, seconds, pages_per_s."""
    out = subprocess.run([sys.executable, "-m", "bench.crawl", "--bare-child", url], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _bare_child(url: str) -> None:
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings

    from crawlers.spiders.generic import GenericProductSpider

    settings = Settings({
        **BENCH_SCRAPY,
        "ROBOTSTXT_OBEY": True,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOOKALIKE_MAX_PAGES": 100_000,
    })
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(GenericProductSpider)
    process.crawl(crawler, start_urls=[url + "/"])
    process.start()
    stats = crawler.stats.get_stats()
    seconds = _elapsed(stats)
    pages = stats.get("lookalike/pages", 0)
    print(json.dumps({"pages": pages, "seconds": seconds, "pages_per_s": pages / seconds,
                      "listings": stats.get("item_scraped_count", 0)}))


def run_full(url: str, data_dir: Path, product_urls: set[str], *, sign: bool = False) -> dict[str, float]:
    from sqlalchemy import select

    from core.settings import load_settings
    from crawlers.run import CrawlRequest, run_crawl
    from crawlers.stats import CrawlStats
    from storage.db import Database
    from storage.models import CrawlRun, Listing

    settings = load_settings(data_dir=data_dir, db_url=f"sqlite:///{data_dir / 'bench.db'}")
    run_id = run_crawl(settings, CrawlRequest(start_urls=[url + "/"], scrapy_overrides=BENCH_SCRAPY))
    db = Database(settings.database_url)
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        stats, status = CrawlStats.from_json(run.stats), run.status
        stored = set(session.execute(select(Listing.canonical_url)).scalars())
    signing = None
    if sign:
        from services.signatures import sign_stored

        signing = sign_stored(db, settings)
    db.dispose()
    if status != "finished":
        raise SystemExit(f"full crawl failed: {stats.error} {(stats.log_tail or '')[-500:]}")
    seconds = _elapsed(stats.scrapy)
    return {"pages": stats.pages, "seconds": seconds, "pages_per_s": stats.pages / seconds,
            "listings": stats.listings_stored, "images": stats.images.ok + stats.images.reused,
            "coverage": len(product_urls & stored) / len(product_urls),
            "not_products": len(stored - product_urls),
            **({"signed": signing.signed, "sign_failed": signing.failed, "sign_seconds": signing.seconds}
               if signing else {})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, help="demo world folder (default: generate one)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-card-prices", dest="card_prices", action="store_false",
                        help="hide prices on category cards")
    parser.add_argument("--bare-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_child:
        _bare_child(args.bare_child)
        return 0

    from data.demo.marketplace import DemoMarketplace

    with tempfile.TemporaryDirectory(prefix="lookalike-bench-") as tmp:
        world = args.world
        if world is None:
            from data.demo.generate import generate_world

            world = Path(tmp) / "world"
            started = time.perf_counter()
            generate_world(world, seed=args.seed)
            print(f"generated demo world (seed {args.seed}) in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        results: dict[str, list[dict[str, float]]] = {"bare": [], "full (first)": [], "full (again)": []}
        with DemoMarketplace(world, slow_seconds=0.0, card_prices=args.card_prices) as market:
            products = len(market.world.listings)
            product_urls = set(market.product_urls().values())
            for n in range(args.repeat):
                results["bare"].append(run_bare(market.url))
                data_dir = Path(tmp) / f"data-{n}"
                results["full (first)"].append(run_full(market.url, data_dir, product_urls, sign=True))
                results["full (again)"].append(run_full(market.url, data_dir, product_urls))
    bare = statistics.median(r["pages_per_s"] for r in results["bare"])
    rows = []
    for name, runs in results.items():
        rate = statistics.median(r["pages_per_s"] for r in runs)
        coverage = runs[0].get("coverage")
        rows.append({"crawl": name, "pages": int(runs[0]["pages"]), "listings": int(runs[0].get("listings", 0)),
                     "pages_per_s": round(rate, 1), "ratio_to_bare": round(rate / bare, 2),
                     "coverage": None if coverage is None else round(coverage, 3),
                     "not_products": runs[0].get("not_products")})
    print(f"{'crawl':<14} {'pages':>6} {'listings':>9} {'coverage':>9} {'non-product':>12} {'pages/s':>8} {'ratio':>6}")
    for row in rows:
        coverage = "-" if row["coverage"] is None else f"{row['coverage']:.3f}"
        extra = "-" if row["not_products"] is None else str(row["not_products"])
        print(f"{row['crawl']:<14} {row['pages']:>6} {row['listings']:>9} {coverage:>9} {extra:>12} "
              f"{row['pages_per_s']:>8.1f} {row['ratio_to_bare']:>6.2f}")
    first = results["full (first)"]
    sign_rate = statistics.median(r["signed"] / r["sign_seconds"] for r in first if r.get("sign_seconds"))
    print(f"signature stage after the first pass: {first[0]['signed']} images signed, {first[0]['sign_failed']} "
          f"failed, {sign_rate:.1f} images/s (median)")
    print(f"products served: {products}; coverage = products stored / products served; non-product = "
          f"stored listings that are not product pages; median of {args.repeat} runs each")
    if args.json:
        args.json.write_text(json.dumps({"products": products, "rows": rows, "runs": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
