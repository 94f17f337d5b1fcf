"""One-tap feedback as evidence: bounded, explainable, undoable.

A tap (*Important* / *Not important*) is one Bayesian update of the importance model, like any
label, with three guards:

* the weights the owner *stated* in onboarding (VIPs, topics, low-priority senders) start with a
  precision of ``STATED_PRECISION`` labels, so one tap barely moves them;
* the tap moves the tapped message's own log-odds by at most ``MAX_TAP_SHIFT`` (the update is
  shrunk along its direction when it would move more), so a single "Not important" on a VIP's
  message lowers the next one but does not bury it;
* each tap's change (weights and curvature) is kept, so it can be explained ("ranked lower
  because you marked zed's message not important") and undone.

Kept per tap: the message id, the sender's name, the topic it matched (the owner's own word),
the feature vector and the change. Never message text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.prioritising.model import OnlineLogit

FloatArray = npt.NDArray[np.float64]
MAX_TAP_SHIFT = 1.0
"""The largest change (log-odds) one tap may make to the score of the message it was made on."""
MIN_EFFECT = 0.25
"""A tap is named as a reason for another message's score when it moved it at least this much."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Tap:
    """What one tap of feedback changed in the importance model."""

    message_id: str
    important: bool
    sender: str
    topic: str | None
    features: FloatArray
    delta: FloatArray
    """Change of the importance weights."""
    curvature: float
    """The precision added, as ``curvature · x xᵀ``."""
    weight: float

    @property
    def what(self) -> str:
        """The tapped message in words: "zed's message about invoice"."""
        about = f" about {self.topic}" if self.topic else ""
        return f"{self.sender}'s message{about}"

    @property
    def marked(self) -> str:
        return "important" if self.important else "not important"

    def to_json(self) -> dict[str, object]:
        return {
            "message_id": self.message_id,
            "important": self.important,
            "sender": self.sender,
            "topic": self.topic,
            "features": self.features.tolist(),
            "delta": self.delta.tolist(),
            "curvature": self.curvature,
            "weight": self.weight,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Tap:
        topic = data.get("topic")
        return cls(
            message_id=str(data["message_id"]),
            important=bool(data["important"]),
            sender=str(data["sender"]),
            topic=str(topic) if topic is not None else None,
            features=np.asarray(data["features"], dtype=np.float64),
            delta=np.asarray(data["delta"], dtype=np.float64),
            curvature=float(str(data["curvature"])),
            weight=float(str(data["weight"])),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TapEffect:
    """How much an earlier tap moved a message's score (log-odds), to say so beside it."""

    tap: Tap
    shift: float

    @property
    def reason(self) -> str:
        """E.g. "ranked lower because you marked zed's message about invoices not important"."""
        direction = "higher" if self.shift > 0 else "lower"
        return f"ranked {direction} because you marked {self.tap.what} {self.tap.marked}"


class Taps:
    """The recent taps, newest last (at most ``limit``; older ones stay learned, not undoable)."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self._taps: OrderedDict[str, Tap] = OrderedDict()

    def __len__(self) -> int:
        return len(self._taps)

    def apply(
        self,
        model: OnlineLogit,
        x: FloatArray,
        *,
        important: bool,
        weight: float,
        message_id: str,
        sender: str,
        topic: str | None,
    ) -> Tap:
        """Update ``model`` from one tap (bounded, see module notes) and remember the change."""
        self.undo(model, message_id)  # a second tap on the same message replaces the first
        mean, precision = model.mean.copy(), model.precision.copy()
        model.update(x, 1.0 if important else 0.0, weight)
        delta = model.mean - mean
        shift = float(delta @ x)
        if abs(shift) > MAX_TAP_SHIFT:
            delta *= MAX_TAP_SHIFT / abs(shift)
            model.mean = mean + delta
        tap = Tap(
            message_id=message_id,
            important=important,
            sender=sender,
            topic=topic,
            features=x.copy(),
            delta=delta,
            curvature=float(model.precision[0, 0] - precision[0, 0]) / max(x[0] ** 2, 1e-12),
            weight=weight,
        )
        self._taps[message_id] = tap
        if len(self._taps) > self.limit:
            self._taps.popitem(last=False)
        return tap

    def undo(self, model: OnlineLogit, message_id: str) -> Tap | None:
        """Take back the tap made on ``message_id`` (exact when no label came after it)."""
        tap = self._taps.pop(message_id, None)
        if tap is None:
            return None
        model.mean = model.mean - tap.delta
        model.precision = model.precision - tap.curvature * np.outer(tap.features, tap.features)
        model.labels -= tap.weight
        return tap

    def effect(self, x: FloatArray) -> TapEffect | None:
        """The tap that moved this feature vector's score the most, if it moved it noticeably."""
        best: TapEffect | None = None
        for tap in self._taps.values():
            shift = float(tap.delta @ x)
            if abs(shift) >= MIN_EFFECT and (best is None or abs(shift) > abs(best.shift)):
                best = TapEffect(tap=tap, shift=shift)
        return best

    def last(self) -> Tap | None:
        """The most recent tap still remembered."""
        return next(reversed(self._taps.values()), None)

    def get(self, message_id: str) -> Tap | None:
        """The tap made on ``message_id``, if it is still remembered."""
        return self._taps.get(message_id)

    def to_json(self) -> list[dict[str, object]]:
        return [tap.to_json() for tap in self._taps.values()]

    @classmethod
    def from_json(cls, data: object, limit: int = 50) -> Taps:
        taps = cls(limit)
        if isinstance(data, list):
            for item in data:
                tap = Tap.from_json(item)
                taps._taps[tap.message_id] = tap
        return taps
