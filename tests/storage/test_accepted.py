"""Accepted-event records (``storage/stores/deliveries.py``) on SQLite, PostgreSQL, and
PostgreSQL as the app role under row-level security: accept before the ack, renew, finish,
and the lease that lets exactly one live worker take over a dead worker's delivery."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage import Storage, tables
from storage.scope import Scope, set_scope, unscoped
from storage.stores.deliveries import MAX_ATTEMPTS
from tests.storage.support import new_account

LEASE = timedelta(seconds=30)
EXPIRED = timedelta(seconds=-1)
"""A lease already over: the record of a worker that died."""


def _platform() -> str:
    return "t" + uuid.uuid4().hex[:12]  # the store is shared by the session: a platform per test


async def _row(storage: Storage, key: str, account_id: str | None = None) -> dict[str, object]:
    d = tables.deliveries
    async with storage.engine.connect() as connection:
        await set_scope(connection, Scope(account=account_id, delivery=key))
        row = (
            await connection.execute(
                select(d).where(d.c.key == key).execution_options(**unscoped("test"))
            )
        ).one()
    return dict(row._mapping)


async def test_an_accepted_delivery_is_stored_once_encrypted_and_dropped_when_done(
    storage: Storage,
) -> None:
    platform, key = _platform(), f"slack:event:{uuid.uuid4().hex}"
    payload = b'{"event": {"text": "can we move the 1:1 to thursday?"}}'
    assert await storage.deliveries.accept(key, payload, platform=platform, lease=LEASE)
    # A retry of the same delivery (or a late first_seen) is turned away.
    assert not await storage.deliveries.accept(key, b"again", platform=platform, lease=LEASE)
    assert not await storage.deliveries.first_seen(key)
    assert await storage.deliveries.pending(key)
    row = await _row(storage, key)
    assert row["state"] == "accepted" and row["attempts"] == 1
    sealed = row["payload"]
    assert isinstance(sealed, bytes) and b"thursday" not in sealed  # encrypted at rest

    # Its worker holds the lease: nobody takes it over; renewing works while it is accepted.
    assert [d.key for d in await storage.deliveries.claim_expired(platform, lease=LEASE)] == []
    assert await storage.deliveries.renew(key, LEASE)

    await storage.deliveries.finish(key)
    row = await _row(storage, key)
    assert row["state"] == "done" and row["payload"] is None and row["lease_until"] is None
    assert not await storage.deliveries.pending(key)
    assert not await storage.deliveries.renew(key, LEASE)  # done: nothing to renew
    assert not await storage.deliveries.accept(key, payload, platform=platform, lease=LEASE)


async def test_an_expired_lease_is_taken_over_by_exactly_one_worker(storage: Storage) -> None:
    platform, other = _platform(), _platform()
    key = f"slack:event:{uuid.uuid4().hex}"
    await storage.deliveries.accept(key, b"the body", platform=platform, lease=EXPIRED)
    await storage.deliveries.accept(f"x:{key}", b"other", platform=other, lease=EXPIRED)

    # Five workers sweep at once: one wins the record, with its payload and a fresh lease.
    sweeps = await asyncio.gather(
        *(storage.deliveries.claim_expired(platform, lease=LEASE) for _ in range(5))
    )
    won = [d for taken in sweeps for d in taken]
    assert [(d.key, d.payload, d.attempts, d.account_id) for d in won] == [
        (key, b"the body", 2, None)
    ]
    lease_until = (await _row(storage, key))["lease_until"]
    assert isinstance(lease_until, datetime)
    assert lease_until.astimezone(UTC) > datetime.now(UTC) + timedelta(seconds=20)
    # Now leased again: the next sweep leaves it alone; another platform's record is not ours.
    assert await storage.deliveries.claim_expired(platform, lease=LEASE) == []
    assert [d.key for d in await storage.deliveries.claim_expired(other, lease=LEASE)] == [
        f"x:{key}"
    ]
    await storage.deliveries.finish(key)
    assert await storage.deliveries.claim_expired(platform, lease=EXPIRED) == []


async def test_a_delivery_that_keeps_killing_its_worker_is_given_up(storage: Storage) -> None:
    platform, key = _platform(), f"telegram:1:{uuid.uuid4().hex}"
    await storage.deliveries.accept(key, b"poison", platform=platform, lease=EXPIRED)
    for _ in range(MAX_ATTEMPTS - 1):  # each taker died at once: its lease expired again
        assert len(await storage.deliveries.claim_expired(platform, lease=EXPIRED)) == 1
    assert await storage.deliveries.claim_expired(platform, lease=EXPIRED) == []
    row = await _row(storage, key)
    assert row["state"] == "done" and row["payload"] is None


async def test_an_account_scoped_record_is_resumed_with_its_account_and_erased_with_it(
    storage: Storage,
) -> None:
    account = await new_account(storage)
    platform, key = _platform(), f"slack:event:{uuid.uuid4().hex}"
    await storage.deliveries.accept(
        key, b"scoped body", platform=platform, lease=EXPIRED, account_id=account.id
    )
    [taken] = await storage.deliveries.claim_expired(platform, lease=EXPIRED)
    assert (taken.payload, taken.account_id) == (b"scoped body", account.id)
    assert await storage.deliveries.renew(key, LEASE, account_id=account.id)
    await storage.vault.erase(account.id)
    assert not await storage.deliveries.pending(key, account_id=account.id)
    assert await storage.deliveries.claim_expired(platform, lease=EXPIRED) == []
    # The key is free again (the record went with the account).
    assert await storage.deliveries.accept(key, b"x", platform=platform, lease=LEASE)


async def test_prune_keeps_accepted_deliveries(storage: Storage) -> None:
    platform = _platform()
    done, accepted = f"old:{uuid.uuid4().hex}", f"old:{uuid.uuid4().hex}"
    await storage.deliveries.first_seen(done)
    await storage.deliveries.accept(accepted, b"keep me", platform=platform, lease=EXPIRED)
    await storage.deliveries.prune(datetime.now(UTC) + timedelta(seconds=5))
    assert await storage.deliveries.first_seen(done)  # pruned, so new again
    assert await storage.deliveries.pending(accepted)
    [taken] = await storage.deliveries.claim_expired(platform, lease=LEASE)
    assert taken.payload == b"keep me"


async def test_a_batch_is_accepted_in_one_insert_and_reports_the_new_keys(
    storage: Storage,
) -> None:
    platform = _platform()
    seen, fresh = f"b:{uuid.uuid4().hex}", f"b:{uuid.uuid4().hex}"
    await storage.deliveries.first_seen(seen)
    new = await storage.deliveries.accept_many(
        [(seen, b"retry"), (fresh, b"first"), (fresh, b"again")], platform=platform, lease=EXPIRED
    )
    assert new == {fresh}
    assert await storage.deliveries.accept_many([], platform=platform, lease=LEASE) == set()
    [taken] = await storage.deliveries.claim_expired(platform, lease=LEASE)
    assert (taken.key, taken.payload) == (fresh, b"first")  # sealed, bound to its own key
