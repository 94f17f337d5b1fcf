"""Three workers on one PostgreSQL: signed Slack events with retries, and a worker killed mid-load.

One cluster for the module (``minime run --workers 3``: SO_REUSEPORT, Slack HTTP mode, the
hashing embedder, a fresh schema, a local fake Slack Web API). Loopback only; every wait is
bounded. The full 2,000-event run is ``bench/scale_bench.py``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.scale.cluster import count_drafts, draft_census, local_cluster, plan, replay

pytestmark = pytest.mark.postgres

OWNERS = 6
RESTART_BOUND_S = 30.0


@pytest_asyncio.fixture(scope="module")
async def cluster() -> AsyncIterator[Any]:
    async with local_cluster(3, owners=OWNERS) as running:
        yield running


def _sum(bodies: list[str], name: str) -> float:
    pattern = re.compile(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", re.M)
    return sum(float(v) for body in bodies for v in pattern.findall(body))


async def test_300_events_with_20_percent_retries_make_one_draft_each(cluster: Any) -> None:
    workers, fake, schema, accounts, _ = cluster
    deliveries = plan(300, owners=OWNERS, first=0)
    report = await replay(workers.url, deliveries, concurrency=8, deadline_s=90)
    census = await draft_census(schema, accounts, deliveries, fake)
    print("load:", report.summary(), "census:", census)
    assert report.server_errors == 0
    assert not report.gave_up
    assert census.missing == []
    assert census.exactly_once, census
    assert census.dm_posts == census.expected  # each draft shown once, retries included
    metrics = await workers.metrics()
    assert _sum(metrics, "minime_events_received_total") > 0
    assert _sum(metrics, "minime_deliveries_deduplicated_total") > 0
    assert "minime_draft_latency_seconds_bucket" in metrics[0]
    assert "minime_queue_depth" in metrics[0]
    assert "minime_llm_errors_total" in metrics[0] or "minime_llm_errors" in metrics[0]


async def test_kill_9_one_worker_mid_load_loses_nothing_and_repeats_nothing(cluster: Any) -> None:
    workers, fake, schema, accounts, _ = cluster
    fake.calls.clear()
    before = await count_drafts(schema)
    deliveries = plan(200, owners=OWNERS, first=10_000, seed=11)
    victim = sorted(workers.live_pids())[1]
    killed = asyncio.Event()

    def progress(sent: int) -> None:
        if sent == len(deliveries) // 3 and not killed.is_set():
            os.kill(victim, signal.SIGKILL)
            killed.set()

    report = await replay(
        workers.url, deliveries, concurrency=8, on_progress=progress, deadline_s=90
    )
    assert killed.is_set()
    census = await draft_census(schema, accounts, deliveries, fake, before=before)
    print("load with a kill:", report.summary(), "census:", census)
    assert report.server_errors == 0
    assert not report.gave_up, report.gave_up  # every failed delivery was retried and landed
    assert census.missing == []  # no event lost
    assert census.exactly_once, census  # none drafted twice
    # A draft may be shown again if its worker died after posting it and before recording the
    # delivery (the retry finds the draft by its id and shows it): at most the work in flight.
    assert census.expected <= census.dm_posts <= census.expected + 8
    # The supervisor restarts the killed worker.
    restarted = await workers.wait_ready(3, within_s=RESTART_BOUND_S)
    assert victim not in restarted
