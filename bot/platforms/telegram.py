"""Telegram wiring for ``minime run``: long polling by default, a webhook when one is configured.

With ``MINIME_TELEGRAM__WEBHOOK_URL`` set, Telegram posts updates to ``POST /telegram/webhook`` on
the shared HTTP listener (put it behind HTTPS: Telegram only calls https URLs), and every request
must carry ``MINIME_TELEGRAM__WEBHOOK_SECRET`` (32+ characters) in its secret-token header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from adapters.telegram.adapter import WEBHOOK_PATH, TelegramAdapter, Webhook, open_telegram
from bot.bootstrap import Runtime
from bot.deliveries import durable_deliveries, sweeping
from bot.metrics import CountingDeliveryLog


@asynccontextmanager
async def open_adapter(runtime: Runtime, http: web.Application) -> AsyncIterator[TelegramAdapter]:
    """The Telegram adapter on the runtime's clone and storage; its route on ``http`` if webhooks."""
    settings = runtime.settings.telegram
    if settings.bot_token is None:
        raise ValueError("MINIME_TELEGRAM__BOT_TOKEN is not set")
    webhook = None
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        webhook = Webhook(url=settings.webhook_url, secret=secret)
    durable = durable_deliveries(runtime, "telegram") if webhook is not None else None
    async with open_telegram(
        token=settings.bot_token.get_secret_value(),
        clone=runtime.clone,
        deliveries=CountingDeliveryLog(runtime.storage.deliveries, runtime.metrics, "telegram"),
        accounts=runtime.storage.accounts,
        workdir=runtime.settings.data_dir / "telegram",
        webhook=webhook,
        # Webhooks: each update stored before its 200, resumed if its worker dies.
        durable=durable,
        base_url=settings.api_base_url,
        base_file_url=settings.api_file_url,
    ) as adapter:
        if durable is None:
            yield adapter
            return
        http.router.add_post(WEBHOOK_PATH, adapter.handle_webhook)
        async with sweeping(durable, adapter.resume):
            yield adapter
