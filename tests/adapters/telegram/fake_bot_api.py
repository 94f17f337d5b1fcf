"""A local fake of the Telegram Bot API: aiohttp on 127.0.0.1, an ephemeral port, every call recorded.

PTB points at it through ``base_url``/``base_file_url``. It answers the methods the adapter uses
with Bot-API-shaped JSON, serves uploaded files, hands out queued updates to ``getUpdates``, and can
answer a method with ``429 Too Many Requests`` (``retry_after``) to exercise flood control.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "link_preview_options",
        "reply_parameters",
        "show_alert",
        "drop_pending_updates",
    }
)
_INT_PARAMS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout"})


@dataclass(slots=True)
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    at: float
    status: int
    result: Any = None


@dataclass
class FakeBotApi:
    """The fake server; ``calls`` is the transcript."""

    token: str
    bot_user: dict[str, Any]
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    business: dict[str, dict[str, Any]] = field(default_factory=dict)
    flood: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    url: str = ""
    _runner: web.AppRunner | None = None
    _next_message_id: int = 5000

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------- transcript helpers

    def ok(self, method: str) -> list[dict[str, Any]]:
        """Parameters of the successful calls to ``method``, in order."""
        return [c.params for c in self.calls if c.method == method and c.status == 200]

    def results(self, method: str) -> list[Any]:
        """What the fake answered to the successful calls to ``method`` (sent messages)."""
        return [c.result for c in self.calls if c.method == method and c.status == 200]

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def since(self, mark: int) -> FakeBotApi:
        """A view of the calls after ``mark`` (``len(fake.calls)`` taken earlier)."""
        view = FakeBotApi(token=self.token, bot_user=self.bot_user)
        view.calls = self.calls[mark:]
        return view

    # ------------------------------------------------------------- handlers

    def _message(self, chat_id: Any, **fields: Any) -> dict[str, Any]:
        self._next_message_id += 1
        chat = {"id": int(chat_id), "type": "private"}
        message = {
            "message_id": self._next_message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
        }
        message.update({k: v for k, v in fields.items() if v is not None})
        return message

    async def _params(self, request: web.Request) -> dict[str, Any]:
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "size": len(value.file.read())}
            elif not isinstance(value, str):
                params[key] = bytes(value)
            elif key in _JSON_PARAMS:
                params[key] = json.loads(value)
            elif key in _INT_PARAMS:
                try:
                    params[key] = int(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        if self.flood[method]:
            retry_after = self.flood[method].pop(0)
            self.calls.append(Call(method, params, time.monotonic(), 429))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status=429,
            )
        if self.failures[method]:
            code, description = self.failures[method].pop(0)
            self.calls.append(Call(method, params, time.monotonic(), code))
            return web.json_response(
                {"ok": False, "error_code": code, "description": description}, status=code
            )
        call = Call(method, params, time.monotonic(), 200)
        self.calls.append(call)
        call.result = await self._answer(method, params)
        return web.json_response({"ok": True, "result": call.result})

    async def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return self.bot_user
        if method in ("sendMessage", "editMessageText"):
            text = params.get("text")
            if text is not None and params.get("parse_mode") == "HTML":
                # Telegram answers with the parsed text (entities aside), not the markup.
                text = html.unescape(re.sub(r"<[^>]+>", "", text))
            message = self._message(
                params["chat_id"],
                text=text,
                reply_markup=params.get("reply_markup"),
                business_connection_id=params.get("business_connection_id"),
            )
            if method == "editMessageText":
                message["message_id"] = params["message_id"]
                message["edit_date"] = int(time.time())
            return message
        if method in ("sendPhoto", "sendDocument"):
            return self._message(params["chat_id"])
        if method == "getFile":
            file_id = params["file_id"]
            if file_id not in self.files:
                raise web.HTTPBadRequest(
                    text=json.dumps(
                        {
                            "ok": False,
                            "error_code": 400,
                            "description": "Bad Request: invalid file_id",
                        }
                    ),
                    content_type="application/json",
                )
            return {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}.bin",
            }
        if method == "getBusinessConnection":
            return self.business[params["business_connection_id"]]
        if method == "getUpdates":
            offset = params.get("offset") or 0
            ready = [u for u in self.updates if u["update_id"] >= offset]
            if not ready:
                await asyncio.sleep(0.05)
            return ready
        # answerCallbackQuery, setMyCommands, setWebhook, deleteWebhook, editMessageReplyMarkup…
        return True

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        file_id = path.removeprefix("documents/").removesuffix(".bin")
        if file_id not in self.files:
            return web.Response(status=404)
        self.calls.append(Call("download", {"path": path}, time.monotonic(), 200))
        return web.Response(body=self.files[file_id])
