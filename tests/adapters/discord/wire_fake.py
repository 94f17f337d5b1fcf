"""Discord over the wire: a local HTTP server speaking the REST API and the gateway.

Unlike :class:`~tests.adapters.discord.fake_discord.FakeDiscord` (which replaces discord.py's
request seams in-process), this is a real server on 127.0.0.1 that discord.py reaches through
``MINIME_DISCORD__API_BASE_URL`` and ``MINIME_DISCORD__GATEWAY_URL``, as it would reach a REST
proxy and a gateway proxy: its own HTTP client, its own rate-limit handling, its own websocket.

- REST under ``/api/v10``: login (``/users/@me``, ``/oauth2/applications/@me``), command sync,
  DMs and channel messages, interaction callbacks and followups. Success answers carry Discord's
  rate-limit headers; :meth:`WireDiscord.rate_limit` queues ``429`` answers with the real headers
  (``X-RateLimit-Bucket``, ``-Limit``, ``-Remaining``, ``-Reset``, ``-Reset-After``, ``-Scope``,
  ``X-RateLimit-Global`` for a global limit, ``Retry-After``, ``Via``) and body (``retry_after``,
  ``global``).
- Gateway at ``/gateway``: ``HELLO``, ``IDENTIFY`` → ``READY``, heartbeats acknowledged,
  :meth:`WireDiscord.dispatch` sends an event (``INTERACTION_CREATE``…).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.adapters.discord.fake_discord import APPLICATION_ID, BOT_USER, FakeDiscord

API = "/api/v10"
APP_INFO = {
    "id": APPLICATION_ID,
    "name": "minime",
    "description": "",
    "icon": None,
    "bot_public": True,
    "bot_require_code_grant": False,
    "owner": {**BOT_USER, "id": "1100000000000000099", "username": "owner", "bot": False},
    "verify_key": "0" * 64,
    "flags": 0,
}


@dataclass
class Request:
    method: str
    path: str
    """Under the API base: ``/channels/123/messages``."""
    body: Any
    at: float
    status: int
    authorization: str | None


@dataclass
class Limit:
    """One queued ``429`` answer for requests whose path starts with ``prefix``."""

    method: str
    prefix: str
    retry_after: float
    bucket: str
    scope: str = "user"
    is_global: bool = False


@dataclass
class WireDiscord:
    helper: FakeDiscord = field(default_factory=FakeDiscord)
    requests: list[Request] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)
    identified: list[dict[str, Any]] = field(default_factory=list)
    dm_channels: dict[str, str] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    base_url: str = ""
    gateway_url: str = ""
    _socket: web.WebSocketResponse | None = None
    _sequence: int = 0

    # ----------------------------------------------------------------- serving

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[WireDiscord]:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}{API}"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"
        try:
            yield self
        finally:
            if self._socket is not None:
                await self._socket.close()
            await runner.cleanup()

    def rate_limit(self, method: str, prefix: str, *, times: int = 1, **limit: Any) -> None:
        """The next ``times`` requests to ``prefix`` answer 429 (see :class:`Limit`)."""
        self.limits.extend(Limit(method, prefix, **limit) for _ in range(times))

    def find(self, method: str, prefix: str, status: int | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.method == method
            and r.path.startswith(prefix)
            and (status is None or r.status == status)
        ]

    async def until(self, predicate: Callable[[], object], within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                seen = "\n".join(f"{r.method} {r.path} {r.status}" for r in self.requests)
                raise AssertionError(f"timed out; requests were:\n{seen}")
            await asyncio.sleep(0.01)

    # ----------------------------------------------------------------- REST

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json" and raw:
                body = json.loads(raw)
        limit = next(
            (x for x in self.limits if x.method == request.method and path.startswith(x.prefix)),
            None,
        )
        status = 429 if limit is not None else 200
        self.requests.append(
            Request(
                request.method,
                path,
                body,
                time.perf_counter(),
                status,
                request.headers.get("Authorization"),
            )
        )
        if limit is not None:
            self.limits.remove(limit)
            return self._limited(limit)
        return _json(
            self._answer(request.method, path, body),
            headers=_bucket_headers(f"bucket:{path.split('/')[1]}", remaining=4, reset_after=1.0),
        )

    def _limited(self, limit: Limit) -> web.Response:
        headers = _bucket_headers(limit.bucket, remaining=0, reset_after=limit.retry_after)
        headers |= {
            "Retry-After": str(math.ceil(limit.retry_after)),
            "X-RateLimit-Scope": limit.scope,
        }
        if limit.is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": limit.retry_after,
            "global": limit.is_global,
        }
        return _json(body, status=429, headers=headers)

    def _answer(self, method: str, path: str, body: Any) -> Any:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return BOT_USER
        if path == "/oauth2/applications/@me":
            return APP_INFO
        if method == "PUT" and path.endswith("/commands"):
            guild = {"guild_id": parts[3]} if len(parts) > 3 and parts[2] == "guilds" else {}
            return [
                {
                    "description": "",
                    "type": 1,
                    "nsfw": False,
                    **command,
                    "id": self.helper.snowflake(),
                    "application_id": APPLICATION_ID,
                    "version": self.helper.snowflake(),
                    "default_member_permissions": None,
                    **guild,
                }
                for command in body or []
            ]
        if method == "GET" and parts[0] == "users" and parts[1].isdigit():
            return {**BOT_USER, "id": parts[1], "username": f"user{parts[1][-4:]}", "bot": False}
        if path == "/users/@me/channels":  # one DM channel per recipient, as on Discord
            recipient = str((body or {}).get("recipient_id"))
            channel = self.dm_channels.setdefault(recipient, self.helper.snowflake())
            return {"id": channel, "type": 1, "recipients": [BOT_USER]}
        if method == "POST" and parts[0] == "channels" and parts[-1] == "messages":
            return self.helper.message(channel_id=parts[1], payload=body or {}, author=BOT_USER)
        if parts[0] == "interactions" and parts[-1] == "callback":
            flags = ((body or {}).get("data") or {}).get("flags", 0)
            return {
                "interaction": {
                    "id": parts[1],
                    "type": 2,
                    "response_message_loading": (body or {}).get("type") == 5,
                    "response_message_ephemeral": bool(flags & 64),
                },
                "resource": None,
            }
        if parts[0] == "webhooks" and method in ("POST", "PATCH"):
            return self.helper.message(
                channel_id="0", payload=body or {}, author=BOT_USER, webhook_id=APPLICATION_ID
            )
        return {}

    # ----------------------------------------------------------------- gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41_250}})
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if message["op"] == 1:
                await socket.send_json({"op": 11})
            elif message["op"] == 2:
                self.identified.append(message["d"])
                await self.dispatch(
                    "READY",
                    {
                        "v": 10,
                        "user": BOT_USER,
                        "guilds": [],
                        "session_id": "wire-session",
                        "resume_gateway_url": self.gateway_url,
                        "application": {"id": APPLICATION_ID, "flags": 0},
                        "private_channels": [],
                        "relationships": [],
                    },
                )
                self.ready.set()
        return socket

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send one gateway event (``op 0``) to the connected bot."""
        assert self._socket is not None, "the bot has not connected to the gateway"
        self._sequence += 1
        await self._socket.send_json({"op": 0, "t": event, "s": self._sequence, "d": data})


def _json(body: Any, *, headers: dict[str, str], status: int = 200) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py parses nothing else.
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={**headers, "Content-Type": "application/json"},
    )


def _bucket_headers(bucket: str, *, remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        # Discord's answers come through Google's front end; discord.py reads a 429 without
        # this header as a Cloudflare ban and does not retry.
        "Via": "1.1 google",
    }
