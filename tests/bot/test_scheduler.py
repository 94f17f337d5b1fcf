"""The scheduler with a controllable clock: digests at the owner's local time, follow-ups once,
nothing twice across a restart (missed runs coalesced), one leader among schedulers.

APScheduler reads the time with ``datetime.now`` in its scheduler and executor modules; the
``clock`` fixture replaces that name there (and the clone's clock) with a settable one. Jobs are
then run with ``MinimeScheduler.run_due()``, which is what the scheduler's own timer does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.scheduler import JobContext, MinimeScheduler, open_scheduler, sync_jobstore_url
from bot.scheduler_lock import LeaderElection
from bot.settings import load_settings
from core.app.quality_history import WEEKLY
from core.engines.embedding import HashingEmbedder
from core.models import CommandInvocation, IncomingMessage, Message, Reply, UserRef
from core.service import Clone
from storage.engine import open_engine
from tests.storage.support import PG_URL, PgSchemas

OWNER = UserRef(platform="local", user_id="owner")


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock(datetime(2026, 3, 28, 0, 0, tzinfo=UTC))

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return fake.now if tz is None else fake.now.astimezone(tz)

    import apscheduler.executors.base as executors
    import apscheduler.schedulers.base as schedulers

    monkeypatch.setattr(schedulers, "datetime", FakeDatetime)
    monkeypatch.setattr(executors, "datetime", FakeDatetime)
    yield fake


@dataclass
class Inbox:
    """A notifier that keeps what it was given (the owner's private chat, in a list)."""

    got: list[tuple[UserRef, Reply]] = field(default_factory=list)

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        self.got.append((to, reply))
        return True


@pytest.fixture
async def runtime(tmp_path: Path, clock: Clock) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        await rt.clone.import_sample(OWNER)
        rt.clone.ctx.clock = clock  # the clone's "now" follows the test clock
        yield rt


@asynccontextmanager
async def scheduler_of(runtime: Runtime, notifier: Inbox) -> AsyncIterator[MinimeScheduler]:
    async with open_scheduler(
        clone=runtime.clone,
        notifier=notifier,
        engine=runtime.storage.engine,
        database_url=runtime.settings.effective_database_url,
        data_dir=runtime.settings.data_dir,
        poll_s=3600,
    ) as scheduler:
        assert scheduler.try_lead()
        yield scheduler


async def command(clone: Clone, text: str) -> str:
    replies = await clone.handle_command(CommandInvocation(user=OWNER, name="", text=text))
    return "\n".join(r.text for r in replies)


def arrives(text: str, sender: str, at: datetime) -> IncomingMessage:
    message = Message(
        id=f"live-{uuid.uuid4().hex[:8]}",
        conversation=f"dm:{sender}",
        thread=None,
        sender=sender,
        text=text,
        sent_at=at,
    )
    return IncomingMessage(owner=OWNER, message=message, sender_name=sender, is_direct=True)


def next_run(scheduler: MinimeScheduler, job_id: str) -> datetime | None:
    job = scheduler.scheduler.get_job(job_id)
    return None if job is None else cast(datetime, job.next_run_time)


async def test_the_digest_fires_at_the_owners_local_time_across_dst(
    runtime: Runtime, clock: Clock
) -> None:
    notifier = Inbox()
    async with scheduler_of(runtime, notifier) as scheduler:
        said = await command(runtime.clone, "/clone digest 08:30 Europe/Paris")
        assert "08:30 (Europe/Paris)" in said
        account = await runtime.clone.account(OWNER)
        job = f"digest:{account.id}"
        # Saturday 28 March 2026 is still winter time (UTC+1): 08:30 Paris is 07:30 UTC.
        assert next_run(scheduler, job) == datetime(2026, 3, 28, 7, 30, tzinfo=UTC)
        clock.now = datetime(2026, 3, 28, 7, 29, 59, tzinfo=UTC)
        await scheduler.run_due()
        assert notifier.got == []
        clock.now = datetime(2026, 3, 28, 7, 30, tzinfo=UTC)
        await scheduler.run_due()
        assert len(notifier.got) == 1
        to, reply = notifier.got[0]
        assert to == OWNER and reply.text.startswith("Digest:")
        # The clocks go forward that night: Sunday's 08:30 Paris is 06:30 UTC.
        assert next_run(scheduler, job) == datetime(2026, 3, 29, 6, 30, tzinfo=UTC)
        clock.now = datetime(2026, 3, 29, 6, 30, tzinfo=UTC)
        await scheduler.run_due()
        await scheduler.run_due()
        assert len(notifier.got) == 2
        assert "Daily digest" not in await command(runtime.clone, "/clone digest off")
        assert next_run(scheduler, job) is None


async def test_a_follow_up_fires_once_after_the_threshold(runtime: Runtime, clock: Clock) -> None:
    notifier = Inbox()
    clone = runtime.clone
    async with scheduler_of(runtime, notifier) as scheduler:
        said = await command(clone, "/clone digest followup 4h 0.3")
        assert "more than 4h" in said
        start = clock.now
        urgent = arrives(
            "can you review the release notes before the deploy today?", "priya", start
        )
        await clone.handle_incoming(urgent)
        answered = arrives("are you joining the design review at 3?", "omar", start)
        await clone.handle_incoming(answered)
        waiting = {i.message.sender for i in await clone.waiting_items(OWNER)}
        assert {"priya", "omar"} <= waiting

        # The owner answers Omar in his conversation an hour later: no reminder for that one.
        clock.advance(hours=1)
        reply = Message(
            id="owner-1",
            conversation="dm:omar",
            thread=None,
            sender="sam",
            text="yes, see you there",
            sent_at=clock.now,
        )
        await clone.observe_owner_message(OWNER, reply)

        clock.now = start + timedelta(hours=3, minutes=59)
        await scheduler.run_due()
        assert notifier.got == []
        clock.now = start + timedelta(hours=4)
        await scheduler.run_due()
        assert [r.text.splitlines()[0] for _, r in notifier.got] == [
            "Still waiting for you after 4h:"
        ]
        assert "priya" in notifier.got[0][1].text
        clock.advance(hours=3)
        await scheduler.run_due()
        assert len(notifier.got) == 1
        # Even asked again directly, the reminder went out once.
        account = await clone.account(OWNER)
        item = next(i for i in await clone.waiting_items(OWNER) if i.message.sender == "priya")
        assert await clone.follow_up(account.id, item.id) is None


async def test_nothing_fires_twice_across_a_restart_and_missed_runs_coalesce(
    runtime: Runtime, clock: Clock
) -> None:
    notifier = Inbox()
    async with scheduler_of(runtime, notifier) as first:
        await command(runtime.clone, "/clone digest 08:30 UTC")
        clock.now = datetime(2026, 3, 28, 8, 30, tzinfo=UTC)
        await first.run_due()
        assert len(notifier.got) == 1
    # A restart just after the run: the persistent store knows it ran.
    clock.now = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    async with scheduler_of(runtime, notifier) as second:
        await second.run_due()
        assert len(notifier.got) == 1
    # Down for two days: the runs of the 29th and the 30th were missed; one digest, not two.
    clock.now = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
    async with scheduler_of(runtime, notifier) as third:
        await third.run_due()
        await third.run_due()
        assert len(notifier.got) == 2
        account = await runtime.clone.account(OWNER)
        assert next_run(third, f"digest:{account.id}") == datetime(2026, 3, 31, 8, 30, tzinfo=UTC)


@dataclass
class CountingClone:
    """Stands in for the clone in the leader test: counts digests per scheduler."""

    name: str
    runs: list[str]

    async def digest(self, account_id: str) -> tuple[UserRef, Reply] | None:
        self.runs.append(self.name)
        return None


@pytest.mark.postgres
async def test_two_schedulers_on_one_postgresql_never_both_run_a_job(
    tmp_path: Path, clock: Clock
) -> None:
    schemas = PgSchemas(PG_URL)
    url = await schemas.fresh_url()
    engines = [open_engine(url), open_engine(url)]
    elections = [LeaderElection(engine, name="scheduler", poll_s=0.05) for engine in engines]
    runs: list[str] = []
    schedulers = [
        MinimeScheduler(
            context=JobContext(clone=cast(Clone, CountingClone(name, runs)), notifier=Inbox()),
            jobstore_url=sync_jobstore_url(url, tmp_path),
            election=election,
        )
        for name, election in zip("ab", elections, strict=True)
    ]
    a, b = schedulers
    try:
        await elections[0].__aenter__()
        await asyncio.wait_for(elections[0].wait_until_leader(), 10)
        await elections[1].__aenter__()
        for s in schedulers:
            s.scheduler.start(paused=True)
        await asyncio.sleep(0.2)  # the follower has tried, and failed, a few times
        assert a.try_lead()
        assert not b.try_lead()
        clock.now = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
        # A follower can still schedule: the job lands in the shared store.
        await b.jobs.set_digest("acct1", datetime(2026, 1, 1, 8, 30).time(), "UTC")
        clock.now = datetime(2026, 3, 28, 8, 30, tzinfo=UTC)
        for _ in range(3):
            await a.run_due()
            await b.run_due()
            b.scheduler._process_jobs()  # even a follower's timer firing runs nothing: paused
            await b.executor.drain()
        assert runs == ["a"]
        # The leader goes away: the follower takes over, without repeating today's run.
        a.pause()
        await elections[0].__aexit__(None, None, None)
        await asyncio.wait_for(elections[1].wait_until_leader(), 10)
        assert b.try_lead()
        await b.run_due()
        assert runs == ["a"]
        clock.now = datetime(2026, 3, 29, 8, 30, tzinfo=UTC)
        await b.run_due()
        await a.run_due()
        assert runs == ["a", "b"]
    finally:
        for s in schedulers:
            s.pause()
            if s.scheduler.running:
                s.scheduler.shutdown(wait=False)
        for election in elections:
            await election.__aexit__(None, None, None)
        for engine in engines:
            await engine.dispose()
        await schemas.drop_all()


async def test_erasing_an_account_removes_its_jobs(runtime: Runtime, clock: Clock) -> None:
    notifier = Inbox()
    clone = runtime.clone
    async with scheduler_of(runtime, notifier) as scheduler:
        await command(clone, "/clone digest 08:30 UTC")
        await command(clone, "/clone digest followup 1h 0.0")
        await clone.handle_incoming(arrives("can you sign the contract today?", "priya", clock.now))
        account = await clone.account(OWNER)
        ids = {job.id for job in scheduler.scheduler.get_jobs()}
        assert f"digest:{account.id}" in ids and any(i.startswith("followup:") for i in ids)
        said = await clone.handle_command(
            CommandInvocation(user=OWNER, name="privacy", text="erase confirm")
        )
        assert "Erased" in said[0].text
        assert [j.id for j in scheduler.scheduler.get_jobs() if account.id in j.id] == []

        # Erased outside the chat (``minime erase``): the digest job finds no account and goes.
        other = UserRef(platform="local", user_id="other")
        await clone.import_sample(other)
        await clone.handle_command(CommandInvocation(user=other, name="", text="digest 09:00 UTC"))
        gone = await clone.account(other)
        await runtime.storage.vault.erase(gone.id)
        clock.now = clock.now.replace(hour=9, minute=0) + timedelta(days=1)
        await scheduler.run_due()
        assert notifier.got == []
        assert scheduler.scheduler.get_job(f"digest:{gone.id}") is None


async def test_a_follow_up_rule_set_later_covers_what_already_waits(
    runtime: Runtime, clock: Clock
) -> None:
    notifier = Inbox()
    clone = runtime.clone
    async with scheduler_of(runtime, notifier) as scheduler:
        start = clock.now
        await clone.handle_incoming(arrives("can you approve the budget today?", "lena", start))
        clock.advance(hours=1)
        await command(clone, "/clone onboard followup 2h")
        await command(clone, "/clone digest followup 2h 0.0")
        clock.now = start + timedelta(hours=2)
        await scheduler.run_due()
        assert len(notifier.got) == 1 and "lena" in notifier.got[0][1].text
        await command(clone, "/clone digest followup off")
        assert [j for j in scheduler.scheduler.get_jobs() if j.id.startswith("followup:")] == []


async def test_a_weekly_quality_run_fires_and_rearms(runtime: Runtime, clock: Clock) -> None:
    notifier = Inbox()
    clone = runtime.clone
    async with scheduler_of(runtime, notifier) as scheduler:
        assert "work" in await command(clone, "/clone persona new work")
        await command(clone, "/clone train --sample")
        account = await clone.account(OWNER)
        persona = await clone.active_persona(account)
        job = f"quality:{account.id}:{persona.id}"
        start = clock.now
        assert next_run(scheduler, job) == start + WEEKLY
        clock.advance(days=7)
        await scheduler.run_due()
        kept = await clone.app.quality_history.history(account.id, persona.id)
        assert [r.trigger for r in kept.runs] == ["weekly"]
        assert kept.runs[0].messages == 475
        assert notifier.got == []  # a first run has nothing to drop from
        assert next_run(scheduler, job) == start + WEEKLY + timedelta(days=7)
        history = await command(clone, "/clone quality history")
        assert "(weekly, model v1, 475 messages)" in history
