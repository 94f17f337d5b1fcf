"""Two versions of the style verifier compared on the same held-out messages (pure).

The messages are those written after the newer version was trained: neither version has seen
them. Each version's ROC-AUC of "the owner wrote it" (the owner's messages against their
contacts'), with bootstrap 95% intervals, and the paired difference (new − previous) with its own
interval, resampling the same messages for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

MIN_EACH = 10
"""Held-out messages needed on each side (the owner's, others') to compare versions."""
ROUNDS = 500


class Scorer(Protocol):
    def decision_values(self, texts: Sequence[str]) -> FloatArray: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """Both versions' ROC-AUC on the same messages, with 95% intervals."""

    owner_messages: int
    other_messages: int
    new_auc: float
    new_ci: tuple[float, float]
    old_auc: float
    old_ci: tuple[float, float]
    difference: float
    difference_ci: tuple[float, float]

    def line(self, new_version: int, old_version: int) -> str:
        return (
            f"Style verifier v{new_version} vs v{old_version} on the same "
            f"{self.owner_messages + self.other_messages} messages written since v{new_version} "
            f"was trained ({self.owner_messages} yours, {self.other_messages} others'; neither "
            f"version saw them): ROC-AUC {self.new_auc:.2f} ({_ci(self.new_ci)}) vs "
            f"{self.old_auc:.2f} ({_ci(self.old_ci)}); difference {self.difference:+.2f} "
            f"({_ci(self.difference_ci)})."
        )


def _ci(ci: tuple[float, float]) -> str:
    return f"95% CI {ci[0]:.2f}–{ci[1]:.2f}"


def _auc(pos: FloatArray, neg: FloatArray) -> float:
    """Probability that an owner message outscores another's (ties count half)."""
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def compare(
    new: Scorer,
    old: Scorer,
    owner_texts: Sequence[str],
    other_texts: Sequence[str],
    *,
    rounds: int = ROUNDS,
    seed: int = 0,
) -> Comparison | None:
    """Both verifiers on the same held-out texts; ``None`` with fewer than :data:`MIN_EACH` a side."""
    if len(owner_texts) < MIN_EACH or len(other_texts) < MIN_EACH:
        return None
    texts = [*owner_texts, *other_texts]
    scores = {
        "new": np.asarray(new.decision_values(texts), dtype=np.float64),
        "old": np.asarray(old.decision_values(texts), dtype=np.float64),
    }
    n_pos = len(owner_texts)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {"new": [], "old": [], "diff": []}
    for _ in range(rounds):
        pos = rng.integers(0, n_pos, n_pos)
        neg = n_pos + rng.integers(0, len(other_texts), len(other_texts))
        a = _auc(scores["new"][pos], scores["new"][neg])
        b = _auc(scores["old"][pos], scores["old"][neg])
        draws["new"].append(a)
        draws["old"].append(b)
        draws["diff"].append(a - b)

    def interval(key: str) -> tuple[float, float]:
        low, high = np.percentile(draws[key], [2.5, 97.5])
        return float(low), float(high)

    new_auc = _auc(scores["new"][:n_pos], scores["new"][n_pos:])
    old_auc = _auc(scores["old"][:n_pos], scores["old"][n_pos:])
    return Comparison(
        owner_messages=n_pos,
        other_messages=len(other_texts),
        new_auc=new_auc,
        new_ci=interval("new"),
        old_auc=old_auc,
        old_ci=interval("old"),
        difference=new_auc - old_auc,
        difference_ci=interval("diff"),
    )
