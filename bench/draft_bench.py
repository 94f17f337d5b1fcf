"""Draft latency of the retrieval engine with 1k to 1M pairs in the index, next to the encoder.

    .venv/bin/python bench/draft_bench.py [--corpus ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--me actionparsnip] [--sizes 1000 10000 100000] [--drafts 200] [--unique 0]
        [--embedder minilm|minilm-torch] [--blas-threads 1] [--build-threads 0] [--naive]
        [--profile 40]
    .venv/bin/python bench/draft_bench.py --sizes 1000000      # the 1M-pair mode (~9 GB peak)

What one draft costs once the persona is in memory (``Clone.drafts`` without the LLM): one encoder
pass on the incoming text, the similar-message search (exact float32 below 20k pairs; above, an
int8 HNSW graph whose candidates are re-scored exactly), word-index candidates, direct search by
reply fit over all distinct replies (a matrix-vector product, or the reply graph above 20k), the
fit model on the ~60 candidates, and the persona's trained StyleVerifier scoring the best 8 with
their reply embeddings already known (``--naive``: the retrieval engine without fit) — all in one
``asyncio.to_thread`` hop, as the service runs it. Printed next to the yardstick: one encoder pass
on the same incoming texts, timed on its own before the drafts (not interleaved with them, so it
is not measured under the drafts' BLAS contention), in the same run (goal: draft p50 under 2x one
encoder pass at 10k and 100k, 4x at 1M). numpy's BLAS is capped as the bot caps it
(``--blas-threads``, default 1). Wall times on a shared machine move 2-4x with its load, so each
size also prints the CPU time of the drafting thread (``time.thread_time()`` inside the thread)
against the encoder pass's CPU time, and against the CPU time of the encoder pass inside the draft
(the same pass, under the very same load: the steadiest yardstick here); ``--profile N`` profiles the drafts once more inside the
drafting thread (a profiler of the main thread sees none of it) and prints the top N functions.
The replies' traits (act, intent, surface features: ``core/drafting/traits.py``) are computed with
the graphs, and the style column by ``ExemplarIndex.follow_style`` as the persona model does.

Every pair in the index is unique: the corpus's real (message → reply) pairs (``--unique`` caps
them) are embedded once and cached; beyond them each further copy gets its texts tagged with the
copy's number (``text [k]``) and its vectors jittered (Gaussian noise, renormalised, cosine ~0.97
to the original), so no structure can share rows, texts or vectors between copies, direct search
by fit runs over all distinct replies (the worst case) and the memory figures are honest. The
pairs stream into the index (no list of them is kept), and each size prints: the build time (the
columns and word index, then the graphs, which the service builds in the background while
searching exactly), recall@10 of both searches against the exact float32 search on the drafts'
queries, and the process's resident memory with what the pairs and index added per pair (RSS) next
to what the index itself counts (``ExemplarIndex.nbytes``). Corpus: #ubuntu IRC disentanglement
data (Kummerfeld et al., ACL 2019, CC-BY-4.0).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import default_embedder, limit_blas_threads  # noqa: E402
from bot.eval_cli import load_messages  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from core.drafting.fit import OwnerPair, ReplyFit  # noqa: E402
from core.drafting.retrieval import ExemplarIndex, RetrievalDrafter, tokens  # noqa: E402
from core.drafting.style import KnownVectors, train_style  # noqa: E402
from core.models import Message, ReplyPair  # noqa: E402
from core.profiling.background import background_texts  # noqa: E402
from core.verifier import StyleVerifier  # noqa: E402


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def jitter(vectors: np.ndarray, copy: int, scale: float = 0.012) -> np.ndarray:
    """The vectors of copy number ``copy``: copy 0 as embedded, later ones perturbed and renormalised."""
    if copy == 0:
        return vectors
    noise = np.random.default_rng(copy).standard_normal(vectors.shape, dtype=np.float32)
    moved = vectors + scale * noise
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
    )
    parser.add_argument("--me", default="actionparsnip")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1_000, 10_000, 100_000],
        help="1000000: the 1M-pair mode (~9 GB peak while building)",
    )
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument(
        "--unique", type=int, default=0, help="real pairs to embed (0: all the corpus has)"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=Path("/tmp"), help="where corpus embeddings are kept"
    )
    parser.add_argument(
        "--others", type=int, default=1000, help="other writers' texts for the verifier"
    )
    parser.add_argument("--naive", action="store_true", help="naive retrieval, without fit")
    parser.add_argument("--embedder", choices=["minilm", "minilm-torch"], default="minilm")
    parser.add_argument("--blas-threads", type=int, default=1, help="0: the library's default")
    parser.add_argument(
        "--build-threads", type=int, default=0, help="threads the graphs build with (0: all)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        help="after the timed drafts, profile them again inside the drafting thread and print "
        "this many functions by cumulative time",
    )
    args = parser.parse_args()
    rng = random.Random(7)
    settings = load_settings(embedder=args.embedder, blas_threads=args.blas_threads)
    limit_blas_threads(settings.blas_threads)

    messages = load_messages(args.corpus).messages
    by_id = {m.id: m for m in messages}
    real = [
        (by_id[m.reply_to], m)
        for m in messages
        if m.reply_to in by_id and m.text.strip() and by_id[m.reply_to].text.strip()
    ]
    rng.shuffle(real)
    real = real[: args.unique or None]
    embedder = default_embedder(settings)
    embedder.encode(["warm up"])
    started = time.perf_counter()
    tag = f"{settings.embedder}-{settings.embedder_precision}"
    cache = args.cache_dir / f"draft_bench_{args.corpus.stem}_{len(real)}_{tag}.npz"
    if cache.exists():
        with np.load(cache) as saved:
            incoming_vecs, reply_vecs = saved["incoming"], saved["reply"]
        print(f"corpus embeddings of {2 * len(real)} texts read from {cache}")
    else:
        incoming_vecs = embedder.encode([p.text for p, _ in real])
        reply_vecs = embedder.encode([r.text for _, r in real])
        np.savez(cache, incoming=incoming_vecs, reply=reply_vecs)
        print(f"embedded {2 * len(real)} corpus texts in {time.perf_counter() - started:.0f} s")

    owner = [m.text for m in messages if m.sender == args.me and m.text.strip()]
    others = [m.text for m in messages if m.sender != args.me and m.text.strip()]
    known = {r.text: v for (_, r), v in zip(real, reply_vecs, strict=True)}
    encoder = KnownVectors(embedder, known)
    started = time.perf_counter()
    verifier = train_style(
        owner, rng.sample(others, args.others), background_texts(), embedder=encoder
    )
    print(
        f"verifier ({type(verifier).__name__}, {len(owner)} owner texts) trained in "
        f"{time.perf_counter() - started:.0f} s"
    )

    started = time.perf_counter()
    fit = ReplyFit.adapt(
        [OwnerPair(p.text, r.text, r.sent_at) for p, r in real], incoming_vecs, reply_vecs
    )
    print(
        f"fit model adapted to {len(real)} pairs in {time.perf_counter() - started:.1f} s "
        f"(held-out AUC {fit.stats.get('auc') or 0:.2f}, gate {fit.threshold:.2f})"
    )

    pool = [m for m in messages if m.sender != args.me and len(m.text) > 10]
    incoming = [m for m in rng.sample(pool, args.drafts)]
    drafter = RetrievalDrafter()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    # The yardstick: one encoder pass per incoming text, timed alone (nothing else running).
    await asyncio.to_thread(embedder.encode, ["warm up"])
    encoder_pass, encoder_cpu = [], []
    for message in incoming:
        t0, c0 = time.perf_counter(), time.thread_time()
        embedder.encode([message.text])
        encoder_cpu.append(time.thread_time() - c0)
        encoder_pass.append(time.perf_counter() - t0)
    e50, e99 = pct(encoder_pass, 0.5) * 1000, pct(encoder_pass, 0.99) * 1000
    ec50, ec99 = pct(encoder_cpu, 0.5) * 1000, pct(encoder_cpu, 0.99) * 1000
    print(
        f"one encoder pass ({tag}), alone: p50 {e50:.1f} ms p99 {e99:.1f} ms "
        f"(CPU of the calling thread: p50 {ec50:.1f} ms p99 {ec99:.1f} ms)"
    )
    for size in args.sizes:
        gc.collect()
        rss_before, _ = rss_mb()
        reps = -(-size // len(real))

        def stream(size: int = size, reps: int = reps) -> Iterator[ReplyPair]:
            made = 0
            for k in range(reps):
                for p, r in real:
                    if made == size:
                        return
                    made += 1
                    yield ReplyPair(
                        persona_id="bench",
                        incoming_id=f"in-{k}-{p.id}",
                        incoming_text=p.text if k == 0 else f"{p.text} [{k}]",
                        incoming_sender=p.sender,
                        reply_id=f"re-{k}-{r.id}",
                        reply_text=r.text if k == 0 else f"{r.text} [{k}]",  # all rows distinct
                        replied_at=at,
                    )

        def made(size: int = size, reps: int = reps) -> tuple[np.ndarray, np.ndarray]:
            return (
                np.concatenate([jitter(incoming_vecs, k) for k in range(reps)])[:size],
                np.concatenate([jitter(reply_vecs, k) for k in range(reps)])[:size],
            )

        vectors, replies = made()
        started = time.perf_counter()
        index = ExemplarIndex.build(
            stream(), vectors, reply_vectors=replies, threads=args.build_threads
        )
        build_s = time.perf_counter() - started
        index.wait()  # the graphs (the service searches exactly while they build)
        graph_s = time.perf_counter() - started - build_s
        queries = embedder.encode([m.text for m in incoming])
        recall = recall_at_10(index, fit, queries, vectors, replies)
        del vectors, replies
        gc.collect()
        rss_after, peak = rss_mb()
        # As the persona model does: the verifier reads the index's reply vectors, known.
        known_here = KnownVectors(embedder, index.reply_vectors)
        scorer = StyleVerifier.from_bytes(verifier.to_bytes(), embedder=known_here)
        traits_s = index.traits.seconds  # the replies' acts, intents, surface (with the graphs)
        started = time.perf_counter()
        index.follow_style(scorer)  # as the persona model does when its verifier swaps in
        style_s = time.perf_counter() - started

        def draft(
            text: str,
            sender: str,
            index: ExemplarIndex = index,
            scorer: StyleVerifier = scorer,
            known_here: KnownVectors = known_here,
        ) -> tuple[int, float, float]:
            """The number of options, the CPU time of the drafting thread and of the encoder
            pass within it (in the thread: wall times on a shared machine move with load; the
            pass inside the draft is the yardstick measured under the very same load)."""
            started = time.thread_time()
            query = embedder.encode([text])[0]
            encoded = time.thread_time() - started
            if args.naive:
                found = drafter.draft(index, text=text, sender=sender, query=query, style=scorer)
                return len(found), time.thread_time() - started, encoded
            result = drafter.draft_fitted(
                index, text=text, sender=sender, query=query, fit=fit, style=scorer,
                encode=known_here.encode,
            )  # fmt: skip
            return len(result.options), time.thread_time() - started, encoded

        await asyncio.to_thread(draft, "warm up", "x")
        latencies, options, cpu, inner, paired = [], [], [], [], []
        for message in incoming:
            t0 = time.perf_counter()
            count, spent, encoded = await asyncio.to_thread(draft, message.text, message.sender)
            latencies.append(time.perf_counter() - t0)
            options.append(count)
            cpu.append(spent)
            inner.append(encoded)
            paired.append(spent / max(encoded, 1e-6))
        p50, p99 = pct(latencies, 0.5) * 1000, pct(latencies, 0.99) * 1000
        c50, c99 = pct(cpu, 0.5) * 1000, pct(cpu, 0.99) * 1000
        i50 = pct(inner, 0.5) * 1000
        again = []  # the yardstick once more, after the drafts: how much the load moved
        for message in incoming:
            t0 = time.perf_counter()
            embedder.encode([message.text])
            again.append(time.perf_counter() - t0)
        a50, a99 = pct(again, 0.5) * 1000, pct(again, 0.99) * 1000
        searches = []  # the search layer alone: similar messages, then replies by fit
        for message, query in zip(incoming, queries, strict=True):
            t0 = time.perf_counter()
            index.nearest(query, tokens(message.text), k=24, distinct=True)
            index.by_fit(fit, query, 24)
            searches.append(time.perf_counter() - t0)
        s50, s99 = pct(searches, 0.5) * 1000, pct(searches, 0.99) * 1000
        per_pair = (rss_after - rss_before) * 1024 * 1024 / size / 1000
        search = "HNSW int8" if index.vectors.approximate else "exact float32"
        print(
            f"{size:>9,} unique pairs ({search}; built in {build_s:.1f} s + graphs and "
            f"replies' traits {graph_s:.1f} s (traits {traits_s:.1f} s, style column "
            f"{style_s:.1f} s); recall@10 similar {recall[0]:.3f}, by fit {recall[1]:.3f}): "
            f"draft p50 {p50:.1f} ms p99 {p99:.1f} ms | ratio to one encoder pass p50 "
            f"{p50 / e50:.2f}x p99 {p99 / e99:.2f}x (encoder again after the drafts: p50 "
            f"{a50:.1f} ms p99 {a99:.1f} ms, ratios {p50 / a50:.2f}x / {p99 / a99:.2f}x) | "
            f"CPU of the drafting thread p50 {c50:.1f} ms p99 {c99:.1f} ms, ratio to the "
            f"encoder's CPU p50 {c50 / ec50:.2f}x p99 {c99 / ec99:.2f}x; to the CPU of the "
            f"draft's own encoder pass (p50 {i50:.1f} ms) p50 {c50 / i50:.2f}x p99 "
            f"{c99 / i50:.2f}x, per draft p50 {pct(paired, 0.5):.2f}x p99 "
            f"{pct(paired, 0.99):.2f}x | "
            f"{np.mean(options):.1f} options | search alone p50 {s50:.1f} ms p99 {s99:.1f} ms | "
            f"RSS {rss_after:.0f} MB (peak {peak:.0f}), pairs + index {per_pair:.2f} KB/pair "
            f"(counted {index.nbytes / size / 1000:.2f} KB/pair)",
            flush=True,
        )
        if args.profile:
            await profile(draft, incoming, args.profile)
        if index.vectors.approximate:
            restart(index, stream, made, queries)
        del index, draft, scorer, known_here


async def profile(
    draft: Callable[[str, str], tuple[int, float]], incoming: list[Message], top: int
) -> None:
    """cProfile of the drafts, enabled inside the drafting thread (``asyncio.to_thread`` runs
    the draft elsewhere: a profiler of the main thread sees none of it)."""
    profiler = cProfile.Profile()

    def profiled(text: str, sender: str) -> None:
        profiler.enable()
        try:
            draft(text, sender)
        finally:
            profiler.disable()

    for message in incoming:
        await asyncio.to_thread(profiled, message.text, message.sender)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue(), flush=True)


def restart(
    index: ExemplarIndex,
    stream: Callable[[], Iterator[ReplyPair]],
    made: Callable[[], tuple[np.ndarray, np.ndarray]],
    queries: np.ndarray,
) -> None:
    """What a restart costs with the graphs saved: save them, build the index again from the
    same pairs with them (as the service does after a restart), check it answers the same."""
    started = time.perf_counter()
    saved = {name: index.graph_to_save(name) for name in ExemplarIndex.GRAPHS}
    save_s = time.perf_counter() - started
    blobs = {name: blob for name, blob in saved.items() if blob is not None}
    expected = [index.vectors.search(q, 10) for q in queries]
    by_fit = [index.reply_vectors.store.search(q, 10) for q in queries]
    del saved
    gc.collect()
    vectors, replies = made()
    started = time.perf_counter()
    again = ExemplarIndex.build(stream(), vectors, reply_vectors=replies, saved=blobs)
    build_s = time.perf_counter() - started
    again.wait()
    read_s = time.perf_counter() - started - build_s
    restored = again.vectors.restored and again.reply_vectors.store.restored
    same = [again.vectors.search(q, 10) for q in queries] == expected and [
        again.reply_vectors.store.search(q, 10) for q in queries
    ] == by_fit
    print(
        f"    restart with saved graphs: saved in {save_s:.1f} s "
        f"({sum(len(b) for b in blobs.values()) / 1e6:.0f} MB for both); built again: columns "
        f"{build_s:.1f} s, graphs read back in the background meanwhile in "
        f"{again.vectors.build_seconds or 0:.1f} + {again.reply_vectors.store.build_seconds or 0:.1f} s, "
        f"in use {build_s + read_s:.1f} s after the start (both restored: {restored}; "
        f"same results on {len(queries)} queries: {same})",
        flush=True,
    )


def recall_at_10(
    index: ExemplarIndex,
    fit: ReplyFit,
    queries: np.ndarray,
    vectors: np.ndarray,
    replies: np.ndarray,
) -> tuple[float, float]:
    """recall@10 of the index's similar-message search and search by fit against exact float32
    scans over the vectors the index was built from (search by fit: distinct reply texts)."""
    similar = by_fit = 0
    for query in queries:
        exact = set(np.argsort(-(vectors @ query))[:10].tolist())
        similar += len(exact & {row for row, _ in index.vectors.search(query, 10)})
        direction = fit.weights.query(query)
        ranked = [index.pairs.reply_text(int(r)) for r in np.argsort(-(replies @ direction))[:40]]
        wanted = set(list(dict.fromkeys(ranked))[:10])  # distinct replies, as by_fit returns
        found = {index.pairs.reply_text(p) for p in index.by_fit(fit, query, 10)}
        by_fit += len(wanted & found)
    return similar / (10 * len(queries)), by_fit / (10 * len(queries))


if __name__ == "__main__":
    asyncio.run(main())
