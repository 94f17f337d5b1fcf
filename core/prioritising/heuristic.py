"""The walking skeleton's prioritiser: fixed, readable weights over a few strong signals.

The score is ``sigmoid(w · x)`` over the shared feature vector with hand-set weights on the
signals anyone would name first: a VIP, a direct question or request, a mention, a direct message,
an answer to the owner, a deadline, a topic the owner cares about, and how often the owner answers
this sender (relative to how often they answer anyone). Everything else weighs 0. The same weights
are the default prior of ``Prioritiser()`` (the app wires the learned ``GlobalPrior`` instead) and
the evaluation's second baseline.

``needs_reply`` is a rule: a question or request addressed to the owner (a direct message, a
mention, an answer to one of their messages, or a thread they wrote in minutes ago), or put to
"you" without being addressed to someone else, that is not mere chatter.
"""

from __future__ import annotations

import math

import numpy as np

from core.models import IncomingMessage, Priority
from core.prioritising.context import OwnerContext
from core.prioritising.features import (
    FEATURE_NAMES,
    INDEX,
    FeatureVector,
    FloatArray,
    explain,
    extract,
)

HEURISTIC_WEIGHTS: dict[str, float] = {
    "bias": -2.0,
    "vip": 2.5,
    "sender_rate": 3.0,
    "low_priority": -2.5,
    "question": 0.5,
    "direct_question": 1.5,
    "request": 1.0,
    "deadline": 1.0,
    "mention": 1.2,
    "topic": 1.0,
    "chatter": -1.5,
    "thanks": -1.0,
    "dm": 1.5,
    "reply_to_owner": 1.0,
    "addressed_other": -1.0,
}
"""Log-odds weights; a plain channel message from a stranger scores sigmoid(-2) ≈ 0.12."""


def heuristic_weights() -> FloatArray:
    """``HEURISTIC_WEIGHTS`` as a vector over ``FEATURE_NAMES``."""
    w = np.zeros(len(FEATURE_NAMES), dtype=np.float64)
    for name, value in HEURISTIC_WEIGHTS.items():
        w[INDEX[name]] = value
    return w


def needs_reply_rule(fv: FeatureVector) -> bool:
    """A question or request addressed to the owner that is not mere chatter."""
    s = fv.signals
    asks_you = fv.values[INDEX["asks_you"]] > 0
    return (asks_you or fv.addressed) and (s.question or s.request) and not s.chatter


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class HeuristicPrioritiser:
    """Scores messages with fixed weights; needs no training, only an ``OwnerContext``.

    Example:
        >>> ctx = OwnerContext(owner_names=["sam"], vips=["alice"])
        >>> priority = HeuristicPrioritiser().prioritise(incoming, ctx)
        >>> priority.score, priority.reasons  # (0.93, ("a VIP", "asks you a direct question"))
    """

    def __init__(self) -> None:
        self._weights = heuristic_weights()

    @property
    def weights(self) -> FloatArray:
        """The weight vector over ``FEATURE_NAMES`` (a copy)."""
        return self._weights.copy()

    def prioritise(self, msg: IncomingMessage, ctx: OwnerContext) -> Priority:
        """Score one message (0-1) with whether it needs a reply and 1-3 reasons."""
        fv = extract(msg, ctx)
        return self.prioritise_features(fv)

    def prioritise_features(self, fv: FeatureVector) -> Priority:
        """Score already-extracted features (the same result as ``prioritise``)."""
        z = float(self._weights @ fv.values)
        return Priority(
            score=_sigmoid(z), needs_reply=needs_reply_rule(fv), reasons=explain(fv, self._weights)
        )
