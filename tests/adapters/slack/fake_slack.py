"""A local fake Slack: the Web API, ``response_url`` hooks, file downloads and upload URLs.

It listens on 127.0.0.1 (an ephemeral port), records every call it receives, and can answer a
method with 429 + ``Retry-After`` a given number of times before it lets the call land.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_TOKEN = "xoxb-test-bot-token"
USER_TOKEN = "xoxp-test-user-token"
APP_TOKEN = "xapp-test-app-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
OWNER = "UOWNER"
OTHER = "UOTHER"
BOT_USER = "UBOT"
TEAM = "T0001"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int


@dataclass
class FakeSlack:
    """Records calls; ``throttle[method] = n`` answers the next ``n`` calls with 429."""

    calls: list[Call] = field(default_factory=list)
    throttle: dict[str, int] = field(default_factory=dict)
    retry_after: int = 1
    fail: dict[str, str] = field(default_factory=dict)
    """``method -> error``: answer ``{"ok": false, "error": …}``."""
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    user_token_owner: str = OWNER
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    root: str = ""

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.root}/response/{name}"

    def landed(self, method: str) -> list[Call]:
        """Calls of ``method`` that were answered 200 (a 429 did not land)."""
        return [c for c in self.calls if c.method == method and c.status == 200]

    def reset(self) -> None:
        self.calls.clear()
        self.throttle.clear()
        self.fail.clear()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/files/{id}/{name}", self._download)
        app.router.add_post("/upload/{id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.root = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        args: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, str):
                args[key] = json.loads(value) if key in ("blocks", "view") else value
            else:
                args[key] = "<file>"
        args.update(request.query)
        return args

    def _throttled(self, method: str) -> bool:
        left = self.throttle.get(method, 0)
        if left > 0:
            self.throttle[method] = left - 1
            return True
        return False

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or args.get("token")
        if self._throttled(method):
            self.calls.append(Call(method, args, token, 429))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        self.calls.append(Call(method, args, token, 200))
        if method in self.fail:
            return web.json_response({"ok": False, "error": self.fail[method]})
        return web.json_response(self._answer(method, args, token))

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        ts = f"1700000{next(self._ts):03d}.000100"
        if method == "auth.test":
            if token == USER_TOKEN:
                return {
                    "ok": True,
                    "user_id": self.user_token_owner,
                    "team_id": TEAM,
                    "user": "owner",
                }
            return {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": "BBOT",
                "team_id": TEAM,
                "user": "minime",
            }
        if method == "chat.postMessage":
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text")},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method in ("views.open", "views.publish"):
            return {"ok": True, "view": {"id": f"V{ts[-9:-7]}", "hash": "h"}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))[1:]}}
        if method == "files.info":
            file_id = str(args.get("file"))
            name, data = self.files.get(file_id, ("missing.bin", b""))
            return {
                "ok": True,
                "file": {
                    "id": file_id,
                    "name": name,
                    "size": len(data),
                    "url_private_download": f"{self.root}/files/{file_id}/{name}",
                },
            }
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.root}/upload/F9", "file_id": "F9"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F9", "title": "upload"}]}
        return {"ok": True}

    async def _response(self, request: web.Request) -> web.Response:
        args = await request.json()
        if self._throttled("response_url"):
            self.calls.append(Call("response_url", args, None, 429))
            return web.Response(status=429, headers={"Retry-After": str(self.retry_after)})
        self.calls.append(Call("response_url", args, None, 200))
        return web.Response(text="ok")

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["id"]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.calls.append(Call("file.download", {"file": file_id}, token, 200))
        if token != BOT_TOKEN or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id][1])

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.calls.append(Call("file.upload", {"bytes": len(data)}, None, 200))
        return web.Response(text="OK")
