"""What every importer shares: errors, limits, the source wrapper, owner resolution, safe readers.

Each format module provides a *reader* (``records()``, ``owner_hint()``, ``owner_keys()``); the
:class:`ImportSource` wraps it with the public behaviour, so owner resolution and the error
contract are written once.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import ijson

from core.models import Message

FORMATS = ("jsonl", "slack", "telegram", "discord", "whatsapp", "mbox", "eml", "twitter", "text")
"""Every format :func:`open_import` reads, in the order ``--format`` lists them."""


class ImportFormatError(ValueError):
    """An export that cannot be read; ``str(e)`` is one sentence naming the file and the problem."""


class UnknownOwner(ValueError):
    """``--me`` names nobody in the export (or is missing and the export does not name its owner)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Caps that keep hostile or broken input from exhausting memory.

    Attributes:
        max_text_chars: longest message text accepted; a longer one is an error (not truncated),
            so a mangled file is noticed rather than imported as one giant message.
        max_unpacked_bytes: total bytes read out of one zip archive (zip bombs stop here).
        max_zip_ratio: most bytes read out of a zip archive per byte of the archive, once past
            8 MiB: a zip of newlines unpacks 1,000 times over and keeps a line reader busy for
            minutes before ``max_unpacked_bytes``; real exports compress far less than 100x.
        max_document_bytes: largest single JSON document or e-mail read whole into memory.
        max_line_bytes: longest line of a line-oriented file (JSONL, WhatsApp, text).
        max_depth: deepest JSON nesting accepted.
    """

    max_text_chars: int = 100_000
    max_unpacked_bytes: int = 4 * 2**30
    max_zip_ratio: int = 100
    max_document_bytes: int = 256 * 2**20
    max_line_bytes: int = 4 * 2**20
    max_depth: int = 64


Record = tuple[Message, tuple[str, ...]]
"""A message and the other names its sender goes by (user id, user name, address...)."""


class Reader(Protocol):
    """What a format module provides; :class:`ImportSource` adds the rest."""

    def records(self) -> Iterator[Record]: ...

    def owner_hint(self) -> str | None: ...

    def owner_keys(self) -> tuple[str, ...]: ...


@runtime_checkable
class SingleAuthorReader(Reader, Protocol):
    """A reader of an export whose every message is its owner's (an X archive's tweets)."""

    def adopt_owner(self, me: str) -> str | None:
        """The sender of every message once ``--me`` named the owner; ``None`` to match ``me``
        against the senders as usual (the export names its owner itself)."""
        ...


@dataclass(slots=True)
class _Senders:
    counts: Counter[str]
    names: dict[str, str]
    aliases: dict[str, str]


class ImportSource:
    """One export file (or folder/zip) opened for import.

    Attributes:
        format: one of :data:`FORMATS`.
        path: the file, folder or zip as given.
    """

    def __init__(self, *, format: str, path: Path, reader: Reader) -> None:
        self.format = format
        self.path = path
        self._reader = reader
        self._senders: _Senders | None = None

    def __repr__(self) -> str:
        return f"ImportSource(format={self.format!r}, path={str(self.path)!r})"

    def owner_hint(self) -> str | None:
        """The exporting account's sender name, where the format names it, else ``None``."""
        return self._reader.owner_hint()

    def resolve_owner(self, me: str | None) -> str:
        """Map ``--me`` to the exact ``sender`` string the produced messages use.

        Args:
            me: the owner as the user typed it: display name, user name or id as the format
                writes them, case-insensitive; ``None`` to use the account the export names.

        Returns:
            The ``sender`` value of the owner's messages.

        Raises:
            UnknownOwner: ``me`` matches no sender, or is ``None`` and the export names nobody;
                the message lists the most frequent senders.
            ImportFormatError: the export is malformed or holds no messages.
        """
        if me is None:
            keys = self._reader.owner_keys()
            if keys:
                senders = self._scan()
                for key in keys:
                    folded = key.strip().casefold()
                    found = senders.aliases.get(folded) or senders.names.get(folded)
                    if found is not None:
                        return found
            hint = self._reader.owner_hint()
            if hint is not None:
                return hint
            senders = self._scan()
            raise UnknownOwner(
                f"{self.path} does not say whose export it is, so pass --me; "
                f"the most frequent senders are: {_top(senders.counts)}"
            )
        if not me.strip():
            raise UnknownOwner("--me is empty; give the owner's name, user name or id")
        if isinstance(self._reader, SingleAuthorReader):
            adopted = self._reader.adopt_owner(me)
            if adopted is not None:
                return adopted
        senders = self._scan()
        if me in senders.counts:
            return me
        key = me.strip().casefold()
        found = senders.names.get(key) or senders.aliases.get(key)
        if found is not None:
            return found
        raise UnknownOwner(
            f"--me {me!r} is not a sender in {self.path}; "
            f"the most frequent senders are: {_top(senders.counts)}"
        )

    def messages(self) -> Iterator[Message]:
        """Stream the export's messages in file order.

        Yields:
            Canonical messages: ids as ``str``, ``sent_at`` timezone-aware UTC.

        Raises:
            ImportFormatError: on malformed input, possibly after some messages were yielded
                (callers import in one transaction, so nothing partial is kept).
        """
        for message, _aliases in self._reader.records():
            yield message

    def _scan(self) -> _Senders:
        if self._senders is None:
            counts: Counter[str] = Counter()
            aliases: dict[str, str] = {}
            for message, others in self._reader.records():
                counts[message.sender] += 1
                for name in others:
                    aliases.setdefault(name.strip().casefold(), message.sender)
            if not counts:
                raise ImportFormatError(f"{self.path}: no messages")
            # A sender's own name beats another sender's alias; among senders differing only
            # in case, the most frequent wins.
            names: dict[str, str] = {}
            for sender, _count in counts.most_common():
                names.setdefault(sender.strip().casefold(), sender)
            self._senders = _Senders(counts=counts, names=names, aliases=aliases)
        return self._senders


def _top(counts: Counter[str], n: int = 8) -> str:
    return ", ".join(f"{name or repr(name)} ({count})" for name, count in counts.most_common(n))


# -- message construction ------------------------------------------------------------------


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive time is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_epoch(value: str | int | float, where: str) -> datetime:
    """A Unix timestamp (seconds, possibly fractional, possibly as text) as aware UTC."""
    try:
        seconds = float(value)
        return datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ImportFormatError(f"{where}: {_short(value)!r} is not a Unix timestamp") from None


def parse_iso(value: object, where: str, field: str = "time") -> datetime:
    """An ISO 8601 string as aware UTC (naive means UTC)."""
    if not isinstance(value, str):
        raise ImportFormatError(f"{where}: {field!r} is not an ISO 8601 time: {value!r}")
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        return as_utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        raise ImportFormatError(
            f"{where}: {field!r} is not an ISO 8601 time: {_short(value)!r}"
        ) from None


def check_text(text: str, where: str, limits: Limits) -> str:
    """``text`` unchanged, or an error when it is over the size cap."""
    if len(text) > limits.max_text_chars:
        raise ImportFormatError(
            f"{where}: message text is {len(text)} characters, over the "
            f"{limits.max_text_chars} character limit"
        )
    return text


def _short(value: object, n: int = 60) -> object:
    if isinstance(value, str) and len(value) > n:
        return value[:n] + "…"
    return value


def as_id(value: object) -> str | None:
    """A JSON id (string or integer) as ``str``; ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int):
        return str(value)
    return None


# -- bounded readers -----------------------------------------------------------------------


ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    RuntimeError,
    NotImplementedError,
)
"""What ``zipfile`` raises on damaged, truncated, encrypted or exotic archives."""


class _Counting(io.RawIOBase):
    """A read-only stream that fails once the shared budget of unpacked bytes is spent."""

    def __init__(self, raw: IO[bytes], budget: ZipBudget, where: str) -> None:
        self._raw = raw
        self._budget = budget
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(len(buffer))
        except ZIP_ERRORS as exc:
            raise ImportFormatError(f"{self._where}: the archive is damaged ({exc})") from None
        self._budget.spend(len(data), self._where)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


_RATIO_FLOOR = 8 * 2**20
"""Unpacked bytes any zip archive may yield, whatever its size (``Limits.max_zip_ratio``)."""


class ZipBudget:
    """A zip archive whose members are read through a shared cap on unpacked bytes.

    The cap is ``max_unpacked_bytes``, and ``max_zip_ratio`` times the archive's size once past
    8 MiB. A member whose declared size would overrun it is refused before it is read (zipfile
    never yields more than the declared size), so a bomb costs no reading time.
    """

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self._spent = 0
        try:
            self._size = path.stat().st_size
            self.zip = zipfile.ZipFile(path)
            self.names = [info.filename for info in self.zip.infolist() if not info.is_dir()]
        except ZIP_ERRORS as exc:
            raise ImportFormatError(
                f"{path}: not a readable zip archive (truncated or damaged: {exc})"
            ) from None

    def close(self) -> None:
        self.zip.close()

    def spend(self, n: int, where: str) -> None:
        self._spent += n
        self._check(self._spent, where)

    def _check(self, total: int, where: str) -> None:
        if total > self.limits.max_unpacked_bytes:
            raise ImportFormatError(
                f"{where}: the archive unpacks to more than {self.limits.max_unpacked_bytes} "
                "bytes, which looks like a zip bomb"
            )
        if total > max(_RATIO_FLOOR, self.limits.max_zip_ratio * self._size):
            raise ImportFormatError(
                f"{where}: the archive unpacks to more than {self.limits.max_zip_ratio} times "
                f"its own {self._size} bytes, which looks like a zip bomb"
            )

    def where(self, name: str) -> str:
        return f"{self.path}/{name}"

    def open(self, name: str) -> IO[bytes]:
        """A buffered binary stream over one member, counted against the budget."""
        where = self.where(name)
        try:
            info = self.zip.getinfo(name)
        except ZIP_ERRORS as exc:
            raise ImportFormatError(f"{where}: cannot be read from the archive ({exc})") from None
        self._check(self._spent + info.file_size, where)
        try:
            raw = self.zip.open(info)
        except ZIP_ERRORS as exc:
            raise ImportFormatError(f"{where}: cannot be read from the archive ({exc})") from None
        return io.BufferedReader(_Counting(raw, self, where))

    def read(self, name: str) -> bytes:
        """One member whole, capped at ``max_document_bytes``."""
        with self.open(name) as stream:
            # Not read(cap + 1): that allocates the whole cap up front, for every member.
            size = min(self.zip.getinfo(name).file_size, self.limits.max_document_bytes)
            data = stream.read(size + 1)
        if len(data) > self.limits.max_document_bytes:
            raise ImportFormatError(
                f"{self.where(name)}: larger than {self.limits.max_document_bytes} bytes"
            )
        return data


def read_file_capped(path: Path, limits: Limits) -> bytes:
    """A whole file, capped at ``max_document_bytes``."""
    cap = limits.max_document_bytes
    try:
        with path.open("rb") as stream:
            # Not read(cap + 1) at once: that allocates the whole cap up front, for every file.
            size = min(os.fstat(stream.fileno()).st_size, cap) + 1
            data = stream.read(size)
            if len(data) == size <= cap:  # grew since, or not a regular file
                data += stream.read(cap + 1 - size)
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limits.max_document_bytes:
        raise ImportFormatError(f"{path}: larger than {limits.max_document_bytes} bytes")
    return data


def json_reason(exc: json.JSONDecodeError, *, line: bool = True) -> str:
    """The decoder's complaint as a whole phrase with its place: ``Unterminated string starting
    at line 3 column 9`` (its ``msg`` alone stops mid-sentence: "… starting at")."""
    place = f"line {exc.lineno} column {exc.colno}" if line else f"column {exc.colno}"
    msg = exc.msg.rstrip(": ")
    return f"{msg} {place}" if msg.endswith(" at") else f"{msg} at {place}"


def load_json(data: bytes, where: str, limits: Limits) -> Any:
    """Parse a whole JSON document with a clear error (UTF-8 with or without BOM)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"{where}: not valid UTF-8 (byte {exc.start})") from None
    if too_deep(text, limits.max_depth):
        raise ImportFormatError(f"{where}: JSON nested deeper than {limits.max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"{where}: not valid JSON ({json_reason(exc)})") from None
    except RecursionError:
        raise ImportFormatError(f"{where}: JSON nested too deeply") from None
    except ValueError:  # an integer too long to convert
        raise ImportFormatError(f"{where}: not valid JSON (a number is too long)") from None


def too_deep(text: str, max_depth: int) -> bool:
    """Cheap upper bound on nesting: brackets outside strings, counted without recursion."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


# -- streaming JSON ------------------------------------------------------------------------

JsonEvent = tuple[str, str, Any]
"""``("item", prefix, value)`` for a built item, ``("start", prefix, None)`` when a watched
object begins, ``("scalar", prefix, value)`` for a watched scalar."""


def walk_json(
    stream: IO[bytes],
    where: str,
    limits: Limits,
    *,
    items: frozenset[str],
    starts: frozenset[str] = frozenset(),
    scalars: frozenset[str] = frozenset(),
) -> Iterator[JsonEvent]:
    """Stream a large JSON document, building only the values under ``items`` prefixes.

    Prefixes are ijson's dotted paths (``chats.list.item.messages.item``). Memory stays bounded
    by the largest single item, not the document.

    The events come from ``ijson.basic_parse`` and the prefixes are kept here, stopping at
    ``max_depth``: ``ijson.parse`` builds every event's prefix before the depth check could
    run, which costs depth squared on hostile nesting (``[[[[...``).
    """
    events = ijson.basic_parse(stream, use_float=True)
    opened: list[str | None] = []  # per open container: its item prefix if an array, else None
    bases: list[str] = []  # per open container: its own prefix
    prefix = ""  # the prefix of the next value
    try:
        for event, value in events:
            if event == "map_key":  # the prefixes ijson.parse's C backend gives, to the letter
                prefix = f"{bases[-1]}.{value}" if len(bases) > 1 else value
            elif event == "start_map" or event == "start_array":
                if prefix in items:
                    yield ("item", prefix, _build(events, event, len(bases), where, limits))
                    continue
                if len(bases) >= limits.max_depth:
                    raise ImportFormatError(
                        f"{where}: JSON nested deeper than {limits.max_depth} levels"
                    )
                bases.append(prefix)
                if event == "start_map":
                    opened.append(None)
                    if prefix in starts:
                        yield ("start", prefix, None)
                else:
                    prefix = f"{prefix}.item" if prefix else "item"
                    opened.append(prefix)
            elif event == "end_map" or event == "end_array":
                bases.pop()
                opened.pop()
                if opened and opened[-1] is not None:
                    prefix = opened[-1]
            elif prefix in items:
                yield ("item", prefix, value)
            elif prefix in scalars:
                yield ("scalar", prefix, value)
    except ijson.JSONError as exc:
        raise ImportFormatError(f"{where}: not valid JSON ({_ijson_reason(exc)})") from None
    except UnicodeDecodeError:
        raise ImportFormatError(f"{where}: not valid UTF-8") from None
    except (zlib.error, EOFError, zipfile.BadZipFile) as exc:
        raise ImportFormatError(f"{where}: the archive is damaged ({exc})") from None


def _build(
    events: Iterator[tuple[str, Any]], first: str, depth: int, where: str, limits: Limits
) -> Any:
    """The value that starts with ``first``, built from the following events (a tight loop:
    this is where large exports spend their time)."""
    root: Any = {} if first == "start_map" else []
    stack: list[Any] = [root]
    container = root
    key: Any = None
    limit = limits.max_depth - depth
    for event, value in events:
        if event == "map_key":
            key = value
        elif event == "start_map" or event == "start_array":
            child: Any = {} if event == "start_map" else []
            if type(container) is dict:
                container[key] = child
            else:
                container.append(child)
            stack.append(child)
            container = child
            if len(stack) > limit:
                raise ImportFormatError(
                    f"{where}: JSON nested deeper than {limits.max_depth} levels"
                )
        elif event == "end_map" or event == "end_array":
            stack.pop()
            if not stack:
                return root
            container = stack[-1]
        elif type(container) is dict:
            container[key] = value
        else:
            container.append(value)
    raise ImportFormatError(f"{where}: not valid JSON (it ends inside a value)")


def top_level_events(head: bytes, *, max_depth: int = 64) -> Iterator[tuple[int, str, Any]]:
    """``(depth, event, value)`` of a JSON document's first bytes, stopping quietly when the
    document nests deeper than ``max_depth`` or stops being valid (a cut head is fine).

    For sniffing only (format detection): ``ijson.parse`` would build a prefix for every event
    of a deeply nested head before anyone could stop it.
    """
    depth = 0
    try:
        for event, value in ijson.basic_parse(head.lstrip(b"\xef\xbb\xbf")):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > max_depth:
                    return
            elif event in ("end_map", "end_array"):
                depth -= 1
            yield depth, event, value
    except (ijson.JSONError, UnicodeDecodeError):
        return


def _ijson_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    return reason[:120]


def open_file(path: Path) -> IO[bytes]:
    """A local file opened for binary reading, with the error contract."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def require(condition: bool, message: str) -> None:
    """Raise :class:`ImportFormatError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ImportFormatError(message)


class FolderTree:
    """An extracted export folder with the same reading interface as :class:`ZipBudget`."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())

    def close(self) -> None:
        pass

    def where(self, name: str) -> str:
        return f"{self.path}/{name}"

    def open(self, name: str) -> IO[bytes]:
        return open_file(self.path / name)

    def read(self, name: str) -> bytes:
        return read_file_capped(self.path / name, self.limits)


Container = ZipBudget | FolderTree


def is_container(path: Path) -> bool:
    """Whether ``path`` is a folder or a zip archive (by its magic bytes, not its name)."""
    if path.is_dir():
        return True
    with open_file(path) as probe:
        return probe.read(2) == b"PK"


def open_container(path: Path, limits: Limits) -> Container:
    """A zip archive or an extracted folder, read through one interface."""
    if path.is_dir():
        return FolderTree(path, limits)
    return ZipBudget(path, limits)


def find_root(names: list[str], marker: str) -> str | None:
    """The folder prefix (``""`` or ``"export/"``) holding ``marker``, shallowest first."""
    hits = sorted(
        (n for n in names if n == marker or n.endswith("/" + marker)), key=lambda n: n.count("/")
    )
    if not hits:
        return None
    return hits[0][: -len(marker)]
