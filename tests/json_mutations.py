"""Hypothesis strategy for fuzzing webhook bodies: a recorded payload with one subtree replaced."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_mutations(value: Any, *, huge_ints: bool = False) -> st.SearchStrategy[Any]:
    """``value`` with one subtree replaced by an arbitrary JSON value (or a key removed).

    ``huge_ints`` adds integers far outside 64 bits (readers that convert ids and dates).
    """
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    if huge_ints:
        leaves = leaves | st.integers(min_value=-(2**70), max_value=2**70)
    anything = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )
    if isinstance(value, dict) and value:
        key = st.sampled_from(sorted(value))
        return st.one_of(
            anything,
            key.flatmap(
                lambda k: json_mutations(value[k], huge_ints=huge_ints).map(
                    lambda v: {**value, k: v}
                )
            ),
            key.map(lambda k: {n: v for n, v in value.items() if n != k}),
        )
    if isinstance(value, list) and value:
        index = st.integers(0, len(value) - 1)
        return st.one_of(
            anything,
            index.flatmap(
                lambda i: json_mutations(value[i], huge_ints=huge_ints).map(
                    lambda v: [*value[:i], v, *value[i + 1 :]]
                )
            ),
        )
    return anything
