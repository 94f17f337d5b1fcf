"""E-mail: an mbox file (``mbox``), or one ``.eml`` file or a folder or zip of them (``eml``).

Mapping:

- ``id`` is the ``Message-ID`` without angle brackets (a message without one gets
  ``sha1:<digest of its bytes>``, stable across re-imports); ``reply_to`` is ``In-Reply-To``.
- ``conversation`` is the thread root: the first ``References`` id, else ``In-Reply-To``, else
  the message's own id — so a thread's first message and its replies share it. ``thread`` is
  ``None`` (the conversation already is the thread).
- ``sender`` is the ``From`` display name, else the address. The same address always maps to the
  name first seen for it (mail clients disagree about names), and ``--me`` also matches the
  address and every name seen for it.
- ``text``: ``text/plain`` preferred, else HTML with tags, ``<blockquote>`` and Gmail quote blocks
  removed. Quoted text is stripped: lines starting with ``>``, attribution lines ("On … wrote:"
  and the French, German, Spanish, Italian, Dutch, Portuguese, Polish and Russian variants, also
  wrapped over two lines), Outlook's "-----Original Message-----"/"From: … Sent: …" blocks, the
  "-- " signature and everything after it, and "Sent from my iPhone"-style footers. A message
  with nothing left (a bare forward) is skipped.
- Broken headers (no usable ``From``, a missing or unparseable ``Date``, header lines without a
  colon) are an :class:`ImportFormatError` naming the message.
- Owner hint: the most frequent ``From`` among messages labelled ``Sent`` (Gmail's
  ``X-Gmail-Labels``), else — when the file or folder name contains "sent" or one address wrote at
  least 80% of the messages — the most frequent ``From``; otherwise ``None``. This costs one pass.
"""

from __future__ import annotations

import abc
import contextlib
import email.errors
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from email import policy
from email.header import decode_header, make_header
from email.message import Message as MailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

from adapters.importers._common import (
    ImportFormatError,
    Limits,
    Record,
    as_utc,
    check_text,
    is_container,
    open_container,
    open_file,
    read_file_capped,
)
from core.models import Message

_MSG_ID = re.compile(r"<([^<>\s]{1,998})>")
_VERBS = (
    r"wrote|a\s+écrit|schrieb|escribió|ha\s+scritto|schreef|escreveu|napisała?|написала?|"
    r"kirjoitti|skrev|írta"
)
_ATTRIBUTION = re.compile(rf"^(?P<head>.{{0,300}})\b(?:{_VERBS})\b[^\n]{{0,120}}:\s*$", re.I)
_OPENERS = re.compile(
    r"^\s*(?:on|le|am|el|il|op|em|no dia|w dniu|dnia|den|pe|\d)\b|@|\d{4}|\d:\d\d", re.I
)
_OUTLOOK = re.compile(
    r"^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|forwarded message)\s*-{2,}\s*$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|von|de|da)\*?:\s", re.I)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(?:sent|date|gesendet|envoyé|enviado|to|an|à|para)\*?:\s", re.I)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_FOOTER = re.compile(
    r"^\s*(?:sent from my \w[\w ]{0,30}|sent from mail for windows.*|get outlook for \w+.*|"
    r"envoyé de mon \w+.*|von meinem \w+ gesendet.*|enviado desde mi \w+.*|"
    r"sent from (?:yahoo mail|proton ?mail|gmail).*)\s*$",
    re.I,
)
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|tr|rv)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


class _HtmlText(HTMLParser):
    """Visible text of an HTML body, without quoted blocks."""

    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"})
    _HIDDEN = frozenset({"script", "style", "head", "title", "blockquote"})
    _VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[bool] = []

    @property
    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")
        if tag in self._VOID:
            return
        classes = " ".join(v or "" for k, v in attrs if k == "class")
        hidden = tag in self._HIDDEN or "gmail_quote" in classes or "moz-cite" in classes
        self._stack.append(hidden)
        if len(self._stack) > 500:
            self._stack = self._stack[-500:]

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")
        if tag not in self._VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML mail body, quoted blocks dropped."""
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's own complaints on garbage
        pass
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quotes(body: str) -> str:
    """The author's own words: quotes, attributions, forwarded blocks and signatures removed."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line in ("-- ", "--") or _FOOTER.match(line) or _OUTLOOK.match(line):
            break
        if _RULE.match(line) and _next_is(lines, index, _OUTLOOK_FROM):
            break
        if _OUTLOOK_FROM.match(line) and _next_is(lines, index, _OUTLOOK_NEXT):
            break
        span = _attribution(lines, index)
        if span:
            after = index + span
            while after < len(lines) and not lines[after].strip():
                after += 1
            if after < len(lines) and lines[after].lstrip().startswith(">"):
                index += span  # inline reply: drop the attribution, quotes go below
                continue
            break  # top-posted reply: everything below is the quoted original
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
        index += 1
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _next_is(lines: list[str], index: int, pattern: re.Pattern[str]) -> bool:
    for line in lines[index + 1 : index + 3]:
        if line.strip():
            return pattern.match(line) is not None
    return False


def _attribution(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) an attribution starting at ``index`` spans, or 0."""
    line = lines[index]
    if len(line) > 400 or not line.strip():
        return 0
    if _ATTRIBUTION.match(line) and _OPENERS.search(line):
        return 1
    if index + 1 < len(lines):
        joined = f"{line.rstrip()} {lines[index + 1].strip()}"
        if len(joined) <= 400 and _ATTRIBUTION.match(joined) and _OPENERS.search(line):
            return 2
    return 0


def normalise_subject(subject: str) -> str:
    """``Re: Fwd: Lunch`` → ``lunch``."""
    return " ".join(_SUBJECT_PREFIX.sub("", subject).split()).casefold() or "(no subject)"


class _MailParser:
    """Turns raw message bytes into records, keeping one name per address."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.names: dict[str, str] = {}
        # compat32 keeps headers as strings: several times faster than the structured
        # header registry of policy.default, and all that is needed here.
        self._parser = BytesParser(policy=policy.compat32)

    def parse(self, data: bytes, where: str) -> tuple[Record | None, bool]:
        """The record (``None`` when nothing of the author's is left) and the Sent label."""
        try:
            return self._convert(self._parser.parsebytes(data), data, where)
        except ImportFormatError:
            raise
        except (Exception, RecursionError) as exc:  # the email package raises a zoo on garbage
            raise ImportFormatError(f"{where}: broken headers ({type(exc).__name__})") from None

    def _convert(self, msg: MailMessage, data: bytes, where: str) -> tuple[Record | None, bool]:
        for defect in msg.defects:
            if isinstance(defect, email.errors.MissingHeaderBodySeparatorDefect):
                raise ImportFormatError(f"{where}: broken headers (a header line has no colon)")
        headers: dict[str, str] = {}
        for key, value in msg.raw_items():  # raw: 8-bit bytes kept (as surrogates) to decode
            headers.setdefault(key.lower(), value)
        raw_from = _header(headers, "from")
        pairs = getaddresses([raw_from]) if raw_from is not None else []
        pairs = [(n, a) for n, a in pairs if "@" in a or (n and a)]
        if not pairs:
            raise ImportFormatError(f"{where}: broken headers (no usable 'From')")
        name, address = pairs[0]
        address = address.strip().lower()
        name = name.strip().strip('"').strip()
        raw_date = headers.get("date")
        if raw_date is None:
            raise ImportFormatError(f"{where}: broken headers (no 'Date')")
        try:
            sent_at = as_utc(parsedate_to_datetime(str(raw_date)))
        except (TypeError, ValueError, IndexError, OverflowError):
            raise ImportFormatError(
                f"{where}: broken headers ('Date' is not a date: {str(raw_date)[:60]!r})"
            ) from None
        own = _first_id(headers.get("message-id"))
        ident = own or "sha1:" + hashlib.sha1(data).hexdigest()[:20]
        reply_to = _first_id(headers.get("in-reply-to"))
        references = _MSG_ID.findall(str(headers.get("references") or ""))
        conversation = (references[0] if references else None) or reply_to or own
        if conversation is None:
            conversation = normalise_subject(_header(headers, "subject") or "")
        sender = self.names.setdefault(address, name or address) if address else name
        text = check_text(strip_quotes(_body(msg)), where, self.limits)
        labels = str(headers.get("x-gmail-labels") or "")
        is_sent = "sent" in (label.strip().casefold() for label in labels.split(","))
        if not text:
            return None, is_sent
        message = Message(
            id=ident,
            conversation=conversation,
            thread=None,
            sender=sender,
            text=text,
            sent_at=sent_at,
            reply_to=reply_to,
        )
        return (message, tuple(a for a in (address, name) if a)), is_sent


def _first_id(value: object) -> str | None:
    if value is None:
        return None
    found = _MSG_ID.search(str(value))
    if found:
        return found.group(1)
    text = str(value).strip()
    return text if text and " " not in text and len(text) < 998 else None


def _header(headers: dict[str, str], name: str) -> str | None:
    """A header's value with RFC 2047 encoded words decoded and raw 8-bit bytes read as UTF-8."""
    value = headers.get(name)
    if value is None:
        return None
    text = str(value)
    if "=?" in text:
        with contextlib.suppress(email.errors.HeaderParseError, LookupError, ValueError):
            text = str(make_header(decode_header(text)))
    return _unsurrogate(text)


def _unsurrogate(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


_MAX_PARTS = 1_000


def _body(msg: MailMessage) -> str:
    """``text/plain`` preferred, else HTML made text; attachments are not the body."""
    plain = html = None
    for count, part in enumerate(msg.walk()):
        if count > _MAX_PARTS:
            break
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html is None:
            html = part
        if plain is not None:
            break
    chosen = plain or html
    if chosen is None:
        return ""
    payload = chosen.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = chosen.get_content_charset() or "utf-8"
    try:
        content = payload.decode(charset, "replace")
    except (LookupError, ValueError):
        content = payload.decode("utf-8", "replace")
    return html_to_text(content) if chosen is html else content


class _MailReader(abc.ABC):
    """Shared by mbox and eml: owner hint from one pass, records from the raw messages."""

    path: Path
    limits: Limits

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self._hint: tuple[str | None] | None = None

    @abc.abstractmethod
    def _raw(self) -> Iterator[tuple[bytes, str]]:
        """Each message's raw bytes with where it was found (for error messages)."""

    def owner_keys(self) -> tuple[str, ...]:
        return ()

    def records(self) -> Iterator[Record]:
        for record, _sent in self._parsed():
            if record is not None:
                yield record

    def _parsed(self) -> Iterator[tuple[Record | None, bool]]:
        parser = _MailParser(self.limits)
        count = 0
        for data, where in self._raw():
            count += 1
            yield parser.parse(data, where)
        if count == 0:
            raise ImportFormatError(f"{self.path}: no messages")

    def owner_hint(self) -> str | None:
        if self._hint is None:
            everyone: Counter[str] = Counter()
            sent: Counter[str] = Counter()
            for record, is_sent in self._parsed():
                if record is None:
                    continue
                everyone[record[0].sender] += 1
                if is_sent:
                    sent[record[0].sender] += 1
            hint = None
            if sent:
                hint = sent.most_common(1)[0][0]
            elif everyone:
                top, count = everyone.most_common(1)[0]
                total = sum(everyone.values())
                if "sent" in self.path.name.casefold() or (total >= 2 and count >= 0.8 * total):
                    hint = top
            self._hint = (hint,)
        return self._hint[0]


class MboxReader(_MailReader):
    """Reads an mbox file (or the ``.mbox`` files in a folder or zip, e.g. a Takeout)."""

    def _raw(self) -> Iterator[tuple[bytes, str]]:
        if is_container(self.path):
            box = open_container(self.path, self.limits)
            try:
                names = [n for n in box.names if n.lower().endswith(".mbox")]
                if not names:
                    raise ImportFormatError(f"{self.path}: no .mbox file inside")
                for name in names:
                    with box.open(name) as stream:
                        yield from self._split(stream, box.where(name))
            finally:
                box.close()
            return
        with open_file(self.path) as stream:
            yield from self._split(stream, str(self.path))

    def _split(self, stream: IO[bytes], where: str) -> Iterator[tuple[bytes, str]]:
        """Messages of an mbox (mboxo/mboxrd): each starts at a ``From `` line after a blank."""
        cap = self.limits.max_document_bytes
        current: list[bytes] | None = None
        size = 0
        number = 0
        previous_blank = True
        start_line = 0
        lines = iter(lambda: stream.readline(cap + 1), b"")
        for line_number, line in enumerate(lines, 1):
            if line.startswith(b"From ") and previous_blank:
                if current is not None:
                    yield b"".join(current), f"{where}: message {number} (line {start_line})"
                number += 1
                current, size, start_line = [], 0, line_number
            elif current is None:
                if line.strip():
                    raise ImportFormatError(f"{where}:{line_number}: not an mbox (no 'From ' line)")
            else:
                if re.match(rb"^>+From ", line):
                    line = line[1:]
                current.append(line)
                size += len(line)
                if size > cap:
                    raise ImportFormatError(
                        f"{where}: message {number} (line {start_line}) is larger than {cap} bytes"
                    )
            previous_blank = not line.strip()
        if current is not None:
            yield b"".join(current), f"{where}: message {number} (line {start_line})"


class EmlReader(_MailReader):
    """Reads one ``.eml`` file, or every ``.eml`` in a folder or zip."""

    def _raw(self) -> Iterator[tuple[bytes, str]]:
        if is_container(self.path):
            box = open_container(self.path, self.limits)
            try:
                names = sorted(n for n in box.names if n.lower().endswith(".eml"))
                if not names:
                    raise ImportFormatError(f"{self.path}: no .eml files inside")
                for name in names:
                    yield box.read(name), box.where(name)
            finally:
                box.close()
            return
        yield read_file_capped(self.path, self.limits), str(self.path)
