"""Exact nearest neighbours in numpy: the default :class:`core.ports.VectorIndex`.

Sized for a persona's exemplars (up to ~100k rows of 384 float32 = 150 MB): one matrix-vector
product and an ``argpartition`` per query, no approximation, no extra dependency. Rows live in a
pre-allocated float32 buffer that grows by doubling, so adding one exemplar (a sent draft) is O(dim).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.ports import Vector


class NumpyVectorIndex:
    """Exact cosine top-k over L2-normalised float32 rows.

    Args:
        dim: Vector dimension.
        capacity: Rows to allocate up front (grows as needed).
    """

    def __init__(self, dim: int, *, capacity: int = 1024) -> None:
        self.dim = dim
        self._buffer: Vector = np.zeros((max(1, capacity), dim), dtype=np.float32)
        self._size = 0

    @classmethod
    def of(cls, vectors: Vector) -> NumpyVectorIndex:
        """An index holding ``vectors`` (rows in order)."""
        matrix = np.asarray(vectors, dtype=np.float32)
        dim = matrix.shape[1] if matrix.ndim == 2 else 1
        index = cls(dim, capacity=max(1, matrix.shape[0]))
        if matrix.shape[0]:
            index.add(matrix)
        return index

    def __len__(self) -> int:
        return self._size

    @property
    def matrix(self) -> Vector:
        """The stored rows (a view: do not mutate)."""
        return self._buffer[: self._size]

    def add(self, vectors: Vector) -> int:
        rows = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        first = self._size
        needed = first + rows.shape[0]
        if needed > self._buffer.shape[0]:
            grown = np.zeros((max(needed, 2 * self._buffer.shape[0]), self.dim), dtype=np.float32)
            grown[:first] = self._buffer[:first]
            self._buffer = grown
        self._buffer[first:needed] = rows
        self._size = needed
        return first

    def scores(self, query: Vector) -> Vector:
        """Cosine similarity of ``query`` with every row."""
        out: Vector = self.matrix @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        return out

    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        if not self._size or k <= 0:
            return []
        cosine = self.scores(query)
        k = min(k, self._size)
        top = np.argpartition(-cosine, k - 1)[:k] if k < self._size else np.arange(self._size)
        top = top[np.argsort(-cosine[top], kind="stable")]
        return [(int(row), float(cosine[row])) for row in top]

    def similarity(self, query: Vector, rows: Sequence[int]) -> list[float]:
        if not len(rows):
            return []
        picked = self._buffer[np.asarray(rows, dtype=np.int64)]
        out = picked @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        return [float(x) for x in out]
