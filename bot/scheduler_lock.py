"""Exactly one scheduler among many processes: a PostgreSQL advisory lock, handed over on death.

Every process that would run the scheduler (digests, reminders, profile refresh) enters a
:class:`LeaderElection`; one becomes leader by taking ``pg_try_advisory_lock(<schema:name>)`` on a
connection of its own and keeps that connection open for as long as it leads. The others try
again every ``poll_s``. When the leader's process dies (``kill -9`` included) its connection
closes, PostgreSQL releases the lock, and a follower takes over within ``poll_s`` (plus the time
the server needs to notice the closed socket: immediate on a local kill, up to the TCP keepalive
settings across a network partition).

The leader checks its connection every ``check_s``; if the connection is lost the lock may be
someone else's already, so leadership is given up at once (``lost`` is set and ``leading``
turns false) and the scheduler must stop. Jobs should call :meth:`LeaderElection.still_leading`
(one round trip) right before any side effect, so a leader cut off from the database never runs
a job another leader also runs.

SQLite is one process: the election is won at once and never lost.

Usage (the digest scheduler, issue 5)::

    async with LeaderElection(storage.engine, name="minime-scheduler") as election:
        await election.wait_until_leader()
        scheduler.start()
        await election.lost.wait()       # only returns if the database connection was lost
        scheduler.shutdown(wait=False)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

_TRY = text("SELECT pg_try_advisory_lock(:key)")
_PING = text("SELECT 1")
_SCHEMA = text("SELECT current_schema()")


def lock_key(name: str, schema: str = "") -> int:
    """A stable signed 64-bit advisory lock key for ``name`` in the database schema ``schema``.

    Advisory locks are database-wide; the schema is part of the key so two deployments that
    share one database in separate schemas each elect their own leader.
    """
    digest = hashlib.sha256(f"minime:{schema}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LeaderElection:
    """Leader election among processes sharing one database (async context manager).

    Args:
        engine: the storage engine. On PostgreSQL a dedicated connection is taken from it.
        name: what is being led (one lock per name).
        poll_s: how often a follower tries to take the lock.
        check_s: how often the leader checks that its connection (so its lock) is alive.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        name: str = "scheduler",
        poll_s: float = 1.0,
        check_s: float = 2.0,
    ) -> None:
        self._engine = engine
        self._name = name
        self._key: int | None = None  # known once connected: it depends on the schema
        self._poll_s = poll_s
        self._check_s = check_s
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._leading = asyncio.Event()
        self._using = asyncio.Lock()  # one statement at a time on the lock's connection
        self.lost = asyncio.Event()
        """Set when leadership, once held, was lost (the connection to the database died)."""
        self.identity = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def key(self) -> int | None:
        """The advisory lock key (``None`` until the first attempt on PostgreSQL)."""
        return self._key

    @property
    def leading(self) -> bool:
        """Whether this process holds the lock (as far as the last check knows)."""
        return self._leading.is_set() and not self.lost.is_set()

    async def __aenter__(self) -> LeaderElection:
        if self._engine.dialect.name != "postgresql":
            self._leading.set()  # one process, no one to compete with
            return self
        self._task = asyncio.create_task(self._campaign(), name="leader-election")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._release()

    async def wait_until_leader(self) -> None:
        """Return once this process leads (at once on SQLite)."""
        if self._task is not None and self._task.done() and not self._leading.is_set():
            self._task.result()  # the campaign failed: raise its error
        waiting = asyncio.create_task(self._leading.wait())
        pending = {waiting} | ({self._task} if self._task is not None else set())
        done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if waiting not in done:
            waiting.cancel()
            assert self._task is not None
            self._task.result()
            raise RuntimeError("leader election stopped")

    async def still_leading(self) -> bool:
        """One round trip on the lock's connection: is the lock still ours? (Call before jobs.)"""
        if self._engine.dialect.name != "postgresql":
            return True
        if not self.leading or self._connection is None:
            return False
        try:
            async with self._using:
                await self._connection.execute(_PING)
                await self._connection.commit()
        except Exception as error:
            self._lose(error)
            return False
        return True

    # ---------------------------------------------------------------- internals

    async def _campaign(self) -> None:
        while True:
            try:
                if await self._try():
                    log.info("leader election: %s leads", self.identity)
                    self._leading.set()
                    await self._hold()
                    return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is away: keep trying
                log.warning("leader election: %s", type(error).__name__)
                await self._release()
            await asyncio.sleep(self._poll_s)

    async def _try(self) -> bool:
        if self._connection is None:
            self._connection = await self._engine.connect()
        if self._key is None:
            schema = (await self._connection.execute(_SCHEMA)).scalar_one()
            self._key = lock_key(self._name, schema or "")
        won = (await self._connection.execute(_TRY, {"key": self._key})).scalar_one()
        await self._connection.commit()
        return bool(won)

    async def _hold(self) -> None:
        while True:
            await asyncio.sleep(self._check_s)
            if not await self.still_leading():
                return

    def _lose(self, error: BaseException) -> None:
        if not self.lost.is_set():
            log.error("leader election: lost the lock's connection (%s)", type(error).__name__)
        self.lost.set()
        self._leading.clear()

    async def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # Closing the database session (not returning it to the pool) is what frees the lock
        # for certain, even if an unlock would fail half-way.
        with contextlib.suppress(Exception):
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()
        self._leading.clear()
