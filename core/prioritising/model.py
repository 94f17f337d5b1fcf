"""Online Bayesian logistic regression: a prior that labels pull away from, one label at a time.

The weights have a Gaussian posterior ``N(mean, precision⁻¹)``. It starts at the global prior
(``mean`` = the prior weights, ``precision`` = ``prior_precision`` · I), and each label is a
Laplace-approximated Bayesian update: a few Newton steps on that label's log-loss plus the current
posterior, then the label's curvature is added to the precision. So the prior dominates while
labels are few and fades as they accumulate, with no blending schedule to tune; a batch ``fit`` is
the same computation over many labels at once (the MAP estimate under the current posterior).

Everything is plain float arrays, serialised as JSON lists: no pickling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
_MAX_STEP = 4.0


def _sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


class OnlineLogit:
    """Logistic regression with a Gaussian prior and exact-curvature online updates.

    Args:
        prior_mean: the cold-start weights (log-odds per feature, bias included).
        prior_precision: how strongly the weights are held to the prior (1/variance); a
            scalar or one value per feature.
    """

    def __init__(self, prior_mean: FloatArray, prior_precision: float | FloatArray = 1.0) -> None:
        self.prior_mean = np.asarray(prior_mean, dtype=np.float64).copy()
        d = self.prior_mean.shape[0]
        diag = np.broadcast_to(np.asarray(prior_precision, dtype=np.float64), (d,)).copy()
        self.prior_precision = diag
        self.mean = self.prior_mean.copy()
        self.precision = np.diag(diag)
        self.labels = 0.0
        """Total label weight seen so far."""

    @property
    def dim(self) -> int:
        """Number of weights."""
        return int(self.mean.shape[0])

    def decision(self, x: FloatArray) -> float:
        """The log-odds for one feature vector."""
        return float(self.mean @ x)

    def proba(self, x: FloatArray) -> FloatArray:
        """Probabilities for a matrix (or vector) of features."""
        return _sigmoid(np.asarray(x, dtype=np.float64) @ self.mean)

    def update(self, x: FloatArray, y: float, weight: float = 1.0, *, steps: int = 3) -> None:
        """Learn from one label (``y`` in [0, 1]) without revisiting old ones."""
        self.fit(x[None, :], np.array([y], dtype=np.float64), np.array([weight]), max_iter=steps)

    def fit(
        self,
        x: FloatArray,
        y: FloatArray | Sequence[float],
        sample_weight: FloatArray | Sequence[float] | None = None,
        *,
        max_iter: int = 30,
        tol: float = 1e-6,
    ) -> None:
        """Absorb a batch of labels: MAP weights under the current posterior, then its curvature."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] == 0:
            return
        targets = np.asarray(y, dtype=np.float64)
        weights = (
            np.ones(x.shape[0], dtype=np.float64)
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        anchor = self.mean.copy()
        w = self.mean.copy()
        for _ in range(max_iter):
            p = _sigmoid(x @ w)
            grad = x.T @ (weights * (p - targets)) + self.precision @ (w - anchor)
            curvature = weights * p * (1.0 - p)
            hessian = (x.T * curvature) @ x + self.precision
            step = np.linalg.solve(hessian, grad)
            largest = float(np.max(np.abs(step)))
            if largest > _MAX_STEP:
                # Damped Newton: the objective is strictly convex, but a long first step on
                # nearly separable labels can overshoot.
                step *= _MAX_STEP / largest
            w = w - step
            if float(np.max(np.abs(step))) < tol:
                break
        p = _sigmoid(x @ w)
        self.precision = (x.T * (weights * p * (1.0 - p))) @ x + self.precision
        self.mean = w
        self.labels += float(weights.sum())

    def to_json(self) -> dict[str, object]:
        """Coefficients as plain lists (the precision as its upper triangle)."""
        upper = self.precision[np.triu_indices(self.dim)]
        return {
            "prior_mean": self.prior_mean.tolist(),
            "prior_precision": self.prior_precision.tolist(),
            "mean": self.mean.tolist(),
            "precision_upper": upper.tolist(),
            "labels": self.labels,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> OnlineLogit:
        """Rebuild a model written by ``to_json``."""
        model = cls(
            np.asarray(data["prior_mean"], dtype=np.float64),
            np.asarray(data["prior_precision"], dtype=np.float64),
        )
        model.mean = np.asarray(data["mean"], dtype=np.float64)
        upper = np.asarray(data["precision_upper"], dtype=np.float64)
        precision = np.zeros((model.dim, model.dim), dtype=np.float64)
        precision[np.triu_indices(model.dim)] = upper
        model.precision = precision + np.triu(precision, 1).T
        labels = data["labels"]
        model.labels = float(labels) if isinstance(labels, int | float) else 0.0
        return model
