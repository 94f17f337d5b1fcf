"""``minime keys rotate`` killed with SIGKILL at random instants: the harness of the slow test
(``tests/storage/test_rotation_kill.py``) and of ``bench/rotation_kill_bench.py``.

One SQLite database with ``accounts`` accounts, each holding a value only its data key opens. Each
round runs ``python -m bot keys rotate`` as the operator would (standard output redirected to a
file), kills it with SIGKILL after a random delay, then plays the operator: with a key file the
operator holds the data dir; with ``MINIME_MASTER_KEY`` the operator holds the keys printed so far
(putting a printed key first and dropping the old ones only once the command reported success).
The check: every account opens and reads back with exactly those keys, and no temporary key file
is left once minime has started again. After the last round, one uninterrupted rotation must
leave a single key that alone opens everything (old keys destroyed only at the end).

The kill instant is chosen three ways in turn: a delay drawn uniformly over a whole uninterrupted
run (mostly start-up); a uniform instant after the rotation's first visible step (the new key
printed, a key file written), where the key files and the database change; and a random one of
the rotation's durable steps (``tests/storage/kill_at_step.py``: the process SIGKILLs itself just
before the N-th file write, fsync, rename, unlink or commit, or just after the re-wrapping
transaction returns), so the narrow windows are hit as often as the wide ones.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.models import UserRef
from storage import open_storage
from storage.crypto import KEY_FILE_NAME, OLD_KEY_FILE_NAME

ROOT = Path(__file__).resolve().parents[2]
KEY_LINE = re.compile(r"^[A-Za-z0-9_-]{43}=$", re.MULTILINE)

Mode = Literal["file", "env"]


@dataclass
class KillLoopReport:
    """What the loop saw: per round, where the kill landed (judged from the state it left)."""

    mode: Mode
    rounds: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    delays_s: list[float] = field(default_factory=list)
    full_run_s: float = 0.0
    steps: int = 0
    """Durable steps (file writes and renames, commits) of an uninterrupted rotation."""
    step_kills: list[int] = field(default_factory=list)
    temp_files_left: int = 0
    """Temporary key files the kills left behind (each removed by the next start)."""
    failures: list[str] = field(default_factory=list)


def _url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'minime.db'}"


async def seed(data_dir: Path, *, accounts: int, master_key: str | None) -> dict[str, bytes]:
    """Create the accounts; return each one's expected value."""
    expected: dict[str, bytes] = {}
    async with open_storage(_url(data_dir), data_dir=data_dir, master_key=master_key) as storage:
        for n in range(accounts):
            account = await storage.accounts.resolve(
                UserRef(platform="kill", user_id=f"user{n}"), create=True
            )
            assert account is not None and account.active_persona is not None
            value = f"value of account {n}".encode()
            await storage.state.put(account.id, account.active_persona, "probe", value)
            expected[account.id] = value
    return expected


def readable(data_dir: Path, master_key: str | None, expected: dict[str, bytes]) -> str | None:
    """``None`` when every account reads back with these keys (and minime, once started, left no
    temporary key file), else what went wrong."""
    problem = asyncio.run(_read_back(data_dir, master_key, expected))
    if problem is not None:
        return problem
    leftovers = sorted(p.name for p in data_dir.glob(".master.key*.tmp"))
    if leftovers:
        return f"temporary key files left after a restart: {leftovers}"
    return None


async def _read_back(
    data_dir: Path, master_key: str | None, expected: dict[str, bytes]
) -> str | None:
    try:
        async with open_storage(
            _url(data_dir), data_dir=data_dir, master_key=master_key
        ) as storage:
            for account_id, value in expected.items():
                account = await storage.accounts.get(account_id)
                if account is None or account.active_persona is None:
                    return f"account {account_id} is gone"
                got = await storage.state.get(account_id, account.active_persona, "probe")
                if got != value:
                    return f"account {account_id} reads {got!r}"
    except Exception as error:  # the failure is the finding; report it, do not stop the loop
        return f"{type(error).__name__}: {error}"
    return None


def wrapped_by(data_dir: Path, new: str, previous: list[str]) -> str:
    """Which key wraps every data key: "newest" (``new``), "older" (one of ``previous``) or
    "mixed" (read without minime, so nothing is cleaned up before the check)."""
    with closing(sqlite3.connect(data_dir / "minime.db")) as connection:
        blobs = [row[0] for row in connection.execute("SELECT wrapped_key FROM account_keys")]
    for name, keys in (("newest", [new]), ("older", previous)):
        if not keys:
            continue
        fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        try:
            for blob in blobs:
                fernet.decrypt(blob)
        except InvalidToken:
            continue
        return name
    return "mixed"


def _rotate(
    data_dir: Path, env_keys: list[str] | None, out: Path, *, kill_at_step: int | None = None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIME_")}
    env["HF_HUB_OFFLINE"] = "1"
    if env_keys is not None:
        env["MINIME_MASTER_KEY"] = ",".join(env_keys)
    command = [sys.executable, "-m", "bot"]
    if kill_at_step is not None:
        steps = out.with_suffix(".steps")
        command = [sys.executable, "-m", "tests.storage.kill_at_step"]
        command += [str(kill_at_step), str(steps), "--"]
    with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
        return subprocess.Popen(
            [*command, "--data-dir", str(data_dir), "keys", "rotate"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )


def _file_keys(data_dir: Path) -> list[str]:
    keys = []
    for name in (KEY_FILE_NAME, OLD_KEY_FILE_NAME):
        path = data_dir / name
        if path.exists():
            keys += [k for k in path.read_text().replace("\n", ",").split(",") if k.strip()]
    return keys


def kill_loop(
    data_dir: Path,
    *,
    mode: Mode,
    rounds: int,
    accounts: int = 200,
    seed_value: int = 0,
) -> KillLoopReport:
    """Run the loop in ``data_dir`` (created); see the module docstring."""
    rng = random.Random(seed_value)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    report = KillLoopReport(mode=mode)
    operator: list[str] = [Fernet.generate_key().decode()] if mode == "env" else []
    expected = asyncio.run(seed(data_dir, accounts=accounts, master_key=_env(operator, mode)))
    out = data_dir.parent / f"rotate-{mode}.out"

    # One uninterrupted run sets the time scale (and is itself a rotation the operator follows).
    started = time.perf_counter()
    process = _rotate(data_dir, operator if mode == "env" else None, out, kill_at_step=0)
    changed_at = _first_change(process, data_dir, out, mode)
    process.wait()
    report.full_run_s = time.perf_counter() - started
    report.steps = int(out.with_suffix(".steps").read_text())
    # How long the process runs after its first visible step (the key printed, a key file).
    tail_s = report.full_run_s - (changed_at if changed_at is not None else 0.0)
    operator = _follow(mode, operator, out.read_text(), data_dir)
    if (problem := readable(data_dir, _env(operator, mode), expected)) is not None:
        report.failures.append(f"uninterrupted run: {problem}")

    for n in range(rounds):
        before = list(operator) if mode == "env" else _file_keys(data_dir)
        started = time.perf_counter()
        keys = operator if mode == "env" else None
        if n % 3 == 0:  # blind: anywhere in a whole run
            process = _rotate(data_dir, keys, out)
            finished = _wait(process, rng.uniform(0, report.full_run_s))
        elif n % 3 == 1:  # timed within the rotation proper, after its first visible step
            process = _rotate(data_dir, keys, out)
            _first_change(process, data_dir, out, mode)
            finished = _wait(process, rng.uniform(0, 1.2 * tail_s))
        else:  # at a random one of its durable steps (a file written or renamed, a commit)
            step = rng.randint(1, report.steps + 1)
            process = _rotate(data_dir, keys, out, kill_at_step=step)
            finished = process.wait() != -signal.SIGKILL
            report.step_kills.append(step)
        if not finished and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            finished = process.wait() != -signal.SIGKILL
        delay = time.perf_counter() - started
        report.delays_s.append(delay)
        report.rounds += 1
        printed = out.read_text()
        operator = _follow(mode, operator, printed, data_dir)
        after = operator if mode == "env" else _file_keys(data_dir)
        older = [k for k in [*after, *before] if k != after[0]]
        where = wrapped_by(data_dir, after[0], older)
        report.outcomes[_outcome(mode, finished, printed, data_dir, where)] += 1
        report.temp_files_left += len(list(data_dir.glob(".master.key*.tmp")))
        problem = readable(data_dir, _env(operator, mode), expected)
        if problem is not None:
            report.failures.append(f"round {n} (killed after {delay:.3f}s): {problem}")

    # The end: one full rotation; then its key alone opens everything and no old key is kept.
    last_before = list(operator) if mode == "env" else _file_keys(data_dir)
    process = _rotate(data_dir, operator if mode == "env" else None, out)
    if process.wait() != 0:
        said = out.with_suffix(".err").read_text().strip().splitlines()[-3:]
        report.failures.append(f"the final rotation failed: {said}")
    operator = _follow(mode, operator, out.read_text(), data_dir)
    final = operator if mode == "env" else _file_keys(data_dir)
    if len(final) != 1:
        report.failures.append(f"{len(final)} keys are still kept after a completed rotation")
    if (problem := readable(data_dir, _env(operator, mode), expected)) is not None:
        report.failures.append(f"after the final rotation: {problem}")
    if wrapped_by(data_dir, final[0], [k for k in last_before if k != final[0]]) != "newest":
        report.failures.append("the final rotation left data keys under an old key")
    return report


def _wait(process: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def _key_files(data_dir: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for path in [*data_dir.glob("master.key*"), *data_dir.glob(".master.key*")]:
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        found[path.name] = (info.st_ino, info.st_mtime_ns)
    return found


def _first_change(
    process: subprocess.Popen[bytes], data_dir: Path, out: Path, mode: Mode
) -> float | None:
    """Poll (every millisecond) until the rotation's first visible step; seconds since now-ish,
    or ``None`` if the process ended first."""
    started = time.perf_counter()
    files = _key_files(data_dir)
    while process.poll() is None:
        if mode == "env" and out.stat().st_size > 0:
            return time.perf_counter() - started
        if mode == "file" and _key_files(data_dir) != files:
            return time.perf_counter() - started
        time.sleep(0.001)
    return None


def _env(operator: list[str], mode: Mode) -> str | None:
    return ",".join(operator) if mode == "env" else None


def _follow(mode: Mode, operator: list[str], printed: str, data_dir: Path) -> list[str]:
    """The keys the operator holds after reading ``printed``."""
    if mode == "file":
        return []
    found = KEY_LINE.findall(printed)
    if not found:
        return operator
    new = found[-1]
    if "Re-wrapped" in printed:
        return [new]  # reported done: the old keys are destroyed
    return [new, *[k for k in operator if k != new]]


def _outcome(mode: Mode, finished: bool, printed: str, data_dir: Path, where: str) -> str:
    if finished:
        return "ran to completion"
    if mode == "env":
        if not KEY_LINE.search(printed):
            return "killed before the new key was printed"
        return f"killed after the new key was printed; data keys under the {where} key held"
    if not (data_dir / OLD_KEY_FILE_NAME).exists():
        return f"killed with no rotation under way; data keys under the {where} key held"
    return f"killed mid-rotation (master.key.old kept); data keys under the {where} key held"
