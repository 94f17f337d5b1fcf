"""A small, always-available "sounds like you" score from surface habits.

The trained :class:`core.verifier.StyleVerifier` replaces it once a persona has enough samples; this
one needs only a handful of the owner's messages and no training.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.ports import Embedder, Vector
from core.verifier import StyleVerifier

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


MIN_VERIFIER_SAMPLES = 20
"""Below this many owner messages the persona is scored by :class:`SurfaceStyleScorer`."""
MAX_VERIFIER_OWNER = 5000
MAX_VERIFIER_OTHERS = 3000
"""Caps on the texts a persona's verifier trains on (the newest owner texts, a seeded sample of
other senders), so training stays within seconds for large imports."""


class KnownVectors:
    """An Embedder that reuses vectors already computed (the index's reply embeddings) and
    remembers the last few it had to compute, so scoring retrieved options costs no encoder pass.

    Args:
        inner: The real embedder, for texts not seen before.
        known: Embeddings by exact text.
        remember: How many freshly computed vectors to keep (LRU).
    """

    def __init__(
        self, inner: Embedder, known: Mapping[str, Vector], *, remember: int = 4096
    ) -> None:
        self.dim = inner.dim
        self.kind = getattr(inner, "kind", type(inner).__name__)
        self._inner = inner
        self._known = known
        self._recent: OrderedDict[str, Vector] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vector:
        """Embeddings of ``texts``; only unknown texts reach the real embedder."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                vector = self._known.get(text)
                if vector is None:
                    vector = self._recent.get(text)
                    if vector is not None:
                        self._recent.move_to_end(text)
                if vector is None:
                    missing.setdefault(text, []).append(row)
                else:
                    out[row] = vector
        if missing:
            fresh = self._inner.encode(list(missing))
            with self._lock:
                for (text, rows), vector in zip(missing.items(), fresh, strict=True):
                    out[rows] = vector
                    self._recent[text] = vector
                while len(self._recent) > self._remember:
                    self._recent.popitem(last=False)
        return out


def train_style(
    owner_texts: Sequence[str],
    other_texts: Sequence[str],
    background: Sequence[str],
    *,
    embedder: Embedder,
    seed: int = 0,
) -> StyleVerifier | SurfaceStyleScorer:
    """The persona's "sounds like you" scorer: the trained :class:`StyleVerifier` (the owner's
    texts against other senders of their imports plus the shipped background), or the surface
    scorer when there are fewer than :data:`MIN_VERIFIER_SAMPLES` owner texts."""
    owner = [t for t in owner_texts if t.strip()][-MAX_VERIFIER_OWNER:]
    if len(owner) < MIN_VERIFIER_SAMPLES:
        return SurfaceStyleScorer.fit(owner)
    others = [t for t in other_texts if t.strip()]
    if len(others) > MAX_VERIFIER_OTHERS:
        rng = np.random.default_rng(seed)
        picked = sorted(rng.choice(len(others), size=MAX_VERIFIER_OTHERS, replace=False))
        others = [others[i] for i in picked]
    return StyleVerifier.fit(owner, others + list(background), embedder=embedder, seed=seed)


_TRAINED: OrderedDict[str, tuple[bytes, set[str]]] = OrderedDict()
_TRAINED_LOCK = threading.Lock()
_TRAINED_MAX = 4


def _digest(
    embedder: Embedder, owner: Sequence[str], others: Sequence[str], background: Sequence[str]
) -> str:
    kind = getattr(embedder, "kind", type(embedder).__name__)
    h = hashlib.sha256(f"{kind}:{embedder.dim}".encode())
    for block in (owner, others, background):
        h.update(b"\x00block")
        for text in block:
            h.update(text.encode("utf-8", "replace") + b"\x00")
    return h.hexdigest()


def train_style_cached(
    owner_texts: Sequence[str],
    other_texts: Sequence[str],
    background: Sequence[str],
    *,
    embedder: Embedder,
    account_id: str,
    seed: int = 0,
) -> StyleVerifier | SurfaceStyleScorer:
    """:func:`train_style`, remembered for the last few exact inputs in this process.

    Training is a pure function of its inputs, so a re-import of the same data (and every test
    that imports the sample persona) trains once. Entries name the accounts that used them;
    :func:`forget_trained` drops an erased account's.
    """
    key = _digest(embedder, owner_texts, other_texts, background)
    with _TRAINED_LOCK:
        hit = _TRAINED.get(key)
        if hit is not None:
            _TRAINED.move_to_end(key)
            hit[1].add(account_id)
    if hit is not None:
        return StyleVerifier.from_bytes(hit[0], embedder=embedder)
    scorer = train_style(owner_texts, other_texts, background, embedder=embedder, seed=seed)
    if isinstance(scorer, StyleVerifier):
        with _TRAINED_LOCK:
            _TRAINED[key] = (scorer.to_bytes(), {account_id})
            while len(_TRAINED) > _TRAINED_MAX:
                _TRAINED.popitem(last=False)
    return scorer


def forget_trained(account_id: str) -> None:
    """Drop remembered verifiers that an account's data trained (on erasure)."""
    with _TRAINED_LOCK:
        for key in [k for k, (_, owners) in _TRAINED.items() if account_id in owners]:
            del _TRAINED[key]
