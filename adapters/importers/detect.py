"""Which format is this? Decided from content: zip member names, JSON keys, first lines.

The extension is only a tie-breaker for plain text (``.txt``/``.md`` or none), which is the last
resort for a readable UTF-8 file that matches nothing else.
"""

from __future__ import annotations

import gzip
import json
import re
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from adapters.importers._common import FORMATS, ZIP_ERRORS, ImportFormatError, top_level_events
from adapters.importers.minime_export import looks_like_minime_export
from adapters.importers.whatsapp import looks_like_whatsapp

HEAD_BYTES = 64 * 1024
_TEXT_SUFFIXES = {"", ".txt", ".md", ".text"}
_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_TWEETS = re.compile(r"^\s*window\.YTD\.tweets?\.part\d+\s*=", re.ASCII)
_TWEET_FILE = re.compile(r"^tweets?(?:-part\d+)?\.js$")


def _unknown(path: Path, what: str) -> ImportFormatError:
    return ImportFormatError(
        f"{path}: {what}; supported formats are {', '.join(FORMATS)} (or pass --format)"
    )


def detect_format(path: Path) -> str:
    """Sniff the format of an export file, folder or zip from its content.

    Args:
        path: the file, extracted folder or zip archive.

    Returns:
        One of :data:`~adapters.importers.FORMATS`.

    Raises:
        ImportFormatError: unreadable, or nothing recognisable; the message lists the formats.
    """
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file or directory")
    if path.is_dir():
        return _from_names(path, _walk_names(path))
    try:
        with path.open("rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = [i.filename for i in archive.infolist() if not i.is_dir()]
                found = _from_names(path, names, archive)
        except ImportFormatError:
            raise
        except ZIP_ERRORS as exc:
            raise ImportFormatError(
                f"{path}: not a readable zip archive (truncated or damaged: {exc})"
            ) from None
        return found
    if path.suffix.lower() == ".zip":
        raise ImportFormatError(f"{path}: not a readable zip archive (truncated or damaged)")
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as stream:
                inner = stream.read(HEAD_BYTES)
        except (gzip.BadGzipFile, EOFError, zlib.error, OSError):
            inner = b""
        if _is_jsonl(inner):
            return "jsonl"
        raise _unknown(path, "a gzip file that does not hold canonical message JSONL")
    found_in_head = sniff_bytes(head)
    if found_in_head is not None:
        return found_in_head
    if path.suffix.lower() in _TEXT_SUFFIXES and _is_text(head):
        return "text"
    raise _unknown(path, "not a recognised export")


def sniff_bytes(head: bytes) -> str | None:
    """The format a file's first bytes show, or ``None`` (text is never guessed here)."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if text.lstrip("\r\n").startswith("From "):
        return "mbox"
    if _TWEETS.match(text):
        return "twitter"
    if _is_jsonl(head):
        return "jsonl"
    if stripped.startswith("{"):
        if looks_like_minime_export(head):
            return "minime"
        keys = _top_keys(head)
        if keys & {"personal_information", "chats", "contacts", "frequent_contacts"}:
            return "telegram"  # a full account export (any of its sections may be deselected)
        if "messages" in keys and ("guild" in keys or "channel" in keys):
            return "discord"
        if "messages" in keys and "name" in keys and ("type" in keys or "id" in keys):
            return "telegram"
        return None
    lines = text.splitlines()
    if looks_like_whatsapp(lines[:50]):
        return "whatsapp"
    if stripped.startswith("["):
        return None
    if _is_email(lines):
        return "eml"
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the head boundary is still text.
        return exc.start >= len(head) - 3
    return True


_CANONICAL_KEYS = frozenset({"sender", "sent_at", "conversation", "thread", "reply_to"})


def _is_jsonl(head: bytes) -> bool:
    """Canonical message JSONL: its first object has a canonical key (the reader then names any
    missing one), or the file is JSON Lines by shape (two or more lines, each a JSON object)."""
    objects = 0
    lines = head.split(b"\n")
    complete = lines[:-1] if len(lines) > 1 else lines  # the last one may be cut by the head
    for raw in complete[:5]:
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8").lstrip("\ufeff"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return False
        if not isinstance(obj, dict):
            return False
        if objects == 0 and obj.keys() & _CANONICAL_KEYS:
            return True
        objects += 1
    return objects >= 2


def _top_keys(head: bytes) -> set[str]:
    """The top-level keys readable in the first bytes of a (possibly cut) JSON object."""
    return {
        str(value)
        for depth, event, value in top_level_events(head)
        if depth == 1 and event == "map_key"
    }


def _is_email(lines: list[str]) -> bool:
    names: set[str] = set()
    for line in lines[:60]:
        if not line.strip():
            break
        if line[:1] in " \t":
            continue
        if not _HEADER_LINE.match(line):
            return False
        names.add(line.split(":", 1)[0].lower())
    return "from" in names and bool(names & {"date", "message-id", "subject", "to"})


def _walk_names(root: Path) -> list[str]:
    names: list[str] = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            names.append(path.relative_to(root).as_posix())
        if len(names) > 100_000:
            break
    return names


def _from_names(path: Path, names: Iterable[str], archive: zipfile.ZipFile | None = None) -> str:
    names = list(names)
    base = {PurePosixPath(n).name.lower() for n in names}
    lowered = [n.lower() for n in names]
    if "minime-export.json" in base:
        return "minime"
    if "users.json" in base and "channels.json" in base:
        return "slack"
    if any(_TWEET_FILE.match(PurePosixPath(n).name) for n in lowered):
        return "twitter"
    if any(n.endswith(".eml") for n in lowered):
        return "eml"
    if any(n.endswith(".mbox") for n in lowered):
        return "mbox"
    if "result.json" in base:
        return "telegram"
    for name in names:
        lower = name.lower()
        if not lower.endswith((".txt", ".json")):
            continue
        head = _head(path, name, archive)
        found = sniff_bytes(head)
        if found in ("whatsapp", "discord", "telegram"):
            return found
    raise _unknown(path, "a folder or zip with no recognised export inside")


def _head(path: Path, name: str, archive: zipfile.ZipFile | None) -> bytes:
    try:
        if archive is None:
            with (path / name).open("rb") as stream:
                return stream.read(HEAD_BYTES)
        with archive.open(name) as stream:
            return stream.read(HEAD_BYTES)
    except ZIP_ERRORS as exc:
        raise ImportFormatError(f"{path}/{name}: cannot be read ({exc})") from None
