"""Fixtures: a local fake Slack, a trained runtime, and the adapter served in-process."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.adapter import SlackAdapter
from bot.bootstrap import Runtime, open_runtime
from bot.platforms.slack import open_adapter
from bot.settings import SlackSettings, load_settings
from core.engines.embedding import HashingEmbedder
from core.models import UserRef
from tests.adapters.slack.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    OTHER,
    OWNER,
    SIGNING_SECRET,
    USER_TOKEN,
    FakeSlack,
)

PAYLOADS = Path(__file__).parent / "payloads"


_unique = itertools.count(1)


def payload(name: str) -> dict[str, Any]:
    """A recorded payload, as a fresh copy with fresh delivery ids (the delivery log persists)."""
    body = copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8")))
    n = next(_unique)
    for key in ("trigger_id", "event_id"):
        if key in body:
            body[key] = f"{body[key]}-{n}"
    if "view" in body and "id" in body["view"]:
        body["view"]["id"] = f"{body['view']['id']}{n}"
    return body


def sign(
    body: bytes, *, timestamp: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


class SlackHarness:
    """Signed deliveries to ``POST /slack/events``, and the fake that records what we called."""

    def __init__(
        self, client: TestClient, adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
    ) -> None:
        self.client = client
        self.adapter = adapter
        self.fake = fake
        self.runtime = runtime

    async def deliver(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        retry: int | None = None,
    ) -> Any:
        sent = {"Content-Type": content_type, **sign(body)}
        if retry:
            sent |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        if headers is not None:
            sent |= headers
        return await self.client.post("/slack/events", data=body, headers=sent)

    async def event(self, body: dict[str, Any], *, retry: int | None = None) -> Any:
        return await self.deliver(json.dumps(body).encode(), "application/json", retry=retry)

    async def command(self, fields: dict[str, str]) -> Any:
        return await self.deliver(urlencode(fields).encode(), "application/x-www-form-urlencoded")

    async def interact(self, body: dict[str, Any]) -> Any:
        form = urlencode({"payload": json.dumps(body)}).encode()
        return await self.deliver(form, "application/x-www-form-urlencoded")

    async def settle(self) -> None:
        await self.adapter.drain()


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture(scope="module")
async def runtime(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Runtime]:
    data = tmp_path_factory.mktemp("slack-data")
    settings = load_settings({}, data_dir=data)
    async with open_runtime(settings, embedder=HashingEmbedder()) as opened:
        for user in (OWNER, OTHER):
            await opened.clone.import_sample(UserRef(platform="slack", user_id=user))
        yield opened


HarnessFactory = Callable[..., AbstractAsyncContextManager[SlackHarness]]


@pytest.fixture
def slack_app(fake: FakeSlack, runtime: Runtime) -> HarnessFactory:
    """``async with slack_app(user_token=True) as slack:`` — the adapter on a fresh HTTP app."""

    @asynccontextmanager
    async def build(
        *,
        user_token: bool = False,
        owner_id: str | None = None,
        app_token: bool = False,
        triage_channels: bool = False,
    ) -> AsyncIterator[SlackHarness]:
        fake.reset()
        settings = SlackSettings(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            user_token=USER_TOKEN if user_token else None,
            owner_id=owner_id,
            app_token=APP_TOKEN if app_token else None,
            triage_channels=triage_channels,
        )
        http = web.Application()
        async with (
            open_adapter(runtime, http, settings=settings, base_url=fake.base_url) as adapter,
            TestClient(TestServer(http)) as client,
        ):
            yield SlackHarness(client, adapter, fake, runtime)
            await adapter.drain()

    return build
