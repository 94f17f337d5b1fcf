"""The Clone service on real SQLite storage with the hashing embedder (fast, deterministic)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import (
    Action,
    ActionInvocation,
    FeedbackKind,
    IncomingMessage,
    Message,
    UserRef,
    utc_now,
)

OWNER = UserRef(platform="local", user_id="owner")
STRANGER = UserRef(platform="local", user_id="stranger")


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        await rt.clone.import_sample(OWNER)
        yield rt


def incoming(text: str, sender: str = "priya", n: int = 1) -> IncomingMessage:
    message = Message(
        id=f"live-{sender}-{n}",
        conversation=f"dm:{sender}",
        thread=None,
        sender=sender,
        text=text,
        sent_at=utc_now(),
    )
    return IncomingMessage(owner=OWNER, message=message, sender_name=sender, is_direct=True)


async def test_an_edit_becomes_the_exemplar_for_the_next_similar_message(runtime: Runtime) -> None:
    clone = runtime.clone
    first = await clone.handle_incoming(
        incoming("could you look at the flaky billing test?"), explicit=True
    )
    assert first is not None and first.draft is not None
    edited = "on it - the billing flake is a timezone bug, fix by 4pm"
    outcome = await clone.handle_action(
        ActionInvocation(
            user=OWNER, action=Action.EDIT, draft_id=first.draft.id, edited_text=edited
        )
    )
    assert outcome.outgoing is not None and outcome.outgoing.text == edited
    await clone.confirm_sent(outcome.outgoing)
    account = await clone.account(OWNER)
    persona = await clone.active_persona(account)
    kinds = [f.kind for f in await runtime.storage.feedback.list(account.id, persona.id)]
    assert FeedbackKind.EDITED in kinds
    again = await clone.handle_incoming(
        incoming("could you look at the flaky billing test again?", n=2), explicit=True
    )
    assert again is not None and again.draft is not None
    assert again.draft.options[0].text == edited


async def test_another_persons_click_changes_nothing(runtime: Runtime) -> None:
    clone = runtime.clone
    reply = await clone.handle_incoming(incoming("can you review my PR today?"), explicit=True)
    assert reply is not None and reply.draft is not None
    await clone.account(STRANGER)
    outcome = await clone.handle_action(
        ActionInvocation(user=STRANGER, action=Action.SEND, draft_id=reply.draft.id)
    )
    assert (
        outcome.outgoing is None
        and outcome.reply is not None
        and "isn't yours" in outcome.reply.text
    )
    mine = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.SEND, draft_id=reply.draft.id)
    )
    assert mine.outgoing is not None


async def test_ten_concurrent_sends_approve_once(runtime: Runtime) -> None:
    clone = runtime.clone
    reply = await clone.handle_incoming(incoming("can you review my PR today?"), explicit=True)
    assert reply is not None and reply.draft is not None
    click = ActionInvocation(user=OWNER, action=Action.SEND, draft_id=reply.draft.id)
    outcomes = await asyncio.gather(*(clone.handle_action(click) for _ in range(10)))
    assert sum(o.outgoing is not None for o in outcomes) == 1


async def test_a_failed_post_can_be_retried_and_dismiss_is_final(runtime: Runtime) -> None:
    clone = runtime.clone
    reply = await clone.handle_incoming(incoming("can you review my PR today?"), explicit=True)
    assert reply is not None and reply.draft is not None
    click = ActionInvocation(user=OWNER, action=Action.SEND, draft_id=reply.draft.id)
    first = await clone.handle_action(click)
    assert first.outgoing is not None
    again = await clone.send_failed(first.outgoing, reason="channel archived")
    assert "channel archived" in again.text and again.draft is not None
    assert (await clone.handle_action(click)).outgoing is None, "the failed approval is not reused"
    retry = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.SEND, draft_id=again.draft.id)
    )
    assert retry.outgoing is not None and retry.outgoing.text == first.outgoing.text
    other = await clone.handle_incoming(incoming("lunch tomorrow?", n=3), explicit=True)
    assert other is not None and other.draft is not None
    dismiss = ActionInvocation(user=OWNER, action=Action.DISMISS, draft_id=other.draft.id)
    assert (await clone.handle_action(dismiss)).reply is not None
    late = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.SEND, draft_id=other.draft.id)
    )
    assert late.outgoing is None


async def test_fyi_is_triaged_without_a_draft_unless_asked(runtime: Runtime) -> None:
    clone = runtime.clone
    fyi = incoming("fyi: the office is closed on friday", n=4)
    assert await clone.handle_incoming(fyi) is None
    assert await clone.handle_incoming(fyi, explicit=True) is not None


async def test_train_reads_server_paths_only_from_the_console(
    runtime: Runtime, tmp_path: Path
) -> None:
    from core.models import CommandInvocation

    secret = tmp_path / "server-file.jsonl"
    secret.write_text("")
    remote = CommandInvocation(user=OWNER, name="", text=f"train {secret}")
    (reply,) = await runtime.clone.handle_command(remote)
    assert "Attach the export" in reply.text
    local = CommandInvocation(user=OWNER, name="", text=f"train {secret}", local_files=True)
    (reply,) = await runtime.clone.handle_command(local)
    assert "not imported" in reply.text and "not a recognised export" in reply.text
