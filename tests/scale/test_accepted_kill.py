"""kill -9 between the ack and the draft: the accepted delivery is resumed, drafted exactly once.

``minime run --workers 2`` on PostgreSQL, Slack in HTTP mode, drafting through a local fake
OpenAI-compatible server that takes seconds to answer (a slow LLM): every delivery is answered
"200" long before its draft exists. With the LLM requests in flight, one worker gets ``kill -9``.
The deliveries it had acknowledged were stored as accepted before the ack; once their lease
expires the surviving worker takes them over and drafts them — one draft each, under the id the
delivery key derives — and Slack's retries afterwards change nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from core.service import draft_id_for
from tests.adapters.llm.fake_server import FakeOpenAI, fake_openai
from tests.adapters.slack.fake_slack import FakeSlack
from tests.scale.cluster import Cluster, PgSchema, base_env, plan, prepare_owners, sign

pytestmark = pytest.mark.postgres

EVENTS = 12
LLM_DELAY_S = 10.0
LEASE_S = 3.0


async def post_all(url: str, bodies: list[bytes], *, retry: int = 0) -> list[tuple[int, float]]:
    """Each body as its own connection (the kernel spreads them over the workers): status and
    seconds to the answer."""

    async def one(session: aiohttp.ClientSession, body: bytes) -> tuple[int, float]:
        headers = {"Content-Type": "application/json", **sign(body)}
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
        started = time.perf_counter()
        async with session.post(url + "/slack/events", data=body, headers=headers) as response:
            await response.read()
            return response.status, time.perf_counter() - started

    connector = aiohttp.TCPConnector(force_close=True)
    timeout = aiohttp.ClientTimeout(total=3)  # Slack gives up after 3 s
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        return list(await asyncio.gather(*(one(session, body) for body in bodies)))


async def until(check: object, *, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s} s: {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with fake_openai(
        mode="fixed", replies=["sure, thursday works"], delay_s=LLM_DELAY_S
    ) as f:
        yield f


async def test_a_worker_killed_after_the_ack_and_before_the_draft_loses_nothing(
    llm: FakeOpenAI,
) -> None:
    slack = FakeSlack()
    await slack.start()
    try:
        async with PgSchema() as schema:
            with tempfile.TemporaryDirectory(prefix="minime-accepted-") as tmp:
                env = base_env(schema, Path(tmp), Fernet.generate_key().decode())
                env |= {
                    "MINIME_LLM__BASE_URL": llm.base_url,
                    "MINIME_LLM__MODEL": "fake-slow",
                    "MINIME_DELIVERY_LEASE_S": str(LEASE_S),
                }
                accounts = await prepare_owners(env, 2)
                deliveries = plan(EVENTS, owners=2, retry_share=0.0, first=40_000)
                cluster = Cluster(2, env)
                try:
                    await cluster.start(slack)
                    answers = await post_all(cluster.url, [d.body for d in deliveries])
                    # Acknowledged at once, long before any draft (the model takes seconds).
                    assert [status for status, _ in answers] == [200] * EVENTS
                    assert max(seconds for _, seconds in answers) < LLM_DELAY_S / 2

                    async def in_flight() -> bool:
                        return len(llm.requests) >= EVENTS // 2

                    await until(in_flight, within_s=30, what="drafts waiting on the model")
                    victim = sorted(cluster.live_pids())[0]
                    os.kill(victim, signal.SIGKILL)
                    connection = await schema.connect()
                    try:
                        acked_unfinished = await connection.fetchval(
                            "SELECT count(*) FROM deliveries WHERE state = 'accepted' "
                            "AND payload IS NOT NULL"
                        )
                        drafted = await connection.fetchval("SELECT count(*) FROM drafts")
                        assert acked_unfinished > 0 and drafted < EVENTS

                        async def all_drafted() -> bool:
                            done = await connection.fetchval(
                                "SELECT count(*) FROM deliveries WHERE state = 'done'"
                            )
                            return int(done) == EVENTS

                        await until(all_drafted, within_s=60, what="every delivery done")
                        # The victim's deliveries were taken over (a second attempt) by the
                        # survivor, and asked of the model again.
                        resumed = await connection.fetchval(
                            "SELECT count(*) FROM deliveries WHERE attempts > 1"
                        )
                        assert resumed >= 1
                        expected = {
                            draft_id_for(accounts[d.owner], f"slack:event:{d.event_id}")
                            for d in deliveries
                        }
                        ids = [r["id"] for r in await connection.fetch("SELECT id FROM drafts")]
                        assert sorted(ids) == sorted(expected)  # each once, none lost
                        left = await connection.fetchval(
                            "SELECT count(*) FROM deliveries WHERE payload IS NOT NULL"
                        )
                        assert left == 0  # payloads dropped once done

                        # Slack's retries of the same events: acknowledged, nothing redone.
                        asked = len(llm.requests)
                        retried = await post_all(cluster.url, [d.body for d in deliveries], retry=1)
                        assert [status for status, _ in retried] == [200] * EVENTS
                        await asyncio.sleep(LEASE_S)
                        assert len(llm.requests) == asked
                        assert await connection.fetchval("SELECT count(*) FROM drafts") == EVENTS
                    finally:
                        await connection.close()
                    restarted = await cluster.wait_ready(2, within_s=30)
                    assert victim not in restarted
                finally:
                    await cluster.stop()
    finally:
        await slack.stop()
