"""The inbox, labels and onboarding through the clone (real stores on SQLite, hashing embedder)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
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
from core.service import PRIORITISER_STATE, Clone, LearningPriority
from core.waiting import Inbox, WaitingItem, item_id

OWNER = UserRef(platform="local", user_id="owner")
STRANGER = UserRef(platform="local", user_id="stranger")
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        await rt.clone.import_sample(OWNER)
        yield rt


def arrives(text: str, sender: str, n: int, *, direct: bool = True) -> IncomingMessage:
    message = Message(
        id=f"m-{sender}-{n}",
        conversation=f"dm:{sender}" if direct else "general",
        thread=None,
        sender=sender,
        text=text,
        sent_at=T0,
    )
    return IncomingMessage(owner=OWNER, message=message, sender_name=sender, is_direct=direct)


async def say(clone: Clone, text: str, user: UserRef = OWNER) -> str:
    replies = await clone.handle_command(CommandInvocation(user=user, name="", text=text))
    return "\n".join(r.text for r in replies)


async def test_inbox_lists_what_waits_most_important_first_with_reasons_and_buttons(
    runtime: Runtime,
) -> None:
    clone = runtime.clone
    question = arrives("can you review my PR before the release today?", "priya", 1)
    shown = await clone.handle_incoming(question)
    # Needs a reply: drafts are offered at once, with the score and the judgement.
    assert shown is not None and shown.priority is not None and shown.priority.needs_reply
    assert "needs a reply" in shown.text.splitlines()[0]
    fyi = arrives("fyi the office is closed on friday, thanks", "omar", 2)
    assert await clone.handle_incoming(fyi) is None  # no draft where no reply is needed

    reply = (await clone.handle_command(CommandInvocation(user=OWNER, name="inbox")))[0]
    waiting = await clone.waiting_items(OWNER)
    assert waiting[0].message.sender == "priya"
    assert reply.text.splitlines()[0].endswith("waiting, most important first:")
    first = reply.text.splitlines()[1]
    assert first.startswith("1. priya (") and "needs a reply" in first and " — " in first
    assert 1 <= len(waiting[0].reasons) <= 3
    actions = {(b.action, b.draft_id) for b in reply.buttons}
    account = await clone.account(OWNER)
    persona = await clone.active_persona(account)
    assert waiting[0].id == item_id(account.id, persona.id, question.message.id)
    assert (Action.DRAFT, waiting[0].id) in actions
    assert (Action.IMPORTANT, waiting[0].id) in actions
    assert (Action.NOT_IMPORTANT, waiting[0].id) in actions
    # The pending draft is listed too, with its Send button.
    assert any(b.action is Action.SEND for b in reply.buttons)


async def test_one_tap_labels_are_stored_and_learned_online(runtime: Runtime) -> None:
    clone = runtime.clone
    message = arrives("the quarterly numbers are in the shared folder", "lena", 1)
    await clone.handle_incoming(message)
    item = next(i for i in await clone.waiting_items(OWNER) if i.message.sender == "lena")
    account = await clone.account(OWNER)
    persona = await clone.active_persona(account)
    model = await clone.models.get(account, persona)
    assert isinstance(model.priority, LearningPriority)
    before = model.priority.prioritise(message).score

    # Someone else's click changes nothing.
    refused = await clone.handle_action(
        ActionInvocation(user=STRANGER, action=Action.IMPORTANT, draft_id=item.id)
    )
    assert refused.reply is not None and "isn't waiting" in refused.reply.text

    done = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.IMPORTANT, draft_id=item.id)
    )
    assert done.reply is not None and "important" in done.reply.text
    after = model.priority.prioritise(message).score
    assert after > before  # updated at once, no retrain
    labels = await runtime.storage.labels.list(account.id, persona.id)
    assert [(x.message_id, x.kind, x.label) for x in labels] == [
        (message.message.id, "important", 1.0)
    ]
    saved = await runtime.storage.state.get(account.id, persona.id, PRIORITISER_STATE)
    assert saved is not None
    # A rebuilt model continues from the saved state (the label is not lost).
    clone.models.forget(account.id)
    rebuilt = await clone.models.get(account, persona)
    assert rebuilt.priority.prioritise(message).score == pytest.approx(after, abs=1e-6)

    starred = next(i for i in await clone.waiting_items(OWNER) if i.id == item.id)
    assert starred.starred
    await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.NOT_IMPORTANT, draft_id=item.id)
    )
    assert item.id not in {i.id for i in await clone.waiting_items(OWNER)}
    kinds = [x.kind for x in await runtime.storage.labels.list(account.id, persona.id)]
    assert kinds == ["important", "not_important"]


async def test_draft_button_makes_drafts_and_sending_settles_the_message(runtime: Runtime) -> None:
    clone = runtime.clone
    message = arrives("are you free for a call tomorrow about the budget?", "omar", 1)
    await clone.handle_incoming(message)
    item = next(i for i in await clone.waiting_items(OWNER) if i.message.sender == "omar")
    outcome = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.DRAFT, draft_id=item.id)
    )
    assert outcome.reply is not None and outcome.reply.draft is not None
    draft = outcome.reply.draft
    again = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.DRAFT, draft_id=item.id)
    )
    assert again.reply is not None and again.reply.draft is not None
    assert again.reply.draft.id == draft.id  # the same draft, not a second one
    sent = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.SEND, draft_id=draft.id)
    )
    assert sent.outgoing is not None
    await clone.confirm_sent(sent.outgoing)
    assert item.id not in {i.id for i in await clone.waiting_items(OWNER)}
    account = await clone.account(OWNER)
    persona = await clone.active_persona(account)
    kinds = [x.kind for x in await runtime.storage.labels.list(account.id, persona.id)]
    assert "sent" in kinds


async def test_a_reply_by_the_owner_and_silence_both_teach(runtime: Runtime) -> None:
    clone = runtime.clone
    clock = Clock()
    clone.ctx.clock = clock
    await clone.handle_incoming(arrives("did you see my note about the invoice?", "priya", 1))
    await clone.handle_incoming(arrives("quick question: lunch on thursday?", "omar", 2))
    answer = Message(
        id="own-1",
        conversation="dm:priya",
        thread=None,
        sender="sam",
        text="yes, paid it this morning",
        sent_at=T0 + timedelta(minutes=5),
        reply_to="m-priya-1",
    )
    await clone.observe_owner_message(OWNER, answer)  # no `train on`: only ids are learned
    senders = {i.message.sender for i in await clone.waiting_items(OWNER)}
    assert "priya" not in senders and "omar" in senders
    clock.now = T0 + timedelta(days=3)
    assert "omar" not in {i.message.sender for i in await clone.waiting_items(OWNER)}
    account = await clone.account(OWNER)
    persona = await clone.active_persona(account)
    kinds = {
        x.message_id: x.kind for x in await runtime.storage.labels.list(account.id, persona.id)
    }
    assert kinds == {"m-priya-1": "replied", "m-omar-2": "ignored"}


async def test_onboarding_asks_then_seeds_the_prior(runtime: Runtime) -> None:
    clone = runtime.clone
    message = arrives("lunch?", "zed", 1, direct=False)
    before = await clone.triage(message)
    first = await say(clone, "/clone onboard")
    assert "never wait" in first
    nxt = await say(clone, "/clone onboard vips zed, priya")
    assert "When do you work?" in nxt
    await say(clone, "/clone onboard hours 09:00-17:30 Europe/Paris")
    await say(clone, "/clone onboard topics invoices, deploy")
    done = await say(clone, "/clone onboard wait newsletter")
    assert "VIPs: zed, priya" in done and "Europe/Paris" in done
    after = await clone.triage(message)
    assert after.score > before.score
    assert any("VIP" in r for r in after.reasons)
    assert "reminders: after 4h" in await say(clone, "/clone onboard followup 4h")
    # The digest takes the onboarding time zone by default.
    said = await say(clone, "/clone digest 08:30")
    assert "(Europe/Paris)" in said


def test_inbox_state_round_trips_and_stays_bounded() -> None:
    owner = OWNER
    items = [
        WaitingItem(
            id=f"{n:032x}",
            message=Message(
                id=f"m{n}", conversation="c", thread=None, sender="a", text="x" * 5000, sent_at=T0
            ),
            owner=owner,
            score=n / 300,
            needs_reply=n % 2 == 0,
            reasons=("a VIP",),
            arrived_at=T0,
        )
        for n in range(250)
    ]
    inbox = Inbox()
    for item in items:
        inbox.put(item)
    assert len(inbox) == 200
    assert min(i.score for i in inbox.ranked()) == pytest.approx(50 / 300)
    restored = Inbox.from_bytes(inbox.to_bytes())
    assert [i.id for i in restored.ranked()] == [i.id for i in inbox.ranked()]
    assert all(len(i.message.text) <= 2000 for i in restored.ranked())
    assert Inbox.from_bytes(b"not json").ranked() == []


def test_what_an_owner_message_answers() -> None:
    def item(
        n: int, conversation: str, *, thread: str | None = None, direct: bool = False
    ) -> WaitingItem:
        return WaitingItem(
            id=f"{n:032x}",
            message=Message(
                id=f"m{n}",
                conversation=conversation,
                thread=thread,
                sender="a",
                text="t",
                sent_at=T0,
            ),
            owner=OWNER,
            score=0.5,
            needs_reply=True,
            reasons=(),
            arrived_at=T0,
            is_direct=direct,
        )

    def owner(
        conversation: str, *, thread: str | None = None, reply_to: str | None = None
    ) -> Message:
        return Message(
            id="o",
            conversation=conversation,
            thread=thread,
            sender="sam",
            text="ok",
            sent_at=T0,
            reply_to=reply_to,
        )

    inbox = Inbox(
        [
            item(1, "dm:a", direct=True),
            item(2, "general"),
            item(3, "general", thread="m2"),
            item(4, "general"),
        ]
    )
    assert inbox.answered_by(owner("general")) == []  # a channel message answers nobody
    assert [i.message.id for i in inbox.answered_by(owner("general", thread="m2"))] == ["m2", "m3"]
    assert [i.message.id for i in inbox.answered_by(owner("general", reply_to="m4"))] == ["m4"]
    assert [i.message.id for i in inbox.answered_by(owner("dm:a"))] == ["m1"]
    assert len(inbox) == 0
