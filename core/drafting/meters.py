"""The "sounds like you" meter, calibrated on the owner's held-out messages.

The style verifier's probability saturates: once trained, every text the owner ever wrote reads
100, so the three options of a card all read the same. :class:`StyleMeter` maps the verifier's raw
decision value through the distribution of a reference set of the owner's own messages: "sounds
like you 70" means the text reads more like the owner than 70% of those do. The mapping is
monotone, so it discriminates exactly as the verifier does (its ROC-AUC against other writers'
messages is recorded in ``auc``), but it spreads the owner's own texts over 0-100 instead of piling
them at 100.

The evaluation (``core.drafting.evaluation``) calibrates on the owner's *held-out* messages and
measures the AUC on a later test split; the persona model places the meter among the owner's own
replies, which are the very candidates drafting offers, so the options of a card read different
values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from core.drafting.fit import roc_auc

LEVELS = 101
"""Quantiles of the owner's held-out decision values kept (the meter's whole state)."""
MIN_HELD_OUT = 5


class DecisionScorer(Protocol):
    """A style verifier's raw output: higher reads more like the owner."""

    def decision_values(self, texts: Sequence[str]) -> npt.NDArray[np.float64]: ...


@dataclass(frozen=True, slots=True, eq=False)
class StyleMeter:
    """ "Sounds like you" 0-100: the owner-percentile of the verifier's decision value.

    Attributes:
        verifier: The owner's style verifier.
        levels: Increasing quantiles of its decision values on the owner's held-out messages.
        auc: ROC-AUC of the verifier on the owner's held-out messages against other writers'.
    """

    verifier: DecisionScorer
    levels: npt.NDArray[np.float64]
    auc: float | None = None

    @classmethod
    def calibrate(
        cls,
        verifier: DecisionScorer,
        owner_held_out: Sequence[str],
        others: Sequence[str] = (),
    ) -> StyleMeter:
        """Calibrate on texts the verifier did not train on.

        Args:
            verifier: The owner's verifier, trained on other (older) messages.
            owner_held_out: The owner's held-out messages (at least :data:`MIN_HELD_OUT`).
            others: Other writers' held-out messages, for the recorded AUC.

        Raises:
            ValueError: Too few held-out owner messages to calibrate on.
        """
        owner = [t for t in owner_held_out if t.strip()]
        if len(owner) < MIN_HELD_OUT:
            raise ValueError(f"need at least {MIN_HELD_OUT} held-out messages of the owner")
        own = np.asarray(verifier.decision_values(owner), dtype=np.float64)
        other = [t for t in others if t.strip()]
        auc = roc_auc(own, verifier.decision_values(other)) if other else None
        levels = np.quantile(own, np.linspace(0.0, 1.0, LEVELS))
        return cls(verifier=verifier, levels=levels, auc=auc)

    def percentiles(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The meter for raw decision values (0-100, monotone, interpolated between levels)."""
        grid = np.linspace(0.0, 100.0, len(self.levels))
        # Equal levels (ties) would make interp ill-defined; nudge them apart.
        levels = self.levels + np.arange(len(self.levels)) * 1e-9
        out: npt.NDArray[np.float64] = np.interp(values, levels, grid, left=0.0, right=100.0)
        return out

    def score(self, texts: Sequence[str]) -> list[int]:
        """ "Sounds like you" of each text, 0-100."""
        if not texts:
            return []
        raw = np.asarray(self.verifier.decision_values(list(texts)), dtype=np.float64)
        return [int(v) for v in np.rint(self.percentiles(raw))]

    def to_bytes(self) -> bytes:
        """The calibration only (the verifier is stored on its own)."""
        return json.dumps({"levels": [float(x) for x in self.levels], "auc": self.auc}).encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, verifier: DecisionScorer) -> StyleMeter:
        """A meter written by :meth:`to_bytes`, over ``verifier``."""
        payload = json.loads(data.decode())
        return cls(
            verifier=verifier,
            levels=np.asarray(payload["levels"], dtype=np.float64),
            auc=payload["auc"],
        )
