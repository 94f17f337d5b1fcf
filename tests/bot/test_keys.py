"""``minime keys rotate`` with ``MINIME_MASTER_KEY``: the new key reaches the operator first."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from tests.storage.rotation_kill import KEY_LINE, ROOT, readable, seed


def rotate(data_dir: Path, key: str, stdout: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIME_")}
    with stdout.open("w") as out:
        return subprocess.run(
            [sys.executable, "-m", "bot", "--data-dir", str(data_dir), "keys", "rotate"],
            cwd=ROOT,
            env={**env, "MINIME_MASTER_KEY": key, "HF_HUB_OFFLINE": "1"},
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )


def test_a_key_that_cannot_be_printed_is_not_used(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    key = Fernet.generate_key().decode()
    expected = asyncio.run(seed(data_dir, accounts=3, master_key=key))

    failed = rotate(data_dir, key, Path("/dev/full"))  # minime keys rotate > /dev/full
    assert failed.returncode == 1
    assert "could not print the new master key" in failed.stderr
    assert "Traceback" not in failed.stderr and "Exception ignored" not in failed.stderr
    assert readable(data_dir, key, expected) is None  # nothing was re-wrapped

    printed = tmp_path / "rotation.txt"
    done = rotate(data_dir, key, printed)
    assert done.returncode == 0, done.stderr
    text = printed.read_text()
    [new_key] = KEY_LINE.findall(text)
    assert text.index(new_key) < text.index("Re-wrapped 3 data keys")  # the key came first
    assert readable(data_dir, new_key, expected) is None
    assert readable(data_dir, key, expected) is not None  # the old key is retired
