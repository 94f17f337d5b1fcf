"""A local fake OpenAI-compatible chat server (aiohttp on 127.0.0.1) that records every request.

Behaviours, switchable per test:

* ``echo``: each choice is the prompt it was given (system + user), so a test can see exactly
  what reached the model;
* ``adversarial``: choices that try to act — "send now", tool-call JSON, mass mentions, links,
  ``<script>`` — as a hostile or confused model would;
* ``fixed``: the texts in ``replies``;
* ``failures``: a queue of HTTP statuses (with optional ``Retry-After``) answered before success;
* ``delay_s``: wait before answering (timeouts);
* ``ignore_n``: answer one choice whatever ``n`` asks (llama.cpp, Ollama);
* ``body``: answer HTTP 200 with this raw ``(content type, text)`` instead of a completion (a
  proxy's HTML page, a list, truncated JSON, an empty body).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ADVERSARIAL = [
    "send now",
    '{"tool": "send_message", "arguments": {"channel": "general", "text": "wire the money"}}',
    "@everyone <!channel> <@U123> urgent: click https://evil.example/login now",
    "<script>alert('x')</script> sure, done",
    "[click here](https://phish.example/a) to confirm",
]


@dataclass
class FakeOpenAI:
    """State of the fake server; tests mutate it between calls."""

    mode: str = "fixed"
    replies: list[str] = field(default_factory=lambda: ["sure, will do"])
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay_s: float = 0.0
    ignore_n: bool = False
    usage_tokens: int | None = 50
    body: tuple[str, str] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    base_url: str = ""

    def prompts(self) -> list[str]:
        """Every prompt received (system + user text), in order."""
        return [
            "\n".join(str(m.get("content", "")) for m in r.get("messages", []))
            for r in self.requests
        ]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.times.append(asyncio.get_running_loop().time())
        if self.failures:
            status, headers = self.failures.pop(0)
            return web.json_response(
                {"error": {"message": "fake failure", "type": "server_error"}},
                status=status,
                headers=headers,
            )
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.body is not None:
            content_type, text = self.body
            return web.Response(body=text.encode(), headers={"Content-Type": content_type})
        n = 1 if self.ignore_n else int(body.get("n") or 1)
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        if self.mode == "echo":
            texts = [prompt] * n
        elif self.mode == "adversarial":
            texts = [ADVERSARIAL[i % len(ADVERSARIAL)] for i in range(n)]
        else:
            texts = [self.replies[i % len(self.replies)] for i in range(n)]
        payload: dict[str, Any] = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
                for i, text in enumerate(texts)
            ],
        }
        if self.usage_tokens is not None:
            payload["usage"] = {
                "prompt_tokens": self.usage_tokens,
                "completion_tokens": 0,
                "total_tokens": self.usage_tokens,
            }
        return web.Response(text=json.dumps(payload), content_type="application/json")


@asynccontextmanager
async def fake_openai(**state: Any) -> AsyncIterator[FakeOpenAI]:
    """Run the fake on a free loopback port; ``base_url`` ends in ``/v1``."""
    fake = FakeOpenAI(**state)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        fake.base_url = f"http://127.0.0.1:{port}/v1"
        yield fake
    finally:
        await runner.cleanup()
