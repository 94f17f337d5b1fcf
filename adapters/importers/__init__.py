"""Importers: chat and mail exports → canonical :class:`core.models.Message` streams.

Usage::

    source = open_import(Path("export.zip"))          # format sniffed from the content
    owner = source.resolve_owner("alice")              # --me as name, user name or id
    for message in source.messages():                  # streamed; ImportFormatError if malformed
        ...

Every problem with the input is an :class:`ImportFormatError` whose text is one sentence naming the
file (and line or entry where known). ``messages()`` may raise after yielding some messages; the
caller imports in one transaction, so a failure leaves nothing behind. Each format module's
docstring documents how that format maps to messages; the rules they share:

- Ids are strings, stable across re-imports of the same export (so a re-import adds nothing).
- ``sent_at`` is aware UTC; a time the format writes without a zone is taken as UTC.
- Only text someone wrote becomes a message: system lines, joins, media-only messages and
  retweets are skipped (so a ``reply_to`` may name a message that was skipped).
- A message over ``Limits.max_text_chars`` (100,000) is an error, not truncated; zip members are
  read through a cap on unpacked bytes (zip bombs), JSON nesting is capped at 64 levels.
- Large JSON exports (Telegram, Discord, Twitter) are streamed with ``ijson``; memory stays flat.
- ``resolve_owner`` reads the export once to count senders; ``--me`` is matched exactly, then
  case-insensitively against sender names, then against the other names the format gives the
  same person (user ids, user names, addresses, nicknames).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapters.importers._common import (
    FORMATS,
    ImportFormatError,
    ImportSource,
    Limits,
    Reader,
    UnknownOwner,
)
from adapters.importers.detect import detect_format
from adapters.importers.discord import DiscordReader
from adapters.importers.jsonl import JsonlReader
from adapters.importers.mail import EmlReader, MboxReader
from adapters.importers.minime_export import MinimeExportReader, MinimeExportSource
from adapters.importers.slack import SlackReader
from adapters.importers.telegram import TelegramReader
from adapters.importers.text import TextReader
from adapters.importers.twitter import TwitterReader
from adapters.importers.whatsapp import WhatsAppReader

__all__ = [
    "FORMATS",
    "ImportFormatError",
    "ImportSource",
    "Limits",
    "UnknownOwner",
    "detect_format",
    "open_import",
]

_READERS: dict[str, Callable[[Path, Limits], Reader]] = {
    "jsonl": JsonlReader,
    "slack": SlackReader,
    "telegram": TelegramReader,
    "discord": DiscordReader,
    "whatsapp": WhatsAppReader,
    "mbox": MboxReader,
    "eml": EmlReader,
    "twitter": TwitterReader,
    "text": TextReader,
    "minime": MinimeExportReader,
}


def open_import(path: Path, fmt: str = "auto", *, limits: Limits | None = None) -> ImportSource:
    """Open an export for import; nothing is parsed until it is iterated.

    Args:
        path: an export file, an extracted export folder, or a zip archive.
        fmt: one of :data:`FORMATS`, or ``"auto"`` to sniff it with :func:`detect_format`.
        limits: size and nesting caps against hostile input; the defaults suit real exports.

    Returns:
        The opened source.

    Raises:
        ImportFormatError: the path is missing, the format unknown, or (for ``auto``) not
            recognisable.
    """
    path = Path(path)
    if fmt != "auto" and fmt not in _READERS:
        raise ImportFormatError(
            f"{path}: unknown format {fmt!r}; supported formats are auto, {', '.join(FORMATS)}"
        )
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file or directory")
    chosen = detect_format(path) if fmt == "auto" else fmt
    if chosen == "minime":  # minime's own export restores exactly (core.privacy.RestorableExport)
        return MinimeExportSource(path=path, limits=limits or Limits())
    return ImportSource(format=chosen, path=path, reader=_READERS[chosen](path, limits or Limits()))
