"""WhatsApp chat export: the ``.txt`` file, or the ``.zip`` (or extracted folder) that holds it,
with or without media.

Handled:

- Android lines ``12/31/23, 9:41 PM - Name: text`` and ``31/12/2023, 21:41 - Name: text``; iOS lines
  ``[31/12/2023, 21:41:05] Name: text`` and ``[12/31/23, 9:41:05 PM] Name: text``; ``/``, ``.`` or
  ``-`` as date separators; 2- or 4-digit years; ``AM``/``PM`` in the usual spellings (``p. m.``).
- Day-first or month-first is inferred from the whole file: any first field over 12 means
  day-first, any second field over 12 means month-first; with no evidence, a file with AM/PM is
  taken as month-first (US) and a 24-hour file as day-first. A year-first date (``2023-12-31``) is
  recognised by its four-digit first field.
- The invisible marks both apps insert (U+200E, U+200F, other bidi controls, the U+202F narrow
  no-break space before AM/PM, a BOM) are removed before parsing, and the ``~`` iOS puts before
  names that are not in the phone's contacts is dropped.
- Lines that do not start with a timestamp continue the previous message (multi-line messages).
- Dropped: media placeholders (``<Media omitted>``, ``image omitted``, ``<attached: …>``,
  ``… (file attached)``), deleted messages, and system lines (encryption notice, joins, subject
  changes…). iOS writes those with a U+200E right after ``Name: ``, which is how they are told
  apart from text; Android writes system lines without a ``Name: ``. The ``<This message was
  edited>`` suffix is removed.
- Times are the phone's local time with no zone in the file; they are taken as UTC.
- The format has no reply structure. ``reply_to`` is set by a heuristic: the first message of a
  run by one sender answers the last message of the previous sender when it came within
  :data:`REPLY_WINDOW`; later messages of the same run, and anything after a longer pause, have
  no ``reply_to``. ``thread`` is always ``None``.
- ``conversation`` is the chat name from the file name (``WhatsApp Chat with Alice.txt`` →
  ``Alice``); ``id`` is ``<conversation>:<line number>``, stable across re-imports of the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO

from adapters.importers._common import (
    Container,
    ImportFormatError,
    Limits,
    Record,
    as_utc,
    check_text,
    is_container,
    open_container,
    open_file,
)
from core.models import Message

REPLY_WINDOW = timedelta(hours=3)
"""Longest pause after which a change of sender still counts as a reply."""

_DELETE_MARKS = "\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NORMALISE = {ord(c): None for c in _DELETE_MARKS} | {0x202F: " ", 0x00A0: " "}

_DATE = r"(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4})\.?"
_TIME = (
    r"(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)"
    r"(?:\s?(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?"
)
_ANDROID = re.compile(rf"^{_DATE},?\s{_TIME}\s[-–]\s(?P<rest>.*)$", re.S)
_IOS = re.compile(rf"^\[{_DATE},?\s{_TIME}\]\s(?P<rest>.*)$", re.S)
_SENDER = re.compile(r"^(?P<sender>[^:\n]{1,100}?): ?(?P<text>.*)$", re.S)
_IOS_MARKED = re.compile(r":\s?\u200e")
_SYSTEM = re.compile(
    r"end-to-end encrypted|created group|created this group| added | removed |"
    r" left$|joined using|changed the subject|changed this group|changed the group|"
    r"changed their phone number|security code|now an admin|disappearing messages|"
    r"pinned a message|business account|you were added",
    re.I,
)
_MEDIA = re.compile(
    r"^(?:<media omitted>|<médias omis>|<medien ausgeschlossen>|<multimedia omitido>|null|"
    r"(?:image|video|audio|sticker|gif|document|contact card) omitted|"
    r"<attached: [^>]*>|.*\(file attached\)|this message was deleted|you deleted this message|"
    r"waiting for this message.*|missed (?:voice|video) call)$",
    re.I | re.S,
)
_EDITED = re.compile(r"\s*<this message was edited>\s*$", re.I)
_CHAT_PREFIXES = (
    "WhatsApp Chat with ",
    "WhatsApp Chat - ",
    "WhatsApp Chat mit ",
    "Chat de WhatsApp con ",
    "Discussion WhatsApp avec ",
)


def normalise(line: str) -> str:
    """The line without invisible marks and with narrow/no-break spaces as plain spaces."""
    return line.translate(_NORMALISE)


def _header(line: str) -> re.Match[str] | None:
    return _ANDROID.match(line) or _IOS.match(line)


def looks_like_whatsapp(lines: list[str]) -> bool:
    """Whether the first non-empty line is a WhatsApp message header."""
    for line in lines:
        clean = normalise(line).strip()
        if clean:
            return _header(clean) is not None
    return False


def chat_name(file_name: str) -> str:
    """The chat's name from an export's file name, else the file's stem."""
    stem = PurePosixPath(file_name).stem
    for prefix in _CHAT_PREFIXES:
        if stem.startswith(prefix):
            return stem[len(prefix) :].strip() or stem
    return stem


class WhatsAppReader:
    """Reads a WhatsApp chat export ``.txt``, or a zip or folder containing one."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits

    def owner_hint(self) -> str | None:
        return None  # the export never says whose phone it came from

    def owner_keys(self) -> tuple[str, ...]:
        return ()

    def records(self) -> Iterator[Record]:
        order, notice_name = self._date_order()
        with _ChatFile(self.path, self.limits) as chat:
            conversation = chat.conversation
            if conversation == "_chat" and notice_name:
                conversation = notice_name  # iOS: the notice is "sent" by the chat itself
            previous: Message | None = None
            for number, sender, text, sent_at in self._messages(chat, order):
                reply_to = None
                if (
                    previous is not None
                    and previous.sender != sender
                    and sent_at - previous.sent_at <= REPLY_WINDOW
                ):
                    reply_to = previous.id
                message = Message(
                    id=f"{conversation}:{number}",
                    conversation=conversation,
                    thread=None,
                    sender=sender,
                    text=text,
                    sent_at=sent_at,
                    reply_to=reply_to,
                )
                yield message, ()
                previous = message

    def _date_order(self) -> tuple[str, str | None]:
        """Day-first, month-first or year-first; and the chat name an iOS notice line gives."""
        first_big = second_big = year_first = ampm = False
        notice_name: str | None = None
        separators: set[str] = set()
        headers = 0
        with _ChatFile(self.path, self.limits) as chat:
            for _number, line in chat.lines():
                match = _header(normalise(line))
                if match is None:
                    continue
                headers += 1
                if headers == 1 and "end-to-end encrypted" in line and _IOS.match(normalise(line)):
                    split = _SENDER.match(match["rest"])
                    notice_name = split["sender"].strip() if split else None
                a, b, _c = re.split(r"[./-]", match["date"])
                separators.add(match["date"][len(a)])
                year_first |= len(a) == 4
                first_big |= int(a) > 12
                second_big |= int(b) > 12
                ampm |= match["ampm"] is not None
        if headers == 0:
            raise ImportFormatError(f"{self.path}: no WhatsApp message lines found")
        if year_first:
            return "ymd", notice_name
        if first_big and second_big:
            raise ImportFormatError(
                f"{self.path}: dates are neither consistently day-first nor month-first"
            )
        if first_big:
            return "dmy", notice_name
        if second_big:
            return "mdy", notice_name
        return ("mdy" if ampm and separators <= {"/"} else "dmy"), notice_name

    def _messages(self, chat: _ChatFile, order: str) -> Iterator[tuple[int, str, str, datetime]]:
        current: list[str] | None = None
        size = 0
        start = 0
        sender = ""
        sent_at: datetime | None = None
        for number, raw in chat.lines():
            line = normalise(raw)
            match = _header(line)
            if match is None:
                if current is not None:
                    current.append(line)
                    size += len(line) + 1
                    if size > self.limits.max_text_chars:
                        check_text("\n".join(current), f"{chat.where}:{start}", self.limits)
                elif line.strip():
                    raise ImportFormatError(
                        f"{chat.where}:{number}: does not start with a WhatsApp date and time"
                    )
                continue
            if current is not None and sent_at is not None:
                item = self._finish(chat, start, sender, current, sent_at)
                if item is not None:
                    yield item
            current = None
            when = _timestamp(match, order, f"{chat.where}:{number}")
            rest = match["rest"]
            split = _SENDER.match(rest)
            if split is None or _SYSTEM.search(split["sender"]) or _IOS_MARKED.search(raw):
                continue  # a system line, or an iOS media/system line
            # iOS prefixes people who are not in the phone's contacts with "~ "
            start, sender, sent_at = number, split["sender"].strip().lstrip("~").strip(), when
            current = [split["text"]]
            size = len(split["text"])
        if current is not None and sent_at is not None:
            item = self._finish(chat, start, sender, current, sent_at)
            if item is not None:
                yield item

    def _finish(
        self, chat: _ChatFile, number: int, sender: str, lines: list[str], sent_at: datetime
    ) -> tuple[int, str, str, datetime] | None:
        text = _EDITED.sub("", "\n".join(lines).rstrip())
        if not text.strip() or _MEDIA.match(text.strip()) or not sender:
            return None
        check_text(text, f"{chat.where}:{number}", self.limits)
        return number, sender, text, sent_at


def _timestamp(match: re.Match[str], order: str, where: str) -> datetime:
    a, b, c = (int(x) for x in re.split(r"[./-]", match["date"]))
    if order == "ymd":
        year, month, day = a, b, c
    elif order == "dmy":
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
    if year < 100:
        year += 2000
    parts = [int(x) for x in re.split(r"[:.]", match["time"])]
    hour, minute = parts[0], parts[1]
    second = parts[2] if len(parts) > 2 else 0
    ampm = match["ampm"]
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise ImportFormatError(f"{where}: {match['time']} is not a 12-hour time")
        pm = ampm.strip().lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    try:
        return as_utc(datetime(year, month, day, hour, minute, second))
    except ValueError:
        raise ImportFormatError(
            f"{where}: {match['date']} {match['time']} is not a valid date and time"
        ) from None


class _ChatFile:
    """The chat text, from a ``.txt`` or from inside a zip or folder, read line by line."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self._box: Container | None = None
        self._stream: IO[bytes] | None = None
        self.where = str(path)
        self.conversation = chat_name(path.name)

    def __enter__(self) -> _ChatFile:
        try:
            if is_container(self.path):
                self._box = open_container(self.path, self.limits)
                member = self._member(self._box)
                self.where = self._box.where(member)
                name = chat_name(member)
                if name == "_chat":  # iOS: the chat's name is on the zip or folder around it
                    parent = PurePosixPath(member).parent.name
                    name = chat_name(parent + ".txt" if parent else self.path.name)
                self.conversation = name
                self._stream = self._box.open(member)
            else:
                self._stream = open_file(self.path)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._box is not None:
            self._box.close()

    def _member(self, box: Container) -> str:
        texts = sorted(n for n in box.names if n.lower().endswith(".txt"))
        for name in texts:
            with box.open(name) as stream:
                head = stream.read(4096).decode("utf-8", errors="replace")
            if looks_like_whatsapp(head.splitlines()[:5]):
                return name
        raise ImportFormatError(f"{self.path}: no WhatsApp chat .txt inside")

    def lines(self) -> Iterator[tuple[int, str]]:
        assert self._stream is not None
        cap = self.limits.max_line_bytes
        number = 0
        while True:
            line = self._stream.readline(cap + 1)
            if not line:
                return
            number += 1
            if len(line) > cap and not line.endswith(b"\n"):
                raise ImportFormatError(f"{self.where}:{number}: line is longer than {cap} bytes")
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise ImportFormatError(f"{self.where}:{number}: not valid UTF-8") from None
            yield number, text.rstrip("\r\n")
