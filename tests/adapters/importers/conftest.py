"""Shared helpers for the importer tests: fixture paths, zipping, and the malformed-input check."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, Limits, UnknownOwner, open_import
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
    """Malformed input may import or fail, but only with a one-sentence ImportFormatError.

    The owner lookups go through the same parsing, so they are held to the same contract.
    """
    try:
        read_all(path, fmt, limits)
    except ImportFormatError as exc:
        _one_sentence(exc)
    source = open_import(path, fmt, limits=limits)
    for lookup in (source.owner_hint, lambda: source.resolve_owner(None)):
        try:
            lookup()
        except (ImportFormatError, UnknownOwner) as exc:
            _one_sentence(exc)


def _one_sentence(exc: Exception) -> None:
    text = str(exc)
    assert text and "\n" not in text, text


def mutate(data: st.DataObject, original: bytes) -> bytes:
    """Flip, delete, insert or truncate a few bytes."""
    buffer = bytearray(original)
    for _ in range(data.draw(st.integers(1, 6))):
        if not buffer:
            break
        at = data.draw(st.integers(0, len(buffer) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            buffer[at] ^= data.draw(st.integers(1, 255))
        elif action == "delete":
            del buffer[at : at + data.draw(st.integers(1, 20))]
        elif action == "insert":
            buffer[at:at] = data.draw(st.binary(min_size=1, max_size=12))
        else:
            del buffer[at:]
    return bytes(buffer)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
