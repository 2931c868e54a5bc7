"""Helpers for tests against real processes: a ``prefect server`` on a free loopback port, the venv's CLIs,
and process groups started and stopped together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_START_SECONDS = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 30) -> None:
    """Stop a process started in its own session, with its children (SIGKILL after ``timeout``)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def clean_environment() -> dict[str, str]:
    """This process's environment without any PREFECT_ or LOOKALIKE_ variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LOOKALIKE_"))}


@contextmanager
def prefect_server(home: Path) -> Iterator[dict[str, str]]:
    """``prefect server start`` on a free port with its own PREFECT_HOME (``home``, which also gets
    ``server.log``); yields the clients' environment (PREFECT_API_URL and friends)."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = clean_environment()
    env.update({"PREFECT_HOME": str(home), "PREFECT_API_URL": api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false"})
    with (home / "server.log").open("w") as log:
        proc = subprocess.Popen(  # noqa: S603 - the venv's own prefect
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=home,
        )
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            while not healthy(api):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("prefect server did not start:\n" + (home / "server.log").read_text()[-3000:])
                time.sleep(0.5)
            yield env
        finally:
            stop_group(proc)


def run_prefect(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """``prefect <args>`` from the repository root; its stdout, or the test fails with its output."""
    result = subprocess.run([str(BIN / "prefect"), *args], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"prefect {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


class ProcessGroup:
    """Background processes, each in its own session with its output in a log file, stopped together
    (last started first) by :meth:`stop_all`."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("w")
        try:
            proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                                    start_new_session=True)
        finally:
            log.close()  # the child has its own copy
        self.procs.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop_all(self) -> None:
        for _name, proc in reversed(self.procs):
            stop_group(proc)
