"""Scale-out benchmark: events/s and ack latency for 1, 2 and 3 workers on one PostgreSQL.

For each worker count, in one run: a fresh schema on the local server, owners trained with the
sample persona, ``minime run --workers N`` (SO_REUSEPORT on one loopback port; N=1 is a plain
``minime run``), a local fake Slack Web API, and the load generator replaying ``--events`` signed
``message.im`` events of which 20% are retries of earlier ones (``X-Slack-Retry-Num``), with
``--concurrency`` in flight; failed deliveries are retried as Slack does. Workers run with the
hashing embedder (``MINIME_EMBEDDER=hashing``) and ``MINIME_SLACK__ACK_WAIT_S=2.0``, so the ack
covers the drafting and the latency measured is the work's (as when the figures in
docs/benchmarks.md were taken; a killed worker loses nothing either way: deliveries are stored
before the ack).

Then it counts the drafts in PostgreSQL: exactly one per distinct event is the pass mark. With
``--kill`` a fourth run kills -9 one of three workers a third of the way in.

    python bench/scale_bench.py [--events 2000] [--concurrency 8] [--workers 1,2,3] [--kill]

Loopback only; every run stops by itself (``--deadline`` seconds of load at most).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.scale.cluster import count_drafts, draft_census, local_cluster, plan, replay

OWNERS = 10


async def one_run(workers: int, args: argparse.Namespace, *, kill: bool) -> dict[str, object]:
    started = time.perf_counter()
    ack_wait = {"MINIME_SLACK__ACK_WAIT_S": "2.0"}
    async with local_cluster(workers, owners=OWNERS, env=ack_wait) as opened:
        cluster, fake, schema, accounts, _ = opened
        ready_s = time.perf_counter() - started
        # Warm-up (not measured): every worker builds each owner's model on first use.
        warm = plan(OWNERS * workers * 3, owners=OWNERS, retry_share=0, first=900_000)
        await replay(cluster.url, warm, concurrency=4, deadline_s=300)
        before = await count_drafts(schema)
        fake.calls.clear()  # the DM posts counted are the measured run's
        deliveries = plan(args.events, owners=OWNERS)
        victim = sorted(cluster.live_pids())[-1] if kill else None

        def progress(sent: int) -> None:
            if victim is not None and sent == len(deliveries) // 3:
                os.kill(victim, signal.SIGKILL)

        report = await replay(
            cluster.url,
            deliveries,
            concurrency=args.concurrency,
            on_progress=progress,
            deadline_s=args.deadline,
        )
        census = await draft_census(schema, accounts, deliveries, fake, before=before)
    row: dict[str, object] = {"workers": workers, "kill": kill, "ready_s": round(ready_s, 1)}
    row.update(report.summary())
    row.update(
        {
            "distinct_events": census.expected,
            "drafts": census.total_drafts,
            "missing": len(census.missing),
            "dm_posts": census.dm_posts,
            "exactly_once": census.exactly_once,
        }
    )
    return row


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--kill", action="store_true", help="also a 3-worker run with a kill -9")
    parser.add_argument("--deadline", type=float, default=600.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for n in (int(x) for x in args.workers.split(",")):
        rows.append(await one_run(n, args, kill=False))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if args.kill:
        rows.append(await one_run(3, args, kill=True))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    base = next((r for r in rows if r["workers"] == 1 and not r["kill"]), rows[0])
    if args.json:
        print(json.dumps(rows))
        return
    print(
        f"\n{args.events} signed Slack events (20% retries), {args.concurrency} in flight, "
        f"{os.cpu_count()} CPUs (shared), hashing embedder, PostgreSQL on loopback"
    )
    print(
        f"{'workers':>7} {'kill':>5} {'events/s':>9} {'vs 1':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'5xx':>4} {'retried':>7} {'drafts':>7} {'distinct':>8} {'once':>5}"
    )
    for r in rows:
        ratio = float(r["events_per_s"]) / float(base["events_per_s"] or 1)  # type: ignore[arg-type]
        print(
            f"{r['workers']:>7} {('yes' if r['kill'] else 'no'):>5} {r['events_per_s']:>9} "
            f"{ratio:>6.2f} {r['p50_ack_ms']:>8} {r['p99_ack_ms']:>8} {r['5xx']:>4} "
            f"{r['slack_retries_after_failure']:>7} {r['drafts']:>7} {r['distinct_events']:>8} "
            f"{r['exactly_once']!s:>5}"
        )


if __name__ == "__main__":
    asyncio.run(main())
