"""The whole account at once: its export (everything, decrypted) and its erasure.

The vault knows no table of its own: each aggregate module declares a
:class:`~storage.stores.parts.VaultPart` (the tables it owns, the export sections it writes) and
the vault assembles them. A table that no part owns stops this module from loading.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncEngine

from core.models import AccountId
from storage import tables
from storage.errors import NotFound, StorageError
from storage.stores import (
    accounts,
    deliveries,
    drafts,
    feedback,
    messages,
    personas,
    posts,
    state,
    teams,
)
from storage.stores.accounts import load_account
from storage.stores.context import StoreContext
from storage.stores.parts import ExportScope, Section, VaultPart, iso
from storage.stores.personas import load_personas

PARTS: Final[tuple[VaultPart, ...]] = (
    accounts.VAULT,
    personas.VAULT,
    messages.VAULT,
    drafts.VAULT,
    feedback.VAULT,
    state.VAULT,
    deliveries.VAULT,
    posts.VAULT,
    teams.VAULT,
)
"""Every aggregate's share of an account."""

EXPORT_FORMAT: Final = "minime-export"
EXPORT_VERSION: Final = 1
EXPORT_SECTIONS: Final = (
    "account",
    "identities",
    "personas",
    "messages",
    "drafts",
    "approvals",
    "feedback",
    "priority_labels",
    "state",
    "vectors",
    "persona_identity",
    "persona_bindings",
    "persona_team",
    "persona_shares",
    "consults",
    "posts",
    "connections",
)
"""The export's top-level sections, in the order the file has always had them."""


def export_sections(parts: Sequence[VaultPart]) -> dict[str, Section]:
    """The section writers of ``parts`` in :data:`EXPORT_SECTIONS` order.

    Raises:
        StorageError: the parts write other sections than the export format has (or miss one).
    """
    writers = {name: write for part in parts for name, write in part.sections}
    if set(writers) != set(EXPORT_SECTIONS):
        raise StorageError(
            f"export sections {sorted(writers)} do not match the format's {sorted(EXPORT_SECTIONS)}"
        )
    return {name: writers[name] for name in EXPORT_SECTIONS}


def erase_order(parts: Sequence[VaultPart]) -> tuple[Table, ...]:
    """The tables of ``parts``, children before parents (the order rows can be deleted in).

    Raises:
        StorageError: a table of the schema belongs to no part (its rows would outlive erasure).
    """
    owned = {table.name for part in parts for table in part.tables}
    unowned = [t.name for t in tables.metadata.sorted_tables if t.name not in owned]
    if unowned:
        raise StorageError(f"tables no aggregate owns, so erasure would miss them: {unowned}")
    return tuple(reversed(tables.metadata.sorted_tables))


log = logging.getLogger(__name__)


_SECTIONS: Final[Mapping[str, Section]] = export_sections(PARTS)
_ERASE_ORDER: Final = erase_order(PARTS)


class SqlAccountVault:
    """Export everything of an account, or erase it (rows and data key).

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def export(self, account_id: AccountId) -> dict[str, object]:
        """Everything stored for the account, decrypted, as a JSON-able dict (one snapshot).

        Raises:
            NotFound: the account does not exist.
        """
        async with self._ctx.read(account_id) as session:
            account = await load_account(self._ctx, session, account_id)
            if account is None:
                raise NotFound(f"Account {account_id} does not exist.")
            owned = await load_personas(self._ctx, session, account_id)
            scope = ExportScope(
                session=session,
                account=account,
                cipher=await self._ctx.cipher(session, account_id),
                personas=owned,
                names={p.id: p.name for p in owned},
                quarantine=self._ctx.quarantine,
            )
            sections = {name: await write(scope) for name, write in _SECTIONS.items()}
        unreadable = {"unreadable": dict(sorted(scope.unreadable.items()))}
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": iso(self._ctx.clock()),
            **sections,
            **(unreadable if scope.unreadable else {}),
        }

    async def unreadable(self, account_id: AccountId) -> dict[str, int]:
        """Rows of the account this process found unreadable (altered or damaged) and skipped,
        by kind (``message``, ``vector``, ``draft``…); empty when there are none."""
        return self._ctx.quarantine.counts(account_id)

    async def erase(self, account_id: AccountId) -> None:
        """Delete every row of the account in every table, then its cached data key.

        The wrapped data key goes with the ``account_keys`` row, so any copy of the ciphertexts
        left elsewhere (a backup) can no longer be decrypted with the master key. On SQLite the
        WAL is then checkpointed and truncated: with ``secure_delete=ON`` the freed pages are
        zeroed, so the erased ciphertexts leave both files. Zeroing misses one thing: when a
        b-tree page splits, SQLite may leave stale copies of index keys (plain message ids) in
        the unused space of pages that stay in use; a ``VACUUM`` rebuilds every table and index
        from the live rows, so after it nothing of the account is anywhere in the file.
        """
        async with self._ctx.write(account_id) as session:
            for table in _ERASE_ORDER:
                column = table.c.id if table is tables.accounts else table.c.account_id
                await session.execute(delete(table).where(column == account_id))
        self._ctx.keys.forget(account_id)
        self._ctx.quarantine.forget(account_id)
        if self._ctx.dialect == "sqlite":
            await checkpoint_sqlite(self._ctx.engine)
            await vacuum_sqlite(self._ctx.engine)
            await checkpoint_sqlite(self._ctx.engine)


async def vacuum_sqlite(engine: AsyncEngine, *, attempts: int = 20) -> bool:
    """``VACUUM``: rebuild the database file from its live rows, retried while it is busy.

    Returns ``True`` once it ran (it needs a moment with no other writer).
    """
    for attempt in range(attempts):
        try:
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                driver = cast(Any, raw.driver_connection)
                await driver.execute("VACUUM")
            return True
        except Exception as error:  # "database is locked" while another writer works
            if "locked" not in str(error) and "busy" not in str(error).lower():
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    log.warning("erase: VACUUM stayed busy; freed pages were zeroed but not compacted")
    return False


async def checkpoint_sqlite(engine: AsyncEngine, *, attempts: int = 20) -> bool:
    """``PRAGMA wal_checkpoint(TRUNCATE)``, retried while readers hold old snapshots.

    Returns ``True`` once the WAL has been fully copied back and truncated.
    """
    for attempt in range(attempts):
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = cast(Any, raw.driver_connection)
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log, _done = await cursor.fetchone()
            await cursor.close()
        if not busy:
            return True
        await asyncio.sleep(0.05 * (attempt + 1))
    return False
