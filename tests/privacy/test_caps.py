"""Caps on hostile incoming messages: a 1 MB message and a flood of 10,000 messages a minute from
one sender each get a clear, bounded answer, and another account's draft latency is unaffected."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time

import pytest

from bot.bootstrap import Runtime
from core.models import CommandInvocation, IncomingMessage, UserRef
from core.privacy import RateLimiter
from core.service import SENDER_BURST
from tests.privacy.conftest import incoming

ALICE = UserRef(platform="slack", user_id="U-ALICE")
BOB = UserRef(platform="discord", user_id="B-BOB")
MEGABYTE = 1_000_000

log = logging.getLogger(__name__)


async def test_a_one_megabyte_message_gets_a_notice_not_a_draft(runtime: Runtime) -> None:
    clone = runtime.clone
    await clone.import_sample(ALICE)
    account = await clone.account(ALICE)
    huge = "can you review this? " + "x" * MEGABYTE
    started = time.perf_counter()
    assert await clone.handle_incoming(incoming(ALICE, huge)) is None
    shown = await clone.handle_incoming(incoming(ALICE, huge, n=2), explicit=True)
    [pasted] = await clone.handle_command(CommandInvocation(user=ALICE, name="draft", text=huge))
    elapsed = time.perf_counter() - started
    for reply in (shown, pasted):
        assert reply is not None and reply.draft is None
        assert "1,000,021 characters" in reply.text and "20,000" in reply.text
        assert len(reply.text) < 300  # the message is not quoted back
    assert elapsed < 1.0
    assert await runtime.storage.drafts.pending(account.id) == []
    assert not await clone.observe_owner_message(ALICE, incoming(ALICE, huge).message)


def test_rate_limiter_buckets() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=3, max_keys=2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.dropped["a"] == 2
    assert limiter.allow("b")  # another key is unaffected
    now[0] += 1.0  # one token a second
    assert limiter.allow("a") and not limiter.allow("a")
    assert limiter.dropped["a"] == 3
    limiter.allow("c")  # a third key evicts the least recently used bucket
    assert len(limiter._buckets) == 2
    with pytest.raises(ValueError):
        RateLimiter(per_minute=0, burst=1)


async def bob_draft_latencies(runtime: Runtime, count: int, start: int) -> list[float]:
    latencies = []
    for n in range(start, start + count):
        began = time.perf_counter()
        reply = await runtime.clone.handle_incoming(
            incoming(BOB, f"can you review my PR number {n} today?", sender="kim", n=n),
            explicit=True,
        )
        latencies.append(time.perf_counter() - began)
        assert reply is not None and reply.draft is not None
        await asyncio.sleep(0.005)  # messages arrive, they are not a busy loop
    return latencies


async def test_a_flood_from_one_sender_is_cut_off_and_others_are_unaffected(
    runtime: Runtime,
) -> None:
    clone = runtime.clone
    await clone.import_sample(ALICE)
    await clone.import_sample(BOB)
    alice = await clone.account(ALICE)
    flood = [
        incoming(ALICE, f"can you review my PR today? #{n}", sender="spammer", n=n)
        for n in range(10_000)
    ]
    await bob_draft_latencies(runtime, 5, 0)  # warm both models and the connection pool
    before = await bob_draft_latencies(runtime, 30, 100)

    answered: list[object] = []
    dropped_s = [0.0]

    async def send_flood(messages: list[IncomingMessage]) -> None:
        # 10,000 messages in 6 s: a minute's flood, ten times compressed.
        for start in range(0, len(messages), 100):
            for message in messages[start : start + 100]:
                began = time.perf_counter()
                answered.append(await clone.handle_incoming(message))
                if answered[-1] is None:
                    dropped_s[0] += time.perf_counter() - began
            await asyncio.sleep(0.06)

    started = time.perf_counter()
    flooding = asyncio.create_task(send_flood(flood))
    during = await bob_draft_latencies(runtime, 30, 200)
    await flooding
    flood_s = time.perf_counter() - started

    drafted = [r for r in answered if r is not None]
    refill = SENDER_BURST + flood_s * 30 / 60 + 2
    assert len(answered) == 10_000 and len(drafted) <= refill
    assert len(await runtime.storage.drafts.pending(alice.id)) == len(drafted)
    p50_before, p50_during = statistics.median(before), statistics.median(during)
    per_drop_us = dropped_s[0] / max(1, len(answered) - len(drafted)) * 1e6
    log.info(
        "flood: %d of 10000 drafted in %.1fs, %.1f us per dropped message (%.2f%% of the loop); "
        "other account p50 %.1f ms before, %.1f ms during",
        len(drafted),
        flood_s,
        per_drop_us,
        100 * dropped_s[0] / flood_s,
        p50_before * 1e3,
        p50_during * 1e3,
    )
    # The flood costs the event loop almost nothing once cut off (no I/O, no parsing)...
    assert dropped_s[0] / flood_s < 0.1 and per_drop_us < 1000
    # ...so the other account's median draft latency stays where it was (within the noise of a
    # shared machine).
    assert p50_during <= max(3 * p50_before, p50_before + 0.25), (p50_before, p50_during)

    # Another sender still reaches Alice: the cap is per sender.
    boss = await clone.handle_incoming(
        incoming(ALICE, "can you review my PR today?", sender="boss")
    )
    assert boss is not None and boss.draft is not None


async def test_lone_surrogates_from_json_payloads_are_stored_not_crashed(runtime: Runtime) -> None:
    """``json.loads('"\\ud800"')`` is a valid platform payload and an unencodable string."""
    clone = runtime.clone
    await clone.import_sample(ALICE)
    text = json.loads('"can you review my PR today? \\ud800"')
    shown = await clone.handle_incoming(incoming(ALICE, text, sender="kim\udfff"), explicit=True)
    assert shown is not None and shown.draft is not None
    assert shown.draft.incoming.text.endswith("today? ?")  # the surrogate replaced, kept
    [pasted] = await clone.handle_command(CommandInvocation(user=ALICE, name="draft", text=text))
    assert pasted.draft is not None
    await clone.handle_command(CommandInvocation(user=ALICE, name="train", text="on"))
    assert await clone.observe_owner_message(ALICE, incoming(ALICE, text).message)


async def test_admit_spends_the_cap_once_before_handling(runtime: Runtime) -> None:
    """Adapters ask ``admit`` before recording a delivery; the message it admitted is not
    counted again when handled, and the one over the cap is refused before anything is stored."""
    clone = runtime.clone
    await clone.import_sample(ALICE)
    admitted = [
        incoming(ALICE, f"can you review my PR number {n} today?", sender="kim", n=n)
        for n in range(SENDER_BURST)
    ]
    assert all(clone.admit(item) for item in admitted)
    refused = incoming(ALICE, "can you review my PR today?", sender="kim", n=999)
    assert not clone.admit(refused)
    # The bucket is empty now, yet the admitted message is handled (not dropped a second time).
    shown = await clone.handle_incoming(admitted[-1])
    assert shown is not None and shown.draft is not None
    assert await clone.handle_incoming(refused) is None  # not admitted: the cap still holds
