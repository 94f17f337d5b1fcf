"""A local cluster for scale tests and the scale benchmark: loopback only, bounded in time.

- :class:`PgSchema`: a fresh PostgreSQL schema (``?search_path=``), dropped at the end.
- :func:`prepare_owners`: Slack owners with the sample persona imported, so DMs get drafts.
- :class:`Cluster`: ``minime run --workers N`` as a subprocess (Slack HTTP mode, the hashing
  embedder, the Web API pointed at a local :class:`FakeSlack`), ready when N distinct worker
  pids have answered ``/healthz``.
- :func:`replay`: the load generator. It sends signed ``message.im`` events with a bounded
  number in flight; a share of them are retries of earlier events (``X-Slack-Retry-Num``), and
  like Slack it retries a delivery that failed (connection error, 5xx, no answer in 3 s) up to
  three times, with the back-off compressed from minutes to fractions of a second.
- :func:`draft_census`: what PostgreSQL holds afterwards, per expected draft id.

Everything listens on and sends to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import random
import secrets
import signal
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from cryptography.fernet import Fernet

from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.models import UserRef
from core.service import draft_id_for
from tests.adapters.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("MINIME_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SLACK_TIMEOUT_S = 3.0
RETRY_BACKOFF_S = (0.2, 0.5, 1.0)
"""Slack retries at once, after a minute and after five; compressed here."""

TEXTS = (
    "can we move our 1:1 to thursday afternoon?",
    "are you coming to the team lunch on friday?",
    "could you review my pull request before the release?",
    "do you have the slides from yesterday's meeting?",
    "what time works for a quick call tomorrow?",
    "can you send me the invoice for last month?",
    "any chance you could cover my shift on saturday?",
    "did you see the budget numbers? thoughts?",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgSchema:
    """A schema of its own on the test server; ``url`` selects it with ``search_path``."""

    def __init__(self, base_url: str = PG_URL) -> None:
        self.name = f"minime_scale_{secrets.token_hex(4)}"
        self._dsn = base_url.replace("postgresql+asyncpg://", "postgresql://")
        self.url = f"{base_url}?search_path={self.name}"

    async def connect(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(self._dsn, server_settings={"search_path": self.name})
        return connection

    async def __aenter__(self) -> PgSchema:
        connection = await asyncpg.connect(self._dsn)
        try:
            await connection.execute(f'CREATE SCHEMA "{self.name}"')
        finally:
            await connection.close()
        return self

    async def __aexit__(self, *_: object) -> None:
        connection = await asyncpg.connect(self._dsn)
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        finally:
            await connection.close()


def owner_id(index: int) -> str:
    return f"ULOAD{index:04d}"


def base_env(schema: PgSchema, data_dir: Path, master_key: str) -> dict[str, str]:
    """The workers' environment: PostgreSQL, the hashing embedder, Slack in HTTP mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIME_")}
    env.update(
        {
            "MINIME_DATABASE_URL": schema.url,
            "MINIME_DATA_DIR": str(data_dir),
            "MINIME_MASTER_KEY": master_key,
            "MINIME_EMBEDDER": "hashing",
            "MINIME_LOG_LEVEL": "ERROR",
            # A killed worker's accepted deliveries are resumed within 10-15 s (default 30 s).
            "MINIME_DELIVERY_LEASE_S": "10",
            "MINIME_SLACK__BOT_TOKEN": BOT_TOKEN,
            "MINIME_SLACK__SIGNING_SECRET": SIGNING_SECRET,
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


async def prepare_owners(env: dict[str, str], owners: int) -> dict[str, str]:
    """Import the sample persona for each load owner; their account ids by Slack user id."""
    settings = load_settings(env)
    accounts: dict[str, str] = {}
    async with open_runtime(settings) as runtime:
        for i in range(owners):
            user = UserRef(platform="slack", user_id=owner_id(i))
            await runtime.clone.import_sample(user)
            account = await runtime.storage.accounts.resolve(user, create=False)
            assert account is not None
            accounts[user.user_id] = account.id
    return accounts


def _children(pid: int) -> set[int]:
    """Children of every thread of ``pid`` (a process started from a thread is that thread's)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(p) for p in (task / "children").read_text().split()}
    return found


@dataclass
class Cluster:
    """``minime run --workers N`` on a free loopback port."""

    workers: int
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    pids: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, fake: FakeSlack, *, ready_within_s: float = 60.0) -> None:
        env = dict(self.env)
        env.update(
            {
                "MINIME_HTTP_HOST": "127.0.0.1",
                "MINIME_HTTP_PORT": str(self.port),
                "MINIME_SLACK__API_BASE_URL": fake.base_url,
            }
        )
        argv = [sys.executable, "-m", "bot", "run"]
        if self.workers > 1:
            argv += ["--workers", str(self.workers)]
        self.process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            cwd=str(ROOT),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        await self.wait_ready(self.workers, within_s=ready_within_s)

    async def wait_ready(self, count: int, *, within_s: float) -> set[int]:
        """Until ``count`` distinct worker pids answered ``/healthz`` (new connection each)."""
        deadline = time.monotonic() + within_s
        seen: set[int] = set()
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True),
            timeout=aiohttp.ClientTimeout(total=2),
        ) as session:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise RuntimeError(f"minime run exited with {self.process.returncode}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.url}/healthz") as response:
                        seen.add(int((await response.json())["pid"]))
                if len(seen & self.live_pids()) >= count:
                    self.pids = seen & self.live_pids()
                    return self.pids
                await asyncio.sleep(0.05)
        raise TimeoutError(f"{count} workers not ready in {within_s}s (saw {len(seen)})")

    def live_pids(self) -> set[int]:
        """The worker processes now: the supervisor's children, whichever of its threads
        started or forked them (or the one process)."""
        assert self.process is not None
        if self.workers == 1:
            return {self.process.pid}
        return _children(self.process.pid)

    async def metrics(self, samples: int = 12) -> list[str]:
        """``/metrics`` bodies from as many workers as ``samples`` fresh connections reach."""
        bodies: dict[int, str] = {}
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True),
            timeout=aiohttp.ClientTimeout(total=2),
        ) as session:
            for _ in range(samples):
                async with session.get(f"{self.url}/healthz") as response:
                    pid = int((await response.json())["pid"])
                async with session.get(f"{self.url}/metrics") as response:
                    bodies[pid] = await response.text()
        return list(bodies.values())

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout=15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


# ------------------------------------------------------------------ the load generator


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery to send: an event (``retry`` 0) or a planned retry of an earlier one."""

    event_id: str
    owner: str
    body: bytes
    retry: int


def plan(
    total: int, *, owners: int, retry_share: float = 0.2, seed: int = 7, first: int = 0
) -> list[Delivery]:
    """``total`` deliveries, ``retry_share`` of them retries of events sent a little earlier.

    Event numbers start at ``first`` (several runs on one cluster use disjoint ranges).
    """
    rng = random.Random(seed)
    distinct = total - int(total * retry_share)
    events: list[Delivery] = []
    for i in range(first, first + distinct):
        owner = owner_id(i % owners)
        ts = f"{1_800_000_000 + i}.{i % 1_000_000:06d}"
        body = {
            "token": "load",
            "team_id": "T0001",
            "api_app_id": "A123456",
            "type": "event_callback",
            "event_id": f"EvLOAD{i:06d}",
            "event_time": 1_800_000_000 + i,
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": "D" + owner[1:],
                "user": owner,
                "text": f"{TEXTS[i % len(TEXTS)]} (ref {i})",
                "ts": ts,
                "event_ts": ts,
                "client_msg_id": f"load-{i}",
            },
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        }
        events.append(Delivery(f"EvLOAD{i:06d}", owner, json.dumps(body).encode(), 0))
    deliveries = list(events)
    for _ in range(total - distinct):
        # A retry of a recent event, placed a little after it (sometimes while it is in flight).
        at = rng.randrange(1, len(deliveries) + 1)
        original = rng.choice(events[max(0, min(at, distinct) - 60) : max(1, min(at, distinct))])
        deliveries.insert(at, Delivery(original.event_id, original.owner, original.body, 1))
    return deliveries


def sign(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, "sha256")
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


@dataclass
class LoadReport:
    """What the load generator saw."""

    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0
    """Attempts without an answer (connection refused/reset, timeout): retried."""
    gave_up: list[str] = field(default_factory=list)
    ack_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    redelivered: int = 0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def percentile(self, q: float) -> float:
        if not self.ack_s:
            return float("nan")
        ordered = sorted(self.ack_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, float | int]:
        return {
            "deliveries": self.sent,
            "events_per_s": round(self.sent / self.elapsed_s, 1) if self.elapsed_s else 0.0,
            "p50_ack_ms": round(1000 * statistics.median(self.ack_s), 1) if self.ack_s else 0,
            "p99_ack_ms": round(1000 * self.percentile(0.99), 1),
            "max_ack_ms": round(1000 * max(self.ack_s), 1) if self.ack_s else 0,
            "5xx": self.server_errors,
            "failed_attempts": self.failures,
            "slack_retries_after_failure": self.redelivered,
            "gave_up": len(self.gave_up),
        }


async def replay(
    url: str,
    deliveries: Sequence[Delivery],
    *,
    concurrency: int = 16,
    on_progress: Callable[[int], None] | None = None,
    deadline_s: float = 120.0,
    fresh_connections: bool = False,
) -> LoadReport:
    """Send every delivery (signed, ``concurrency`` in flight), retrying failures like Slack.

    ``fresh_connections``: one connection per request, as Slack opens them, so the kernel
    spreads the deliveries over every worker (kept-alive connections stay with the few workers
    they first reached)."""
    report = LoadReport()
    queue: asyncio.Queue[Delivery] = asyncio.Queue()
    for delivery in deliveries:
        queue.put_nowait(delivery)
    started = time.perf_counter()
    stop_at = time.monotonic() + deadline_s

    async def send(session: aiohttp.ClientSession, delivery: Delivery) -> None:
        retry = delivery.retry
        for attempt in range(len(RETRY_BACKOFF_S) + 1):
            headers = {"Content-Type": "application/json", **sign(delivery.body)}
            if retry:
                headers["X-Slack-Retry-Num"] = str(retry)
                headers["X-Slack-Retry-Reason"] = "http_timeout" if attempt == 0 else "http_error"
            t0 = time.perf_counter()
            status = None
            try:
                async with session.post(
                    f"{url}/slack/events", data=delivery.body, headers=headers
                ) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError, ConnectionError):
                report.failures += 1
            if status is not None:
                report.statuses[status] = report.statuses.get(status, 0) + 1
                if status < 500:
                    report.ack_s.append(time.perf_counter() - t0)
                    return
            if attempt == len(RETRY_BACKOFF_S) or time.monotonic() > stop_at:
                break
            report.redelivered += 1
            retry += 1
            await asyncio.sleep(RETRY_BACKOFF_S[attempt])
        report.gave_up.append(delivery.event_id)

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < stop_at:
            try:
                delivery = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await send(session, delivery)
            report.sent += 1
            if on_progress is not None:
                on_progress(report.sent)

    timeout = aiohttp.ClientTimeout(total=SLACK_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=fresh_connections)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    report.elapsed_s = time.perf_counter() - started
    return report


# ------------------------------------------------------------------ what the database holds


@dataclass
class Census:
    expected: int
    found: int
    missing: list[str]
    total_drafts: int
    dm_posts: int

    @property
    def exactly_once(self) -> bool:
        return not self.missing and self.total_drafts == self.expected


async def draft_census(
    schema: PgSchema,
    accounts: dict[str, str],
    deliveries: Sequence[Delivery],
    fake: FakeSlack,
    *,
    before: int = 0,
    settle_s: float = 60.0,
) -> Census:
    """Expected draft ids (one per distinct event) against the rows in ``drafts``.

    ``before``: the rows there were before this load (earlier runs on the same cluster).
    ``settle_s``: how long drafting may go on after the last ack (acks do not wait for the work,
    and a killed worker's deliveries are resumed after the lease).
    """
    expected = {
        draft_id_for(accounts[d.owner], f"slack:event:{d.event_id}"): d.event_id for d in deliveries
    }
    connection = await schema.connect()
    try:
        deadline = time.monotonic() + settle_s
        while True:
            ids = {r["id"] for r in await connection.fetch("SELECT id FROM drafts")}
            unfinished = await connection.fetchval(
                "SELECT count(*) FROM deliveries WHERE state = 'accepted'"
            )
            if (expected.keys() <= ids and unfinished == 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        total = await connection.fetchval("SELECT count(*) FROM drafts")
    finally:
        await connection.close()
    posts = len(
        [
            c
            for c in fake.landed("chat.postMessage")
            if str(c.args.get("channel", "")).startswith("DLOAD")
        ]
    )
    return Census(
        expected=len(expected),
        found=len(expected.keys() & ids),
        missing=sorted(expected[i] for i in expected.keys() - ids),
        total_drafts=int(total) - before,
        dm_posts=posts,
    )


async def count_drafts(schema: PgSchema) -> int:
    connection = await schema.connect()
    try:
        return int(await connection.fetchval("SELECT count(*) FROM drafts"))
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def local_cluster(
    workers: int, *, owners: int, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Cluster, FakeSlack, PgSchema, dict[str, str], Path]]:
    """A fresh schema, trained owners, a fake Slack and ``workers`` workers; all torn down.

    ``env`` overrides the workers' settings (e.g. ``MINIME_EMBEDDER`` for the real encoder)."""
    import tempfile

    fake = FakeSlack()
    await fake.start()
    try:
        async with PgSchema() as schema:
            with tempfile.TemporaryDirectory(prefix="minime-scale-") as tmp:
                data_dir = Path(tmp)
                settings = base_env(schema, data_dir, Fernet.generate_key().decode())
                settings.update(env or {})
                accounts = await prepare_owners(settings, owners)
                cluster = Cluster(workers, settings)
                try:
                    await cluster.start(fake)
                    yield cluster, fake, schema, accounts, data_dir
                finally:
                    await cluster.stop()
    finally:
        await fake.stop()
