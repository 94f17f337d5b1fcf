"""The exemplar vector store: exact below a size, an int8 HNSW graph with exact re-scoring above."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.drafting.vectors import ExemplarVectors, HashLookup, quantize

RECALL_FLOOR = 0.97
"""recall@10 of the graph against the exact float32 search on the clustered set below (measured
0.99-1.00); the issue's bar on real MiniLM vectors is 0.98 (docs/benchmarks.md)."""
INT8_TOLERANCE = 0.01
"""Largest |cosine(int8 row, float32 query) - cosine(float32 row, float32 query)| allowed."""


def clustered(n: int, dim: int = 384, *, seed: int = 0, centres: int = 60) -> np.ndarray:
    """Unit vectors in clusters around a low-rank structure, as sentence embeddings are."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((48, dim)).astype(np.float32)
    middle = rng.standard_normal((centres, 48)).astype(np.float32)
    local = middle[rng.integers(0, centres, n)] + 0.5 * rng.standard_normal((n, 48))
    rows = local.astype(np.float32) @ basis + 0.7 * rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def exact_top(matrix: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    scores = matrix @ query
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rows = clustered(4060)
    return rows[:4000], rows[4000:]  # queries from the same clusters, not in the index


@pytest.fixture(scope="module")
def graph(data: tuple[np.ndarray, np.ndarray]) -> ExemplarVectors:
    rows, _ = data
    index = ExemplarVectors.of(rows, approximate_from=1000, background=False, threads=0)
    assert index.approximate
    return index


def test_quantized_cosine_within_tolerance(data: tuple[np.ndarray, np.ndarray]) -> None:
    rows, queries = data
    codes, scales = quantize(rows)
    assert codes.dtype == np.int8 and codes.nbytes == rows.size
    restored = codes.astype(np.float32) * scales[:, None]
    error = np.abs(restored @ queries.T - rows @ queries.T)
    assert error.max() < INT8_TOLERANCE
    assert error.max() > 0  # really rounded


def test_graph_recall_against_exact(
    data: tuple[np.ndarray, np.ndarray], graph: ExemplarVectors
) -> None:
    rows, queries = data
    hits = 0
    for query in queries:
        found = [row for row, _ in graph.search(query, 10)]
        hits += len(set(found) & set(exact_top(rows, query, 10)))
    recall = hits / (10 * len(queries))
    assert recall >= RECALL_FLOOR, recall


def test_graph_returns_exact_scores_in_order(
    data: tuple[np.ndarray, np.ndarray], graph: ExemplarVectors
) -> None:
    rows, queries = data
    found = graph.search(queries[0], 20)
    scores = [value for _, value in found]
    assert scores == sorted(scores, reverse=True)
    for row, value in found:  # re-scored against the stored row, not the graph's distance
        assert abs(value - float(rows[row] @ queries[0])) < INT8_TOLERANCE
    assert graph.similarity(queries[0], [found[0][0]]) == pytest.approx([found[0][1]], abs=1e-6)


def test_exact_below_the_switch(data: tuple[np.ndarray, np.ndarray]) -> None:
    rows, queries = data
    small = ExemplarVectors.of(rows[:500], approximate_from=1000)
    assert not small.approximate
    assert [r for r, _ in small.search(queries[0], 10)] == exact_top(rows[:500], queries[0], 10)
    assert small.rows([3]).dtype == np.float32 and np.array_equal(small.rows([3])[0], rows[3])


def test_add_and_remove_while_approximate(data: tuple[np.ndarray, np.ndarray]) -> None:
    rows, queries = data
    index = ExemplarVectors.of(rows[:1500], approximate_from=1000, background=False)
    assert index.approximate
    first = index.add(queries[:1])  # a new exemplar: its own query finds it at once
    assert first == 1500 and len(index) == 1501
    assert index.search(queries[0], 1)[0][0] == 1500
    index.remove([1500])
    assert 1500 not in [row for row, _ in index.search(queries[0], 10)]
    assert index.similarity(queries[0], [1500]) == [0.0]
    assert len(index) == 1501  # rows keep their numbers


def test_remove_below_the_switch(data: tuple[np.ndarray, np.ndarray]) -> None:
    rows, queries = data
    index = ExemplarVectors.of(rows[:200], approximate_from=1000)
    best = index.search(queries[0], 1)[0][0]
    index.remove([best])
    assert best not in [row for row, _ in index.search(queries[0], 10)]
    assert len(index.search(queries[0], 500)) == 199


def test_background_build_swaps_in_with_rows_added_meanwhile(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    rows, queries = data
    index = ExemplarVectors(rows.shape[1], approximate_from=1000, background=True)
    index.add(rows[:2000])  # crosses the switch: the graph builds in a thread
    index.add(queries[:1])  # searched exactly until the graph is in use
    assert index.search(queries[0], 1)[0][0] == 2000
    index.wait()
    assert index.approximate and index.build_seconds is not None
    assert index.search(queries[0], 1)[0][0] == 2000
    assert index.nbytes < rows[:2001].nbytes / 2  # int8 rows + graph, float32 dropped


def test_hash_lookup_many_values_per_key() -> None:
    lookup = HashLookup()
    lookup.extend([5, 3, 5], [0, 1, 2])
    lookup.add(5, 7)
    lookup.add(9, 8)
    assert lookup.find(5) == [0, 2, 7]
    assert lookup.find(3) == [1] and lookup.find(9) == [8] and lookup.find(4) == []


def test_a_graph_then_the_encoder_backend_in_one_process() -> None:
    """onnxruntime imported after usearch's compiled module killed the process (a segfault):
    a persona's graph built before the first encoder pass must not take the service down."""
    code = (
        "import numpy as np\n"
        "from core.drafting.vectors import ExemplarVectors\n"
        "rows = np.eye(8, dtype=np.float32)[np.arange(64) % 8]\n"
        "assert ExemplarVectors.of(rows, approximate_from=10, background=False).approximate\n"
        "import onnxruntime\n"
        "print('alive')\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "alive" in done.stdout, done.stderr[-500:]
