"""Fast checks of the scale-out pieces in one process: settings for workers, metrics, the guard."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.deliveries import DeliveryGuard, delivery_guard
from bot.metrics import CountingDeliveryLog, Metrics
from bot.settings import load_settings
from bot.workers import WorkersUnavailable, check_workers, worker_env
from storage.engine import open_engine
from tests.scale.cluster import PgSchema


def test_workers_need_postgresql(tmp_path: Path) -> None:
    with pytest.raises(WorkersUnavailable, match="PostgreSQL"):
        check_workers(load_settings({}, data_dir=tmp_path), 3)
    check_workers(load_settings({"MINIME_DATABASE_URL": "postgresql+asyncpg://u@h/db"}), 3)


def test_only_worker_0_runs_the_gateway_and_polling() -> None:
    base = {"MINIME_DISCORD__BOT_TOKEN": "d", "MINIME_TELEGRAM__BOT_TOKEN": "t", "X": "1"}
    settings = load_settings({"MINIME_DATABASE_URL": "postgresql+asyncpg://u@h/db"})
    first, second = worker_env(base, 0, settings), worker_env(base, 1, settings)
    assert first["MINIME_DISCORD__BOT_TOKEN"] == "d" and first["MINIME_TELEGRAM__BOT_TOKEN"] == "t"
    assert "MINIME_DISCORD__BOT_TOKEN" not in second
    assert "MINIME_TELEGRAM__BOT_TOKEN" not in second  # polling: once; webhooks: everywhere
    assert (
        second["MINIME_HTTP_REUSE_PORT"] == "true" and second["MINIME_SLACK__ACK_WAIT_S"] == "2.0"
    )
    assert (
        worker_env({**base, "MINIME_SLACK__ACK_WAIT_S": "1"}, 1, settings)[
            "MINIME_SLACK__ACK_WAIT_S"
        ]
        == "1"
    )


async def test_metrics_count_deliveries_and_answers() -> None:
    metrics = Metrics()
    app = web.Application()
    metrics.install(app)

    async def ok(_: web.Request) -> web.Response:
        return web.Response(status=200)

    async def unavailable(_: web.Request) -> web.Response:
        return web.Response(status=503)

    app.router.add_post("/slack/events", ok)
    app.router.add_post("/telegram/webhook", unavailable)
    metrics.track_backlog(lambda: 4)
    async with TestClient(TestServer(app)) as client:
        for _ in range(3):
            await client.post("/slack/events", data=b"{}")
        await client.post("/telegram/webhook", data=b"{}")
        await client.get("/healthz")
        text = await (await client.get("/metrics")).text()
    assert 'minime_events_received_total{platform="slack"} 3.0' in text
    assert 'minime_events_received_total{platform="telegram"} 1.0' in text
    assert 'minime_http_responses_total{route="/telegram/webhook",status="503"} 1.0' in text
    assert "minime_queue_depth 4.0" in text
    for name in ("drafts_made_total", "draft_latency_seconds_bucket", "llm_errors"):
        assert f"minime_{name}" in text


async def test_counting_delivery_log_counts_repeats() -> None:
    seen: set[str] = set()

    class Log:
        async def first_seen(self, key: str, *, account_id: str | None = None) -> bool:
            fresh = key not in seen
            seen.add(key)
            return fresh

    metrics = Metrics()
    log = CountingDeliveryLog(Log(), metrics, "telegram")
    assert [await log.first_seen(k) for k in ("a", "a", "b", "a")] == [True, False, True, False]
    assert b'minime_deliveries_deduplicated_total{platform="telegram"} 2.0' in metrics.render()


async def test_no_guard_on_sqlite(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        assert delivery_guard(engine, None, concurrency=2, metrics=None) is None  # type: ignore[arg-type]
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_guard_runs_each_key_once_and_again_after_a_crash() -> None:
    async with PgSchema() as schema:
        connection = await schema.connect()
        await connection.execute("CREATE TABLE deliveries (key text PRIMARY KEY)")
        engine = open_engine(schema.url)

        class Log:
            async def first_seen(self, key: str, *, account_id: str | None = None) -> bool:
                status = await connection.execute(
                    "INSERT INTO deliveries VALUES ($1) ON CONFLICT DO NOTHING", key
                )
                return status.endswith(" 1")

        runs: list[str] = []
        try:
            guard = DeliveryGuard(engine=engine, deliveries=Log(), concurrency=4)

            async def work() -> None:
                runs.append("k")
                await asyncio.sleep(0.2)

            # Concurrent deliveries of one key: one does the work, the others wait, then skip.
            results = await asyncio.gather(*(guard.run("k", work) for _ in range(3)))
            assert sorted(results) == [False, False, True] and runs == ["k"]

            # Work that was cancelled (its worker went away) is not recorded: a retry does it.
            async def stuck() -> None:
                await asyncio.sleep(10)

            task = asyncio.create_task(guard.run("c", stuck))
            await asyncio.sleep(0.3)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            done: list[str] = []

            async def finish() -> None:
                done.append("c")

            assert await asyncio.wait_for(guard.run("c", finish), 5) is True and done == ["c"]
        finally:
            await engine.dispose()
            await connection.close()
