"""Malformed bodies with a valid signature: 400 (or 200 and dropped), logged without their
content, never a 5xx and never a handler; and a bounded fuzz of mutated recorded deliveries."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.slack.conftest import HarnessFactory, payload
from tests.json_mutations import json_mutations

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
CANARY = "CANARYslack0badbody"


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def interaction(**changes: object) -> bytes:
    body = payload("block_actions_send") | changes
    return form(payload=json.dumps(body))


MALFORMED: dict[str, tuple[bytes, str]] = {
    "empty list": (b"[]", JSON),
    "null": (b"null", JSON),
    "a number": (b"7", JSON),
    "truncated JSON": (b'{"type": "event_callback", "event": {"type": "mess', JSON),
    "5,000-deep arrays": (b"[" * 5000 + b"]" * 5000, JSON),
    "5,000-deep objects": (b'{"a":' * 5000 + b"1" + b"}" * 5000, JSON),
    "event is a string": (json.dumps({"type": "event_callback", "event": "x"}).encode(), JSON),
    "event without type": (
        json.dumps({"type": "event_callback", "event": {"x": CANARY}}).encode(),
        JSON,
    ),
    "type is a list": (json.dumps({"type": ["event_callback"]}).encode(), JSON),
    "challenge not text": (
        json.dumps({"type": "url_verification", "challenge": [1]}).encode(),
        JSON,
    ),
    "payload not JSON": (form(payload="notjson" + CANARY), FORM),
    "payload a list": (form(payload="[1, 2]"), FORM),
    "payload deep": (form(payload="[" * 5000 + "]" * 5000), FORM),
    "actions a string": (interaction(actions="x"), FORM),
    "actions of strings": (interaction(actions=["x"]), FORM),
    "user a string": (interaction(user="U1"), FORM),
    "private_metadata garbage": (
        form(
            payload=json.dumps(
                payload("view_submission")
                | {"view": {"private_metadata": "{{{", "id": "V1", "state": {"values": {}}}}
            )
        ),
        FORM,
    ),
    "view a string": (form(payload=json.dumps(payload("view_submission") | {"view": "x"})), FORM),
    "command not text": (form(command="", text=CANARY), FORM),
    "form of nothing": (b"&&&==", FORM),
    "not UTF-8 JSON": (b'{"type": "\xff"}', JSON),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_bodies_get_400_without_reaching_a_handler(
    slack_app: HarnessFactory, body: tuple[bytes, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with slack_app() as slack:
        response = await slack.deliver(*body)
        await slack.settle()
        assert response.status == 400, await response.text()
        assert slack.fake.calls == []  # nothing was posted: no handler ran
    assert CANARY not in caplog.text


async def test_well_formed_deliveries_still_pass(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        for name in ("event_message_im", "event_app_mention"):
            assert (await slack.event(payload(name))).status == 200, name
        assert (await slack.interact(payload("block_actions_send"))).status == 200
        await slack.settle()


RECORDED = [
    "event_message_im",
    "event_app_mention",
    "event_message_changed",
    "event_file_shared",
    "block_actions_send",
    "view_submission",
    "message_action",
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_fuzzed_deliveries_never_get_a_5xx(
    slack_app: HarnessFactory, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(RECORDED))
    body = data.draw(json_mutations(payload(name)))
    if name.startswith("event"):
        raw, kind = json.dumps(body).encode(), JSON
    else:
        raw, kind = form(payload=json.dumps(body)), FORM
    async with slack_app() as slack:
        response = await slack.deliver(raw, kind)
        await slack.settle()
        assert response.status < 500, (name, body)
