"""One tap is evidence: the owner sees what it changed and can take it back (real stores, SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import (
    Action,
    ActionInvocation,
    CommandInvocation,
    IncomingMessage,
    Message,
    UserRef,
)

OWNER = UserRef(platform="local", user_id="owner")
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        await rt.clone.import_sample(OWNER)
        yield rt


def arrives(text: str, sender: str, n: int) -> IncomingMessage:
    message = Message(
        id=f"m-{sender}-{n}",
        conversation=f"dm:{sender}",
        thread=None,
        sender=sender,
        text=text,
        sent_at=T0,
    )
    return IncomingMessage(owner=OWNER, message=message, sender_name=sender, is_direct=True)


async def say(runtime: Runtime, text: str) -> str:
    replies = await runtime.clone.handle_command(CommandInvocation(user=OWNER, name="", text=text))
    return "\n".join(r.text for r in replies)


async def test_a_not_important_tap_on_a_vip_is_shown_bounded_and_undone(runtime: Runtime) -> None:
    clone = runtime.clone
    await say(runtime, "/clone onboard vips zed")
    await say(runtime, "/clone onboard topics invoice")
    assert "nothing to undo" in (await say(runtime, "/clone inbox undo")).lower()

    first = arrives("the invoice for march is attached", "zed", 1)
    await clone.handle_incoming(first)
    item = next(i for i in await clone.waiting_items(OWNER) if i.message.id == first.message.id)
    probe = arrives("the invoice for april is attached", "zed", 2)
    before = await clone.triage(probe)

    done = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.NOT_IMPORTANT, draft_id=item.id)
    )
    assert done.reply is not None and "inbox undo" in done.reply.text

    lowered = await clone.triage(probe)
    assert before.score > lowered.score > 0.5  # lower, not buried: zed is still a VIP
    assert lowered.reasons[0] == (
        "ranked lower because you marked zed's message about invoice not important"
    )
    await clone.handle_incoming(probe)
    listing = await say(runtime, "/clone inbox")
    assert "ranked lower because you marked zed's message" in listing
    assert "inbox undo" in listing

    undone = await say(runtime, "/clone inbox undo")
    assert "zed's message about invoice not important" in undone
    restored = await clone.triage(probe)
    assert restored.score == pytest.approx(before.score, abs=1e-6)
    assert not any(r.startswith("ranked ") for r in restored.reasons)
    assert "nothing to undo" in (await say(runtime, "/clone inbox undo")).lower()
    # Any other word names a conversation to expand; none is called "later".
    assert "Usage: inbox [undo | <conversation>]" in await say(runtime, "/clone inbox later")
