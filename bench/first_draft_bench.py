"""The first draft after a restart, with and without warm start, next to the tenth.

    .venv/bin/python bench/first_draft_bench.py [--embedder minilm|minilm-torch] [--drafts 10]

A data dir is trained once on the shipped sample persona (``train --sample``, the verifier
trained and stored). Then, for each mode, a fresh process opens it as ``minime chat`` does and:

- ``cold``: drafts at once (everything loads on the first draft: what a restart cost before);
- ``warm``: starts the warm start as ``minime chat`` does, waits for it (the process is ready
  meanwhile), then drafts.

Each prints the time to open the runtime, the warm-up time, the first draft and the median of
the next ``--drafts`` (goal: the first draft ≤ 2 s and as fast as the tenth), and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.bootstrap import open_runtime, warm_in_background  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from core.models import IncomingMessage, Message, UserRef, utc_now  # noqa: E402

OWNER = UserRef(platform="local", user_id="bench")
TEXTS = [
    "can you review my PR today?",
    "are you free for lunch tomorrow?",
    "could you update the launch checklist?",
    "did the deploy go out?",
    "can we move the sync to thursday?",
    "any news on the flaky billing test?",
    "could you look at the search filters?",
    "want to grab coffee later?",
    "is the staging db back up?",
    "can you send me the slides?",
    "who owns the on-call rota this week?",
]


def incoming(n: int, text: str) -> IncomingMessage:
    message = Message(
        id=f"bench-{n}",
        conversation="dm:priya",
        thread=None,
        sender="priya",
        text=text,
        sent_at=utc_now(),
    )
    return IncomingMessage(owner=OWNER, message=message, sender_name="priya", is_direct=True)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def train(data_dir: Path) -> None:
    async with open_runtime(load_settings(data_dir=data_dir)) as rt:
        await rt.clone.import_sample(OWNER)
        await rt.clone.settle()  # the style verifier is trained and stored


async def restart(data_dir: Path, mode: str, drafts: int) -> None:
    started = time.perf_counter()
    async with open_runtime(load_settings(data_dir=data_dir)) as rt:
        opened = time.perf_counter() - started
        warm_s = 0.0
        async with warm_in_background(rt, [OWNER] if mode == "warm" else []) as task:
            if mode == "warm":
                t0 = time.perf_counter()
                await task
                warm_s = time.perf_counter() - t0
            times = []
            for n, text in enumerate(TEXTS[: drafts + 1]):
                t0 = time.perf_counter()
                reply = await rt.clone.handle_incoming(incoming(n, text), explicit=True)
                times.append(time.perf_counter() - t0)
                assert reply is not None and reply.draft is not None
    rest = statistics.median(times[1:]) if len(times) > 1 else float("nan")
    print(
        f"{mode:<5} open {opened:5.2f} s | warm-up {warm_s:5.2f} s | first draft "
        f"{times[0]:6.3f} s | median of the next {len(times) - 1}: {rest:6.3f} s | "
        f"ratio {times[0] / rest:5.1f}x | peak RSS {peak_rss_mb():.0f} MB",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", choices=["minilm", "minilm-torch"], default="minilm")
    parser.add_argument("--drafts", type=int, default=10)
    parser.add_argument("--child", nargs=2, metavar=("DATA_DIR", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["MINIME_EMBEDDER"] = args.embedder
    if args.child:
        asyncio.run(restart(Path(args.child[0]), args.child[1], args.drafts))
        return 0
    with tempfile.TemporaryDirectory(prefix="minime-first-draft-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        t0 = time.perf_counter()
        asyncio.run(train(data_dir))
        print(
            f"trained on the sample persona in {time.perf_counter() - t0:.0f} s ({args.embedder})"
        )
        for mode in ("cold", "warm"):
            child = [sys.executable, __file__, "--embedder", args.embedder]
            child += ["--drafts", str(args.drafts), "--child", str(data_dir), mode]
            subprocess.run(child, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
