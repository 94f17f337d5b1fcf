"""Accepted deliveries that survive the worker: stored before the ack, resumed if it dies.

The platform hears "200" only after :meth:`DurableDeliveries.accept` stored the delivery (one
insert, its payload encrypted, keyed by the delivery key so a retry is turned away). The work
then runs in the background holding a lease that a heartbeat renews; when it ends the record is
marked done and its payload dropped. A worker killed by ``kill -9`` stops renewing: once the lease
expires, a live worker's sweep (at start, then every half lease) takes the record over with a
compare-and-set — one worker wins it — and runs it again from the stored payload. The work is
idempotent where it matters: a draft's id is derived from the delivery key, so a delivery resumed
after its draft was stored shows that draft instead of making a second one.

A graceful stop cancels work in flight without finishing it: its record stays accepted and is
resumed after the lease, by this worker's successor or another.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Protocol

from adapters.common.background import BackgroundTasks

log = logging.getLogger(__name__)

MAX_BATCH = 200
"""Deliveries stored by one insert at most."""

Resume = Callable[[str, bytes], Awaitable[None]]
"""Runs a resumed delivery from its key and stored payload (the adapter re-dispatches it)."""


class Taken(Protocol):
    """An accepted delivery taken over from a dead worker."""

    @property
    def key(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def account_id(self) -> str | None: ...


class AcceptedLog(Protocol):
    """The accepted-event records (``storage.stores.deliveries.SqlDeliveryLog``)."""

    async def accept(
        self,
        key: str,
        payload: bytes,
        *,
        platform: str,
        lease: timedelta,
        account_id: str | None = None,
    ) -> bool: ...

    async def accept_many(
        self, deliveries: Sequence[tuple[str, bytes]], *, platform: str, lease: timedelta
    ) -> set[str]: ...

    async def renew(self, key: str, lease: timedelta, *, account_id: str | None = None) -> bool: ...

    async def finish(self, key: str, *, account_id: str | None = None) -> None: ...

    async def claim_expired(
        self, platform: str, *, lease: timedelta, limit: int = 20
    ) -> Sequence[Taken]: ...


class DurableDeliveries:
    """One adapter's accepted deliveries: accept before the ack, work under a lease, resume.

    Args:
        log: the accepted-event records.
        platform: which records are this adapter's (``slack``, ``telegram``).
        lease_s: how long a record stays a worker's without a heartbeat; a killed worker's
            deliveries are resumed this long (plus up to half of it) after it died.
        concurrency: deliveries worked on at once in this process; the rest wait their turn,
            their lease renewed meanwhile.
        tasks: where the work runs (the adapter's tracked background tasks).
    """

    def __init__(
        self,
        log: AcceptedLog,
        *,
        platform: str,
        lease_s: float = 30.0,
        concurrency: int = 8,
        tasks: BackgroundTasks | None = None,
    ) -> None:
        if lease_s <= 0:
            raise ValueError("the delivery lease must be positive")
        self._log = log
        self.platform = platform
        self.lease = timedelta(seconds=lease_s)
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks = tasks if tasks is not None else BackgroundTasks()
        self.resumed = 0
        self._waiting: list[tuple[str, bytes, asyncio.Future[bool]]] = []
        self._committer: asyncio.Task[None] | None = None

    def use_tasks(self, tasks: BackgroundTasks) -> DurableDeliveries:
        """Run the work as ``tasks`` (the adapter's own, so its shutdown ends it); ``self``."""
        self._tasks = tasks
        return self

    async def drain(self) -> None:
        """Wait for the work started so far (tests, a graceful stop)."""
        await self._tasks.drain()

    async def accept(self, key: str, payload: bytes, *, account_id: str | None = None) -> bool:
        """Store the delivery before it is acknowledged; ``False`` if its key was seen before
        (a retry: acknowledge it and do nothing).

        Group commit: deliveries that arrive while an insert is in flight are stored together by
        the next one (one transaction, one write lock), so a burst costs a few inserts, not one
        per delivery, and an ack waits for at most two of them."""
        if account_id is not None:
            return await self._log.accept(
                key, payload, platform=self.platform, lease=self.lease, account_id=account_id
            )
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, payload, stored))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit())
        return await stored

    async def _commit(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                new = await self._log.accept_many(
                    [(key, payload) for key, payload, _ in batch],
                    platform=self.platform,
                    lease=self.lease,
                )
            except asyncio.CancelledError:
                for _, _, stored in batch:
                    stored.cancel()
                raise
            except Exception as error:  # the database is down: those requests fail (no ack)
                for _, _, stored in batch:
                    if not stored.done():
                        stored.set_exception(error)
                continue
            for key, _, stored in batch:
                if not stored.done():
                    stored.set_result(key in new)
                new.discard(key)  # a key twice in one batch: the second is a repeat

    def start(
        self, key: str, work: Callable[[], Awaitable[None]], *, account_id: str | None = None
    ) -> asyncio.Task[None]:
        """Run an accepted delivery's ``work`` in the background, holding its lease; mark it
        done when the work ends (also when it failed: its side effects are not repeated)."""
        return self._tasks.spawn(self._hold(key, work, account_id))

    async def _hold(
        self, key: str, work: Callable[[], Awaitable[None]], account_id: str | None
    ) -> None:
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(key, account_id))
        try:
            async with self._slots:
                try:
                    await work()
                except asyncio.CancelledError:
                    raise  # stopping: not done; resumed after the lease
                except Exception as error:  # logged by type only: it may quote the payload
                    log.warning(
                        "%s: a delivery's work failed: %s", self.platform, type(error).__name__
                    )
                    await self._log.finish(key, account_id=account_id)
                    return
                await self._log.finish(key, account_id=account_id)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    async def _heartbeat(self, key: str, account_id: str | None) -> None:
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                # Shielded: a renewal cut off half-way would leave its transaction dangling.
                renewal = self._log.renew(key, self.lease, account_id=account_id)
                if not await asyncio.shield(renewal):
                    return
            except Exception as error:  # the database blinked: try again next beat
                log.info("%s: lease renewal failed: %s", self.platform, type(error).__name__)

    async def resume_expired(self, resume: Resume) -> int:
        """Take over the deliveries whose worker died and run them (in the background);
        how many were taken."""
        taken = await self._log.claim_expired(self.platform, lease=self.lease)
        if taken:
            log.info("%s: resuming %d deliveries whose worker stopped", self.platform, len(taken))
        for record in taken:
            self.start(
                record.key,
                _bind(resume, record.key, record.payload),
                account_id=record.account_id,
            )
        self.resumed += len(taken)
        return len(taken)

    async def sweep(self, resume: Resume, *, every_s: float | None = None) -> None:
        """For ever: resume expired deliveries now, then every ``every_s`` (half a lease by
        default, with jitter so workers do not sweep in step)."""
        period = every_s if every_s is not None else self.lease.total_seconds() / 2
        while True:
            try:
                await self.resume_expired(resume)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database blinked: the next sweep retries
                log.warning("%s: delivery sweep failed: %s", self.platform, type(error).__name__)
            await asyncio.sleep(period * random.uniform(0.8, 1.2))


def _bind(resume: Resume, key: str, payload: bytes) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        await resume(key, payload)

    return work
