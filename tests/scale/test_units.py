"""Fast checks of the scale-out pieces in one process: settings for workers, metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.metrics import CountingDeliveryLog, Metrics
from bot.settings import load_settings
from bot.workers import WorkersUnavailable, check_workers, worker_env


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
    assert second["MINIME_HTTP_REUSE_PORT"] == "true"
    # Acks need not wait for the work (deliveries are stored first); an operator's choice stays.
    assert "MINIME_SLACK__ACK_WAIT_S" not in second
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
