"""What each aggregate contributes to the vault: the tables it owns and its export sections.

Every aggregate module (accounts, personas, messages, drafts, feedback, state, deliveries)
declares one :class:`VaultPart`. The vault (``storage/stores/vault.py``) assembles the export
from the parts' sections and erases the parts' tables; it refuses to load if a table of the
schema belongs to no part, so a new table can never be left out of an erasure.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Account, AccountId, Persona, PersonaId
from storage.crypto import DataCipher
from storage.errors import DecryptionError
from storage.stores.context import AnyRow, Quarantine

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportScope:
    """One export in progress: a read transaction on one account, with what every section needs.

    Attributes:
        session: the export's one read transaction.
        account: the account being exported.
        cipher: the account's data cipher.
        personas: the account's personas, oldest first.
        names: persona id → name (the export names personas rather than giving their ids).
        quarantine: where rows that fail to decrypt are recorded (they are left out).
        unreadable: rows left out of this export, by kind (the export says so).
    """

    session: AsyncSession
    account: Account
    cipher: DataCipher
    personas: Sequence[Persona]
    names: Mapping[PersonaId, str]
    quarantine: Quarantine
    unreadable: Counter[str] = field(default_factory=Counter)

    def readable(self, kind: str, row: str, decode: Callable[[], T]) -> T | None:
        """``decode()``, or ``None`` with the row counted and quarantined if it fails to decrypt."""
        try:
            return decode()
        except DecryptionError:
            self.unreadable[kind] += 1
            self.quarantine.add(self.account.id, kind, row)
            return None

    @property
    def account_id(self) -> AccountId:
        return self.account.id

    async def rows(self, table: Table, *order: Any) -> Sequence[AnyRow]:
        """Every row of ``table`` that belongs to the account, in ``order``."""
        query = select(table).where(table.c.account_id == self.account.id).order_by(*order)
        return (await self.session.execute(query)).all()


Section = Callable[[ExportScope], Awaitable[object]]
"""Writes one top-level section of the export (a JSON-able value) from an :class:`ExportScope`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VaultPart:
    """One aggregate's share of an account.

    Attributes:
        tables: the tables whose rows it owns (all erased with the account).
        sections: the export sections it writes, by section name.
    """

    tables: tuple[Table, ...]
    sections: tuple[tuple[str, Section], ...] = ()


def iso(value: datetime | None) -> str | None:
    """A datetime as ISO 8601 (``None`` stays ``None``)."""
    return None if value is None else value.isoformat()


def b64(value: bytes) -> str:
    """Bytes as standard base64 text."""
    return base64.b64encode(value).decode("ascii")
