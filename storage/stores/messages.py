"""Messages of a persona and their embedding vectors.

Conversation, sender and text are encrypted per message; vectors (little-endian float32) are
encrypted per message id. Imports of 100k messages stream through :meth:`SqlMessageStore.add_stream`
in batches, in one transaction.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Final, Literal, cast

import numpy as np
import sqlalchemy.exc
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.models import AccountId, Message, PersonaId, ReplyPair, StoredMessage
from core.ports import Vector
from storage import tables
from storage.crypto import DataCipher, row_id
from storage.errors import StorageError
from storage.stores.context import BATCH_ROWS, AnyRow, StoreContext, rowcount
from storage.stores.parts import ExportScope, VaultPart, b64

log = logging.getLogger(__name__)

ANALYZE_AFTER_ROWS: Final = 5_000
"""On PostgreSQL, refresh the planner statistics after an import added this many messages."""

_MessageSource = Literal["import", "live", "sample", "feedback"]


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


def message_from_json(value: object) -> Message:
    """The inverse of :func:`message_json`."""
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


def _reply_pair(cipher: DataCipher, persona_id: PersonaId, row: AnyRow) -> ReplyPair:
    reply_prefix = _message_row_prefix(persona_id, row.reply_id)
    incoming_prefix = _message_row_prefix(persona_id, row.incoming_id)
    return ReplyPair(
        persona_id=persona_id,
        incoming_id=row.incoming_id,
        incoming_text=cipher.decrypt_text(incoming_prefix + "text", row.incoming_text),
        incoming_sender=cipher.decrypt_text(incoming_prefix + "sender", row.incoming_sender),
        reply_id=row.reply_id,
        reply_text=cipher.decrypt_text(reply_prefix + "text", row.reply_text),
        replied_at=row.replied_at,
        latency_s=(row.replied_at - row.incoming_at).total_seconds(),
    )


class SqlMessageStore:
    """Messages of a persona; conversation, sender and text encrypted. A row whose values fail
    to decrypt is skipped and quarantined (``StoreContext.readable``).

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
        async with self._ctx.write(account_id) as session:
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
            return rowcount(await session.execute(statement, batch))
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
            async with self._ctx.read(account_id) as session:
                rows = (await session.execute(query)).all()
                if not rows:
                    return
                cipher = await self._ctx.cipher(session, account_id)
            for row in rows:
                stored = self._read(cipher, account_id, persona_id, row)
                if stored is not None:
                    yield stored
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
        async with self._ctx.read(account_id) as session:
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
                        found[row.msg_id] = self._ctx.checked(
                            account_id,
                            "message",
                            f"{persona_id}/{row.msg_id}",
                            partial(_stored_message, cipher, persona_id, row),
                        )
        return [found[i] for i in wanted if i in found]

    def _read(
        self, cipher: DataCipher, account_id: AccountId, persona_id: PersonaId, row: AnyRow
    ) -> StoredMessage | None:
        return self._ctx.readable(
            account_id,
            "message",
            f"{persona_id}/{row.msg_id}",
            lambda: _stored_message(cipher, persona_id, row),
        )

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
        async with self._ctx.read(account_id) as session:
            rows = (await session.execute(query)).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
        pairs = []
        for row in rows:
            pair = self._ctx.readable(
                account_id,
                "message",
                f"{persona_id}/{row.reply_id}<-{row.incoming_id}",
                partial(_reply_pair, cipher, persona_id, row),
            )
            if pair is not None:
                pairs.append(pair)
        return pairs

    async def count(self, account_id: AccountId, persona_id: PersonaId) -> int:
        m = tables.messages
        async with self._ctx.read(account_id) as session:
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
        async with self._ctx.write(account_id) as session:
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
        async with self._ctx.read(account_id) as session:
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
        ids: builtins.list[str] = []
        raw: builtins.list[bytes] = []
        for row in rows:
            value = self._ctx.readable(
                account_id,
                "vector",
                f"{persona_id}/{row.msg_id}",
                partial(cipher.decrypt, _vector_row(persona_id, row.msg_id), row.vector),
            )
            if value is not None:
                ids.append(row.msg_id)
                raw.append(value)
        if not raw:
            return [], np.zeros((0, 0), dtype=np.float32)
        if len({len(r) for r in raw}) != 1:
            raise StorageError(
                f"Persona {persona_id} holds vectors of different sizes; re-embed its messages."
            )
        matrix = np.frombuffer(b"".join(raw), dtype=_VECTOR_DTYPE).reshape(len(raw), -1)
        return ids, matrix.astype(np.float32, copy=True)

    async def get(
        self, account_id: AccountId, persona_id: PersonaId, ids: Sequence[str]
    ) -> tuple[builtins.list[str], Vector]:
        """The stored vectors among ``ids`` (found ids in the order asked, one row each)."""
        v = tables.vectors
        wanted = builtins.list(dict.fromkeys(ids))
        found: dict[str, bytes] = {}
        async with self._ctx.read(account_id) as session:
            cipher = None
            for start in range(0, len(wanted), BATCH_ROWS):
                rows = (
                    await session.execute(
                        select(v.c.msg_id, v.c.vector).where(
                            v.c.account_id == account_id,
                            v.c.persona_id == persona_id,
                            v.c.msg_id.in_(wanted[start : start + BATCH_ROWS]),
                        )
                    )
                ).all()
                if rows and cipher is None:
                    cipher = await self._ctx.cipher(session, account_id)
                for row in rows:
                    assert cipher is not None
                    value = self._ctx.readable(
                        account_id,
                        "vector",
                        f"{persona_id}/{row.msg_id}",
                        partial(cipher.decrypt, _vector_row(persona_id, row.msg_id), row.vector),
                    )
                    if value is not None:
                        found[row.msg_id] = value
        order = [i for i in wanted if i in found]
        sizes = {len(found[i]) for i in order}
        if len(sizes) > 1:
            raise StorageError(
                f"Persona {persona_id} holds vectors of different sizes; re-embed its messages."
            )
        if not order:
            return [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(found[i] for i in order), dtype=_VECTOR_DTYPE)
        return order, matrix.reshape(len(order), -1).astype(np.float32, copy=True)


# --- the messages' part of the vault -----------------------------------------------------------


async def _export_messages(scope: ExportScope) -> list[dict[str, object]]:
    m = tables.messages
    return [
        {
            **message_json(stored.message),
            "persona": scope.names[r.persona_id],
            "from_owner": stored.from_owner,
            "source": stored.source,
        }
        for r in await scope.rows(m, m.c.persona_id, m.c.sent_at, m.c.pk)
        if (
            stored := scope.readable(
                "message",
                f"{r.persona_id}/{r.msg_id}",
                partial(_stored_message, scope.cipher, r.persona_id, r),
            )
        )
        is not None
    ]


async def _export_vectors(scope: ExportScope) -> list[dict[str, object]]:
    v = tables.vectors
    return [
        {
            "persona": scope.names[r.persona_id],
            "message_id": r.msg_id,
            "float32_le_base64": b64(raw),
        }
        for r in await scope.rows(v, v.c.persona_id, v.c.msg_id)
        if (
            raw := scope.readable(
                "vector",
                f"{r.persona_id}/{r.msg_id}",
                partial(scope.cipher.decrypt, _vector_row(r.persona_id, r.msg_id), r.vector),
            )
        )
        is not None
    ]


VAULT: Final = VaultPart(
    tables=(tables.messages, tables.vectors),
    sections=(("messages", _export_messages), ("vectors", _export_vectors)),
)
