"""``adapters/common/durable.py`` on a real (SQLite) store: the heartbeat keeps a slow delivery
its worker's, a stopped worker's delivery stays accepted and is resumed once, a failure is done."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.common import BackgroundTasks, DurableDeliveries
from storage import Storage, open_storage


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_storage(
        f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", data_dir=tmp_path, master_key=None
    ) as opened:
        yield opened


async def test_a_slow_delivery_keeps_its_lease_and_is_done_once(storage: Storage) -> None:
    worker = DurableDeliveries(storage.deliveries, platform="slack", lease_s=0.3)
    other = DurableDeliveries(storage.deliveries, platform="slack", lease_s=0.3)
    ran: list[str] = []
    resumed: list[str] = []

    async def slow() -> None:
        await asyncio.sleep(1.2)  # four leases long: the heartbeat renews it
        ran.append("k")

    async def resume(key: str, payload: bytes) -> None:
        resumed.append(key)

    assert await worker.accept("k", b"body")
    assert not await other.accept("k", b"body")  # a retry on another worker
    task = worker.start("k", slow)
    for _ in range(6):  # the other worker sweeps meanwhile: the lease is held
        await asyncio.sleep(0.2)
        assert await other.resume_expired(resume) == 0
    await task
    assert ran == ["k"] and resumed == []
    assert not await storage.deliveries.pending("k")


async def test_a_stopped_workers_delivery_is_resumed_by_one_worker(storage: Storage) -> None:
    tasks = BackgroundTasks()
    dying = DurableDeliveries(storage.deliveries, platform="slack", lease_s=0.2, tasks=tasks)
    started = asyncio.Event()

    async def stuck() -> None:
        started.set()
        await asyncio.sleep(60)

    assert await dying.accept("k", b"the body")
    dying.start("k", stuck)
    await started.wait()
    await tasks.cancel()  # the worker goes away mid-work: nothing is marked done
    assert await storage.deliveries.pending("k")

    done: list[tuple[str, bytes]] = []

    async def resume(key: str, payload: bytes) -> None:
        done.append((key, payload))

    live = [
        DurableDeliveries(
            storage.deliveries, platform="slack", lease_s=0.2, tasks=BackgroundTasks()
        )
        for _ in range(3)
    ]
    await asyncio.sleep(0.5)  # the lease runs out (a renewal in flight at the stop finishes)
    taken = await asyncio.gather(*(w.resume_expired(resume) for w in live))
    assert sorted(taken) == [0, 0, 1]
    for w in live:
        await w.drain()
    assert done == [("k", b"the body")]
    assert not await storage.deliveries.pending("k")
    assert [await w.resume_expired(resume) for w in live] == [0, 0, 0]


async def test_a_failed_delivery_is_done_not_retried(storage: Storage) -> None:
    durable = DurableDeliveries(storage.deliveries, platform="telegram", lease_s=0.2)

    async def broken() -> None:
        raise ValueError("a bug")

    assert await durable.accept("t", b"x")
    await durable.start("t", broken)  # logged, not raised
    assert not await storage.deliveries.pending("t")


def test_the_lease_must_be_positive(storage: Storage) -> None:
    with pytest.raises(ValueError, match="lease"):
        DurableDeliveries(storage.deliveries, platform="slack", lease_s=0)


async def test_a_burst_of_acks_is_stored_in_a_few_inserts(storage: Storage) -> None:
    batches: list[int] = []
    accept_many = storage.deliveries.accept_many

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(storage.deliveries, name)

        async def accept_many(self, deliveries: list[tuple[str, bytes]], **kw: object) -> set[str]:
            batches.append(len(deliveries))
            return await accept_many(deliveries, **kw)  # type: ignore[arg-type]

    durable = DurableDeliveries(Counting(), platform="slack")  # type: ignore[arg-type]
    keys = [f"burst:{n}" for n in range(50)] + ["burst:7"]  # one retry inside the burst
    results = await asyncio.gather(*(durable.accept(key, b"body") for key in keys))
    assert results == [True] * 50 + [False]
    assert sum(batches) == 51 and len(batches) <= 3, batches  # group commit, not 51 inserts
    assert not await durable.accept("burst:0", b"body")  # a later retry
    assert all([await storage.deliveries.pending(f"burst:{n}") for n in range(50)])
