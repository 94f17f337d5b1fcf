"""Slack payloads → core models. Pure: no I/O, no SDK objects, only dicts in and models out.

Who the owner is, on each path:

- ``/clone …``, the message shortcut, buttons and the edit modal: the Slack user who typed or
  clicked. Every Slack user gets their own clone (``UserRef("slack", <user id>)``), and a click
  acts only on drafts of that user's account, so a click by anyone else is refused by the core.
- a direct message to the app (``message.im``): the human in that DM. The DM is the owner's private
  line to their clone: a line that starts with a command word is a command, anything else is a
  message the owner pasted or forwarded, drafted explicitly.
- ``app_mention`` (someone writes ``@minime …`` in a channel) and, with the owner's opt-in, any
  message in the owner's channels: the configured owner (``MINIME_SLACK__OWNER_ID``, by default
  the user of the owner's user token) — the person who installed the app. Their own messages are
  not triaged.

Events to ignore come out as ``None``: messages from bots (this app's included), edits, deletions,
joins and other subtypes.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict

from core.commands import SPECS, CommandError, option, parse
from core.models import (
    Action,
    ActionInvocation,
    CommandInvocation,
    IncomingMessage,
    Message,
    UserRef,
)

PLATFORM = "slack"
COMMAND = "/clone"
SHORTCUT_CALLBACK = "minime_draft"
EDIT_CALLBACK = "minime_edit"
EDIT_BLOCK = "edit"
EDIT_INPUT = "text"
ACTION_PREFIX = "minime_"
ACTION_PATTERN = re.compile(
    r"^minime_(send|edit|regenerate|dismiss|important|not_important|draft|publish|schedule)(?:_\d+)?$"
)
COMMAND_ACTION = "minime_cmd"
"""App Home buttons that run a command of the grammar (``value`` is the command text)."""

# Message subtypes that are people writing something new; everything else (edits, deletions,
# joins, topic changes, bot messages) is ignored.
_PLAIN_SUBTYPES = frozenset({None, "", "thread_broadcast", "file_share"})
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class SlashCommandPayload(TypedDict):
    """The form fields of a slash command request (the ones we read)."""

    user_id: str
    channel_id: str
    text: str
    command: NotRequired[str]
    channel_name: NotRequired[str]
    response_url: NotRequired[str]
    trigger_id: NotRequired[str]


class MessageEvent(TypedDict, total=False):
    """A ``message`` or ``app_mention`` event (the fields we read)."""

    type: str
    subtype: str
    user: str
    bot_id: str
    text: str
    ts: str
    thread_ts: str
    channel: str
    channel_type: str
    files: list[dict[str, Any]]


Payload = dict[str, Any]


# ----------------------------------------------------------------- small helpers


def slack_time(ts: str | None) -> datetime:
    """A Slack ``ts`` (``"1700000000.123456"``) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(ts or 0), UTC)
    except (TypeError, ValueError, OverflowError, OSError):  # OSError: EOVERFLOW on Linux
        return datetime.fromtimestamp(0, UTC)


def user_ref(user_id: str) -> UserRef:
    return UserRef(platform=PLATFORM, user_id=user_id)


def is_user_id(text: str) -> bool:
    """Whether ``text`` is a Slack user id (``U…``/``W…``), e.g. a message's sender."""
    return bool(_USER_ID.match(text))


def strip_mentions(text: str, user_ids: tuple[str, ...]) -> str:
    """The text without ``<@id>`` mentions of the given users (the app's own mention)."""

    def drop(match: re.Match[str]) -> str:
        return "" if match.group(1) in user_ids else match.group(0)

    return " ".join(_MENTION.sub(drop, text).split())


def encode_value(draft_id: str, option: int) -> str:
    """A button's ``value``: ``draft_id:option``."""
    return f"{draft_id}:{option}"


def decode_value(value: str | None) -> tuple[str, int] | None:
    """``draft_id:option`` back to its parts; ``None`` for anything malformed."""
    if not value:
        return None
    draft_id, sep, option = value.rpartition(":")
    if not sep or not draft_id or not option.isdigit() or len(value) > 200:
        return None
    return draft_id, int(option)


def me_hint(text: str) -> str | None:
    """``--me "Sam Rivera"`` in a file's comment: which sender of the export is the owner."""
    return option(text or "", "--me")


def is_command_text(text: str) -> bool:
    """Whether a DM line is a command (its first word is ``clone`` or a command of the grammar)."""
    head = text.strip().lstrip("/").split(maxsplit=1)
    if not head:
        return False
    word = head[0].lower()
    if word != "clone" and word not in SPECS:
        return False
    try:
        parse(text)
    except CommandError:
        return word == "clone"
    return True


def is_help(text: str) -> bool:
    """Whether ``/clone <text>`` asks for help (rendered as a formatted message by the adapter)."""
    try:
        return parse(text).name == "help"
    except CommandError:
        return False


# ----------------------------------------------------------------- de-duplication keys


def delivery_key(body: Payload) -> str | None:
    """What makes one delivery unique, so a retried one is recognised.

    Events: their ``event_id`` (the same on every retry, in HTTP and Socket Mode). Clicks: the
    clicking user, the button and its ``action_ts``. Slash commands, shortcuts and modal
    submissions: their ``trigger_id`` (or the view id). ``None`` when nothing identifies it.
    """
    kind = body.get("type")
    if kind == "event_callback" and body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        first = actions[0] if isinstance(actions[0], dict) else {}
        user = (body.get("user") or {}).get("id", "")
        stamp = first.get("action_ts")
        if stamp:
            return (
                f"slack:action:{user}:{first.get('action_id', '')}:{first.get('value', '')}:{stamp}"
            )
        return None
    if kind == "view_submission":
        view = body.get("view") or {}
        if view.get("id"):
            return f"slack:view:{view['id']}:{view.get('hash', '')}"
        return None
    if body.get("command") and body.get("trigger_id"):
        return f"slack:command:{body['trigger_id']}"
    if kind in ("message_action", "shortcut") and body.get("trigger_id"):
        return f"slack:shortcut:{body['trigger_id']}"
    return None


# ----------------------------------------------------------------- commands


def to_command(payload: SlashCommandPayload) -> CommandInvocation:
    """``/clone draft hi`` → ``CommandInvocation(name="", text="draft hi")`` (parsed by the core)."""
    channel = payload.get("channel_id", "")
    private = channel.startswith("D") or payload.get("channel_name") == "directmessage"
    return CommandInvocation(
        user=user_ref(payload["user_id"]),
        name="",
        text=(payload.get("text") or "").strip() or "help",
        conversation=channel or None,
        is_private=private,
        command_prefix=f"{COMMAND} ",
    )


def to_dm_command(event: MessageEvent) -> CommandInvocation:
    """A command typed in the app's DM (``help``, ``clone draft …``, ``/clone profile``)."""
    return CommandInvocation(
        user=user_ref(event.get("user", "")),
        name="",
        text=(event.get("text") or "").strip(),
        conversation=event.get("channel"),
        is_private=True,
        command_prefix=f"{COMMAND} ",
    )


# ----------------------------------------------------------------- messages


def _is_person_message(event: MessageEvent, bot_user_id: str | None) -> bool:
    if event.get("bot_id") or event.get("subtype") not in _PLAIN_SUBTYPES:
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id


def _message(event: MessageEvent, *, text: str, in_thread: bool) -> Message:
    ts = event.get("ts", "")
    channel = event.get("channel", "")
    # In channels the reply belongs in the message's thread; in a DM only if it already is one.
    thread = event.get("thread_ts") or (ts if in_thread else None)
    return Message(
        id=f"slack:{channel}:{ts}",
        conversation=channel,
        thread=thread,
        sender=event.get("user", "them"),
        text=text,
        sent_at=slack_time(ts),
        reply_to=None,
    )


def to_dm_incoming(event: MessageEvent, *, bot_user_id: str | None) -> IncomingMessage | None:
    """A message the owner pasted into the app's DM, to draft a reply to (``None``: ignore)."""
    if event.get("channel_type") not in (None, "im") or not _is_person_message(event, bot_user_id):
        return None
    text = (event.get("text") or "").strip()
    if not text or event.get("files"):
        return None
    owner = event.get("user", "")
    # The owner pasted someone else's words: the sender is unknown ("them").
    message = replace(_message(event, text=text, in_thread=False), sender="them")
    return IncomingMessage(
        owner=user_ref(owner), message=message, sender_name="them", is_direct=True
    )


def to_mention_incoming(
    event: MessageEvent, *, owner_id: str, bot_user_id: str | None
) -> IncomingMessage | None:
    """``@minime …`` in a channel: a message addressed to the owner, to triage (``None``: ignore)."""
    if not _is_person_message(event, bot_user_id) or event.get("user") == owner_id:
        return None
    ids = (bot_user_id,) if bot_user_id else ()
    text = strip_mentions(event.get("text") or "", ids)
    if not text:
        return None
    mentions = {m.group(1) for m in _MENTION.finditer(event.get("text") or "")}
    return IncomingMessage(
        owner=user_ref(owner_id),
        message=_message(event, text=text, in_thread=True),
        sender_name=event.get("user", "them"),
        is_direct=False,
        mentions_owner=True,
        addressees=max(1, len(mentions - set(ids))),
    )


def to_channel_incoming(
    event: MessageEvent, *, owner_id: str, bot_user_id: str | None
) -> IncomingMessage | None:
    """A message in one of the owner's channels (opt-in triage with the owner's user token)."""
    if event.get("channel_type") not in ("channel", "group", "mpim"):
        return None
    if not _is_person_message(event, bot_user_id) or event.get("user") == owner_id:
        return None
    text = (event.get("text") or "").strip()
    if not text:
        return None
    mentioned = {m.group(1) for m in _MENTION.finditer(text)}
    return IncomingMessage(
        owner=user_ref(owner_id),
        message=_message(event, text=text, in_thread=True),
        sender_name=event.get("user", "them"),
        is_direct=event.get("channel_type") == "mpim",
        mentions_owner=owner_id in mentioned,
        addressees=max(1, len(mentioned)) if mentioned else 5,
    )


def shared_files(event: MessageEvent, *, bot_user_id: str | None) -> list[str]:
    """Ids of the files a person shared in the app's DM (exports to train on)."""
    if event.get("channel_type") not in (None, "im") or not _is_person_message(event, bot_user_id):
        return []
    return [str(f["id"]) for f in event.get("files") or () if isinstance(f, dict) and f.get("id")]


def to_shortcut_incoming(payload: Payload) -> IncomingMessage | None:
    """The message shortcut "Draft a reply with my clone": the clicker is the owner."""
    user = (payload.get("user") or {}).get("id")
    channel = (payload.get("channel") or {}).get("id", "")
    message = payload.get("message") or {}
    text = (message.get("text") or "").strip()
    if not user or not channel or not text:
        return None
    event: MessageEvent = {
        "ts": message.get("ts") or payload.get("message_ts", ""),
        "channel": channel,
        "user": message.get("user") or message.get("bot_id") or "them",
        "text": text,
    }
    if message.get("thread_ts"):
        event["thread_ts"] = message["thread_ts"]
    in_channel = not channel.startswith("D")
    return IncomingMessage(
        owner=user_ref(user),
        message=_message(event, text=text, in_thread=in_channel),
        sender_name=event["user"],
        is_direct=not in_channel,
        mentions_owner=f"<@{user}>" in text,
    )


# ----------------------------------------------------------------- clicks and the edit modal


def to_action(payload: Payload) -> ActionInvocation | None:
    """A click on Send · Edit · Regenerate · Dismiss, by whoever clicked (``None``: not ours)."""
    user = (payload.get("user") or {}).get("id")
    actions = payload.get("actions") or []
    if not user or not actions or not isinstance(actions[0], dict):
        return None
    match = ACTION_PATTERN.match(str(actions[0].get("action_id", "")))
    decoded = decode_value(actions[0].get("value"))
    if match is None or decoded is None:
        return None
    draft_id, option = decoded
    return ActionInvocation(
        user=user_ref(user), action=Action(match.group(1)), draft_id=draft_id, option=option
    )


def edit_metadata(
    draft_id: str, option: int, *, response_url: str | None, channel: str | None
) -> str:
    """The modal's ``private_metadata``: which draft it edits and where to report (< 3000 chars)."""
    data = {"d": draft_id, "o": option, "r": response_url or "", "c": channel or ""}
    return json.dumps(data, separators=(",", ":"))


def to_edit_submission(payload: Payload) -> tuple[ActionInvocation, str | None, str | None] | None:
    """A submitted edit modal → ``ActionInvocation(EDIT, edited_text=…)``, response_url, channel."""
    user = (payload.get("user") or {}).get("id")
    view = payload.get("view") or {}
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        draft_id, option = str(meta["d"]), int(meta.get("o", 0))
    except (ValueError, KeyError, TypeError):
        return None
    values = ((view.get("state") or {}).get("values") or {}).get(EDIT_BLOCK) or {}
    text = ((values.get(EDIT_INPUT) or {}).get("value") or "").strip()
    if not user or not draft_id:
        return None
    action = ActionInvocation(
        user=user_ref(user), action=Action.EDIT, draft_id=draft_id, option=option, edited_text=text
    )
    return action, meta.get("r") or None, meta.get("c") or None


def home_command(payload: Payload) -> CommandInvocation | None:
    """An App Home button that runs a command (``train on``, ``privacy pause``)."""
    user = (payload.get("user") or {}).get("id")
    actions = payload.get("actions") or []
    if (
        not user
        or not actions
        or not str(actions[0].get("action_id", "")).startswith(COMMAND_ACTION)
    ):
        return None
    text = str(actions[0].get("value") or "")
    return CommandInvocation(
        user=user_ref(user), name="", text=text, is_private=True, command_prefix=f"{COMMAND} "
    )
