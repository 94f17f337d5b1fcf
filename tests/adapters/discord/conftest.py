"""A Discord bot on a real runtime (tmp SQLite, hashing embedder) over the fake Discord API."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.discord.adapter import DiscordAdapter, default_intents
from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import UserRef
from tests.adapters.discord.fake_discord import APPLICATION_ID, BOT_USER, Call, FakeDiscord, load

os.environ.setdefault("HF_HUB_OFFLINE", "1")

OWNER_ID = "1100000000000000010"
OTHER_ID = "1100000000000000011"
GUILD_ID = "1100000000000000001"
CHANNEL_ID = "1100000000000000002"
TARGET_ID = "1300000000000000050"
OWNER = UserRef(platform="discord", user_id=OWNER_ID)
OTHER_MEMBER = load("button_press.json")["member"] | {
    "user": {
        "id": OTHER_ID,
        "username": "bo_",
        "global_name": "Bo",
        "discriminator": "0",
        "avatar": None,
    }
}


@dataclass
class Sent:
    """One dispatched interaction: its payload and when the gateway handed it over."""

    payload: dict[str, Any]
    at: float

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])


@dataclass
class Bot:
    adapter: DiscordAdapter
    fake: FakeDiscord
    runtime: Runtime
    sent: list[Sent] = field(default_factory=list)

    @property
    def client(self) -> discord.Client:
        return self.adapter.client

    def dispatch(self, payload: dict[str, Any], *, fresh: bool = True) -> Sent:
        """Hand an INTERACTION_CREATE to discord.py as the gateway would."""
        if fresh:
            payload["id"] = self.fake.snowflake()
            payload["token"] = f"token-{payload['id']}"
        sent = Sent(payload, time.perf_counter())
        self.sent.append(sent)
        self.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        return sent

    def interaction(self, name: str, **changes: Any) -> Sent:
        payload = load(name)
        payload.update(changes)
        return self.dispatch(payload)

    async def followup(self, sent: Sent, index: int = 0) -> Call:
        await self.fake.until(lambda: len(self.fake.followups(sent.token)) > index)
        return self.fake.followups(sent.token)[index]

    def press(self, card: Call, label: str, *, member: dict[str, Any] | None = None) -> Sent:
        """A click on the button ``label`` of the draft card ``card`` (a recorded followup)."""
        message = card.response
        buttons = [b for row in message["components"] for b in row["components"]]
        button = next(b for b in buttons if b["label"] == label)
        payload = load("button_press.json")
        payload["data"]["custom_id"] = button["custom_id"]
        payload["message"] = {**payload["message"], **message, "flags": 64}
        if member is not None:
            payload["member"] = member
        return self.dispatch(payload)

    def submit_edit(self, modal: Call, text: str) -> Sent:
        payload = load("modal_submit.json")
        payload["data"]["custom_id"] = modal.data["custom_id"]
        payload["data"]["components"][0]["components"][0]["value"] = text
        return self.dispatch(payload)

    def callbacks_per_interaction(self) -> Counter[str]:
        return Counter(
            c.path.split("/")[2] for c in self.fake.calls if c.path.startswith("/interactions/")
        )


def labels(card: Call) -> list[str]:
    return [b["label"] for row in card.data.get("components", []) for b in row["components"]]


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = load_settings({}, data_dir=tmp_path)
    async with open_runtime(settings, embedder=HashingEmbedder()) as opened:
        yield opened


async def make_bot(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Bot:
    client = discord.Client(intents=default_intents())
    await client._async_setup_hook()
    fake = FakeDiscord()
    fake.install(client, monkeypatch)
    client._connection.user = discord.ClientUser(state=client._connection, data=BOT_USER)  # type: ignore[arg-type]
    client._connection.application_id = int(APPLICATION_ID)
    adapter = DiscordAdapter(
        clone=runtime.clone,
        accounts=runtime.storage.accounts,
        deliveries=runtime.storage.deliveries,
        client=client,
        **options,
    )
    return Bot(adapter=adapter, fake=fake, runtime=runtime)


@pytest.fixture
async def bot(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    made = await make_bot(runtime, monkeypatch)
    yield made
    await made.fake.quiet(0.1)
    # Never two answers to one interaction, whatever the test did.
    assert all(n == 1 for n in made.callbacks_per_interaction().values())
    await made.adapter.close()


@pytest.fixture
async def trained(bot: Bot) -> Bot:
    await bot.runtime.clone.import_sample(OWNER)
    return bot
