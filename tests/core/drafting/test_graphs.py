"""Saved graphs: read back when built from the same rows, ignored (and built again) otherwise."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from core.drafting.graphs import MAGIC, digest_of, row_digest, unpack
from core.drafting.retrieval import ExemplarIndex
from core.drafting.vectors import CONNECTIVITY, ExemplarVectors
from tests.core.drafting.test_retrieval import pair
from tests.core.drafting.test_vectors import clustered

SWITCH = 1000


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return clustered(2600, seed=3)


@pytest.fixture(scope="module")
def blob(rows: np.ndarray) -> bytes:
    built = ExemplarVectors.of(rows[:2000], approximate_from=SWITCH, background=False)
    saved = built.saved_graph()
    assert saved is not None and saved.startswith(MAGIC)
    return saved


def searches(index: ExemplarVectors, queries: np.ndarray) -> list[list[tuple[int, float]]]:
    return [index.search(q, 10) for q in queries]


def test_a_saved_graph_is_read_back_and_searches_the_same(rows: np.ndarray, blob: bytes) -> None:
    built = ExemplarVectors.of(rows[:2000], approximate_from=SWITCH, background=False)
    restored = ExemplarVectors.of(
        rows[:2000], approximate_from=SWITCH, background=False, saved=bytes(blob)
    )
    gc.collect()  # the blob is gone: the graph holds its own copy
    assert restored.restored and restored.approximate and not built.restored
    assert restored.saved_rows == 2000
    queries = rows[2500:2520]
    assert searches(restored, queries) == searches(built, queries)
    assert np.array_equal(restored.rows([5, 1999]), built.rows([5, 1999]))


def test_rows_added_since_the_save_are_inserted(rows: np.ndarray, blob: bytes) -> None:
    grown = ExemplarVectors(rows.shape[1], approximate_from=SWITCH, saved=blob)
    grown.add(rows[:2000])
    grown.add(rows[2000:2100])  # added while the saved graph is read back
    grown.wait()
    assert grown.restored and len(grown) == 2100
    assert grown.search(rows[2050], 1)[0][0] == 2050
    resaved = grown.saved_graph()
    assert resaved is not None and unpack(resaved, grown._settings()) is not None
    assert grown.saved_rows == 2100


@pytest.mark.parametrize(
    "damage",
    [
        "other rows",
        "fewer rows",
        "flipped byte",
        "truncated",
        "garbage",
        "empty",
        "other settings",
    ],
)
def test_a_stale_or_damaged_graph_is_ignored_and_built_again(
    rows: np.ndarray, blob: bytes, damage: str
) -> None:
    data, saved = rows[:2000], bytearray(blob)
    if damage == "other rows":
        data = rows[:2000].copy()
        data[1234] = rows[2400]  # one exemplar changed: the digest differs
    elif damage == "fewer rows":
        data = rows[:1500]
    elif damage == "flipped byte":
        saved[len(saved) // 2] ^= 0x40
    elif damage == "truncated":
        saved = saved[: len(saved) * 2 // 3]
    elif damage == "garbage":
        saved = bytearray(MAGIC + b"\xff\xff\x00\x00{not json")
    elif damage == "empty":
        saved = bytearray()
    elif damage == "other settings":
        setting = f'"connectivity": {CONNECTIVITY}'.encode()
        header = bytes(saved).replace(setting, b'"connectivity": 3')
        assert header != bytes(saved)
        saved = bytearray(header)
    index = ExemplarVectors.of(data, approximate_from=SWITCH, background=False, saved=bytes(saved))
    assert index.approximate and not index.restored and index.saved_rows == 0
    fresh = ExemplarVectors.of(data, approximate_from=SWITCH, background=False)
    queries = rows[2500:2510]
    assert searches(index, queries) == searches(fresh, queries)


def test_no_graph_is_saved_once_rows_were_removed(rows: np.ndarray) -> None:
    index = ExemplarVectors.of(rows[:1500], approximate_from=SWITCH, background=False)
    index.remove([7])
    assert index.saved_graph() is None
    assert ExemplarVectors.of(rows[:500], approximate_from=SWITCH).saved_graph() is None


def test_the_running_digest_is_the_digest_of_the_rows(rows: np.ndarray) -> None:
    running = row_digest()
    for start in range(0, 900, 300):
        running.update(np.ascontiguousarray(rows[start : start + 300]).data)
    assert running.hexdigest() == digest_of(rows[:900])
    assert digest_of(rows[:900]) != digest_of(rows[1:901])


def test_an_exemplar_index_reads_both_graphs_back(rows: np.ndarray) -> None:
    pairs = [pair(i, f"message {i}", f"reply {i}") for i in range(1200)]
    incoming, replies = rows[:1200], rows[1200:2400]
    built = ExemplarIndex.build(
        pairs, incoming, reply_vectors=replies, approximate_from=SWITCH, background=False
    )
    saved = {name: built.graph_to_save(name) for name in ExemplarIndex.GRAPHS}
    assert all(saved.values())
    assert built.graph_to_save("messages") is None  # saved, not grown since
    again = ExemplarIndex.build(
        pairs,
        incoming,
        reply_vectors=replies,
        approximate_from=SWITCH,
        background=False,
        saved={k: v for k, v in saved.items() if v is not None},
    )
    assert again.vectors.restored and again.reply_vectors.store.restored
    assert again.graph_to_save("messages") is None and again.graph_to_save("replies") is None
    for query in rows[2500:2510]:
        assert again.nearest(query, frozenset(), 8, distinct=True) == built.nearest(
            query, frozenset(), 8, distinct=True
        )
        assert again.reply_vectors.store.search(query, 10) == built.reply_vectors.store.search(
            query, 10
        )


def test_a_saved_graph_is_not_held_below_the_switch(rows: np.ndarray, blob: bytes) -> None:
    pairs = [pair(i, f"message {i}", f"reply {i}") for i in range(500)]
    small = ExemplarIndex.build(
        pairs,
        rows[:500],
        reply_vectors=rows[500:1000],
        approximate_from=SWITCH,
        saved={"messages": blob, "replies": blob},
    )
    assert not small.vectors.approximate and not small.vectors.building
    assert small.vectors._saved is None and small.reply_vectors.store._saved is None
