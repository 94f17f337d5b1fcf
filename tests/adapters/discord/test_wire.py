"""The Discord bot over the wire: discord.py's own HTTP client and gateway against a local server.

``MINIME_DISCORD__API_BASE_URL`` and ``MINIME_DISCORD__GATEWAY_URL`` point the bot at it, as they
would at a shared REST proxy and a gateway proxy. The 429 answers carry Discord's real headers,
so what is checked is discord.py's backoff (per bucket, and global) as minime configures it, and
what is minime's: a wait too long to sit out fails the request at once and counts, and a sustained
storm stops the bot.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route
from pydantic import SecretStr

from adapters.discord.adapter import MAX_RATELIMIT_WAIT_S, AuthStorm, DiscordAdapter
from bot.bootstrap import Runtime
from bot.platforms.discord import open_adapter
from core.models import Reply, UserRef
from tests.adapters.discord.conftest import OWNER
from tests.adapters.discord.fake_discord import APPLICATION_ID, load
from tests.adapters.discord.wire_fake import WireDiscord

OTHER = UserRef(platform="discord", user_id="1100000000000000077")


@dataclasses.dataclass
class Wired:
    adapter: DiscordAdapter
    wire: WireDiscord
    running: asyncio.Task[None]


@pytest.fixture
async def wired(runtime: Runtime) -> AsyncIterator[Wired]:
    async with WireDiscord().serving() as wire:
        settings = runtime.settings.model_copy(
            update={
                "discord": runtime.settings.discord.model_copy(
                    update={
                        "bot_token": SecretStr("wire-token"),
                        "api_base_url": wire.base_url,
                        "gateway_url": wire.gateway_url,
                    }
                )
            }
        )
        shaped = dataclasses.replace(runtime, settings=settings)
        async with open_adapter(shaped, web.Application()) as adapter:
            running = asyncio.create_task(adapter.run())
            await asyncio.wait_for(wire.ready.wait(), 20)
            yield Wired(adapter, wire, running)
            await adapter.close()
            await asyncio.wait([running], timeout=10)
    assert Route.BASE == "https://discord.com/api/v10"  # put back on close
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


async def test_the_bot_logs_in_syncs_and_answers_over_the_configured_rest_base_and_gateway(
    wired: Wired,
) -> None:
    wire = wired.wire
    (login,) = wire.find("GET", "/users/@me")
    assert login.authorization == "Bot wire-token"
    assert wire.identified and wire.identified[0]["token"] == "wire-token"
    assert wire.find("PUT", f"/applications/{APPLICATION_ID}/commands")
    interaction = load("clone_help_dm.json") | {"id": "1300000000000000901", "token": "wire-t"}
    await wire.dispatch("INTERACTION_CREATE", interaction)
    await wire.until(lambda: wire.find("POST", f"/webhooks/{APPLICATION_ID}/wire-t"))
    (callback,) = wire.find("POST", "/interactions/1300000000000000901/wire-t/callback")
    assert callback.body["type"] == 5  # deferred at once
    await asyncio.sleep(0.2)  # the help may take two followups (over 2,000 characters)
    followups = wire.find("POST", f"/webhooks/{APPLICATION_ID}/wire-t")
    assert 1 <= len(followups) <= 2 and "/clone draft" in str([f.body for f in followups])


async def _posts(wire: WireDiscord) -> list[Any]:
    return [r for r in wire.find("POST", "/channels/") if r.path.endswith("/messages")]


async def test_a_429_is_waited_out_per_its_bucket_and_the_message_sent_once(
    wired: Wired,
) -> None:
    wire, adapter = wired.wire, wired.adapter
    assert await adapter.notify(OWNER, Reply(text="warm-up"))  # learns the DM channel's bucket
    assert await adapter.notify(OTHER, Reply(text="warm-up"))
    owner_channel = (await _posts(wire))[0].path.split("/")[2]
    wire.rate_limit("POST", f"/channels/{owner_channel}/", retry_after=1.5, bucket="dm-bucket")
    limited = asyncio.create_task(adapter.notify(OWNER, Reply(text="digest for the owner")))
    await wire.until(lambda: wire.find("POST", f"/channels/{owner_channel}/", status=429))
    # Another channel is another bucket: it is not held by this one's limit.
    assert await adapter.notify(OTHER, Reply(text="digest for someone else"))
    assert await limited
    owners = wire.find("POST", f"/channels/{owner_channel}/")
    refused, retried = owners[-2], owners[-1]
    assert (refused.status, retried.status) == (429, 200)
    assert retried.at - refused.at >= 1.5 - 0.05  # Discord's retry_after, honoured
    [other] = [r for r in await _posts(wire) if r.body["content"] == "digest for someone else"]
    assert other.status == 200 and other.at < retried.at
    assert [r.body["content"] for r in owners].count("digest for the owner") == 2  # 429 + sent
    assert adapter._breaker.tripped is None


async def test_a_global_429_holds_every_bucket(wired: Wired) -> None:
    wire, adapter = wired.wire, wired.adapter
    assert await adapter.notify(OWNER, Reply(text="warm-up"))
    assert await adapter.notify(OTHER, Reply(text="warm-up"))
    owner_channel = (await _posts(wire))[0].path.split("/")[2]
    wire.rate_limit(
        "POST",
        f"/channels/{owner_channel}/",
        retry_after=0.8,
        bucket="dm-bucket",
        scope="global",
        is_global=True,
    )
    limited = asyncio.create_task(adapter.notify(OWNER, Reply(text="to the owner")))
    await wire.until(lambda: wire.find("POST", "/channels/", status=429))
    refused = wire.find("POST", "/channels/", status=429)[0]
    assert await adapter.notify(OTHER, Reply(text="to someone else"))
    assert await limited
    [other] = [r for r in await _posts(wire) if r.body["content"] == "to someone else"]
    assert other.at - refused.at >= 0.8 - 0.05  # waited for the global limit to pass


async def test_a_wait_too_long_fails_at_once_and_a_storm_of_them_stops_the_bot(
    wired: Wired,
) -> None:
    wire, adapter = wired.wire, wired.adapter
    assert await adapter.notify(OWNER, Reply(text="warm-up"))
    wire.rate_limit(
        "POST", "/channels/", retry_after=MAX_RATELIMIT_WAIT_S * 100, bucket="b", times=10
    )
    started = asyncio.get_running_loop().time()
    assert not await adapter.notify(OWNER, Reply(text="not now"))
    assert asyncio.get_running_loop().time() - started < 5  # not an hour
    assert adapter._breaker.tripped is None  # one is ordinary
    for _ in range(9):
        await adapter.notify(OWNER, Reply(text="not now"))
    with pytest.raises(AuthStorm, match="429"):
        await asyncio.wait_for(wired.running, 10)
    assert adapter.client.is_closed()
    assert isinstance(adapter._breaker.tripped, AuthStorm)
    assert not isinstance(adapter.client, discord.AutoShardedClient)
