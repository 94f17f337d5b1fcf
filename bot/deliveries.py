"""Each delivery's work once among live workers, and again if the worker doing it died.

The delivery log's ``first_seen`` claims a delivery *before* its work (at most once): if the
process is killed between the claim and the end of the work, every retry is turned away and the
event is lost. On PostgreSQL with several workers, :class:`DeliveryGuard` does better:

1. take a session advisory lock named by the delivery key (``pg_advisory_lock``) on a pooled
   connection; a concurrent retry of the same delivery waits on it;
2. if the key is already in the delivery log, the work was done: skip (a de-duplicated retry);
3. otherwise do the work, then record the key (even if the work failed: its side effects are
   not repeated), then unlock.

PostgreSQL releases a session's advisory locks when its connection ends, so a worker killed by
``kill -9`` frees the lock at once and the retry (the platform's, since the ack never left, see
``ack_wait_s``) does the work on another worker. The one window left — the worker dies after its
work's side effects and before recording the key — is closed for drafts by their id, which is
derived from the delivery key (``Clone.handle_incoming(delivery=…)``): the retry finds the draft
and shows it again instead of drafting twice.

On SQLite (one process) there is no guard: the adapters use ``first_seen`` as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import Metrics
from storage.scope import Scope, set_scope

log = logging.getLogger(__name__)

_LOCK = text("SELECT pg_advisory_lock(hashtextextended(:key, 7))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:key, 7))")
# By key, across accounts (the delivery may precede its account): storage/scope.py's opt-out.
_DONE = text("SELECT 1 FROM deliveries WHERE key = :key").execution_options(
    minime_unscoped="a delivery is looked up by its key"
)


class _DeliveryLog(Protocol):
    async def first_seen(self, key: str, *, account_id: str | None = None) -> bool: ...


class DeliveryGuard:
    """Runs a delivery's work under its advisory lock; records the delivery when it is done.

    Args:
        engine: the storage engine (PostgreSQL); the lock holds one of its pooled connections
            for the duration of the work, so ``concurrency`` bounds how many run at once.
        deliveries: the persisted delivery log (``storage.deliveries``).
        concurrency: deliveries worked on at once in this process; the rest wait their turn
            (they count in the queue depth).
        metrics: where de-duplicated deliveries are counted.
        platform: the metrics label.
    """

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        deliveries: _DeliveryLog,
        concurrency: int,
        metrics: Metrics | None = None,
        platform: str = "slack",
    ) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the delivery guard needs PostgreSQL advisory locks")
        self._engine = engine
        self._deliveries = deliveries
        self._slots = asyncio.Semaphore(concurrency)
        self._deduplicated = metrics.deduplicated.labels(platform) if metrics else None

    async def run(self, key: str, work: Callable[[], Awaitable[None]]) -> bool:
        """Do ``work`` for delivery ``key`` unless it was done; ``False`` if it was."""
        async with self._slots, self._engine.connect() as connection:
            await connection.execute(_LOCK, {"key": key})
            await connection.commit()  # the lock is the session's, not the transaction's
            try:
                await set_scope(connection, Scope(delivery=key))  # row-level security
                done = (await connection.execute(_DONE, {"key": key})).first() is not None
                await connection.commit()
                if done:
                    if self._deduplicated is not None:
                        self._deduplicated.inc()
                    return False
                try:
                    await work()
                except asyncio.CancelledError:
                    raise  # shutting down: not done, a retry elsewhere may do it
                except BaseException:
                    await self._deliveries.first_seen(key)
                    raise
                await self._deliveries.first_seen(key)
                return True
            finally:
                try:
                    await asyncio.shield(self._unlock(connection, key))
                except Exception as error:  # the connection is gone: so is the lock
                    log.info("delivery unlock failed: %s", type(error).__name__)

    @staticmethod
    async def _unlock(connection: object, key: str) -> None:
        from sqlalchemy.ext.asyncio import AsyncConnection

        assert isinstance(connection, AsyncConnection)
        await connection.execute(_UNLOCK, {"key": key})
        await connection.commit()


def delivery_guard(
    engine: AsyncEngine, deliveries: _DeliveryLog, *, concurrency: int, metrics: Metrics | None
) -> DeliveryGuard | None:
    """A guard on PostgreSQL; ``None`` on SQLite (one process: ``first_seen`` suffices)."""
    if engine.dialect.name != "postgresql":
        return None
    return DeliveryGuard(
        engine=engine, deliveries=deliveries, concurrency=concurrency, metrics=metrics
    )
