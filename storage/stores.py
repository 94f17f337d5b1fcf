"""SQL implementations of the store ports in ``core/ports.py`` (SQLite and PostgreSQL alike).

Each class satisfies its Protocol structurally (no inheritance) and converts rows to core models
at the boundary. Each call runs in one transaction, and every query on owned data filters by
``account_id``; writes that name a persona first check that the persona belongs to the account,
so one account can never write into (or read from) another's rows. Encrypted columns are sealed
with the account's data key (:class:`storage.crypto.DataCipher`) and bound to their row.

Statements are SQLAlchemy Core on the mapped tables: the bulk paths (imports of 100k messages)
stay fast and nothing lingers in an identity map.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import hashlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, cast

import numpy as np
import sqlalchemy.exc
from sqlalchemy import (
    CursorResult,
    Result,
    Row,
    Table,
    and_,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from core.models import (
    Account,
    AccountId,
    Approval,
    Draft,
    DraftId,
    DraftOption,
    DraftStatus,
    Feedback,
    FeedbackKind,
    Message,
    Persona,
    PersonaId,
    PriorityLabel,
    ReplyPair,
    StoredMessage,
    UserRef,
    utc_now,
)
from core.ports import Clock, Vector
from storage import tables
from storage.crypto import DataCipher, KeyRing, row_id
from storage.engine import read_session, unavailable_message, write_session
from storage.errors import NotFound, StorageError, StorageUnavailable
from storage.scope import unscoped

if TYPE_CHECKING:
    from core import ports

log = logging.getLogger(__name__)

BATCH_ROWS: Final = 1_000
"""Rows per INSERT batch in bulk writes, and per page when streaming reads."""

ANALYZE_AFTER_ROWS: Final = 5_000
"""On PostgreSQL, refresh the planner statistics after an import added this many messages."""

DEFAULT_PERSONA: Final = "default"
LINK_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed
LINK_CODE_LENGTH: Final = 10

_MessageSource = Literal["import", "live", "sample", "feedback"]
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def _rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """Rows changed by an INSERT/UPDATE/DELETE (DML results are cursor results)."""
    return int(cast(CursorResult[*tuple[Any, ...]], result).rowcount)


class AlreadyExists(StorageError, ValueError):
    """A row with the same unique name exists already (a persona name in the account)."""


class _Lost(Exception):
    """Raised inside a transaction to roll it back after losing a race."""


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

    @property
    def engine(self) -> AsyncEngine:
        return cast(AsyncEngine, self.sessions.kw["bind"])

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """One read transaction."""
        try:
            async with read_session(self.sessions) as session:
                yield session
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as exc:
            if not _unavailable(exc):
                raise
            raise StorageUnavailable(unavailable_message(self.engine.url, exc)) from exc

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction (the write lock is taken up front on SQLite)."""
        try:
            async with write_session(self.sessions) as session:
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


_UNAVAILABLE_HINTS: Final = ("locked", "busy", "unable to open", "disk i/o", "readonly", "connect")


def _unavailable(exc: sqlalchemy.exc.DBAPIError) -> bool:
    """Lost connections and locked or unreadable files, as opposed to bugs (SQL errors)."""
    if exc.connection_invalidated or isinstance(exc, sqlalchemy.exc.InterfaceError):
        return True
    return any(hint in str(exc.orig).lower() for hint in _UNAVAILABLE_HINTS)


def _new_id() -> str:
    return uuid.uuid4().hex


# --- accounts ----------------------------------------------------------------------------------


def _settings_row(account_id: AccountId) -> str:
    return row_id("account", account_id, "settings")


def _owner_names_row(persona_id: PersonaId) -> str:
    return row_id("persona", persona_id, "owner_names")


def _account(cipher: DataCipher, row: AnyRow) -> Account:
    settings = cipher.decrypt_json(_settings_row(row.id), row.settings)
    return Account(
        id=row.id,
        created_at=row.created_at,
        active_persona=row.active_persona,
        paused=row.paused,
        settings=cast(dict[str, object], settings),
    )


def _hash_code(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


class SqlAccountStore:
    """Accounts, their platform identities and link codes.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def resolve(self, user: UserRef, *, create: bool) -> Account | None:
        """The account of ``user``; with ``create``, a new one with a data key and a persona.

        Race-safe: two concurrent first messages of the same user produce one account (the
        identity's primary key decides; the loser's transaction is rolled back).
        """
        found = await self._lookup(user)
        if found is not None or not create:
            return found
        try:
            async with self._ctx.write() as session:
                # SQLite serialises writers, so this re-check sees a concurrent winner.
                existing = await self._lookup_in(session, user)
                if existing is not None:
                    return existing
                account, cipher = await self._create(session, user)
        except _Lost:
            return await self._lookup(user)
        self._ctx.keys.remember(cipher)
        return account

    async def _create(self, session: AsyncSession, user: UserRef) -> tuple[Account, DataCipher]:
        now = self._ctx.clock()
        account_id, persona_id = _new_id(), _new_id()
        cipher, wrapped = self._ctx.keys.new_data_key(account_id)
        await session.execute(
            tables.accounts.insert().values(
                id=account_id,
                created_at=now,
                active_persona=persona_id,
                paused=False,
                settings=cipher.encrypt_json(_settings_row(account_id), {}),
            )
        )
        await session.execute(
            tables.account_keys.insert().values(account_id=account_id, wrapped_key=wrapped)
        )
        await session.execute(
            tables.personas.insert().values(
                id=persona_id,
                account_id=account_id,
                name=DEFAULT_PERSONA,
                owner_names=cipher.encrypt_json(_owner_names_row(persona_id), []),
                created_at=now,
            )
        )
        linked = await session.execute(
            self._ctx.insert(tables.identities)
            .values(
                platform=user.platform, user_id=user.user_id, account_id=account_id, linked_at=now
            )
            .on_conflict_do_nothing(index_elements=["platform", "user_id"])
        )
        if _rowcount(linked) != 1:
            raise _Lost
        account = Account(id=account_id, created_at=now, active_persona=persona_id, paused=False)
        return account, cipher

    async def _lookup(self, user: UserRef) -> Account | None:
        async with self._ctx.read() as session:
            return await self._lookup_in(session, user)

    async def _lookup_in(self, session: AsyncSession, user: UserRef) -> Account | None:
        a, i = tables.accounts, tables.identities
        row = (
            await session.execute(
                select(a)
                .join(i, i.c.account_id == a.c.id)
                .where(i.c.platform == user.platform, i.c.user_id == user.user_id)
                .execution_options(**unscoped("identity lookup: finds the account"))
            )
        ).first()
        if row is None:
            return None
        return _account(await self._ctx.cipher(session, row.id), row)

    async def get(self, account_id: AccountId) -> Account | None:
        async with self._ctx.read() as session:
            return await self._get_in(session, account_id)

    async def _get_in(self, session: AsyncSession, account_id: AccountId) -> Account | None:
        row = (
            await session.execute(select(tables.accounts).where(tables.accounts.c.id == account_id))
        ).first()
        if row is None:
            return None
        return _account(await self._ctx.cipher(session, account_id), row)

    async def update(self, account: Account) -> Account:
        """Store ``paused``, ``active_persona`` and ``settings`` (``created_at`` never changes).

        Raises:
            NotFound: the account does not exist, or the active persona is not one of its own.
        """
        async with self._ctx.write() as session:
            if account.active_persona is not None:
                await self._ctx.check_persona(session, account.id, account.active_persona)
            cipher = await self._ctx.cipher(session, account.id)
            result = await session.execute(
                update(tables.accounts)
                .where(tables.accounts.c.id == account.id)
                .values(
                    active_persona=account.active_persona,
                    paused=account.paused,
                    settings=cipher.encrypt_json(_settings_row(account.id), account.settings),
                )
            )
            if _rowcount(result) != 1:
                raise NotFound(f"Account {account.id} does not exist.")
            stored = await self._get_in(session, account.id)
        assert stored is not None
        return stored

    async def issue_link_code(self, account_id: AccountId, *, ttl_s: int) -> str:
        """A one-time code (``ABCDE-FGHJK``, ~50 bits) valid for ``ttl_s`` seconds; only its
        hash is stored."""
        raw = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
        async with self._ctx.write() as session:
            if await self._get_in(session, account_id) is None:
                raise NotFound(f"Account {account_id} does not exist.")
            await session.execute(
                tables.link_codes.insert().values(
                    code_hash=_hash_code(raw),
                    account_id=account_id,
                    expires_at=self._ctx.clock() + timedelta(seconds=ttl_s),
                    used_at=None,
                )
            )
        return f"{raw[:5]}-{raw[5:]}"

    async def redeem_link_code(self, code: str, user: UserRef) -> Account | None:
        """Link ``user`` to the code's account (moving it from any account it was linked to).

        The code is consumed atomically (``UPDATE … WHERE used_at IS NULL``), so it works once.
        """
        now = self._ctx.clock()
        lc = tables.link_codes
        async with self._ctx.write() as session:
            account_id = (
                await session.execute(
                    update(lc)
                    .where(
                        lc.c.code_hash == _hash_code(code),
                        lc.c.used_at.is_(None),
                        lc.c.expires_at > now,
                    )
                    .values(used_at=now)
                    .returning(lc.c.account_id)
                    .execution_options(**unscoped("link code redemption: the code is the key"))
                )
            ).scalar_one_or_none()
            if account_id is None:
                return None
            upsert = self._ctx.insert(tables.identities).values(
                platform=user.platform, user_id=user.user_id, account_id=account_id, linked_at=now
            )
            await session.execute(
                upsert.on_conflict_do_update(
                    index_elements=["platform", "user_id"],
                    set_={"account_id": account_id, "linked_at": now},
                )
            )
            return await self._get_in(session, account_id)


# --- personas ----------------------------------------------------------------------------------


def _persona(cipher: DataCipher, row: AnyRow) -> Persona:
    names = cipher.decrypt_json(_owner_names_row(row.id), row.owner_names)
    return Persona(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        created_at=row.created_at,
        owner_names=tuple(cast(list[str], names)),
    )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 100:
        raise ValueError("a persona name has 1 to 100 characters")
    return cleaned


class SqlPersonaStore:
    """The personas of an account.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def get(self, account_id: AccountId, persona_id: PersonaId) -> Persona | None:
        p = tables.personas
        async with self._ctx.read() as session:
            row = (
                await session.execute(
                    select(p).where(p.c.id == persona_id, p.c.account_id == account_id)
                )
            ).first()
            if row is None:
                return None
            return _persona(await self._ctx.cipher(session, account_id), row)

    async def create(self, account_id: AccountId, name: str) -> Persona:
        """A new, empty persona.

        Raises:
            AlreadyExists: the account has a persona of that name.
            NotFound: the account does not exist.
        """
        persona = Persona(
            id=_new_id(),
            account_id=account_id,
            name=_clean_name(name),
            created_at=self._ctx.clock(),
        )
        try:
            async with self._ctx.write() as session:
                cipher = await self._ctx.cipher(session, account_id)
                await session.execute(
                    tables.personas.insert().values(
                        id=persona.id,
                        account_id=account_id,
                        name=persona.name,
                        owner_names=cipher.encrypt_json(_owner_names_row(persona.id), []),
                        created_at=persona.created_at,
                    )
                )
        except sqlalchemy.exc.IntegrityError:
            raise AlreadyExists(f"A persona named {persona.name!r} exists already.") from None
        return persona

    async def update(self, account_id: AccountId, persona: Persona) -> Persona:
        """Store the name and owner names of ``persona``.

        Raises:
            NotFound: the persona is not one of the account's.
            AlreadyExists: another persona of the account has that name.
        """
        p = tables.personas
        name = _clean_name(persona.name)
        try:
            async with self._ctx.write() as session:
                cipher = await self._ctx.cipher(session, account_id)
                row = (
                    await session.execute(
                        update(p)
                        .where(p.c.id == persona.id, p.c.account_id == account_id)
                        .values(
                            name=name,
                            owner_names=cipher.encrypt_json(
                                _owner_names_row(persona.id), list(persona.owner_names)
                            ),
                        )
                        .returning(*p.c)
                    )
                ).first()
                if row is None:
                    raise NotFound(f"Persona {persona.id} does not belong to account {account_id}.")
                return _persona(cipher, row)
        except sqlalchemy.exc.IntegrityError:
            raise AlreadyExists(f"A persona named {name!r} exists already.") from None

    async def delete(self, account_id: AccountId, persona_id: PersonaId) -> bool:
        """Delete the persona with everything it holds (messages, vectors, drafts, state).

        If it was the active persona, the oldest remaining one becomes active (or none).
        """
        p, a = tables.personas, tables.accounts
        async with self._ctx.write() as session:
            # Children first rather than relying on ON DELETE CASCADE alone: it keeps the
            # account filter explicit on every table.
            d, ap = tables.drafts, tables.approvals
            await session.execute(
                delete(ap).where(
                    ap.c.account_id == account_id,
                    ap.c.draft_id.in_(
                        select(d.c.id).where(
                            d.c.persona_id == persona_id, d.c.account_id == account_id
                        )
                    ),
                )
            )
            for table in _PERSONA_TABLES:
                await session.execute(
                    delete(table).where(
                        table.c.persona_id == persona_id, table.c.account_id == account_id
                    )
                )
            deleted = await session.execute(
                delete(p).where(p.c.id == persona_id, p.c.account_id == account_id)
            )
            if _rowcount(deleted) != 1:
                return False
            successor = (
                await session.execute(
                    select(p.c.id)
                    .where(p.c.account_id == account_id)
                    .order_by(p.c.created_at, p.c.id)
                    .limit(1)
                )
            ).scalar_one_or_none()
            await session.execute(
                update(a)
                .where(a.c.id == account_id, a.c.active_persona == persona_id)
                .values(active_persona=successor)
            )
        return True

    async def list(self, account_id: AccountId) -> builtins.list[Persona]:
        """The account's personas, oldest first."""
        p = tables.personas
        async with self._ctx.read() as session:
            rows = (
                await session.execute(
                    select(p).where(p.c.account_id == account_id).order_by(p.c.created_at, p.c.id)
                )
            ).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
            return [_persona(cipher, row) for row in rows]


_PERSONA_TABLES: Final = (
    tables.vectors,
    tables.feedback,
    tables.priority_labels,
    tables.state,
    tables.messages,
    tables.drafts,
)


# --- messages ----------------------------------------------------------------------------------


def _message_row_prefix(persona_id: PersonaId, msg_id: str) -> str:
    return row_id("msg", persona_id, msg_id, "")


_MESSAGE_COLUMNS: Final = (
    tables.messages.c.pk,
    tables.messages.c.msg_id,
    tables.messages.c.conversation,
    tables.messages.c.thread,
    tables.messages.c.sender,
    tables.messages.c.text,
    tables.messages.c.sent_at,
    tables.messages.c.reply_to,
    tables.messages.c.from_owner,
    tables.messages.c.source,
)


def _stored_message(cipher: DataCipher, persona_id: PersonaId, row: AnyRow) -> StoredMessage:
    prefix = _message_row_prefix(persona_id, row.msg_id)
    message = Message(
        id=row.msg_id,
        conversation=cipher.decrypt_text(prefix + "conversation", row.conversation),
        thread=row.thread,
        sender=cipher.decrypt_text(prefix + "sender", row.sender),
        text=cipher.decrypt_text(prefix + "text", row.text),
        sent_at=row.sent_at,
        reply_to=row.reply_to,
    )
    return StoredMessage(
        message=message,
        persona_id=persona_id,
        from_owner=row.from_owner,
        source=cast(_MessageSource, row.source),
    )


class SqlMessageStore:
    """Messages of a persona; conversation, sender and text encrypted.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def add_stream(
        self, account_id: AccountId, messages: AsyncIterator[StoredMessage]
    ) -> int:
        """Add every message in one transaction, in batches; return how many were new.

        Memory stays constant (a batch being written and the next being built). If the iterator
        raises, the transaction is rolled back and the error propagates. Already stored
        ``(persona, id)`` pairs are skipped.

        Raises:
            NotFound: a message names a persona that is not the account's.
        """
        new = 0
        async with self._ctx.write() as session:
            cipher = await self._ctx.cipher(session, account_id)
            checked: set[PersonaId] = set()
            batch: builtins.list[dict[str, object]] = []
            # While the driver writes one batch (off the event loop), the next one is encrypted.
            writing: asyncio.Task[int] | None = None
            try:
                async for item in messages:
                    if item.persona_id not in checked:
                        if writing is not None:
                            new += await writing
                            writing = None
                        await self._ctx.check_persona(session, account_id, item.persona_id)
                        checked.add(item.persona_id)
                    batch.append(self._encode(cipher, account_id, item))
                    if len(batch) >= BATCH_ROWS:
                        if writing is not None:
                            new += await writing
                        writing = asyncio.create_task(self._insert(session, batch))
                        batch = []
                if writing is not None:
                    new += await writing
                    writing = None
                if batch:
                    new += await self._insert(session, batch)
            finally:
                if writing is not None:
                    # The iterator failed mid-way: let the session go quiet before the rollback.
                    await asyncio.wait([writing])
                    if not writing.cancelled():
                        writing.exception()
        if new >= ANALYZE_AFTER_ROWS and self._ctx.dialect == "postgresql":
            await self._analyze()
        return new

    async def _analyze(self) -> None:
        # Fresh planner statistics after a bulk load: without them PostgreSQL picks bitmap
        # scans and sorts for the keyset pages of iter() and for reply_pairs (measured 2-6x
        # slower on the 81k-message corpus) until autovacuum gets round to it.
        try:
            async with self._ctx.engine.connect() as connection:
                await connection.execute(text("ANALYZE messages"))
                await connection.commit()
        except sqlalchemy.exc.SQLAlchemyError as exc:
            log.warning("ANALYZE after a bulk import failed: %s", type(exc).__name__)

    @staticmethod
    def _encode(
        cipher: DataCipher, account_id: AccountId, item: StoredMessage
    ) -> dict[str, object]:
        m = item.message
        prefix = _message_row_prefix(item.persona_id, m.id)
        return {
            "account_id": account_id,
            "persona_id": item.persona_id,
            "msg_id": m.id,
            "conversation": cipher.encrypt_text(prefix + "conversation", m.conversation),
            "thread": m.thread,
            "sender": cipher.encrypt_text(prefix + "sender", m.sender),
            "text": cipher.encrypt_text(prefix + "text", m.text),
            "sent_at": m.sent_at,
            "reply_to": m.reply_to,
            "from_owner": item.from_owner,
            "source": item.source,
        }

    async def _insert(self, session: AsyncSession, batch: Sequence[Mapping[str, object]]) -> int:
        statement = self._ctx.insert(tables.messages).on_conflict_do_nothing(
            index_elements=["persona_id", "msg_id"]
        )
        if self._ctx.dialect == "sqlite":
            # sqlite3's executemany sums the rows each statement changed: skipped rows count 0.
            return _rowcount(await session.execute(statement, batch))
        # asyncpg's executemany reports no row count; RETURNING (batched by SQLAlchemy's
        # "insertmanyvalues") names exactly the rows that were inserted.
        result = await session.execute(statement.returning(tables.messages.c.pk), batch)
        return len(result.all())

    async def iter(
        self,
        account_id: AccountId,
        persona_id: PersonaId,
        *,
        owner_only: bool = False,
        before: datetime | None = None,
    ) -> AsyncIterator[StoredMessage]:
        """Messages in ``sent_at`` order, fetched in pages of ``BATCH_ROWS``.

        Each page is its own short read transaction (keyset pagination on ``(sent_at, pk)``), so
        a slow consumer never holds a connection or a long read snapshot.
        """
        m = tables.messages
        after: tuple[datetime, int] | None = None
        while True:
            query = select(*_MESSAGE_COLUMNS).where(
                m.c.account_id == account_id, m.c.persona_id == persona_id
            )
            if owner_only:
                query = query.where(m.c.from_owner.is_(True))
            if before is not None:
                query = query.where(m.c.sent_at < before)
            if after is not None:
                # (sent_at, pk) > after, spelled so that both planners see a range on sent_at.
                query = query.where(
                    m.c.sent_at >= after[0], or_(m.c.sent_at > after[0], m.c.pk > after[1])
                )
            query = query.order_by(m.c.sent_at, m.c.pk).limit(BATCH_ROWS)
            async with self._ctx.read() as session:
                rows = (await session.execute(query)).all()
                if not rows:
                    return
                cipher = await self._ctx.cipher(session, account_id)
            for row in rows:
                yield _stored_message(cipher, persona_id, row)
            if len(rows) < BATCH_ROWS:
                return
            after = (rows[-1].sent_at, rows[-1].pk)

    async def get(
        self, account_id: AccountId, persona_id: PersonaId, ids: Sequence[str]
    ) -> builtins.list[StoredMessage]:
        """The stored messages among ``ids``, in the order asked (unknown ids are left out)."""
        m = tables.messages
        wanted = builtins.list(dict.fromkeys(ids))
        found: dict[str, StoredMessage] = {}
        async with self._ctx.read() as session:
            for start in range(0, len(wanted), BATCH_ROWS):
                chunk = wanted[start : start + BATCH_ROWS]
                rows = (
                    await session.execute(
                        select(*_MESSAGE_COLUMNS).where(
                            m.c.account_id == account_id,
                            m.c.persona_id == persona_id,
                            m.c.msg_id.in_(chunk),
                        )
                    )
                ).all()
                if rows:
                    cipher = await self._ctx.cipher(session, account_id)
                    for row in rows:
                        found[row.msg_id] = _stored_message(cipher, persona_id, row)
        return [found[i] for i in wanted if i in found]

    async def reply_pairs(
        self, account_id: AccountId, persona_id: PersonaId
    ) -> builtins.list[ReplyPair]:
        """Owner messages answering a stored non-owner message of the persona, oldest first."""
        reply, incoming = (
            aliased(tables.messages, name="reply"),
            aliased(tables.messages, name="incoming"),
        )
        query = (
            select(
                reply.c.msg_id.label("reply_id"),
                reply.c.text.label("reply_text"),
                reply.c.sent_at.label("replied_at"),
                incoming.c.msg_id.label("incoming_id"),
                incoming.c.text.label("incoming_text"),
                incoming.c.sender.label("incoming_sender"),
                incoming.c.sent_at.label("incoming_at"),
            )
            .join(
                incoming,
                and_(
                    incoming.c.persona_id == reply.c.persona_id,
                    incoming.c.msg_id == reply.c.reply_to,
                ),
            )
            .where(
                reply.c.account_id == account_id,
                reply.c.persona_id == persona_id,
                reply.c.from_owner.is_(True),
                incoming.c.account_id == account_id,
                incoming.c.from_owner.is_(False),
            )
            .order_by(reply.c.sent_at, reply.c.pk)
        )
        async with self._ctx.read() as session:
            rows = (await session.execute(query)).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
        pairs = []
        for row in rows:
            reply_prefix = _message_row_prefix(persona_id, row.reply_id)
            incoming_prefix = _message_row_prefix(persona_id, row.incoming_id)
            pairs.append(
                ReplyPair(
                    persona_id=persona_id,
                    incoming_id=row.incoming_id,
                    incoming_text=cipher.decrypt_text(incoming_prefix + "text", row.incoming_text),
                    incoming_sender=cipher.decrypt_text(
                        incoming_prefix + "sender", row.incoming_sender
                    ),
                    reply_id=row.reply_id,
                    reply_text=cipher.decrypt_text(reply_prefix + "text", row.reply_text),
                    replied_at=row.replied_at,
                    latency_s=(row.replied_at - row.incoming_at).total_seconds(),
                )
            )
        return pairs

    async def count(self, account_id: AccountId, persona_id: PersonaId) -> int:
        m = tables.messages
        async with self._ctx.read() as session:
            total = (
                await session.execute(
                    select(func.count())
                    .select_from(m)
                    .where(m.c.account_id == account_id, m.c.persona_id == persona_id)
                )
            ).scalar_one()
        return int(total)


# --- vectors -----------------------------------------------------------------------------------

_VECTOR_DTYPE: Final = np.dtype("<f4")


def _vector_row(persona_id: PersonaId, msg_id: str) -> str:
    return row_id("vec", persona_id, msg_id, "vector")


class SqlVectorStore:
    """Embeddings by message id (little-endian float32, encrypted).

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def put(
        self, account_id: AccountId, persona_id: PersonaId, ids: Sequence[str], vectors: Vector
    ) -> None:
        """Store (or replace) one vector per id; ``vectors`` has one row per id."""
        matrix = np.asarray(vectors, dtype=_VECTOR_DTYPE)
        if matrix.ndim != 2 or matrix.shape[0] != len(ids):
            raise ValueError(f"need one vector row per id: {len(ids)} ids, shape {matrix.shape}")
        if not ids:
            return
        v = tables.vectors
        async with self._ctx.write() as session:
            await self._ctx.check_persona(session, account_id, persona_id)
            cipher = await self._ctx.cipher(session, account_id)
            statement = self._ctx.insert(v)
            statement = statement.on_conflict_do_update(
                index_elements=["persona_id", "msg_id"],
                set_={"vector": statement.excluded.vector},
            )
            for start in range(0, len(ids), BATCH_ROWS):
                await session.execute(
                    statement,
                    [
                        {
                            "account_id": account_id,
                            "persona_id": persona_id,
                            "msg_id": msg_id,
                            "vector": cipher.encrypt(
                                _vector_row(persona_id, msg_id), matrix[start + k].tobytes()
                            ),
                        }
                        for k, msg_id in enumerate(ids[start : start + BATCH_ROWS])
                    ],
                )

    async def load(
        self, account_id: AccountId, persona_id: PersonaId
    ) -> tuple[builtins.list[str], Vector]:
        """All ids (sorted) and their vectors as one ``(n, dim)`` float32 matrix."""
        v = tables.vectors
        async with self._ctx.read() as session:
            rows = (
                await session.execute(
                    select(v.c.msg_id, v.c.vector)
                    .where(v.c.account_id == account_id, v.c.persona_id == persona_id)
                    .order_by(v.c.msg_id)
                )
            ).all()
            if not rows:
                return [], np.zeros((0, 0), dtype=np.float32)
            cipher = await self._ctx.cipher(session, account_id)
        raw = [cipher.decrypt(_vector_row(persona_id, row.msg_id), row.vector) for row in rows]
        if len({len(r) for r in raw}) != 1:
            raise StorageError(
                f"Persona {persona_id} holds vectors of different sizes; re-embed its messages."
            )
        matrix = np.frombuffer(b"".join(raw), dtype=_VECTOR_DTYPE).reshape(len(raw), -1)
        return [row.msg_id for row in rows], matrix.astype(np.float32, copy=True)


# --- drafts ------------------------------------------------------------------------------------


def _draft_row(draft_id: DraftId, column: str) -> str:
    return row_id("draft", draft_id, column)


def _approval_row(draft_id: DraftId) -> str:
    return row_id("approval", draft_id, "text")


def message_json(message: Message) -> dict[str, object]:
    """A message in the canonical JSONL form (``sent_at`` as ISO 8601)."""
    return {
        "id": message.id,
        "conversation": message.conversation,
        "thread": message.thread,
        "sender": message.sender,
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
        "reply_to": message.reply_to,
    }


def _message_from_json(value: object) -> Message:
    data = cast(dict[str, Any], value)
    return Message(
        id=data["id"],
        conversation=data["conversation"],
        thread=data["thread"],
        sender=data["sender"],
        text=data["text"],
        sent_at=datetime.fromisoformat(data["sent_at"]),
        reply_to=data["reply_to"],
    )


def _option_json(option: DraftOption) -> dict[str, object]:
    return {
        "text": option.text,
        "engine": option.engine,
        "style_score": option.style_score,
        "reasons": builtins.list(option.reasons),
        "source_id": option.source_id,
    }


def _option_from_json(value: object) -> DraftOption:
    data = cast(dict[str, Any], value)
    return DraftOption(
        text=data["text"],
        engine=data["engine"],
        style_score=data["style_score"],
        reasons=tuple(data["reasons"]),
        source_id=data["source_id"],
    )


def _draft(cipher: DataCipher, row: AnyRow) -> Draft:
    options = cast(
        builtins.list[object], cipher.decrypt_json(_draft_row(row.id, "options"), row.options)
    )
    return Draft(
        id=row.id,
        account_id=row.account_id,
        persona_id=row.persona_id,
        incoming=_message_from_json(
            cipher.decrypt_json(_draft_row(row.id, "incoming"), row.incoming)
        ),
        options=tuple(_option_from_json(o) for o in options),
        status=DraftStatus(row.status),
        created_at=row.created_at,
        owner=UserRef(platform=row.owner_platform, user_id=row.owner_user_id),
    )


class SqlDraftStore:
    """Drafts and their approvals; approval is an atomic compare-and-set.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def create(self, draft: Draft) -> None:
        """Store a new draft (its incoming message and options encrypted)."""
        async with self._ctx.write() as session:
            await self._ctx.check_persona(session, draft.account_id, draft.persona_id)
            cipher = await self._ctx.cipher(session, draft.account_id)
            await session.execute(
                tables.drafts.insert().values(
                    id=draft.id,
                    account_id=draft.account_id,
                    persona_id=draft.persona_id,
                    owner_platform=draft.owner.platform,
                    owner_user_id=draft.owner.user_id,
                    incoming=cipher.encrypt_json(
                        _draft_row(draft.id, "incoming"), message_json(draft.incoming)
                    ),
                    options=cipher.encrypt_json(
                        _draft_row(draft.id, "options"), [_option_json(o) for o in draft.options]
                    ),
                    status=draft.status.value,
                    created_at=draft.created_at,
                    updated_at=draft.created_at,
                )
            )

    async def get(self, account_id: AccountId, draft_id: DraftId) -> Draft | None:
        d = tables.drafts
        async with self._ctx.read() as session:
            row = (
                await session.execute(
                    select(d).where(d.c.id == draft_id, d.c.account_id == account_id)
                )
            ).first()
            if row is None:
                return None
            return _draft(await self._ctx.cipher(session, account_id), row)

    async def approve(self, approval: Approval) -> bool:
        """Move the draft pending → approved and record ``approval``, in one transaction.

        ``UPDATE … WHERE status = 'pending'`` is the compare-and-set: of any number of concurrent
        callers exactly one sees a changed row. The approval's primary key (the draft id) also
        refuses a second approval of a draft that was somehow made pending again.
        """
        d, ap = tables.drafts, tables.approvals
        try:
            async with self._ctx.write() as session:
                moved = await session.execute(
                    update(d)
                    .where(
                        d.c.id == approval.draft_id,
                        d.c.account_id == approval.account_id,
                        d.c.status == DraftStatus.PENDING.value,
                    )
                    .values(status=DraftStatus.APPROVED.value, updated_at=self._ctx.clock())
                )
                if _rowcount(moved) != 1:
                    return False
                cipher = await self._ctx.cipher(session, approval.account_id)
                recorded = await session.execute(
                    self._ctx.insert(ap)
                    .values(
                        draft_id=approval.draft_id,
                        account_id=approval.account_id,
                        by_platform=approval.by.platform,
                        by_user_id=approval.by.user_id,
                        text=cipher.encrypt_text(_approval_row(approval.draft_id), approval.text),
                        option=approval.option,
                        edited=approval.edited,
                        approved_at=approval.approved_at,
                    )
                    .on_conflict_do_nothing(index_elements=["draft_id"])
                )
                if _rowcount(recorded) != 1:
                    raise _Lost
        except _Lost:
            return False
        return True

    async def approval(self, account_id: AccountId, draft_id: DraftId) -> Approval | None:
        """The approval recorded for a draft, if any (what the sender is allowed to send)."""
        ap = tables.approvals
        async with self._ctx.read() as session:
            row = (
                await session.execute(
                    select(ap).where(ap.c.draft_id == draft_id, ap.c.account_id == account_id)
                )
            ).first()
            if row is None:
                return None
            cipher = await self._ctx.cipher(session, account_id)
        return _approval(cipher, row)

    async def set_status(
        self, account_id: AccountId, draft_id: DraftId, status: DraftStatus, *, expect: DraftStatus
    ) -> bool:
        """Compare-and-set the status; ``False`` if it was not ``expect``."""
        d = tables.drafts
        async with self._ctx.write() as session:
            result = await session.execute(
                update(d)
                .where(d.c.id == draft_id, d.c.account_id == account_id, d.c.status == expect.value)
                .values(status=status.value, updated_at=self._ctx.clock())
            )
            return _rowcount(result) == 1

    async def pending(self, account_id: AccountId) -> builtins.list[Draft]:
        """The account's pending drafts, oldest first."""
        d = tables.drafts
        async with self._ctx.read() as session:
            rows = (
                await session.execute(
                    select(d)
                    .where(d.c.account_id == account_id, d.c.status == DraftStatus.PENDING.value)
                    .order_by(d.c.created_at, d.c.id)
                )
            ).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
        return [_draft(cipher, row) for row in rows]


def _approval(cipher: DataCipher, row: AnyRow) -> Approval:
    return Approval(
        draft_id=row.draft_id,
        account_id=row.account_id,
        by=UserRef(platform=row.by_platform, user_id=row.by_user_id),
        text=cipher.decrypt_text(_approval_row(row.draft_id), row.text),
        option=row.option,
        edited=row.edited,
        approved_at=row.approved_at,
    )


# --- feedback, deliveries, state ---------------------------------------------------------------


def _feedback_row(feedback_id: str) -> str:
    return row_id("feedback", feedback_id, "text")


def _feedback(cipher: DataCipher, row: AnyRow) -> Feedback:
    return Feedback(
        account_id=row.account_id,
        persona_id=row.persona_id,
        kind=FeedbackKind(row.kind),
        draft_id=row.draft_id,
        message_id=row.message_id,
        text=None if row.text is None else cipher.decrypt_text(_feedback_row(row.id), row.text),
        at=row.at,
    )


class SqlFeedbackStore:
    """The owner's decisions (text encrypted).

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def add(self, feedback: Feedback) -> None:
        feedback_id = _new_id()
        async with self._ctx.write() as session:
            await self._ctx.check_persona(session, feedback.account_id, feedback.persona_id)
            cipher = await self._ctx.cipher(session, feedback.account_id)
            await session.execute(
                tables.feedback.insert().values(
                    id=feedback_id,
                    account_id=feedback.account_id,
                    persona_id=feedback.persona_id,
                    kind=feedback.kind.value,
                    draft_id=feedback.draft_id,
                    message_id=feedback.message_id,
                    text=None
                    if feedback.text is None
                    else cipher.encrypt_text(_feedback_row(feedback_id), feedback.text),
                    at=feedback.at,
                )
            )

    async def list(self, account_id: AccountId, persona_id: PersonaId) -> builtins.list[Feedback]:
        """The persona's feedback, oldest first."""
        f = tables.feedback
        async with self._ctx.read() as session:
            rows = (
                await session.execute(
                    select(f)
                    .where(f.c.account_id == account_id, f.c.persona_id == persona_id)
                    .order_by(f.c.at, f.c.id)
                )
            ).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
        return [_feedback(cipher, row) for row in rows]


class SqlPriorityLabelStore:
    """Labels for the prioritiser: message ids, a value and its kind; no text, nothing encrypted.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def add(self, label: PriorityLabel) -> None:
        async with self._ctx.write() as session:
            await self._ctx.check_persona(session, label.account_id, label.persona_id)
            await session.execute(
                tables.priority_labels.insert().values(
                    id=_new_id(),
                    account_id=label.account_id,
                    persona_id=label.persona_id,
                    message_id=label.message_id,
                    label=float(label.label),
                    kind=label.kind,
                    at=label.at,
                )
            )

    async def list(
        self, account_id: AccountId, persona_id: PersonaId, *, since: datetime | None = None
    ) -> builtins.list[PriorityLabel]:
        """The persona's labels, oldest first."""
        t = tables.priority_labels
        query = select(t).where(t.c.account_id == account_id, t.c.persona_id == persona_id)
        if since is not None:
            query = query.where(t.c.at >= since)
        async with self._ctx.read() as session:
            rows = (await session.execute(query.order_by(t.c.at, t.c.id))).all()
        return [
            PriorityLabel(
                account_id=row.account_id,
                persona_id=row.persona_id,
                message_id=row.message_id,
                label=float(row.label),
                kind=row.kind,
                at=row.at,
            )
            for row in rows
        ]


class SqlDeliveryLog:
    """Delivery de-duplication on the table's primary key, so it holds across processes.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def first_seen(self, key: str, *, account_id: AccountId | None = None) -> bool:
        """``True`` exactly once per key (``INSERT … ON CONFLICT DO NOTHING``)."""
        async with self._ctx.write() as session:
            result = await session.execute(
                self._ctx.insert(tables.deliveries)
                .values(key=key, account_id=account_id, seen_at=self._ctx.clock())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            return _rowcount(result) == 1

    async def prune(self, older_than: datetime) -> int:
        """Forget deliveries seen before ``older_than`` (platforms stop retrying after minutes)."""
        d = tables.deliveries
        async with self._ctx.write() as session:
            result = await session.execute(
                delete(d)
                .where(d.c.seen_at < older_than)
                .execution_options(**unscoped("delivery de-duplication records expire"))
            )
            return _rowcount(result)


def _state_row(persona_id: PersonaId, kind: str) -> str:
    return row_id("state", persona_id, kind, "value")


class SqlStateStore:
    """Opaque per-persona state by kind, encrypted.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def get(self, account_id: AccountId, persona_id: PersonaId, kind: str) -> bytes | None:
        s = tables.state
        async with self._ctx.read() as session:
            value = (
                await session.execute(
                    select(s.c.value).where(
                        s.c.account_id == account_id, s.c.persona_id == persona_id, s.c.kind == kind
                    )
                )
            ).scalar_one_or_none()
            if value is None:
                return None
            cipher = await self._ctx.cipher(session, account_id)
        return cipher.decrypt(_state_row(persona_id, kind), value)

    async def put(
        self, account_id: AccountId, persona_id: PersonaId, kind: str, value: bytes
    ) -> None:
        async with self._ctx.write() as session:
            await self._ctx.check_persona(session, account_id, persona_id)
            cipher = await self._ctx.cipher(session, account_id)
            now = self._ctx.clock()
            statement = self._ctx.insert(tables.state).values(
                account_id=account_id,
                persona_id=persona_id,
                kind=kind,
                value=cipher.encrypt(_state_row(persona_id, kind), value),
                updated_at=now,
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["persona_id", "kind"],
                    set_={"value": statement.excluded.value, "updated_at": now},
                )
            )


# --- the whole account -------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


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
        async with self._ctx.read() as session:
            row = (
                await session.execute(
                    select(tables.accounts).where(tables.accounts.c.id == account_id)
                )
            ).first()
            if row is None:
                raise NotFound(f"Account {account_id} does not exist.")
            cipher = await self._ctx.cipher(session, account_id)
            account = _account(cipher, row)

            async def rows(table: Table, *order: Any) -> Sequence[AnyRow]:
                query = select(table).where(table.c.account_id == account_id).order_by(*order)
                return (await session.execute(query)).all()

            t = tables
            identities = await rows(t.identities, t.identities.c.platform, t.identities.c.user_id)
            personas = await rows(t.personas, t.personas.c.created_at, t.personas.c.id)
            names = {p.id: p.name for p in personas}
            messages = [
                {
                    **message_json(stored.message),
                    "persona": names[r.persona_id],
                    "from_owner": stored.from_owner,
                    "source": stored.source,
                }
                for r in await rows(
                    t.messages, t.messages.c.persona_id, t.messages.c.sent_at, t.messages.c.pk
                )
                for stored in (_stored_message(cipher, r.persona_id, r),)
            ]
            drafts = [
                {
                    "id": d.id,
                    "persona": names[d.persona_id],
                    "owner": str(d.owner),
                    "incoming": message_json(d.incoming),
                    "options": [_option_json(o) for o in d.options],
                    "status": d.status.value,
                    "created_at": _iso(d.created_at),
                }
                for d in (
                    _draft(cipher, r)
                    for r in await rows(t.drafts, t.drafts.c.created_at, t.drafts.c.id)
                )
            ]
            approvals = [
                {
                    "draft_id": a.draft_id,
                    "by": str(a.by),
                    "text": a.text,
                    "option": a.option,
                    "edited": a.edited,
                    "approved_at": _iso(a.approved_at),
                }
                for a in (
                    _approval(cipher, r) for r in await rows(t.approvals, t.approvals.c.approved_at)
                )
            ]
            feedback = [
                {
                    "persona": names[f.persona_id],
                    "kind": f.kind.value,
                    "draft_id": f.draft_id,
                    "message_id": f.message_id,
                    "text": f.text,
                    "at": _iso(f.at),
                }
                for f in (
                    _feedback(cipher, r)
                    for r in await rows(t.feedback, t.feedback.c.at, t.feedback.c.id)
                )
            ]
            labels = [
                {
                    "persona": names[r.persona_id],
                    "message_id": r.message_id,
                    "label": r.label,
                    "kind": r.kind,
                    "at": _iso(r.at),
                }
                for r in await rows(
                    t.priority_labels, t.priority_labels.c.at, t.priority_labels.c.id
                )
            ]
            state = [
                {
                    "persona": names[r.persona_id],
                    "kind": r.kind,
                    "value_base64": _b64(cipher.decrypt(_state_row(r.persona_id, r.kind), r.value)),
                    "updated_at": _iso(r.updated_at),
                }
                for r in await rows(t.state, t.state.c.persona_id, t.state.c.kind)
            ]
            vectors = [
                {
                    "persona": names[r.persona_id],
                    "message_id": r.msg_id,
                    "float32_le_base64": _b64(
                        cipher.decrypt(_vector_row(r.persona_id, r.msg_id), r.vector)
                    ),
                }
                for r in await rows(t.vectors, t.vectors.c.persona_id, t.vectors.c.msg_id)
            ]
        return {
            "format": "minime-export",
            "version": 1,
            "exported_at": _iso(self._ctx.clock()),
            "account": {
                "id": account.id,
                "created_at": _iso(account.created_at),
                "active_persona": names.get(account.active_persona or ""),
                "paused": account.paused,
                "settings": account.settings,
            },
            "identities": [
                {"platform": r.platform, "user_id": r.user_id, "linked_at": _iso(r.linked_at)}
                for r in identities
            ],
            "personas": [
                {
                    "id": p.id,
                    "name": p.name,
                    "owner_names": builtins.list(p.owner_names),
                    "created_at": _iso(p.created_at),
                }
                for p in (_persona(cipher, r) for r in personas)
            ],
            "messages": messages,
            "drafts": drafts,
            "approvals": approvals,
            "feedback": feedback,
            "priority_labels": labels,
            "state": state,
            "vectors": vectors,
        }

    async def erase(self, account_id: AccountId) -> None:
        """Delete every row of the account in every table, then its cached data key.

        The wrapped data key goes with the ``account_keys`` row, so any copy of the ciphertexts
        left elsewhere (a backup) can no longer be decrypted with the master key. On SQLite the
        WAL is then checkpointed and truncated: with ``secure_delete=ON`` the freed pages are
        zeroed, so the erased ciphertexts leave both files.
        """
        async with self._ctx.write() as session:
            for table in reversed(tables.metadata.sorted_tables):
                column = table.c.id if table is tables.accounts else table.c.account_id
                await session.execute(delete(table).where(column == account_id))
        self._ctx.keys.forget(account_id)
        if self._ctx.dialect == "sqlite":
            await checkpoint_sqlite(self._ctx.engine)


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


if TYPE_CHECKING:
    # Structural conformance, checked by mypy: each class satisfies its port.
    def _conforms(ctx: StoreContext) -> None:
        _accounts: ports.AccountStore = SqlAccountStore(ctx)
        _personas: ports.PersonaStore = SqlPersonaStore(ctx)
        _messages: ports.MessageStore = SqlMessageStore(ctx)
        _vectors: ports.VectorStore = SqlVectorStore(ctx)
        _drafts: ports.DraftStore = SqlDraftStore(ctx)
        _feedback: ports.FeedbackStore = SqlFeedbackStore(ctx)
        _labels: ports.PriorityLabelStore = SqlPriorityLabelStore(ctx)
        _deliveries: ports.DeliveryLog = SqlDeliveryLog(ctx)
        _state: ports.StateStore = SqlStateStore(ctx)
        _vault: ports.AccountVault = SqlAccountVault(ctx)
