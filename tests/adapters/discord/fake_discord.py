"""A local fake of Discord's HTTP API for discord.py: records every call, answers like Discord.

discord.py sends through two seams: ``HTTPClient.request`` (bot-token routes: channel messages,
command sync, CDN downloads) and ``AsyncWebhookAdapter.request`` (interaction callbacks and
followups, reached through the ``async_context`` variable). :meth:`FakeDiscord.install` replaces
both on one client, so nothing in a test can reach the network, and each call is kept as a
:class:`Call` with its route, JSON body and the time it arrived.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
from discord.webhook.async_ import async_context

PAYLOADS = Path(__file__).parent / "payloads"
APPLICATION_ID = "1180000000000000001"
BOT_USER = {
    "id": APPLICATION_ID,
    "username": "minime",
    "global_name": "minime",
    "discriminator": "0",
    "avatar": None,
    "bot": True,
}


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


class _Response:  # duck-typed stand-in, hence the Any below
    """Enough of ``aiohttp.ClientResponse`` for discord.py's exceptions."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason


@dataclass
class Call:
    method: str
    path: str
    """The route template with its values: ``/channels/123/messages``."""
    payload: dict[str, Any] | None
    files: list[str]
    at: float
    params: dict[str, Any] | None = None
    response: Any = None

    @property
    def content(self) -> str:
        return "" if self.payload is None else self.payload.get("content") or ""

    @property
    def data(self) -> dict[str, Any]:
        """The message data of an interaction callback, or the body itself."""
        if self.payload is None:
            return {}
        return self.payload.get("data") or self.payload


@dataclass
class FakeDiscord:
    """Answers discord.py's requests; ``fail`` makes a route template answer with an error."""

    calls: list[Call] = field(default_factory=list)
    cdn: dict[str, bytes] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    """``"POST /channels/{channel_id}/messages" -> 403`` (template as discord.py names it)."""
    latency_s: float = 0.0
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1_300_000_000_000_000_001)
    )

    # ----------------------------------------------------------------- installing

    def install(self, client: discord.Client, monkeypatch: Any) -> None:
        monkeypatch.setattr(client.http, "request", self._http_request)
        monkeypatch.setattr(client.http, "get_from_cdn", self._get_from_cdn)
        monkeypatch.setattr(async_context.get(), "request", self._webhook_request)
        client.http.token = "fake-token"

    def snowflake(self) -> str:
        return str(next(self._ids))

    # ----------------------------------------------------------------- queries

    def find(self, method: str, path_start: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_start)]

    def callbacks(self, interaction_id: str) -> list[Call]:
        return self.find("POST", f"/interactions/{interaction_id}/")

    def followups(self, token: str) -> list[Call]:
        return self.find("POST", f"/webhooks/{APPLICATION_ID}/{token}")

    def edits(self, token: str) -> list[Call]:
        return self.find("PATCH", f"/webhooks/{APPLICATION_ID}/{token}/messages/")

    def channel_posts(self) -> list[Call]:
        return [c for c in self.find("POST", "/channels/") if c.path.endswith("/messages")]

    async def until(self, predicate: Callable[[], object], within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    "timed out; calls were:\n"
                    + "\n".join(f"{c.method} {c.path}" for c in self.calls)
                )
            await asyncio.sleep(0.01)

    async def quiet(self, period: float = 0.3) -> None:
        """Wait until no call has arrived for ``period`` seconds."""
        seen = -1
        while seen != len(self.calls):
            seen = len(self.calls)
            await asyncio.sleep(period)

    # ----------------------------------------------------------------- answering

    def _record(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        files: list[str],
        params: dict[str, Any] | None = None,
    ) -> Call:
        call = Call(method, path, payload, files, time.perf_counter(), params)
        self.calls.append(call)
        return call

    def _error(self, template: str, method: str) -> discord.HTTPException | None:
        status = self.fail.get(f"{method} {template}")
        if status is None:
            return None
        response: Any = _Response(status, "Unauthorized" if status == 401 else "Forbidden")
        body: Any = {"message": "Missing Permissions" if status == 403 else "error", "code": 50013}
        if status == 401:
            return discord.HTTPException(response, {"message": "401: Unauthorized", "code": 0})
        if status == 403:
            return discord.Forbidden(response, body)
        return discord.HTTPException(response, body)

    async def _http_request(
        self, route: Any, *, files: Any = None, form: Any = None, **kwargs: Any
    ) -> Any:
        await asyncio.sleep(self.latency_s)
        payload = kwargs.get("json")
        if form:
            for part in form:
                if part.get("name") == "payload_json":
                    payload = json.loads(part["value"])
        call = self._record(
            route.method,
            _path(route),
            payload,
            [f.filename for f in files or []],
            kwargs.get("params"),
        )
        error = self._error(route.path, route.method)
        if error is not None:
            raise error
        call.response = self._http_answer(route, call)
        return call.response

    def _http_answer(self, route: Any, call: Call) -> Any:
        payload: Any = call.payload
        if route.method == "PUT" and route.path.endswith("/commands"):
            return [
                {
                    "description": "",
                    "type": 1,
                    "nsfw": False,
                    **command,
                    "id": self.snowflake(),
                    "application_id": APPLICATION_ID,
                    "version": self.snowflake(),
                    "default_member_permissions": None,
                    **(
                        {"guild_id": str(route.guild_id)}
                        if getattr(route, "guild_id", None)
                        else {}
                    ),
                }
                for command in payload or []
            ]
        if route.method == "POST" and route.path == "/channels/{channel_id}/messages":
            return self.message(
                channel_id=str(route.channel_id),
                payload=call.payload or {},
                author=BOT_USER,
                guild_id=(call.payload or {}).get("message_reference", {}).get("guild_id"),
            )
        if route.method == "POST" and route.path == "/users/@me/channels":
            return {
                "id": self.snowflake(),
                "type": 1,
                "recipients": [BOT_USER],
                "last_message_id": None,
            }
        if route.method == "POST" and route.path.endswith("/typing"):
            return None
        return {}

    async def _webhook_request(
        self,
        route: Any,
        session: Any = None,
        *,
        payload: dict[str, Any] | None = None,
        multipart: list[dict[str, Any]] | None = None,
        files: Any = None,
        params: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        await asyncio.sleep(self.latency_s)
        if multipart:
            for part in multipart:
                if part.get("name") == "payload_json":
                    payload = json.loads(part["value"])
        call = self._record(
            route.method, _path(route), payload, [f.filename for f in files or []], params
        )
        error = self._error(route.path, route.method)
        if error is not None:
            raise error
        call.response = self._webhook_answer(route, call, payload or {})
        return call.response

    def _webhook_answer(self, route: Any, call: Call, body: dict[str, Any]) -> Any:
        if route.path.endswith("/callback"):
            kind = body.get("type")
            flags = (body.get("data") or {}).get("flags", 0)
            return {
                "interaction": {
                    "id": str(route.webhook_id),
                    "type": 2,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(flags & 64),
                },
                "resource": None,
            }
        if route.method in ("POST", "PATCH") and route.path.startswith("/webhooks/"):
            message_id = call.path.rsplit("/", 1)[-1] if route.method == "PATCH" else None
            return self.message(
                channel_id="0",
                payload=body,
                author=BOT_USER,
                message_id=message_id if message_id and message_id.isdigit() else None,
                webhook_id=APPLICATION_ID,
            )
        return {}

    async def _get_from_cdn(self, url: str) -> bytes:
        self._record("GET", url, None, [])
        return self.cdn[url]

    def message(
        self,
        *,
        channel_id: str,
        payload: dict[str, Any],
        author: dict[str, Any],
        message_id: str | None = None,
        webhook_id: str | None = None,
        guild_id: str | None = None,
    ) -> dict[str, Any]:
        """A message object as Discord returns it for a create or edit."""
        message: dict[str, Any] = {
            "id": message_id or self.snowflake(),
            "channel_id": channel_id,
            "type": 19 if payload.get("message_reference") else 0,
            "content": payload.get("content") or "",
            "author": author,
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": "2026-11-21T12:00:00.000000+00:00",
            "edited_timestamp": None,
            "flags": payload.get("flags") or 0,
        }
        if payload.get("message_reference"):
            message["message_reference"] = payload["message_reference"]
        if webhook_id:
            message["webhook_id"] = webhook_id
            message["application_id"] = APPLICATION_ID
        if guild_id:
            message["guild_id"] = guild_id
        return message


def _path(route: Any) -> str:
    return str(route.url).removeprefix(route.BASE)
