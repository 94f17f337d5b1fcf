"""A small, always-available "sounds like you" score from surface habits.

The trained :class:`core.verifier.StyleVerifier` replaces it once a persona has enough samples; this
one needs only a handful of the owner's messages and no training.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_WORD = re.compile(r"\w+")


def _habits(text: str) -> tuple[float, float, float, float, float]:
    words = _WORD.findall(text)
    stripped = text.strip()
    return (
        math.log1p(len(words)),
        1.0 if stripped[:1].islower() else 0.0,
        1.0 if stripped[-1:] in ".!?" else 0.0,
        1.0 if _EMOJI.search(text) else 0.0,
        1.0 if "!" in text else 0.0,
    )


@dataclass(frozen=True, slots=True)
class SurfaceStyleScorer:
    """Scores texts 0-100 by how close their surface habits are to the owner's averages."""

    means: tuple[float, ...]
    spreads: tuple[float, ...]

    @classmethod
    def fit(cls, owner_texts: Sequence[str]) -> SurfaceStyleScorer:
        rows = [_habits(t) for t in owner_texts if t.strip()] or [(2.0, 0.5, 0.5, 0.0, 0.0)]
        columns = list(zip(*rows, strict=True))
        means = tuple(sum(c) / len(c) for c in columns)
        spreads = tuple(
            max(0.25, math.sqrt(sum((x - m) ** 2 for x in c) / len(c)))
            for c, m in zip(columns, means, strict=True)
        )
        return cls(means=means, spreads=spreads)

    def score(self, texts: Sequence[str]) -> list[int]:
        out = []
        for text in texts:
            habits = _habits(text)
            distance = sum(
                ((h - m) / s) ** 2 for h, m, s in zip(habits, self.means, self.spreads, strict=True)
            ) / len(habits)
            out.append(round(100 * math.exp(-distance / 2)))
        return out
