"""Bring an owner's history in: canonical messages → the persona's store, in one transaction.

Parsing is the importer's job (``adapters/importers``); this service counts, tags the owner's
messages and hands a stream to the ``MessageStore``. Parsing is CPU work, so batches are pulled
in a worker thread and the event loop stays free to acknowledge platform events meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from core.models import AccountId, ImportSummary, Message, PersonaId, StoredMessage
from core.ports import MessageStore

Progress = Callable[[int], None]
"""Called with the number of messages read since the last call."""

BATCH = 2_000


@dataclass(slots=True)
class _Tally:
    messages: int = 0
    owner_messages: int = 0
    owner_replies: int = 0
    conversations: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, message: Message, from_owner: bool) -> None:
        self.messages += 1
        self.conversations.add(message.conversation)
        if from_owner:
            self.owner_messages += 1
            if message.reply_to is not None:
                self.owner_replies += 1
        if self.first is None or message.sent_at < self.first:
            self.first = message.sent_at
        if self.last is None or message.sent_at > self.last:
            self.last = message.sent_at


async def import_messages(
    messages: Iterable[Message],
    *,
    store: MessageStore,
    account_id: AccountId,
    persona_id: PersonaId,
    owner: str | Iterable[str],
    format_name: str,
    source: str = "import",
    progress: Progress | None = None,
) -> ImportSummary:
    """Store ``messages`` for a persona, all or nothing, and summarise what came in.

    Args:
        messages: parsed messages; the iterator may raise, and then nothing is stored.
        owner: the sender name(s) that are the owner.
        source: ``import`` for exports, ``sample`` for the built-in persona, ``live`` for learning.
    """
    owners = {owner} if isinstance(owner, str) else set(owner)
    tally = _Tally()
    iterator: Iterator[Message] = iter(messages)

    async def stream() -> AsyncIterator[StoredMessage]:
        while True:
            batch = await asyncio.to_thread(lambda: list(islice(iterator, BATCH)))
            if not batch:
                return
            for message in batch:
                from_owner = message.sender in owners
                tally.add(message, from_owner)
                yield StoredMessage(
                    message=message,
                    persona_id=persona_id,
                    from_owner=from_owner,
                    source=source,  # type: ignore[arg-type]
                )
            if progress is not None:
                progress(len(batch))

    new = await store.add_stream(account_id, stream())
    return ImportSummary(
        format=format_name,
        messages=tally.messages,
        new=new,
        owner_messages=tally.owner_messages,
        owner_replies=tally.owner_replies,
        conversations=len(tally.conversations),
        first=tally.first,
        last=tally.last,
    )
