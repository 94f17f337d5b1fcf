"""Run ``minime`` and SIGKILL it at the N-th durable step of a key rotation (a test harness).

    python -m tests.storage.kill_at_step N COUNT_FILE -- --data-dir DIR keys rotate

Once ``rotate_keys`` is entered, every file-system step that can matter for a crash
(``os.open``, ``os.write``, ``os.fsync``, ``os.replace``, ``os.link``, ``os.unlink``), every
database commit, and the return of the re-wrapping transaction count as one step; at step ``N``
the process sends itself SIGKILL (no clean-up runs, as with ``kill -9``). ``N = 0`` never kills;
the number of steps seen is written to ``COUNT_FILE`` at exit, so a full run tells how many
points there are to choose from.
"""

from __future__ import annotations

import atexit
import functools
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

import storage.crypto as crypto
from bot.cli import main


class _Steps:
    def __init__(self, kill_at: int) -> None:
        self.kill_at = kill_at
        self.seen = 0
        self.armed = False

    def step(self) -> None:
        if not self.armed:
            return
        self.seen += 1
        if self.seen == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def _counted(steps: _Steps, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        steps.step()
        result = function(*args, **kwargs)
        return result

    return wrapper


def install(kill_at: int, count_file: Path) -> None:
    steps = _Steps(kill_at)
    for name in ("open", "write", "fsync", "replace", "link", "unlink"):
        setattr(os, name, _counted(steps, getattr(os, name)))
    event.listen(Engine, "commit", lambda _connection: steps.step())

    rotate_keys = crypto.rotate_keys
    rotate_master_key = crypto.rotate_master_key

    async def armed_rotate_keys(*args: Any, **kwargs: Any) -> Any:
        steps.armed = True
        return await rotate_keys(*args, **kwargs)

    async def counted_rotate_master_key(*args: Any, **kwargs: Any) -> Any:
        result = await rotate_master_key(*args, **kwargs)
        steps.step()  # committed, not yet reported
        return result

    crypto.rotate_keys = armed_rotate_keys  # type: ignore[assignment]
    crypto.rotate_master_key = counted_rotate_master_key  # type: ignore[assignment]
    import storage

    storage.rotate_keys = armed_rotate_keys  # type: ignore[attr-defined]
    atexit.register(lambda: count_file.write_text(str(steps.seen)))


if __name__ == "__main__":
    kill_at, count_file, separator, *argv = sys.argv[1:]
    assert separator == "--"
    install(int(kill_at), Path(count_file))
    raise SystemExit(main(argv))
