"""Bad input gets a clear reply and no crash: chat ``draft`` and ``ask``, pasted and platform
messages; an owner with 0, 1 or 5 past replies is told how little there is to draft from."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import CommandInvocation, IncomingMessage, Message, UserRef, utc_now
from core.privacy import BINARY_NOTICE, EMPTY_NOTICE, looks_binary

OWNER = UserRef(platform="local", user_id="owner")
BINARY = bytes(range(256)).decode("latin-1")
MIXED = "can you 明日の会議に来られますか? привет, ok 👍"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt


async def say(rt: Runtime, name: str, text: str) -> str:
    replies = await rt.clone.handle_command(CommandInvocation(user=OWNER, name=name, text=text))
    assert len(replies) == 1
    return replies[0].text


def test_binary_looking_text_is_told_apart_from_messages() -> None:
    assert looks_binary(BINARY) and looks_binary("ok\x00") and looks_binary("\ufffd\ufffd\ufffd ab")
    assert not looks_binary(MIXED) and not looks_binary("line one\nline two\ttabbed")
    assert not looks_binary("")


@pytest.mark.parametrize("name", ["draft", "ask"])
async def test_bad_input_gets_a_clear_reply(runtime: Runtime, name: str) -> None:
    await runtime.clone.import_sample(OWNER)
    assert (await say(runtime, name, "")).startswith(f"Usage: {name}")
    assert (await say(runtime, name, "  \n\t ")).startswith(f"Usage: {name}")
    assert "20,400 characters long" in await say(runtime, name, "hello there " * 1700)
    assert await say(runtime, name, BINARY) == BINARY_NOTICE
    mixed = await say(runtime, name, MIXED)
    assert mixed and "Traceback" not in mixed
    # At the cap exactly it is read and answered.
    at_cap = await say(runtime, name, ("can you check this? " * 1000)[:20_000])
    assert "characters long" not in at_cap and at_cap


async def test_empty_and_binary_messages_from_a_platform(runtime: Runtime) -> None:
    await runtime.clone.import_sample(OWNER)

    def incoming(text: str) -> IncomingMessage:
        message = Message(
            id=f"m-{len(text)}", conversation="dm:priya", thread=None, sender="priya",
            text=text, sent_at=utc_now(),
        )  # fmt: skip
        return IncomingMessage(owner=OWNER, message=message, sender_name="priya", is_direct=True)

    pasted = await runtime.clone.handle_incoming(incoming("   "), explicit=True)
    assert pasted is not None and pasted.text == EMPTY_NOTICE
    assert await runtime.clone.handle_incoming(incoming(BINARY)) is None
    assert await runtime.clone.handle_incoming(incoming("")) is None  # an attachment alone


def export(path: Path, replies: int) -> Path:
    """Five messages of the owner that answer nobody, and ``replies`` answers to priya."""
    t = datetime(2026, 3, 1, 9, tzinfo=UTC)
    rows = []
    for i in range(5):
        rows.append({"id": f"s{i}", "conversation": "notes", "thread": None, "sender": "me",
                     "text": f"note {i}: ship the report", "sent_at": (t + timedelta(minutes=i)).isoformat(),
                     "reply_to": None})  # fmt: skip
    for i in range(replies):
        at = t + timedelta(hours=1 + i)
        rows.append({"id": f"q{i}", "conversation": "dm:priya", "thread": None, "sender": "priya",
                     "text": f"can you review PR {i} today?", "sent_at": at.isoformat(), "reply_to": None})  # fmt: skip
        rows.append({"id": f"r{i}", "conversation": "dm:priya", "thread": None, "sender": "me",
                     "text": f"sure, on it ({i})", "sent_at": (at + timedelta(minutes=2)).isoformat(),
                     "reply_to": f"q{i}"})  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("replies", [0, 1, 5])
async def test_an_owner_with_few_replies_is_told_so(
    runtime: Runtime, tmp_path: Path, replies: int
) -> None:
    path = export(tmp_path / f"few-{replies}.jsonl", replies)
    await runtime.clone.import_file(OWNER, path, fmt="jsonl", me="me")
    for name in ("draft", "ask"):
        out = await say(runtime, name, "can you review my PR today?")
        if replies == 0:
            assert "no replies of yours to learn from yet" in out
        else:
            what = "one reply" if replies == 1 else f"{replies} replies"
            assert f"Best effort: I have only {what} of yours to draft from" in out
            assert "sure, on it" in out  # and the best effort itself
