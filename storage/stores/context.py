"""What every store shares: the session factory, key ring and clock, and a few small helpers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, TypeVar, cast

import sqlalchemy.exc
from sqlalchemy import CursorResult, Result, Row, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.models import AccountId, PersonaId, utc_now
from core.ports import Clock
from storage import tables
from storage.crypto import DataCipher, KeyRing
from storage.engine import read_session, unavailable_message, write_session
from storage.errors import DecryptionError, NotFound, StorageError, StorageUnavailable
from storage.scope import Scope, set_scope

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_ROWS: Final = 1_000
"""Rows per INSERT batch in bulk writes, and per page when streaming reads."""

AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """Rows changed by an INSERT/UPDATE/DELETE (DML results are cursor results)."""
    return int(cast(CursorResult[*tuple[Any, ...]], result).rowcount)


def new_id() -> str:
    """A fresh random row id (32 hex digits)."""
    return uuid.uuid4().hex


class AlreadyExists(StorageError, ValueError):
    """A row with the same unique name exists already (a persona name in the account)."""


class Lost(Exception):
    """Raised inside a transaction to roll it back after losing a race."""


class Quarantine:
    """Stored values that failed authentication (tampered, or damaged), kept out of every read.

    One such row must not take the whole account down (every draft, the export): reads skip it
    and count it here, per account and kind, by row id only — never its content. The operator
    log says so once per row; the owner hears it from the clone (``unreadable``) and the export.

    Args:
        max_rows: row ids remembered per account (the count stops growing past it).
    """

    def __init__(self, max_rows: int = 10_000) -> None:
        self._rows: dict[AccountId, dict[str, set[str]]] = {}
        self._max_rows = max_rows

    def add(self, account_id: AccountId, kind: str, row: str) -> None:
        """Record that ``row`` (an id, not content) of ``kind`` could not be read."""
        kinds = self._rows.setdefault(account_id, {})
        seen = kinds.setdefault(kind, set())
        if row in seen or sum(len(v) for v in kinds.values()) >= self._max_rows:
            return
        seen.add(row)
        log.warning(
            "quarantined an unreadable %s row of account %s (failed authentication: altered "
            "or damaged); it is skipped from now on",
            kind,
            account_id,
        )

    def counts(self, account_id: AccountId) -> dict[str, int]:
        """Unreadable rows seen so far for ``account_id``, by kind."""
        return {k: len(v) for k, v in sorted(self._rows.get(account_id, {}).items()) if v}

    def forget(self, account_id: AccountId) -> None:
        """Drop the account's record (it was erased)."""
        self._rows.pop(account_id, None)


@dataclass(frozen=True, slots=True)
class StoreContext:
    """What every store shares: the session factory, the key ring and the clock.

    Args:
        sessions: ``async_sessionmaker(expire_on_commit=False)`` bound to the engine.
        keys: the master keys and the per-process data-key cache.
        clock: returns aware UTC datetimes (tests pass a fixed one).
    """

    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    clock: Clock = utc_now
    quarantine: Quarantine = field(default_factory=Quarantine)

    def readable(
        self, account_id: AccountId, kind: str, row: str, decode: Callable[[], T]
    ) -> T | None:
        """``decode()``, or ``None`` (and the row quarantined) if its value fails to decrypt."""
        try:
            return decode()
        except DecryptionError:
            self.quarantine.add(account_id, kind, row)
            return None

    def checked(self, account_id: AccountId, kind: str, row: str, decode: Callable[[], T]) -> T:
        """``decode()`` for a read of one named row: a failure is quarantined and raised (the
        caller asked for exactly that row; ``DecryptionError`` is a ``core.ports.Unreadable``)."""
        try:
            return decode()
        except DecryptionError:
            self.quarantine.add(account_id, kind, row)
            raise

    @property
    def engine(self) -> AsyncEngine:
        return cast(AsyncEngine, self.sessions.kw["bind"])

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self, scope: AccountId | Scope) -> AsyncIterator[AsyncSession]:
        """One read transaction that sees ``scope`` (an account, or a :class:`Scope`)."""
        try:
            async with read_session(self.sessions) as session:
                await set_scope(session, _scope(scope))
                yield session
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as exc:
            if not _unavailable(exc):
                raise
            raise StorageUnavailable(unavailable_message(self.engine.url, exc)) from exc

    @asynccontextmanager
    async def write(self, scope: AccountId | Scope) -> AsyncIterator[AsyncSession]:
        """One write transaction that sees ``scope`` (the write lock is taken up front on
        SQLite)."""
        try:
            async with write_session(self.sessions) as session:
                await set_scope(session, _scope(scope))
                yield session
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as exc:
            if not _unavailable(exc):
                raise
            raise StorageUnavailable(unavailable_message(self.engine.url, exc)) from exc

    def insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        """A dialect ``INSERT`` that supports ``ON CONFLICT``."""
        return sqlite.insert(table) if self.dialect == "sqlite" else postgresql.insert(table)

    async def cipher(self, session: AsyncSession, account_id: AccountId) -> DataCipher:
        """The account's data cipher, unwrapped once per process.

        Raises:
            NotFound: the account does not exist.
            WrongMasterKey: the master key cannot unwrap its data key.
        """
        cached = self.keys.cached(account_id)
        if cached is not None:
            return cached
        wrapped = (
            await session.execute(
                select(tables.account_keys.c.wrapped_key).where(
                    tables.account_keys.c.account_id == account_id
                )
            )
        ).scalar_one_or_none()
        if wrapped is None:
            raise NotFound(f"Account {account_id} does not exist.")
        return self.keys.open(account_id, wrapped)

    async def check_persona(
        self, session: AsyncSession, account_id: AccountId, persona_id: PersonaId
    ) -> None:
        """Raise ``NotFound`` unless ``persona_id`` belongs to ``account_id``."""
        p = tables.personas
        found = (
            await session.execute(
                select(p.c.id).where(p.c.id == persona_id, p.c.account_id == account_id)
            )
        ).first()
        if found is None:
            raise NotFound(f"Persona {persona_id} does not belong to account {account_id}.")


def _scope(scope: AccountId | Scope) -> Scope:
    return scope if isinstance(scope, Scope) else Scope(account=scope)


_UNAVAILABLE_HINTS: Final = ("locked", "busy", "unable to open", "disk i/o", "readonly", "connect")


def _unavailable(exc: sqlalchemy.exc.DBAPIError) -> bool:
    """Lost connections and locked or unreadable files, as opposed to bugs (SQL errors)."""
    if exc.connection_invalidated or isinstance(exc, sqlalchemy.exc.InterfaceError):
        return True
    return any(hint in str(exc.orig).lower() for hint in _UNAVAILABLE_HINTS)
