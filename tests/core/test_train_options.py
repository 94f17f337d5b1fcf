"""``train … --me "Your Name"``: quoted values reach the importer whole, on every platform."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import Attachment, CommandInvocation, UserRef


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt


@pytest.fixture
def export(tmp_path: Path) -> Path:
    rows = []
    for n in range(6):
        sender = "Sam Rivera" if n % 2 else "Priya Natarajan"
        rows.append(
            {
                "id": f"m{n}",
                "conversation": "dm:priya",
                "thread": None,
                "sender": sender,
                "text": f"message number {n}",
                "sent_at": f"2026-03-01T10:0{n}:00+00:00",
                "reply_to": f"m{n - 1}" if n else None,
            }
        )
    path = tmp_path / "my export.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.mark.parametrize(
    "me", ['--me "Sam Rivera"', "--me 'Sam Rivera'", '--me="Sam Rivera"', "--me “Sam Rivera”"]
)
async def test_a_quoted_name_on_an_attached_export(runtime: Runtime, export: Path, me: str) -> None:
    for platform in ("slack", "telegram", "discord"):
        user = UserRef(platform=platform, user_id=f"u-{platform}")
        command = CommandInvocation(
            user=user,
            name="",
            text=f"/clone train {me}",
            attachments=(Attachment(filename=export.name, path=str(export)),),
        )
        (reply,) = await runtime.clone.handle_command(command)
        assert "not imported" not in reply.text, reply.text
        assert "3 written by you" in reply.text, reply.text


async def test_a_quoted_path_and_name_in_the_console(runtime: Runtime, export: Path) -> None:
    user = UserRef(platform="local", user_id="me")
    command = CommandInvocation(
        user=user, name="", text=f'/clone train "{export}" --me "Sam Rivera"', local_files=True
    )
    (reply,) = await runtime.clone.handle_command(command)
    assert reply.text.startswith("my export.jsonl: 6 messages (6 new) in 1 conversation,")
    assert "3 written by you, 3 of them replies." in reply.text
