"""The scheduler: daily digests, follow-up reminders and scheduled posts with APScheduler 3.11.

* **Persistent jobs**: an ``SQLAlchemyJobStore`` (it needs a *sync* driver: ``sqlite:///`` next to
  the database file, or ``postgresql+psycopg://`` on the same PostgreSQL database and schema).
  Jobs are module-level coroutine functions whose arguments are ids only (an account id, a
  waiting item id), never message text; ``coalesce=True`` and a ``misfire_grace_time`` make the
  runs missed while no scheduler was up fire once.
* **One scheduler among workers**: every process starts its scheduler *paused* (so any worker
  can add or remove jobs in the shared store) and only the leader resumes it. Leadership is
  ``bot.scheduler_lock.LeaderElection`` (a PostgreSQL session advisory lock; won at once on
  SQLite, which is one process); a leader that loses its lock's connection pauses at once, and
  each job asks ``still_leading()`` (one round trip) before its side effect. The leader also
  wakes up every ``poll_s`` seconds to pick up jobs other workers added.
* **Who runs the job**: the job functions get the clone and the notifier of the scheduler that
  runs them through a context variable set by its executor, so two schedulers in one process
  (the tests) never mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.scheduler_lock import LeaderElection
from core.models import AccountId, PersonaId, Reply, UserRef
from core.ports import Notifier
from core.service import Clone

log = logging.getLogger(__name__)

MISFIRE_GRACE_S = 6 * 3600
"""A digest or reminder missed while no scheduler ran still goes out up to 6 hours late (once)."""
ELECTION = "scheduler"
"""The name of the scheduler's leader election (one leader per database)."""
JOBS_TABLE = "minime_jobs"


@dataclass(frozen=True, slots=True)
class JobContext:
    """What the jobs of one scheduler act with."""

    clone: Clone
    notifier: Notifier
    still_leading: Callable[[], Awaitable[bool]] | None = None
    """Asked right before a side effect: a leader cut off from the database sends nothing."""

    async def deliver(self, made: tuple[UserRef, Reply] | None) -> None:
        if made is None:
            return
        if self.still_leading is not None and not await self.still_leading():
            log.warning("scheduler: no longer leading; a job's delivery was skipped")
            return
        await self.notifier.notify(*made)


_CONTEXT: contextvars.ContextVar[JobContext] = contextvars.ContextVar("minime_job_context")


async def run_digest(account_id: str) -> None:
    """Job: build one account's digest and deliver it."""
    context = _CONTEXT.get()
    made = await context.clone.digest(account_id)
    if made is None and not await context.clone.account_exists(account_id):
        await context.clone.cancel_jobs(account_id)  # an erased account: its job goes too
        return
    await context.deliver(made)


async def run_followup(account_id: str, item_id: str) -> None:
    """Job: remind about one waiting message if it is still waiting (at most once)."""
    context = _CONTEXT.get()
    await context.deliver(await context.clone.follow_up(account_id, item_id))


async def run_post(account_id: str, post_id: str) -> None:
    """Job: publish one scheduled post (once: the core publishes only a post still scheduled,
    under its publishing lease) and tell the owner how it went."""
    context = _CONTEXT.get()
    if context.still_leading is not None and not await context.still_leading():
        log.warning("scheduler: no longer leading; a scheduled post was left for the leader")
        return
    made = await context.clone.app.post_actions.publish_scheduled(account_id, post_id)
    await context.deliver(made)


async def run_quality(account_id: str, persona_id: str) -> None:
    """Job: measure one persona's quality (off the event loop, one at a time in this process),
    keep it in the history, arm the next weekly run; tell the owner only about a drop."""
    context = _CONTEXT.get()
    await context.deliver(
        await context.clone.app.quality_history.run_scheduled(account_id, persona_id)
    )


class Notifiers:
    """Several notifiers as one: the first that can reach the identity delivers."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self._notifiers = list(notifiers)

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        for notifier in self._notifiers:
            if await notifier.notify(to, reply):
                return True
        log.info("scheduler: no adapter can reach a %s identity", to.platform)
        return False


class _ContextExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """Runs coroutine jobs with this scheduler's ``JobContext`` in their context."""

    def __init__(self, context: JobContext) -> None:
        super().__init__()
        self._context = context

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        token = _CONTEXT.set(self._context)
        try:
            super()._do_submit_job(job, run_times)  # the task copies the context now
        finally:
            _CONTEXT.reset(token)

    async def drain(self) -> None:
        """Wait for the jobs submitted so far (tests, shutdown)."""
        while self._pending_futures:
            await asyncio.gather(*list(self._pending_futures), return_exceptions=True)


def sync_jobstore_url(async_url: str, data_dir: Path) -> str:
    """The job store's sync URL for the clone's database URL."""
    url = make_url(async_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or str(data_dir / "minime.db")
        return f"sqlite:///{Path(database).with_name('scheduler.db')}"
    sync = url.set(drivername="postgresql+psycopg")
    search_path = url.query.get("search_path")
    if isinstance(search_path, str):
        # asyncpg takes it as a server setting; libpq spells it as a startup option.
        sync = sync.difference_update_query(["search_path"]).update_query_dict(
            {"options": f"-csearch_path={search_path}"}
        )
    return sync.render_as_string(hide_password=False)


class SchedulerJobs:
    """The ``Jobs`` port on an APScheduler instance (running or paused)."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self._scheduler = scheduler

    async def set_digest(self, account_id: AccountId, at: time, timezone: str) -> None:
        self._scheduler.add_job(
            run_digest,
            CronTrigger(hour=at.hour, minute=at.minute, timezone=timezone),
            args=[account_id],
            id=f"digest:{account_id}",
            replace_existing=True,
        )

    async def clear_digest(self, account_id: AccountId) -> None:
        self._remove(f"digest:{account_id}")

    async def set_followup(self, account_id: AccountId, item_id: str, at: datetime) -> None:
        self._once(run_followup, at, "followup", account_id, item_id)

    async def clear_followup(self, account_id: AccountId, item_id: str) -> None:
        self._remove(f"followup:{account_id}:{item_id}")

    async def set_post(self, account_id: AccountId, post_id: str, at: datetime) -> None:
        # No grace limit: a post whose slot passed while no scheduler ran goes out once, late.
        self._once(run_post, at, "post", account_id, post_id, misfire_grace_time=None)

    async def clear_post(self, account_id: AccountId, post_id: str) -> None:
        self._remove(f"post:{account_id}:{post_id}")

    async def set_quality(self, account_id: AccountId, persona_id: PersonaId, at: datetime) -> None:
        """The persona's next scheduled quality run (one job per persona; ids only)."""
        self._once(run_quality, at, "quality", account_id, persona_id)

    async def clear_quality(self, account_id: AccountId, persona_id: PersonaId) -> None:
        self._remove(f"quality:{account_id}:{persona_id}")

    def _once(
        self, job: Callable[..., Any], at: datetime, kind: str, *args: str, **options: Any
    ) -> None:
        """``job(*args)`` once at ``at``, replacing the job of the same kind and ids (ids only:
        the job reads everything else when it runs)."""
        self._scheduler.add_job(
            job,
            DateTrigger(run_date=at),
            args=list(args),
            id=":".join((kind, *args)),
            replace_existing=True,
            **options,
        )

    def _remove(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id)


class MinimeScheduler:
    """One process's scheduler: started paused, running only while its election leads."""

    def __init__(self, *, context: JobContext, jobstore_url: str, election: LeaderElection) -> None:
        self.executor = _ContextExecutor(replace(context, still_leading=election.still_leading))
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=jobstore_url, tablename=JOBS_TABLE)},
            executors={"default": self.executor},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": MISFIRE_GRACE_S,
                "max_instances": 1,
            },
            timezone="UTC",
        )
        self.jobs = SchedulerJobs(self.scheduler)
        self.election = election

    @property
    def leader(self) -> bool:
        return self.election.leading and self.scheduler.state == STATE_RUNNING

    def try_lead(self) -> bool:
        """Run jobs if the election made this process the leader; pause them if it lost."""
        if self.election.leading:
            if self.scheduler.state == STATE_PAUSED:
                self.scheduler.resume()
            return True
        self.pause()
        return False

    def pause(self) -> None:
        if self.scheduler.state == STATE_RUNNING:
            self.scheduler.pause()

    async def lead(self, poll_s: float) -> None:
        """Follow the election for ever: run while leading, wake up every ``poll_s`` for
        jobs other workers added, pause at once when the lock is lost."""
        await self.election.wait_until_leader()
        while self.try_lead():
            self.scheduler.wakeup()
            lost = asyncio.create_task(self.election.lost.wait())
            done, _ = await asyncio.wait({lost}, timeout=poll_s)
            if not done:
                lost.cancel()
        log.error("scheduler: leadership lost; jobs paused")

    async def run_due(self) -> None:
        """Run what is due now and wait for it (what the timer does; tests call it directly)."""
        if self.leader:
            self.scheduler._process_jobs()
            await self.executor.drain()


@asynccontextmanager
async def open_scheduler(
    *,
    clone: Clone,
    notifier: Notifier,
    engine: AsyncEngine,
    database_url: str,
    data_dir: Path,
    poll_s: float = 30.0,
    jobstore_url: str | None = None,
) -> AsyncIterator[MinimeScheduler]:
    """Start this process's scheduler (paused), wire it into the clone, and campaign to lead.

    ``minime run`` and ``minime chat`` open it; it is shut down (and the lock released) on exit
    even when start-up failed half-way.
    """
    async with LeaderElection(engine, name=ELECTION, poll_s=min(poll_s, 5.0)) as election:
        scheduler = MinimeScheduler(
            context=JobContext(clone=clone, notifier=notifier),
            jobstore_url=jobstore_url or sync_jobstore_url(database_url, data_dir),
            election=election,
        )
        scheduler.scheduler.start(paused=True)
        clone.use_jobs(scheduler.jobs)
        task = asyncio.create_task(scheduler.lead(poll_s), name="scheduler-leader")
        try:
            yield scheduler
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            clone.use_jobs(None)
            scheduler.pause()
            scheduler.scheduler.shutdown(wait=False)
            await scheduler.executor.drain()
