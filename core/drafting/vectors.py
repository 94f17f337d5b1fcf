"""Searchable unit vectors for a persona's exemplars: exact while small, HNSW above a size.

Below :data:`APPROXIMATE_FROM` rows an exact float32 scan (:class:`~core.drafting.index.NumpyVectorIndex`,
one BLAS matrix-vector product) is faster than any graph and costs nothing to build. Above it,
rows go into an HNSW graph (usearch, Apache-2.0) that stores them as int8 with one float32 scale
per row (~4x less than float32): a search asks the graph for more candidates than wanted and
re-scores them against the stored rows with the float32 query (asymmetric, so the order of what
is returned is the exact order up to the int8 rounding: |cosine error| < 0.01, checked by
tests/core/drafting/test_vectors.py). The graph is built in a background thread, or read back
from a saved one when it was built from the same rows (:mod:`core.drafting.graphs`: seconds
instead of minutes); until it is ready, searches stay exact over the float32 rows, which are then
dropped.

Rows are never renumbered: a removed row is left out of every search and similarity.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from core.drafting.graphs import digest_of, pack, row_digest, unpack
from core.drafting.index import NumpyVectorIndex
from core.ports import Vector

if TYPE_CHECKING:
    from usearch.index import Index

log = logging.getLogger(__name__)

APPROXIMATE_FROM = 20_000
"""Rows from which a graph replaces the exact scan. At 20k rows the exact float32 scan takes
~1.5-3 ms on one core and keeps 30 MB of float32; the graph answers in ~0.3 ms at any size and
stores ~0.5 KB per row; below it the scan wins on build time (none) at equal speed to the encoder's
noise (docs/benchmarks.md, "Similar-message search")."""
CONNECTIVITY = 16
"""HNSW neighbours per node (usearch's ``connectivity``): 24 cost 12% more memory per row for no
better recall on near-duplicates; 8 saved 6% of memory and lost ~4 points of recall."""
EXPANSION_ADD = 128
EXPANSION_SEARCH = 1024
"""Breadth of the graph walk when adding and (at least) when searching. Near-duplicate messages
need both (100k rows, 18 jittered copies of each of 5.6k real messages, recall@10 against the
exact float32 search): adding with 64, 0.908 / 0.958 / 0.971 searching with 256 / 512 / 1024
(1.0 / 1.4 / 2.3 ms); adding with 128, 0.944-0.955 / 0.969-0.972 / 0.972 (two builds; 0.67 /
1.1 / 2.0 ms), against 0.978 for an exact scan of the int8 rows, which bounds what re-scoring
can return; against that scan the graph finds 0.994 from 512 (docs/benchmarks.md)."""
WIDE_WALK_FROM = 300_000
"""Below this many rows the walk searches with 512 (on the near-duplicate set above, 1024 found
no more at 100k rows, 0.972 against 0.969-0.972, for ~0.9 ms more per search); from it, with
:data:`EXPANSION_SEARCH` (the 1M set was measured with 1024)."""
NARROW_WALK = 512
RESCORE = 64
"""A search for k rows re-scores ``max(1.5 k, RESCORE)`` graph candidates exactly (re-scoring all
of the walk's 512 or 1024 found nothing more: what the graph misses, it misses in its walk)."""


def quantize(vectors: Vector) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Rows as int8 with one scale each (``row ≈ codes * scale``), rounding to the nearest step."""
    matrix = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(matrix).max(axis=1) if matrix.size else np.zeros(len(matrix), np.float32)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(matrix / scale[:, None]), -127, 127).astype(np.int8)
    return codes, scale


class ExemplarVectors:
    """Unit vectors by row, searchable by cosine: exact below ``approximate_from`` rows, an
    int8 HNSW graph above (built in the background; exact until it is ready).

    Args:
        dim: Vector dimension.
        approximate_from: Rows from which the graph is used (0: never).
        background: Build the graph in a background thread (False: in the caller's thread).
        threads: Threads the graph is built with (0: all cores).
        saved: A graph saved by :meth:`saved_graph` (:mod:`core.drafting.graphs`): used instead
            of building one when the rows added start with the rows it was built from (checked
            by digest), ignored otherwise.
    """

    def __init__(
        self,
        dim: int,
        *,
        approximate_from: int = APPROXIMATE_FROM,
        background: bool = True,
        threads: int = 1,
        saved: bytes | None = None,
    ) -> None:
        self.dim = dim
        self._saved = saved
        self._approximate_from = approximate_from
        self._background = background
        self._threads = threads
        self._exact: NumpyVectorIndex | None = NumpyVectorIndex(dim)
        self._graph: Index | None = None
        self._scales = np.zeros(0, dtype=np.float32)
        self._size = 0
        self._removed: set[int] = set()
        self._lock = threading.RLock()
        self._building: threading.Thread | None = None
        self.build_seconds: float | None = None
        """How long the graph took to build or restore (None until it is in use)."""
        self.generation = 0
        """Counts the changes of what :meth:`rows` returns for the same rows (the swap to the
        graph rounds them to int8): what was computed from the rows holds while it is equal."""
        self._digest = row_digest()
        """Of every row added, in order: what a saved graph is keyed by."""
        self.saved_rows = 0
        """Rows of the graph as last saved or restored (0: none)."""
        self.restored = False
        """Whether the graph in use was read from a saved one rather than built."""

    @classmethod
    def of(cls, vectors: Vector, **options: Any) -> ExemplarVectors:
        """An index holding ``vectors`` (rows in order)."""
        matrix = np.asarray(vectors, dtype=np.float32)
        dim = matrix.shape[1] if matrix.ndim == 2 and matrix.shape[1] else 1
        index = cls(dim, **options)
        if len(matrix):
            index.add(matrix)
        return index

    def __len__(self) -> int:
        return self._size

    @property
    def approximate(self) -> bool:
        """Whether searches go through the graph (it is built and in use)."""
        return self._graph is not None and self._exact is None

    def add(self, vectors: Vector) -> int:
        """Append rows; return the number of the first."""
        rows = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            first = self._size
            self._digest.update(np.ascontiguousarray(rows).data)
            if self._exact is not None:
                self._exact.add(rows)
            if self._graph is not None and self._exact is None:
                self._insert(self._graph, rows, first)
            self._size += len(rows)
            start = self._building is None and self._graph is None
            if start and self._approximate_from and self._size >= self._approximate_from:
                self._start_graph()
        return first

    def remove(self, rows: Sequence[int]) -> None:
        """Leave ``rows`` out of every later search (their numbers are not reused)."""
        with self._lock:
            self._removed.update(int(r) for r in rows)
            if self._graph is not None and self._exact is None:
                keys = np.asarray([r for r in rows if 0 <= r < self._size], dtype=np.uint64)
                if len(keys):
                    self._graph.remove(keys)

    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """The ``k`` live rows most similar to ``query`` as ``(row, cosine)``, best first."""
        if k <= 0 or not self._size:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(self.dim)
        with self._lock:
            exact, graph = self._exact, self._graph
        if exact is not None:
            return self._search_exact(exact, q, k)
        assert graph is not None
        wanted = max(k + k // 2, RESCORE)
        # usearch defines this property's setter apart from its getter, which mypy misses.
        walk = EXPANSION_SEARCH if self._size >= WIDE_WALK_FROM else NARROW_WALK
        graph.expansion_search = max(walk, wanted)  # type: ignore[misc]
        codes, _ = quantize(q.reshape(1, -1))
        keys = np.asarray(graph.search(codes[0], wanted, threads=1).keys, dtype=np.int64)
        if not len(keys):
            return []
        cosine = self._rows_from(graph, keys) @ q
        order = np.argsort(-cosine, kind="stable")[:k]
        return [(int(keys[i]), float(cosine[i])) for i in order]

    def _search_exact(self, exact: NumpyVectorIndex, q: Vector, k: int) -> list[tuple[int, float]]:
        if not self._removed:
            return exact.search(q, k)
        found = exact.search(q, k + len(self._removed))
        return [(row, value) for row, value in found if row not in self._removed][:k]

    def rows(self, rows: Sequence[int]) -> Vector:
        """The stored vectors of ``rows`` as float32 (int8-rounded once the graph is in use)."""
        picked = np.asarray(rows, dtype=np.int64)
        if not len(picked):
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            exact, graph = self._exact, self._graph
        if exact is not None:
            out: Vector = exact._buffer[picked]
            return out
        assert graph is not None
        return self._rows_from(graph, picked)

    def similarity(self, query: Vector, rows: Sequence[int]) -> list[float]:
        """Cosine of ``query`` with each of ``rows`` (0 for removed rows)."""
        if not len(rows):
            return []
        q = np.asarray(query, dtype=np.float32).reshape(self.dim)
        values = (self.rows(rows) @ q).tolist()
        return [0.0 if r in self._removed else float(v) for r, v in zip(rows, values, strict=True)]

    @property
    def matrix(self) -> Vector:
        """Every row as float32 (a view while exact; a copy once the graph is in use)."""
        with self._lock:
            exact = self._exact
        if exact is not None:
            return exact.matrix
        return self.rows(range(self._size))

    @property
    def nbytes(self) -> int:
        """Bytes of the rows and the graph (the graph's allocator holds a few MB more)."""
        with self._lock:
            total = int(self._scales.nbytes)
            if self._exact is not None:
                total += int(self._exact._buffer.nbytes)
            if self._graph is not None:  # its rows and links (its arena reserves more)
                total += int(self._graph.serialized_length)
            return total

    def drop_saved(self) -> None:
        """Forget the saved graph passed in if no graph is being built from it (too few rows)."""
        with self._lock:
            if self._building is None:
                self._saved = None

    @property
    def building(self) -> bool:
        """Whether a graph is being built (or restored) in the background."""
        return self._building is not None

    def wait(self) -> None:
        """Block until a graph being built in the background is in use."""
        building = self._building
        if building is not None:
            building.join()

    # ------------------------------------------------------------------ the graph

    def _start_graph(self) -> None:
        if self._background:
            self._building = threading.Thread(
                target=self._build_graph, name="exemplar-graph", daemon=True
            )
            self._building.start()
        else:
            self._build_graph()

    def _settings(self) -> dict[str, Any]:
        """What a graph is built with: a saved graph is used again only with the same."""
        return {
            "dim": self.dim,
            "metric": "cos",
            "dtype": "i8",
            "connectivity": CONNECTIVITY,
            "expansion_add": EXPANSION_ADD,
        }

    def _new_graph(self) -> Index:
        with contextlib.suppress(ImportError):
            # Before usearch: onnxruntime (the encoder's backend) imported after usearch's
            # compiled module kills the process (segfault; usearch 2.26, onnxruntime 1.32).
            import onnxruntime  # noqa: F401
        from usearch.index import Index

        return Index(
            ndim=self.dim,
            metric="cos",
            dtype="i8",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )

    def _build_graph(self) -> None:
        started = time.perf_counter()
        with self._lock:
            assert self._exact is not None
            done = self._size
            source = self._exact._buffer[:done]
        restored = self._restore(source)
        if restored is not None:
            graph, held = restored
            self._insert(graph, source[held:], held)
        else:
            graph = self._new_graph()
            self._insert(graph, source, 0)
        while True:  # rows added meanwhile, then the swap under the lock
            with self._lock:
                assert self._exact is not None
                if done == self._size:
                    removed = np.asarray(sorted(self._removed), dtype=np.uint64)
                    if len(removed):
                        graph.remove(removed)
                    self._graph = graph
                    self._exact = None  # the float32 rows go; the graph holds them as int8
                    self.generation += 1
                    self._building = None
                    self.restored = restored is not None
                    self.build_seconds = time.perf_counter() - started
                    return
                fresh, first = self._exact._buffer[done : self._size].copy(), done
                done = self._size
            self._insert(graph, fresh, first)

    def _restore(self, source: Vector) -> tuple[Index, int] | None:
        """The saved graph with the rows it holds, when ``source`` starts with those rows."""
        blob, self._saved = self._saved, None
        if blob is None:
            return None
        saved = unpack(blob, self._settings())
        del blob
        if saved is None or saved.rows > len(source):
            log.info("saved graph unusable (damaged or other settings); building it")
            return None
        if digest_of(source[: saved.rows]) != saved.digest:
            log.info("saved graph of %d rows is stale; building it", saved.rows)
            return None
        graph = self._new_graph()
        try:
            graph.load(saved.payload)
        except (RuntimeError, ValueError):
            log.warning("saved graph of %d rows unreadable; building it", saved.rows)
            return None
        if len(graph) != saved.rows or graph.ndim != self.dim:
            log.warning("saved graph holds %d rows, not %d; building it", len(graph), saved.rows)
            return None
        self._grow_scales(saved.rows)
        self._scales[: saved.rows] = saved.scales
        self.saved_rows = saved.rows
        return graph, saved.rows

    def saved_graph(self) -> bytes | None:
        """The graph in use as a blob to pass as ``saved`` to a later index of the same rows
        (:mod:`core.drafting.graphs`); None while there is none or once rows were removed."""
        with self._lock:
            graph = self._graph
            if graph is None or self._exact is not None or self._removed:
                return None
            size = self._size
            digest = str(self._digest.copy().hexdigest())
            payload = graph.save()
            scales = self._scales[:size].copy()
        assert payload is not None
        self.saved_rows = size
        return pack(bytes(payload), scales, digest, self._settings())

    def _grow_scales(self, needed: int) -> None:
        if needed > len(self._scales):
            grown = np.zeros(max(needed, 2 * len(self._scales)), dtype=np.float32)
            grown[: len(self._scales)] = self._scales
            self._scales = grown

    def _insert(self, graph: Index, rows: Vector, first: int) -> None:
        if not len(rows):
            return
        codes, scales = quantize(rows)
        needed = first + len(rows)
        self._grow_scales(needed)
        self._scales[first:needed] = scales  # before the rows can be found
        keys = np.arange(first, first + len(rows), dtype=np.uint64)
        graph.add(keys, codes, threads=self._threads)

    def _rows_from(self, graph: Index, keys: npt.NDArray[np.int64]) -> Vector:
        compiled = getattr(graph, "_compiled", None)
        if compiled is not None:  # what Index.get calls, without its per-row Python view
            from usearch.compiled import ScalarKind

            stored = compiled.get_many(keys.astype(np.uint64), ScalarKind.I8)
        else:
            stored = graph.get(keys.astype(np.uint64), dtype="i8")
        assert isinstance(stored, tuple)  # one entry per key (None: removed)
        codes = [np.zeros(self.dim, dtype=np.int8) if c is None else c for c in stored]
        out: Vector = np.stack(codes).astype(np.float32) * self._scales[keys][:, None]
        return out


class HashLookup:
    """Integer values by a 64-bit key (a text's ``hash``), many per key: sorted numpy arrays plus
    a small dict of recent additions, ~16 bytes per value instead of a dict entry's ~100."""

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.int64)
        self._values = np.zeros(0, dtype=np.int64)
        self._pending: dict[int, list[int]] = {}

    def extend(self, keys: Sequence[int], values: Sequence[int]) -> None:
        """Add many ``(key, value)`` at once (values of one key keep their order)."""
        self._merge()
        all_keys = np.concatenate([self._keys, np.asarray(keys, dtype=np.int64)])
        all_values = np.concatenate([self._values, np.asarray(values, dtype=np.int64)])
        order = np.argsort(all_keys, kind="stable")
        self._keys, self._values = all_keys[order], all_values[order]

    def add(self, key: int, value: int) -> None:
        self._pending.setdefault(key, []).append(value)
        if len(self._pending) >= 4096:
            self._merge()

    def find(self, key: int) -> list[int]:
        """Values added under ``key``, oldest first."""
        keys = self._keys
        found: list[int] = []
        at = int(keys.searchsorted(key)) if len(keys) else 0
        while at < len(keys) and keys[at] == key:
            found.append(int(self._values[at]))
            at += 1
        pending = self._pending.get(key)
        return found + pending if pending else found

    def find_many(self, keys: Sequence[int]) -> list[list[int]]:
        """:meth:`find` of each of ``keys``, in one search of the sorted keys."""
        wanted = np.asarray(keys, dtype=np.int64)
        starts = self._keys.searchsorted(wanted, "left").tolist()
        ends = self._keys.searchsorted(wanted, "right").tolist()
        out = []
        for key, start, end in zip(keys, starts, ends, strict=True):
            found = self._values[start:end].tolist() if end > start else []
            pending = self._pending.get(key)
            out.append(found + pending if pending else found)
        return out

    def _merge(self) -> None:
        if not self._pending:
            return
        keys = [k for k, values in self._pending.items() for _ in values]
        values = [v for vs in self._pending.values() for v in vs]
        self._pending = {}
        self.extend(keys, values)

    @property
    def nbytes(self) -> int:
        return int(self._keys.nbytes + self._values.nbytes) + 100 * len(self._pending)


def text_key(text: str) -> int:
    """The lookup key of a text (this process's string hash; equal texts, equal keys)."""
    return hash(text)
