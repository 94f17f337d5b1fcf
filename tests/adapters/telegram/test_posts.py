"""Posts through the Telegram adapter against the fake Bot API and the fake networks: the
card's signed buttons, Publish once (a replayed button posts nothing more), and buttons
forged or pressed by someone else refused before anything is touched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram.adapter import TelegramAdapter
from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from tests.adapters.networks.fake_networks import FakeNetworks, fake_networks
from tests.adapters.telegram.conftest import (
    OWNER,
    OpenRuntime,
    click_on,
    click_with,
    deliver,
    payload,
)
from tests.adapters.telegram.fake_bot_api import FakeBotApi


@pytest.fixture
async def networks() -> AsyncIterator[FakeNetworks]:
    async with fake_networks() as fakes:
        yield fakes


@pytest.fixture
def runtime_factory(data_dir: Path, networks: FakeNetworks) -> OpenRuntime:
    def factory() -> AbstractAsyncContextManager[Runtime]:
        settings = load_settings({}, data_dir=data_dir, networks=networks.settings())
        return open_runtime(settings, embedder=HashingEmbedder())

    return factory


def command(text: str, update_id: int) -> dict[str, Any]:
    update = payload("command_help.json", update_id=update_id)
    update["message"]["text"] = text
    return update


async def test_post_then_publish_once_with_signed_buttons(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi, networks: FakeNetworks
) -> None:
    x = networks.x
    await deliver(adapter, command(f"/connect x {x.token}", 950001))
    connected = fake_api.ok("sendMessage")[-1]["text"]
    assert "Connected X" in connected and "Delete your message above" in connected
    assert x.token not in connected
    await deliver(adapter, command("/post x the launch checklist and search filters", 950002))
    card = fake_api.results("sendMessage")[-1]
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert [label.split()[-1] for label in labels] == [
        "Publish", "Edit", "Regenerate", "Schedule", "Dismiss"
    ]  # fmt: skip
    assert "/280 chars" in card["text"] and "sounds like you" in card["text"]

    good = next(
        b["callback_data"]
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
        if "Publish" in b["text"]
    )
    action, _post, issued, mac = good.split(":")
    stranger = {"id": 999, "is_bot": False, "first_name": "Mallory"}
    mark = len(fake_api.calls)
    await deliver(adapter, click_with(card, good, update_id=950010, user=stranger))
    await deliver(
        adapter, click_with(card, f"{action}:p{'0' * 31}:{issued}:{mac}", update_id=950011)
    )
    refused = fake_api.since(mark).ok("answerCallbackQuery")
    assert len(refused) == 2 and all("isn't valid" in a["text"] for a in refused)
    assert x.tweets == [] and x.publish_calls == 0

    await deliver(adapter, click_on(card, "Publish", update_id=950020))
    assert len(x.tweets) >= 1
    closed = fake_api.ok("editMessageText")[-1]["text"]
    assert "Published to X" in closed and "x.com/owner/status/" in closed
    published = len(x.tweets)
    await deliver(adapter, click_on(card, "Publish", update_id=950021))  # replayed
    assert len(x.tweets) == published
    account = await runtime.clone.account(OWNER)
    [post] = [p async for p in runtime.storage.posts.list(account.id)]
    assert post.status.value == "published" and post.events[-1].actor.id == str(OWNER)
