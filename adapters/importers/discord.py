"""DiscordChatExporter JSON: ``{"guild", "channel", "messages": [...]}``, streamed; one file, or
a folder or zip of them (one per channel).

Mapping:

- ``id`` is the message's snowflake (unique across Discord); ``reply_to`` is
  ``reference.messageId`` on replies; ``thread`` is ``None`` (threads export as their own channel).
- ``conversation`` is the channel's name (``channel.name``), else its id.
- ``sender`` is ``author.name`` (the user name, stable across servers); a user renamed during the
  export keeps the first name seen for their ``author.id``. ``--me`` also matches ``author.id``,
  ``author.nickname`` and every name seen.
- ``sent_at`` is ``timestamp`` (ISO 8601 with offset).
- Only ``Default`` and ``Reply`` messages are kept (pins, joins, calls, thread notices are not
  the owner's writing), and only those with text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adapters.importers._common import (
    ImportFormatError,
    Limits,
    Record,
    as_id,
    check_text,
    is_container,
    open_container,
    open_file,
    parse_iso,
    walk_json,
)
from core.models import Message

KEPT_TYPES = frozenset({"Default", "Reply", 0, 19})
_SCALARS = frozenset({"channel.id", "channel.name", "guild.name"})


class DiscordReader:
    """Reads DiscordChatExporter JSON: one file, or every ``.json`` in a folder or zip."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits

    def owner_hint(self) -> str | None:
        return None  # the exporter does not record who ran it

    def owner_keys(self) -> tuple[str, ...]:
        return ()

    def records(self) -> Iterator[Record]:
        if not is_container(self.path):
            with open_file(self.path) as stream:
                yield from self._document(stream, str(self.path))
            return
        box = open_container(self.path, self.limits)
        try:
            names = sorted(n for n in box.names if n.lower().endswith(".json"))
            if not names:
                raise ImportFormatError(f"{self.path}: no DiscordChatExporter .json inside")
            for name in names:
                with box.open(name) as stream:
                    yield from self._document(stream, box.where(name))
        finally:
            box.close()

    def _document(self, stream: Any, where: str) -> Iterator[Record]:
        channel: dict[str, str] = {}
        names: dict[str, str] = {}
        seen_messages = False
        for kind, prefix, value in walk_json(
            stream, where, self.limits, items=frozenset({"messages.item"}), scalars=_SCALARS
        ):
            if kind == "scalar":
                text = as_id(value)
                if text:
                    channel[prefix] = text
                continue
            seen_messages = True
            record = self._message(value, where, channel, names)
            if record is not None:
                yield record
        if not seen_messages and not channel:
            raise ImportFormatError(f"{where}: not a DiscordChatExporter export (no messages)")

    def _message(
        self, raw: Any, where: str, channel: dict[str, str], names: dict[str, str]
    ) -> Record | None:
        if not isinstance(raw, dict):
            raise ImportFormatError(f"{where}: a message is not an object")
        ident = as_id(raw.get("id"))
        at = f"{where}: message {ident or '?'}"
        if ident is None:
            raise ImportFormatError(f"{at} has no 'id'")
        if raw.get("type", "Default") not in KEPT_TYPES:
            return None
        content = raw.get("content", "")
        if not isinstance(content, str):
            raise ImportFormatError(f"{at}: 'content' is not a string")
        text = check_text(content, at, self.limits)
        if not text.strip():
            return None
        author = raw.get("author")
        if not isinstance(author, dict):
            raise ImportFormatError(f"{at} has no 'author'")
        author_id = as_id(author.get("id"))
        candidates = [author.get("name"), author.get("nickname")]
        present = [n.strip() for n in candidates if isinstance(n, str) and n.strip()]
        sender = present[0] if present else author_id
        if sender is None:
            raise ImportFormatError(f"{at}: the author has neither a name nor an id")
        reference = raw.get("reference")
        reply_to = as_id(reference.get("messageId")) if isinstance(reference, dict) else None
        conversation = channel.get("channel.name") or channel.get("channel.id") or "discord"
        aliases = tuple(a for a in (author_id, *present) if a)
        if author_id:
            sender = names.setdefault(author_id, sender)  # renamed users stay one sender
        return Message(
            id=ident,
            conversation=conversation,
            thread=None,
            sender=sender,
            text=text,
            sent_at=parse_iso(raw.get("timestamp"), at, "timestamp"),
            reply_to=reply_to,
        ), aliases
