"""Throughput of profiling and of verifier scoring (issue 3 acceptance: profiling >= 500 msg/s).

    HF_HUB_OFFLINE=1 python bench/profile_bench.py [--input ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--messages 20000] [--score 2000]

Prints, in one run: profile build throughput for N messages (spaCy tagger + our counting; model
load excluded and reported apart), incremental update throughput, verifier training time, and
verifier scoring throughput with the real sentence encoder next to one bare encoder pass over the
same texts (the unavoidable part) and their ratio. Data: Kummerfeld et al. (ACL 2019), CC-BY-4.0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.eval_cli import load_messages  # noqa: E402
from core.engines.embedding import HashingEmbedder, SentenceEmbedder  # noqa: E402
from core.engines.nlp import load_nlp  # noqa: E402
from core.evaluation import most_active_senders  # noqa: E402
from core.profiling import Profiler, ProfileSample  # noqa: E402
from core.profiling.background import background_texts  # noqa: E402
from core.verifier import StyleVerifier  # noqa: E402

DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "ubuntu-irc" / "messages.jsonl.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--score", type=int, default=2000)
    args = parser.parse_args()

    messages = load_messages(args.input).messages[: args.messages]
    by_id = {m.id: m for m in messages}
    samples = []
    for m in messages:
        parent = by_id.get(m.reply_to) if m.reply_to else None
        samples.append(
            ProfileSample(
                text=m.text,
                sent_at=m.sent_at,
                conversation=m.conversation,
                counterpart=parent.sender if parent else None,
                latency_s=(m.sent_at - parent.sent_at).total_seconds() if parent else None,
                is_reply=m.reply_to is not None,
            )
        )

    t = time.perf_counter()
    nlp = load_nlp()
    print(f"spaCy pipeline load: {time.perf_counter() - t:.1f} s (once per process, not counted)")
    profiler = Profiler(nlp_loader=lambda: nlp)
    profiler.build(samples[:200])  # warm-up
    t = time.perf_counter()
    profile = profiler.build(samples)
    build_s = time.perf_counter() - t
    print(
        f"profile build: {len(samples):,} messages in {build_s:.2f} s = "
        f"{len(samples) / build_s:,.0f} messages/s ({len(profile.features)} features)"
    )
    half = len(samples) // 2
    first = profiler.build(samples[:half])
    t = time.perf_counter()
    profiler.update(first, samples[half:])
    update_s = time.perf_counter() - t
    print(
        f"incremental update: {len(samples) - half:,} new messages in {update_s:.2f} s = "
        f"{(len(samples) - half) / update_s:,.0f} messages/s"
    )
    surface = Profiler(nlp_loader=lambda: None)
    t = time.perf_counter()
    surface.build(samples)
    print(
        f"  (surface features only, no spaCy: {len(samples) / (time.perf_counter() - t):,.0f} messages/s)"
    )

    me = most_active_senders(messages, 1)[0]
    owner = [m.text for m in messages if m.sender == me]
    others = [m.text for m in messages if m.sender != me][:4000] + background_texts()
    texts = [m.text for m in messages[-args.score :]]
    for name, embedder in (
        ("hashing", HashingEmbedder()),
        ("all-MiniLM-L6-v2", SentenceEmbedder()),
    ):
        embedder.encode(["warm up"])
        t = time.perf_counter()
        verifier = StyleVerifier.fit(owner, others, embedder=embedder)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        verifier.score(texts)
        score_s = time.perf_counter() - t
        t = time.perf_counter()
        embedder.encode(texts)
        encode_s = time.perf_counter() - t
        print(
            f"verifier [{name}]: {me}, trained on {len(owner)} + {verifier.background_messages:,} messages in "
            f"{fit_s:.1f} s; scores {len(texts):,} messages in {score_s:.2f} s = "
            f"{len(texts) / score_s:,.0f} messages/s; one encoder pass {encode_s:.2f} s "
            f"(scoring / encoder = {score_s / encode_s:.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
