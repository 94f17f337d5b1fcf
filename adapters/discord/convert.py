"""Discord payloads → core models. Pure: no I/O, no discord.py objects, tested from recorded JSON.

The adapter hands over the raw dicts Discord sent (``interaction.data``, the resolved target
message of a message command, the fields of a DM); everything that decides *what* an event means
lives here, so it can be read and tested without a gateway.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypedDict

from core.models import (
    Action,
    ActionInvocation,
    Attachment,
    CommandInvocation,
    IncomingMessage,
    Message,
    UserRef,
)

PLATFORM = "discord"
COMMAND_PREFIX = "/clone "
SendMode = Literal["post", "copy"]
SEND_MODES: tuple[SendMode, ...] = ("post", "copy")
SEND_MODE_SETTING = "discord_send_mode"
"""Account setting: ``{guild_id: "post" | "copy"}``, the owner's choice per server."""

# custom_id of a draft button: ``minime:<action>:<draft id>:<option>`` (≤ 100 characters).
ACTION_ID = re.compile(
    r"^minime:(?P<action>send|edit|regenerate|dismiss|important|not_important|draft|publish|schedule):(?P<draft>[0-9A-Za-z_-]{1,64}):(?P<option>\d{1,2})$"
)
# custom_id of the Edit modal: ``minime-edit:<draft id>:<option>``.
EDIT_ID = re.compile(r"^minime-edit:(?P<draft>[0-9A-Za-z_-]{1,64}):(?P<option>\d{1,2})$")
EDIT_FIELD = "text"


# ----------------------------------------------------------------- raw payloads (the subset we read)


class UserPayload(TypedDict):
    id: str
    username: str
    global_name: NotRequired[str | None]
    bot: NotRequired[bool]


class AttachmentPayload(TypedDict):
    id: str
    filename: str
    size: int
    url: str
    content_type: NotRequired[str]


class MessagePayload(TypedDict):
    id: str
    channel_id: str
    content: str
    timestamp: str
    author: UserPayload
    guild_id: NotRequired[str]
    mentions: NotRequired[list[UserPayload]]
    mention_everyone: NotRequired[bool]
    message_reference: NotRequired[dict[str, Any]]
    referenced_message: NotRequired[dict[str, Any] | None]
    """The message this one replies to, when Discord resolved it."""
    attachments: NotRequired[list[AttachmentPayload]]


class OptionPayload(TypedDict):
    name: str
    type: int
    value: NotRequired[str | int | float | bool]
    options: NotRequired[list[OptionPayload]]


class ResolvedPayload(TypedDict, total=False):
    attachments: dict[str, AttachmentPayload]
    messages: dict[str, MessagePayload]


class CommandDataPayload(TypedDict):
    """``interaction.data`` of an application command (chat input or message context menu)."""

    id: str
    name: str
    type: int
    options: NotRequired[list[OptionPayload]]
    resolved: NotRequired[ResolvedPayload]
    target_id: NotRequired[str]
    guild_id: NotRequired[str]


class ComponentDataPayload(TypedDict):
    custom_id: str
    component_type: int


class ModalDataPayload(TypedDict):
    custom_id: str
    components: list[dict[str, Any]]


_SUBCOMMAND = 1
_ATTACHMENT = 11


def user_ref(user_id: int | str) -> UserRef:
    """The owner identity of a Discord user: the invoking user is always the owner."""
    return UserRef(platform=PLATFORM, user_id=str(user_id))


def _parse_time(raw: str | None) -> datetime:
    if not raw:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ----------------------------------------------------------------- slash commands


def subcommand(data: CommandDataPayload) -> tuple[str, dict[str, str | int | float | bool]]:
    """The ``/clone`` subcommand name and its option values (attachments by id)."""
    for option in data.get("options", []):
        if option["type"] == _SUBCOMMAND:
            values = {
                inner["name"]: inner["value"]
                for inner in option.get("options", [])
                if "value" in inner
            }
            return option["name"], values
    return "help", {}


def uploads(data: CommandDataPayload) -> list[AttachmentPayload]:
    """Files attached to the command (``/clone train file:``), from the resolved data."""
    resolved = data.get("resolved", {}).get("attachments", {})
    found: list[AttachmentPayload] = []
    for option in data.get("options", []):
        for inner in option.get("options", []):
            if inner["type"] == _ATTACHMENT and str(inner.get("value")) in resolved:
                found.append(resolved[str(inner.get("value"))])
    return found


def command_text(name: str, values: Mapping[str, str | int | float | bool]) -> str:
    """The argument text of the shared grammar for a subcommand's options.

    ``/clone persona action:new name:work`` becomes ``new work``; the core parser does the rest.
    """

    def value(key: str) -> str:
        raw = values.get(key)
        return "" if raw is None or raw is False else str(raw).strip()

    if name == "train":
        words = []
        source = value("source")
        if source:
            words.append("--sample" if source == "sample" else source)
        if value("me"):
            words.append(f"--me={shlex.quote(value('me'))}")  # one shell word, spaces and all
        return " ".join(words)
    if name == "persona":
        return f"{value('action') or 'list'} {value('name')}".strip()
    if name == "post":
        words = [value("platform"), value("topic")]
        for option in ("parts", "persona", "at", "variants"):
            if value(option):
                words.append(f"--{option} {shlex.quote(value(option))}")
        return " ".join(w for w in words if w)
    if name == "posts":
        return value("query")
    if name == "connect":
        return f"{value('network')} {value('credentials')}".strip()
    if name == "disconnect":
        return value("network")
    if name == "privacy":
        confirm = " confirm" if values.get("confirm") is True else ""
        return f"{value('action')}{confirm}".strip()
    if name == "draft":
        return value("message")
    if name == "ask":
        return value("question")
    if name == "digest":
        return value("time")
    if name == "onboard":
        return value("answer")
    if name == "link":
        return value("code")
    if name == "profile":
        if values.get("statement") is None:
            return ""
        return f"correct {value('statement')} {value('correction')}".strip()
    if name == "inbox":
        return value("conversation")
    if name == "filter":
        action = value("action") or "list"
        if action == "add":
            flag = " --flag" if values.get("flag") is True else ""
            return f"add {value('kind')} {shlex.quote(value('pattern'))}{flag}".strip()
        return f"{action} {value('number')}".strip()
    if name == "models":
        return f"{value('action') or 'list'} {value('persona')}".strip()
    if name == "quality":
        history = "history " if values.get("history") is True else ""
        return f"{history}{value('persona')}".strip()
    return ""


def to_command(
    data: CommandDataPayload,
    *,
    user: UserRef,
    channel_id: str | None,
    guild_id: str | None,
    attachments: tuple[Attachment, ...] = (),
) -> CommandInvocation:
    """A ``/clone <sub>`` interaction as a command of the shared grammar.

    Only a DM with the bot counts as private: ``privacy export/erase`` are refused elsewhere
    even though the answer would be ephemeral, because an ephemeral file is still a public link.
    """
    name, values = subcommand(data)
    return CommandInvocation(
        user=user,
        name=name,
        text=command_text(name, values),
        attachments=attachments,
        conversation=channel_id,
        is_private=guild_id is None,
        command_prefix=COMMAND_PREFIX,
        place=guild_id,  # `persona use <name> here` binds a persona to the whole server
    )


# ----------------------------------------------------------------- messages


def target_message(data: CommandDataPayload) -> MessagePayload | None:
    """The message a "Draft reply" context-menu command was used on."""
    target = data.get("target_id")
    if target is None:
        return None
    return data.get("resolved", {}).get("messages", {}).get(target)


def sender_name(author: UserPayload) -> str:
    return author.get("global_name") or author["username"]


def to_incoming(
    message: MessagePayload, *, owner: UserRef, guild_id: str | None
) -> IncomingMessage | None:
    """A Discord message the owner wants a reply to; ``None`` if it has no text to answer."""
    text = message.get("content", "").strip()
    if not text:
        return None
    author = message["author"]
    mentions = message.get("mentions", [])
    reference = message.get("message_reference") or {}
    earlier = message.get("referenced_message") or {}
    context: tuple[Message, ...] = ()
    if str(earlier.get("content") or "").strip() and earlier.get("author"):
        context = (
            Message(
                id=str(earlier["id"]),
                conversation=str(earlier.get("channel_id") or message["channel_id"]),
                thread=None,
                sender=sender_name(earlier["author"]),
                text=str(earlier["content"]).strip(),
                sent_at=_parse_time(earlier.get("timestamp")),
            ),
        )
    return IncomingMessage(
        owner=owner,
        message=Message(
            id=message["id"],
            conversation=message["channel_id"],
            thread=None,
            sender=sender_name(author),
            text=text,
            sent_at=_parse_time(message.get("timestamp")),
            reply_to=reference.get("message_id"),
        ),
        sender_name=sender_name(author),
        is_direct=guild_id is None and message.get("guild_id") is None,
        mentions_owner=any(m["id"] == owner.user_id for m in mentions),
        addressees=max(1, len(mentions)),
        context=context,
        place=guild_id or message.get("guild_id"),
    )


def dm_to_input(
    message: MessagePayload, *, bot_id: str
) -> CommandInvocation | IncomingMessage | None:
    """A DM to the bot, the private console: a command, or a message to draft a reply to.

    ``/clone draft hi``, ``/draft hi``, ``clone draft hi`` and ``help`` are commands; anything
    else is treated as a pasted message. The bot's own messages and other bots are ignored.
    """
    author = message["author"]
    if author["id"] == bot_id or author.get("bot"):
        return None
    text = message.get("content", "").strip()
    if not text:
        return None
    user = user_ref(author["id"])
    lowered = text.lower()
    if text.startswith("/") or lowered.startswith("clone ") or lowered in ("clone", "help"):
        return CommandInvocation(
            user=user,
            name="",
            text=text,
            conversation=message["channel_id"],
            is_private=True,
            command_prefix=COMMAND_PREFIX,
        )
    # A pasted message is "from them"; its Discord id must not collide with a real one.
    pasted = MessagePayload(
        id=f"dm:{message['id']}",
        channel_id=message["channel_id"],
        content=text,
        timestamp=message["timestamp"],
        author=UserPayload(id="pasted", username="them"),
    )
    return to_incoming(pasted, owner=user, guild_id=None)


# ----------------------------------------------------------------- buttons and the Edit modal


def to_action(
    custom_id: str, *, user: UserRef, edited_text: str | None = None
) -> ActionInvocation | None:
    """A press on a draft button (or a submitted Edit modal) as the presser's action.

    The presser, not the draft's owner, is the acting user: the core refuses anyone else.
    """
    match = ACTION_ID.match(custom_id)
    if match is not None:
        return ActionInvocation(
            user=user,
            action=Action(match["action"]),
            draft_id=match["draft"],
            option=int(match["option"]),
        )
    match = EDIT_ID.match(custom_id)
    if match is not None:
        return ActionInvocation(
            user=user,
            action=Action.EDIT,
            draft_id=match["draft"],
            option=int(match["option"]),
            edited_text=edited_text,
        )
    return None


def modal_text(data: ModalDataPayload) -> str | None:
    """The text typed into the Edit modal (action rows or the newer label components)."""
    stack: list[Any] = list(data.get("components", []))
    while stack:
        component = stack.pop(0)
        if not isinstance(component, dict):
            continue
        if component.get("custom_id") == EDIT_FIELD and "value" in component:
            value = str(component["value"]).strip()
            return value or None
        stack.extend(component.get("components", []))
        if "component" in component:
            stack.append(component["component"])
    return None


# ----------------------------------------------------------------- the per-server send choice


def send_mode(settings: Mapping[str, object], guild_id: str | None) -> SendMode | None:
    """The owner's choice for a server; DMs and unknown servers have none."""
    if guild_id is None:
        return None
    modes = settings.get(SEND_MODE_SETTING)
    if not isinstance(modes, Mapping):
        return None
    mode = modes.get(guild_id)
    return mode if mode in SEND_MODES else None


def with_send_mode(
    settings: Mapping[str, object], guild_id: str, mode: SendMode
) -> dict[str, object]:
    """A copy of the account settings with ``mode`` chosen for ``guild_id``."""
    modes = settings.get(SEND_MODE_SETTING)
    chosen = dict(modes) if isinstance(modes, Mapping) else {}
    chosen[guild_id] = mode
    return {**settings, SEND_MODE_SETTING: chosen}


def is_snowflake(value: str | None) -> bool:
    return value is not None and value.isdigit() and 15 <= len(value) <= 21
