"""Accepted deliveries for the HTTP adapters: built from the settings, swept while they run.

Each adapter that takes platform deliveries over HTTP (Slack events, commands and clicks; Telegram
webhooks) stores a delivery as *accepted* before acknowledging it and resumes the ones whose
worker died (``adapters/common/durable.py``). Every worker sweeps — at start, then every half
lease — and the compare-and-set on the lease makes one of them win each record; the query is one
indexed range scan that finds nothing in the normal case. This works the same on SQLite (one
process: a restart resumes what the killed process accepted) and on PostgreSQL with many workers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from adapters.common.durable import DurableDeliveries, Resume
from bot.bootstrap import Runtime
from bot.metrics import Metrics
from storage.stores.deliveries import AcceptedDelivery, SqlDeliveryLog

log = logging.getLogger(__name__)


class CountedAccepted:
    """The accepted-event records, counting retries turned away (``minime_deliveries_…``)."""

    def __init__(self, inner: SqlDeliveryLog, metrics: Metrics, platform: str) -> None:
        self._inner = inner
        self._counter = metrics.deduplicated.labels(platform)

    async def accept(
        self,
        key: str,
        payload: bytes,
        *,
        platform: str,
        lease: timedelta,
        account_id: str | None = None,
    ) -> bool:
        fresh = await self._inner.accept(
            key, payload, platform=platform, lease=lease, account_id=account_id
        )
        if not fresh:
            self._counter.inc()
        return fresh

    async def accept_many(
        self, deliveries: Sequence[tuple[str, bytes]], *, platform: str, lease: timedelta
    ) -> set[str]:
        fresh = await self._inner.accept_many(deliveries, platform=platform, lease=lease)
        repeats = len(deliveries) - len(fresh)
        if repeats:
            self._counter.inc(repeats)
        return fresh

    async def renew(self, key: str, lease: timedelta, *, account_id: str | None = None) -> bool:
        return await self._inner.renew(key, lease, account_id=account_id)

    async def finish(self, key: str, *, account_id: str | None = None) -> None:
        await self._inner.finish(key, account_id=account_id)

    async def claim_expired(
        self, platform: str, *, lease: timedelta, limit: int = 20
    ) -> Sequence[AcceptedDelivery]:
        return await self._inner.claim_expired(platform, lease=lease, limit=limit)


def durable_deliveries(runtime: Runtime, platform: str) -> DurableDeliveries:
    """The accepted-delivery runner of one adapter, with the runtime's settings."""
    settings = runtime.settings
    return DurableDeliveries(
        CountedAccepted(runtime.storage.deliveries, runtime.metrics, platform),
        platform=platform,
        lease_s=settings.delivery_lease_s,
        concurrency=settings.delivery_concurrency,
    )


@asynccontextmanager
async def sweeping(durable: DurableDeliveries, resume: Resume) -> AsyncIterator[None]:
    """Resume expired deliveries (now, then periodically) while the block runs."""
    task = asyncio.create_task(durable.sweep(resume), name=f"{durable.platform}-delivery-sweep")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
