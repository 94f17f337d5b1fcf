"""Accepted Slack deliveries: stored before the ack, and resumed from the stored body (bolt
dispatches it again, without the signature that was checked when it arrived)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

from adapters.common import BackgroundTasks, DurableDeliveries
from core.models import UserRef
from core.service import draft_id_for
from tests.adapters.slack.conftest import HarnessFactory, payload
from tests.adapters.slack.fake_slack import OWNER


async def test_the_ack_comes_after_the_delivery_is_stored(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        body = payload("event_message_im")
        body["event_id"] = f"EvStored{time.monotonic_ns()}"
        key = f"slack:event:{body['event_id']}"
        response = await slack.event(body)
        assert response.status == 200
        # Acknowledged: the delivery is on record (accepted, or done if the work was quick).
        assert not await slack.runtime.storage.deliveries.first_seen(key)
        await slack.settle()
        assert not await slack.runtime.storage.deliveries.pending(key)


async def test_a_delivery_whose_worker_died_is_resumed_and_drafted_once(
    slack_app: HarnessFactory,
) -> None:
    async with slack_app() as slack:
        runtime = slack.runtime
        account = await runtime.clone.account(UserRef(platform="slack", user_id=OWNER))
        body = payload("event_message_im")
        body["event_id"] = f"EvResumed{time.monotonic_ns()}"
        key = f"slack:event:{body['event_id']}"
        # What a worker killed right after its ack leaves behind: an accepted record, leased
        # by nobody alive (its lease is over), and no draft.
        await runtime.storage.deliveries.accept(
            key, json.dumps(body).encode(), platform="slack", lease=timedelta(seconds=-1)
        )
        tasks = BackgroundTasks()
        durable = DurableDeliveries(runtime.storage.deliveries, platform="slack", tasks=tasks)
        await durable.resume_expired(slack.adapter.resume)
        await tasks.drain()
        async with asyncio.timeout(10):  # (or the adapter's own sweep took it first)
            while await runtime.storage.deliveries.pending(key):  # noqa: ASYNC110 (the database)
                await asyncio.sleep(0.05)
        await slack.settle()
        assert await runtime.storage.drafts.get(account.id, draft_id_for(account.id, key))
        assert not await runtime.storage.deliveries.pending(key)
        shown = slack.fake.landed("chat.postMessage")
        assert len(shown) == 1 and shown[0].args["channel"] == "D0OWNERBOT"

        # Slack's own retry of it, later: acknowledged, nothing redone.
        assert (await slack.event(body, retry=1)).status == 200
        await slack.settle()
        assert await durable.resume_expired(slack.adapter.resume) == 0
        assert len(slack.fake.landed("chat.postMessage")) == 1
