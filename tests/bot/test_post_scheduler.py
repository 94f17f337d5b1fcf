"""Scheduled posts through the real scheduler (APScheduler 3.11, its SQLite job store) with a
controllable clock and the local fake networks: published once at the time, across a restart;
a slot missed while no scheduler ran fires once; cancelling stops it; posting windows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import Action, ActionInvocation, CommandInvocation, Reply
from tests.adapters.networks.fake_networks import FakeNetworks, fake_networks
from tests.bot.test_scheduler import OWNER, Clock, Inbox, clock, next_run, scheduler_of

__all__ = ["clock"]  # the fixture, shared with the digest tests


@pytest.fixture
async def fakes() -> AsyncIterator[FakeNetworks]:
    async with fake_networks() as running:
        yield running


@pytest.fixture
async def runtime(tmp_path: Path, clock: Clock, fakes: FakeNetworks) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data", networks=fakes.settings())
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        await rt.clone.import_sample(OWNER)
        rt.clone.ctx.clock = clock
        b = fakes.bluesky
        await say(rt, f"connect bluesky {b.handle} {b.app_password}")
        yield rt


async def say(rt: Runtime, text: str) -> list[Reply]:
    return await rt.clone.handle_command(CommandInvocation(user=OWNER, name="", text=text))


async def schedule(rt: Runtime, text: str) -> tuple[Reply, str]:
    [card] = await say(rt, text)
    post_id = card.buttons[0].draft_id
    outcome = await rt.clone.handle_action(
        ActionInvocation(user=OWNER, action=Action.SCHEDULE, draft_id=post_id)
    )
    assert outcome.reply is not None
    return outcome.reply, post_id


async def test_a_scheduled_post_publishes_once_at_its_time_across_a_restart(
    runtime: Runtime, clock: Clock, fakes: FakeNetworks
) -> None:
    notifier = Inbox()
    account = await runtime.clone.account(OWNER)
    async with scheduler_of(runtime, notifier):
        card, post_id = await schedule(
            runtime, 'post bluesky the launch checklist and search filters --at "sat 09:00"'
        )
        assert "scheduled for Sat 28 Mar 09:00 UTC" in card.text
        assert [b.label for b in card.buttons] == ["Publish", "Edit", "Regenerate", "Dismiss"]
    # The worker restarts: the job is in the store, not in memory.
    async with scheduler_of(runtime, notifier) as scheduler:
        job = f"post:{account.id}:{post_id}"
        assert next_run(scheduler, job) == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
        clock.now = datetime(2026, 3, 28, 8, 59, tzinfo=UTC)
        await scheduler.run_due()
        assert fakes.bluesky.records == {} and notifier.got == []
        clock.now = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
        await scheduler.run_due()
        await scheduler.run_due()
        published = len(fakes.bluesky.records)
        assert published >= 1 and len(notifier.got) == 1
        to, said = notifier.got[0]
        assert to == OWNER and said.text.startswith("Scheduled post: ✓ Published to Bluesky")
        assert next_run(scheduler, job) is None
    # Even asked again directly (a second scheduler's late run), nothing goes out twice.
    assert await runtime.clone.app.post_actions.publish_scheduled(account.id, post_id) is None
    assert len(fakes.bluesky.records) == published
    post = await runtime.storage.posts.get(account.id, post_id)
    assert post is not None
    assert [(e.status.value, e.actor.kind) for e in post.events] == [
        ("draft", "owner"),
        ("approved", "owner"),
        ("scheduled", "owner"),
        ("published", "scheduler"),
    ]


async def test_a_slot_missed_while_no_scheduler_ran_fires_once(
    runtime: Runtime, clock: Clock, fakes: FakeNetworks
) -> None:
    notifier = Inbox()
    async with scheduler_of(runtime, notifier):
        await schedule(runtime, 'post bluesky the launch checklist --at "sat 09:00"')
    clock.now = datetime(2026, 3, 29, 20, 0, tzinfo=UTC)  # a day and a half later
    async with scheduler_of(runtime, notifier) as scheduler:
        await scheduler.run_due()
        await scheduler.run_due()
    assert len(notifier.got) == 1 and "✓ Published" in notifier.got[0][1].text
    assert fakes.bluesky.records


async def test_cancelling_stops_a_scheduled_post(
    runtime: Runtime, clock: Clock, fakes: FakeNetworks
) -> None:
    notifier = Inbox()
    async with scheduler_of(runtime, notifier) as scheduler:
        await schedule(runtime, 'post bluesky the launch checklist --at "sat 10:30"')
        listed = "\n".join(r.text for r in await say(runtime, "posts scheduled"))
        assert "1. Sat 28 Mar 10:30 UTC · Bluesky" in listed
        [cancelled] = await say(runtime, "posts cancel 1")
        assert "is a draft again" in cancelled.text
        clock.now += timedelta(days=1)
        await scheduler.run_due()
    assert fakes.bluesky.records == {} and notifier.got == []
    assert "Nothing is scheduled" in (await say(runtime, "posts scheduled"))[0].text


async def test_schedule_without_a_time_takes_the_personas_next_window(
    runtime: Runtime, clock: Clock
) -> None:
    [set_window] = await say(runtime, "persona schedule default mon-fri 08:00-18:00")
    assert "now Mon 30 Mar 08:00 UTC" in set_window.text  # it is Saturday 00:00
    async with scheduler_of(runtime, Inbox()) as scheduler:
        card, post_id = await schedule(runtime, "post bluesky the launch checklist")
        assert "scheduled for Mon 30 Mar 08:00 UTC" in card.text
        account = await runtime.clone.account(OWNER)
        assert next_run(scheduler, f"post:{account.id}:{post_id}") == datetime(
            2026, 3, 30, 8, 0, tzinfo=UTC
        )
