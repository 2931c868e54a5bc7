"""The nightly scan spread over several machines, shown on loopback: a real Prefect server, two Prefect
workers on one process work pool, a Dask scheduler with two Dask workers, two demo marketplaces and one
PostgreSQL database.

The nightly flow (itself a run of the ``nightly-scan/nightly`` deployment, picked up by a worker) submits
each crawl as a run of ``crawl-site/crawl-site``; the workers run them, each holding its site's global
concurrency limit; signatures and matching go to the Dask cluster.  Checked afterwards: both workers ran
crawls, the two crawls of one marketplace did not overlap while the other marketplace was crawled at the
same time, every listing a marketplace served is stored once, every image signed, every listing matched
once, and both Dask workers computed.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from prefect_support import BIN, REPO, ProcessGroup, free_port, prefect_server, run_prefect
from scan_support import full_demo_world, import_demo_registry, slice_world, test_settings
from sqlalchemy import func, select

from data.demo.marketplace import DemoMarketplace
from services import scan
from storage.db import Database
from storage.models import CrawlRun, Image, ImageSignatureRow, Listing, Match, MatchEvent

POOL = "lookalike"
WORKERS = ("worker-1", "worker-2")
DASK_WORKERS = ("dask-1", "dask-2")
#: Seconds the whole scan may take before the test gives up (about a minute on 2 cores).
SCAN_TIMEOUT = 420


def _wait_for_dask_workers(address: str, count: int, procs: ProcessGroup, timeout: float = 120) -> None:
    from distributed import Client

    deadline = time.monotonic() + timeout
    with Client(address, timeout=60) as client:
        while len(client.scheduler_info(n_workers=-1)["workers"]) < count:
            procs.check_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"{count} Dask workers did not join {address}")
            time.sleep(0.5)


def _dask_executed(address: str) -> dict[str, int]:
    """Dask worker name -> tasks it executed."""
    from distributed import Client

    with Client(address, timeout=60) as client:
        counts = client.run(lambda dask_worker: (dask_worker.name, dask_worker.state.executed_count))
    return dict(counts.values())


def _wait_for_workers(api: str, names: tuple[str, ...], procs: ProcessGroup, timeout: float = 120) -> None:
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        while {w.name for w in client.read_workers_for_work_pool(POOL)} < set(names):
            procs.check_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"workers {names} did not report to the pool")
            time.sleep(0.5)


def _run_nightly(api: str, parameters: dict[str, Any], procs: ProcessGroup) -> tuple[Any, list[Any], dict[str, int], str]:
    """Run the nightly deployment and wait for it: (its flow run, the crawl-site flow runs, limit name ->
    slots, its ``scan-report`` artifact)."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
        FlowFilter,
        FlowFilterName,
    )
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api}):
        run = run_deployment("nightly-scan/nightly", parameters=parameters, timeout=0, as_subflow=False)
        deadline = time.monotonic() + SCAN_TIMEOUT
        with get_client(sync_client=True) as client:
            while not (run := client.read_flow_run(run.id)).state.is_final():
                procs.check_alive()
                if time.monotonic() > deadline:
                    pytest.fail(f"the nightly run is still {run.state.name} after {SCAN_TIMEOUT} s")
                time.sleep(1)
            crawls = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["crawl-site"])))
            limits = {limit.name: limit.limit for limit in client.read_global_concurrency_limits(limit=100)}
            reports = client.read_artifacts(artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["scan-report"]), flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    return run, crawls, limits, "\n".join(str(report.data) for report in reports)


def _overlap(a: CrawlRun, b: CrawlRun) -> bool:
    return a.started_at < b.finished_at and b.started_at < a.finished_at


class Cluster:
    """Everything the scan runs on, started by :meth:`start` and stopped by :meth:`stop` (last first)."""

    def __init__(self, env: dict[str, str], procs: ProcessGroup, cwd: Path) -> None:
        self.env, self.procs, self.cwd = env, procs, cwd
        self.dask_address = f"tcp://127.0.0.1:{free_port()}"

    def start(self) -> None:
        run_prefect(self.env, "work-pool", "create", POOL, "--type", "process")
        run_prefect(self.env, "--no-prompt", "deploy", "--all")
        port = self.dask_address.rsplit(":", 1)[1]
        self.procs.start("dask-scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", port,
                                            "--no-dashboard"], env=self.env, cwd=self.cwd)
        for name in DASK_WORKERS:
            self.procs.start(name, [str(BIN / "dask"), "worker", self.dask_address, "--name", name,
                                    "--nthreads", "1", "--no-dashboard"], env=self.env, cwd=self.cwd)
        for name in WORKERS:  # two slots each: the nightly run takes one on one of them
            self.procs.start(name, [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--name", name,
                                    "--limit", "2"], env=self.env, cwd=REPO)
        _wait_for_dask_workers(self.dask_address, len(DASK_WORKERS), self.procs)
        _wait_for_workers(self.env["PREFECT_API_URL"], WORKERS, self.procs)

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.procs.log_tail(name)}" for name in (*WORKERS, *DASK_WORKERS))


def test_the_outcome_of_a_crawl_run_elsewhere_is_its_last_crawl_runs_row(database: Database) -> None:
    shop, other = scan.ScanTarget(start_urls=("http://a.example/",)), scan.ScanTarget(profile="ebay")
    key = shop.crawl_request().target_key  # what crawlers.run.run_crawl stores with each run of the target
    with database.session() as session:
        for scan_id, status in (("scan-1", "failed"), ("scan-1", "finished"), ("scan-2", "failed")):
            session.add(CrawlRun(scan_id=scan_id, status=status, stats={"pages": 3}, target_key=key,
                                 params={"spider": "generic", **shop.as_dict()}))
        session.add(CrawlRun(scan_id="scan-1", status="failed", stats={}, params={"spider": "search"},
                             target_key=other.crawl_request().target_key))
    outcome = scan.recorded_outcome(database, scan_id="scan-1", target=shop)
    assert (outcome.target, outcome.status, outcome.stats.pages) == ("http://a.example/", "finished", 3)  # a retry
    assert scan.recorded_outcome(database, scan_id="scan-2", target=shop).status == "failed"
    assert scan.recorded_outcome(database, scan_id="scan-2", target=other) is None
    assert scan.recorded_outcome(database, scan_id="scan-1", target=other).stats.pages == 0
    assert scan.recorded_outcome(database, scan_id="scan-3", target=shop) is None
    assert scan.ScanTarget(start_urls=("http://a.example/",), base_url="http://b.example").crawl_request().target_key \
        != key


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_and_a_dask_cluster_share_one_postgresql(postgres_url: str, tmp_path: Path,
                                                            request: pytest.FixtureRequest) -> None:
    full = full_demo_world(request.config)
    worlds = [slice_world(full, tmp_path / "world-a", step=19), slice_world(full, tmp_path / "world-b", step=23)]
    data_dir, logs, prefect_home = tmp_path / "data", tmp_path / "logs", tmp_path / "prefect-home"
    logs.mkdir()
    prefect_home.mkdir()
    database = Database(postgres_url)
    request.addfinalizer(database.dispose)
    procs = ProcessGroup(logs)
    with ThreadPoolExecutor(1) as pool, \
            DemoMarketplace(worlds[0], slow_seconds=0.1) as market_a, \
            DemoMarketplace(worlds[1], slow_seconds=0.1) as market_b:
        imported = pool.submit(import_demo_registry, test_settings(data_dir, postgres_url), worlds[0])
        with prefect_server(prefect_home) as server_env:  # the registry is imported while the server starts
            # What every machine shares: the Prefect API, the database, the data folder (images).
            env = {**server_env, "LOOKALIKE_DATA_DIR": str(data_dir), "LOOKALIKE_DB_URL": postgres_url,
                   "LOOKALIKE_CONFIG": str(tmp_path / "absent.toml"), "LOOKALIKE_SIGNATURE_OCR": "false",
                   "PREFECT_WORKER_QUERY_SECONDS": "1"}
            cluster = Cluster(env, procs, tmp_path)
            try:
                cluster.start()
                imported.result()
                shop_a = market_a.world.shops[0]["slug"]  # a second crawl of marketplace A: one shop of it
                (data_dir / "scan.yaml").write_text(
                    f"shops:\n  - {market_a.url}/\n  - {market_a.url}/shop/{shop_a}/\n  - {market_b.url}/\n")
                nightly, crawls, limits, report = _run_nightly(env["PREFECT_API_URL"], {
                    "crawl_deployment": "crawl-site/crawl-site", "dask_address": cluster.dask_address,
                    "match_workers": 2, "batch_size": 8, "send_digests": False,
                }, procs)
                assert nightly.state.is_completed(), \
                    f"nightly ended {nightly.state.name}: {nightly.state.message}\n{cluster.logs()}"
                executed = _dask_executed(cluster.dask_address)
            finally:
                procs.stop_all()

    # Three crawls, all completed, on both workers; each site got its limit of one slot.
    hosts = {urlsplit(m.url).netloc for m in (market_a, market_b)}
    assert len(crawls) == 3 and all(c.state.is_completed() for c in crawls)
    assert {c.labels.get("prefect.worker.name") for c in crawls} == set(WORKERS)
    assert {f"marketplace:{host}": 1 for host in hosts}.items() <= limits.items()

    with database.session() as session:
        runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.started_at)))
        listings = session.execute(select(Listing.canonical_url)).scalars().all()
        unsigned = session.scalar(select(func.count()).select_from(Image).outerjoin(
            ImageSignatureRow, ImageSignatureRow.sha256 == Image.sha256).where(ImageSignatureRow.sha256.is_(None)))
        signed = session.scalar(select(func.count()).select_from(ImageSignatureRow)
                                .where(ImageSignatureRow.status == "ok"))
        pending = session.scalar(select(func.count()).select_from(Listing).where(Listing.needs_matching.is_(True)))
        matches = session.scalar(select(func.count()).select_from(Match))
        pairs = session.scalar(select(func.count()).select_from(
            select(Match.listing_id, Match.brand_id).distinct().subquery()))
        created = session.scalar(select(func.count()).select_from(MatchEvent).where(MatchEvent.from_status.is_(None)))

    # One marketplace's two crawls one after the other; the other marketplace crawled meanwhile.
    assert [r.status for r in runs] == ["finished"] * 3 and all(r.scan_id == runs[0].scan_id for r in runs)
    by_host = {host: [r for r in runs if urlsplit(r.params["start_urls"][0]).netloc == host] for host in hosts}
    runs_a, runs_b = by_host[urlsplit(market_a.url).netloc], by_host[urlsplit(market_b.url).netloc]
    assert len(runs_a) == 2 and len(runs_b) == 1
    assert all(isinstance(r.finished_at, dt.datetime) for r in runs)
    assert not _overlap(*runs_a)
    assert any(_overlap(run, runs_b[0]) for run in runs_a)

    # Every product page a marketplace served is stored, once.
    for market in (market_a, market_b):
        host = urlsplit(market.url).netloc
        stored = [urlsplit(url).path for url in listings if urlsplit(url).netloc == host]
        products = set(market.world.product_paths().values())
        served = {urlsplit(r.path).path for r in market.requests if r.status == 200} & products
        assert len(stored) == len(set(stored)), f"{host}: a listing stored twice"
        assert set(stored) == served, f"{host}: served but not stored: {sorted(served - set(stored))[:5]}"
        assert len(served) >= 0.9 * len(products)

    # Every image signed; every listing matched, once (the run's own report), on both Dask workers.
    counts = re.search(r"listings: (\d+) new, \d+ changed, (\d+) unchanged, 0 gone; (\d+) matched", report)
    assert counts is not None, report
    new, unchanged, matched = map(int, counts.groups())
    assert new == matched == len(listings) > 40 and unchanged > 0
    assert unsigned == 0 and signed > len(listings)
    assert pending == 0 and matches == pairs == created > 10
    assert set(executed) == set(DASK_WORKERS) and all(count > 0 for count in executed.values())
