"""A running server gives freed memory back when its memory moved, never while it stays put."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_release_free_memory_applies_on_linux() -> None:
    assert memory.release_free_memory() is True


async def test_trims_only_after_the_resident_size_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = iter([300.0, 300.0, 300.0, 300.4, 340.0, 310.0] + [310.0] * 100)
    trims: list[int] = []
    monkeypatch.setattr(memory, "_resident_mib", lambda: next(sizes))
    monkeypatch.setattr(memory, "release_free_memory", lambda: trims.append(1) or True)
    async with memory.returning_freed_memory(every_s=0.01):
        trims.clear()  # the one on entering (it tells whether trimming applies here)
        await asyncio.sleep(0.2)
    # 300 (first look: trim, then 300) · 300, 300.4 (still) · 340 (moved: trim, then 310) · 310…
    assert len(trims) == 2
