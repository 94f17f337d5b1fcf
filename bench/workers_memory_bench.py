"""Memory of ``minime run --workers 3`` against one worker, with the real encoder.

    .venv/bin/python bench/workers_memory_bench.py [--owners 2] [--drafts 4] [--modes fork,exec]

For one worker (a plain ``minime run``) and for three in each mode: a fresh schema on the local
PostgreSQL, owners trained on the sample persona, the Slack HTTP adapter against a local fake
Web API, the int8 ONNX encoder. Every worker then drafts (``--drafts`` signed DMs per owner per
worker, so each has loaded the encoder and each owner's models); once the tree's memory stops
growing (what loads lazily after the first drafts), the memory of the whole process tree is read
from ``/proc``:

- **RSS**: what ``ps`` shows per process, summed. It counts a page shared by several processes
  once in each, so it overstates a tree of forked workers;
- **PSS** (``smaps_rollup``): each shared page divided among the processes sharing it; the sum
  is what the tree costs the host.

Modes: ``fork`` (the default: the supervisor preloads the libraries, the encoder and the
models, ``bot/preload.py``, and forks the workers) and ``exec`` (``MINIME_WORKERS_FORK=false``: each
worker its own ``python -m bot run``, as before). The goal: three workers ≤ 1.5x one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


from bot.memory import TRIM_EVERY_S
from tests.scale.cluster import Cluster, _children, local_cluster, plan, replay


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (children of every thread)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += sorted(_children(pid))
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                values[key] = int(rest.split()[0])
    except OSError:
        return 0, 0
    return values.get("Rss", 0), values.get("Pss", 0)


async def _settle(root: int, *, every_s: float = 2.0, within_s: float = 120.0) -> None:
    """Until the tree's PSS stays within 1% for longer than a server's trimming period
    (``bot.memory.TRIM_EVERY_S``): what a worker loads lazily after its first drafts (the
    language detector's model, the style verifiers, the meters) lands seconds after the last
    answer, and a fixed wait caught a single worker anywhere between 255 and 349 MiB."""
    samples: list[int] = []
    window = int(TRIM_EVERY_S / every_s) + 2
    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(every_s)
        samples = [*samples, sum(_memory(pid)[1] for pid in _tree(root))][-window:]
        if len(samples) == window and max(samples) - min(samples) <= 0.01 * max(samples):
            return


def _name(pid: int, root: int) -> str:
    return "supervisor" if pid == root else "worker"


async def measure(workers: int, mode: str, args: argparse.Namespace) -> dict[str, object]:
    env = {"MINIME_EMBEDDER": "minilm", "MINIME_WORKERS_FORK": str(mode == "fork").lower()}
    async with local_cluster(workers, owners=args.owners, env=env) as (cluster, *_):
        deliveries = plan(args.owners * args.drafts * workers * 2, owners=args.owners,
                          retry_share=0, first=500_000)  # fmt: skip
        report = await replay(
            cluster.url, deliveries, concurrency=6, deadline_s=600, fresh_connections=True
        )
        assert isinstance(cluster, Cluster) and cluster.process is not None
        root = cluster.process.pid
        await _settle(root)
        rows = [
            (pid, _name(pid, root if workers > 1 else -1), *_memory(pid)) for pid in _tree(root)
        ]
        for pid, name, rss, pss in rows:
            print(f"    {mode:>4} x{workers} pid {pid:>7} {name:>16}: RSS {rss / 1024:6.0f} MiB"
                  f"  PSS {pss / 1024:6.0f} MiB")  # fmt: skip
        return {
            "workers": workers,
            "mode": mode,
            "rss_mib": sum(r[2] for r in rows) / 1024,
            "pss_mib": sum(r[3] for r in rows) / 1024,
            "drafted": report.summary(),
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--owners", type=int, default=2)
    parser.add_argument("--drafts", type=int, default=4, help="DMs per owner per worker")
    parser.add_argument("--modes", default="fork,exec")
    args = parser.parse_args()
    one = await measure(1, "exec", args)
    print(f"one worker: RSS {one['rss_mib']:.0f} MiB, PSS {one['pss_mib']:.0f} MiB", flush=True)
    rows = [one]
    for mode in args.modes.split(","):
        row = await measure(3, mode, args)
        rows.append(row)
        print(f"three workers ({mode}): RSS {row['rss_mib']:.0f} MiB, PSS "
              f"{row['pss_mib']:.0f} MiB", flush=True)  # fmt: skip
    print("\nprocess tree totals (goal: three workers ≤ 1.5x one worker)")
    for row in rows:
        print(
            f"{row['workers']} worker(s), {row['mode']:>4}: RSS {row['rss_mib']:6.0f} MiB "
            f"({float(row['rss_mib']) / float(one['rss_mib']):4.2f}x)  PSS "  # type: ignore[arg-type]
            f"{row['pss_mib']:6.0f} MiB ({float(row['pss_mib']) / float(one['pss_mib']):4.2f}x)"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    asyncio.run(main())
