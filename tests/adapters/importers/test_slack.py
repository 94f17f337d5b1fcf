"""Slack workspace export: folder and zip, threads, names, mentions, hostile archives."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, Limits, open_import
from tests.adapters.importers.conftest import FIXTURES, mutate, read_all, survives, zip_folder

SLACK = FIXTURES / "slack"


def test_reads_the_extracted_folder() -> None:
    messages = read_all(SLACK, "slack")
    by_id = {m.id: m for m in messages}
    assert len(messages) == 9  # the join, the topic change and the text-less file share are skipped
    parent = by_id["general:1709543520.000200"]
    assert parent.sender == "Bob Tanaka"  # empty display_name falls back to real_name
    assert parent.thread == "general:1709543520.000200"
    assert parent.reply_to is None
    assert parent.text == (
        "@Alice can you review the release notes before 3? <draft> is in the doc"
    )
    reply = by_id["general:1709543700.000300"]
    assert (reply.sender, reply.thread, reply.reply_to) == ("Alice", parent.id, parent.id)
    assert reply.text == "on it, will ping you in #random if I find anything"
    assert by_id["general:1709543900.000400"].text == "thanks! @here release at 3"
    assert by_id["general:1709629200.000100"].sender == "carol"  # only a user name
    assert by_id["general:1709629260.000200"].thread is None
    dm = by_id["D024BE91L:1709640100.000200"]
    assert dm.conversation == "Alice, Bob Tanaka"
    assert [m.sent_at for m in messages if m.conversation == "general"] == sorted(
        m.sent_at for m in messages if m.conversation == "general"
    )


@pytest.mark.parametrize("prefix", ["", "Acme Slack export Mar 4 2024/"])
def test_zip_matches_folder(tmp_path: Path, prefix: str) -> None:
    archive = zip_folder(SLACK, tmp_path / "export.zip", prefix)
    assert read_all(archive, "slack") == read_all(SLACK, "slack")


@pytest.mark.parametrize("me", ["Alice", "alice", "U01ALICE", "alice moreau", "u01alice"])
def test_me_as_display_name_user_name_or_id(me: str) -> None:
    source = open_import(SLACK, "slack")
    assert source.resolve_owner(me) == "Alice"
    assert source.owner_hint() is None


def test_truncated_zip_fails_cleanly(tmp_path: Path) -> None:
    data = zip_folder(SLACK, tmp_path / "export.zip").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ImportFormatError, match=r"cut\.zip: not a readable zip archive"):
        read_all(cut, "slack")
    with pytest.raises(ImportFormatError, match="not a readable zip archive"):
        open_import(cut)


def test_zip_bomb_is_stopped(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in SLACK.rglob("*.json"):
            archive.write(path, path.relative_to(SLACK).as_posix())
        archive.writestr("general/2024-03-06.json", "[" + " " * 5_000_000 + "]")
    assert bomb.stat().st_size < 50_000
    with pytest.raises(ImportFormatError, match="looks like a zip bomb"):
        read_all(bomb, "slack", Limits(max_unpacked_bytes=1_000_000))


@pytest.mark.parametrize(
    ("member", "content", "problem"),
    [
        ("users.json", '{"users": []}', "users.json: expected a list of users"),
        ("users.json", "[{}]", "users.json: user 1 has no 'id'"),
        ("channels.json", '[{"id": "C1"}, 3]', "channels.json: entry 2 is not an object"),
        ("general/2024-03-05.json", '{"ts": "1"}', "2024-03-05.json: expected a list of messages"),
        ("general/2024-03-05.json", '[{"text": "hi"}]', "2024-03-05.json: message 1 has no 'ts'"),
        ("general/2024-03-05.json", '[{"ts": "soon", "text": "x"}]', "is not a Unix timestamp"),
        ("general/2024-03-05.json", "[{", "2024-03-05.json: not valid JSON"),
        ("general/2024-03-05.json", "[" * 100 + "]" * 100, "nested deeper than 64 levels"),
    ],
)
def test_wrong_shapes_name_the_member(
    tmp_path: Path, member: str, content: str, problem: str
) -> None:
    folder = tmp_path / "slack"
    shutil.copytree(SLACK, folder)
    (folder / member).write_text(content)
    with pytest.raises(ImportFormatError) as caught:
        read_all(folder, "slack")
    assert problem in str(caught.value)


def test_missing_listing_is_not_slack(tmp_path: Path) -> None:
    folder = tmp_path / "slack"
    shutil.copytree(SLACK, folder)
    (folder / "channels.json").unlink()
    with pytest.raises(ImportFormatError, match="not a Slack export"):
        read_all(folder, "slack")


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_mutated_exports_never_escape_the_error_contract(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        if data.draw(st.booleans()):
            archive = zip_folder(SLACK, root / "pristine.zip").read_bytes()
            target = root / "export.zip"
            target.write_bytes(mutate(data, archive))
        else:
            target = root / "slack"
            shutil.copytree(SLACK, target)
            files = sorted(p for p in target.rglob("*.json"))
            victim = data.draw(st.sampled_from(files))
            victim.write_bytes(mutate(data, victim.read_bytes()))
        survives(target, "slack")
