"""Plain text: one message per paragraph (paragraphs are separated by blank lines).

Everything is the owner's writing: ``sender`` is ``"me"`` (and so is the owner hint),
``conversation`` is the file's stem, ``id`` is ``<stem>:<paragraph number>``. A paragraph has no
time of its own, so ``sent_at`` is the file's modification time plus one second per paragraph,
which keeps the order and makes re-imports of the same file produce the same messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.importers._common import (
    ImportFormatError,
    Limits,
    Record,
    check_text,
    open_file,
)
from core.models import Message

SENDER = "me"


class TextReader:
    """Reads a UTF-8 text file, one message per paragraph."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits

    def owner_hint(self) -> str | None:
        return SENDER

    def owner_keys(self) -> tuple[str, ...]:
        return ()

    def records(self) -> Iterator[Record]:
        if self.path.is_dir():
            raise ImportFormatError(f"{self.path}: a folder, not a text file")
        try:
            start = datetime.fromtimestamp(self.path.stat().st_mtime, UTC).replace(microsecond=0)
        except (OSError, OverflowError, ValueError) as exc:
            raise ImportFormatError(f"{self.path}: cannot be read ({exc})") from None
        stem = self.path.stem or self.path.name
        count = 0
        for first_line, paragraph in self._paragraphs():
            count += 1
            text = check_text(paragraph, f"{self.path}:{first_line}", self.limits)
            yield (
                Message(
                    id=f"{stem}:{count}",
                    conversation=stem,
                    thread=None,
                    sender=SENDER,
                    text=text,
                    sent_at=start + timedelta(seconds=count - 1),
                ),
                (),
            )
        if count == 0:
            raise ImportFormatError(f"{self.path}: no messages")

    def _paragraphs(self) -> Iterator[tuple[int, str]]:
        cap = self.limits.max_line_bytes
        lines: list[str] = []
        size = 0
        first = 0
        number = 0
        with open_file(self.path) as stream:
            while True:
                raw = stream.readline(cap + 1)
                if not raw:
                    break
                number += 1
                if len(raw) > cap and not raw.endswith(b"\n"):
                    raise ImportFormatError(
                        f"{self.path}:{number}: line is longer than {cap} bytes"
                    )
                if b"\x00" in raw:
                    raise ImportFormatError(f"{self.path}:{number}: binary data, not text")
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    raise ImportFormatError(f"{self.path}:{number}: not valid UTF-8") from None
                if number == 1:
                    line = line.removeprefix("\ufeff")
                if line.strip():
                    if not lines:
                        first = number
                    lines.append(line.rstrip())
                    size += len(line)
                    if size > self.limits.max_text_chars:
                        check_text("\n".join(lines), f"{self.path}:{first}", self.limits)
                elif lines:
                    yield first, "\n".join(lines).strip()
                    lines, size = [], 0
        if lines:
            yield first, "\n".join(lines).strip()
