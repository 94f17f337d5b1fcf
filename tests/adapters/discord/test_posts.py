"""Posts through the Discord adapter (``/clone post``, ``/clone connect``) over the fake Discord
API and the fake networks: the card's buttons, Edit prefilled with the post, Publish once, and
another member's press refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.adapter import NOT_YOURS
from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from tests.adapters.discord.conftest import OTHER_MEMBER, OWNER, Bot, Sent, labels
from tests.adapters.discord.fake_discord import load
from tests.adapters.networks.fake_networks import FakeNetworks, fake_networks


@pytest.fixture
async def networks() -> AsyncIterator[FakeNetworks]:
    async with fake_networks() as fakes:
        yield fakes


@pytest.fixture
async def runtime(tmp_path: Path, networks: FakeNetworks) -> AsyncIterator[Runtime]:
    settings = load_settings({}, data_dir=tmp_path, networks=networks.settings())
    async with open_runtime(settings, embedder=HashingEmbedder()) as opened:
        yield opened


def slash(bot: Bot, name: str, **values: Any) -> Sent:
    payload = load("clone_persona_new.json")
    payload["data"]["options"] = [
        {
            "name": name,
            "type": 1,
            "options": [
                {"name": key, "type": 4 if isinstance(value, int) else 3, "value": value}
                for key, value in values.items()
            ],
        }
    ]
    return bot.dispatch(payload)


async def test_post_publish_once_edit_prefilled_and_another_members_press_refused(
    trained: Bot, networks: FakeNetworks
) -> None:
    bot = trained
    linkedin = networks.linkedin
    said = await bot.followup(slash(bot, "connect", network="linkedin", credentials=linkedin.token))
    assert "Connected LinkedIn" in (said.content or "") and linkedin.token not in (
        said.content or ""
    )
    card = await bot.followup(
        slash(bot, "post", platform="linkedin", topic="the launch checklist and search filters")
    )
    assert labels(card) == ["Publish", "Edit", "Regenerate", "Schedule", "Dismiss"]

    press = bot.press(card, "Edit")
    await bot.fake.until(lambda: bot.fake.callbacks(press.id))
    modal = bot.fake.callbacks(press.id)[0]
    assert modal.payload is not None and modal.payload["type"] == 9
    account = await bot.runtime.clone.account(OWNER)
    [post] = [p async for p in bot.runtime.storage.posts.list(account.id)]
    assert modal.data["components"][0]["components"][0]["value"] == post.text

    stranger = bot.press(card, "Publish", member=OTHER_MEMBER)
    await bot.fake.until(lambda: bot.fake.callbacks(stranger.id))
    assert bot.fake.callbacks(stranger.id)[0].data["content"] == NOT_YOURS
    assert linkedin.posts == [] and linkedin.publish_calls == 0

    published = await bot.followup(bot.press(card, "Publish"))
    assert "Published to LinkedIn" in (published.content or json_of(published))
    assert len(linkedin.posts) == 1 and linkedin.posts[0]["commentary"] == post.text
    again = bot.press(card, "Publish")
    await bot.fake.quiet()
    assert len(linkedin.posts) == 1, again


def json_of(call: Any) -> str:
    return json.dumps(call.payload)
