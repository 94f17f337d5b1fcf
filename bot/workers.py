"""``minime run --workers N``: N worker processes serving one port, supervised by this one.

How the load is spread: every worker binds the same ``host:port`` with ``SO_REUSEPORT`` (Linux),
and the kernel hands each new connection to one of them. No proxy sits in the path and no worker
is special for HTTP: when one dies, its listening socket closes with it and new connections go
to the others (a request that was in flight on it fails, and Slack or Telegram retries it; one
that was acknowledged was stored first, and a live worker resumes it: ``bot/deliveries.py``).
The supervisor (this process) restarts a worker that exits, with a back-off, and passes
SIGTERM/SIGINT on to all of them.

Memory: by default this process loads the libraries, the sentence encoder and the shipped
models first (``bot/preload.py``) and forks each worker from it, so those pages exist once on
the host whatever N is (copy-on-write; a restarted worker is forked again from the same
pages); ``MINIME_WORKERS_FORK=false`` starts each worker as its own process instead.

Shared state lives in PostgreSQL only (delivery de-duplication, drafts and approvals, the
scheduler's leader lock), so ``--workers`` refuses SQLite. What must run once — the Discord
gateway and Telegram long polling — runs in worker 0 only; the other workers take HTTP
deliveries (Slack HTTP mode, Telegram webhooks). In Kubernetes, run one worker per pod instead
(``deploy/k8s``) and let the Service spread the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

from bot.memory import release_free_memory
from bot.settings import Settings

log = logging.getLogger(__name__)

WORKER_INDEX_ENV = "MINIME_WORKER_INDEX"
RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)
STOP_GRACE_S = 10.0


class WorkersUnavailable(Exception):
    """``--workers`` cannot run with these settings; ``str()`` is the sentence to show."""


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse what cannot scale out, with one sentence."""
    if workers < 1:
        raise WorkersUnavailable("--workers must be at least 1")
    if not settings.effective_database_url.startswith("postgresql"):
        raise WorkersUnavailable(
            "--workers needs PostgreSQL (MINIME_DATABASE_URL=postgresql+asyncpg://…): "
            "SQLite is one process"
        )
    if not hasattr(socket, "SO_REUSEPORT"):
        raise WorkersUnavailable("--workers needs SO_REUSEPORT (Linux); start one process per port")


def worker_env(base: Mapping[str, str], index: int, settings: Settings) -> dict[str, str]:
    """The environment of worker ``index``: the parent's, plus the scale-out settings."""
    env = dict(base)
    env[WORKER_INDEX_ENV] = str(index)
    env["MINIME_HTTP_REUSE_PORT"] = "true"
    env["MINIME_HTTP_HOST"] = settings.http_host
    env["MINIME_HTTP_PORT"] = str(settings.http_port)
    if index > 0:
        # One gateway connection and one poller per bot token: worker 0 runs those.
        env.pop("MINIME_DISCORD__BOT_TOKEN", None)
        if not settings.telegram.webhook_url:
            env.pop("MINIME_TELEGRAM__BOT_TOKEN", None)
    return env


class _Forked:
    """A worker forked by the fork server, with the part of ``asyncio.subprocess.Process``'s
    interface the supervisor uses."""

    def __init__(self, process: BaseProcess) -> None:
        self._process = process

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    async def wait(self) -> int:
        await asyncio.to_thread(self._process.join)
        return self._process.exitcode or 0

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def kill(self) -> None:
        self._process.kill()


def _serve(argv: list[str], env: dict[str, str]) -> None:
    """A forked worker: the environment of ``worker_env``, then ``minime run`` as if started.

    It was forked from a thread of the supervisor (the forking thread is the child's only and
    main thread, with no event loop): the supervisor's signal wiring is dropped first.
    """
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(env)
    from bot.cli import main

    sys.exit(main(argv))


def _fork(process: BaseProcess) -> None:
    """Start a forked worker, with no freed memory left for it to copy (``bot/memory.py``)."""
    release_free_memory()
    process.start()


@dataclass
class _Worker:
    index: int
    process: asyncio.subprocess.Process | _Forked | None = None
    restarts: list[float] = field(default_factory=list)


class Supervisor:
    """Starts N workers, restarts those that exit, stops them all on a signal.

    Args:
        argv: the worker command (``python -m bot [--data-dir D] run``).
        settings: the parent's settings (port, database, platforms).
        workers: how many.
        env: the parent environment (default ``os.environ``).
    """

    def __init__(
        self,
        argv: Sequence[str],
        settings: Settings,
        workers: int,
        *,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._argv = list(argv)
        self._settings = settings
        self._workers = [_Worker(i) for i in range(workers)]
        self._env = dict(os.environ if env is None else env)
        self._stopping = asyncio.Event()
        self._fork = multiprocessing.get_context("fork") if settings.workers_fork else None
        self._preloaded = False

    def stop(self) -> None:
        """Ask every worker to stop (SIGTERM) and stop restarting them."""
        self._stopping.set()

    async def run(self) -> int:
        """Until stopped: keep N workers running. Returns the exit status."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        try:
            await asyncio.gather(*(self._keep(w) for w in self._workers))
        finally:
            await self._terminate()
        return 0

    async def _spawn(self, worker: _Worker) -> None:
        env = worker_env(self._env, worker.index, self._settings)
        if self._fork is None:
            worker.process = await asyncio.create_subprocess_exec(*self._argv, env=env)
        else:
            if not self._preloaded:  # once, off the event loop: then every fork shares it
                await asyncio.to_thread(importlib.import_module, "bot.preload")
                self._preloaded = True
            # ``python -m bot [--data-dir D] run`` → the arguments after ``-m bot``
            process = self._fork.Process(
                target=_serve, args=(self._argv[3:], env), name=f"minime-worker-{worker.index}"
            )
            # Forked from a worker thread: the child starts with no running event loop.
            await asyncio.to_thread(_fork, process)
            worker.process = _Forked(process)
        log.warning("worker %d started (pid %d)", worker.index, worker.process.pid)

    async def _keep(self, worker: _Worker) -> None:
        while not self._stopping.is_set():
            await self._spawn(worker)
            assert worker.process is not None
            exited = asyncio.create_task(worker.process.wait())
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if self._stopping.is_set():
                exited.cancel()
                return
            code = exited.result()
            now = time.monotonic()
            worker.restarts = [t for t in worker.restarts if now - t < 60] + [now]
            delay = RESTART_BACKOFF_S[min(len(worker.restarts) - 1, len(RESTART_BACKOFF_S) - 1)]
            log.warning("worker %d exited (%s); restarting in %.1fs", worker.index, code, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _terminate(self) -> None:
        running = [w.process for w in self._workers if w.process and w.process.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(p.wait() for p in running)), timeout=STOP_GRACE_S
            )
        except TimeoutError:
            for process in running:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            await asyncio.gather(*(p.wait() for p in running))

    @property
    def pids(self) -> list[int | None]:
        return [w.process.pid if w.process else None for w in self._workers]


def worker_argv(data_dir: Path | None, *, debug: bool = False) -> list[str]:
    """``python -m bot [--data-dir D] [--debug] run``: one worker (no ``--workers``)."""
    argv = [sys.executable, "-m", "bot"]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if debug:
        argv.append("--debug")
    return [*argv, "run"]


async def supervise(settings: Settings, workers: int, *, data_dir: Path | None) -> int:
    """``minime run --workers N``."""
    check_workers(settings, workers)
    print(
        f"minime: {workers} workers on http://{settings.http_host}:{settings.http_port} "
        "(SO_REUSEPORT), one PostgreSQL",
        file=sys.stderr,
    )
    return await Supervisor(worker_argv(data_dir), settings, workers).run()
