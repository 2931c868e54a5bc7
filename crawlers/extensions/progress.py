"""Extension: one JSON line of progress on stdout every ``LOOKALIKE_PROGRESS_INTERVAL`` seconds.

``crawlers.run`` reads these lines in the parent process to drive the CLI's progress display; each is
``{"progress": {"pages": int, "listings": int, "images_ok": int, "images_failed": int, "errors": int,
"dropped": int}}`` and a last one with ``"final": true`` when the spider closes.  Interval 0: off.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured


def progress_counts(stats: dict[str, Any]) -> dict[str, int]:
    """The counters the progress display shows, from a Scrapy stats dict."""

    def total(prefix: str) -> int:
        return int(sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int | float)))

    return {
        "pages": int(stats.get("lookalike/pages", 0)),
        "listings": int(stats.get("item_scraped_count", 0)),
        "images_ok": int(stats.get("lookalike/images/ok", 0)),
        "images_failed": total("lookalike/images/failed/"),
        "errors": int(stats.get("log_count/ERROR", 0)),
        "dropped": total("lookalike/dropped/"),
    }


class ProgressReporter:
    def __init__(self, *, interval: float, crawler: Any) -> None:
        self.interval = interval
        self.crawler = crawler
        self._last = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressReporter:
        interval = crawler.settings.getfloat("LOOKALIKE_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        ext = cls(interval=interval, crawler=crawler)
        crawler.signals.connect(ext.tick, signal=signals.response_received)
        crawler.signals.connect(ext.tick, signal=signals.item_scraped)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def emit(self, *, final: bool = False) -> None:
        line = {"progress": progress_counts(self.crawler.stats.get_stats()), "final": final}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()

    def tick(self, *args: Any, **kwargs: Any) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.emit()

    def closed(self, *args: Any, **kwargs: Any) -> None:
        self.emit(final=True)
