"""Plain text: one message per paragraph."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, Limits, open_import
from tests.adapters.importers.conftest import FIXTURES, read_all, survives

NOTES = FIXTURES / "notes.txt"


def test_paragraphs_become_messages(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(NOTES.read_bytes())
    mtime = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    messages = read_all(path, "text")
    assert [m.text for m in messages] == [
        "Quick thoughts on the offsite.",
        "I think we should keep it to two days. Three is too long,\n"
        "people get tired and the last day is always wasted.",
        "Also: no slides before lunch!",
        "Let's decide by Friday.",
    ]
    assert [m.sent_at for m in messages] == [mtime + timedelta(seconds=i) for i in range(4)]
    assert [m.id for m in messages] == ["notes:1", "notes:2", "notes:3", "notes:4"]
    assert {(m.sender, m.conversation) for m in messages} == {("me", "notes")}
    source = open_import(path)
    assert source.format == "text"
    assert source.resolve_owner(None) == "me"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "no messages"),
        (b"\n \n\n", "no messages"),
        (b"fine\n\nbad \xff byte\n", "notes.txt:3: not valid UTF-8"),
        (b"a\x00b\n", "notes.txt:1: binary data, not text"),
        (b"x" * 300, "over the 100 character limit"),
    ],
)
def test_bad_text(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "text", Limits(max_text_chars=100))
    assert problem in str(caught.value)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_the_error_contract(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "notes.txt"
        path.write_bytes(data)
        survives(path, "text")
