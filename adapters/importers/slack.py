"""Slack workspace export: the zip (or the folder it extracts to).

Layout: ``users.json``, ``channels.json`` and optionally ``groups.json`` (private channels),
``mpims.json`` (group DMs) and ``dms.json``; one folder per conversation (the channel name, or the
DM id) of daily ``YYYY-MM-DD.json`` files, each a list of messages.

Mapping:

- ``id`` is ``<folder>:<ts>`` (the folder is the channel name, or the DM's id).
- ``conversation`` is the channel name; for DMs, the members' names joined with ``", "``.
- Threads: a message with ``thread_ts`` has ``thread = "<folder>:<thread_ts>"`` — the id of the
  thread's parent, qualified like ids so it is unique across channels — and a reply (``ts`` other
  than ``thread_ts``) has ``reply_to`` equal to that parent id. Top-level messages outside
  threads have neither.
- ``sender``: the user's ``display_name``, else ``real_name``, else ``name`` from ``users.json``
  (else the message's embedded profile, bot name, or the raw id). ``--me`` also matches the id
  and each of those names.
- Skipped: joins/leaves and other channel bookkeeping subtypes, and messages with no text (a file
  shared without a comment).
- Text: ``<@U123>`` → ``@name``, ``<#C123|general>`` → ``#general``, ``<!here>`` → ``@here``,
  ``<https://x|label>`` → ``label``, ``<https://x>`` → ``https://x``; ``&lt; &gt; &amp;`` unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from adapters.importers._common import (
    Container,
    ImportFormatError,
    Limits,
    Record,
    as_id,
    check_text,
    find_root,
    from_epoch,
    load_json,
    open_container,
)
from core.models import Message

SKIPPED_SUBTYPES = frozenset(
    {
        "channel_join", "channel_leave", "group_join", "group_leave", "channel_topic",
        "channel_purpose", "channel_name", "channel_archive", "channel_unarchive",
        "group_topic", "group_purpose", "group_name", "group_archive", "group_unarchive",
        "pinned_item", "unpinned_item", "tombstone", "bot_add", "bot_remove",
        "reminder_add", "sh_room_created", "huddle_thread",
    }
)  # fmt: skip
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_LINK = re.compile(r"<([^<>\n]{1,2000})>")


@dataclass(frozen=True, slots=True)
class _User:
    sender: str
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Conversation:
    folder: str
    label: str


class SlackReader:
    """Reads a Slack workspace export zip or extracted folder."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits

    def owner_hint(self) -> str | None:
        return None  # the export is of the workspace, not of one person

    def owner_keys(self) -> tuple[str, ...]:
        return ()

    def records(self) -> Iterator[Record]:
        box = open_container(self.path, self.limits)
        try:
            root = find_root(box.names, "users.json")
            if root is None or root + "channels.json" not in box.names:
                raise ImportFormatError(
                    f"{self.path}: not a Slack export (users.json and channels.json missing)"
                )
            users = self._users(box, root)
            days: dict[str, list[str]] = {}
            for name in box.names:
                if not name.startswith(root):
                    continue
                parts = PurePosixPath(name[len(root) :]).parts
                if len(parts) == 2 and _DAY.match(parts[1]):
                    days.setdefault(parts[0], []).append(name)
            for conversation in self._conversations(box, root, users):
                for name in sorted(days.get(conversation.folder, ())):
                    yield from self._day(box, name, conversation, users)
        finally:
            box.close()

    def _users(self, box: Container, root: str) -> dict[str, _User]:
        name = root + "users.json"
        where = box.where(name)
        data = load_json(box.read(name), where, self.limits)
        if not isinstance(data, list):
            raise ImportFormatError(f"{where}: expected a list of users")
        users: dict[str, _User] = {}
        for index, entry in enumerate(data, 1):
            if not isinstance(entry, dict) or as_id(entry.get("id")) is None:
                raise ImportFormatError(f"{where}: user {index} has no 'id'")
            profile = entry.get("profile") if isinstance(entry.get("profile"), dict) else {}
            assert isinstance(profile, dict)
            names = [
                _str(profile.get("display_name")),
                _str(profile.get("real_name")) or _str(entry.get("real_name")),
                _str(entry.get("name")),
            ]
            ident = str(as_id(entry["id"]))
            present = [n for n in names if n]
            users[ident] = _User(present[0] if present else ident, (ident, *present))
        return users

    def _conversations(
        self, box: Container, root: str, users: dict[str, _User]
    ) -> Iterator[_Conversation]:
        for listing in ("channels.json", "groups.json", "mpims.json", "dms.json"):
            name = root + listing
            if name not in box.names:
                continue
            where = box.where(name)
            data = load_json(box.read(name), where, self.limits)
            if not isinstance(data, list):
                raise ImportFormatError(f"{where}: expected a list of conversations")
            for index, entry in enumerate(data, 1):
                if not isinstance(entry, dict):
                    raise ImportFormatError(f"{where}: entry {index} is not an object")
                if listing == "dms.json":
                    folder = as_id(entry.get("id"))
                    members = entry.get("members")
                    names = [
                        users[m].sender if m in users else str(m)
                        for m in (members if isinstance(members, list) else [])
                        if isinstance(m, str)
                    ]
                    label = ", ".join(names) or folder
                else:
                    folder = _str(entry.get("name")) or as_id(entry.get("id"))
                    label = folder
                if folder is None or label is None or "/" in folder:
                    raise ImportFormatError(f"{where}: entry {index} has no usable name or id")
                yield _Conversation(folder, label)

    def _day(
        self, box: Container, name: str, conversation: _Conversation, users: dict[str, _User]
    ) -> Iterator[Record]:
        where = box.where(name)
        data = load_json(box.read(name), where, self.limits)
        if not isinstance(data, list):
            raise ImportFormatError(f"{where}: expected a list of messages")
        for index, raw in enumerate(data, 1):
            at = f"{where}: message {index}"
            if not isinstance(raw, dict):
                raise ImportFormatError(f"{at} is not an object")
            record = self._message(raw, at, conversation, users)
            if record is not None:
                yield record

    def _message(
        self, raw: dict[str, Any], at: str, conversation: _Conversation, users: dict[str, _User]
    ) -> Record | None:
        if raw.get("type", "message") != "message" or raw.get("subtype") in SKIPPED_SUBTYPES:
            return None
        ts = raw.get("ts")
        if not isinstance(ts, str) or not ts.strip():
            raise ImportFormatError(f"{at} has no 'ts'")
        sent_at = from_epoch(ts, at)
        text = raw.get("text", "")
        if not isinstance(text, str):
            raise ImportFormatError(f"{at}: 'text' is not a string")
        text = check_text(_resolve(text, users), at, self.limits)
        if not text.strip():
            return None
        user_id = as_id(raw.get("user")) or as_id(raw.get("bot_id"))
        user = users.get(user_id) if user_id else None
        if user is not None:
            sender, aliases = user.sender, user.aliases
        else:
            embedded = raw.get("user_profile")
            profile = embedded if isinstance(embedded, dict) else {}
            fallback = [
                _str(profile.get("display_name")),
                _str(profile.get("real_name")),
                _str(raw.get("username")),
                user_id,
            ]
            present = [n for n in fallback if n]
            if not present:
                raise ImportFormatError(f"{at} has no 'user'")
            sender, aliases = present[0], tuple(present)
        folder = conversation.folder
        thread_ts = raw.get("thread_ts")
        thread = reply_to = None
        if isinstance(thread_ts, str) and thread_ts.strip():
            thread = f"{folder}:{thread_ts.strip()}"
            if thread_ts.strip() != ts.strip():
                reply_to = thread
        message = Message(
            id=f"{folder}:{ts.strip()}",
            conversation=conversation.label,
            thread=thread,
            sender=sender,
            text=text,
            sent_at=sent_at,
            reply_to=reply_to,
        )
        return message, aliases


def _str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _resolve(text: str, users: dict[str, _User]) -> str:
    def link(match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            user = users.get(target[1:])
            return "@" + (user.sender if user else label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            if label:
                return label if label.startswith("@") else "@" + label
            return "@" + target[1:].split("^")[0]
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        return label or target

    resolved = _LINK.sub(link, text)
    return resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
