"""Telegram Desktop result.json: single chat and full account exports."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, UnknownOwner, open_import
from tests.adapters.importers.conftest import FIXTURES, mutate, read_all, survives, zip_folder

SINGLE = FIXTURES / "telegram" / "single_chat.json"
FULL = FIXTURES / "telegram" / "full_export.json"


def test_single_chat() -> None:
    messages = read_all(SINGLE, "telegram")
    # the service message (a call) and the photo without a caption are skipped
    assert [m.id for m in messages] == ["4815162342:102", "4815162342:103", "4815162342:105"]
    answer = messages[1]
    assert answer.reply_to == "4815162342:102"
    assert answer.text == "yes! 7pm at https://gym.example.com"  # entity list joined
    assert answer.sent_at == datetime(2024, 3, 1, 10, 5, 10, tzinfo=UTC)  # from date_unixtime
    assert {m.conversation for m in messages} == {"Bob Tanaka"}


def test_single_personal_chat_names_the_other_side_as_owner() -> None:
    source = open_import(SINGLE)
    assert source.format == "telegram"
    assert source.owner_hint() == "Alice Moreau"
    assert source.resolve_owner(None) == "Alice Moreau"
    assert source.resolve_owner("user1000001") == "Alice Moreau"
    assert source.resolve_owner("1000001") == "Alice Moreau"


def test_full_export_streams_every_chat() -> None:
    messages = read_all(FULL, "telegram")
    assert [m.id for m in messages] == [
        "4815162342:1",
        "4815162342:2",
        "777000111:11",
        "777000111:12",
        "777000111:13",
        "1000001:1",
    ]
    assert messages[2].text == "Next pick: Piranesi?"
    assert messages[3].reply_to == "777000111:11"
    assert messages[4].sender == "user333"  # deleted account: from is null, from_id remains
    assert messages[5].conversation == "Saved Messages"
    assert messages[0].sent_at == datetime(2024, 2, 10, 18, 0, tzinfo=UTC)  # naive date as UTC


def test_full_export_owner_is_the_account_as_its_messages_name_it() -> None:
    source = open_import(FULL)
    # personal_information says "Alice Moreau", but her messages carry from="Alice"
    assert source.owner_hint() == "Alice"
    assert source.resolve_owner(None) == "Alice"
    assert source.resolve_owner("ALICE") == "Alice"
    assert source.resolve_owner("Alice Moreau") == "Alice"  # the account's own full name
    assert source.resolve_owner("@alice_m") == "Alice"
    assert source.resolve_owner("alice_m") == "Alice"
    with pytest.raises(UnknownOwner, match=r"the most frequent senders are: Alice \(3\), Bob"):
        source.resolve_owner("Zed")


def test_folder_and_zip(tmp_path: Path) -> None:
    folder = tmp_path / "ChatExport_2024-03-10"
    folder.mkdir()
    (folder / "result.json").write_bytes(FULL.read_bytes())
    assert read_all(folder, "telegram") == read_all(FULL, "telegram")
    archive = zip_folder(folder, tmp_path / "export.zip", "ChatExport_2024-03-10/")
    assert read_all(archive, "telegram") == read_all(FULL, "telegram")
    assert open_import(archive).format == "telegram"


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"name": "x", "type": "personal_chat", "id": 1, "messages": [3]}, "is not an object"),
        ({"name": "x", "id": 1, "messages": [{"type": "message", "text": "hi"}]}, "has no 'id'"),
        (
            {
                "name": "x",
                "id": 1,
                "messages": [{"id": 1, "date": "noon", "from": "a", "text": ""}],
            },
            None,
        ),
        (
            {
                "name": "x",
                "id": 1,
                "messages": [{"id": 1, "date": "noon", "from": "a", "text": "h"}],
            },
            "'date' is not an ISO 8601 time: 'noon'",
        ),
        (
            {"name": "x", "id": 1, "messages": [{"id": 1, "date_unixtime": "x", "text": "h"}]},
            "is not a Unix timestamp",
        ),
        (
            {"name": "x", "id": 1, "messages": [{"id": 1, "date": "2024-01-01", "text": 5}]},
            "'text' is neither a string nor a list",
        ),
        ([1, 2, 3], "not a Telegram export"),
        ({"unrelated": True}, "not a Telegram export"),
    ],
)
def test_wrong_shapes(tmp_path: Path, document: object, problem: str | None) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(document))
    if problem is None:
        assert read_all(path, "telegram") == []  # text-less messages are skipped
        return
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "telegram")
    assert str(caught.value).startswith(str(path))
    assert problem in str(caught.value)


def test_deep_nesting_and_truncation(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"name": "x", "messages": [' + "[" * 200 + "]" * 200 + "]}")
    with pytest.raises(ImportFormatError, match="nested deeper than 64 levels"):
        read_all(deep, "telegram")
    cut = tmp_path / "cut.json"
    cut.write_bytes(FULL.read_bytes()[:900])
    with pytest.raises(ImportFormatError, match="not valid JSON"):
        read_all(cut, "telegram")


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_mutated_exports_never_escape_the_error_contract(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from([SINGLE, FULL])).read_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "result.json"
        path.write_bytes(mutate(data, original))
        survives(path, "telegram")


def test_a_renamed_account_stays_one_sender(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    messages = [
        {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "from": "Bob",
         "from_id": "user2", "text": "hi"},
        {"id": 2, "type": "message", "date": "2024-01-02T10:00:00", "from": "Bobby T",
         "from_id": "user2", "text": "new name, who dis"},
    ]  # fmt: skip
    path.write_text(
        json.dumps({"name": "Bob", "type": "personal_chat", "id": 2, "messages": messages})
    )
    assert [m.sender for m in read_all(path, "telegram")] == ["Bob", "Bob"]
    assert open_import(path).resolve_owner("bobby t") == "Bob"


def test_full_export_without_personal_information_is_still_detected(tmp_path: Path) -> None:
    document = json.loads(FULL.read_text())
    del document["personal_information"]
    document = {
        "about": document["about"],
        "contacts": {"list": [{"n": "x" * 100}] * 1000},
    } | document
    path = tmp_path / "result.json"
    path.write_text(json.dumps(document))
    source = open_import(path)
    assert source.format == "telegram"
    assert source.owner_hint() is None
    assert len(list(source.messages())) == 6
