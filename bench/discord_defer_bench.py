"""Time-to-defer on Discord while the drafting model is slow.

Fifty "Draft reply" interactions arrive at once (recorded payload, fresh ids) at the real adapter,
on real storage (a temporary SQLite), while the encoder behind drafting takes 10 s per call in its
worker thread. Discord needs an answer within 3 s; the adapter defers before any other work, so
the time from gateway dispatch to the defer reaching (fake) Discord should stay far below that,
whatever the model does. The fake Discord API adds a one-way network latency to every request.

    python bench/discord_defer_bench.py                    # 50 interactions, 10 s encoder
    python bench/discord_defer_bench.py --n 200 --encode-seconds 3 --latency-ms 80 --json

Prints time-to-defer p50/p99/max, time-to-draft p50/p99 and the share of defers within 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import discord
import pytest

from adapters.discord.adapter import DiscordAdapter, default_intents
from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import UserRef
from core.ports import Vector
from tests.adapters.discord.fake_discord import (
    APPLICATION_ID,
    BOT_USER,
    FakeDiscord,
    load,
)

DEADLINE_S = 3.0


class SlowEmbedder:
    """The hashing embedder behind a sleep: a drafting model that takes ``seconds`` per call."""

    def __init__(self, seconds: float) -> None:
        self._inner = HashingEmbedder()
        self.dim = self._inner.dim
        self.seconds = 0.0
        self._target = seconds

    def slow_down(self) -> None:
        self.seconds = self._target

    def encode(self, texts: Sequence[str]) -> Vector:
        time.sleep(self.seconds)  # in the worker thread, as the real encoder would be busy
        return self._inner.encode(texts)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(
    n: int, encode_seconds: float, latency_ms: float, workers: int | None = None
) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    # By default enough worker threads that the encodes overlap and the run ends in about
    # ``encode_seconds``; ``--workers 6`` is Python's default pool on two cores (drafts queue).
    pool_size = workers or n + 8
    loop.set_default_executor(ThreadPoolExecutor(max_workers=pool_size))
    embedder = SlowEmbedder(encode_seconds)
    owner = UserRef(platform="discord", user_id="1100000000000000010")
    monkeypatch = pytest.MonkeyPatch()
    with tempfile.TemporaryDirectory(prefix="minime-bench-") as folder:
        settings = load_settings({}, data_dir=Path(folder))
        async with open_runtime(settings, embedder=embedder) as runtime:
            await runtime.clone.import_sample(owner)
            embedder.slow_down()
            client = discord.Client(intents=default_intents())
            await client._async_setup_hook()
            fake = FakeDiscord(latency_s=latency_ms / 1000)
            fake.install(client, monkeypatch)
            client._connection.user = discord.ClientUser(state=client._connection, data=BOT_USER)  # type: ignore[arg-type]
            client._connection.application_id = int(APPLICATION_ID)
            adapter = DiscordAdapter(
                clone=runtime.clone,
                accounts=runtime.storage.accounts,
                deliveries=runtime.storage.deliveries,
                client=client,
            )
            template = load("context_menu_draft_reply.json")
            dispatched: dict[str, float] = {}
            started = time.perf_counter()
            for _ in range(n):
                payload = json.loads(json.dumps(template))
                payload["id"] = fake.snowflake()
                payload["token"] = f"token-{payload['id']}"
                dispatched[payload["id"]] = time.perf_counter()
                client._connection.parse_interaction_create(payload)

            def drafted() -> int:
                return sum(1 for token in dispatched if fake.followups(f"token-{token}"))

            rounds = -(-n // pool_size)
            await fake.until(lambda: drafted() == n, within=encode_seconds * (rounds + 2) + 60)
            wall = time.perf_counter() - started
            defer_s = [fake.callbacks(i)[0].at - at for i, at in dispatched.items()]
            draft_s = [fake.followups(f"token-{i}")[0].at - at for i, at in dispatched.items()]
            defers_first = all(
                fake.calls.index(fake.callbacks(i)[0])
                < fake.calls.index(fake.followups(f"token-{i}")[0])
                for i in dispatched
            )
            await adapter.close()
    monkeypatch.undo()
    return {
        "interactions": n,
        "encode_seconds": encode_seconds,
        "worker_threads": pool_size,
        "one_way_latency_ms": latency_ms,
        "defer_p50_ms": round(statistics.median(defer_s) * 1000, 1),
        "defer_p99_ms": round(percentile(defer_s, 99) * 1000, 1),
        "defer_max_ms": round(max(defer_s) * 1000, 1),
        "defer_within_3s": sum(d < DEADLINE_S for d in defer_s) / n,
        "defer_before_any_followup": defers_first,
        "draft_p50_s": round(statistics.median(draft_s), 2),
        "draft_p99_s": round(percentile(draft_s, 99), 2),
        "wall_s": round(wall, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="concurrent interactions")
    parser.add_argument("--encode-seconds", type=float, default=10.0)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="one-way, per request")
    parser.add_argument("--workers", type=int, default=None, help="worker threads (default n+8)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.n, args.encode_seconds, args.latency_ms, args.workers))
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"Discord time-to-defer: {report['interactions']} concurrent 'Draft reply' interactions, "
        f"encoder {report['encode_seconds']} s per call on {report['worker_threads']} threads, "
        f"{report['one_way_latency_ms']} ms one-way latency"
    )
    print(
        f"  defer  p50 {report['defer_p50_ms']} ms   p99 {report['defer_p99_ms']} ms   "
        f"max {report['defer_max_ms']} ms   within 3 s: {float(report['defer_within_3s']):.0%}"  # type: ignore[arg-type]
    )
    print(f"  draft  p50 {report['draft_p50_s']} s   p99 {report['draft_p99_s']} s")
    print(
        f"  every defer went out before its draft: {report['defer_before_any_followup']};  "
        f"wall {report['wall_s']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
