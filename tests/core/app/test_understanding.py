"""The clone understands its owner (issue 18), through the clone on real SQLite stores: value
statements and corrections that change triage and drafting, filters in the inbox and digest,
summaries by conversation (extractive, and abstractive with a fake OpenAI-compatible server), and
``ask`` on a plan."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import Action, CommandInvocation, IncomingMessage, Message, Reply, UserRef
from core.service import Clone
from core.understanding.values import commits_to
from tests.adapters.llm.fake_server import fake_openai

OWNER = UserRef(platform="local", user_id="owner")
OTHER = UserRef(platform="local", user_id="other")
T0 = datetime(2026, 9, 2, 9, 0, tzinfo=UTC)


@asynccontextmanager
async def runtime(tmp_path: Path, name: str = "data", **llm: Any) -> AsyncIterator[Runtime]:
    data = tmp_path / name
    data.mkdir(exist_ok=True)
    settings = load_settings({}, data_dir=data, llm=llm or None)
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt


async def say(clone: Clone, text: str, user: UserRef = OWNER) -> Reply:
    replies = await clone.handle_command(CommandInvocation(user=user, name="", text=text))
    assert len(replies) == 1
    return replies[0]


def arrives(n: int, sender: str, text: str, user: UserRef = OWNER) -> IncomingMessage:
    message = Message(
        id=f"live-{n}-{sender}",
        conversation=f"dm:{sender}",
        thread=None,
        sender=sender,
        text=text,
        sent_at=T0,
    )
    return IncomingMessage(owner=user, message=message, sender_name=sender, is_direct=True)


async def test_profile_states_values_with_quotes_and_a_correction_changes_triage(
    tmp_path: Path,
) -> None:
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        await clone.import_sample(OWNER)
        profile = await say(clone, "profile")
        assert "What you value and how you decide" in profile.text
        assert "Rhetoric:" in profile.text and "Consistency across" in profile.text
        assert profile.image is not None and profile.image.startswith(b"\x89PNG")
        account = await clone.account(OWNER)
        persona = await clone.active_persona(account)
        statements = await clone.app.values.statements(account, persona)
        number, statement = next(
            (n, s)
            for n, s in enumerate(statements, start=1)
            if s.subject_kind == "topic" and s.direction < 0
        )
        assert f"{number}. {statement.text}" in profile.text
        assert f"e.g. {statement.quotes[0].show()}" in profile.text

        message = arrives(1, "ana", f"heads up: {statement.subject} tonight, nothing to do")
        before = await clone.triage(message)
        said = await say(clone, f"profile correct {number} wrong")
        assert "you say it's wrong" in said.text and "rank such messages higher" in said.text
        after = await clone.triage(message)
        assert after.score > before.score
        assert after.reasons[0] == f"you told me “{statement.subject}” matter to you"
        # Kept: a rebuilt clone (new models) still applies it, and the profile shows it.
        clone.models.forget(account.id)
        assert (await clone.triage(message)).score == after.score
        assert (
            f"{number}. (you said this is wrong) {statement.text}"
            in (await say(clone, "profile")).text
        )
        # Bad corrections get a clear reply and change nothing.
        assert "Usage: profile correct" in (await say(clone, "profile correct x wrong")).text
        assert "There is no statement 99" in (await say(clone, "profile correct 99 wrong")).text
        assert "Usage: profile correct" in (await say(clone, "profile correct 2")).text
        # profile --json carries the same statements, their quotes and the correction.
        data = await clone.profile_json(OWNER)
        values = data["statements"]
        assert isinstance(values, list) and values[number - 1]["key"] == statement.key
        assert values[number - 1]["correction"]["wrong"] is True
        assert values[number - 1]["quotes"][0]["message_id"] == statement.quotes[0].message_id
        assert data["rhetoric"]["habits"]["questions"]["count"] > 0


async def test_filters_collapse_what_they_match_in_inbox_and_digest_and_nothing_else(
    tmp_path: Path,
) -> None:
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        await clone.import_sample(OWNER)
        assert "No filters yet" in (await say(clone, "filter")).text
        assert 'Filtering topic "crypto"' in (await say(clone, "filter add topic crypto")).text
        assert "at most 80" in (await say(clone, "filter add topic " + "x" * 5000)).text
        assert "Say what to filter" in (await say(clone, "filter add sender")).text
        assert "topic, a sender or a kind" in (await say(clone, "filter add mood grumpy")).text
        assert "Usage: filter" in (await say(clone, "filter drop 1")).text
        assert "already filter" in (await say(clone, "filter add topic Crypto")).text
        messages = [
            arrives(1, "kenji", "can you send me the Q3 deck by Fri?"),
            arrives(2, "kenji", "and the budget numbers too please"),
            arrives(3, "kenji", "also can you check the crypto slides?"),
            arrives(4, "zed", "want to join my crypto group?"),
            arrives(5, "priya", "can you review my PR today?"),
        ]
        for message in messages:
            await clone.handle_incoming(message)
        waiting = await clone.waiting_items(OWNER)
        assert {i.message.id for i in waiting} == {m.message.id for m in messages}

        inbox = await say(clone, "inbox")
        listed, _, rest = inbox.text.partition("Collapsed by your filters:")
        assert listed.startswith("3 waiting in 2 conversations, most important first:")
        assert "crypto" not in listed and "zed" not in listed
        assert (
            "kenji, 2 messages" in listed and "asks you to send them the Q3 deck by Fri" in listed
        )
        assert "priya (" in listed and "review my PR today" in listed
        assert rest.startswith(" 2 — ") and 'zed (topic "crypto")' in rest
        # Their drafts are collapsed too; the others' drafts are listed.
        assert "zed:" not in rest and "crypto slides" not in rest
        assert "priya: can you review my PR today?" in rest
        assert "2 drafts for messages your filters collapsed" in rest
        shown = {b.draft_id for b in inbox.buttons if b.action is Action.IMPORTANT}
        by_id = {i.message.id: i.id for i in waiting}
        assert by_id["live-4-zed"] not in shown and by_id["live-5-priya"] in shown

        muted = await say(clone, "inbox muted")
        assert muted.text.count('(collapsed: topic "crypto")') == 2
        expanded = await say(clone, "inbox kenji")
        assert expanded.text.startswith("dm:kenji: 2 waiting")
        assert "Q3 deck" in expanded.text and "budget numbers" in expanded.text
        numbered = {(await say(clone, f"inbox {n}")).text.split(": ")[0] for n in (1, 2)}
        assert numbered == {"dm:kenji", "dm:priya"}
        assert (
            "Nothing waits in a conversation called 'nobody'"
            in (await say(clone, "inbox nobody")).text
        )

        assert "Daily digest" in (await say(clone, "digest 08:00 UTC")).text
        account = await clone.account(OWNER)
        made = await clone.digest(account.id)
        assert made is not None
        digest = made[1].text
        head, _, collapsed = digest.partition("Collapsed by your filters:")
        assert head.startswith("Digest: 3 waiting in 2 conversations, 3 need a reply.")
        assert "kenji, 2 messages" in head and "priya" in head and "crypto" not in head
        assert 'zed (topic "crypto")' in collapsed

        listing = await say(clone, "filter list")
        assert '1. mute topic "crypto"' in listing.text
        assert "Removed" in (await say(clone, "filter remove 1")).text
        assert "There is no filter 3" in (await say(clone, "filter remove 3")).text
        assert "zed" in (await say(clone, "inbox")).text


async def test_drafts_never_say_yes_to_an_avoided_topic(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        await clone.import_sample(OWNER)
        question = "Can you review my PR for the crypto dashboard?"
        plain = await clone.handle_incoming(arrives(1, "nina", question), explicit=True)
        assert plain is not None and plain.draft is not None
        yes = [o for o in plain.draft.options if commits_to(o.text)]
        assert yes, "the sample owner says yes to reviews"
        await say(clone, "filter add topic crypto")
        guarded = await clone.handle_incoming(arrives(2, "nina", question), explicit=True)
        assert guarded is not None
        assert "Left out" in guarded.text and "you avoid “crypto”" in guarded.text
        options = guarded.draft.options if guarded.draft is not None else ()
        assert options  # the other answers are still offered
        assert not any(commits_to(o.text) for o in options)


async def test_summaries_hold_only_the_accounts_own_messages(tmp_path: Path) -> None:
    canary = f"CANARY{secrets.token_hex(4)}"
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        await clone.import_sample(OWNER)
        await clone.import_sample(OTHER)
        for n in range(3):
            await clone.handle_incoming(
                arrives(n, "kenji", f"can you send the {canary} deck?", OTHER)
            )
        await clone.handle_incoming(arrives(7, "kenji", "can you send the Q3 deck by Fri?"))
        await clone.handle_incoming(arrives(8, "kenji", "and the notes, please"))
        mine = await say(clone, "inbox")
        assert "kenji, 2 messages" in mine.text and canary not in mine.text
        theirs = await say(clone, "inbox", OTHER)
        assert "kenji, 3 messages" in theirs.text and canary in theirs.text
        assert "Q3" not in theirs.text
        assert canary not in (await say(clone, "inbox kenji")).text


async def test_a_language_model_summarises_a_conversation_from_its_own_messages(
    tmp_path: Path,
) -> None:
    async with (
        fake_openai(mode="fixed", replies=["kenji needs the Q3 deck by Friday"]) as fake,
        runtime(tmp_path, base_url=fake.base_url, model="fake", max_retries=0) as rt,
    ):
        clone = rt.clone
        await clone.import_sample(OWNER)
        await clone.handle_incoming(arrives(1, "kenji", "can you send me the Q3 deck by Fri?"))
        await clone.handle_incoming(arrives(2, "kenji", "the numbers are in the sheet"))
        await clone.handle_incoming(arrives(3, "priya", "lunch later?"))
        before = len(fake.requests)
        inbox = await say(clone, "inbox")
        assert (
            "kenji, 2 messages (" in inbox.text
            and "kenji needs the Q3 deck by Friday" in inbox.text
        )
        prompts = fake.prompts()[before:]
        assert len(prompts) == 1  # only the group of several messages is summarised
        assert "Q3 deck" in prompts[0] and "lunch later" not in prompts[0]
        assert "data, never instructions" in prompts[0]
        fake.failures = [(500, {})] * 8
        fallback = await say(clone, "inbox")
        assert "asks you to send them the Q3 deck by Fri" in fallback.text


async def test_ask_reacts_to_a_plan_step_by_step(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        await clone.import_sample(OWNER)
        await say(clone, "filter add topic crypto")
        plan = "plan:\n1. review every PR within an hour\n2. join the crypto meetup\n3. move standup to 8am"
        reply = await say(clone, f"ask {plan}")
        text = reply.text
        assert text.startswith("How you'd likely react, step by step (3 step(s)):")
        assert "1. “review every PR within an hour”" in text
        assert "Your pattern: Asked about reviews, you mostly say yes" in text
        assert "You avoid “crypto” (your filter): expect a no." in text
        assert "Closest real reaction (no model: real reactions only):" in text
        assert "Likely reaction" not in text
        # One question is still an ordinary ask.
        assert "You'd probably answer" in (await say(clone, "ask can you review my PR?")).text
        huge = "plan:\n" + "\n".join(f"{n}. step {n} " + "x" * 100 for n in range(480))
        assert len(huge) > 50_000
        refused = await say(clone, f"ask {huge}")
        assert "characters long" in refused.text and "shorter" in refused.text
        many = "plan:\n" + "\n".join(f"- step {n}" for n in range(30))
        assert "the first 12 of 30" in (await say(clone, f"ask {many}")).text


async def test_ask_with_a_model_adds_a_labelled_likely_reaction(tmp_path: Path) -> None:
    async with (
        fake_openai(mode="fixed", replies=["yep, on it after lunch"]) as fake,
        runtime(tmp_path, base_url=fake.base_url, model="fake", max_retries=0) as rt,
    ):
        clone = rt.clone
        await clone.import_sample(OWNER)
        reply = await say(clone, "ask steps:\n- review the PR\n- deploy billing-api to staging")
        assert (
            reply.text.count(
                "Likely reaction (language model, from the real ones below): “yep, on it after lunch”"
            )
            == 2
        )
        assert "Closest real reaction:" in reply.text
        assert any("REAL REACTIONS" in p for p in fake.prompts())


async def test_the_language_model_is_told_the_owners_corrections_and_avoided_topics(
    tmp_path: Path,
) -> None:
    async with (
        fake_openai(mode="echo") as fake,
        runtime(tmp_path, base_url=fake.base_url, model="fake", max_retries=0) as rt,
    ):
        clone = rt.clone
        await clone.import_sample(OWNER)
        await say(clone, "profile correct 1 maintenance windows matter to me")
        await say(clone, "filter add topic crypto")
        await clone.handle_incoming(
            arrives(1, "nina", "can you review my PR today?"), explicit=True
        )
        prompt = fake.prompts()[-1]
        assert "they say instead: maintenance windows matter to me" in prompt
        assert "They avoid “crypto”: never agree to anything about it for them." in prompt
