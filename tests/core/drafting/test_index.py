from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.drafting.index import NumpyVectorIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), k=st.integers(1, 40), seed=st.integers(0, 10_000))
def test_top_k_is_exact(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = unit(rng.normal(size=(n, 16)))
    query = unit(rng.normal(size=(1, 16)))[0]
    index = NumpyVectorIndex(16, capacity=3)
    for start in range(0, n, 37):  # grows by doubling across several adds
        index.add(matrix[start : start + 37])
    hits = index.search(query, k)
    brute = np.argsort(-(matrix @ query), kind="stable")[: min(k, n)]
    assert len(hits) == min(k, n) == len(index.search(query, k)[:k])
    assert np.allclose([s for _, s in hits], (matrix @ query)[brute], atol=1e-6)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    rows = [r for r, _ in hits]
    assert np.allclose(index.similarity(query, rows), [s for _, s in hits], atol=1e-6)


def test_empty_index_finds_nothing() -> None:
    index = NumpyVectorIndex(8)
    assert len(index) == 0 and index.search(np.ones(8, dtype=np.float32), 3) == []
    assert index.similarity(np.ones(8, dtype=np.float32), []) == []


def test_100k_rows_fit_in_one_float32_buffer() -> None:
    index = NumpyVectorIndex(384, capacity=100_000)
    assert index.matrix.dtype == np.float32 and index._buffer.nbytes == 100_000 * 384 * 4
