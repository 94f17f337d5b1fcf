"""``minime run`` wiring for Discord: the gateway client, started with the bot token.

Commands are synced to ``MINIME_DISCORD__DEV_GUILD_ID`` when it is set (instant, for development)
and globally otherwise (Discord takes up to an hour to show them everywhere).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from adapters.discord.adapter import DiscordAdapter
from bot.bootstrap import Runtime
from bot.metrics import CountingDeliveryLog


@asynccontextmanager
async def open_adapter(runtime: Runtime, http: web.Application) -> AsyncIterator[DiscordAdapter]:
    """The Discord adapter over the runtime's clone and stores; closed (gateway and all) on exit.

    ``http`` is unused: Discord delivers over the gateway, not to our listener.
    """
    settings = runtime.settings.discord
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    adapter = DiscordAdapter(
        clone=runtime.clone,
        accounts=runtime.storage.accounts,
        deliveries=CountingDeliveryLog(runtime.storage.deliveries, runtime.metrics, "discord"),
        token=token,
        dev_guild_id=settings.dev_guild_id,
        sharded=settings.sharded,
        api_base_url=settings.api_base_url,
        gateway_url=settings.gateway_url,
    )
    try:
        yield adapter
    finally:
        await adapter.close()
