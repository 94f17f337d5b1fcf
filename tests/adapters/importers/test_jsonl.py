"""Canonical JSONL: strict line validation, gzip, owner resolution, and malformed input."""

from __future__ import annotations

import gzip
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, Limits, UnknownOwner, open_import
from tests.adapters.importers.conftest import FIXTURES, mutate, read_all, survives

FIXTURE = FIXTURES / "messages.jsonl"


def _line(**overrides: object) -> str:
    record: dict[str, object] = {
        "id": "x1",
        "conversation": "c",
        "thread": None,
        "sender": "alice",
        "text": "hi",
        "sent_at": "2024-01-01T10:00:00Z",
        "reply_to": None,
    }
    record.update(overrides)
    return json.dumps({k: v for k, v in record.items() if v is not ...})


def _write(tmp_path: Path, lines: list[str], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_the_fixture() -> None:
    messages = read_all(FIXTURE, "jsonl")
    assert [m.id for m in messages] == ["m1", "m2", "3", "m4"]
    assert messages[1].reply_to == "m1"
    assert messages[2].thread == "t1"
    # +01:00 converted to UTC; a naive time is taken as UTC
    assert messages[2].sent_at == datetime(2024, 3, 4, 16, 45, tzinfo=UTC)
    assert messages[3].sent_at == datetime(2024, 3, 4, 17, 50, tzinfo=UTC)
    assert messages[3].reply_to == "3"  # integer ids become strings
    assert messages[3].thread is None  # absent thread is null


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    target = tmp_path / "messages.jsonl.gz"
    target.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    assert [m.id for m in read_all(target, "jsonl")] == ["m1", "m2", "3", "m4"]


def test_bad_time_names_file_line_and_value(tmp_path: Path) -> None:
    lines = [_line(id=f"m{i}") for i in range(16)] + [_line(sent_at="yesterday")]
    path = _write(tmp_path, lines)
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "jsonl")
    assert str(caught.value) == f"{path}:17: 'sent_at' is not an ISO 8601 time: 'yesterday'"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        (_line(sender=...), "missing 'sender'"),
        (_line(sender=7), "'sender' must be a string"),
        (_line(sender=None), "'sender' must be a string"),
        (_line(text=None), "'text' must be a string"),
        (_line(id=True), "'id' must be a non-empty string or an integer"),
        (_line(id=""), "'id' must be a non-empty string or an integer"),
        (_line(reply_to=[1]), "'reply_to' must be a string, an integer or null"),
        (_line(sent_at=1700000000), "'sent_at' is not an ISO 8601 time"),
        ("[" * 5000 + "]" * 5000, "JSON nested deeper than 64 levels"),
    ],
)
def test_bad_lines_are_reported_with_their_line(tmp_path: Path, line: str, problem: str) -> None:
    path = _write(tmp_path, [_line(), "", line])
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "jsonl")
    assert str(caught.value).startswith(f"{path}:3: ")
    assert problem in str(caught.value)


def test_the_ubuntu_corpus_sample_suffix_is_tolerated(tmp_path: Path) -> None:
    (message,) = read_all(
        _write(tmp_path, [_line(sent_at="2004-11-15_03T02:15:00+00:00")]), "jsonl"
    )
    assert message.sent_at == datetime(2004, 11, 15, 2, 15, tzinfo=UTC)


def test_an_empty_sender_is_kept(tmp_path: Path) -> None:
    (message,) = read_all(_write(tmp_path, [_line(sender="")]), "jsonl")
    assert message.sender == ""


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(_line().encode() + b"\n" + _line(text="caf\xe9").encode()[:-3] + b'\xff"}\n')
    with pytest.raises(ImportFormatError, match=r"in\.jsonl:2: not valid UTF-8$"):
        read_all(path, "jsonl")


def test_empty_and_blank_files_have_no_messages(tmp_path: Path) -> None:
    for content in ("", "\n\n  \n"):
        path = tmp_path / "empty.jsonl"
        path.write_text(content)
        with pytest.raises(ImportFormatError) as caught:
            read_all(path, "jsonl")
        assert str(caught.value) == f"{path}: no messages"


def test_corrupted_and_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(FIXTURE.read_bytes() * 50)
    truncated = tmp_path / "t.jsonl.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFormatError, match="gzip data is damaged or truncated"):
        read_all(truncated, "jsonl")
    corrupted = tmp_path / "c.jsonl.gz"
    corrupted.write_bytes(data[:20] + bytes(b ^ 0x5A for b in data[20:60]) + data[60:])
    with pytest.raises(ImportFormatError):
        read_all(corrupted, "jsonl")


def test_caps_on_text_and_line_length(tmp_path: Path) -> None:
    path = _write(tmp_path, [_line(text="x" * 200)])
    with pytest.raises(ImportFormatError, match="over the 100 character limit"):
        read_all(path, "jsonl", Limits(max_text_chars=100))
    with pytest.raises(ImportFormatError, match=r":1: line is longer than 64 bytes"):
        read_all(path, "jsonl", Limits(max_line_bytes=64))


def test_owner_resolution() -> None:
    source = open_import(FIXTURE, "jsonl")
    assert source.owner_hint() is None
    assert source.resolve_owner("alice") == "alice"
    assert source.resolve_owner("ALICE") == "alice"
    with pytest.raises(UnknownOwner) as caught:
        source.resolve_owner("dave")
    assert str(caught.value) == (
        f"--me 'dave' is not a sender in {FIXTURE}; "
        "the most frequent senders are: alice (2), bob (1), carol (1)"
    )
    with pytest.raises(UnknownOwner, match="pass --me"):
        source.resolve_owner(None)


_SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_escape_the_error_contract(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        path.write_bytes(data)
        survives(path, "jsonl")


@_SETTINGS
@given(st.data())
def test_mutated_fixture_never_escapes_the_error_contract(data: st.DataObject) -> None:
    original = FIXTURE.read_bytes()
    mutated = mutate(data, original)
    compressed = data.draw(st.booleans())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        path.write_bytes(mutate(data, gzip.compress(original)) if compressed else mutated)
        survives(path, "jsonl")


def test_a_sender_name_beats_another_senders_alias_and_empty_me_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, [_line(id="1", sender="Bob"), _line(id="2", sender="bob"),
                             _line(id="3", sender="bob")])  # fmt: skip
    source = open_import(path, "jsonl")
    assert source.resolve_owner("BOB") == "bob"  # the more frequent spelling
    assert source.resolve_owner("Bob") == "Bob"  # an exact match first
    with pytest.raises(UnknownOwner, match="--me is empty"):
        source.resolve_owner("  ")


@pytest.mark.parametrize(
    ("first", "problem"),
    [
        (_line(sender=...), "missing 'sender'"),
        (_line(sent_at=...), "missing 'sent_at'"),
        (_line(sender=..., sent_at=...), "missing 'sender', 'sent_at'"),
        # JSON Lines by shape, none of the canonical keys: the reader lists what is missing.
        (json.dumps({"from": "alice", "body": "hi"}), "missing 'id', 'conversation', 'sender'"),
    ],
)
def test_a_jsonl_file_with_missing_fields_says_what_is_missing_without_format(
    tmp_path: Path, first: str, problem: str
) -> None:
    second = first if not first.startswith('{"from"') else json.dumps({"from": "bob", "body": "x"})
    path = _write(tmp_path, [first, second], name="export.jsonl")
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "auto")
    assert str(caught.value).startswith(f"{path}:1: ") and problem in str(caught.value)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "m1", "text": "never closed', "Unterminated string starting at column 22"),
        ('{"id": "m1",}', "Expecting property name enclosed in double quotes at column 13"),
        ('{"id": "m1"} x', "Extra data at column 14"),
    ],
)
def test_json_errors_are_whole_sentences_with_the_place(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = _write(tmp_path, [_line(), line])
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "jsonl")
    assert str(caught.value) == f"{path}:2: not valid JSON ({reason})"
