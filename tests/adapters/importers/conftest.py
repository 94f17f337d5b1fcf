"""Shared helpers for the importer tests: fixture paths, zipping, and the malformed-input check."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from adapters.importers import ImportFormatError, Limits, open_import
from core.models import Message

FIXTURES = Path(__file__).parent / "fixtures"


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    """Zip ``folder``'s files into ``target`` (members named relative to it, under ``prefix``)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return target


def read_all(path: Path, fmt: str, limits: Limits | None = None) -> list[Message]:
    """Every message, or :class:`ImportFormatError` — any other exception fails the test."""
    source = open_import(path, fmt, limits=limits)
    messages = list(source.messages())
    for message in messages:
        assert isinstance(message, Message)
        assert message.sent_at.tzinfo is not None
        assert message.sent_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert isinstance(message.id, str) and message.id
    return messages


def survives(path: Path, fmt: str, limits: Limits | None = None) -> None:
    """Malformed input may import or fail, but only with a one-sentence ImportFormatError."""
    try:
        read_all(path, fmt, limits)
    except ImportFormatError as exc:
        text = str(exc)
        assert text and "\n" not in text, text
        assert "Traceback" not in text


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
