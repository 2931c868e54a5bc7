"""Finding 8: two scans starting together in a fresh data folder must not race to create Prefect's
database.  Two processes call what ``lookalike scan`` calls first; both succeed, exactly one creates it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from pathlib import Path
from core.prefect_env import configure_prefect_env, prepare_prefect_database
configure_prefect_env(Path(sys.argv[1]))
print("created" if prepare_prefect_database() else "found")
"""


@pytest.mark.slow
def test_two_scans_in_a_fresh_folder_create_prefects_database_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PYTHONPATH"] = str(REPO)
    children = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "data")], env=env, cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0], [err[-2000:] for _, err in results]
    assert sorted(out.strip() for out, _ in results) == ["created", "found"]
    assert (tmp_path / "data" / "prefect" / "prefect.db").is_file()
