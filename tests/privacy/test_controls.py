"""The owner's controls: pause/resume at once, consent per source for live learning, AI disclosure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.bootstrap import Runtime
from core.models import Action, ActionInvocation, CommandInvocation, Message, UserRef, utc_now
from core.privacy import (
    Disclosure,
    apply_disclosure,
    describe_live_learning,
    disclosure_for,
    learns_live,
    with_disclosure,
    with_live_learning,
)
from tests.privacy.conftest import incoming

OWNER = UserRef(platform="slack", user_id="U-OWNER")


async def say(rt: Runtime, text: str, user: UserRef = OWNER, **kw: object) -> str:
    replies = await rt.clone.handle_command(CommandInvocation(user=user, name="", text=text, **kw))  # type: ignore[arg-type]
    return "\n".join(r.text for r in replies)


def own(text: str, n: int = 1) -> Message:
    return Message(
        id=f"own-{n}",
        conversation="C1",
        thread=None,
        sender="Sam",
        text=text,
        sent_at=datetime(2026, 3, 1, 12, n, tzinfo=UTC),
    )


async def held(rt: Runtime, user: UserRef = OWNER) -> int:
    account = await rt.clone.account(user)
    persona = await rt.clone.active_persona(account)
    return await rt.storage.messages.count(account.id, persona.id)


async def test_pause_stops_triage_drafts_and_learning_at_once(runtime: Runtime) -> None:
    clone = runtime.clone
    await clone.import_sample(OWNER)
    await say(runtime, "train on")
    question = incoming(OWNER, "can you review my PR today?")
    before = await clone.handle_incoming(question)
    assert before is not None and before.draft is not None  # it needs a reply: drafted
    approved = await clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.SEND, draft_id=before.draft.id)
    )
    assert approved.outgoing is not None
    account = await clone.account(OWNER)
    pending = len(await runtime.storage.drafts.pending(account.id))
    count = await held(runtime)

    assert "Paused" in await say(runtime, "privacy pause")
    assert await clone.handle_incoming(incoming(OWNER, "can you review it now?", n=2)) is None
    paused = await clone.handle_incoming(incoming(OWNER, "and this?", n=3), explicit=True)
    assert paused is not None and "paused" in paused.text and paused.draft is None
    assert not await clone.observe_owner_message(OWNER, own("learned while paused?"))
    await clone.confirm_sent(approved.outgoing)  # a send approved before the pause
    assert len(await runtime.storage.drafts.pending(account.id)) == pending
    assert await held(runtime) == count  # nothing learned: no live sample, no sent pair
    persona = await clone.active_persona(account)
    assert await runtime.storage.feedback.list(account.id, persona.id) == []

    assert "Resumed" in await say(runtime, "privacy resume")
    again = await clone.handle_incoming(incoming(OWNER, "can you review my PR today?", n=4))
    assert again is not None and again.draft is not None
    assert await clone.observe_owner_message(OWNER, own("learning again"))


async def test_live_learning_is_off_until_turned_on_per_platform(runtime: Runtime) -> None:
    clone = runtime.clone
    await clone.import_sample(OWNER)  # imports never need consent
    count = await held(runtime)
    assert not await clone.observe_owner_message(OWNER, own("not without consent"))
    assert await held(runtime) == count
    profile = await say(runtime, "profile")
    assert "Learning from messages you send: off everywhere" in profile

    # Consent on Slack (where the command came from) is not consent on Telegram.
    code = (await say(runtime, "link")).split("link ")[1].split()[0]
    telegram = UserRef(platform="telegram", user_id="777")
    assert "Linked" in await say(runtime, f"link {code}", user=telegram)
    assert "on slack is on" in await say(runtime, "train on")
    account = await clone.account(OWNER)
    assert account.settings["learn_live"] == {"slack": True}
    assert await clone.observe_owner_message(
        OWNER,
        own("yes, from slack", 2),
        replying_to=Message(
            id="their-2",
            conversation="C1",
            thread=None,
            sender="kim",
            text="are you in?",
            sent_at=utc_now(),
        ),
    )
    assert not await clone.observe_owner_message(telegram, own("from telegram", 3))
    assert await held(runtime) == count + 2  # the reply and what it answers
    profile = await say(runtime, "profile", user=telegram)
    assert "Learned from: live, sample messages" in profile
    assert "on for slack; off for telegram" in profile

    assert "on telegram is on" in await say(runtime, "train on", user=telegram)
    assert await clone.observe_owner_message(telegram, own("from telegram", 4))
    assert "is off" in await say(runtime, "train off all")
    assert not await clone.observe_owner_message(OWNER, own("stopped", 5))
    assert not await clone.observe_owner_message(telegram, own("stopped", 6))


def test_consent_rules() -> None:
    assert not learns_live({}, "slack")
    assert learns_live({"learn_live": True}, "discord")  # the older global switch
    on = with_live_learning({}, "slack", True)
    assert learns_live(on, "slack") and not learns_live(on, "telegram")
    everywhere = with_live_learning(on, "*", True)
    assert learns_live(everywhere, "telegram")
    assert learns_live(with_live_learning(everywhere, "telegram", False), "slack")
    assert not learns_live(with_live_learning(everywhere, "telegram", False), "telegram")
    assert describe_live_learning(on, ("telegram",)).startswith(
        "Learning from messages you send: on for slack; off for telegram"
    )


def test_disclosure_defaults_on_where_the_bot_posts() -> None:
    assert disclosure_for({}, persona_id="p", platform="slack") is Disclosure.LINE
    assert disclosure_for({}, persona_id="p", platform="discord", bot_posts=False) is (
        Disclosure.NONE
    )
    settings = with_disclosure({}, Disclosure.SIGNATURE, persona_id="p", platform="discord")
    assert disclosure_for(settings, persona_id="p", platform="discord") is Disclosure.SIGNATURE
    assert disclosure_for(settings, persona_id="p", platform="slack") is Disclosure.LINE
    assert disclosure_for(settings, persona_id="q", platform="discord") is Disclosure.LINE
    everywhere = with_disclosure(settings, Disclosure.NONE, persona_id=None, platform=None)
    assert disclosure_for(everywhere, persona_id="q", platform="slack") is Disclosure.NONE
    assert disclosure_for(everywhere, persona_id="p", platform="discord") is Disclosure.SIGNATURE
    garbage = {"disclosure": {"*/*": "shout"}}
    assert disclosure_for(garbage, persona_id="p", platform="slack") is Disclosure.LINE


@pytest.mark.parametrize("mode", list(Disclosure))
def test_apply_disclosure_keeps_the_disclosure_within_the_limit(mode: Disclosure) -> None:
    text = "sure, see you at 4"
    posted = apply_disclosure(text, mode, owner_name="Ana Lee")
    assert posted.startswith(text)
    if mode is Disclosure.NONE:
        assert posted == text
    else:
        assert "Ana Lee's AI clone" in posted
    long = apply_disclosure("x" * 5_000, mode, owner_name="Ana", limit=2_000)
    assert len(long) <= 2_000
    assert long.endswith(apply_disclosure("", mode, owner_name="Ana"))


async def test_disclosure_command(runtime: Runtime) -> None:
    discord = UserRef(platform="discord", user_id="99")
    assert "line" in await say(runtime, "privacy disclosure", user=discord)
    assert "signature" in await say(runtime, "privacy disclosure signature", user=discord)
    account = await runtime.clone.account(discord)
    persona = await runtime.clone.active_persona(account)
    settings = account.settings
    assert disclosure_for(settings, persona_id=persona.id, platform="discord") is (
        Disclosure.SIGNATURE
    )
    assert disclosure_for(settings, persona_id=persona.id, platform="slack") is Disclosure.LINE
    await say(runtime, "privacy disclosure none all", user=discord)
    account = await runtime.clone.account(discord)
    assert disclosure_for(account.settings, persona_id=persona.id, platform="slack") is (
        Disclosure.NONE
    )
    assert "Usage" in await say(runtime, "privacy disclosure loud", user=discord)
    # Works in a group too: it reveals nothing.
    assert "Disclosure on discord" in await say(
        runtime, "privacy disclosure", user=discord, is_private=False
    )


async def test_live_replies_extend_the_exemplar_index_in_place(runtime: Runtime) -> None:
    clone = runtime.clone
    await clone.import_sample(OWNER)
    assert "on slack is on" in await say(runtime, "train on")
    account = await clone.account(OWNER)
    persona = await clone.active_persona(account)
    before = await clone.models.get(account, persona)
    size = len(before.index)
    question = Message(
        id="their-9",
        conversation="C1",
        thread=None,
        sender="kim",
        text="is the quokka deployment green yet?",
        sent_at=utc_now(),
    )
    reply = replace(
        own("quokka is green, shipped at noon", 9), reply_to=question.id, sent_at=utc_now()
    )
    assert await clone.observe_owner_message(OWNER, reply, replying_to=question)
    after = await clone.models.get(account, persona)
    assert after is not before and after.index is before.index  # extended, not rebuilt
    assert len(after.index) == size + 1
    assert after.index.pairs[size].reply_text == reply.text
    # An erase (or an import) drops it: nothing of the account is kept aside.
    clone.models.forget(account.id, persona.id, learned=True)
    clone.models.forget(account.id)
    rebuilt = await clone.models.get(account, persona)
    assert rebuilt.index is not before.index and len(rebuilt.index) == size + 1
