"""A persona's reply pairs stored by column: a few bytes of bookkeeping per pair, no objects.

A million :class:`~core.models.ReplyPair` objects cost ~1 KB each in Python (the object, six
strings, a datetime); here their texts sit UTF-8 encoded in one growing buffer, with per-pair
offsets, times and latencies in numpy arrays, and a pair becomes an object only when it is read
(``columns[i]``), so searching a million exemplars keeps what it does not return as bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import overload

import numpy as np
import numpy.typing as npt

from core.models import PersonaId, ReplyPair

_FIELDS = 6
"""persona id, incoming id, incoming text, incoming sender, reply id, reply text."""
_REPLY_FIELD = 5
_SENDER_FIELD = 3
_REPLY_ID_FIELD = 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Growing:
    """A numpy column that grows by doubling (appending one value is amortised O(1))."""

    def __init__(self, dtype: type[np.generic], width: int = 0) -> None:
        shape = (16, width) if width else (16,)
        self.data: npt.NDArray[np.generic] = np.zeros(shape, dtype=dtype)
        self.size = 0

    def append(self, value: float | Sequence[int]) -> None:
        if self.size == len(self.data):
            grown = np.zeros((2 * len(self.data), *self.data.shape[1:]), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size] = value
        self.size += 1

    def view(self) -> npt.NDArray[np.generic]:
        return self.data[: self.size]

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)


class PairColumns(Sequence[ReplyPair]):
    """Reply pairs by column; ``columns[i]`` builds the ``ReplyPair`` at position ``i``.

    Appending is amortised O(text length); positions never change (there is no removal: a
    removed exemplar is dropped from the searches, see :class:`core.drafting.exemplars.ExemplarIndex`).
    """

    def __init__(self, pairs: Iterable[ReplyPair] = ()) -> None:
        self._text = bytearray()
        self._start = _Growing(np.int64)
        self._ends = _Growing(np.uint32, _FIELDS)
        self._when = _Growing(np.int64)
        self._latency = _Growing(np.float32)
        self._aware = True
        for pair in pairs:
            self.append(pair)

    def append(self, pair: ReplyPair) -> int:
        """Store ``pair``; return its position."""
        start = len(self._text)
        ends = []
        for value in (
            pair.persona_id,
            pair.incoming_id,
            pair.incoming_text,
            pair.incoming_sender,
            pair.reply_id,
            pair.reply_text,
        ):
            self._text += value.encode("utf-8", "surrogatepass")
            ends.append(len(self._text) - start)
        if len(self) == 0:
            self._aware = pair.replied_at.tzinfo is not None
        when = pair.replied_at if pair.replied_at.tzinfo else pair.replied_at.replace(tzinfo=UTC)
        self._start.append(start)
        self._ends.append(ends)
        self._when.append((when - _EPOCH) // _MICROSECOND)
        self._latency.append(math.nan if pair.latency_s is None else pair.latency_s)
        return len(self) - 1

    def __len__(self) -> int:
        return self._start.size

    @overload
    def __getitem__(self, position: int) -> ReplyPair: ...

    @overload
    def __getitem__(self, position: slice) -> list[ReplyPair]: ...

    def __getitem__(self, position: int | slice) -> ReplyPair | list[ReplyPair]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        n = len(self)
        if position < 0:
            position += n
        if not 0 <= position < n:
            raise IndexError("pair position out of range")
        fields = self._fields(position)
        micros = int(self._when.data[position])
        when = _EPOCH + micros * _MICROSECOND
        latency = float(self._latency.data[position])
        return ReplyPair(
            persona_id=PersonaId(fields[0]),
            incoming_id=fields[1],
            incoming_text=fields[2],
            incoming_sender=fields[3],
            reply_id=fields[4],
            reply_text=fields[5],
            replied_at=when if self._aware else when.replace(tzinfo=None),
            latency_s=None if math.isnan(latency) else latency,
        )

    def __iter__(self) -> Iterator[ReplyPair]:
        for position in range(len(self)):
            yield self[position]

    def _fields(self, position: int) -> list[str]:
        start = int(self._start.data[position])
        raw = bytes(self._text[start : start + int(self._ends.data[position, -1])])
        out, begin = [], 0
        for end in self._ends.data[position].tolist():
            out.append(raw[begin:end].decode("utf-8", "surrogatepass"))
            begin = end
        return out

    def _field(self, position: int, field: int) -> str:
        start = int(self._start.data[position])
        ends = self._ends.data[position]
        begin = start + (int(ends[field - 1]) if field else 0)
        return self._text[begin : start + int(ends[field])].decode("utf-8", "surrogatepass")

    def reply_text(self, position: int) -> str:
        """The reply text of the pair at ``position`` (without building the pair)."""
        return self._field(position, _REPLY_FIELD)

    def incoming_text(self, position: int) -> str:
        """The incoming text of the pair at ``position``."""
        return self._field(position, 2)

    def reply_id(self, position: int) -> str:
        """The id of the reply of the pair at ``position``."""
        return self._field(position, _REPLY_ID_FIELD)

    def sender(self, position: int) -> str:
        """Who sent the incoming message of the pair at ``position``."""
        return self._field(position, _SENDER_FIELD)

    def reply_texts(self) -> Iterator[str]:
        """Every pair's reply text, in order (without building the pairs)."""
        for position in range(len(self)):
            yield self.reply_text(position)

    @property
    def nbytes(self) -> int:
        """Memory held by the columns."""
        return (
            len(self._text)
            + self._start.nbytes
            + self._ends.nbytes
            + self._when.nbytes
            + self._latency.nbytes
        )


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH
