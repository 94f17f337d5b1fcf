"""Flood control: about one message a second per chat, and ``RetryAfter`` waited out, never doubled."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from adapters.telegram.adapter import ChatRateLimiter
from bot.bootstrap import Runtime
from tests.adapters.telegram.conftest import OWNER_ID, adapter_for, deliver, payload
from tests.adapters.telegram.fake_bot_api import FakeBotApi

# PTB 22 itself warns while building RetryAfter (its int → timedelta migration).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")


async def test_retry_after_from_the_api_lands_the_message_once_after_the_wait(
    runtime: Runtime, fake_api: FakeBotApi
) -> None:
    fake_api.flood["sendMessage"].append(1)
    async with adapter_for(runtime, fake_api) as adapter:
        await deliver(adapter, payload("command_help.json"))
    first, second = fake_api.attempts("sendMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert first.params == second.params
    assert len(fake_api.ok("sendMessage")) == 1


async def test_no_burst_exceeds_one_message_a_second_in_a_chat(
    runtime: Runtime, fake_api: FakeBotApi
) -> None:
    async with adapter_for(runtime, fake_api, per_chat_interval=1.0) as adapter:
        for number in range(3):
            await deliver(adapter, payload("pasted_text.json", update_id=970000 + number))
    sends = [c for c in fake_api.attempts("sendMessage") if c.params["chat_id"] == OWNER_ID]
    assert len(sends) == 3
    # One slot a second per chat: a send may come late on a loaded machine, never early.
    times = [c.at for c in sends]
    assert all(at - times[0] >= n - 0.1 for n, at in enumerate(times)), times


def _recorder(log: list[tuple[str, float]]) -> Any:
    async def call(chat: str) -> bool:
        log.append((chat, time.monotonic()))
        return True

    return call


async def test_the_limiter_spaces_one_chat_without_holding_up_another() -> None:
    limiter = ChatRateLimiter(per_chat_interval=0.2)
    log: list[tuple[str, float]] = []
    call = _recorder(log)
    await asyncio.gather(
        *(
            limiter.process_request(call, ("a",), {}, "sendMessage", {"chat_id": 1}, None)
            for _ in range(4)
        ),
        limiter.process_request(call, ("b",), {}, "sendMessage", {"chat_id": 2}, None),
        limiter.process_request(call, ("q",), {}, "answerCallbackQuery", {}, None),
    )
    times_a = [at for chat, at in log if chat == "a"]
    # The limiter gives chat a one slot every 0.2 s; a loaded machine may only make a send
    # late, never early. Other chats and non-send methods are not held behind chat a's queue:
    # they go before its second send.
    assert all(at - times_a[0] >= 0.2 * n - 0.01 for n, at in enumerate(times_a)), times_a
    assert all(at < times_a[1] for chat, at in log if chat in "bq"), log


async def test_the_limiter_retries_retry_after_and_gives_up_after_max_retries() -> None:
    attempts: list[float] = []

    async def flaky(fail: int) -> bool:
        attempts.append(time.monotonic())
        if len(attempts) <= fail:
            raise RetryAfter(0)
        return True

    limiter = ChatRateLimiter(per_chat_interval=0.0, max_retries=2)
    assert await limiter.process_request(flaky, (2,), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(attempts) == 3
    attempts.clear()
    with pytest.raises(RetryAfter):
        await limiter.process_request(flaky, (5,), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(attempts) == 3


def test_which_requests_count_against_a_chat() -> None:
    chat_of = ChatRateLimiter.chat_of
    assert chat_of("sendMessage", {"chat_id": 5}) == "5"
    assert chat_of("editMessageText", {"chat_id": 5, "message_id": 1}) == "5"
    assert chat_of("sendChatAction", {"chat_id": 5}) is None
    assert chat_of("answerCallbackQuery", {"callback_query_id": "1"}) is None
    assert chat_of("getFile", {"file_id": "x"}) is None


async def test_a_retry_after_holds_everything_queued_for_that_chat_in_order() -> None:
    """Three messages queued for one chat; the first gets RetryAfter: the other two wait it out
    and follow it, in order (they used to go at 1 s and 2 s, inside the wait, before it)."""
    sent: list[tuple[str, float]] = []
    refused = False

    async def post(text: str) -> bool:
        nonlocal refused
        at = time.monotonic()
        await asyncio.sleep(0.05)  # the round trip: the others are queued meanwhile
        if text == "first" and not refused:
            refused = True
            raise RetryAfter(1)
        sent.append((text, at))
        return True

    limiter = ChatRateLimiter(per_chat_interval=0.2)
    start = time.monotonic()
    other = limiter.process_request(post, ("elsewhere",), {}, "sendMessage", {"chat_id": 2}, None)
    await asyncio.gather(
        *(
            limiter.process_request(post, (text,), {}, "sendMessage", {"chat_id": 1}, None)
            for text in ("first", "second", "third")
        ),
        other,
    )
    in_chat = [(text, at - start) for text, at in sent if text != "elsewhere"]
    assert [text for text, _ in in_chat] == ["first", "second", "third"]
    assert in_chat[0][1] >= 1.0  # the wait Telegram asked for
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(in_chat)]
    assert min(gaps) >= 0.15, gaps  # a 0.2 s interval (timers may wake a little early)
    assert next(at - start for text, at in sent if text == "elsewhere") < 0.9  # not held up
