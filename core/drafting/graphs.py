"""Saved HNSW graphs: what lets a restarted persona search its graph at once instead of
rebuilding it (18-21 minutes for a million pairs on two cores).

A saved graph is one blob: a header, the rows' int8 scales and usearch's own serialisation.
It is keyed by its content, never by a name alone: the header holds a digest of the float32
rows the graph was built from (and every row added to it since), in order, and the graph's
settings; a graph is used again only when the rows now being indexed start with exactly those
rows and the settings are the same (rows added after it was saved are inserted then). A digest
of the payload catches a damaged blob before usearch reads it, so a stale, truncated or corrupt
blob is ignored (the graph is built again), never loaded.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.ports import Vector

MAGIC = b"minime-hnsw\x01"
_LENGTH = struct.Struct("<I")


def row_digest() -> Any:
    """A running digest of float32 rows (``update`` it with each batch, in order)."""
    return hashlib.blake2b(digest_size=20)


def digest_of(rows: Vector) -> str:
    """The digest of ``rows`` in one go (equal to updating :func:`row_digest` batch by batch)."""
    hasher = row_digest()
    hasher.update(np.ascontiguousarray(rows, dtype=np.float32).data)
    return str(hasher.hexdigest())


@dataclass(frozen=True)
class SavedGraph:
    """A graph read back from a blob: the rows it covers, their digest and scales, and the
    bytes usearch loads."""

    rows: int
    digest: str
    settings: dict[str, Any]
    scales: npt.NDArray[np.float32]
    payload: memoryview


def pack(
    graph: bytes, scales: npt.NDArray[np.float32], digest: str, settings: dict[str, Any]
) -> bytes:
    """A blob holding ``graph`` (usearch's serialisation) over ``len(scales)`` rows."""
    scale_bytes = np.ascontiguousarray(scales, dtype="<f4").tobytes()
    payload = hashlib.blake2b(scale_bytes, digest_size=20)
    payload.update(graph)
    header = json.dumps(
        {
            "rows": len(scales),
            "digest": digest,
            "settings": settings,
            "payload": payload.hexdigest(),
        },
        sort_keys=True,
    ).encode()
    return b"".join((MAGIC, _LENGTH.pack(len(header)), header, scale_bytes, graph))


def unpack(blob: bytes | memoryview, settings: dict[str, Any]) -> SavedGraph | None:
    """The graph in ``blob`` when it is whole and was built with ``settings``; None otherwise."""
    view = memoryview(blob).cast("B")
    start = len(MAGIC) + _LENGTH.size
    if len(view) < start or bytes(view[: len(MAGIC)]) != MAGIC:
        return None
    (length,) = _LENGTH.unpack(view[len(MAGIC) : start])
    try:
        header = json.loads(bytes(view[start : start + length]))
        rows, digest, payload = int(header["rows"]), str(header["digest"]), str(header["payload"])
        saved_settings = dict(header["settings"])
    except (ValueError, KeyError, TypeError):
        return None
    if saved_settings != settings or rows <= 0:
        return None
    scales_at = start + length
    graph_at = scales_at + 4 * rows
    if len(view) <= graph_at:
        return None
    check = hashlib.blake2b(view[scales_at:graph_at], digest_size=20)
    check.update(view[graph_at:])
    if check.hexdigest() != payload:
        return None
    scales = np.frombuffer(view[scales_at:graph_at], dtype="<f4").astype(np.float32)
    return SavedGraph(rows, digest, saved_settings, scales, view[graph_at:])
