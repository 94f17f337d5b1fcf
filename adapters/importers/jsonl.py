"""Canonical message JSONL, plain or gzip-compressed, validated line by line.

One object per line: ``{"id", "conversation", "thread", "sender", "text", "sent_at", "reply_to"}``.

Rules (strict, so a damaged file is reported rather than half-read):

- ``id``, ``conversation``: non-empty string, or an integer (converted to ``str``; many tools
  write numeric ids). ``thread``, ``reply_to``: the same, or ``null``/absent.
- ``sender``: string. An empty one is kept as it is: it means the source lost the name (the
  Ubuntu IRC corpus has such lines), and other messages may reply to it.
- ``text``: string (may be empty).
- ``sent_at``: ISO 8601 string; a time without an offset is taken as UTC. One non-standard form
  is tolerated because the shared Ubuntu IRC corpus uses it on 8,761 lines: a date with a sample
  suffix, ``2004-11-15_03T02:15:00+00:00``, read as ``2004-11-15T02:15:00+00:00``.
- Other keys are ignored; blank lines are skipped; each line is decoded as UTF-8 on its own, so
  an error names the line.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from adapters.importers._common import (
    ImportFormatError,
    Limits,
    Record,
    as_id,
    check_text,
    json_reason,
    open_file,
    parse_iso,
    too_deep,
)
from core.models import Message

GZIP_MAGIC = b"\x1f\x8b"
_SAMPLE_SUFFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})_\d{1,3}(T.+)$")


class JsonlReader:
    """Reads canonical JSONL (``.jsonl`` or ``.jsonl.gz``)."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits

    def owner_hint(self) -> str | None:
        return None

    def owner_keys(self) -> tuple[str, ...]:
        return ()

    def records(self) -> Iterator[Record]:
        raw = open_file(self.path)
        try:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            stream: IO[bytes] = (
                gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[assignment]
            )
            yield from self._lines(stream)
        finally:
            raw.close()

    def _lines(self, stream: IO[bytes]) -> Iterator[Record]:
        cap = self.limits.max_line_bytes
        number = 0
        seen = 0
        while True:
            number += 1
            try:
                line = stream.readline(cap + 1)
            except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
                raise ImportFormatError(
                    f"{self.path}:{number}: the gzip data is damaged or truncated ({exc})"
                ) from None
            if not line:
                break
            if len(line) > cap and not line.endswith(b"\n"):
                raise ImportFormatError(f"{self.path}:{number}: line is longer than {cap} bytes")
            if not line.strip():
                continue
            seen += 1
            yield self._parse(line, number), ()
        if seen == 0:
            raise ImportFormatError(f"{self.path}: no messages")

    def _parse(self, line: bytes, number: int) -> Message:
        where = f"{self.path}:{number}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFormatError(f"{where}: not valid UTF-8") from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        if too_deep(text, self.limits.max_depth):
            raise ImportFormatError(
                f"{where}: JSON nested deeper than {self.limits.max_depth} levels"
            )
        try:
            obj = json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            # One line: the column says where (the line is already in ``where``).
            raise ImportFormatError(
                f"{where}: not valid JSON ({json_reason(exc, line=False)})"
            ) from None
        except ValueError:  # an integer too long to convert
            raise ImportFormatError(f"{where}: not valid JSON (a number is too long)") from None
        except RecursionError:
            raise ImportFormatError(f"{where}: JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise ImportFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        missing = [k for k in ("id", "conversation", "sender", "text", "sent_at") if k not in obj]
        if missing:
            raise ImportFormatError(f"{where}: missing {', '.join(repr(k) for k in missing)}")
        ident = _required_id(obj, "id", where)
        conversation = _required_id(obj, "conversation", where)
        sender = obj["sender"]
        if not isinstance(sender, str):
            raise ImportFormatError(f"{where}: 'sender' must be a string")
        body = obj["text"]
        if not isinstance(body, str):
            raise ImportFormatError(f"{where}: 'text' must be a string")
        return Message(
            id=ident,
            conversation=conversation,
            thread=_optional_id(obj, "thread", where),
            sender=sender,
            text=check_text(body, where, self.limits),
            sent_at=parse_iso(_tolerated(obj["sent_at"]), where, "sent_at"),
            reply_to=_optional_id(obj, "reply_to", where),
        )


def _tolerated(value: object) -> object:
    if isinstance(value, str) and "_" in value[:14]:
        match = _SAMPLE_SUFFIX.match(value)
        if match:
            return match.group(1) + match.group(2)
    return value


def _required_id(obj: dict[str, object], key: str, where: str) -> str:
    value = as_id(obj[key])
    if value is None:
        raise ImportFormatError(f"{where}: {key!r} must be a non-empty string or an integer")
    return value


def _optional_id(obj: dict[str, object], key: str, where: str) -> str | None:
    raw = obj.get(key)
    if raw is None:
        return None
    value = as_id(raw)
    if value is None:
        raise ImportFormatError(f"{where}: {key!r} must be a string, an integer or null")
    return value
