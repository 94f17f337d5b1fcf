"""Telegram Bot API updates (JSON dicts) → core models and small adapter events. Pure: no I/O.

The adapter hands every update here as ``update.to_dict()`` and acts on what comes back; ``None``
means "ignore" (groups, channels, edits, deletions, bots, and what this bot sent on the owner's
behalf; the owner's own Business messages are dropped by the adapter, which knows the owner).
Tests feed the recorded JSON under ``tests/adapters/telegram/payloads/``.

Identities and addresses:

- the owner of a private chat with the bot is the Telegram user: ``UserRef("telegram", "<id>")``;
- a draft's conversation says where an approved reply goes: ``tg:<chat_id>`` (the private chat
  with the bot: the owner copies or forwards the text) or ``tgb:<connection_id>:<chat_id>`` (a chat
  of the owner's Business account: the bot replies on the owner's behalf).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

from adapters.telegram.callbacks import CallbackCodec
from adapters.telegram.render import EDIT_REF
from core.commands import CommandError, option, parse
from core.models import (
    Action,
    ActionInvocation,
    CommandInvocation,
    IncomingMessage,
    Message,
    UserRef,
)

PLATFORM = "telegram"
PRIVATE_PREFIX = "tg:"
BUSINESS_PREFIX = "tgb:"
_TRAIN_WORDS = frozenset({"--sample", "sample", "on", "off"})

# ----------------------------------------------------------------- raw payloads (the edge)


class UserPayload(TypedDict, total=False):
    id: int
    is_bot: bool
    first_name: str
    last_name: str
    username: str


class ChatPayload(TypedDict, total=False):
    id: int
    type: str
    title: str
    first_name: str
    last_name: str
    username: str


class DocumentPayload(TypedDict, total=False):
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    file_size: int


MessagePayload = TypedDict(
    "MessagePayload",
    {
        "message_id": int,
        "date": int,
        "chat": ChatPayload,
        "from": UserPayload,
        "text": str,
        "caption": str,
        "document": DocumentPayload,
        "forward_origin": dict[str, Any],
        "reply_to_message": dict[str, Any],
        "business_connection_id": str,
        "sender_business_bot": UserPayload,
    },
    total=False,
)

CallbackQueryPayload = TypedDict(
    "CallbackQueryPayload",
    {"id": str, "from": UserPayload, "message": MessagePayload, "data": str},
    total=False,
)


class BusinessConnectionPayload(TypedDict, total=False):
    id: str
    user: UserPayload
    user_chat_id: int
    date: int
    is_enabled: bool
    can_reply: bool
    rights: dict[str, Any]


class UpdatePayload(TypedDict, total=False):
    update_id: int
    message: MessagePayload
    edited_message: MessagePayload
    callback_query: CallbackQueryPayload
    business_connection: BusinessConnectionPayload
    business_message: MessagePayload


# ----------------------------------------------------------------- adapter events


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """A document sent to the private chat: an export to train on, still to be downloaded."""

    user: UserRef
    chat_id: int
    file_id: str
    file_name: str
    file_size: int | None
    me: str | None
    """``--me=<name>`` from the caption: who the owner is in the export."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Click:
    """A press on an inline button; ``data`` is untrusted until :func:`to_action` checks it."""

    user: UserRef
    query_id: str
    data: str
    chat_id: int | None
    message_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessLink:
    """The owner's Business account connected to (or disconnected from) the bot."""

    connection_id: str
    owner: UserRef
    user_chat_id: int
    """The owner's private chat with the bot: where drafts for business chats are offered."""
    can_reply: bool
    enabled: bool
    date: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "connection_id": self.connection_id,
            "owner": self.owner.user_id,
            "user_chat_id": self.user_chat_id,
            "can_reply": self.can_reply,
            "enabled": self.enabled,
            "date": self.date.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BusinessLink:
        return cls(
            connection_id=str(data["connection_id"]),
            owner=UserRef(platform=PLATFORM, user_id=str(data["owner"])),
            user_chat_id=int(data["user_chat_id"]),
            can_reply=bool(data.get("can_reply")),
            enabled=bool(data.get("enabled")),
            date=datetime.fromisoformat(str(data["date"])),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessIncoming:
    """A message in one of the owner's Business chats; the owner is known from the connection."""

    connection_id: str
    chat_id: int
    message_id: int
    sender_id: int | None
    sender_name: str
    text: str
    sent_at: datetime
    replied: tuple[int, str, str, datetime] | None = None
    """The message this one answers, when Telegram quotes it: (message id, sender, text, date)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Hint:
    """Something the bot cannot act on, with what would work."""

    chat_id: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """Where an approved reply goes."""

    chat_id: int
    business_connection_id: str | None = None


TelegramEvent = (
    CommandInvocation
    | IncomingMessage
    | ActionInvocation
    | Upload
    | Click
    | BusinessLink
    | BusinessIncoming
    | Hint
)

# ----------------------------------------------------------------- helpers


def _time(value: object) -> datetime:
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as error:  # out of the platform's range
            raise ValueError(f"a Telegram date out of range: {value!r}") from error
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    raise ValueError("a Telegram date is a Unix timestamp")


def display_name(user: UserPayload | ChatPayload | dict[str, Any] | None) -> str:
    """``First Last``, else ``@username``, else ``them``."""
    if not user:
        return "them"
    name = " ".join(
        part.strip()
        for part in (str(user.get("first_name") or ""), str(user.get("last_name") or ""))
        if part.strip()
    )
    if not name:
        name = str(user.get("title") or "").strip()
    if not name and user.get("username"):
        name = f"@{user['username']}"
    return name or "them"


def _user(payload: UserPayload) -> UserRef:
    return UserRef(platform=PLATFORM, user_id=str(payload["id"]))


def owner_of_chat(user_id: int | str) -> UserRef:
    """The owner identity for a private chat with the bot."""
    return UserRef(platform=PLATFORM, user_id=str(user_id))


def origin_name(origin: dict[str, Any]) -> str:
    """Who wrote a forwarded message, from its ``forward_origin``."""
    kind = origin.get("type")
    if kind == "user":
        return display_name(origin.get("sender_user"))
    if kind == "hidden_user":
        return str(origin.get("sender_user_name") or "").strip() or "them"
    chat = origin.get("sender_chat") if kind == "chat" else origin.get("chat")
    name = display_name(chat)
    signature = str(origin.get("author_signature") or "").strip()
    return f"{signature} ({name})" if signature else name


def private_conversation(chat_id: int) -> str:
    return f"{PRIVATE_PREFIX}{chat_id}"


def business_conversation(connection_id: str, chat_id: int) -> str:
    return f"{BUSINESS_PREFIX}{connection_id}:{chat_id}"


def destination(conversation: str) -> Destination | None:
    """Where a draft's approved text goes, from the conversation this adapter gave it."""
    try:
        if conversation.startswith(BUSINESS_PREFIX):
            connection_id, _, chat = conversation[len(BUSINESS_PREFIX) :].rpartition(":")
            if connection_id:
                return Destination(chat_id=int(chat), business_connection_id=connection_id)
        elif conversation.startswith(PRIVATE_PREFIX):
            return Destination(chat_id=int(conversation[len(PRIVATE_PREFIX) :]))
    except ValueError:
        return None
    return None


# ----------------------------------------------------------------- updates


def to_event(update: UpdatePayload | dict[str, Any], *, bot_id: int) -> TelegramEvent | None:
    """Classify one update; ``None`` for what the clone ignores."""
    if "callback_query" in update:
        return _click(update["callback_query"])
    if "business_connection" in update:
        return to_business_link(update["business_connection"])
    if "business_message" in update:
        return _business_message(update["business_message"])
    if "message" in update:
        return _private_message(update["message"], bot_id=bot_id)
    # edited messages, channel posts, member changes, reactions, deleted business messages…
    return None


def _click(query: CallbackQueryPayload) -> Click | None:
    sender = query.get("from")
    if not sender or sender.get("is_bot"):
        return None
    message = query.get("message") or {}
    chat = message.get("chat") or {}
    return Click(
        user=_user(sender),
        query_id=str(query.get("id", "")),
        data=str(query.get("data") or ""),
        chat_id=chat.get("id"),
        message_id=message.get("message_id"),
    )


def to_business_link(payload: BusinessConnectionPayload | dict[str, Any]) -> BusinessLink | None:
    """A ``business_connection`` (update or ``getBusinessConnection`` answer)."""
    user = payload.get("user")
    if not user or "id" not in payload or "user_chat_id" not in payload:
        return None
    rights = payload.get("rights") or {}
    # Bot API 9.0 moved ``can_reply`` into ``rights``; older payloads carry it at the top.
    can_reply = bool(rights.get("can_reply", payload.get("can_reply", False)))
    return BusinessLink(
        connection_id=str(payload["id"]),
        owner=_user(user),
        user_chat_id=int(payload["user_chat_id"]),
        can_reply=can_reply,
        enabled=bool(payload.get("is_enabled", False)),
        date=_time(payload.get("date", 0)),
    )


def _business_message(message: MessagePayload) -> BusinessIncoming | None:
    connection_id = message.get("business_connection_id")
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    text = (message.get("text") or message.get("caption") or "").strip()
    if not connection_id or "id" not in chat or not text:
        return None
    if not isinstance(connection_id, str):  # a key of the connection cache: never a list
        raise TypeError("business_connection_id is not a string")
    if message.get("sender_business_bot") or sender.get("is_bot"):
        return None  # sent by a bot (this one) on the owner's behalf
    quoted = message.get("reply_to_message") or {}
    quoted_text = (quoted.get("text") or quoted.get("caption") or "").strip()
    replied = (
        (
            int(quoted.get("message_id", 0)),
            display_name(quoted.get("from") or quoted.get("chat")),
            quoted_text,
            _time(quoted.get("date", 0)),
        )
        if quoted_text
        else None
    )
    return BusinessIncoming(
        connection_id=connection_id,
        chat_id=int(chat["id"]),
        message_id=int(message.get("message_id", 0)),
        sender_id=sender.get("id"),
        sender_name=display_name(sender) if sender else display_name(chat),
        text=text,
        sent_at=_time(message.get("date", 0)),
        replied=replied,
    )


def business_message(event: BusinessIncoming, *, reply_to: str | None = None) -> Message:
    """A Business chat message as a canonical message (the chat is its conversation)."""
    return Message(
        id=f"{BUSINESS_PREFIX}{event.chat_id}:{event.message_id}",
        conversation=business_conversation(event.connection_id, event.chat_id),
        thread=None,
        sender=event.sender_name,
        text=event.text,
        sent_at=event.sent_at,
        reply_to=reply_to,
    )


def to_business_incoming(event: BusinessIncoming, *, owner: UserRef) -> IncomingMessage:
    """A Business chat message as the owner's incoming message (a 1:1 chat, addressed to them),
    with the message it answers as its context when Telegram quotes one."""
    context: tuple[Message, ...] = ()
    reply_to = None
    if event.replied is not None:
        message_id, sender, text, sent_at = event.replied
        reply_to = f"{BUSINESS_PREFIX}{event.chat_id}:{message_id}"
        context = (
            Message(
                id=reply_to,
                conversation=business_conversation(event.connection_id, event.chat_id),
                thread=None,
                sender=sender,
                text=text,
                sent_at=sent_at,
            ),
        )
    return IncomingMessage(
        owner=owner,
        message=business_message(event, reply_to=reply_to),
        context=context,
        sender_name=event.sender_name,
        is_direct=True,
        addressees=1,
    )


def _private_message(
    message: MessagePayload, *, bot_id: int
) -> CommandInvocation | IncomingMessage | ActionInvocation | Upload | Hint | None:
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    if chat.get("type") != "private" or not sender or sender.get("is_bot"):
        return None  # groups and channels: the clone lives in the private chat
    user = _user(sender)
    chat_id = int(chat["id"])
    document = message.get("document")
    if document:
        caption = message.get("caption") or ""
        return Upload(
            user=user,
            chat_id=chat_id,
            file_id=str(document.get("file_id", "")),
            file_name=str(document.get("file_name") or "export"),
            file_size=document.get("file_size"),
            # Quoted like a shell (--me "Your Name"), or the rest of the caption (--me=Your Name).
            me=option(caption, "--me", rest_of_line=True),
        )
    text = message.get("text") or message.get("caption") or ""
    origin = message.get("forward_origin")
    if origin:
        if not text.strip():
            return Hint(chat_id=chat_id, text="I draft replies to text; that message has none.")
        return _incoming(message, user, chat_id, text, sender=origin_name(origin), origin=origin)
    if not text.strip():
        return Hint(
            chat_id=chat_id,
            text="Forward me a message (or paste one) and I'll draft replies. /help lists the rest.",
        )
    if text.startswith("/"):
        return _command(user, chat_id, text)
    replied = message.get("reply_to_message") or {}
    if (replied.get("from") or {}).get("id") == bot_id:
        edit = EDIT_REF.search(replied.get("text") or "")
        if edit is not None:
            return ActionInvocation(
                user=user,
                action=Action.EDIT,
                draft_id=edit.group("draft"),
                option=int(edit.group("option")) - 1,
                edited_text=text.strip(),
            )
    return _incoming(message, user, chat_id, text, sender="them", origin=None)


def _command(user: UserRef, chat_id: int, text: str) -> CommandInvocation | Hint:
    try:
        parsed = parse(text)
    except CommandError:
        parsed = None  # the core answers with the grammar's own message
    if parsed is not None and parsed.name == "train":
        # A path typed in chat names a file on the server, never the owner's: refuse it here.
        words = parsed.args
        if words and words[0] not in _TRAIN_WORDS and not all(w.startswith("--") for w in words):
            return Hint(
                chat_id=chat_id,
                text="Send me the export file itself as a document (Telegram result.json, "
                "WhatsApp .txt, Slack or Discord export, mail, X archive), or /train --sample.",
            )
        if not parsed.args:
            return Hint(
                chat_id=chat_id,
                text="Send me an export file as a document and I'll learn from it: Telegram "
                "Desktop's result.json, a WhatsApp .txt, a Slack or Discord export, mail "
                "(.mbox/.eml) or your X archive. Add the caption --me=Your Name if the export "
                "doesn't say who you are. /train --sample tries the built-in sample persona.",
            )
    return CommandInvocation(
        user=user,
        name="",
        text=text,
        conversation=private_conversation(chat_id),
        is_private=True,
        command_prefix="/",
    )


def _incoming(
    message: MessagePayload,
    user: UserRef,
    chat_id: int,
    text: str,
    *,
    sender: str,
    origin: dict[str, Any] | None,
) -> IncomingMessage:
    sent_at = _time(
        origin.get("date", message.get("date", 0)) if origin else message.get("date", 0)
    )
    is_direct = origin is None or origin.get("type") in ("user", "hidden_user")
    return IncomingMessage(
        owner=user,
        message=Message(
            id=f"{PRIVATE_PREFIX}{chat_id}:{message.get('message_id', 0)}",
            conversation=private_conversation(chat_id),
            thread=None,
            sender=sender,
            text=text.strip(),
            sent_at=sent_at,
        ),
        sender_name=sender,
        is_direct=is_direct,
        addressees=1 if is_direct else 2,
    )


def to_action(click: Click, *, codec: CallbackCodec, now: datetime) -> ActionInvocation:
    """Check a click's signed data and turn it into the owner's action.

    Raises:
        CallbackRefused: forged, altered, someone else's, or expired.
    """
    checked = codec.decode(click.data, user_id=click.user.user_id, now=now)
    return ActionInvocation(
        user=click.user, action=checked.action, draft_id=checked.draft_id, option=checked.option
    )
