"""``bot/platforms/telegram.py``: polling by default, the webhook route when configured."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.telegram.adapter import SECRET_HEADER, WEBHOOK_PATH
from bot.bootstrap import Runtime, open_runtime
from bot.platforms import telegram as wiring
from bot.runner import health_app
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from tests.adapters.telegram.conftest import BOT_USER, OWNER_ID, TOKEN, payload
from tests.adapters.telegram.fake_bot_api import FakeBotApi

SECRET = "s3cr3t-Token_for-the-webhook-0123456789"


@asynccontextmanager
async def _runtime(
    data_dir: Path, fake: FakeBotApi, *, lease_s: str = "30", **telegram: str
) -> AsyncIterator[Runtime]:
    env = {
        "MINIME_DELIVERY_LEASE_S": lease_s,
        "MINIME_TELEGRAM__BOT_TOKEN": TOKEN,
        "MINIME_TELEGRAM__API_BASE_URL": fake.base_url,
        "MINIME_TELEGRAM__API_FILE_URL": fake.file_url,
        **{f"MINIME_TELEGRAM__{key.upper()}": value for key, value in telegram.items()},
    }
    async with open_runtime(
        load_settings(env, data_dir=data_dir), embedder=HashingEmbedder()
    ) as runtime:
        yield runtime


async def _wait_for(condition: Callable[[], object]) -> None:
    async with asyncio.timeout(5.0):
        while not condition():  # noqa: ASYNC110  (polls the fake's transcript)
            await asyncio.sleep(0.02)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_polling_fetches_updates_and_answers(data_dir: Path, fake_api: FakeBotApi) -> None:
    fake_api.updates.append(payload("forward_user.json"))
    async with _runtime(data_dir, fake_api) as runtime:
        http = health_app(runtime)
        async with wiring.open_adapter(runtime, http) as adapter:
            assert WEBHOOK_PATH not in {r.canonical for r in http.router.resources()}
            task = asyncio.create_task(adapter.run())
            await _wait_for(lambda: fake_api.ok("sendMessage"))
            await _stop(task)
    (offer,) = fake_api.ok("sendMessage")
    assert offer["chat_id"] == OWNER_ID
    polls = fake_api.ok("getUpdates")
    assert {"message", "callback_query", "business_connection", "business_message"} <= set(
        polls[0]["allowed_updates"]
    )
    assert fake_api.ok("deleteWebhook"), "polling clears a webhook left from webhook mode"
    assert fake_api.ok("setWebhook") == []


async def test_webhook_requires_the_secret_in_constant_time(
    data_dir: Path, fake_api: FakeBotApi
) -> None:
    url = "https://minime.example.com/telegram/webhook"
    async with _runtime(data_dir, fake_api, webhook_url=url, webhook_secret=SECRET) as runtime:
        http = health_app(runtime)
        async with wiring.open_adapter(runtime, http) as adapter:
            assert WEBHOOK_PATH in {r.canonical for r in http.router.resources()}
            (registered,) = fake_api.ok("setWebhook")
            assert registered["url"] == url and registered["secret_token"] == SECRET
            assert "business_message" in registered["allowed_updates"]
            task = asyncio.create_task(adapter.run())
            async with TestClient(TestServer(http)) as client:
                body = json.dumps(payload("forward_user.json"))
                for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}):
                    response = await client.post(WEBHOOK_PATH, data=body, headers=headers)
                    assert response.status == 403
                assert fake_api.ok("sendMessage") == []
                response = await client.post(
                    WEBHOOK_PATH, data="not json", headers={SECRET_HEADER: SECRET}
                )
                assert response.status == 400
                for _ in range(2):  # Telegram retries a delivery it thinks failed
                    response = await client.post(
                        WEBHOOK_PATH, data=body, headers={SECRET_HEADER: SECRET}
                    )
                    assert response.status == 200
                await _wait_for(lambda: fake_api.ok("sendMessage"))
                await asyncio.sleep(0.2)
            await _stop(task)
    assert len(fake_api.ok("sendMessage")) == 1
    assert fake_api.ok("getUpdates") == []


async def test_a_webhook_update_whose_worker_died_is_resumed_once(
    data_dir: Path, fake_api: FakeBotApi
) -> None:
    url = "https://minime.example.com/telegram/webhook"
    update = payload("forward_user.json")
    key = f"telegram:{BOT_USER['id']}:{update['update_id']}"
    async with _runtime(
        data_dir, fake_api, lease_s="0.3", webhook_url=url, webhook_secret=SECRET
    ) as runtime:
        # Answered 200 by a worker that was then killed: stored, leased by nobody alive.
        raw = json.dumps(update).encode()
        await runtime.storage.deliveries.accept(
            key, raw, platform="telegram", lease=timedelta(seconds=-1)
        )
        http = health_app(runtime)
        async with wiring.open_adapter(runtime, http) as adapter:
            task = asyncio.create_task(adapter.run())
            await _wait_for(lambda: fake_api.ok("sendMessage"))  # the sweep at start took it
            async with TestClient(TestServer(http)) as client:  # Telegram's redelivery
                response = await client.post(
                    WEBHOOK_PATH, data=raw, headers={SECRET_HEADER: SECRET}
                )
                assert response.status == 200
            await asyncio.sleep(0.8)  # two more sweeps: nothing left to take
            await _stop(task)
        assert not await runtime.storage.deliveries.pending(key)
    (offer,) = fake_api.ok("sendMessage")
    assert offer["chat_id"] == OWNER_ID


@pytest.mark.parametrize(
    "secret", [None, "short", "x" * 31, "has spaces in it but is long enough!!"]
)
async def test_a_webhook_needs_a_strong_secret(
    data_dir: Path, fake_api: FakeBotApi, secret: str | None
) -> None:
    extra = {"webhook_url": "https://minime.example.com/telegram/webhook"}
    if secret is not None:
        extra["webhook_secret"] = secret
    async with _runtime(data_dir, fake_api, **extra) as runtime:
        with pytest.raises(ValueError, match="32"):
            async with wiring.open_adapter(runtime, health_app(runtime)):
                pass
    assert fake_api.ok("setWebhook") == []


async def test_the_token_never_reaches_the_logs(
    data_dir: Path, fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.logs import QUIET

    assert "httpx" in QUIET and "telegram" in QUIET
    caplog.set_level(logging.DEBUG, logger="adapters.telegram")
    fake_api.failures["sendMessage"].append((400, "Bad Request: chat not found"))
    fake_api.updates.append(payload("forward_user.json"))
    async with (
        _runtime(data_dir, fake_api) as runtime,
        wiring.open_adapter(runtime, health_app(runtime)) as adapter,
    ):
        task = asyncio.create_task(adapter.run())
        await _wait_for(lambda: len(fake_api.attempts("sendMessage")) >= 2)
        await _stop(task)
    text = caplog.text
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    assert "review my PR" not in text, "message text is never logged"


async def test_a_409_conflict_stops_polling_and_says_why(
    data_dir: Path, fake_api: FakeBotApi
) -> None:
    """A second poller with the same token: Telegram answers 409; retrying cannot fix that."""
    from adapters.telegram.adapter import PollingConflict
    from bot.cli import _user_message

    conflict = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    fake_api.failures["getUpdates"].extend([(409, conflict)] * 50)
    async with _runtime(data_dir, fake_api) as runtime:
        http = health_app(runtime)
        async with wiring.open_adapter(runtime, http) as adapter:
            with pytest.raises(PollingConflict) as stopped:
                async with asyncio.timeout(10):
                    await adapter.run()
    assert len(fake_api.attempts("getUpdates")) <= 2, "stopped at the first 409, not retried"
    said = _user_message(stopped.value)
    assert said is not None and "409 Conflict" in said and "another process" in said
