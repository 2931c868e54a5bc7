"""Memory benchmark: the crawler's peak memory on a page of many large images stays flat as the images grow.

A loopback shop serves one product page showing ``--images`` PNGs (default 6) of side 1000, 3000 and 6300
pixels (6300 x 6300 = 39.7 million pixels, under the 40-megapixel limit; about 100 KB each on the wire,
like the decompression-heavy images of issue 10). For each size, in the same run:

- ``crawl, images off``: the same crawl with image downloads off: the baseline;
- ``crawl``: the full crawl (downloads, header check, content-addressed storage; nothing decoded);
- ``signature stage``: then the stage signing those images (``signature_workers`` 2, the default pixel
  budget), where decoding happens, bounded by the budget.

Peak memory is the maximum resident set size (``ru_maxrss``) of the crawler's child process, and of the
largest signature worker (or of the stage's own process when it signs a handful of images itself), each
measured in a fresh process.

    python -m bench.memory [--images 6] [--sizes 1000,3000,6300] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def make_png(side: int, n: int) -> bytes:
    """A mostly uniform PNG (compresses to about 100 KB at 6300 px) with a mark that makes each one distinct."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (side, side), (230, 230, 225))
    draw = ImageDraw.Draw(image)
    draw.rectangle((side // 4, side // 4, side // 2, side // 2), fill=(40 + 30 * n % 200, 90, 160))
    draw.ellipse((side // 2, side // 2, side // 2 + side // 5, side // 2 + side // 7), fill=(200, 60, 40))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


class Shop:
    """One product page with the images, on a free loopback port."""

    def __init__(self, images: list[bytes]) -> None:
        product = {"@context": "https://schema.org", "@type": "Product", "name": "Large photos",
                   "image": [f"/img/{n}.png" for n in range(len(images))],
                   "offers": {"@type": "Offer", "price": "9.00", "priceCurrency": "USD"}}
        page = (f'<html><head><script type="application/ld+json">{json.dumps(product)}</script></head>'
                '<body><h1>Large photos</h1></body></html>').encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/img/"):
                    body, kind = images[int(self.path[5:].split(".")[0])], "image/png"
                elif self.path.startswith("/p/"):
                    body, kind = page, "text/html"
                else:
                    body, kind = b"User-agent: *\n", "text/plain"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/p/large"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _child(mode: str, data_dir: str, url: str) -> None:
    """Runs in a fresh process; prints {"peak_mb": ...} for the crawler child or the largest signature worker."""
    from core.settings import load_settings

    settings = load_settings(data_dir=Path(data_dir), db_url=f"sqlite:///{Path(data_dir) / 'bench.db'}",
                             signature_workers=2, signature_ocr=False)
    result: dict[str, Any] = {}
    if mode in ("crawl", "crawl-no-images"):
        from crawlers.run import CrawlRequest, run_crawl

        run_crawl(settings, CrawlRequest(start_urls=[url], images=mode == "crawl",
                                         scrapy_overrides={"AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING"}))
    else:
        from services.signatures import sign_stored
        from storage.db import Database

        with Database.opened(settings.database_url) as db:
            stats = sign_stored(db, settings)
        result.update(signed=stats.signed, failed=stats.failed, peak_pixels=stats.peak_pixels)
    # ru_maxrss is in KiB on Linux: the largest child (the crawler, or one signature worker); a stage of few
    # images signs in its own process, so for the stage this process counts too
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if mode == "sign":
        peak = max(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    result["peak_mb"] = peak / 1024
    print(json.dumps(result))


def measure(mode: str, data_dir: Path, url: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.memory", "--child", mode, str(data_dir), url],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--sizes", default="1000,3000,6300")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="lookalike-bench-mem-") as tmp:
        for side in (int(s) for s in args.sizes.split(",")):
            images = [make_png(side, n) for n in range(args.images)]
            shop = Shop(images)
            try:
                base = measure("crawl-no-images", Path(tmp) / f"base-{side}", shop.url)
                crawl = measure("crawl", Path(tmp) / f"full-{side}", shop.url)
                stage = measure("sign", Path(tmp) / f"full-{side}", shop.url)
            finally:
                shop.close()
            rows.append({"side": side, "megapixels": round(side * side / 1e6, 1),
                         "kb_on_wire": round(sum(map(len, images)) / len(images) / 1024),
                         "crawl_no_images_mb": round(base["peak_mb"]), "crawl_mb": round(crawl["peak_mb"]),
                         "ratio": round(crawl["peak_mb"] / base["peak_mb"], 2),
                         "stage_worker_mb": round(stage["peak_mb"]), "signed": stage["signed"],
                         "stage_peak_megapixels": round(stage["peak_pixels"] / 1e6, 1)})
    print(f"{'side':>5} {'MP':>5} {'KB':>5} {'crawl, no images MB':>20} {'crawl MB':>9} {'ratio':>6} "
          f"{'stage worker MB':>16} {'signed':>7} {'stage MP in flight':>19}")
    for r in rows:
        print(f"{r['side']:>5} {r['megapixels']:>5} {r['kb_on_wire']:>5} {r['crawl_no_images_mb']:>20} "
              f"{r['crawl_mb']:>9} {r['ratio']:>6.2f} {r['stage_worker_mb']:>16} {r['signed']:>7} "
              f"{r['stage_peak_megapixels']:>19}")
    print(f"{args.images} images per page; peak RSS of the crawler child and of the largest signature worker")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
