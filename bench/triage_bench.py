"""Triage throughput on 10k real messages, with and without the semantic feature, against the encoder.

One owner (the corpus's most active human, ``actionparsnip``) is trained on the history before the
last ``--n`` messages from others; those messages are then triaged:

* heuristic (``HeuristicPrioritiser``), learned without embeddings, learned with semantic
  closeness (``Prioritiser.prioritise_many``: one batched encoder call, then scoring);
* the encoder alone on the same texts (all-MiniLM-L6-v2, same threads and batch size), so the
  semantic run can be read as a ratio to its unavoidable part. The two are timed chunk by
  chunk, interleaved, so both see the same load from other processes.

    python bench/triage_bench.py [--n 10000] [--threads 2] [--no-encoder]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.priority_eval import DEFAULT_DATA, load_messages
from core.models import StoredMessage, UserRef
from core.prioritising import HeuristicPrioritiser, OwnerContext
from core.prioritising.learned import Prioritiser, to_incoming
from core.prioritising.prior import load_global_prior


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} msg/s  ({seconds:.2f} s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", "--data", dest="data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--owner", default="actionparsnip")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-encoder", action="store_true", help="skip the embedding runs")
    parser.add_argument("--chunk", type=int, default=500, help="messages per interleaved chunk")
    args = parser.parse_args(argv)

    messages = load_messages(args.data)
    owner = args.owner.lower()
    others = [i for i, m in enumerate(messages) if m.sender.lower() != owner]
    first = others[-args.n]
    history = [
        StoredMessage(message=m, persona_id="bench", from_owner=m.sender.lower() == owner)
        for m in messages[:first]
    ]
    user = UserRef(platform="bench", user_id=owner)
    batch = [to_incoming(messages[i], user) for i in others[-args.n :]]
    texts = [m.message.text for m in batch]
    print(f"owner {owner}: {len(history)} history messages, triaging {len(batch)}")

    ctx = OwnerContext(owner_names=[owner])
    start = time.perf_counter()
    learned = Prioritiser(prior=load_global_prior())
    labels = learned.learn_from_history(history, ctx)
    print(f"learn from history ({labels} labels): {time.perf_counter() - start:.2f} s")

    heuristic = HeuristicPrioritiser()
    start, cpu_start = time.perf_counter(), time.process_time()
    for m in batch:
        heuristic.prioritise(m, ctx)
    print(
        f"heuristic                     {_rate(len(batch), time.perf_counter() - start)}"
        f"  CPU-time rate {len(batch) / (time.process_time() - cpu_start):,.0f} msg/s"
    )

    start, cpu_start = time.perf_counter(), time.process_time()
    for m in batch:
        learned.prioritise(m, ctx)
    print(
        f"learned, no embeddings        {_rate(len(batch), time.perf_counter() - start)}"
        f"  CPU-time rate {len(batch) / (time.process_time() - cpu_start):,.0f} msg/s"
    )

    if args.no_encoder:
        return 0
    from core.engines.embedding import SentenceEmbedder

    embedder = SentenceEmbedder(threads=args.threads)
    embedder.encode(["warm up"])  # load the model outside the timings
    semantic_ctx = OwnerContext(owner_names=[owner])
    semantic = Prioritiser(embedder=embedder, prior=load_global_prior())
    semantic.learn_from_history(history, semantic_ctx)

    # Interleave the two measurements chunk by chunk so that both see the same machine load
    # (other processes come and go); wall-clock and this process's CPU time are both reported.
    wall = {"semantic": 0.0, "encoder": 0.0}
    cpu = {"semantic": 0.0, "encoder": 0.0}
    for lo in range(0, len(batch), args.chunk):
        chunk = batch[lo : lo + args.chunk]
        w, c = time.perf_counter(), time.process_time()
        semantic.prioritise_many(chunk, semantic_ctx)
        wall["semantic"] += time.perf_counter() - w
        cpu["semantic"] += time.process_time() - c
        w, c = time.perf_counter(), time.process_time()
        embedder.encode(texts[lo : lo + args.chunk])
        wall["encoder"] += time.perf_counter() - w
        cpu["encoder"] += time.process_time() - c
    print(f"learned, semantic closeness   {_rate(len(batch), wall['semantic'])}")
    print(f"encoder alone (same texts)    {_rate(len(batch), wall['encoder'])}")
    print(
        f"semantic triage / encoder: wall {wall['semantic'] / wall['encoder']:.3f},"
        f" CPU {cpu['semantic'] / cpu['encoder']:.3f}"
    )
    print(
        f"triage rate / encoder rate: wall {wall['encoder'] / wall['semantic']:.3f},"
        f" CPU {cpu['encoder'] / cpu['semantic']:.3f} (must stay >= 0.8)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
