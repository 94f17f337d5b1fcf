"""Walking-skeleton benchmark: import throughput and draft latency, each next to the encoder.

    .venv/bin/python bench/skeleton_bench.py [--corpus ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--me actionparsnip] [--drafts 200] [--encoder-sample 3000]

Prints, in one run on a fresh SQLite data dir:
- import messages/s for the whole corpus (parse + validate + encrypt + store + embed the owner's
  exemplars), raw encoder throughput on texts of the same corpus, and their ratio;
- draft latency p50/p99 for ``--drafts`` incoming messages with the corpus loaded (retrieval engine,
  one encoder pass each), and one encoder pass on the same texts for comparison.
Corpus: #ubuntu IRC disentanglement data (Kummerfeld et al., ACL 2019, CC-BY-4.0).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import open_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from core.engines.embedding import SentenceEmbedder  # noqa: E402
from core.models import Message, UserRef  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def corpus_rows(path: Path) -> list[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
    )
    parser.add_argument("--me", default="actionparsnip")
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--encoder-sample", type=int, default=3000)
    args = parser.parse_args()

    rows = corpus_rows(args.corpus)
    rng = random.Random(7)
    embedder = SentenceEmbedder()
    embedder.encode(["warm up"])  # model load is not part of either figure

    sample = [str(r["text"]) for r in rng.sample(rows, min(args.encoder_sample, len(rows)))]
    started = time.perf_counter()
    embedder.encode(sample)
    encoder_rate = len(sample) / (time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({}, data_dir=Path(tmp))
        async with open_runtime(settings, embedder=embedder) as runtime:
            user = UserRef(platform="local", user_id="bench")
            started = time.perf_counter()
            summary = await runtime.clone.import_file(user, args.corpus, me=args.me)
            import_s = time.perf_counter() - started
            import_rate = summary.messages / import_s

            account = await runtime.clone.account(user)
            persona = await runtime.clone.active_persona(account)
            candidates = [r for r in rows if r["sender"] != args.me and len(str(r["text"])) > 10]
            incoming = [
                Message(
                    id=f"bench-{i}",
                    conversation=str(r["conversation"]),
                    thread=None,
                    sender=str(r["sender"]),
                    text=str(r["text"]),
                    sent_at=summary.last or summary.first,  # type: ignore[arg-type]
                )
                for i, r in enumerate(rng.sample(candidates, args.drafts))
            ]
            await runtime.clone.draft_options(account, persona, incoming[0])  # index in memory
            latencies, encoder_pass = [], []
            for message in incoming:
                started = time.perf_counter()
                await runtime.clone.draft_options(account, persona, message)
                latencies.append(time.perf_counter() - started)
            for message in incoming:
                started = time.perf_counter()
                embedder.encode([message.text])
                encoder_pass.append(time.perf_counter() - started)

    print(
        f"corpus: {args.corpus.name}: {summary.messages} messages, owner {args.me}: "
        f"{summary.owner_messages} messages, {summary.owner_replies} replies"
    )
    print(f"import: {import_s:.1f} s, {import_rate:,.0f} messages/s")
    print(
        f"encoder (batch 64, 1 thread) on {len(sample)} corpus texts: {encoder_rate:,.0f} messages/s"
    )
    print(f"import / encoder throughput: {import_rate / encoder_rate:.1f}x")
    p50, p99 = pct(latencies, 0.5) * 1000, pct(latencies, 0.99) * 1000
    e50, e99 = pct(encoder_pass, 0.5) * 1000, pct(encoder_pass, 0.99) * 1000
    print(f"draft latency over {len(latencies)} messages: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"one encoder pass on the same texts: p50 {e50:.1f} ms, p99 {e99:.1f} ms")
    print(f"draft / encoder pass: p50 {p50 / e50:.2f}x, p99 {p99 / e99:.2f}x")
    print(f"mean draft {statistics.mean(latencies) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
