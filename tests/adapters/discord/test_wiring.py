"""Commands registered with Discord, the lifecycle, and ``minime run`` wiring."""

from __future__ import annotations

import discord
import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.discord.adapter import AuthBreaker, AuthStorm, DiscordAdapter
from bot.bootstrap import Runtime
from bot.platforms.discord import open_adapter
from core.commands import SPECS
from tests.adapters.discord.conftest import GUILD_ID, Bot, make_bot
from tests.adapters.discord.fake_discord import APPLICATION_ID


def test_the_group_carries_every_command_of_the_shared_grammar(bot: Bot) -> None:
    group = bot.adapter.tree.get_command("clone")
    assert isinstance(group, discord.app_commands.Group)
    names = {command.name for command in group.commands}
    assert set(SPECS) <= names
    assert "send-mode" in names
    menu = bot.adapter.tree.get_command("Draft reply", type=discord.AppCommandType.message)
    assert menu is not None
    persona = group.get_command("persona")
    assert isinstance(persona, discord.app_commands.Command)
    action = next(p for p in persona.parameters if p.name == "action")
    assert [c.value for c in action.choices] == list(SPECS["persona"].subcommands)
    train = group.get_command("train")
    assert isinstance(train, discord.app_commands.Command)
    file = next(p for p in train.parameters if p.name == "file")
    assert file.type is discord.AppCommandOptionType.attachment


async def test_commands_sync_to_the_dev_guild_when_set(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await make_bot(runtime, monkeypatch, dev_guild_id=int(GUILD_ID))
    try:
        synced = await bot.adapter.sync_commands()
    finally:
        await bot.adapter.close()
    (put,) = bot.fake.find("PUT", "/applications/")
    assert put.path == f"/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands"
    assert {c.name for c in synced} == {"clone", "Draft reply"}
    assert put.payload is not None
    clone = next(c for c in put.payload if c["name"] == "clone")
    assert {o["name"] for o in clone["options"]} >= set(SPECS)
    menu = next(c for c in put.payload if c["name"] == "Draft reply")
    assert menu["type"] == 3


async def test_commands_sync_globally_otherwise(bot: Bot) -> None:
    await bot.adapter.sync_commands()
    (put,) = bot.fake.find("PUT", "/applications/")
    assert put.path == f"/applications/{APPLICATION_ID}/commands"


async def test_a_missing_or_rejected_token_stops_at_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(discord.LoginFailure):
        await bot.adapter.run()

    async def refuse(token: str) -> None:
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(bot.client.http, "static_login", refuse)
    bot.adapter._token = "bad"
    with pytest.raises(discord.LoginFailure):
        await bot.adapter.run()
    assert bot.client.is_closed()


def test_the_breaker_trips_on_401_or_a_storm_of_403s() -> None:
    now = [0.0]
    breaker = AuthBreaker(limit=3, window_s=10, clock=lambda: now[0])
    assert not breaker.record(404)
    assert not breaker.record(403)
    now[0] = 20.0  # the first one has left the window
    assert not breaker.record(403)
    assert not breaker.record(403)
    assert breaker.record(403)
    assert isinstance(breaker.tripped, AuthStorm)
    assert AuthBreaker().record(401)


async def test_run_wiring_builds_the_adapter_from_settings(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = runtime.settings.model_copy(
        update={
            "discord": runtime.settings.discord.model_copy(
                update={
                    "bot_token": SecretStr("token"),
                    "dev_guild_id": int(GUILD_ID),
                    "sharded": True,
                }
            )
        }
    )
    shaped = Runtime(
        settings=settings, storage=runtime.storage, clone=runtime.clone, embedder=runtime.embedder
    )
    async with open_adapter(shaped, web.Application()) as adapter:
        assert isinstance(adapter, DiscordAdapter)
        assert isinstance(adapter.client, discord.AutoShardedClient)
        assert adapter._dev_guild_id == int(GUILD_ID)
        intents = adapter.client.intents
        assert intents.guilds and intents.dm_messages
        assert not (intents.message_content or intents.members or intents.presences)
        assert adapter._token == "token"
