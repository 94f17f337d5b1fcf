"""Fixtures for the Telegram adapter: recorded payloads, the fake Bot API, a trained runtime.

Network access outside loopback is refused for these tests: PTB talks only to the fake.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from adapters.telegram.adapter import TelegramAdapter, open_telegram
from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import UserRef
from tests.adapters.telegram.fake_bot_api import FakeBotApi

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "7000000001:AAFakeTokenForTests_abcdefghijklmnopqrstu"
BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "minime",
    "username": "minime_clone_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": True,
}
OWNER_ID = 1000001
OWNER = UserRef(platform="telegram", user_id=str(OWNER_ID))
BOB_CHAT = 4815162342
CONNECTION = "BCA1b2C3d4E5f6G7h8_kLmN"

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in _LOOPBACK:
            raise OSError(f"network access outside loopback is blocked in tests ({name})")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


def payload(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded update, deep-copied, with top-level keys replaced."""
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    data.update(changes)
    return data


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    fake = await FakeBotApi(token=TOKEN, bot_user=BOT_USER).start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture(scope="session")
async def trained_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir where the owner is trained on the sample persona, built once per session."""
    template = tmp_path_factory.mktemp("telegram-template") / "data"
    template.mkdir()
    settings = load_settings({}, data_dir=template)
    async with open_runtime(settings, embedder=HashingEmbedder()) as runtime:
        await runtime.clone.import_sample(OWNER)
    return template


@pytest.fixture
def data_dir(tmp_path: Path, trained_template: Path) -> Path:
    """This test's copy of the trained data dir (the owner's voice is known)."""
    target = tmp_path / "data"
    shutil.copytree(trained_template, target)
    return target


OpenRuntime = Callable[[], AbstractAsyncContextManager[Runtime]]


@pytest.fixture
def runtime_factory(data_dir: Path) -> OpenRuntime:
    """Opens the runtime on the test's data dir (again after a 'restart')."""

    def factory() -> AbstractAsyncContextManager[Runtime]:
        settings = load_settings({}, data_dir=data_dir)
        return open_runtime(settings, embedder=HashingEmbedder())

    return factory


@pytest.fixture
async def runtime(runtime_factory: OpenRuntime) -> AsyncIterator[Runtime]:
    async with runtime_factory() as opened:
        yield opened


def adapter_for(
    runtime: Runtime, fake: FakeBotApi, **options: Any
) -> AbstractAsyncContextManager[TelegramAdapter]:
    options.setdefault("per_chat_interval", 0.0)
    return open_telegram(
        token=TOKEN,
        clone=runtime.clone,
        deliveries=runtime.storage.deliveries,
        accounts=runtime.storage.accounts,
        workdir=runtime.settings.data_dir / "telegram",
        base_url=fake.base_url,
        base_file_url=fake.file_url,
        **options,
    )


@pytest.fixture
async def adapter(runtime: Runtime, fake_api: FakeBotApi) -> AsyncIterator[TelegramAdapter]:
    async with adapter_for(runtime, fake_api) as opened:
        yield opened


async def deliver(adapter: TelegramAdapter, data: dict[str, Any]) -> None:
    """Hand one update to the application, as polling or the webhook would."""
    app = adapter.application
    await app.process_update(Update.de_json(data, app.bot))


def click_on(
    message: dict[str, Any], label: str, *, update_id: int, user: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``callback_query`` pressing the button ``label`` of a message the bot sent."""
    rows = message["reply_markup"]["inline_keyboard"]
    data = next(b["callback_data"] for row in rows for b in row if label in b["text"])
    return click_with(message, data, update_id=update_id, user=user)


def click_with(
    message: dict[str, Any], data: str, *, update_id: int, user: dict[str, Any] | None = None
) -> dict[str, Any]:
    update = payload("callback_query.json", update_id=update_id)
    query = update["callback_query"]
    query["id"] = f"43821948534789{update_id}"
    query["data"] = data
    if user is not None:
        query["from"] = user
    query["message"].update(
        message_id=message["message_id"],
        text=message.get("text") or "",
        reply_markup=message.get("reply_markup") or {"inline_keyboard": []},
        chat={"id": message["chat"]["id"], "type": "private", "first_name": "Alice"},
    )
    return update
