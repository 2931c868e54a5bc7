"""Against a real ``prefect server`` started by the test: ``prefect deploy --all`` of prefect.yaml, and a
``lookalike scan`` killed halfway (flow process and crawl child) that ends in the same queue as an
uninterrupted scan once run again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect_support import BIN, REPO, run_prefect, stop_group
from prefect_support import prefect_server as started_prefect_server
from scan_support import full_demo_world, import_demo_registry, match_set, slice_world, test_settings
from sqlalchemy import func, select

from data.demo.marketplace import DemoMarketplace
from storage.db import Database
from storage.models import Listing, Match, MatchEvent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``prefect server start`` on a free port with its own PREFECT_HOME; yields the clients' environment."""
    with started_prefect_server(tmp_path_factory.mktemp("prefect-home")) as env:
        yield env


def test_prefect_deploy_all_against_a_local_server(prefect_server: dict[str, str]) -> None:
    run_prefect(prefect_server, "work-pool", "create", "lookalike", "--type", "process")
    run_prefect(prefect_server, "--no-prompt", "deploy", "--all")
    nightly = run_prefect(prefect_server, "deployment", "inspect", "nightly-scan/nightly")
    recheck = run_prefect(prefect_server, "deployment", "inspect", "recheck/recheck")
    for text in (nightly, recheck):
        assert "'work_pool_name': 'lookalike'" in text
        assert "Europe/London" in text
    assert "0 2 * * *" in nightly and "'match_workers': 1" in nightly
    assert "0 7 * * *" in recheck and "reported" in recheck
    crawl_site = run_prefect(prefect_server, "deployment", "inspect", "crawl-site/crawl-site")
    assert "'work_pool_name': 'lookalike'" in crawl_site and "'crawl_deployment': None" in nightly


# ------------------------------------------------------------------------------------------ kill and rerun


def _scan_process(env: dict[str, str], url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - the venv's own lookalike
        [str(BIN / "lookalike"), "scan", "--start-url", url, "--batch-size", "4", *extra],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _counts(database: Database) -> tuple[int, int, int]:
    """(listings, listings waiting to be matched, matches)."""
    with database.session() as session:
        listings = session.scalar(select(func.count()).select_from(Listing))
        pending = session.scalar(select(func.count()).select_from(Listing).where(Listing.needs_matching.is_(True)))
        matches = session.scalar(select(func.count()).select_from(Match))
    return listings, pending, matches


def _kill_when(proc: subprocess.Popen, database: Database, ready, *, timeout: float = 240) -> tuple[int, int, int]:
    """SIGKILL the scan's whole process group (flow process and crawl child) once ``ready(counts)``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = _counts(database)
        if ready(counts):
            assert proc.poll() is None, "the scan finished before it could be interrupted"
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)  # reap it and close its pipes
            return counts
        if proc.poll() is not None:
            pytest.fail(f"scan ended before it was interrupted: {proc.communicate()[1][-3000:]}")
        time.sleep(0.05)
    stop_group(proc, signal.SIGKILL)
    proc.communicate()
    pytest.fail("the scan never reached the point where it was to be interrupted")


def _finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, f"scan failed:\n{out[-3000:]}\n{err[-3000:]}"
    return out


class Setup:
    """A data folder and database with the demo registry imported, and the environment of a scan there."""

    def __init__(self, server_env: dict[str, str], folder: Path, db_url: str, world: Path,
                 request: pytest.FixtureRequest) -> None:
        settings = test_settings(folder, db_url)
        import_demo_registry(settings, world)
        self.env = {**server_env, "LOOKALIKE_DATA_DIR": str(folder), "LOOKALIKE_DB_URL": db_url,
                    "LOOKALIKE_CONFIG": str(folder / "absent.toml"), "COLUMNS": "200"}
        self.database = Database(settings.database_url)
        request.addfinalizer(self.database.dispose)


@pytest.fixture(scope="module")
def demo_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(world folder, start URL): a slice of the demo world served for the whole module."""
    world = slice_world(full_demo_world(request.config), tmp_path_factory.mktemp("site") / "world", step=9)
    with DemoMarketplace(world, slow_seconds=0.1) as market:
        yield world, market.url + "/"


@pytest.fixture(scope="module")
def straight_scan(prefect_server: dict[str, str], demo_site: tuple[Path, str],
                  tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> tuple[dict, tuple[int, int, int]]:
    """The queue (``match_set``) and counts of one uninterrupted ``lookalike scan`` on SQLite."""
    world, url = demo_site
    folder = tmp_path_factory.mktemp("straight")
    setup = Setup(prefect_server, folder, f"sqlite:///{folder / 'lookalike.db'}", world, request)
    out = _finish(_scan_process(setup.env, url))
    assert "suspects:" in out
    counts = _counts(setup.database)
    assert counts[0] > 40 and counts[1] == 0 and counts[2] > 10
    return match_set(setup.database), counts


def test_a_killed_scan_run_again_ends_in_the_same_queue(prefect_server: dict[str, str], demo_site, straight_scan,
                                                       tmp_path: Path, request: pytest.FixtureRequest) -> None:
    world, url = demo_site
    queue, (total_listings, _, total_matches) = straight_scan
    setup = Setup(prefect_server, tmp_path, f"sqlite:///{tmp_path / 'lookalike.db'}", world, request)
    # 1. Killed while crawling: some listings stored, none matched yet.
    crawl_kill = _kill_when(_scan_process(setup.env, url), setup.database, lambda c: c[0] >= 10)
    assert crawl_kill[0] < total_listings and crawl_kill[2] == 0
    # 2. Killed while matching: some batches committed, others pending.
    match_kill = _kill_when(_scan_process(setup.env, url), setup.database, lambda c: c[2] > 0 and c[1] > 0)
    assert 0 < match_kill[2] < total_matches
    # 3. Run to the end: nothing lost, nothing duplicated.
    _finish(_scan_process(setup.env, url))
    assert _counts(setup.database) == (total_listings, 0, total_matches)
    assert match_set(setup.database) == queue


@pytest.mark.postgres
def test_matching_through_dask_with_two_workers_on_postgresql(prefect_server: dict[str, str], demo_site,
                                                              straight_scan, postgres_url: str,
                                                              tmp_path: Path, request: pytest.FixtureRequest) -> None:
    world, url = demo_site
    queue, counts = straight_scan
    setup = Setup(prefect_server, tmp_path, postgres_url, world, request)
    _finish(_scan_process(setup.env, url, "--dask", "local", "--workers", "2"))
    assert _counts(setup.database) == counts
    assert match_set(setup.database) == queue  # match_set also fails on any duplicate (listing, brand)
    with setup.database.session() as session:
        created = session.scalar(select(func.count()).select_from(MatchEvent).where(MatchEvent.from_status.is_(None)))
    assert created == counts[2]


def test_scan_rejects_a_bad_start_url_before_starting_prefect(tmp_path: Path) -> None:
    env = {**os.environ, "LOOKALIKE_DATA_DIR": str(tmp_path), "LOOKALIKE_CONFIG": str(tmp_path / "absent.toml")}
    result = subprocess.run([str(BIN / "lookalike"), "scan", "--start-url", "ftp://x.example/"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: not an http(s) URL: 'ftp://x.example/'"]
    assert "Traceback" not in result.stderr
