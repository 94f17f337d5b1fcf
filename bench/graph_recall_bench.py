"""Recall@10 of one HNSW graph against exact search, by graph setting, on near-duplicates.

    .venv/bin/python bench/graph_recall_bench.py [--size 100000] [--copies 18]
        [--connectivity 16] [--expansion-add 128] [--walks 256 512 1024]
        [--cache /tmp/draft_bench_messages.jsonl_56505_minilm-int8.npz]

The hard case of the similar-message search: ``--copies`` jittered copies (Gaussian noise,
renormalised, cosine ~0.97 to the original, as ``draft_bench.py`` makes them) of each of
``size / copies`` real #ubuntu message embeddings (``draft_bench.py``'s cache; run it once first),
so each query's ten nearest rows are mostly copies of one message. Builds one int8 graph as
:class:`core.drafting.vectors.ExemplarVectors` does (one scale per row, cosine) with the settings
given, then for each walk width searches 200 queries (real messages picked at random), re-scores
the candidates against the int8 rows with the float32 query, and prints recall@10 against the
exact float32 scan and against the exact scan of the int8 rows (the bound re-scoring can reach),
with the search time (wall and CPU: the CPU time moves less with the load). Corpus: Kummerfeld et al., ACL 2019, CC-BY-4.0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.draft_bench import jitter  # noqa: E402
from core.drafting.vectors import RESCORE, quantize  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=18, help="18: the 1M bench's density")
    parser.add_argument("--connectivity", type=int, default=16)
    parser.add_argument("--expansion-add", type=int, default=128)
    parser.add_argument("--walks", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--threads", type=int, default=2, help="threads the graph builds with")
    parser.add_argument(
        "--cache", type=Path, default=Path("/tmp/draft_bench_messages.jsonl_56505_minilm-int8.npz")
    )
    args = parser.parse_args()
    from usearch.index import Index

    with np.load(args.cache) as saved:
        incoming = saved["incoming"]
    real = -(-args.size // args.copies)
    rows = np.concatenate([jitter(incoming[:real], c) for c in range(args.copies)])[: args.size]
    queries = incoming[np.random.default_rng(1).choice(len(incoming), 200, replace=False)]
    codes, scales = quantize(rows)
    restored = codes.astype(np.float32) * scales[:, None]
    exact = [set(np.argsort(-(rows @ q))[:10].tolist()) for q in queries]
    exact8 = [set(np.argsort(-(restored @ q))[:10].tolist()) for q in queries]
    bound = sum(len(a & b) for a, b in zip(exact, exact8, strict=True)) / (10 * len(queries))
    del restored
    graph = Index(
        ndim=rows.shape[1],
        metric="cos",
        dtype="i8",
        connectivity=args.connectivity,
        expansion_add=args.expansion_add,
    )
    started = time.perf_counter()
    graph.add(np.arange(len(rows), dtype=np.uint64), codes, threads=args.threads)
    print(
        f"{args.size:,} rows ({args.copies} copies of each of {real:,} messages), connectivity "
        f"{args.connectivity}, walk when adding {args.expansion_add}: built in "
        f"{time.perf_counter() - started:.0f} s, {graph.serialized_length / args.size:.0f} bytes "
        f"per row; exact int8 scan recall@10 {bound:.3f}",
        flush=True,
    )
    for walk in args.walks:
        graph.expansion_search = walk
        hits = hits8 = 0
        times, cpu = [], []
        for query, wanted, wanted8 in zip(queries, exact, exact8, strict=True):
            t0, c0 = time.perf_counter(), time.thread_time()
            code, _ = quantize(query.reshape(1, -1))
            keys = np.asarray(graph.search(code[0], RESCORE, threads=1).keys, dtype=np.int64)
            stored = graph.get(keys.astype(np.uint64), dtype="i8")
            assert isinstance(stored, tuple)
            cosine = (np.stack(stored).astype(np.float32) * scales[keys][:, None]) @ query
            top = set(keys[np.argsort(-cosine, kind="stable")[:10]].tolist())
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            hits += len(wanted & top)
            hits8 += len(wanted8 & top)
        n = 10 * len(queries)
        print(
            f"  walking {walk}: recall@10 {hits / n:.3f} against float32, {hits8 / n:.3f} "
            f"against the int8 scan; search p50 {np.median(times) * 1000:.2f} ms "
            f"p99 {np.percentile(times, 99) * 1000:.2f} ms (CPU time p50 {np.median(cpu) * 1000:.2f} ms)",
            flush=True,
        )


if __name__ == "__main__":
    main()
