"""minime's own privacy export (``privacy export`` / ``minime export``): a zip holding one JSON file.

``minime import minime-export.zip --user U`` restores it: the format is detected from the member
``minime-export.json`` (or, for the bare JSON file, its ``"format": "minime-export"``), and the
source is a :class:`core.privacy.RestorableExport`, so the clone puts each message back into its
persona (by name) with its sender and ``from_owner`` flag as exported: ``--me`` is not needed.

Mapping: every entry of ``messages`` becomes a :class:`~core.models.Message` with the exported
``id``, ``conversation``, ``thread``, ``sender``, ``text``, ``sent_at`` and ``reply_to``; its
``persona`` must name an entry of ``personas``; ``source`` is one of import/live/sample/feedback.
Drafts, approvals, feedback, labels, derived state and vectors are in the export for the owner to
read but are not restored (models are rebuilt from the messages; past drafts stay past).

The document is read whole (capped at ``Limits.max_document_bytes``, nesting at
``Limits.max_depth``) and validated completely before the first message is handed out, so a
malformed export fails before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.importers._common import (
    ImportFormatError,
    ImportSource,
    Limits,
    Record,
    ZipBudget,
    check_text,
    is_container,
    load_json,
    parse_iso,
    read_file_capped,
    top_level_events,
)
from core.models import Message
from core.privacy import EXPORT_FORMAT, EXPORT_MEMBER, ExportedMessage, ExportedPersona

SUPPORTED_VERSIONS = (1,)
_SOURCES = ("import", "live", "sample", "feedback")


def looks_like_minime_export(head: bytes) -> bool:
    """Whether a JSON document's first bytes say ``"format": "minime-export"`` at the top."""
    expect_format = False
    for depth, event, value in top_level_events(head):
        if expect_format:
            return event == "string" and value == EXPORT_FORMAT
        if depth == 1 and event == "map_key":
            if value != "format":
                return False
            expect_format = True
    return False


@dataclass(frozen=True, slots=True)
class _Document:
    personas: list[ExportedPersona]
    active: str | None
    messages: list[ExportedMessage]


class MinimeExportReader:
    """Reads and validates a minime export (zip or bare JSON); see the module docstring."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self._path = path
        self._limits = limits
        self._document: _Document | None = None

    # -- the Reader protocol (plain import: ``open_import(...).messages()``) ------------------

    def records(self) -> Iterator[Record]:
        for held in self.document().messages:
            yield held.message, ()

    def owner_hint(self) -> str | None:
        for persona in self.document().personas:
            if persona.owner_names:
                return persona.owner_names[0]
        return None

    def owner_keys(self) -> tuple[str, ...]:
        return tuple(name for p in self.document().personas for name in p.owner_names)

    # -- reading ----------------------------------------------------------------------------

    def document(self) -> _Document:
        if self._document is None:
            data, where = self._read()
            self._document = _parse(data, where, self._limits)
        return self._document

    def _read(self) -> tuple[Any, str]:
        if is_container(self._path):
            if self._path.is_dir():
                member = self._path / EXPORT_MEMBER
                if not member.is_file():
                    raise ImportFormatError(f"{self._path}: no {EXPORT_MEMBER} inside")
                where = str(member)
                return load_json(read_file_capped(member, self._limits), where, self._limits), where
            archive = ZipBudget(self._path, self._limits)
            try:
                if EXPORT_MEMBER not in archive.names:
                    raise ImportFormatError(f"{self._path}: no {EXPORT_MEMBER} inside the zip")
                where = archive.where(EXPORT_MEMBER)
                return load_json(archive.read(EXPORT_MEMBER), where, self._limits), where
            finally:
                archive.close()
        where = str(self._path)
        return load_json(read_file_capped(self._path, self._limits), where, self._limits), where


class MinimeExportSource(ImportSource):
    """An opened minime export: a plain :class:`ImportSource` that also restores exactly
    (:class:`core.privacy.RestorableExport`)."""

    def __init__(self, *, path: Path, limits: Limits) -> None:
        self._export = MinimeExportReader(path, limits)
        super().__init__(format="minime", path=path, reader=self._export)

    def personas(self) -> list[ExportedPersona]:
        return list(self._export.document().personas)

    def active_persona(self) -> str | None:
        return self._export.document().active

    def held_messages(self) -> Iterator[ExportedMessage]:
        return iter(self._export.document().messages)


def _fail(where: str, what: str) -> ImportFormatError:
    return ImportFormatError(f"{where}: {what}")


def _text(value: object, where: str, field: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _fail(where, f"{field!r} is not a string")
    return value


def _parse(data: Any, where: str, limits: Limits) -> _Document:
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise _fail(where, f'not a minime export (no "format": "{EXPORT_FORMAT}")')
    version = data.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise _fail(where, f"export version {version!r} is not supported (this minime reads 1)")
    raw_personas = data.get("personas")
    if not isinstance(raw_personas, list) or not raw_personas:
        raise _fail(where, "'personas' is missing or empty")
    personas: list[ExportedPersona] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_personas, start=1):
        at = f"{where}: persona {n}"
        if not isinstance(raw, dict):
            raise ImportFormatError(f"{at} is not an object")
        name = _text(raw.get("name"), at, "name")
        assert name is not None
        if not name.strip() or len(name) > 100 or name.lower() in seen:
            raise ImportFormatError(f"{at}: the name is empty, too long or repeated")
        seen.add(name.lower())
        owners = raw.get("owner_names", [])
        if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
            raise ImportFormatError(f"{at}: 'owner_names' is not a list of strings")
        personas.append(ExportedPersona(name=name, owner_names=tuple(owners)))
    names = {p.name for p in personas}
    account = data.get("account")
    active = account.get("active_persona") if isinstance(account, dict) else None
    if active is not None and active not in names:
        active = None
    raw_messages = data.get("messages", [])
    if not isinstance(raw_messages, list):
        raise _fail(where, "'messages' is not a list")
    messages: list[ExportedMessage] = []
    for n, raw in enumerate(raw_messages, start=1):
        messages.append(_message(raw, f"{where}: message {n}", names, limits))
    return _Document(personas=personas, active=active, messages=messages)


def _message(raw: object, at: str, personas: set[str], limits: Limits) -> ExportedMessage:
    if not isinstance(raw, dict):
        raise ImportFormatError(f"{at} is not an object")
    msg_id = _text(raw.get("id"), at, "id")
    if not msg_id:
        raise ImportFormatError(f"{at}: 'id' is empty")
    persona = raw.get("persona")
    if persona not in personas:
        raise ImportFormatError(f"{at}: 'persona' names no persona of the export")
    from_owner = raw.get("from_owner")
    if not isinstance(from_owner, bool):
        raise ImportFormatError(f"{at}: 'from_owner' is not true or false")
    source = raw.get("source", "import")
    if source not in _SOURCES:
        raise ImportFormatError(f"{at}: 'source' is not one of {', '.join(_SOURCES)}")
    text = _text(raw.get("text"), at, "text")
    assert text is not None
    message = Message(
        id=msg_id,
        conversation=_text(raw.get("conversation"), at, "conversation") or "",
        thread=_text(raw.get("thread"), at, "thread", optional=True),
        sender=_text(raw.get("sender"), at, "sender") or "",
        text=check_text(text, at, limits),
        sent_at=parse_iso(raw.get("sent_at"), at, "sent_at"),
        reply_to=_text(raw.get("reply_to"), at, "reply_to", optional=True),
    )
    return ExportedMessage(
        persona=str(persona),
        message=message,
        from_owner=from_owner,
        source=source,
    )
