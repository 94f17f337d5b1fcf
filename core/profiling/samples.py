"""What the profiler reads: the owner's messages with the context that explains them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from core.models import Message, ReplyPair, StoredMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileSample:
    """One message written by the owner.

    Attributes:
        text: What the owner wrote.
        sent_at: When (timezone-aware UTC).
        conversation: The channel/chat it was written in (per-channel variation).
        counterpart: Who the owner was answering, when it is a reply (per-contact variation).
        latency_s: Seconds between the message answered and this reply, when known.
        is_reply: Whether the message answers another message.
    """

    text: str
    sent_at: datetime
    conversation: str = ""
    counterpart: str | None = None
    latency_s: float | None = None
    is_reply: bool = False


def samples_from_messages(
    messages: Iterable[Message], owner: str | Collection[str]
) -> list[ProfileSample]:
    """The owner's messages as samples, replies resolved against the same message list.

    Args:
        messages: Canonical messages of one or more conversations (any order); messages by other
            senders are used only to resolve who the owner answered and how fast.
        owner: The owner's sender name, or several names.

    Returns:
        One sample per owner message, oldest first.
    """
    owners = {owner} if isinstance(owner, str) else set(owner)
    by_id: dict[str, Message] = {}
    mine: list[Message] = []
    for message in messages:
        by_id[message.id] = message
        if message.sender in owners:
            mine.append(message)
    out = []
    for message in mine:
        parent = by_id.get(message.reply_to) if message.reply_to else None
        counterpart = None
        latency = None
        if parent is not None and parent.sender not in owners:
            counterpart = parent.sender
            latency = max(0.0, (message.sent_at - parent.sent_at).total_seconds())
        out.append(
            ProfileSample(
                text=message.text,
                sent_at=message.sent_at,
                conversation=message.conversation,
                counterpart=counterpart,
                latency_s=latency,
                is_reply=message.reply_to is not None,
            )
        )
    out.sort(key=lambda s: s.sent_at)
    return out


def samples_from_stored(
    messages: Iterable[StoredMessage], pairs: Iterable[ReplyPair] = ()
) -> list[ProfileSample]:
    """Samples from a persona's stored messages (owner's and others'), oldest first.

    Args:
        messages: Stored messages; those with ``from_owner`` become samples, the others resolve
            replies.
        pairs: Reply pairs from the store; when given they supply the counterpart and latency of
            the replies they name (they win over what ``reply_to`` resolution finds).
    """
    by_id: dict[str, StoredMessage] = {}
    mine: list[StoredMessage] = []
    for stored in messages:
        by_id[stored.message.id] = stored
        if stored.from_owner:
            mine.append(stored)
    pair_by_reply = {pair.reply_id: pair for pair in pairs}
    out = []
    for stored in mine:
        message = stored.message
        counterpart = None
        latency = None
        pair = pair_by_reply.get(message.id)
        if pair is not None:
            counterpart = pair.incoming_sender
            latency = pair.latency_s
        elif message.reply_to is not None:
            parent = by_id.get(message.reply_to)
            if parent is not None and not parent.from_owner:
                counterpart = parent.message.sender
                latency = max(0.0, (message.sent_at - parent.message.sent_at).total_seconds())
        out.append(
            ProfileSample(
                text=message.text,
                sent_at=message.sent_at,
                conversation=message.conversation,
                counterpart=counterpart,
                latency_s=latency,
                is_reply=message.reply_to is not None or pair is not None,
            )
        )
    out.sort(key=lambda s: s.sent_at)
    return out
