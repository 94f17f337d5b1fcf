"""Conversation context: what was said before informs the retrieval query and the LLM prompt."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.app.conversations import RecentMessages, merge_context
from core.drafting.context import conversation_query, is_follow_up
from core.drafting.prompt import PromptContext, build_reply_prompt
from core.engines.embedding import HashingEmbedder
from core.models import IncomingMessage, Message, UserRef, utc_now
from tests.adapters.llm.fake_server import fake_openai

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
OWNER = UserRef(platform="local", user_id="owner")


def msg(n: int, text: str, *, sender: str = "priya", conversation: str = "dm:priya") -> Message:
    return Message(
        id=f"m{n}",
        conversation=conversation,
        thread=None,
        sender=sender,
        text=text,
        sent_at=T0 + timedelta(minutes=n),
    )


def test_a_follow_up_is_looked_up_with_what_came_before() -> None:
    embedder = HashingEmbedder()
    earlier = [msg(1, "can you review the database migration pull request today?")]
    follow_up = "and tomorrow?"
    assert is_follow_up(follow_up) and not is_follow_up(earlier[0].text)
    own, before, unrelated = embedder.encode(
        [follow_up, earlier[0].text, "lunch at noon at the thai place"]
    )
    query = conversation_query(own, follow_up, earlier, np.stack([before]))
    assert abs(float(np.linalg.norm(query)) - 1) < 1e-5
    assert float(query @ before) > float(own @ before) + 0.2
    assert float(query @ before) > float(query @ unrelated)
    # A message that stands alone keeps its own embedding; no context changes nothing.
    standalone = "can you send me the quarterly budget numbers by friday?"
    vec = embedder.encode([standalone])[0]
    assert np.array_equal(conversation_query(vec, standalone, earlier, np.stack([before])), vec)
    assert np.array_equal(conversation_query(own, follow_up, [], None), own)


def test_recent_messages_are_bounded_ordered_and_forgotten() -> None:
    recent = RecentMessages(limit=3, conversations=2)
    for n in range(5):
        recent.add("acct", msg(n, f"message {n}"))
    recent.add("acct", msg(4, "message 4"))  # a repeated delivery is kept once
    assert [m.id for m in recent.before("acct", msg(9, "now"))] == ["m2", "m3", "m4"]
    assert recent.before("other", msg(9, "now")) == ()
    recent.add("acct", msg(1, "elsewhere", conversation="c2"))
    recent.add("acct", msg(1, "third conversation", conversation="c3"))
    assert recent.before("acct", msg(9, "now")) == ()  # least recent conversation dropped
    recent.forget("acct")
    assert recent.before("acct", msg(9, "x", conversation="c3")) == ()
    given = (msg(3, "three"), msg(6, "six"))
    seen = (msg(2, "two"), msg(3, "three"))
    assert [m.id for m in merge_context(given, seen, limit=2)] == ["m3", "m6"]


def test_the_prompt_carries_candidates_and_the_conversation_fenced() -> None:
    context = PromptContext(
        owner="sam",
        conversation=[("priya", "can you review my PR?"), ("sam", "which one?")],
        candidates=[("sure - which pr?", "ask for details"), ("on it", None)],
    )
    _, user = build_reply_prompt(context, incoming="the auth one", sender="priya", nonce="N1")
    assert "<<<EARLIER N1\npriya: can you review my PR?\nEARLIER N1>>>" in user
    assert "<<<CANDIDATE (ask for details) N1\nsure - which pr?" in user
    assert user.index("EARLIER") < user.index("<<<INCOMING")


async def test_platform_messages_give_the_next_one_its_context(tmp_path: Path) -> None:
    async with fake_openai(replies=["sure, today"]) as fake:
        settings = load_settings(
            {}, data_dir=tmp_path, llm={"base_url": fake.base_url, "model": "fake"}
        )
        async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
            clone = rt.clone
            await clone.import_sample(OWNER)

            def incoming(text: str, **extra: object) -> IncomingMessage:
                message = Message(
                    id=f"live-{secrets.token_hex(4)}",
                    conversation="dm:priya",
                    thread=None,
                    sender="priya",
                    text=text,
                    sent_at=utc_now(),
                )
                return IncomingMessage(
                    owner=OWNER,
                    message=message,
                    sender_name="priya",
                    is_direct=True,
                    **extra,  # type: ignore[arg-type]
                )

            # Seen on the platform, not pasted: it becomes the context of the next message.
            await clone.handle_incoming(incoming("can you review the onboarding doc today?"))
            before = len(fake.requests)
            reply = await clone.handle_incoming(incoming("can you also do the one from marcus?"))
            assert reply is not None and len(fake.requests) == before + 1
            prompt = fake.prompts()[-1]
            assert "priya: can you review the onboarding doc today?" in prompt
            assert prompt.index("<<<EARLIER") < prompt.index("<<<INCOMING")
            # The platform's own context (Telegram's reply_to_message) counts as well.
            quoted = msg(0, "are we still on for the offsite planning call?", sender="sam")
            await clone.handle_incoming(incoming("yes or no?", context=(quoted,)), explicit=True)
            assert "sam: are we still on for the offsite planning call?" in fake.prompts()[-1]
