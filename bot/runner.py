"""``minime run`` with platforms configured: every adapter in one process, one HTTP listener.

Each platform has a wiring module ``bot/platforms/<name>.py`` exposing
``open_adapter(runtime, http) -> AsyncContextManager[PlatformAdapter]``. Adapters that take HTTP
deliveries (Slack in HTTP mode, Telegram webhooks) add routes to the shared aiohttp application,
which also serves ``/healthz`` and ``/readyz``. The first adapter to fail stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, Protocol

from aiohttp import web

from bot.bootstrap import Runtime, open_runtime, warm_in_background
from bot.memory import returning_freed_memory
from bot.scheduler import Notifiers, open_scheduler
from bot.settings import Settings
from core.models import UserRef
from storage.engine import check_connection

log = logging.getLogger(__name__)


class PlatformAdapter(Protocol):
    """A started adapter: ``run()`` returns only when it stops."""

    async def run(self) -> None: ...


class PlatformWiring(Protocol):
    def open_adapter(
        self, runtime: Runtime, http: web.Application
    ) -> AbstractAsyncContextManager[PlatformAdapter]: ...


def _wiring(name: str) -> Any:
    return importlib.import_module(f"bot.platforms.{name}")


def health_app(runtime: Runtime) -> web.Application:
    """The shared HTTP application with liveness and readiness endpoints."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    runtime.metrics.install(app)  # GET /metrics, and deliveries counted on platform routes

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "pid": os.getpid()})

    async def readyz(_: web.Request) -> web.Response:
        try:
            await check_connection(runtime.storage.engine)
        except Exception:
            return web.json_response({"ready": False}, status=503)
        return web.json_response({"ready": True})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


@asynccontextmanager
async def serve_http(
    app: web.Application, host: str, port: int, *, reuse_port: bool = False
) -> AsyncIterator[web.AppRunner]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        # reuse_port: ``minime run --workers N`` starts N processes on one port (bot/workers.py).
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        await site.start()
        yield runner
    finally:
        await runner.cleanup()


async def _terminated() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread: never
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


def known_owners(settings: Settings) -> list[UserRef]:
    """Owners the configuration names (Slack's ``owner_id``): their personas load at start.

    Other platforms learn their owners from the first message; for them only the encoder warms.
    """
    if settings.slack.enabled and settings.slack.owner_id:
        from adapters.slack.convert import PLATFORM as SLACK

        return [UserRef(platform=SLACK, user_id=settings.slack.owner_id)]
    return []


async def run_adapters(settings: Settings, names: list[str]) -> int:
    """Run the named platform adapters until one stops or the process is interrupted."""
    async with open_runtime(settings) as runtime, AsyncExitStack() as stack:
        http = health_app(runtime)
        adapters = []
        for name in names:
            wiring = _wiring(name)
            adapters.append(
                (name, await stack.enter_async_context(wiring.open_adapter(runtime, http)))
            )
        # Digests and reminders: one scheduler among all workers, delivered by the adapter of
        # the owner's platform (every adapter with a ``notify``: Slack, Telegram, Discord).
        notifier = Notifiers([a for _, a in adapters if hasattr(a, "notify")])
        # Slow commands (``quality`` on a big history) answer later through the same adapters.
        runtime.clone.use_notifier(notifier)
        await stack.enter_async_context(
            open_scheduler(
                clone=runtime.clone,
                notifier=notifier,
                engine=runtime.storage.engine,
                # The job table (ids only, no account's data) belongs to the owner, like the schema.
                database_url=settings.database_owner_url or settings.effective_database_url,
                data_dir=settings.data_dir,
            )
        )
        await stack.enter_async_context(
            serve_http(
                http, settings.http_host, settings.http_port, reuse_port=settings.http_reuse_port
            )
        )
        await stack.enter_async_context(returning_freed_memory())
        # Ready: now the encoder (and the owners we know of) load in the background.
        await stack.enter_async_context(warm_in_background(runtime, known_owners(settings)))
        tasks = {asyncio.create_task(adapter.run(), name=name): name for name, adapter in adapters}
        # SIGTERM (Kubernetes, the --workers supervisor) stops like Ctrl-C: adapters close cleanly.
        tasks[asyncio.create_task(_terminated(), name="sigterm")] = "sigterm"
        print(
            f"minime is running: {', '.join(names)} (health on http://{settings.http_host}:{settings.http_port}/healthz)"
        )
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            error = task.exception()
            if error is not None:
                log.error("%s adapter stopped: %s", tasks[task], type(error).__name__)
                raise error
    return 0
