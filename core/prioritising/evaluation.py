"""How well triage predicts "did the owner reply", per owner, against two baselines.

Protocol (``bench/priority_eval.py`` and ``owner_quality`` for one owner):

* **Rows**: every message the owner received (``core.prioritising.rows``: naming them, or while
  they were present), never a set built from what they answered; label = the owner replied.
* **Chronological split** per owner: the first ``train_share`` (70 %) of their rows are their
  history, the rest is held out. Features are computed at arrival from the past only.
* **Three scorers on the same held-out rows**:
  - *model*: the global prior (learned across other owners, ``GlobalPrior``) adapted to this
    owner by a Bayesian online update over their history rows (``OnlineLogit``);
  - *simple LR*: a global logistic regression on ``SIMPLE_FEATURES`` (the sender's past reply
    rate, the position in the reply chain, question marks, length), fitted on the same owners
    as the prior;
  - *heuristic*: the walking skeleton's fixed weights.
* **ROC-AUC** over the owner's held-out rows; **NDCG@10** per inbox list (the owner's received
  messages of one conversation and hour: what waits when they look), averaged over the lists
  with at least one reply. Ties are scored in expectation.
* **Confidence intervals**: bootstrap over inbox lists within an owner (rows of one list are not
  independent); for means over owners, a two-stage bootstrap (owners, then lists within each).
  Means over owners are unweighted.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from core.models import Message
from core.prioritising.context import OnboardingAnswers
from core.prioritising.heuristic import heuristic_weights
from core.prioritising.model import OnlineLogit
from core.prioritising.prior import GlobalPrior, load_global_prior
from core.prioritising.rows import OwnerRows, owner_rows

FloatArray = npt.NDArray[np.float64]
_ADDRESSING = (
    "mention",
    "mention_start",
    "reply_to_owner",
    "reply_to_other",
    "owner_in_chain",
    "after_owner",
    "owner_in_thread",
    "owner_active",
    "addressed_other",
    "sender_recent",
    "sender_waiting",
)
METHODS: tuple[str, ...] = ("model", "simple", "heuristic")
_CI = (2.5, 97.5)


def roc_auc(
    scores: Sequence[float] | FloatArray, labels: Sequence[bool] | npt.NDArray[np.bool_]
) -> float:
    """Probability that a random positive outscores a random negative (ties count 1/2).

    Returns NaN when only one class is present.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    value = _weighted_auc(s, y, np.ones((1, len(s))))[0]
    return float(value)


def _weighted_auc(scores: FloatArray, y: npt.NDArray[np.bool_], weights: FloatArray) -> FloatArray:
    """AUC under each row of ``weights`` (row multiplicities, e.g. bootstrap counts)."""
    order = np.argsort(scores, kind="mergesort")
    s, yy, w = scores[order], y[order], weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(s) else np.array([], dtype=int)
    pos = np.add.reduceat(w * yy, starts, axis=1) if len(s) else np.zeros((len(w), 0))
    neg = np.add.reduceat(w * ~yy, starts, axis=1) if len(s) else np.zeros((len(w), 0))
    below = np.cumsum(neg, axis=1) - neg
    total = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(
            total > 0, (pos * (below + 0.5 * neg)).sum(axis=1) / total, np.nan
        )
    return out


def ndcg_at_k(
    scores: Sequence[float] | FloatArray,
    labels: Sequence[bool] | npt.NDArray[np.bool_],
    k: int = 10,
) -> float:
    """NDCG@k with binary gains, in expectation over random order among tied scores.

    ``DCG = Σ gain_i / log2(i + 1)`` over ranks ``i = 1..k``; a tied group of scores spreads its
    mean gain over the ranks it occupies. Returns NaN when there is no positive.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    n_pos = int(y.sum())
    if n_pos == 0:
        return math.nan
    discounts = 1.0 / np.log2(np.arange(2, len(s) + 2))
    order = np.argsort(-s, kind="mergesort")
    sorted_s, sorted_y = s[order], y[order]
    gains = np.empty(len(s), dtype=np.float64)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        gains[i : j + 1] = sorted_y[i : j + 1].mean()
        i = j + 1
    dcg = float((gains[:k] * discounts[:k]).sum())
    ideal = float(discounts[: min(k, n_pos)].sum())
    return dcg / ideal


def f1(predicted: Sequence[bool], truth: Sequence[bool]) -> float:
    """F1 of boolean predictions (0 when nothing is predicted or nothing is true)."""
    hits = sum(p and t for p, t in zip(predicted, truth, strict=True))
    if hits == 0:
        return 0.0
    precision = hits / sum(predicted)
    recall = hits / sum(truth)
    return 2 * precision * recall / (precision + recall)


def most_active_senders(
    messages: Sequence[Message], n: int, *, exclude: Sequence[str] = ()
) -> list[str]:
    """The ``n`` senders with the most messages, leaving out ``exclude`` (bots)."""
    skip = {e.lower() for e in exclude}
    counts = Counter(m.sender.lower() for m in messages if m.sender.lower() not in skip)
    return [s for s, _ in counts.most_common(n)]


def chronological_split(rows: OwnerRows, train_share: float = 0.7) -> tuple[OwnerRows, OwnerRows]:
    """The owner's first ``train_share`` of rows (their history) and the rest (held out)."""
    n_train = int(len(rows) * train_share)
    return rows.take(slice(0, n_train)), rows.take(slice(n_train, None))


def adapt(prior: GlobalPrior, history: OwnerRows) -> OnlineLogit:
    """The prior adapted to one owner: a Bayesian update over their history rows."""
    model = OnlineLogit(prior.weights, prior.precision)
    model.fit(history.x, history.y.astype(np.float64))
    return model


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerResult:
    """One owner's held-out figures for the three scorers (``METHODS``)."""

    owner: str
    history_rows: int
    test_rows: int
    test_replies: int
    lists: int
    """Inbox lists with at least one reply (those NDCG@10 averages over)."""
    coverage: float
    auc: Mapping[str, float]
    ndcg: Mapping[str, float]
    auc_ci: Mapping[str, tuple[float, float]]
    ndcg_ci: Mapping[str, tuple[float, float]]
    boot_auc: Mapping[str, FloatArray] = field(repr=False)
    """Bootstrap draws (over inbox lists) of each AUC, for the two-stage CI of means."""
    boot_ndcg: Mapping[str, FloatArray] = field(repr=False)

    def as_json(self) -> dict[str, object]:
        return {
            "owner": self.owner,
            "history_rows": self.history_rows,
            "test_rows": self.test_rows,
            "test_replies": self.test_replies,
            "lists": self.lists,
            "coverage": self.coverage,
            "auc": dict(self.auc),
            "ndcg10": dict(self.ndcg),
            "auc_ci": {k: list(v) for k, v in self.auc_ci.items()},
            "ndcg10_ci": {k: list(v) for k, v in self.ndcg_ci.items()},
        }


def _ci(draws: FloatArray) -> tuple[float, float]:
    known = draws[~np.isnan(draws)]
    if len(known) < 2:
        return (math.nan, math.nan)
    lo, hi = np.percentile(known, _CI)
    return (float(lo), float(hi))


def _list_ndcg(
    scores: FloatArray, y: npt.NDArray[np.bool_], lists: Sequence[str], k: int
) -> dict[str, float]:
    """NDCG@k of each inbox list that holds a reply."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(lists):
        members[name].append(i)
    return {
        name: ndcg_at_k(scores[rows], y[rows], k) for name, rows in members.items() if y[rows].any()
    }


def score_rows(prior: GlobalPrior, history: OwnerRows, test: OwnerRows) -> dict[str, FloatArray]:
    """The three scorers' log-odds on ``test`` (the model adapted on ``history``)."""
    if prior.simple is None:
        raise ValueError("the prior carries no simple baseline")
    return {
        "model": test.x @ adapt(prior, history).mean,
        "simple": prior.simple.score(test.simple),
        "heuristic": test.x @ heuristic_weights(),
    }


def evaluate_rows(
    rows: OwnerRows,
    prior: GlobalPrior,
    *,
    train_share: float = 0.7,
    k: int = 10,
    bootstrap: int = 1000,
    seed: int = 0,
) -> OwnerResult:
    """Split one owner's rows in time, adapt the model on the past, score the rest.

    Args:
        rows: the owner's received messages (``owner_rows``).
        prior: the global prior (with its simple baseline).
        train_share: the chronological share of rows that is the owner's history.
        k: the NDCG cut-off.
        bootstrap: resampling rounds over inbox lists for the confidence intervals.
        seed: the bootstrap's seed (reproducible figures).
    """
    history, test = chronological_split(rows, train_share)
    scores = score_rows(prior, history, test)
    names = sorted(set(test.lists))
    list_index = {name: i for i, name in enumerate(names)}
    row_list = np.array([list_index[name] for name in test.lists], dtype=np.intp)
    # Two-stage bootstrap, stage two: inbox lists drawn with replacement, as row multiplicities.
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(names), np.full(len(names), 1.0 / len(names)), size=bootstrap)
    row_weights = counts[:, row_list].astype(np.float64)
    replied = sorted({test.lists[i] for i in np.flatnonzero(test.y)})
    replied_index = np.array([list_index[name] for name in replied], dtype=np.intp)
    list_weights = counts[:, replied_index].astype(np.float64)
    auc: dict[str, float] = {}
    ndcg: dict[str, float] = {}
    boot_auc: dict[str, FloatArray] = {}
    boot_ndcg: dict[str, FloatArray] = {}
    for method, s in scores.items():
        auc[method] = roc_auc(s, test.y)
        by_list = _list_ndcg(s, test.y, test.lists, k)
        per_list = np.array([by_list[name] for name in replied], dtype=np.float64)
        ndcg[method] = float(per_list.mean()) if len(per_list) else math.nan
        boot_auc[method] = _weighted_auc(s, test.y, row_weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            boot_ndcg[method] = (list_weights @ per_list) / list_weights.sum(axis=1)
    return OwnerResult(
        owner=rows.owner,
        history_rows=len(history),
        test_rows=len(test),
        test_replies=int(test.y.sum()),
        lists=len(replied),
        coverage=rows.coverage,
        auc=auc,
        ndcg=ndcg,
        auc_ci={m: _ci(d) for m, d in boot_auc.items()},
        ndcg_ci={m: _ci(d) for m, d in boot_ndcg.items()},
        boot_auc=boot_auc,
        boot_ndcg=boot_ndcg,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Unweighted means over owners, with two-stage bootstrap CIs, and the model's gains."""

    owners: int
    auc: Mapping[str, float]
    ndcg: Mapping[str, float]
    auc_ci: Mapping[str, tuple[float, float]]
    ndcg_ci: Mapping[str, tuple[float, float]]
    gain: Mapping[str, float]
    """``model - simple`` and ``model - heuristic``, for AUC and NDCG@10 (keys ``auc_vs_simple``...)."""
    gain_ci: Mapping[str, tuple[float, float]]

    def as_json(self) -> dict[str, object]:
        return {
            "owners": self.owners,
            "auc": dict(self.auc),
            "ndcg10": dict(self.ndcg),
            "auc_ci": {k: list(v) for k, v in self.auc_ci.items()},
            "ndcg10_ci": {k: list(v) for k, v in self.ndcg_ci.items()},
            "gain": dict(self.gain),
            "gain_ci": {k: list(v) for k, v in self.gain_ci.items()},
        }


def summarise(results: Sequence[OwnerResult], *, seed: int = 0) -> Summary:
    """Means over owners; CIs resample owners, then use each owner's own list-level draws."""
    rounds = min(len(r.boot_auc["model"]) for r in results)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(results), size=(rounds, len(results)))

    def means(metric: str, method: str) -> tuple[float, FloatArray]:
        point = [getattr(r, metric)[method] for r in results]
        draws = np.stack([getattr(r, f"boot_{metric}")[method][:rounds] for r in results], axis=1)
        chosen = np.take_along_axis(draws, picks, axis=1)
        return float(np.nanmean(point)), np.nanmean(chosen, axis=1)

    auc, ndcg, auc_ci, ndcg_ci, boot = {}, {}, {}, {}, {}
    for method in METHODS:
        auc[method], boot[("auc", method)] = means("auc", method)
        ndcg[method], boot[("ndcg", method)] = means("ndcg", method)
        auc_ci[method] = _ci(boot[("auc", method)])
        ndcg_ci[method] = _ci(boot[("ndcg", method)])
    gain, gain_ci = {}, {}
    for metric, points in (("auc", auc), ("ndcg", ndcg)):
        for other in ("simple", "heuristic"):
            name = f"{metric}_vs_{other}"
            gain[name] = points["model"] - points[other]
            gain_ci[name] = _ci(boot[(metric, "model")] - boot[(metric, other)])
    return Summary(
        owners=len(results),
        auc=auc,
        ndcg=ndcg,
        auc_ci=auc_ci,
        ndcg_ci=ndcg_ci,
        gain=gain,
        gain_ci=gain_ci,
    )


def owner_quality(
    messages: Sequence[Message],
    owner: str,
    *,
    prior: GlobalPrior | None = None,
    onboarding: OnboardingAnswers | None = None,
    exclude: Sequence[str] = (),
    train_share: float = 0.7,
    bootstrap: int = 1000,
) -> OwnerResult:
    """Priority quality for one owner on their own history (what ``quality`` reports).

    Args:
        messages: everything the owner's import holds, theirs and others'.
        owner: the owner's sender name in ``messages``.
        prior: the global prior; by default the shipped one.
        onboarding: the owner's stated VIPs, topics and low-priority senders.
        exclude: senders to leave out (bots).
        train_share: the chronological share of received messages used as history.
        bootstrap: resampling rounds for the confidence intervals.
    """
    rows = owner_rows(messages, owner, exclude=exclude, onboarding=onboarding)
    history, test = chronological_split(rows, train_share)
    if not history.y.any() or not test.y.any() or test.y.all():
        raise ValueError(f"{owner}: too few replies to measure ({int(rows.y.sum())})")
    return evaluate_rows(
        rows,
        prior if prior is not None else load_global_prior(),
        train_share=train_share,
        bootstrap=bootstrap,
    )


def fit_prior(
    rows: Sequence[OwnerRows],
    *,
    c: float = 1.0,
    precision: float = 20.0,
    meta: Mapping[str, object] | None = None,
) -> GlobalPrior:
    """Fit the global prior and the simple baseline on many owners' rows (pooled).

    Args:
        rows: the training owners' received messages (never an evaluated owner's).
        c: inverse L2 strength of the logistic regressions (scikit-learn's ``C``).
        precision: the prior precision a new owner's labels start against (per feature).
        meta: provenance to ship with the weights (corpus, licence, owners, figures).
    """
    from sklearn.linear_model import LogisticRegression

    from core.prioritising.features import FEATURE_NAMES
    from core.prioritising.prior import LinearScorer, with_stated
    from core.prioritising.rows import SIMPLE_FEATURES

    x = np.concatenate([r.x for r in rows])
    y = np.concatenate([r.y for r in rows])
    simple = np.concatenate([r.simple for r in rows])
    learnable = x.std(axis=0) > 0
    learnable[0] = False  # the bias is the intercept
    model = LogisticRegression(C=c, max_iter=2000).fit(x[:, learnable], y)
    weights = np.zeros(len(FEATURE_NAMES))
    weights[learnable] = model.coef_[0]
    weights[0] = float(model.intercept_[0])
    # The corpus has no direct messages. A typical one (average features, but none of the
    # channel's addressing or presence signals, which a DM does not need) is given the reply
    # rate of messages that start with the owner's name ("sam: ...", IRC's way to address one).
    start = x[:, FEATURE_NAMES.index("mention_start")] > 0
    typical = x.mean(axis=0)
    typical[[FEATURE_NAMES.index(n) for n in _ADDRESSING]] = 0.0
    dm = _logit(float(y[start].mean())) - float(weights @ typical) if start.any() else None
    w, p = with_stated(weights, np.full(len(FEATURE_NAMES), precision), dm=dm)
    mean, scale = simple.mean(axis=0), simple.std(axis=0)
    scale[scale == 0] = 1.0
    base = LogisticRegression(C=c, max_iter=2000).fit((simple - mean) / scale, y)
    return GlobalPrior(
        weights=w,
        precision=p,
        center=x.mean(axis=0),
        simple=LinearScorer(
            names=SIMPLE_FEATURES,
            mean=mean,
            scale=scale,
            coef=base.coef_[0].astype(np.float64),
            intercept=float(base.intercept_[0]),
        ),
        meta=dict(meta or {}),
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
