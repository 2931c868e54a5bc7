"""``lookalike crawl`` and ``lookalike marketplace``: errors are one line, a crawl prints its summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from crawl_support import write_tiny_world
from typer.testing import CliRunner

from cli import app, main
from data.demo.marketplace import DemoMarketplace


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOOKALIKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_DB_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LOOKALIKE_CONFIG", str(tmp_path / "absent.toml"))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl"], "nothing to crawl"),
        (["crawl", "--profile", "nope", "--query", "x"], "no profile named 'nope'"),
        (["crawl", "--start-url", "gopher://x.example/"], "not an http(s) URL"),
        (["marketplace", "serve", "--world", "/nonexistent-world"], "holds no world.json"),
    ],
)
def test_errors_are_one_line(env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "Traceback" not in err


def test_crawl_command_prints_summary(env: Path):
    world = env / "world"
    write_tiny_world(world, listings=6)
    with DemoMarketplace(world) as market:
        url = next(iter(market.product_urls().values()))
        result = CliRunner().invoke(app, ["crawl", "--start-url", url, "--max-pages", "1", "--no-images"])
    assert result.exit_code == 0, result.output
    assert "finished" in result.output and "listings new / changed / unchanged" in result.output
    assert "1 / 0 / 0" in result.output


def test_scrapy_crawl_works_inside_crawlers(env: Path):
    import os
    import subprocess
    import sys

    from sqlalchemy import create_engine, text

    world = env / "world"
    write_tiny_world(world, listings=3)
    crawlers_dir = Path(__file__).resolve().parent.parent / "crawlers"
    scrapy = Path(sys.executable).with_name("scrapy")
    with DemoMarketplace(world) as market:
        url = next(iter(market.product_urls().values()))
        done = subprocess.run(
            [str(scrapy), "crawl", "generic", "-a", f"start_urls={url}", "-a", "max_pages=1",
             "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=WARNING"],
            cwd=crawlers_dir, env={**os.environ, "LOOKALIKE_USER_AGENT": "HandRun/1.0 (+https://example.org)"},
            capture_output=True, text=True, timeout=120,
        )
        agents = {r.user_agent for r in market.requests}
    assert done.returncode == 0, done.stderr[-2000:]
    # LOOKALIKE_* settings reach a hand-run crawl (issue 8, bug 3), not only crawls started by run_crawl.
    assert agents == {"HandRun/1.0 (+https://example.org)"}
    engine = create_engine(os.environ["LOOKALIKE_DB_URL"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM crawl_runs")).scalars().all() == ["finished"]
        assert conn.execute(text("SELECT count(*) FROM listings")).scalar() == 1
    engine.dispose()
