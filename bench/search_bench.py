"""The similar-message search layer alone, at a size, for this checkout or another one.

    .venv/bin/python bench/search_bench.py [--sizes 100000] [--root DIR] [--queries 200]
        [--corpus ../shared/data/ubuntu-irc/messages.jsonl.gz] [--cache FILE]

Builds an exemplar index of unique pairs (real #ubuntu IRC texts, vectors from ``draft_bench.py``'s
embedding cache, jittered copies beyond the real ones, as that bench does) and times what a draft
asks of it: the most similar past messages (``nearest``, distinct replies, k=24) and the owner's
replies by fit (24). ``--root`` points at the tree of another git ref (``git archive REF core |
tar -x -C DIR``): its ``core/drafting`` is used instead of this one's, so old and new code run on
the same data in the same conditions. Prints p50/p99, the ratio to one encoder pass timed in the
same process, the search's CPU time (what load does not inflate as much), build time and the RSS
the pairs and index added per pair. Corpus: Kummerfeld et
al., ACL 2019, CC-BY-4.0.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import default_embedder, limit_blas_threads  # noqa: E402
from bot.eval_cli import load_messages  # noqa: E402
from bot.settings import load_settings  # noqa: E402


def rss_mb() -> float:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024


def jitter(vectors: np.ndarray, copy: int, scale: float = 0.012) -> np.ndarray:
    if copy == 0:
        return vectors
    noise = np.random.default_rng(copy).standard_normal(vectors.shape, dtype=np.float32)
    moved = vectors + scale * noise
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--root", type=Path, help="another ref's tree (its core/drafting)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("/tmp/draft_bench_messages.jsonl_56505_minilm-int8.npz"),
        help="draft_bench.py's embedding cache (run it once first)",
    )
    args = parser.parse_args()
    settings = load_settings(embedder="minilm", blas_threads=1)
    limit_blas_threads(1)
    embedder = default_embedder(settings)
    embedder.encode(["warm up"])
    if args.root is not None:  # the other ref's drafting code, on this one's engines
        import core

        for name in [m for m in sys.modules if m.startswith("core.drafting")]:
            del sys.modules[name]
        core.__path__.insert(0, str(args.root / "core"))
    from core.drafting.fit import ReplyFit, global_weights
    from core.drafting.retrieval import ExemplarIndex, tokens
    from core.models import ReplyPair

    texts = [m.text for m in load_messages(args.corpus).messages if m.text.strip()]
    with np.load(args.cache) as saved:
        incoming, replies = saved["incoming"], saved["reply"]
    base = len(incoming) - args.queries
    queries, query_texts = incoming[base:], texts[-args.queries :]
    fit = ReplyFit.unadapted(global_weights())
    at = datetime(2026, 1, 1, tzinfo=UTC)
    encoder = []
    for text in query_texts:
        t0 = time.perf_counter()
        embedder.encode([text])
        encoder.append(time.perf_counter() - t0)
    e50 = float(np.median(encoder)) * 1000
    for size in args.sizes:
        copies = -(-size // base)
        vectors = np.concatenate([jitter(incoming[:base], c) for c in range(copies)])[:size]
        reply_vectors = np.concatenate([jitter(replies[:base], c) for c in range(copies)])[:size]

        def stream(size: int = size) -> Iterator[ReplyPair]:
            for k in range(size):
                copy, i = divmod(k, base)
                yield ReplyPair(
                    persona_id="bench",
                    incoming_id=f"in-{k}",
                    incoming_text=f"{texts[i % len(texts)]} [{copy}]",
                    incoming_sender="x",
                    reply_id=f"re-{k}",
                    reply_text=f"{texts[(7 * i + 1) % len(texts)]} [{copy}] {k}",
                    replied_at=at,
                )

        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        items = list(stream())  # the old index keeps the objects; the new one streams them
        index = ExemplarIndex.build(items, vectors, reply_vectors=reply_vectors)
        del items
        if hasattr(index, "wait"):
            index.wait()
        build_s = time.perf_counter() - started
        new = hasattr(index, "by_fit")

        def search(query: np.ndarray, text: str, index: ExemplarIndex = index) -> None:
            index.nearest(query, tokens(text), k=24, distinct=True)
            if hasattr(index, "by_fit"):
                index.by_fit(fit, query, 24)
            else:  # the old code's direct search by fit
                matrix = index.replies()[1]
                codes = index.codes(fit.weights) if len(matrix) > 20_000 else None
                fit.search(query, matrix, 24, codes)

        search(queries[0], query_texts[0])
        gc.collect()
        added = (rss_mb() - before) * 1024 * 1024 / size / 1000
        del vectors, reply_vectors
        latencies, cpu = [], []
        for query, text in zip(queries, query_texts, strict=True):
            t0, c0 = time.perf_counter(), time.thread_time()
            search(query, text)
            latencies.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        p50, p99 = (float(np.percentile(latencies, q)) * 1000 for q in (50, 99))
        c50 = float(np.median(cpu)) * 1000
        print(
            f"{'new' if new else 'old'} code, {size:,} pairs: built in {build_s:.0f} s; search "
            f"p50 {p50:.2f} ms p99 {p99:.2f} ms (CPU time p50 {c50:.2f} ms: steadier under load); "
            f"one encoder pass p50 {e50:.2f} ms (search "
            f"{p50 / e50:.2f}x); pairs + index {added:.2f} KB/pair",
            flush=True,
        )
        del index, search


if __name__ == "__main__":
    main()
