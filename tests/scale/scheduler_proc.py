"""One scheduler candidate, run as its own process by ``test_scheduler_lock.py``.

    python -m tests.scale.scheduler_proc URL NAME

It joins the leader election (``bot.scheduler_lock.LeaderElection``) and, once it leads, starts
an APScheduler 3 ``AsyncIOScheduler`` with one interval job. Each run of the job records the
fire time's slot (its scheduled time, to the tick) and the process name in ``job_runs``, after
checking with ``still_leading()`` that the lock is still its own. It prints ``LEADER`` when it
leads and stops by itself after ``MAX_S`` seconds.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from bot.scheduler_lock import LeaderElection
from storage.engine import open_engine

TICK_S = 1.0
MAX_S = 60.0


async def main(url: str, name: str) -> None:
    engine = open_engine(url)
    try:
        async with LeaderElection(engine, name="scale-test", poll_s=0.2, check_s=0.5) as election:
            await election.wait_until_leader()
            print("LEADER", name, os.getpid(), flush=True)

            async def job(scheduled: datetime) -> None:
                if not await election.still_leading():
                    return
                slot = round(scheduled.timestamp() / TICK_S)  # exact: a grid point
                async with engine.begin() as connection:
                    await connection.execute(
                        text("INSERT INTO job_runs (slot, runner) VALUES (:slot, :runner)"),
                        {"slot": slot, "runner": name},
                    )

            scheduler = AsyncIOScheduler(timezone=UTC)

            # Fire times on one grid in every process (start aligned to a multiple of TICK_S); a
            # run later than the grace is skipped, so floor(now / TICK_S) is the scheduled slot.
            async def fire() -> None:
                now = datetime.now(UTC)
                await job(
                    datetime.fromtimestamp(math.floor(now.timestamp() / TICK_S) * TICK_S, UTC)
                )

            start = datetime.fromtimestamp(math.ceil(time.time() / TICK_S) * TICK_S, UTC)
            scheduler.add_job(
                fire,
                "interval",
                seconds=TICK_S,
                start_date=start,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=1,  # seconds (an int): a later run is skipped
            )
            scheduler.start()
            try:
                await asyncio.wait_for(election.lost.wait(), timeout=MAX_S)
            except TimeoutError:
                pass
            finally:
                scheduler.shutdown(wait=False)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
