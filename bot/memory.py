"""Process memory: large buffers go back to the system when they are freed.

glibc serves an allocation above its mmap threshold with its own mapping, so freeing it returns
the memory at once; but each time such a buffer is freed it raises the threshold (up to 32 MB),
and from then on numpy's training matrices of a few MB come from the heap and stay resident
after use. Training a style verifier on an 81k-message import left ~40 MB more resident this
way. A fixed threshold (setting it turns the adjustment off) keeps them mapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter number (glibc ``malloc.h``)."""
MMAP_THRESHOLD = 1 << 20
"""Allocations of 1 MiB and more are mapped (glibc's starting value is 128 KiB)."""
TRIM_EVERY_S = 10.0
"""How often a running server gives freed memory back (:func:`returning_freed_memory`)."""


def return_freed_buffers() -> bool:
    """Fix glibc's mmap threshold for this process; ``False`` where that does not apply (not
    glibc, or ``MALLOC_MMAP_THRESHOLD_`` already set by the operator)."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):  # musl and others: no mallopt, nothing to fix
        return False


def release_free_memory() -> bool:
    """Give the free pages of every glibc arena back to the system (``malloc_trim(0)``);
    ``False`` where that does not apply.

    The supervisor of ``run --workers`` calls it before each fork: the pages its threads freed
    would otherwise stay resident in it, and a worker whose threads allocate there again would
    copy each of them (copy-on-write) instead of taking a fresh page.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # 1 when it released something, else 0
    except (OSError, AttributeError):
        return False
    return True


def _resident_mib() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@contextlib.asynccontextmanager
async def returning_freed_memory(every_s: float = TRIM_EVERY_S) -> AsyncIterator[None]:
    """While inside, every ``every_s`` that the process's memory moved: :func:`release_free_memory`.

    Below the mmap threshold, glibc keeps what a burst freed (a persona's model built, a style
    verifier trained, an encoder batch) inside its arenas, resident until reused: 15-27 MiB
    per ``run --workers`` worker after its first drafts. Trimming walks the arenas
    (tens of ms on a fragmented heap), so it runs in a worker thread, and not at all while the
    resident size stays put (an idle server).
    """

    async def trim() -> None:
        last = -1.0
        while True:
            await asyncio.sleep(every_s)
            if abs(_resident_mib() - last) < 1.0:
                continue
            await asyncio.to_thread(release_free_memory)
            last = _resident_mib()

    if not release_free_memory():  # not glibc: nothing to give back this way
        yield
        return
    task = asyncio.create_task(trim(), name="minime-malloc-trim")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
