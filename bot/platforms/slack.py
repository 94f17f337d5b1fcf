"""Slack wiring: clients with the 429 retry handler, the bolt app, the adapter, and its transport.

HTTP mode (no app token): ``POST /slack/events`` on the shared aiohttp application takes events,
slash commands and interactivity, checked against the signing secret first. Socket Mode (with
``MINIME_SLACK__APP_TOKEN``): the adapter's ``run()`` connects the socket.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse

import aiohttp
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.adapter import SlackAdapter, SlackOptions, events_handler
from bot.bootstrap import Runtime
from bot.deliveries import durable_deliveries, sweeping
from bot.metrics import CountingDeliveryLog
from bot.settings import SlackSettings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def retry_handlers() -> list[AsyncRetryHandler]:
    """429s wait for ``Retry-After`` and try again; dropped connections retry once."""
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=3), AsyncConnectionErrorRetryHandler()]


def web_client(token: str, *, base_url: str | None = None) -> AsyncWebClient:
    """A Web API client with the retry handlers (bolt's default client has none)."""
    kwargs: dict[str, object] = {"token": token, "retry_handlers": retry_handlers()}
    if base_url:
        kwargs["base_url"] = base_url
    return AsyncWebClient(**kwargs)  # type: ignore[arg-type]


@asynccontextmanager
async def open_adapter(
    runtime: Runtime,
    http: web.Application,
    *,
    settings: SlackSettings | None = None,
    base_url: str | None = None,
) -> AsyncIterator[SlackAdapter]:
    """The Slack adapter, registered on ``http`` (HTTP mode) or ready to connect (Socket Mode).

    Args:
        settings: override ``runtime.settings.slack`` (tests run both variants on one runtime).
        base_url: the Web API's address (a local fake in tests); files are then fetched from
            that host too.
    """
    slack = settings or runtime.settings.slack
    base_url = base_url or slack.api_base_url
    if slack.bot_token is None:
        raise ValueError("MINIME_SLACK__BOT_TOKEN is not set")
    bot_token = slack.bot_token.get_secret_value()
    bot = web_client(bot_token, base_url=base_url)
    user = (
        web_client(slack.user_token.get_secret_value(), base_url=base_url)
        if slack.user_token is not None
        else None
    )
    socket = slack.app_token is not None
    if not socket and slack.signing_secret is None:
        raise ValueError("set MINIME_SLACK__SIGNING_SECRET (HTTP mode) or MINIME_SLACK__APP_TOKEN")
    secret = slack.signing_secret.get_secret_value() if slack.signing_secret else ""
    app = AsyncApp(
        client=bot,
        signing_secret=secret or "socket-mode",
        request_verification_enabled=not socket,
        # Listeners only ack and hand the work to a tracked task, so bolt may await them: the
        # ack leaves after the task exists (no untracked bolt-side tasks to outlive shutdown).
        process_before_response=True,
        # The clone is one owner per workspace install: no OAuth flow, no installation store.
        logger=logging.getLogger("slack_bolt.minime"),
        # Named, bolt does not walk the stack for its caller's file name (which reads the
        # source of every module on the stack into ``linecache``: ~2 MiB per process).
        name="minime-slack",
    )
    hosts: tuple[str, ...] = ("files.slack.com",)
    if base_url:
        hosts = (*hosts, urlparse(base_url).hostname or "")
    session = aiohttp.ClientSession()
    handler = None
    durable = durable_deliveries(runtime, "slack")  # stored before the ack, resumed if we die
    try:
        if socket:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert slack.app_token is not None
            handler = AsyncSocketModeHandler(
                app,
                slack.app_token.get_secret_value(),
                web_client=web_client(slack.app_token.get_secret_value(), base_url=base_url),
            )
        adapter = SlackAdapter(
            app=app,
            clone=runtime.clone,
            deliveries=CountingDeliveryLog(runtime.storage.deliveries, runtime.metrics, "slack"),
            bot_client=bot,
            user_client=user,
            bot_token=bot_token,
            session=session,
            options=SlackOptions(
                owner_id=slack.owner_id,
                triage_channels=slack.triage_channels,
                file_hosts=hosts,
            ),
            retry_handlers=retry_handlers(),
            socket_mode=handler.connect_async if handler is not None else None,
            durable=durable,
        )
        adapter.register()
        runtime.metrics.track_backlog(lambda: adapter.backlog)
        if not socket:
            http.router.add_post(
                EVENTS_PATH, events_handler(app, secret, ack_wait_s=slack.ack_wait_s)
            )
        try:
            async with sweeping(durable, adapter.resume):
                yield adapter
        finally:
            if handler is not None:  # stop taking deliveries first, then finish the work
                await handler.close_async()  # type: ignore[no-untyped-call]
                handler = None
            await adapter.aclose()
    finally:
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        await session.close()
        for client in (bot, user):
            if client is not None and client.session is not None:
                await client.session.close()
