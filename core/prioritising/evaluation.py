"""How well a prioritiser predicts "did the owner reply": per-owner ROC-AUC and NDCG@10.

Protocol (the same for ``minime eval``, ``quality`` and ``bench/priority_eval.py``):

* **Candidates** for an owner are the messages from others that are addressed to them (one of
  their names anywhere in the text, which covers IRC's ``nick: ...``) or that they answered.
  **Label** = the owner answered it: some message of the owner has ``reply_to`` equal to its id.
  The learned model trains on the same kind of messages (``learn_from_history(only=...)``),
  selected and labelled with the replies made before the cut-off.
* **Chronological split** per owner: candidates in stream order, the first 80 % are training
  time, the rest held out. The learned model learns from the history before the first held-out
  candidate only (``Prioritiser.learn_from_history``, with labels known before the cut-off).
* **Features at arrival**: every held-out message is scored from what was known just before it.
  By default (``live_context=False``) the statistics of the owner's answers — reply rates,
  reply speed, reciprocity, the semantic memory, the model — are frozen at the cut-off; only the
  live stream state (who wrote where and when in the last minutes, which messages are the
  owner's, who the owner is talking with right now) moves on. With
  ``live_context=True`` the answer statistics keep updating from the stream, as they would in
  production (the model weights stay frozen either way).
* **ROC-AUC** over all held-out candidates of the owner (ties count one half).
* **NDCG@10** answers "what should the owner look at first": held-out candidates are grouped by
  conversation (for the IRC corpus one log file ≈ one day of the channel, i.e. one day's inbox),
  each group is ranked by score, NDCG@10 with binary gains is computed per group and averaged
  over the groups that contain at least one answered message. Ties are scored in expectation
  over random tie-breaking (each tied position earns the tie group's mean gain), so a model
  with many equal scores neither gains nor loses from the input order.
* Means over owners are unweighted (each owner counts once).
* **Caveat of the candidate set**: a candidate that does not name the owner is in the set only
  because the owner answered it, so "does not name me" predicts "answered" by construction, and
  a model trained on the same kind of candidates learns that shortcut. ``auc_addressed_*`` is
  the AUC on the held-out candidates that name the owner, where the shortcut does not exist:
  it is the figure closest to "which of the messages addressed to me will I answer".
* ``needs_f1_*``: F1 of the needs-reply judgement against "the owner replied" on the held-out
  candidates (learned model vs the heuristic's rule).

The heuristic and the learned model score the *same* feature vectors from the same context, so
the comparison isolates the weights (and the learned semantic feature).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import numpy as np

from core.models import Message, StoredMessage, UserRef
from core.ports import Embedder, Vector
from core.prioritising.context import OwnerContext
from core.prioritising.heuristic import HeuristicPrioritiser
from core.prioritising.learned import Prioritiser, to_incoming
from core.prioritising.signals import name_pattern

_T = TypeVar("_T")


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Probability that a random positive outscores a random negative (ties count 1/2).

    Returns NaN when only one class is present.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def ndcg_at_k(scores: Sequence[float], labels: Sequence[bool], k: int = 10) -> float:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerResult:
    """One owner's figures for both prioritisers."""

    owner: str
    train_candidates: int
    train_labels: int
    """Labelled examples the learned model actually learned from (its own replay)."""
    test_candidates: int
    test_answered: int
    ndcg_lists: int
    auc_learned: float
    auc_heuristic: float
    ndcg_learned: float
    ndcg_heuristic: float
    auc_addressed_learned: float
    """ROC-AUC on the held-out candidates that name the owner (leaving out the answered-only ones)."""
    auc_addressed_heuristic: float
    needs_f1_learned: float
    """F1 of the learned needs-reply judgement against "the owner replied" (held-out)."""
    needs_f1_rule: float
    """The same for the heuristic's needs-reply rule."""
    auc_gain_se: float
    """Bootstrap standard error of ``auc_learned - auc_heuristic`` (held-out messages resampled)."""
    auc_addressed_gain_se: float


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalReport:
    """Per-owner results and their unweighted means."""

    owners: tuple[OwnerResult, ...]
    semantic: bool
    live_context: bool
    mean: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "semantic": self.semantic,
            "live_context": self.live_context,
            "mean": self.mean,
            "owners": [
                {
                    "owner": r.owner,
                    "train_candidates": r.train_candidates,
                    "train_labels": r.train_labels,
                    "test_candidates": r.test_candidates,
                    "test_answered": r.test_answered,
                    "ndcg_lists": r.ndcg_lists,
                    "auc_learned": r.auc_learned,
                    "auc_heuristic": r.auc_heuristic,
                    "ndcg10_learned": r.ndcg_learned,
                    "ndcg10_heuristic": r.ndcg_heuristic,
                    "auc_addressed_learned": r.auc_addressed_learned,
                    "auc_addressed_heuristic": r.auc_addressed_heuristic,
                    "needs_reply_f1_learned": r.needs_f1_learned,
                    "needs_reply_f1_rule": r.needs_f1_rule,
                    "auc_gain_se": r.auc_gain_se,
                    "auc_addressed_gain_se": r.auc_addressed_gain_se,
                }
                for r in self.owners
            ],
        }


def most_active_senders(
    messages: Sequence[Message], n: int, *, exclude: Sequence[str] = ()
) -> list[str]:
    """The ``n`` senders with the most messages, leaving out ``exclude`` (bots)."""
    skip = {e.lower() for e in exclude}
    counts = Counter(m.sender.lower() for m in messages if m.sender.lower() not in skip)
    return [s for s, _ in counts.most_common(n)]


def candidates(messages: Sequence[Message], owner: str) -> dict[str, bool]:
    """The owner's candidate messages (addressed to or answered by them) → answered or not."""
    key = owner.lower()
    by_id = {m.id: m for m in messages}
    answered = {
        m.reply_to
        for m in messages
        if m.sender.lower() == key
        and m.reply_to is not None
        and m.reply_to in by_id
        and by_id[m.reply_to].sender.lower() != key
    }
    pattern = name_pattern([owner])
    out: dict[str, bool] = {}
    for m in messages:
        if m.sender.lower() == key:
            continue
        if m.id in answered or (pattern is not None and pattern.search(m.text)):
            out[m.id] = m.id in answered
    return out


def evaluate_owner(
    messages: Sequence[Message],
    owner: str,
    *,
    vectors: Mapping[str, Vector] | None = None,
    train_share: float = 0.8,
    live_context: bool = False,
    ignore_after: timedelta = timedelta(hours=2),
    k: int = 10,
    bootstrap: int = 200,
) -> OwnerResult:
    """Train the learned model on the owner's past and score both prioritisers on the rest.

    Args:
        messages: the whole stream, in time order.
        owner: the sender who plays the owner.
        vectors: embeddings by message id for the semantic feature (``None``: without it).
        train_share: the share of the owner's candidates (chronologically) used for training.
        live_context: keep answer statistics updating after the cut-off (see module notes).
        ignore_after: how long an addressed message waits before it counts as ignored.
        k: the NDCG cut-off.
        bootstrap: resampling rounds for the standard error of the AUC gain (0: none).
    """
    labels = candidates(messages, owner)
    order = [m.id for m in messages if m.id in labels]
    n_train = int(len(order) * train_share)
    if n_train == 0 or n_train == len(order):
        raise ValueError(f"{owner}: too few candidates to split ({len(order)})")
    first_test = order[n_train]
    cut = next(i for i, m in enumerate(messages) if m.id == first_test)
    key = owner.lower()
    stored = [
        StoredMessage(message=m, persona_id="eval", from_owner=m.sender.lower() == key)
        for m in messages
    ]

    ctx = OwnerContext(owner_names=[owner])
    learned = Prioritiser()
    # Train on the same kind of messages as the test (addressed to or answered by the owner),
    # as far as it is known before the cut-off.
    trained = learned.learn_from_history(
        stored[:cut],
        ctx,
        vectors=vectors if vectors is not None else {},
        ignore_after=ignore_after,
        only=candidates(messages[:cut], owner).keys(),
    )
    heuristic = HeuristicPrioritiser()
    user = UserRef(platform="eval", user_id=owner)
    scores_l: list[float] = []
    scores_h: list[float] = []
    truth: list[bool] = []
    groups: list[str] = []
    named: list[bool] = []
    needs_l: list[bool] = []
    needs_h: list[bool] = []
    pattern = name_pattern([owner])
    for s in stored[cut:]:
        m = s.message
        if m.id in labels:
            vector = vectors.get(m.id) if vectors is not None else None
            fv = learned.features(to_incoming(m, user), ctx, vector=vector)
            judged = learned.prioritise_features(fv)
            ruled = heuristic.prioritise_features(fv)
            scores_l.append(judged.score)
            scores_h.append(ruled.score)
            needs_l.append(judged.needs_reply)
            needs_h.append(ruled.needs_reply)
            truth.append(labels[m.id])
            groups.append(m.conversation)
            named.append(pattern is not None and pattern.search(m.text) is not None)
        ctx.observe(m, from_owner=s.from_owner, learn=live_context)

    by_group: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        by_group[g].append(i)
    ndcg_l: list[float] = []
    ndcg_h: list[float] = []
    for rows in by_group.values():
        y = [truth[i] for i in rows]
        if not any(y):
            continue
        ndcg_l.append(ndcg_at_k([scores_l[i] for i in rows], y, k))
        ndcg_h.append(ndcg_at_k([scores_h[i] for i in rows], y, k))
    return OwnerResult(
        owner=owner,
        train_candidates=n_train,
        train_labels=trained,
        test_candidates=len(truth),
        test_answered=sum(truth),
        ndcg_lists=len(ndcg_l),
        auc_learned=roc_auc(scores_l, truth),
        auc_heuristic=roc_auc(scores_h, truth),
        ndcg_learned=float(np.mean(ndcg_l)) if ndcg_l else math.nan,
        ndcg_heuristic=float(np.mean(ndcg_h)) if ndcg_h else math.nan,
        auc_addressed_learned=roc_auc(_pick(scores_l, named), _pick(truth, named)),
        auc_addressed_heuristic=roc_auc(_pick(scores_h, named), _pick(truth, named)),
        needs_f1_learned=f1(needs_l, truth),
        needs_f1_rule=f1(needs_h, truth),
        auc_gain_se=_gain_se(scores_l, scores_h, truth, bootstrap),
        auc_addressed_gain_se=_gain_se(
            _pick(scores_l, named), _pick(scores_h, named), _pick(truth, named), bootstrap
        ),
    )


def _gain_se(
    learned: Sequence[float], heuristic: Sequence[float], truth: Sequence[bool], rounds: int
) -> float:
    """Bootstrap SE of the AUC gain, resampling held-out messages (fixed seed: reproducible)."""
    if rounds <= 1 or len(truth) < 2:
        return math.nan
    rng = np.random.default_rng(0)
    a, b, y = np.asarray(learned), np.asarray(heuristic), np.asarray(truth, dtype=bool)
    gains = []
    for _ in range(rounds):
        rows = rng.integers(0, len(y), len(y))
        gain = roc_auc(a[rows].tolist(), y[rows].tolist()) - roc_auc(
            b[rows].tolist(), y[rows].tolist()
        )
        if not math.isnan(gain):
            gains.append(gain)
    return float(np.std(gains, ddof=1)) if len(gains) > 1 else math.nan


def f1(predicted: Sequence[bool], truth: Sequence[bool]) -> float:
    """F1 of boolean predictions (0 when nothing is predicted or nothing is true)."""
    hits = sum(p and t for p, t in zip(predicted, truth, strict=True))
    if hits == 0:
        return 0.0
    precision = hits / sum(predicted)
    recall = hits / sum(truth)
    return 2 * precision * recall / (precision + recall)


def _pick(values: Sequence[_T], mask: Sequence[bool]) -> list[_T]:
    return [v for v, keep in zip(values, mask, strict=True) if keep]


def evaluate(
    messages: Sequence[Message],
    owners: Sequence[str],
    *,
    embedder: Embedder | None = None,
    vectors: Mapping[str, Vector] | None = None,
    live_context: bool = False,
    train_share: float = 0.8,
) -> EvalReport:
    """Evaluate every owner; ``embedder`` (or precomputed ``vectors``) adds the semantic feature.

    With an embedder, only the texts that can matter are encoded: each owner's candidates and
    the messages that answer someone or that the learned replay may label.
    """
    if vectors is None and embedder is not None:
        vectors = encode_relevant(messages, owners, embedder)
    results = tuple(
        evaluate_owner(
            messages, owner, vectors=vectors, live_context=live_context, train_share=train_share
        )
        for owner in owners
    )
    mean = {
        "auc_gain_se": _mean_se([r.auc_gain_se for r in results]),
        "auc_addressed_gain_se": _mean_se([r.auc_addressed_gain_se for r in results]),
    }
    mean |= {
        name: float(np.nanmean([getattr(r, name) for r in results]))
        for name in (
            "auc_learned",
            "auc_heuristic",
            "ndcg_learned",
            "ndcg_heuristic",
            "auc_addressed_learned",
            "auc_addressed_heuristic",
            "needs_f1_learned",
            "needs_f1_rule",
        )
    }
    return EvalReport(
        owners=results, semantic=vectors is not None, live_context=live_context, mean=mean
    )


def _mean_se(errors: Sequence[float]) -> float:
    """SE of a mean of independent per-owner estimates."""
    known = [e for e in errors if not math.isnan(e)]
    return math.sqrt(sum(e * e for e in known)) / len(known) if known else math.nan


def encode_relevant(
    messages: Sequence[Message], owners: Sequence[str], embedder: Embedder
) -> dict[str, Vector]:
    """Embeddings of every message that is, or may become, a labelled example for an owner."""
    keys = {o.lower() for o in owners}
    pattern = name_pattern(owners)
    answered_by_owner = {m.reply_to for m in messages if m.sender.lower() in keys and m.reply_to}
    owner_ids = {m.id for m in messages if m.sender.lower() in keys}
    wanted = [
        m
        for m in messages
        if m.id in answered_by_owner
        or (m.reply_to is not None and m.reply_to in owner_ids)
        or (pattern is not None and pattern.search(m.text))
    ]
    if not wanted:
        return {}
    encoded = embedder.encode([m.text for m in wanted])
    return {m.id: encoded[i] for i, m in enumerate(wanted)}
