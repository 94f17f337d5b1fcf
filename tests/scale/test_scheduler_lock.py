"""Exactly one scheduler among processes, and a bounded hand-over when its holder is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.scheduler_lock import LeaderElection, lock_key
from storage.engine import open_engine
from tests.scale.cluster import ROOT, PgSchema

pytestmark = pytest.mark.postgres

HANDOVER_BOUND_S = 5.0


async def _candidate(schema: PgSchema, name: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.scale.scheduler_proc",
        schema.url,
        name,
        cwd=str(ROOT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _leader_line(process: asyncio.subprocess.Process, within_s: float) -> float:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=within_s)
    assert line.startswith(b"LEADER"), line
    return time.monotonic()


async def test_one_scheduler_runs_and_the_other_takes_over_when_it_is_killed() -> None:
    async with PgSchema() as schema:
        connection = await schema.connect()
        await connection.execute(
            "CREATE TABLE job_runs (slot bigint NOT NULL, runner text NOT NULL)"
        )
        first = await _candidate(schema, "A")
        second = None
        try:
            await _leader_line(first, within_s=30)
            second = await _candidate(schema, "B")
            await asyncio.sleep(3.0)  # both running: B must stay a follower
            assert second.returncode is None
            runs = await connection.fetch("SELECT runner, count(*) AS n FROM job_runs GROUP BY 1")
            assert {r["runner"]: r["n"] for r in runs}.keys() == {"A"}
            killed_at = time.monotonic()
            first.send_signal(signal.SIGKILL)
            await first.wait()
            took_over_at = await _leader_line(second, within_s=HANDOVER_BOUND_S + 10)
            handover = took_over_at - killed_at
            await asyncio.sleep(2.5)  # B runs the job
            by_runner = {
                r["runner"]: r["n"]
                for r in await connection.fetch(
                    "SELECT runner, count(*) AS n FROM job_runs GROUP BY 1"
                )
            }
            twice = await connection.fetch(
                "SELECT slot FROM job_runs GROUP BY slot HAVING count(*) > 1"
            )
            last_a = await connection.fetchval("SELECT max(slot) FROM job_runs WHERE runner = 'A'")
            first_b = await connection.fetchval("SELECT min(slot) FROM job_runs WHERE runner = 'B'")
        finally:
            for process in (first, second):
                if process is not None and process.returncode is None:
                    process.send_signal(signal.SIGKILL)
                    await process.wait()
            await connection.close()
        print(f"hand-over took {handover:.2f}s; runs {by_runner}")
        assert handover < HANDOVER_BOUND_S
        assert by_runner.get("B", 0) > 0
        assert not twice, "a scheduled run happened in both processes"
        assert first_b > last_a


async def test_election_in_one_process_hands_over_on_exit() -> None:
    async with PgSchema() as schema:
        engine = open_engine(schema.url)
        try:
            first = LeaderElection(engine, name="unit", poll_s=0.05, check_s=0.1)
            second = LeaderElection(engine, name="unit", poll_s=0.05, check_s=0.1)
            async with first:
                await asyncio.wait_for(first.wait_until_leader(), 5)
                async with second:
                    await asyncio.sleep(0.3)
                    assert first.leading and not second.leading
                    assert await first.still_leading()
                    await first.__aexit__(None, None, None)  # the leader steps down
                    await asyncio.wait_for(second.wait_until_leader(), 5)
                    assert second.leading
        finally:
            await engine.dispose()


async def test_a_lost_connection_ends_leadership() -> None:
    async with PgSchema() as schema:
        engine = open_engine(schema.url)
        try:
            async with LeaderElection(engine, name="lost", poll_s=0.05, check_s=0.1) as election:
                await asyncio.wait_for(election.wait_until_leader(), 5)
                async with engine.connect() as admin:
                    await admin.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_locks "
                            "WHERE locktype = 'advisory' AND granted "
                            "AND ((classid::bigint << 32) | objid::bigint) = :key"
                        ),
                        {"key": election.key},
                    )
                    await admin.commit()
                await asyncio.wait_for(election.lost.wait(), 5)
                assert not election.leading
                assert not await election.still_leading()
        finally:
            await engine.dispose()


async def test_deployments_in_separate_schemas_each_elect_their_own_leader() -> None:
    async with PgSchema() as one, PgSchema() as other:
        engines = [open_engine(one.url), open_engine(other.url), open_engine(one.url)]
        elections = [LeaderElection(engine, name="shared", poll_s=0.05) for engine in engines]
        try:
            await elections[0].__aenter__()
            await asyncio.wait_for(elections[0].wait_until_leader(), 5)
            for election in elections[1:]:
                await election.__aenter__()
            await asyncio.wait_for(elections[1].wait_until_leader(), 5)
            await asyncio.sleep(0.3)
            assert not elections[2].leading  # same schema as the first: a follower
            assert elections[0].key == lock_key("shared", one.name) != elections[1].key
        finally:
            for election in elections:
                await election.__aexit__(None, None, None)
            for engine in engines:
                await engine.dispose()


async def test_sqlite_is_always_leader(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with LeaderElection(engine) as election:
            await asyncio.wait_for(election.wait_until_leader(), 1)
            assert election.leading and await election.still_leading()
    finally:
        await engine.dispose()
