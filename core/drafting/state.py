"""Derived state kept in the ``StateStore`` with how many owner messages it was built from.

A verifier or profile is not rebuilt on every send: :func:`stale` says when the owner's messages
grew enough (a quarter more, at least :data:`MIN_GROWTH`) to be worth retraining, lazily, on the
next model build.
"""

from __future__ import annotations

import struct

MAGIC = b"MMS1"
MIN_GROWTH = 20


def pack_state(owner_messages: int, payload: bytes) -> bytes:
    """``payload`` with the owner-message count it was built from."""
    return MAGIC + struct.pack(">Q", owner_messages) + payload


def unpack_state(data: bytes | None) -> tuple[int, bytes] | None:
    """``(owner_messages, payload)`` or ``None`` for no or foreign data."""
    if not data or not data.startswith(MAGIC) or len(data) < 12:
        return None
    (count,) = struct.unpack(">Q", data[4:12])
    return int(count), data[12:]


def stale(built_from: int, now: int) -> bool:
    """Whether state built from ``built_from`` owner messages is out of date at ``now``."""
    if now < built_from:
        return True  # messages were removed (erased persona data, a restore): rebuild
    return now - built_from >= max(MIN_GROWTH, built_from // 4)
