"""Posts with a life, through the Clone service on real SQLite and the local fake networks
(tests/adapters/networks): draft → approved → published, threads, resuming, refusals, bad
input, connections, history, stats, variants."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import Action, ActionInvocation, CommandInvocation, Reply, UserRef
from core.publishing import Post, PostStatus
from tests.adapters.llm.fake_server import fake_openai
from tests.adapters.networks.fake_networks import FakeNetworks, fake_networks

OWNER = UserRef(platform="local", user_id="owner")
INTRUDER = UserRef(platform="local", user_id="intruder")
LONG = " ".join(
    f"Lesson {i}: ship small, ship often, and write down what you learned." for i in range(12)
)


@asynccontextmanager
async def runtime(
    tmp_path: Path, fakes: FakeNetworks, *, name: str = "data", **llm: Any
) -> AsyncIterator[Runtime]:
    data = tmp_path / name
    data.mkdir(exist_ok=True)
    settings = load_settings({}, data_dir=data, llm=llm or None, networks=fakes.settings())
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt


async def say(rt: Runtime, text: str, user: UserRef = OWNER) -> list[Reply]:
    return await rt.clone.handle_command(CommandInvocation(user=user, name="", text=text))


async def text_of(rt: Runtime, text: str, user: UserRef = OWNER) -> str:
    return "\n".join(r.text for r in await say(rt, text, user))


async def click(
    rt: Runtime, reply: Reply, action: Action, user: UserRef = OWNER, text: str | None = None
) -> Reply:
    [button] = [b for b in reply.buttons if b.action is action]
    outcome = await rt.clone.handle_action(
        ActionInvocation(user=user, action=action, draft_id=button.draft_id, edited_text=text)
    )
    assert outcome.reply is not None, outcome
    return outcome.reply


async def stored(rt: Runtime, reply: Reply) -> Post:
    account = await rt.clone.account(OWNER)
    post = await rt.storage.posts.get(account.id, reply.buttons[0].draft_id)
    assert post is not None
    return post


async def connect_all(rt: Runtime, fakes: FakeNetworks) -> None:
    b = fakes.bluesky
    assert "Connected Bluesky" in await text_of(rt, f"connect bluesky {b.handle} {b.app_password}")
    assert "Connected X" in await text_of(rt, f"connect x {fakes.x.token}")
    assert "Connected LinkedIn" in await text_of(rt, f"connect linkedin {fakes.linkedin.token}")


async def test_without_a_model_the_owners_own_post_is_the_draft_and_publishes_once(
    tmp_path: Path,
) -> None:
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        [card] = await say(rt, "post bluesky the launch checklist and search filters")
        assert "No language model is configured" in card.text
        assert "your own closest past" in card.text and "MINIME_LLM__BASE_URL" in card.text
        assert [b.label for b in card.buttons] == [
            "Publish", "Edit", "Regenerate", "Schedule", "Dismiss"
        ]  # fmt: skip
        assert "/300 chars" in card.text and "sounds like you" in card.text
        post = await stored(rt, card)
        assert post.status is PostStatus.DRAFT and post.engine == "own"

        not_connected = await click(rt, card, Action.PUBLISH)
        assert "connect Bluesky first" in not_connected.text and fakes.bluesky.records == {}
        await connect_all(rt, fakes)
        done = await click(rt, card, Action.PUBLISH)
        assert done.text.startswith("✓ Published to Bluesky") and "bsky.app/profile" in done.text
        assert len(fakes.bluesky.records) == len(post.parts)
        again = await click(rt, card, Action.PUBLISH)  # a redelivered click
        assert "already handled (published)" in again.text
        assert len(fakes.bluesky.records) == len(post.parts)
        post = await stored(rt, card)
        steps = [(e.status.value, e.actor.kind, e.actor.id) for e in post.events]
        assert steps == [
            ("draft", "owner", "local:owner"),
            ("approved", "owner", "local:owner"),
            ("published", "owner", "local:owner"),
        ]


async def test_a_thread_publishes_as_a_thread_and_resumes_after_a_lost_answer(
    tmp_path: Path,
) -> None:
    async with (
        fake_networks() as fakes,
        fake_openai(replies=[LONG]) as llm,
        runtime(tmp_path, fakes, base_url=llm.base_url, model="fake") as rt,
    ):
        await rt.clone.import_sample(OWNER)
        await connect_all(rt, fakes)
        [card] = await say(rt, "post bluesky what we learned from the launch --parts 3")
        post = await stored(rt, card)
        assert len(post.parts) == 3 and all(len(p.text) <= 300 for p in post.parts)
        assert "thread of 3" in card.text and post.engine == "llm"
        assert "Published with your AI disclosure (line)" in card.text
        fakes.bluesky.lose_next = True  # part 1 is made, its answer lost (a crash there)
        failed = await click(rt, card, Action.PUBLISH)
        assert (
            "Couldn't publish to Bluesky" in failed.text
            and "never posting one twice" in failed.text
        )
        assert [b.label for b in failed.buttons] == ["Publish", "Dismiss"]  # nothing recorded yet
        resumed = await click(rt, failed, Action.PUBLISH)
        assert resumed.text.startswith("✓ Published to Bluesky (a thread of 3)")
        texts = fakes.bluesky.thread()  # each part answers the one before, same root
        assert len(texts) == 3 and texts[0].startswith(post.parts[0].text[:40])
        assert "AI clone" in texts[-1]  # the persona's disclosure, on a post a model wrote


async def test_x_thread_resumes_mid_thread_after_a_restart_without_double_posting(
    tmp_path: Path,
) -> None:
    async with fake_networks() as fakes, fake_openai(replies=[LONG]) as llm:
        async with runtime(tmp_path, fakes, base_url=llm.base_url, model="fake") as rt:
            await rt.clone.import_sample(OWNER)
            await connect_all(rt, fakes)
            [card] = await say(rt, "post x what we learned from the launch --parts 4")
            fakes.x.lose_call = 2  # part 2 goes out, its answer is lost; the worker goes away
            failed = await click(rt, card, Action.PUBLISH)
            assert "1 of 4 parts are out" in failed.text and len(fakes.x.tweets) == 2
        async with runtime(tmp_path, fakes, base_url=llm.base_url, model="fake") as rt:
            done = await click(rt, card, Action.PUBLISH)  # the same button after the restart
            assert done.text.startswith("✓ Published to X (a thread of 4)")
            assert len(fakes.x.thread()) == 4  # found part 2 by its text: not posted twice


async def test_concurrent_clicks_publish_once(tmp_path: Path) -> None:
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        await connect_all(rt, fakes)
        [card] = await say(rt, "post linkedin the launch checklist and search filters")
        results = await asyncio.gather(*(click(rt, card, Action.PUBLISH) for _ in range(4)))
        assert sum(r.text.startswith("✓ Published to LinkedIn") for r in results) == 1
        assert len(fakes.linkedin.posts) == 1


@pytest.mark.parametrize(
    ("status", "headers", "said"),
    [
        (401, {}, "refused the credentials (reconnect with `connect x <access-token>`)"),
        (429, {"retry-after": "30"}, "rate-limiting (try again in 30 s)"),
        (500, {}, "failed on its side"),
    ],
)
async def test_a_network_error_is_a_clear_reply_and_publish_again_works(
    tmp_path: Path, status: int, headers: dict[str, str], said: str
) -> None:
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        await connect_all(rt, fakes)
        [card] = await say(rt, "post x the launch checklist and search filters")
        fakes.x.failures = [(status, headers)]
        failed = await click(rt, card, Action.PUBLISH)
        assert said in failed.text and "Nothing was published" in failed.text
        assert fakes.x.token not in failed.text and fakes.x.tweets == []
        assert (await stored(rt, card)).status is PostStatus.APPROVED
        done = await click(rt, failed, Action.PUBLISH)
        assert done.text.startswith("✓ Published to X") and len(fakes.x.tweets) >= 1


async def test_another_accounts_button_cannot_touch_the_post(tmp_path: Path) -> None:
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        await connect_all(rt, fakes)
        [card] = await say(rt, "post bluesky the launch checklist and search filters")
        await say(rt, "help", INTRUDER)
        await say(rt, "posts", INTRUDER)  # the intruder has an account of their own
        for action in (Action.PUBLISH, Action.SCHEDULE, Action.EDIT, Action.DISMISS):
            refused = await click(rt, card, action, user=INTRUDER, text="hacked")
            assert refused.text == "That post isn't yours, or it no longer exists."
        assert fakes.bluesky.records == {} and fakes.bluesky.publish_calls == 0
        assert (await stored(rt, card)).status is PostStatus.DRAFT


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("post myspace hello", "I don't post to 'myspace'. Choose x, linkedin or bluesky."),
        ("post x " + "word " * 100, "That topic is 499 characters"),
        ("post x launch --parts 0", "--parts takes 1 to 9"),
        ("post x launch --parts 10", "--parts takes 1 to 9"),
        ("post x launch --parts many", "--parts takes 1 to 9"),
        ("post linkedin launch --parts 2", "LinkedIn doesn't thread"),
        ("post x launch --variants 5", "--variants takes 1 to 2"),
        ('post x launch --at "2020-01-01 09:00"', "That time has already passed"),
        ('post x launch --at "fri 09:00" --tz Mars/Phobos', "'Mars/Phobos' is not a time zone"),
        ("post x launch --tz Mars/Phobos", "'Mars/Phobos' is not a time zone"),
        ('post x launch --at "someday"', "'someday' is not a time of day"),
        ("post x launch --persona nobody", "No persona 'nobody'"),
        ("post x", "What should the X post be about?"),
        ("connect myspace a b", "I can't publish to 'myspace'"),
        ("connect bluesky onlyhandle", "Usage: connect bluesky <handle> <app-password>"),
        ("disconnect", "Usage: disconnect <bluesky|x|linkedin>"),
        ("posts --status lost", "No status 'lost'"),
        ("posts cancel 3", "No scheduled post 3"),
        ("posts export pdf", "Usage: posts export csv|json"),
        ("persona schedule default someday 08:00-18:00", "is not a set of days"),
        ("persona schedule default mon-fri 18:00-08:00", "must end after it starts"),
    ],
)
async def test_bad_input_gets_a_clear_reply_and_makes_nothing(
    tmp_path: Path, command: str, said: str
) -> None:
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        out = await text_of(rt, command)
        assert said in out, out
        account = await rt.clone.account(OWNER)
        assert [p async for p in rt.storage.posts.list(account.id)] == []


async def test_credentials_are_checked_kept_encrypted_never_exported_logged_and_erased(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        wrong = await text_of(rt, f"connect bluesky {fakes.bluesky.handle} not-the-password")
        assert "did not accept" in wrong and "not-the-password" not in wrong
        account = await rt.clone.account(OWNER)
        assert await rt.storage.connections.networks(account.id) == []
        await connect_all(rt, fakes)
        assert "Connected: Bluesky, LinkedIn, X." in await text_of(rt, "connect")
        export = json.dumps(await rt.storage.vault.export(account.id))
        for secret in (fakes.bluesky.app_password, fakes.x.token, fakes.linkedin.token):
            assert secret not in export
        raw = (tmp_path / "data" / "minime.db").read_bytes()
        assert fakes.x.token.encode() not in raw  # encrypted at rest
        [card] = await say(rt, "post x the launch checklist and search filters")
        fakes.x.failures = [(401, {})]
        refused = await click(rt, card, Action.PUBLISH)
        assert "refused the credentials" in refused.text and fakes.x.token not in refused.text
        assert (await click(rt, refused, Action.PUBLISH)).text.startswith("✓ Published to X")
        for secret in (fakes.bluesky.app_password, fakes.x.token, fakes.linkedin.token):
            assert secret not in caplog.text
        assert "Disconnected X" in await text_of(rt, "disconnect x")
        assert "X was not connected" in await text_of(rt, "disconnect x")
        await rt.storage.vault.erase(account.id)
        assert await rt.storage.connections.get(account.id, "bluesky") is None


async def test_edit_dismiss_regenerate_and_history(tmp_path: Path) -> None:
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        await connect_all(rt, fakes)
        [card] = await say(rt, "post x the launch checklist and search filters")
        edited = await click(rt, card, Action.EDIT, text="Shipping the launch checklist today.")
        assert "Shipping the launch checklist today." in edited.text and "your edit" in edited.text
        assert edited.prefill == "Shipping the launch checklist today."
        done = await click(rt, edited, Action.PUBLISH)
        assert fakes.x.tweets[-1]["text"] == "Shipping the launch checklist today."
        assert "x.com/owner/status/" in done.text

        [other] = await say(rt, "post bluesky the launch checklist and search filters")
        first_text = (await stored(rt, other)).text
        fresh = await click(rt, other, Action.REGENERATE)
        if fresh.buttons:  # the owner has another close post: never the same one again
            assert (await stored(rt, fresh)).text != first_text
            gone = await click(rt, fresh, Action.DISMISS)
        else:
            gone = await click(rt, other, Action.DISMISS)
        assert "Dismissed" in gone.text or "already handled" in gone.text

        listing = await text_of(rt, "posts")
        assert "[published] X" in listing and "x.com/owner/status/" in listing
        assert "[dismissed] Bluesky" in listing
        assert "[published]" in await text_of(rt, "posts shipping --status published")
        assert await text_of(rt, "posts shipping --status draft") == "No posts match."
        [exported] = await say(rt, "posts export csv")
        assert exported.file is not None and exported.file_name == "minime-posts.csv"
        rows = list(csv.DictReader(io.StringIO(exported.file.decode())))
        assert {r["status"] for r in rows} >= {"published", "dismissed"}
        assert any(r["text"] == "Shipping the launch checklist today." for r in rows)

        stats = await text_of(rt, "posts stats")
        assert "default on X: 1 posts · 3 likes · 1 reposts · 2 replies" in stats


async def test_variants_offer_two_takes_with_different_openers(tmp_path: Path) -> None:
    question = "What if the launch checklist were the product? We shipped it that way."
    statement = "The launch checklist was the product. We shipped it that way."
    async with (
        fake_networks() as fakes,
        fake_openai(replies=[question, statement]) as llm,
        runtime(tmp_path, fakes, base_url=llm.base_url, model="fake") as rt,
    ):
        await rt.clone.import_sample(OWNER)
        cards = await say(rt, "post x the launch checklist --variants 2")
        assert len(cards) == 2
        takes = {(await stored(rt, c)).variant for c in cards}
        assert takes == {"question", "statement"}
        posts = [await stored(rt, c) for c in cards]
        assert posts[0].group is not None and posts[0].group == posts[1].group


async def test_persona_posting_window(tmp_path: Path) -> None:
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        out = await text_of(rt, "persona schedule default mon-fri 08:00-18:00")
        assert "'default' posts mon-fri 08:00-18:00 (UTC)" in out
        assert "mon-fri 08:00-18:00" in await text_of(rt, "persona schedule default")
        assert "any time" in await text_of(rt, "persona schedule default off")
        assert "No persona 'work'" in await text_of(rt, "persona schedule work mon-fri 08:00-18:00")


async def test_a_reviewer_publishes_a_team_personas_post_a_viewer_or_removed_one_cannot(
    tmp_path: Path,
) -> None:
    reviewer = UserRef(platform="local", user_id="rev")
    viewer = UserRef(platform="local", user_id="vic")
    async with fake_networks() as fakes, runtime(tmp_path, fakes) as rt:
        await rt.clone.import_sample(OWNER)
        await connect_all(rt, fakes)  # the owner's credentials; the reviewer connects nothing
        for user in (reviewer, viewer):
            await rt.clone.account(user)
        assert "now a reviewer" in await text_of(rt, "persona invite default @rev reviewer")
        assert "now a viewer" in await text_of(rt, "persona invite default @vic viewer")
        [card] = await say(rt, "post bluesky the launch checklist and search filters")

        for action in (Action.PUBLISH, Action.SCHEDULE, Action.EDIT, Action.DISMISS):
            refused = await click(rt, card, action, user=viewer, text="hacked")
            assert refused.text == "As a viewer of 'owner/default' you can't act on its posts."
        assert fakes.bluesky.publish_calls == 0
        assert (await stored(rt, card)).status is PostStatus.DRAFT
        assert await rt.clone.pending_draft(viewer, card.buttons[0].draft_id) is None

        [review] = await say(rt, "persona review owner/default", reviewer)
        assert review.text.startswith("Post of 'owner/default' for review")
        assert review.buttons[0].draft_id == card.buttons[0].draft_id
        prefill = await rt.clone.pending_draft(reviewer, card.buttons[0].draft_id)
        assert prefill is not None and prefill.options[0].text == (await stored(rt, card)).text
        edited = await click(rt, review, Action.EDIT, reviewer, "Launch checklist, shipped.")
        done = await click(rt, edited, Action.PUBLISH, reviewer)
        assert done.text.startswith("✓ Published to Bluesky")
        assert [r["text"] for r in fakes.bluesky.records.values()] == ["Launch checklist, shipped."]
        post = await stored(rt, card)
        steps = [(e.status.value, e.actor.kind, e.actor.id) for e in post.events]
        assert steps == [
            ("draft", "owner", "local:owner"),
            ("approved", "reviewer", "local:rev"),
            ("published", "reviewer", "local:rev"),
        ]

        [second] = await say(rt, "post bluesky the search filters")
        assert "Removed" in await text_of(rt, "persona remove default @rev")
        for action in (Action.PUBLISH, Action.DISMISS):
            old_button = await click(rt, second, action, user=reviewer)
            assert old_button.text == "That post isn't yours, or it no longer exists."
        assert await rt.clone.pending_draft(reviewer, second.buttons[0].draft_id) is None
        assert (await stored(rt, second)).status is PostStatus.DRAFT
        assert fakes.bluesky.publish_calls == 1
