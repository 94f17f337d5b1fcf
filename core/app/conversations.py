"""What the clone has seen of each conversation lately: the context of the next message in it.

Platforms give a message alone (Slack's event carries no parent) or with only what it answers
(Telegram's ``reply_to_message``); a follow-up such as "and tomorrow?" means little alone. The
clone keeps the last few messages it saw per conversation (and thread) in memory — never stored,
bounded in conversations and messages, and dropped for an account on erase — and adds them to
what the platform gave.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence

from core.models import CONTEXT_LIMIT, AccountId, Message

MAX_CONVERSATIONS = 10_000
"""Conversations remembered at most across all accounts (least recently active dropped first)."""

_Key = tuple[AccountId, str, str | None]


class RecentMessages:
    """The last :data:`~core.models.CONTEXT_LIMIT` messages seen per (account, conversation,
    thread)."""

    def __init__(
        self, *, limit: int = CONTEXT_LIMIT, conversations: int = MAX_CONVERSATIONS
    ) -> None:
        self._limit = limit
        self._capacity = conversations
        self._seen: OrderedDict[_Key, deque[Message]] = OrderedDict()

    def add(self, account_id: AccountId, message: Message) -> None:
        """Remember ``message`` (a repeat of a remembered id is ignored)."""
        key = (account_id, message.conversation, message.thread)
        recent = self._seen.get(key)
        if recent is None:
            recent = self._seen[key] = deque(maxlen=self._limit)
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
        self._seen.move_to_end(key)
        if all(m.id != message.id for m in recent):
            recent.append(message)

    def before(self, account_id: AccountId, message: Message) -> tuple[Message, ...]:
        """The remembered messages of ``message``'s conversation sent before it, oldest first."""
        recent = self._seen.get((account_id, message.conversation, message.thread), ())
        return tuple(m for m in recent if m.id != message.id and m.sent_at <= message.sent_at)

    def forget(self, account_id: AccountId) -> None:
        """Drop everything remembered for an account (erase)."""
        for key in [k for k in self._seen if k[0] == account_id]:
            del self._seen[key]


def merge_context(
    given: Sequence[Message], seen: Sequence[Message], *, limit: int = CONTEXT_LIMIT
) -> tuple[Message, ...]:
    """The platform's context and the remembered one, without repeats, oldest first, the most
    recent ``limit``."""
    by_id = {m.id: m for m in (*seen, *given)}
    ordered = sorted(by_id.values(), key=lambda m: m.sent_at)
    return tuple(ordered[-limit:]) if limit > 0 else ()
