"""DiscordChatExporter JSON."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, open_import
from tests.adapters.importers.conftest import FIXTURES, mutate, read_all, survives

EXPORT = FIXTURES / "discord.json"


def test_reads_default_and_reply_messages_only() -> None:
    messages = read_all(EXPORT, "discord")
    assert [m.id for m in messages] == [
        "1210000000000000002",
        "1210000000000000003",
        "1210000000000000006",
    ]  # the join, the pin notice and the attachment-only message are skipped
    reply = messages[1]
    assert reply.reply_to == "1210000000000000002"
    assert reply.sender == "alice.m"
    assert reply.conversation == "3d-printing"
    assert reply.sent_at == datetime(2024, 3, 1, 8, 5, 0, 123000, tzinfo=UTC)  # +02:00 → UTC
    assert messages[0].reply_to is None


@pytest.mark.parametrize("me", ["alice.m", "Alice", "990000000000000001"])
def test_me_as_user_name_nickname_or_id(me: str) -> None:
    assert open_import(EXPORT).resolve_owner(me) == "alice.m"


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        ([{"id": "1", "type": "Default", "content": "hi", "timestamp": "2024-01-01T00:00:00Z"}],
         "message 1 has no 'author'"),
        ([{"type": "Default", "content": "hi"}], "message ? has no 'id'"),
        ([{"id": "1", "content": "hi", "author": {"name": "a"}, "timestamp": "later"}],
         "message 1: 'timestamp' is not an ISO 8601 time: 'later'"),
        ([{"id": "1", "content": ["hi"], "author": {"name": "a"}}], "'content' is not a string"),
        (["nope"], "a message is not an object"),
    ],
)  # fmt: skip
def test_wrong_shapes(tmp_path: Path, messages: list[object], problem: str) -> None:
    path = tmp_path / "channel.json"
    path.write_text(json.dumps({"guild": {}, "channel": {"id": "5"}, "messages": messages}))
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "discord")
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_not_an_export(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"something": "else"}')
    with pytest.raises(ImportFormatError, match="not a DiscordChatExporter export"):
        read_all(path, "discord")


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_mutated_exports_never_escape_the_error_contract(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "channel.json"
        path.write_bytes(mutate(data, EXPORT.read_bytes()))
        survives(path, "discord")


def test_a_renamed_user_stays_one_sender(tmp_path: Path) -> None:
    def message(ident: str, name: str) -> dict[str, object]:
        return {"id": ident, "type": "Default", "timestamp": "2024-01-01T00:00:00Z",
                "content": "hey", "author": {"id": "42", "name": name}}  # fmt: skip

    path = tmp_path / "channel.json"
    document = {
        "channel": {"name": "general"},
        "messages": [message("1", "old"), message("2", "new")],
    }
    path.write_text(json.dumps(document))
    assert [m.sender for m in read_all(path, "discord")] == ["old", "old"]
    assert open_import(path).resolve_owner("NEW") == "old"
