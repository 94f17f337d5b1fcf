"""The global prior: weights learned across many owners, shipped with the package as JSON.

``global_prior.json`` (next to this module) holds a logistic regression over ``FEATURE_NAMES``
fitted on the received messages of many owners of a public chat corpus (``meta`` names it;
``global_prior.LICENSE.txt`` beside it is the attribution its CC-BY licence asks for), the
per-feature confidence a new owner's labels start from, the mean feature values (the reference
point the reasons are measured from), and the simple baseline that the evaluation compares
against. Only coefficients ship: no message text.

The features the corpus cannot teach — what the owner states in onboarding (VIPs, topics,
low-priority senders), direct messages, working hours — keep hand-set weights and a much higher
precision, so that a single tap of feedback cannot overturn what the owner said.

Loaded lazily, once per process (``load_global_prior``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import numpy.typing as npt

from core.prioritising.features import FEATURE_NAMES, INDEX

FloatArray = npt.NDArray[np.float64]
PRIOR_FILE = "global_prior.json"
_FORMAT = "minime.priority-prior/1"

STATED: dict[str, float] = {
    "vip": 2.5,
    "topic": 1.0,
    "low_priority": -2.5,
    "dm": 1.5,
}
"""Features the owner states (or the platform says) rather than the corpus shows: hand-set
log-odds weights (the heuristic's), held with ``STATED_PRECISION``."""
UNTAUGHT: dict[str, float] = {"deadline": 1.0}
"""Features the chat corpus almost never shows (a real date as a deadline), hand-set like the
heuristic's and held with the ordinary precision."""
STATED_PRECISION = 200.0
"""How many labels' worth of confidence an onboarding answer carries: one tap is evidence, not a
verdict; a persistent pattern of taps still moves it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinearScorer:
    """A standardised linear score ``((x - mean) / scale) · coef + intercept`` (log-odds)."""

    names: tuple[str, ...]
    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    intercept: float

    def score(self, x: FloatArray) -> FloatArray:
        """Log-odds for a matrix of rows (columns in ``names`` order)."""
        out: FloatArray = ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.coef
        return out + self.intercept

    def to_json(self) -> dict[str, object]:
        return {
            "names": list(self.names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LinearScorer:
        def arr(key: str) -> FloatArray:
            return np.asarray(data[key], dtype=np.float64)

        names = data["names"]
        intercept = data["intercept"]
        assert isinstance(names, list) and isinstance(intercept, int | float)
        return cls(
            names=tuple(str(n) for n in names),
            mean=arr("mean"),
            scale=arr("scale"),
            coef=arr("coef"),
            intercept=float(intercept),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalPrior:
    """Weights, confidence and reference point for a new owner's prioritiser."""

    weights: FloatArray
    """Log-odds per ``FEATURE_NAMES`` entry, on the raw feature scale (``bias`` included)."""
    precision: FloatArray
    """Per-feature prior precision: how many labels' worth of confidence each weight starts with."""
    center: FloatArray
    """Mean feature values over the training rows: reasons are pushes relative to these."""
    simple: LinearScorer | None = None
    """The evaluation's simple baseline (sender reply rate, chain position, ?, length)."""
    meta: Mapping[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """Plain JSON: feature names with their weight, precision and center."""
        return {
            "format": _FORMAT,
            "features": list(FEATURE_NAMES),
            "weights": self.weights.tolist(),
            "precision": self.precision.tolist(),
            "center": self.center.tolist(),
            "simple": None if self.simple is None else self.simple.to_json(),
            "meta": dict(self.meta),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> GlobalPrior:
        """Read ``to_json`` output; features are matched by name (missing ones weigh 0)."""
        if data.get("format") != _FORMAT:
            raise ValueError("not a priority prior")
        names = data["features"]
        assert isinstance(names, list)
        weights = np.zeros(len(FEATURE_NAMES))
        precision = np.ones(len(FEATURE_NAMES))
        center = np.zeros(len(FEATURE_NAMES))
        for target, key in ((weights, "weights"), (precision, "precision"), (center, "center")):
            values = data[key]
            assert isinstance(values, list)
            for name, value in zip(names, values, strict=True):
                if name in INDEX:
                    target[INDEX[name]] = float(value)
        simple = data.get("simple")
        meta = data.get("meta")
        return cls(
            weights=weights,
            precision=precision,
            center=center,
            simple=LinearScorer.from_json(simple) if isinstance(simple, dict) else None,
            meta=meta if isinstance(meta, dict) else {},
        )


def with_stated(
    weights: FloatArray, precision: FloatArray, *, dm: float | None = None
) -> tuple[FloatArray, FloatArray]:
    """``weights``/``precision`` with ``UNTAUGHT`` and the owner-stated ``STATED`` features set
    (``dm``: the direct-message weight, when derived from data rather than hand-set)."""
    w, p = weights.copy(), precision.copy()
    for name, value in UNTAUGHT.items():
        w[INDEX[name]] = value
    for name, value in STATED.items():
        w[INDEX[name]] = value
        p[INDEX[name]] = STATED_PRECISION
    if dm is not None:
        w[INDEX["dm"]] = dm
    return w, p


def heuristic_prior(weights: Sequence[float] | FloatArray, precision: float = 1.0) -> GlobalPrior:
    """A prior with the given weights, flat precision (stated features held firmly), center 0."""
    w, p = with_stated(
        np.asarray(weights, dtype=np.float64), np.full(len(FEATURE_NAMES), float(precision))
    )
    return GlobalPrior(weights=w, precision=p, center=np.zeros(len(FEATURE_NAMES)))


@functools.cache
def load_global_prior() -> GlobalPrior:
    """The shipped global prior (read once per process)."""
    raw = resources.files("core.prioritising").joinpath(PRIOR_FILE).read_text(encoding="utf-8")
    return GlobalPrior.from_json(json.loads(raw))
