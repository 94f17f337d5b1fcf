"""Memoised text functions: same answers as uncached, long texts never kept."""

from __future__ import annotations

from core.drafting.acts import rule_act, surface_features
from core.memo import MAX_CHARS, memo_text
from core.profiling.intents import classify_intent


def test_a_memoised_function_answers_as_the_plain_one_and_keeps_only_short_texts() -> None:
    calls: list[str] = []

    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    memo = memo_text(maxsize=2)(shout)
    assert [memo("a"), memo("a"), memo("b")] == ["A", "A", "B"]
    assert calls == ["a", "b"]
    long = "x" * (MAX_CHARS + 1)
    memo(long)
    memo(long)
    assert calls.count(long) == 2  # computed each time, never kept
    memo("c")
    memo("a")  # evicted by the bound of two
    assert calls[-1] == "a"


def test_the_drafting_classifiers_are_unchanged_by_their_cache() -> None:
    text = "sorry, can't today tbh, swamped - tomorrow 10am?"
    assert rule_act(text) == rule_act.__wrapped__(text)  # type: ignore[attr-defined]
    assert classify_intent(text) == "decline"
    first = surface_features(text)
    first.append(99.0)  # a caller's copy: the cached value stays as it was
    assert surface_features(text) == first[:-1]
