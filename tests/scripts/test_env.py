"""``scripts/env``: scripts/run and scripts/test share one environment and install only when needed.

Runs the real script in a scratch copy of the project whose ``.venv/bin/python`` is a stand-in
that records each pip call instead of installing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../pip-calls"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "env", tmp_path / "scripts" / "env")
    for name in ("requirements.lock", "requirements-dev.lock", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def env(project: Path, *args: str) -> tuple[list[str], str]:
    """Run scripts/env; returns the pip calls it made and what it printed."""
    calls = project / ".venv" / "pip-calls"
    calls.unlink(missing_ok=True)
    done = subprocess.run(
        [str(project / "scripts" / "env"), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHON": "/bin/false"},
    )
    made = calls.read_text().splitlines() if calls.exists() else []
    return made, done.stdout + done.stderr


def test_run_then_test_then_run_installs_twice_and_then_stays_quiet(project: Path) -> None:
    calls, said = env(project)
    assert any("-r requirements.lock" in c for c in calls)
    assert "Installing" in said and "first time" in said
    calls, said = env(project)
    assert calls == [] and said == ""
    calls, said = env(project, "dev")  # the dev tools come on top, once
    assert any("-r requirements-dev.lock" in c for c in calls)
    assert "Installing" in said and "adding the dev tools" in said and "first time" not in said
    for args in ((), ("dev",), (), ("dev",)):  # switching back and forth: nothing to do
        calls, said = env(project, *args)
        assert calls == [] and said == "", args
    assert len(list((project / ".venv").glob(".installed*"))) == 1


def test_a_changed_lock_file_reinstalls_once_keeping_the_dev_tools(project: Path) -> None:
    env(project, "dev")
    with (project / "requirements.lock").open("a") as lock:
        lock.write("# changed\n")
    calls, said = env(project)
    assert any("-r requirements-dev.lock" in c for c in calls)
    assert "the lock files changed" in said
    assert env(project) == ([], "") and env(project, "dev") == ([], "")


def test_run_and_test_go_through_the_same_environment_script() -> None:
    run = (ROOT / "scripts" / "run").read_text()
    test = (ROOT / "scripts" / "test").read_text()
    assert "scripts/env\n" in run and "scripts/env dev\n" in test
