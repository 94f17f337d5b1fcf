"""Process memory: large buffers go back to the system when they are freed.

glibc serves an allocation above its mmap threshold with its own mapping, so freeing it returns
the memory at once; but each time such a buffer is freed it raises the threshold (up to 32 MB),
and from then on numpy's training matrices of a few MB come from the heap and stay resident
after use. Training a style verifier on an 81k-message import left ~40 MB more resident this
way. A fixed threshold (setting it turns the adjustment off) keeps them mapped.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter number (glibc ``malloc.h``)."""
MMAP_THRESHOLD = 1 << 20
"""Allocations of 1 MiB and more are mapped (glibc's starting value is 128 KiB)."""


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
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False
