"""Telegram Desktop export (``result.json``; also the folder or a zip holding it).

Both shapes are read, streamed message by message:

- a single chat export: ``{"name", "type", "id", "messages": [...]}``;
- a full account export: ``{"personal_information": {...}, "chats": {"list": [chat, ...]},
  "left_chats": {"list": [...]}}``, each chat shaped like a single chat export.

Mapping:

- ``id`` is ``<chat id>:<message id>``; ``reply_to`` is ``<chat id>:<reply_to_message_id>``
  (a reply to another chat's message, ``reply_to_peer_id``, has none); ``thread`` is ``None``.
- ``conversation`` is the chat's name (``Saved Messages`` when it has none).
- ``sender`` is ``from`` (the display name as the exporting account saw it), else ``from_id``;
  an account that was renamed keeps the first name seen for its ``from_id``, so one person is one
  sender. ``--me`` also matches ``from_id`` (``user123``), the bare number and every name seen.
- ``text`` is a string or a list of strings and entities (``{"type", "text"}``), joined.
- ``sent_at`` is ``date_unixtime`` when present (exact); else ``date``, which Telegram writes in
  the exporting machine's local time with no zone, taken as UTC.
- Skipped: service messages (joins, pins, calls…) and messages without text (media only).
- Owner hint: in a full export, ``personal_information`` (first name + last name), matched to the
  sender of the messages whose ``from_id`` is the account's id. In a single personal chat export
  with two senders, the one who is not the chat's name (the chat is named after the other side).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from adapters.importers._common import (
    ImportFormatError,
    Limits,
    Record,
    as_id,
    check_text,
    find_root,
    from_epoch,
    is_container,
    open_container,
    open_file,
    parse_iso,
    walk_json,
)
from core.models import Message

_PEER = re.compile(r"^(?:user|channel|chat|bot)(\d+)$")
_CHATS = ("chats.list.item", "left_chats.list.item")
_ITEMS = frozenset({"messages.item", *(c + ".messages.item" for c in _CHATS)})
_STARTS = frozenset(_CHATS)
_PERSONAL = "personal_information."
_SCALARS = frozenset(
    {"name", "type", "id"}
    | {f"{c}.{k}" for c in _CHATS for k in ("name", "type", "id")}
    | {_PERSONAL + k for k in ("user_id", "first_name", "last_name", "username")}
)


@dataclass(slots=True)
class _Chat:
    name: str | None = None
    type: str | None = None
    id: str | None = None

    @property
    def key(self) -> str:
        return self.id or self.name or "chat"

    @property
    def label(self) -> str:
        return self.name or ("Saved Messages" if self.type == "saved_messages" else self.key)


@dataclass(slots=True)
class _Owner:
    fields: dict[str, str] = field(default_factory=dict)


class TelegramReader:
    """Reads a Telegram Desktop ``result.json`` (single chat or full account export)."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self._owner: _Owner | None = None
        self._hint_cache: tuple[str | None] | None = None

    def owner_keys(self) -> tuple[str, ...]:
        owner = self._personal()
        user_id = owner.fields.get("user_id")
        keys = [f"user{user_id}", user_id] if user_id else []
        if owner.fields.get("username"):
            keys.append(owner.fields["username"])
        return tuple(k for k in keys if k)

    def owner_hint(self) -> str | None:
        if self._hint_cache is None:
            self._hint_cache = (self._compute_hint(),)
        return self._hint_cache[0]

    def _compute_hint(self) -> str | None:
        owner = self._personal()
        if owner.fields:
            user_id = owner.fields.get("user_id")
            if user_id:
                for message, aliases in self.records():
                    if f"user{user_id}" in aliases:
                        return message.sender
            name = " ".join(
                owner.fields[k] for k in ("first_name", "last_name") if owner.fields.get(k)
            )
            return name or owner.fields.get("username") or None
        chat = _Chat()
        senders: set[str] = set()
        with self._stream() as (stream, where):
            for kind, prefix, value in walk_json(
                stream, where, self.limits, items=_ITEMS, scalars=frozenset({"name", "type"})
            ):
                if kind == "scalar":
                    setattr(chat, prefix, str(value))
                elif kind == "item" and isinstance(value, dict) and value.get("type") == "message":
                    sender = value.get("from") or value.get("from_id")
                    if isinstance(sender, str):
                        senders.add(sender)
                if len(senders) > 2:
                    return None
        if chat.type == "personal_chat" and chat.name in senders and len(senders) == 2:
            (other,) = senders - {chat.name}
            return other
        return None

    def _personal(self) -> _Owner:
        if self._owner is None:
            owner = _Owner()
            with self._stream() as (stream, where):
                for kind, prefix, value in walk_json(
                    stream, where, self.limits, items=_ITEMS, starts=_STARTS, scalars=_SCALARS
                ):
                    if kind == "scalar" and prefix.startswith(_PERSONAL):
                        text = as_id(value) if not isinstance(value, str) else value.strip()
                        if text:
                            owner.fields[prefix[len(_PERSONAL) :]] = text
                    elif kind != "scalar":
                        break
            self._owner = owner
        return self._owner

    @contextmanager
    def _stream(self) -> Iterator[tuple[IO[bytes], str]]:
        if not is_container(self.path):
            with open_file(self.path) as stream:
                yield stream, str(self.path)
            return
        box = open_container(self.path, self.limits)
        try:
            root = find_root(box.names, "result.json")
            if root is None:
                raise ImportFormatError(f"{self.path}: no result.json inside")
            with box.open(root + "result.json") as stream:
                yield stream, box.where(root + "result.json")
        finally:
            box.close()

    def records(self) -> Iterator[Record]:
        owner = self._personal().fields
        owner_id = f"user{owner['user_id']}" if owner.get("user_id") else None
        full_name = " ".join(owner[k] for k in ("first_name", "last_name") if owner.get(k))
        username = owner.get("username", "")
        owner_names = tuple(n for n in (full_name, username, username.lstrip("@")) if n)
        chat = _Chat()
        names: dict[str, str] = {}
        shape_seen = False
        with self._stream() as (stream, where):
            for kind, prefix, value in walk_json(
                stream, where, self.limits, items=_ITEMS, starts=_STARTS, scalars=_SCALARS
            ):
                if kind == "start":
                    chat = _Chat()
                    shape_seen = True
                elif kind == "scalar":
                    key = prefix.rsplit(".", 1)[-1]
                    if prefix in ("name", "type", "id") or prefix.startswith(_CHATS):
                        text = value if isinstance(value, str) else as_id(value)
                        setattr(chat, key, text)
                        shape_seen = True
                    elif prefix.startswith(_PERSONAL):
                        shape_seen = True
                else:
                    shape_seen = True
                    record = self._message(value, where, chat, names)
                    if record is not None and owner_id is not None and owner_id in record[1]:
                        record = (record[0], record[1] + owner_names)
                    if record is not None:
                        yield record
        if not shape_seen:
            raise ImportFormatError(
                f"{self.path}: not a Telegram export (no messages, chats or personal_information)"
            )

    def _message(self, raw: Any, where: str, chat: _Chat, names: dict[str, str]) -> Record | None:
        if not isinstance(raw, dict):
            raise ImportFormatError(f"{where}: a message in chat {chat.label!r} is not an object")
        ident = as_id(raw.get("id"))
        at = f"{where}: message {ident or '?'} in chat {chat.label!r}"
        if ident is None:
            raise ImportFormatError(f"{at} has no 'id'")
        if raw.get("type", "message") != "message":
            return None
        text = check_text(_text(raw.get("text", ""), at), at, self.limits)
        if not text.strip():
            return None
        if raw.get("date_unixtime") is not None:
            sent_at = from_epoch(raw["date_unixtime"], at)
        else:
            sent_at = parse_iso(raw.get("date"), at, "date")
        name = raw.get("from")
        from_id = as_id(raw.get("from_id"))
        sender = name.strip() if isinstance(name, str) and name.strip() else from_id
        if sender is None:
            raise ImportFormatError(f"{at} has neither 'from' nor 'from_id'")
        aliases: tuple[str, ...] = ()
        if from_id:
            number = _PEER.match(from_id)
            aliases = (from_id, number.group(1)) if number else (from_id,)
            aliases += (sender,)
            sender = names.setdefault(from_id, sender)  # one name per account, renames or not
        reply = as_id(raw.get("reply_to_message_id"))
        reply_to = f"{chat.key}:{reply}" if reply and "reply_to_peer_id" not in raw else None
        return Message(
            id=f"{chat.key}:{ident}",
            conversation=chat.label,
            thread=None,
            sender=sender,
            text=text,
            sent_at=sent_at,
            reply_to=reply_to,
        ), aliases


def _text(value: object, at: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text", ""), str):
                parts.append(part.get("text", ""))
            else:
                raise ImportFormatError(f"{at}: a text entity is neither a string nor an object")
        return "".join(parts)
    raise ImportFormatError(f"{at}: 'text' is neither a string nor a list")
