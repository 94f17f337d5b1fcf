"""Delivery de-duplication: a platform retrying an event is answered once, across processes."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import delete

from core.models import AccountId
from storage import tables
from storage.scope import Scope, unscoped
from storage.stores.context import StoreContext, rowcount
from storage.stores.parts import VaultPart


class SqlDeliveryLog:
    """Delivery de-duplication on the table's primary key, so it holds across processes.

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
                .values(key=key, account_id=account_id, seen_at=self._ctx.clock())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            return rowcount(result) == 1

    async def prune(self, older_than: datetime) -> int:
        """Forget deliveries seen before ``older_than`` (platforms stop retrying after minutes)."""
        d = tables.deliveries
        async with self._ctx.write(Scope(purpose="expire-deliveries")) as session:
            result = await session.execute(
                delete(d)
                .where(d.c.seen_at < older_than)
                .execution_options(**unscoped("delivery de-duplication records expire"))
            )
            return rowcount(result)


VAULT: Final = VaultPart(tables=(tables.deliveries,))
"""Deliveries are not exported (they hold no content), but an account's are erased with it."""
