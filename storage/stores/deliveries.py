"""Platform deliveries: de-duplication across retries and processes, and accepted-event records.

A delivery's key (Slack ``event_id``, Telegram ``update_id``, …) is the table's primary key.

- :meth:`SqlDeliveryLog.first_seen` claims a key at most once (``INSERT … ON CONFLICT DO
  NOTHING``): the record of a delivery that is simply done.
- :meth:`SqlDeliveryLog.accept` is the durable accepted-event record: before the platform hears
  "200", the delivery's payload is stored (encrypted: under the account's data key when the
  account is known, otherwise sealed under the master key and bound to the key) with state
  ``accepted`` and a lease. One insert; a retried delivery finds its key and is turned away.
- :meth:`SqlDeliveryLog.renew` extends the lease while the work runs; :meth:`finish` marks it
  ``done`` and drops the payload.
- :meth:`SqlDeliveryLog.claim_expired` finds accepted records whose lease expired (their worker
  died) and takes each with a compare-and-set on the lease, so one live worker resumes it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AccountId
from storage import tables
from storage.errors import DecryptionError
from storage.scope import Scope, unscoped
from storage.stores.context import StoreContext, rowcount
from storage.stores.parts import VaultPart

log = logging.getLogger(__name__)

ACCEPTED: Final = "accepted"
DONE: Final = "done"
MAX_ATTEMPTS: Final = 3
"""A delivery taken this many times without finishing (it keeps killing its worker) is given up."""

_BY_KEY: Final = unscoped("a delivery is looked up by its key (its account may be unknown)")


@dataclass(frozen=True, slots=True)
class AcceptedDelivery:
    """An accepted delivery taken over from a worker that died.

    Attributes:
        key: the delivery key.
        payload: the delivery as it was received.
        account_id: its account, if it was known when accepted.
        attempts: how many times it has been taken, this one included.
    """

    key: str
    payload: bytes
    account_id: AccountId | None
    attempts: int


class SqlDeliveryLog:
    """Delivery de-duplication and accepted-event records on the ``deliveries`` table.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def first_seen(self, key: str, *, account_id: AccountId | None = None) -> bool:
        """``True`` exactly once per key (``INSERT … ON CONFLICT DO NOTHING``)."""
        async with self._ctx.write(Scope(account=account_id, delivery=key)) as session:
            result = await session.execute(
                self._ctx.insert(tables.deliveries)
                .values(key=key, account_id=account_id, seen_at=self._ctx.clock(), state=DONE)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            return rowcount(result) == 1

    async def accept(
        self,
        key: str,
        payload: bytes,
        *,
        platform: str,
        lease: timedelta,
        account_id: AccountId | None = None,
    ) -> bool:
        """Store an accepted delivery (one insert); ``False`` if its key was seen before.

        The caller acknowledges the delivery only after this returns, and does its work while
        holding the lease (:meth:`renew`), then calls :meth:`finish`.
        """
        now = self._ctx.clock()
        async with self._ctx.write(Scope(account=account_id, delivery=key)) as session:
            sealed = await self._seal(session, key, payload, account_id)
            result = await session.execute(
                self._ctx.insert(tables.deliveries)
                .values(
                    key=key,
                    account_id=account_id,
                    seen_at=now,
                    state=ACCEPTED,
                    platform=platform,
                    payload=sealed,
                    lease_until=now + lease,
                    attempts=1,
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            return rowcount(result) == 1

    async def accept_many(
        self, deliveries: Sequence[tuple[str, bytes]], *, platform: str, lease: timedelta
    ) -> set[str]:
        """:meth:`accept` for several deliveries whose account is not known, in one insert (a
        group commit: one transaction, one write lock, however many arrived at once); the keys
        that were new. A key given twice counts once."""
        if not deliveries:
            return set()
        now = self._ctx.clock()
        master = self._ctx.keys.master
        rows = {
            key: {
                "key": key,
                "account_id": None,
                "seen_at": now,
                "state": ACCEPTED,
                "platform": platform,
                "payload": master.seal(key, payload),
                "lease_until": now + lease,
                "attempts": 1,
            }
            for key, payload in reversed(deliveries)  # the first of a repeated key wins
        }
        d = tables.deliveries
        async with self._ctx.write(Scope(purpose="accept-deliveries")) as session:
            result = await session.execute(
                self._ctx.insert(d)
                .values(list(rows.values()))
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(d.c.key)
            )
            return set(result.scalars())

    async def renew(
        self, key: str, lease: timedelta, *, account_id: AccountId | None = None
    ) -> bool:
        """Extend the lease of an accepted delivery; ``False`` if it is no longer accepted."""
        d = tables.deliveries
        async with self._ctx.write(Scope(account=account_id, delivery=key)) as session:
            result = await session.execute(
                update(d)
                .where(d.c.key == key, d.c.state == ACCEPTED)
                .values(lease_until=self._ctx.clock() + lease)
                .execution_options(**_BY_KEY)
            )
            return rowcount(result) == 1

    async def finish(self, key: str, *, account_id: AccountId | None = None) -> None:
        """Mark a delivery done and drop its payload (recording it if it was never accepted)."""
        d = tables.deliveries
        async with self._ctx.write(Scope(account=account_id, delivery=key)) as session:
            await session.execute(
                self._ctx.insert(d)
                .values(key=key, account_id=account_id, seen_at=self._ctx.clock(), state=DONE)
                .on_conflict_do_update(
                    index_elements=["key"],
                    set_={"state": DONE, "payload": None, "lease_until": None},
                )
            )

    async def pending(self, key: str, *, account_id: AccountId | None = None) -> bool:
        """Whether ``key`` is accepted and not yet done."""
        d = tables.deliveries
        async with self._ctx.read(Scope(account=account_id, delivery=key)) as session:
            found = await session.execute(
                select(d.c.state).where(d.c.key == key).execution_options(**_BY_KEY)
            )
            return found.scalar_one_or_none() == ACCEPTED

    async def claim_expired(
        self, platform: str, *, lease: timedelta, limit: int = 20
    ) -> list[AcceptedDelivery]:
        """Take over accepted deliveries of ``platform`` whose lease expired, each at most once.

        Each is taken with a compare-and-set on its lease (of any number of workers sweeping at
        once, one wins it) and gets a fresh ``lease``. A record taken :data:`MAX_ATTEMPTS` times
        already, or whose payload cannot be read (the master key that sealed it was retired), is
        marked done and logged instead (without its key: a key can name a user).
        """
        d = tables.deliveries
        now = self._ctx.clock()
        async with self._ctx.read(Scope(purpose="resume-deliveries")) as session:
            rows = (
                await session.execute(
                    select(d.c.key, d.c.account_id)
                    .where(d.c.state == ACCEPTED, d.c.platform == platform, d.c.lease_until < now)
                    .order_by(d.c.lease_until)
                    .limit(limit)
                    .execution_options(**unscoped("accepted deliveries whose worker died"))
                )
            ).all()
        taken: list[AcceptedDelivery] = []
        for key, account_id in rows:
            claimed = await self._claim(key, account_id, now=now, lease=lease)
            if claimed is not None:
                taken.append(claimed)
        return taken

    async def _claim(
        self, key: str, account_id: AccountId | None, *, now: datetime, lease: timedelta
    ) -> AcceptedDelivery | None:
        d = tables.deliveries
        async with self._ctx.write(Scope(account=account_id, delivery=key)) as session:
            won = (
                await session.execute(
                    update(d)
                    .where(d.c.key == key, d.c.state == ACCEPTED, d.c.lease_until < now)
                    .values(lease_until=now + lease, attempts=d.c.attempts + 1)
                    .returning(d.c.payload, d.c.attempts)
                    .execution_options(**_BY_KEY)
                )
            ).first()
            if won is None:
                return None  # another worker took it first
            sealed, attempts = won
            payload = None
            if attempts <= MAX_ATTEMPTS and sealed is not None:
                try:
                    payload = await self._unseal(session, key, sealed, account_id)
                except DecryptionError:
                    log.warning(
                        "an accepted delivery is unreadable (sealed by a retired key); dropped"
                    )
            elif attempts > MAX_ATTEMPTS:
                log.warning(
                    "an accepted delivery was taken %d times unfinished; given up", attempts - 1
                )
            if payload is None:
                await session.execute(
                    update(d)
                    .where(d.c.key == key)
                    .values(state=DONE, payload=None, lease_until=None)
                    .execution_options(**_BY_KEY)
                )
                return None
            return AcceptedDelivery(key, payload, account_id, int(attempts))

    async def _seal(
        self, session: AsyncSession, key: str, payload: bytes, account_id: AccountId | None
    ) -> bytes:
        if account_id is None:
            return self._ctx.keys.master.seal(key, payload)
        cipher = await self._ctx.cipher(session, account_id)
        return cipher.encrypt(f"delivery:{key}", payload)

    async def _unseal(
        self, session: AsyncSession, key: str, sealed: bytes, account_id: AccountId | None
    ) -> bytes:
        if account_id is None:
            return self._ctx.keys.master.unseal(key, sealed)
        cipher = await self._ctx.cipher(session, account_id)
        return cipher.decrypt(f"delivery:{key}", sealed)

    async def prune(self, older_than: datetime) -> int:
        """Forget done deliveries seen before ``older_than`` (platforms stop retrying after
        minutes); accepted ones stay until they are resumed."""
        d = tables.deliveries
        async with self._ctx.write(Scope(purpose="expire-deliveries")) as session:
            result = await session.execute(
                delete(d)
                .where(d.c.seen_at < older_than, d.c.state == DONE)
                .execution_options(**unscoped("delivery de-duplication records expire"))
            )
            return rowcount(result)


VAULT: Final = VaultPart(tables=(tables.deliveries,))
"""Deliveries are erased with their account. They are not exported: a done record holds no
content, and an accepted one is transient (its payload is dropped within seconds, when its work
ends); a pending delivery's message is exported once stored as a message."""
