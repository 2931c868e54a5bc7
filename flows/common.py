"""What every flow shares: the database of the process that runs a task, the tag that names a site, and
the retry policy of crawls.

- **Settings and database.**  A task reads its settings (database, data folder, limits) from the
  environment and ``lookalike.toml`` of the process that runs it (this process, a Prefect worker, a Dask
  worker), never from parameters, so no secret is ever a parameter: :func:`task_database`.
- **Tags.**  Every task that crawls a site is tagged :func:`site_tag` (``marketplace:<site>``), so a Prefect
  tag concurrency limit bounds the site across flow runs (``prefect concurrency-limit create
  marketplace:ebay 1``); the ``crawl-site`` flow holds a global concurrency limit of the same name.
- **Retries.**  Only crawls (network IO) are retried, with exponential backoff and jitter, and only when a
  retry may help (:func:`worth_retrying`): :func:`crawl_retry_policy` gives every crawl task its options.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from prefect.tasks import exponential_backoff

from core.errors import LookalikeError
from core.settings import Settings, load_settings
from services.scan import CrawlFailed
from storage.db import Database

#: Retries of a crawl that failed in a way worth retrying (the flows' ``crawl_retries`` default).
CRAWL_RETRIES = 2
#: Seconds before the first retry of a failed crawl; doubled for each later retry.
CRAWL_RETRY_BACKOFF = 30
#: Random share (0..1) added to each retry delay, so crawls that failed together do not retry together.
CRAWL_RETRY_JITTER = 0.5


@contextlib.contextmanager
def task_database(settings: Settings | None = None) -> Iterator[Database]:
    """The database of the process running the task (``settings``: read from its environment when not
    given), migrated on entry and disposed on exit."""
    with Database.opened((settings or load_settings()).database_url) as database:
        yield database


def site_tag(site: str) -> str:
    """``marketplace:<site>``: the tag of a site's crawl tasks and the name of its concurrency limits
    (``site`` is :attr:`services.scan.ScanTarget.key`, or a marketplace's name for a recheck)."""
    return f"marketplace:{site}"


def worth_retrying(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry a crawl that ran and failed (site down, child process died) or hit an unexpected error, not
    one that cannot run (a bad profile, a profile with nothing to search): those fail at once."""
    error = state.data if isinstance(state.data, BaseException) else None
    return not isinstance(error, LookalikeError) or isinstance(error, CrawlFailed)


def crawl_retry_policy(retries: int = CRAWL_RETRIES) -> dict[str, Any]:
    """The task options of every crawl: ``retries`` retries :data:`CRAWL_RETRY_BACKOFF` seconds apart,
    doubling, with jitter, each only when :func:`worth_retrying` (for ``@task`` or ``.with_options``)."""
    return {"retries": retries, "retry_delay_seconds": exponential_backoff(backoff_factor=CRAWL_RETRY_BACKOFF),
            "retry_jitter_factor": CRAWL_RETRY_JITTER, "retry_condition_fn": worth_retrying}
