"""Small builders for prioritising tests (hand-written data only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import IncomingMessage, Message, StoredMessage, UserRef

OWNER = UserRef(platform="console", user_id="sam")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def message(
    id: str,
    sender: str,
    text: str,
    *,
    minutes: float = 0.0,
    conversation: str = "general",
    thread: str | None = None,
    reply_to: str | None = None,
) -> Message:
    return Message(
        id=id,
        conversation=conversation,
        thread=thread,
        sender=sender,
        text=text,
        sent_at=T0 + timedelta(minutes=minutes),
        reply_to=reply_to,
    )


def incoming(
    id: str,
    sender: str,
    text: str,
    *,
    minutes: float = 0.0,
    is_direct: bool = False,
    conversation: str = "general",
    reply_to: str | None = None,
    addressees: int = 1,
) -> IncomingMessage:
    return IncomingMessage(
        owner=OWNER,
        message=message(
            id, sender, text, minutes=minutes, conversation=conversation, reply_to=reply_to
        ),
        sender_name=sender,
        is_direct=is_direct,
        addressees=addressees,
    )


def stored(msg: Message, *, owner: str = "sam") -> StoredMessage:
    return StoredMessage(message=msg, persona_id="p", from_owner=msg.sender == owner)
