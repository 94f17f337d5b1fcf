"""A persona's history read the way its models need it: streamed, never held whole.

Building a persona's models used to read every stored message into one list (81k messages of an
IRC export: tens of MB of Python objects, alive while the verifier trained). Here the owner's own
messages are read once (they are what the style models learn from), and the whole history is
replayed page by page into the prioritiser while a seeded sample of other senders' messages is
kept for the verifier: memory stays a page plus what the models keep.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from core.models import AccountId, PersonaId, StoredMessage
from core.ports import MessageStore

T = TypeVar("T")
R = TypeVar("R")

PAGE = 1_000
"""Messages handed from the event loop to the replaying thread at a time."""


@dataclass(slots=True)
class Text:
    """A stored message's id and text (what embedding and the style models need)."""

    id: str
    text: str


@dataclass(slots=True)
class OwnerHistory:
    """The owner's own messages, oldest first, and the sender names they wrote under."""

    texts: list[Text] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


async def owner_history(
    store: MessageStore, account_id: AccountId, persona_id: PersonaId
) -> OwnerHistory:
    """The owner's messages (id and text) and their sender names, in one pass."""
    out = OwnerHistory()
    seen: set[str] = set()
    async for stored in store.iter(account_id, persona_id, owner_only=True):
        message = stored.message
        out.texts.append(Text(message.id, message.text))
        if message.sender not in seen:
            seen.add(message.sender)
            out.names.append(message.sender)
    return out


@dataclass(slots=True)
class Replayed(Generic[R]):
    """What a replay of the whole history gave: the consumer's result, how many messages there
    were, and a uniform sample of other senders' non-empty messages (seeded: the same history
    gives the same sample)."""

    result: R
    size: int
    others: list[Text]


async def replay(
    store: MessageStore,
    account_id: AccountId,
    persona_id: PersonaId,
    consume: Callable[[Iterable[StoredMessage]], T],
    *,
    sample: int,
    seed: int = 0,
) -> Replayed[T]:
    """Run ``consume`` (CPU work, in a worker thread) over the history in ``sent_at`` order while
    the store streams it page by page; meanwhile keep a reservoir sample of ``sample`` messages by
    other senders."""
    loop = asyncio.get_running_loop()
    messages = store.iter(account_id, persona_id)
    rng = random.Random(seed)
    others: list[Text] = []
    counts = {"size": 0, "others": 0}

    async def page() -> list[StoredMessage]:
        return [m async for m in _take(messages, PAGE)]

    def stream() -> Iterator[StoredMessage]:
        while batch := asyncio.run_coroutine_threadsafe(page(), loop).result():
            for stored in batch:
                counts["size"] += 1
                if not stored.from_owner and stored.message.text.strip():
                    item = Text(stored.message.id, stored.message.text)
                    _reservoir(others, item, counts, sample, rng)
                yield stored

    def run() -> T:
        items = stream()
        result = consume(items)
        for _ in items:  # a consumer that stopped early still counts and samples the rest
            pass
        return result

    try:
        result = await asyncio.to_thread(run)
    finally:
        close = getattr(messages, "aclose", None)
        if close is not None:
            await close()
    return Replayed(result=result, size=counts["size"], others=others)


async def _take(messages: AsyncIterator[StoredMessage], n: int) -> AsyncIterator[StoredMessage]:
    for _ in range(n):
        try:
            yield await anext(messages)
        except StopAsyncIteration:
            return


def _reservoir(
    kept: list[Text], item: Text, counts: dict[str, int], size: int, rng: random.Random
) -> None:
    """Algorithm R: after n items, each is kept with probability size / n."""
    counts["others"] += 1
    if len(kept) < size:
        kept.append(item)
        return
    slot = rng.randrange(counts["others"])
    if slot < size:
        kept[slot] = item
