"""Slack acknowledgement latency while drafting is slow: 50 concurrent deliveries, a 10 s model.

The real wiring (``bot/platforms/slack.py``: bolt ``AsyncApp``, the signature check, the adapter)
serves ``POST /slack/events`` on a loopback aiohttp server; a local fake Slack Web API answers
``auth.test`` and the posts. The embedder's ``encode`` sleeps ``--delay`` seconds in its worker
thread (as a slow model would), so every delivery's drafting takes that long. Each round sends
``--n`` signed deliveries at once and times each HTTP round trip (what Slack waits for: the ack).

    python bench/slack_ack_bench.py [--n 50] [--delay 10] [--rounds 3] [--postgres]

``--postgres`` runs on a fresh schema of the local PostgreSQL (``MINIME_TEST_PG_URL``) instead of
SQLite.

Rounds: DM messages (``message.im`` events, each drafted) and ``/clone draft …`` commands.
Slack gives up on an ack after 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import aiohttp
import numpy as np
from aiohttp import web

from bot.bootstrap import open_runtime
from bot.platforms.slack import open_adapter
from bot.settings import SlackSettings, load_settings
from core.engines.embedding import HashingEmbedder
from core.models import UserRef
from tests.adapters.slack.fake_slack import BOT_TOKEN, OWNER, SIGNING_SECRET, FakeSlack


class SlowEmbedder:
    """The hashing embedder behind a sleep in the worker thread, released on ``stop()``."""

    def __init__(self, delay: float) -> None:
        self.inner = HashingEmbedder()
        self.dim = self.inner.dim  # the Embedder port's dimension (the index is sized by it)
        self.delay = delay
        self.slow = False
        self.calls = 0
        self.active = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.slow:
            with self._lock:
                self.calls += 1
                self.active += 1
            try:
                self._stop.wait(self.delay)
            finally:
                with self._lock:
                    self.active -= 1
        return self.inner.encode(texts)

    def stop(self) -> None:
        self._stop.set()


def _signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(
        SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256
    )
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def _event(n: int, tag: str) -> tuple[bytes, str]:
    body = {
        "type": "event_callback",
        "team_id": "T0001",
        "api_app_id": "A123456",
        "event_id": f"EvBENCH{tag}{n:04d}",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": "D0OWNERBOT",
            "user": OWNER,
            "text": f"could you review the budget plan number {n} before friday?",
            "ts": f"{time.time():.6f}",
        },
    }
    return json.dumps(body).encode(), "application/json"


RESPONSE_URL = {"url": ""}


def _command(n: int, tag: str) -> tuple[bytes, str]:
    fields = {
        "command": "/clone",
        "text": f"draft can we move meeting {n} to thursday?",
        "user_id": OWNER,
        "channel_id": "C2147483705",
        "team_id": "T0001",
        "response_url": RESPONSE_URL["url"],
        "trigger_id": f"bench.{tag}.{n}",
    }
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


async def _round(
    session: aiohttp.ClientSession, url: str, make: object, n: int, tag: str
) -> list[float]:
    requests = [make(i, tag) for i in range(n)]  # type: ignore[operator]

    async def one(body: bytes, content_type: str) -> float:
        headers = {"Content-Type": content_type, **_signed(body)}
        started = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
        return time.perf_counter() - started

    return list(await asyncio.gather(*(one(body, kind) for body, kind in requests)))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def main_async(n: int, delay: float, rounds: int, postgres: bool = False) -> int:
    if postgres:
        from tests.scale.cluster import PgSchema

        async with PgSchema() as schema:
            return await _run(n, delay, rounds, {"MINIME_DATABASE_URL": schema.url})
    return await _run(n, delay, rounds, {})


async def _run(n: int, delay: float, rounds: int, env: dict[str, str]) -> int:
    fake = FakeSlack()
    await fake.start()
    RESPONSE_URL["url"] = fake.response_url("bench")
    embedder = SlowEmbedder(delay)
    with tempfile.TemporaryDirectory(prefix="minime-bench-") as data:
        settings = load_settings(env, data_dir=Path(data))
        async with open_runtime(settings, embedder=embedder) as runtime:
            owner = UserRef(platform="slack", user_id=OWNER)
            await runtime.clone.import_sample(owner)
            slack = SlackSettings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET)  # type: ignore[arg-type]
            http = web.Application()
            async with open_adapter(
                runtime, http, settings=slack, base_url=fake.base_url
            ) as adapter:
                runner = web.AppRunner(http, access_log=None)
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
                url = f"http://127.0.0.1:{port}/slack/events"
                connector = aiohttp.TCPConnector(limit=0)
                async with aiohttp.ClientSession(connector=connector) as session:
                    await _round(session, url, _event, 1, "warm")  # auth.test, first connection
                    await adapter.drain()
                    embedder.slow = True
                    print(f"{n} concurrent deliveries per round; drafting takes {delay:.0f} s each")
                    # Rounds are measured while earlier rounds' drafts are in the encoder.
                    await _round(session, url, _event, n, "prime")
                    deadline = time.monotonic() + 10
                    while embedder.active == 0 and time.monotonic() < deadline:  # noqa: ASYNC110 (a thread's counter)
                        await asyncio.sleep(0.05)
                    header = f"{'round':<22}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'mean ms':>9}"
                    print(header + "  drafts in the encoder / waiting at start")
                    for kind, make in (("message.im event", _event), ("/clone draft", _command)):
                        for r in range(rounds):
                            busy, waiting = embedder.active, len(adapter._tasks)
                            times = await _round(session, url, make, n, f"{kind[:3]}{r}")
                            ms = [t * 1000 for t in times]
                            print(
                                f"{kind + f' #{r + 1}':<22}{_pct(ms, 0.5):>9.1f}{_pct(ms, 0.99):>9.1f}"
                                f"{max(ms):>9.1f}{statistics.mean(ms):>9.1f}  {busy} / {waiting}"
                            )
                    print(
                        f"at the end: {len(adapter._tasks)} deliveries still drafting, "
                        f"{embedder.calls} slow encoder calls started; Slack's limit is 3000 ms"
                    )
                embedder.stop()  # let the queued drafts finish fast, then close cleanly
                started = time.monotonic()
                await adapter.drain()
                print(f"(drained the queued drafts in {time.monotonic() - started:.1f} s)")
                await runner.cleanup()
    await fake.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--delay", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args.n, args.delay, args.rounds, args.postgres))


if __name__ == "__main__":
    raise SystemExit(main())
