"""Memoised pure functions of short texts.

Drafting classifies the same candidate replies (the owner's past replies) on every draft: their
dialogue act, intent and surface cues are pure functions of the text, so they are computed once
per process and kept in a bounded LRU. Long texts are computed each time and never kept, so the
cache stays small (at most ``maxsize`` texts of at most ``max_chars`` characters).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

T = TypeVar("T")

MAX_CHARS = 512


def memo_text(
    maxsize: int = 32768, *, max_chars: int = MAX_CHARS
) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """Decorate ``fn(text) -> T`` (pure, immutable result) with a bounded per-process cache."""

    def decorate(fn: Callable[[str], T]) -> Callable[[str], T]:
        cached = lru_cache(maxsize=maxsize)(fn)

        @wraps(fn)
        def call(text: str) -> T:
            return cached(text) if len(text) <= max_chars else fn(text)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return call

    return decorate
