"""The webhook with the right secret and a body that is not an update: 400, logged without its
content, never queued; a bounded hypothesis fuzz of mutated recorded updates never gets a 5xx."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.telegram.adapter import SECRET_HEADER, WEBHOOK_PATH
from bot.platforms import telegram as wiring
from bot.runner import health_app
from tests.adapters.telegram.conftest import payload
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.test_wiring import SECRET, _runtime
from tests.json_mutations import json_mutations

CANARY = "CANARYtelegram0bad"
URL = "https://minime.example.com/telegram/webhook"


@pytest.fixture
async def webhook(data_dir: Any, fake_api: FakeBotApi) -> AsyncIterator[TestClient[Any, Any]]:
    async with _runtime(data_dir, fake_api, webhook_url=URL, webhook_secret=SECRET) as runtime:
        http = health_app(runtime)
        async with wiring.open_adapter(runtime, http), TestClient(TestServer(http)) as client:
            yield client


async def post(client: TestClient[Any, Any], body: bytes) -> int:
    response = await client.post(WEBHOOK_PATH, data=body, headers={SECRET_HEADER: SECRET})
    return response.status


MALFORMED = {
    "message is a string": {"update_id": 1, "message": "x" + CANARY},
    "callback_query is a list": {"update_id": 2, "callback_query": [CANARY]},
    "message without chat": {
        "update_id": 3,
        "message": {"message_id": 1, "date": 0, "text": CANARY},
    },
    "date out of range": {
        "update_id": 4,
        "message": {"message_id": 1, "date": 10**30, "chat": {"id": 1, "type": "private"}},
    },
    "from is a number": {
        "update_id": 5,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "from": 7},
    },
    "update_id is text": {"update_id": "1", "message": {}},
    "a list": [1, 2, 3],
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_updates_get_400_and_are_not_queued(
    webhook: TestClient[Any, Any],
    fake_api: FakeBotApi,
    body: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await post(webhook, json.dumps(body).encode()) == 400
    assert fake_api.ok("sendMessage") == []
    assert CANARY not in caplog.text


@pytest.mark.parametrize(
    "body",
    [b"[" * 5000 + b"]" * 5000, b'{"update_id": 1, "m":' * 3000 + b"1" + b"}" * 3000, b"", b"{"],
    ids=["5,000-deep arrays", "3,000-deep objects", "empty", "truncated"],
)
async def test_bodies_that_are_not_json_updates_get_400(
    webhook: TestClient[Any, Any], body: bytes
) -> None:
    assert await post(webhook, body) == 400


RECORDED = [
    "forward_user.json",
    "callback_query.json",
    "command_draft.json",
    "business_message.json",
    "business_connection.json",
    "document_export.json",
    "edit_reply.json",
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_fuzzed_updates_never_get_a_5xx(
    webhook: TestClient[Any, Any], data: st.DataObject
) -> None:
    original = payload(data.draw(st.sampled_from(RECORDED)))
    body = data.draw(
        json_mutations({k: v for k, v in original.items() if k != "update_id"}, huge_ints=True)
    )
    if isinstance(body, dict):
        body["update_id"] = data.draw(st.integers(1, 2**31))
    assert await post(webhook, json.dumps(body).encode()) < 500


@pytest.mark.parametrize("connection_id", [[None], {"id": "x"}, 5])
async def test_a_business_connection_id_that_is_not_a_string_is_refused_not_a_5xx(
    webhook: TestClient[Any, Any], connection_id: object
) -> None:
    # Found by the fuzz above: a list reached the connection cache as its key (TypeError → 500).
    body = payload("business_message.json")
    body["business_message"] = {**body["business_message"], "business_connection_id": connection_id}
    assert await post(webhook, json.dumps(body).encode()) < 500
