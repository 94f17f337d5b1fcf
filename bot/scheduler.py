"""The scheduler: daily digests and follow-up reminders with APScheduler 3.11.

* **Persistent jobs**: an ``SQLAlchemyJobStore`` (it needs a *sync* driver: ``sqlite:///`` next to
  the database file, or ``postgresql+psycopg://`` on the same PostgreSQL database and schema).
  Jobs are module-level coroutine functions whose arguments are ids only (an account id, a
  waiting item id), never message text; ``coalesce=True`` and a ``misfire_grace_time`` make the
  runs missed while no scheduler was up fire once.
* **One scheduler among workers**: every process starts its scheduler *paused* (so any worker
  can add or remove jobs in the shared store) and only the leader resumes it. Leadership is a
  PostgreSQL session advisory lock (``pg_try_advisory_lock``) held on a dedicated connection
  for as long as the process lives; on SQLite, an exclusive ``flock`` on a file in the data dir.
  (``bot/scheduler_lock.py`` had no ``LeaderElection`` yet when this was written: this is the
  minimal guard.) The leader also wakes up every ``poll_s`` seconds to pick up jobs other
  workers added.
* **Who runs the job**: the job functions get the clone and the notifier of the scheduler that
  runs them through a context variable set by its executor, so two schedulers in one process
  (the tests) never mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import logging
import os
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.models import AccountId
from core.ports import Notifier
from core.service import Clone

log = logging.getLogger(__name__)

MISFIRE_GRACE_S = 6 * 3600
"""A digest or reminder missed while no scheduler ran still goes out up to 6 hours late (once)."""
LOCK_KEY = zlib.crc32(b"minime.scheduler")
"""The advisory-lock key of the scheduler leader (one per database)."""
JOBS_TABLE = "minime_jobs"


@dataclass(frozen=True, slots=True)
class JobContext:
    """What the jobs of one scheduler act with."""

    clone: Clone
    notifier: Notifier


_CONTEXT: contextvars.ContextVar[JobContext] = contextvars.ContextVar("minime_job_context")


async def run_digest(account_id: str) -> None:
    """Job: build one account's digest and deliver it."""
    context = _CONTEXT.get()
    made = await context.clone.digest(account_id)
    if made is not None:
        await context.notifier.notify(*made)


async def run_followup(account_id: str, item_id: str) -> None:
    """Job: remind about one waiting message if it is still waiting (at most once)."""
    context = _CONTEXT.get()
    made = await context.clone.follow_up(account_id, item_id)
    if made is not None:
        await context.notifier.notify(*made)


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
        self._scheduler.add_job(
            run_followup,
            DateTrigger(run_date=at),
            args=[account_id, item_id],
            id=f"followup:{account_id}:{item_id}",
            replace_existing=True,
        )

    async def clear_followup(self, account_id: AccountId, item_id: str) -> None:
        self._remove(f"followup:{account_id}:{item_id}")

    def _remove(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id)


class MinimeScheduler:
    """One process's scheduler: started paused, running only while this process leads."""

    def __init__(
        self, *, context: JobContext, jobstore_url: str, engine: AsyncEngine, data_dir: Path
    ) -> None:
        self.executor = _ContextExecutor(context)
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
        self._engine = engine
        self._data_dir = data_dir
        self._lock_connection: AsyncConnection | None = None
        self._lock_file: int | None = None
        self.leader = False

    async def try_lead(self) -> bool:
        """Take leadership if nobody holds it; resume the scheduler when taken."""
        if self.leader:
            return True
        if self._engine.dialect.name == "postgresql":
            if self._lock_connection is None:
                self._lock_connection = await self._engine.connect()
            raw = await self._lock_connection.exec_driver_sql(
                f"SELECT pg_try_advisory_lock({LOCK_KEY})"
            )
            got = bool(raw.scalar())
            await self._lock_connection.commit()
        else:
            got = self._flock()
        if got:
            self.leader = True
            self.scheduler.resume()
            self.scheduler.wakeup()
        return got

    def _flock(self) -> bool:
        if self._lock_file is None:
            self._lock_file = os.open(self._data_dir / "scheduler.lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    async def resign(self) -> None:
        """Stop running jobs and release leadership (shutdown, or a lost database)."""
        if self.scheduler.running:
            self.scheduler.pause()
        self.leader = False
        if self._lock_connection is not None:
            with contextlib.suppress(Exception):
                await self._lock_connection.exec_driver_sql(
                    f"SELECT pg_advisory_unlock({LOCK_KEY})"
                )
                await self._lock_connection.commit()
            with contextlib.suppress(Exception):
                # Never back to the pool: the session (and any lock it still holds) ends here.
                await self._lock_connection.invalidate()
                await self._lock_connection.close()
            self._lock_connection = None
        if self._lock_file is not None:
            os.close(self._lock_file)  # closing the descriptor releases the flock
            self._lock_file = None

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

    ``minime run`` and ``minime chat`` open it; it is shut down (and leadership released) on
    exit even when start-up failed half-way.
    """
    scheduler = MinimeScheduler(
        context=JobContext(clone=clone, notifier=notifier),
        jobstore_url=jobstore_url or sync_jobstore_url(database_url, data_dir),
        engine=engine,
        data_dir=data_dir,
    )
    scheduler.scheduler.start(paused=True)
    clone.use_jobs(scheduler.jobs)

    async def campaign() -> None:
        while True:
            try:
                if scheduler.leader:
                    scheduler.scheduler.wakeup()  # jobs other workers added
                else:
                    await scheduler.try_lead()
            except Exception as error:  # the database is away: stop leading, try again later
                log.warning("scheduler leadership check failed: %s", type(error).__name__)
                await scheduler.resign()
            await asyncio.sleep(poll_s)

    task = asyncio.create_task(campaign(), name="scheduler-leader")
    try:
        yield scheduler
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        clone.use_jobs(None)
        await scheduler.resign()
        scheduler.scheduler.shutdown(wait=False)
        await scheduler.executor.drain()
