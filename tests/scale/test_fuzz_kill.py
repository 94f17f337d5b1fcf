"""A fuzz of both webhooks while a worker is killed: no 5xx, and no accepted event lost or doubled.

``minime run --workers 3`` with Slack in HTTP mode and Telegram in webhook mode, run as deployed
with two database roles (migrations as the owner, everything else as an app role under row-level
security). One stream mixes valid deliveries (Slack events, some of them Slack's own retries;
Telegram forwarded messages) with invalid ones (malformed bodies with a valid signature or
secret, bad signatures, wrong secrets), sent concurrently; a third of the way in, one worker gets
``kill -9``. Like the platforms, the sender retries a delivery that got no answer or a 5xx.

Then every valid delivery was answered 2xx and processed exactly once (one draft, under the id its
delivery key derives, none twice, none for an invalid body), and no request ever got a 5xx.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import signal
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.models import UserRef
from core.service import draft_id_for
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.test_malformed import MALFORMED as SLACK_MALFORMED
from tests.adapters.telegram.conftest import BOT_USER as TELEGRAM_BOT
from tests.adapters.telegram.conftest import TOKEN as TELEGRAM_TOKEN
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.test_webhook_malformed import MALFORMED as TELEGRAM_MALFORMED
from tests.scale.cluster import (
    PG_URL,
    RETRY_BACKOFF_S,
    TEXTS,
    Cluster,
    PgSchema,
    base_env,
    plan,
    prepare_owners,
    sign,
)

pytestmark = pytest.mark.postgres

OWNERS = 4
SECRET = "fuzz_webhook_secret_" + "x" * 20
TELEGRAM_OWNER_BASE = 2_000_000
ANSWER_TIMEOUT_S = {"slack": 3.0, "telegram": 15.0}
"""Slack gives up after 3 s; Telegram waits longer for a webhook."""


@dataclass(frozen=True, slots=True)
class Request:
    """One delivery of the fuzz: where, what, and whether the platform would send it."""

    platform: str
    body: bytes
    headers: dict[str, str]
    valid: bool
    key: str = ""
    owner: str = ""
    slack_retry: int = 0


@dataclass
class Outcome:
    statuses: list[int] = field(default_factory=list)
    """Every answer, retries included."""
    final: int | None = None
    unanswered: int = 0
    """Attempts that got no answer (connection refused or reset, timeout): retried."""


def slack_requests() -> list[Request]:
    valid = [
        Request("slack", d.body, {}, True, d.event_id, d.owner, d.retry)
        for d in plan(120, owners=OWNERS, first=20_000, seed=5)
    ]
    invalid = [
        Request("slack", body, {"Content-Type": kind}, False)
        for body, kind in SLACK_MALFORMED.values()
    ]
    forged = [
        Request("slack", d.body, {"X-Slack-Signature": "v0=" + "0" * 64}, False)
        for d in plan(5, owners=OWNERS, first=29_000, seed=6)
    ]
    return valid + invalid + forged


def telegram_update(owner: int, n: int) -> dict[str, Any]:
    chat = {"id": owner, "first_name": "Owner", "type": "private"}
    return {
        "update_id": 900_000 + (owner - TELEGRAM_OWNER_BASE) * 1_000 + n,
        "message": {
            "message_id": 10_000 + n,
            "from": {"id": owner, "is_bot": False, "first_name": "Owner"},
            "chat": chat,
            "date": int(time.time()),
            "forward_origin": {
                "type": "user",
                "sender_user": {"id": 4_800_000 + n, "is_bot": False, "first_name": f"C{n}"},
                "date": int(time.time()) - 60,
            },
            "text": f"{TEXTS[n % len(TEXTS)]} (tg {n})",
        },
    }


def telegram_requests() -> list[Request]:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    valid = []
    for i in range(OWNERS):
        owner = TELEGRAM_OWNER_BASE + i
        for n in range(10):
            update = telegram_update(owner, n)
            body = json.dumps(update).encode()
            valid.append(
                Request("telegram", body, headers, True, str(update["update_id"]), str(owner))
            )
    invalid = [
        Request("telegram", json.dumps(body).encode(), headers, False)
        for body in TELEGRAM_MALFORMED.values()
    ]
    wrong = {**headers, "X-Telegram-Bot-Api-Secret-Token": "not-the-secret-" + "y" * 20}
    impostors = [
        Request(
            "telegram",
            json.dumps(telegram_update(TELEGRAM_OWNER_BASE, 500 + n)).encode(),
            wrong,
            False,
        )
        for n in range(5)
    ]
    return valid + invalid + impostors


async def send_all(
    url: str, requests: list[Request], *, on_progress: Any, concurrency: int = 8
) -> list[Outcome]:
    outcomes = [Outcome() for _ in requests]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        queue.put_nowait(index)
    done = 0

    async def send(session: aiohttp.ClientSession, index: int) -> None:
        request, outcome = requests[index], outcomes[index]
        path = "/slack/events" if request.platform == "slack" else "/telegram/webhook"
        retry = request.slack_retry
        for attempt in range(len(RETRY_BACKOFF_S) + 1):
            headers = dict(request.headers)
            if request.platform == "slack":
                headers = {"Content-Type": "application/json", **sign(request.body), **headers}
                if retry:
                    headers["X-Slack-Retry-Num"] = str(retry)
            timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_S[request.platform])
            try:
                async with session.post(
                    url + path, data=request.body, headers=headers, timeout=timeout
                ) as response:
                    await response.read()
                    outcome.statuses.append(response.status)
                    if response.status < 500:
                        outcome.final = response.status
                        return
            except (aiohttp.ClientError, TimeoutError, ConnectionError):
                outcome.unanswered += 1  # the platform retries
            if attempt < len(RETRY_BACKOFF_S):
                retry += 1
                await asyncio.sleep(RETRY_BACKOFF_S[attempt])

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while not queue.empty():
            await send(session, queue.get_nowait())
            done += 1
            on_progress(done)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.wait_for(asyncio.gather(*(worker(session) for _ in range(concurrency))), 240)
    return outcomes


@dataclass
class Deployment:
    cluster: Cluster
    schema: PgSchema
    slack: FakeSlack
    telegram: FakeBotApi
    accounts: dict[str, str]


async def _drop_role(role: str) -> None:
    connection = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
            f'DROP OWNED BY "{role}"; DROP ROLE "{role}"; END IF; END $$'
        )
    finally:
        await connection.close()


@pytest.fixture
async def deployment() -> AsyncIterator[Deployment]:
    slack = FakeSlack()
    await slack.start()
    telegram = await FakeBotApi(token=TELEGRAM_TOKEN, bot_user=TELEGRAM_BOT).start()
    role = f"minime_scale_app_{secrets.token_hex(4)}"
    try:
        async with PgSchema() as schema:
            with tempfile.TemporaryDirectory(prefix="minime-fuzz-") as tmp:
                env = base_env(schema, Path(tmp), Fernet.generate_key().decode())
                env |= {
                    "MINIME_DATABASE_OWNER_URL": schema.url,
                    "MINIME_DATABASE_URL": make_url(schema.url)
                    .set(username=role)
                    .render_as_string(hide_password=False),
                    "MINIME_TELEGRAM__BOT_TOKEN": TELEGRAM_TOKEN,
                    "MINIME_TELEGRAM__WEBHOOK_URL": "https://minime.example.com/telegram/webhook",
                    "MINIME_TELEGRAM__WEBHOOK_SECRET": SECRET,
                    "MINIME_TELEGRAM__API_BASE_URL": telegram.base_url,
                    "MINIME_TELEGRAM__API_FILE_URL": telegram.file_url,
                }
                accounts = await prepare_owners(env, OWNERS)
                async with open_runtime(load_settings(env)) as runtime:
                    for i in range(OWNERS):
                        user = UserRef(platform="telegram", user_id=str(TELEGRAM_OWNER_BASE + i))
                        await runtime.clone.import_sample(user)
                        account = await runtime.storage.accounts.resolve(user, create=False)
                        assert account is not None
                        accounts[user.user_id] = account.id
                cluster = Cluster(3, env)
                try:
                    await cluster.start(slack)
                    yield Deployment(cluster, schema, slack, telegram, accounts)
                finally:
                    await cluster.stop()
    finally:
        await telegram.stop()
        await slack.stop()
        await _drop_role(role)


def expected_drafts(requests: list[Request], accounts: dict[str, str]) -> dict[str, str]:
    """Draft id → the delivery it comes from, for every valid delivery (retries share one)."""
    bot_id = TELEGRAM_BOT["id"]
    expected = {}
    for r in requests:
        if not r.valid:
            continue
        key = f"slack:event:{r.key}" if r.platform == "slack" else f"telegram:{bot_id}:{r.key}"
        expected[draft_id_for(accounts[r.owner], key)] = key
    return expected


async def test_a_fuzz_with_a_worker_killed_loses_no_accepted_event_and_answers_no_5xx(
    deployment: Deployment,
) -> None:
    requests = slack_requests() + telegram_requests()
    random.Random(15).shuffle(requests)
    victim = sorted(deployment.cluster.live_pids())[1]
    killed = asyncio.Event()

    def progress(done: int) -> None:
        if done >= len(requests) // 3 and not killed.is_set():
            os.kill(victim, signal.SIGKILL)
            killed.set()

    outcomes = await send_all(deployment.cluster.url, requests, on_progress=progress)
    assert killed.is_set()

    every_answer = [s for o in outcomes for s in o.statuses]
    print(
        f"fuzz: {len(requests)} deliveries ({sum(r.valid for r in requests)} valid),",
        f"answers {dict(sorted(Counter(every_answer).items()))},",
        f"attempts without an answer {sum(o.unanswered for o in outcomes)}",
    )
    assert [s for s in every_answer if s >= 500] == []  # no 5xx, ever
    unanswered = [
        r.key or r.body[:40] for r, o in zip(requests, outcomes, strict=True) if o.final is None
    ]
    assert unanswered == []  # every delivery was answered in the end
    refused_valid = [
        r.key for r, o in zip(requests, outcomes, strict=True) if r.valid and o.final != 200
    ]
    assert refused_valid == []
    assert all(
        o.final in (200, 400, 401, 403)
        for r, o in zip(requests, outcomes, strict=True)
        if not r.valid
    )

    expected = expected_drafts(requests, deployment.accounts)
    connection = await deployment.schema.connect()
    try:
        deadline = time.monotonic() + 60  # the work goes on after the acks; a lease to resume
        while True:
            found = {r["id"] for r in await connection.fetch("SELECT id FROM drafts")}
            unfinished = await connection.fetchval(
                "SELECT count(*) FROM deliveries WHERE state = 'accepted'"
            )
            if (expected.keys() <= found and unfinished == 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        total = await connection.fetchval("SELECT count(*) FROM drafts")
    finally:
        await connection.close()
    assert sorted(expected[i] for i in expected.keys() - found) == []  # none lost
    assert total == len(expected)  # none twice, none from an invalid body
    # Shown to the owner once each; again at most for the work in flight when the worker died.
    telegram_valid = sum(1 for r in requests if r.valid and r.platform == "telegram")
    shown = len(
        [c for c in deployment.telegram.ok("sendMessage") if c["chat_id"] >= TELEGRAM_OWNER_BASE]
    )
    assert telegram_valid <= shown <= telegram_valid + 8
    restarted = await deployment.cluster.wait_ready(3, within_s=30)
    assert victim not in restarted
