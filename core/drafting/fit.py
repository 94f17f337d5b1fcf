"""Reply fit: how well a candidate reply answers a message (DESIGN.md "Reply fit").

Two layers:

* :class:`FitWeights` — the global model, learned offline (``bench/train_fit.py``) from many
  writers' real (message → reply) pairs against replies to other messages nearby in the same
  channel. On the 384-d sentence embeddings ``m`` (message) and ``r`` (candidate reply)::

      s(m, r) = (Aᵀm)·(Bᵀr) + α m·r + u·r + w·f(message, reply) + b

  with a low-rank bilinear term (``A``, ``B``: 384×k), a prior on replies that are answers at all
  (``u``) and a few surface features ``f`` (shared words, lengths, question marks). Everything but
  ``f`` is linear in ``r``, so searching *all* of an owner's replies by fit is one matrix-vector
  product: ``R @ (B Aᵀ m + α m + u)`` (:meth:`FitWeights.query`). The weights ship in
  ``core/drafting/data/fit.npz`` and load lazily, once (:func:`global_weights`).
* :class:`ReplyFit` — the global model adapted to one owner at import: a logistic correction over
  the global score and the surface features, learned from the owner's own pairs against their
  replies to other messages, then Platt-calibrated on the owner's chronologically last pairs so that
  "fits 70" means a 70% chance, among an even mix of the owner's true reply and their replies to
  other messages, that the candidate is the true one. The same held-out pairs set the **gate**: an
  option is offered only at or above :attr:`ReplyFit.threshold`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from core.ports import Vector

FloatArray = npt.NDArray[np.float64]

_WORD = re.compile(r"\w+", re.UNICODE)
_QUESTION = re.compile(r"[?？¿;؟]\s*$|[?？؟]")
_ADDRESS = re.compile(r"^\s*@?[\w.\-\[\]^`|{}]+\s*[:,]\s+")
_CODE = re.compile(r"https?://|\bsudo\b|`|/\w+/|\b\w+\.(?:conf|list|sh|deb|py|txt)\b|--?\w")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "and",
        "or",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "i",
        "you",
        "we",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "me",
        "my",
        "your",
        "can",
        "could",
        "would",
        "will",
        "do",
        "does",
        "did",
        "so",
        "just",
    ]
)
"""Words too common to say two texts are about the same thing (the lexical side of
similarity, here and in retrieval)."""
FEATURES = (
    "shared_words",
    "jaccard",
    "reply_words",
    "message_words",
    "message_question",
    "reply_question",
    "both_question",
    "reply_code",
)
"""The surface features ``f(message, reply)``, in order."""
MIN_ADAPT_PAIRS = 20
"""Below this many owner pairs the global model is used as is, with its global calibration."""
NEGATIVES_PER_PAIR = 4
CALIBRATION_SHARE = 0.25
"""The owner's chronologically last share of pairs: calibration and the gate, never adaptation."""
MAX_ADAPT_PAIRS = 4000
"""Adaptation uses at most the owner's newest pairs of this many (seconds on one core)."""
TARGET_FALSE_ACCEPT = 0.03
"""The gate lets through at most this share of the owner's replies to *other* messages."""
DATA_FILE = "fit.npz"
CODE_DIMS = 64
"""Principal directions of the reply matrix kept in :class:`ReplyCodes`."""
SHORTLIST_FACTOR = 4
DESIGN = 2 + len(FEATURES)
"""The owner correction reads the global score, the surface features and the precedent."""


def content_words(text: str) -> frozenset[str]:
    """Lower-cased words that are not function words, without a leading "nick:" address."""
    return frozenset(w for w in _WORD.findall(_ADDRESS.sub("", text).lower()) if w not in STOPWORDS)


def reply_key(text: str) -> str:
    """A reply's words without its address: "bob: try X" and "carol: try x" are one answer."""
    return " ".join(_WORD.findall(_ADDRESS.sub("", text).lower()))


def is_question(text: str) -> bool:
    """Whether the text asks something (any script's question mark)."""
    return bool(_QUESTION.search(text))


ReplySurface = tuple[int, bool, bool]
"""What the surface features read of a reply alone: its word count, whether it asks something,
whether it holds code (:func:`reply_surface`)."""


def reply_surface(reply: str) -> ReplySurface:
    """The reply's side of :func:`pair_features` (the same for every message)."""
    return len(_WORD.findall(reply)), is_question(reply), bool(_CODE.search(reply))


def pair_features(
    message: str, replies: Sequence[str], surfaces: Sequence[ReplySurface] | None = None
) -> FloatArray:
    """``f(message, reply)`` for each reply: one row of :data:`FEATURES` per reply;
    ``surfaces`` are the replies' :func:`reply_surface` when already known."""
    m_words = content_words(message)
    m_question = 1.0 if is_question(message) else 0.0
    m_len = math.log1p(len(_WORD.findall(message)))
    out = np.zeros((len(replies), len(FEATURES)), dtype=np.float64)
    for row, reply in enumerate(replies):
        r_words = content_words(reply)
        shared = len(m_words & r_words)
        union = len(m_words | r_words)
        words, asks, code = reply_surface(reply) if surfaces is None else surfaces[row]
        r_question = 1.0 if asks else 0.0
        out[row] = (
            math.log1p(shared),
            shared / union if union else 0.0,
            math.log1p(words),
            m_len,
            m_question,
            r_question,
            m_question * r_question,
            1.0 if code else 0.0,
        )
    return out


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))
    return out


@dataclass(frozen=True, slots=True, eq=False)
class FitWeights:
    """The global reply-fit model (see the module docstring for the formula)."""

    a: npt.NDArray[np.float32]
    b: npt.NDArray[np.float32]
    alpha: float
    u: npt.NDArray[np.float32]
    w: FloatArray
    bias: float
    feature_mean: FloatArray
    feature_scale: FloatArray
    platt: tuple[float, float] = (1.0, 0.0)
    """Global calibration of the raw score (writer-held-out pairs), for owners too new to adapt."""
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.a.shape[0])

    @property
    def fingerprint(self) -> str:
        """Identifies these weights: an owner's adaptation is only valid over the weights it
        was learned on (a new shipped model means adapting again)."""
        digest = hashlib.blake2b(digest_size=8)
        for part in (self.a, self.b, self.u):
            digest.update(np.ascontiguousarray(part, dtype=np.float32).tobytes())
        digest.update(np.asarray(self.w, dtype=np.float64).tobytes())
        return digest.hexdigest()

    def query(self, message_vec: Vector) -> npt.NDArray[np.float32]:
        """The vector ``q`` with ``R @ q`` = the embedding part of the score of every reply row."""
        m = np.asarray(message_vec, dtype=np.float32).reshape(self.dim)
        q: npt.NDArray[np.float32] = self.b @ (self.a.T @ m) + self.alpha * m + self.u
        return q

    def features(
        self,
        message: str,
        replies: Sequence[str],
        surfaces: Sequence[ReplySurface] | None = None,
    ) -> FloatArray:
        """Standardised surface features of each reply for ``message`` (``surfaces``: the
        replies' :func:`reply_surface`, when known)."""
        features = pair_features(message, replies, surfaces)
        out: FloatArray = (features - self.feature_mean) / self.feature_scale
        return out

    def raw(
        self,
        message: str,
        message_vec: Vector,
        replies: Sequence[str],
        reply_vecs: Vector,
        features: FloatArray | None = None,
    ) -> FloatArray:
        """The global score ``s(m, r)`` of each reply (a logit; higher fits better);
        ``features`` are :meth:`features` when already computed."""
        if not len(replies):
            return np.zeros(0)
        matrix = np.asarray(reply_vecs, dtype=np.float32).reshape(len(replies), self.dim)
        linear = (matrix @ self.query(message_vec)).astype(np.float64)
        surface = self.features(message, replies) if features is None else features
        out: FloatArray = linear + surface @ self.w + self.bias
        return out

    def to_bytes(self) -> bytes:
        """The weights as a compressed ``.npz`` (float16 matrices)."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            a=self.a.astype(np.float16),
            b=self.b.astype(np.float16),
            u=self.u.astype(np.float16),
            w=self.w,
            scalars=np.array([self.alpha, self.bias, *self.platt, self.threshold]),
            feature_mean=self.feature_mean,
            feature_scale=self.feature_scale,
            meta=np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FitWeights:
        """Weights written by :meth:`to_bytes`."""
        with np.load(io.BytesIO(data)) as z:
            alpha, bias, slope, intercept, threshold = (float(x) for x in z["scalars"])
            return cls(
                a=z["a"].astype(np.float32),
                b=z["b"].astype(np.float32),
                u=z["u"].astype(np.float32),
                w=z["w"].astype(np.float64),
                alpha=alpha,
                bias=bias,
                feature_mean=z["feature_mean"].astype(np.float64),
                feature_scale=z["feature_scale"].astype(np.float64),
                platt=(slope, intercept),
                threshold=threshold,
                meta=json.loads(z["meta"].tobytes().decode() or "{}"),
            )


_GLOBAL: FitWeights | None = None
_GLOBAL_LOCK = threading.Lock()


def global_weights() -> FitWeights:
    """The shipped global model, read from the package on first use and kept."""
    global _GLOBAL
    with _GLOBAL_LOCK:
        if _GLOBAL is None:
            data = resources.files("core.drafting").joinpath("data", DATA_FILE).read_bytes()
            _GLOBAL = FitWeights.from_bytes(data)
        return _GLOBAL


def _top(scores: npt.NDArray[np.float32], k: int) -> list[int]:
    n = int(scores.shape[0])
    k = min(k, n)
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    return [int(i) for i in top[np.argsort(-scores[top], kind="stable")]]


@dataclass(frozen=True, slots=True, eq=False)
class ReplyCodes:
    """Compact codes of many replies for searching by fit (memory traffic 4-5x lower).

    ``matrix = R @ [B | P | u]``: the bilinear and prior parts of the score exactly, and the
    ``α m·r`` part through ``P``, the reply matrix's top principal directions (approximate; the
    search re-scores its shortlist exactly).
    """

    basis: npt.NDArray[np.float32]
    matrix: npt.NDArray[np.float32]
    rank: int

    @classmethod
    def of(cls, weights: FitWeights, reply_matrix: Vector, *, dims: int = CODE_DIMS) -> ReplyCodes:
        """Codes of ``reply_matrix`` for ``weights`` (principal directions from a sample)."""
        matrix = np.asarray(reply_matrix, dtype=np.float32)
        step = max(1, matrix.shape[0] // 4000)
        _, _, vt = np.linalg.svd(matrix[::step], full_matrices=False)
        principal = vt[: min(dims, vt.shape[0])].T.astype(np.float32)
        basis = np.hstack([weights.b, principal, weights.u.reshape(-1, 1)]).astype(np.float32)
        return cls(basis=basis, matrix=matrix @ basis, rank=int(weights.b.shape[1]))

    def query(self, weights: FitWeights, message_vec: Vector) -> npt.NDArray[np.float32]:
        """The query side of the codes for one message."""
        m = np.asarray(message_vec, dtype=np.float32).reshape(weights.dim)
        principal = self.basis[:, self.rank : -1]
        return np.concatenate(
            [weights.a.T @ m, weights.alpha * (principal.T @ m), np.ones(1, dtype=np.float32)]
        )


@dataclass(frozen=True, slots=True)
class OwnerPair:
    """One of the owner's exchanges, as adaptation reads it."""

    message: str
    reply: str
    at: datetime


@dataclass(frozen=True, slots=True, eq=False)
class ReplyFit:
    """The global fit model adapted to one owner and calibrated on their held-out pairs.

    ``logit = coef · [s, f…, precedent] + intercept`` is the owner's correction of the global
    score ``s`` (with the surface features, and how similar the message is to past messages the
    owner answered with that same reply);
    ``p = σ(platt_slope · logit + platt_intercept)`` is the calibrated probability; an option is
    offered at ``p >= threshold``. ``stats`` records what calibration measured (pairs used, the
    held-out ROC-AUC, the gate's true- and false-accept rates).
    """

    weights: FitWeights
    coef: FloatArray
    intercept: float = 0.0
    platt: tuple[float, float] = (1.0, 0.0)
    threshold: float = 0.5
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def unadapted(cls, weights: FitWeights | None = None) -> ReplyFit:
        """The global model with its global calibration (an owner with too few pairs)."""
        w = weights or global_weights()
        coef = np.zeros(DESIGN)
        coef[0] = 1.0
        return cls(
            weights=w,
            coef=coef,
            platt=w.platt,
            threshold=w.threshold,
            stats={"adapted": False, "pairs": 0},
        )

    def _design(
        self,
        message: str,
        message_vec: Vector,
        replies: Sequence[str],
        reply_vecs: Vector,
        precedent: FloatArray | None,
        surfaces: Sequence[ReplySurface] | None = None,
    ) -> FloatArray:
        surface = self.weights.features(message, replies, surfaces)
        raw = self.weights.raw(message, message_vec, replies, reply_vecs, surface)
        seen = np.zeros(len(replies)) if precedent is None else np.asarray(precedent, np.float64)
        return np.column_stack([raw, surface, seen])

    def logits(
        self,
        message: str,
        message_vec: Vector,
        replies: Sequence[str],
        reply_vecs: Vector,
        precedent: FloatArray | None = None,
        surfaces: Sequence[ReplySurface] | None = None,
    ) -> FloatArray:
        """The owner-adapted score of each reply (before calibration).

        ``precedent`` is, per reply, the owner's own evidence: the highest cosine similarity
        between ``message`` and the past messages they answered with that reply (0 if none);
        ``surfaces`` the replies' :func:`reply_surface` when known (it depends on them alone).
        """
        if not len(replies):
            return np.zeros(0)
        design = self._design(message, message_vec, replies, reply_vecs, precedent, surfaces)
        out: FloatArray = design @ self.coef + self.intercept
        return out

    def probabilities(
        self,
        message: str,
        message_vec: Vector,
        replies: Sequence[str],
        reply_vecs: Vector,
        precedent: FloatArray | None = None,
        surfaces: Sequence[ReplySurface] | None = None,
    ) -> FloatArray:
        """Calibrated probability that each reply answers ``message``."""
        slope, intercept = self.platt
        logits = self.logits(message, message_vec, replies, reply_vecs, precedent, surfaces)
        return _sigmoid(slope * logits + intercept)

    def scores(
        self,
        message: str,
        message_vec: Vector,
        replies: Sequence[str],
        reply_vecs: Vector,
        precedent: FloatArray | None = None,
    ) -> list[int]:
        """The "fits" meter, 0-100, of each reply."""
        p = self.probabilities(message, message_vec, replies, reply_vecs, precedent)
        return [int(v) for v in np.rint(100 * p)]

    def passes(self, probability: float) -> bool:
        """Whether an option of this calibrated fit is offered (the gate)."""
        return probability >= self.threshold

    def search(
        self,
        message_vec: Vector,
        reply_matrix: Vector,
        k: int,
        codes: ReplyCodes | None = None,
    ) -> list[int]:
        """Rows of ``reply_matrix`` with the best embedding part of the fit, best first: one
        matrix-vector product over all of them (the surface features come after, on these).

        With ``codes`` (large owners), the product runs over the compact codes instead and the
        best ``SHORTLIST_FACTOR * k`` rows are re-scored exactly.
        """
        n = int(reply_matrix.shape[0])
        if not n or k <= 0:
            return []
        query = self.weights.query(message_vec)
        if codes is None or codes.matrix.shape[0] != n:
            return _top(np.asarray(reply_matrix, dtype=np.float32) @ query, k)
        rough = codes.matrix @ codes.query(self.weights, message_vec)
        wide = np.asarray(_top(rough, SHORTLIST_FACTOR * k), dtype=np.int64)
        exact = np.asarray(reply_matrix[wide], dtype=np.float32) @ query
        return [int(wide[i]) for i in _top(exact, k)]

    @classmethod
    def adapt(
        cls,
        pairs: Sequence[OwnerPair],
        message_vecs: Vector,
        reply_vecs: Vector,
        *,
        weights: FitWeights | None = None,
        seed: int = 0,
    ) -> ReplyFit:
        """Adapt the global model to an owner's pairs and calibrate it on their newest ones.

        Args:
            pairs: The owner's (message → reply) exchanges, any order.
            message_vecs: Embedding of each pair's message (rows in order of ``pairs``).
            reply_vecs: Embedding of each pair's reply.
            weights: The global model (default: the shipped one).
            seed: Reproducible choice of mismatched replies.

        Returns:
            The adapted model; :meth:`unadapted` (global calibration) below
            :data:`MIN_ADAPT_PAIRS` pairs.
        """
        w = weights or global_weights()
        if len(pairs) < MIN_ADAPT_PAIRS:
            return cls.unadapted(w)
        order = sorted(range(len(pairs)), key=lambda i: pairs[i].at)[-MAX_ADAPT_PAIRS:]
        rng = np.random.default_rng(seed)
        cut = len(order) - max(8, int(len(order) * CALIBRATION_SHARE))
        head, tail = order[:cut], order[cut:]
        base = cls.unadapted(w)
        x_head, y_head = _examples(base, pairs, message_vecs, reply_vecs, head, order, rng)
        coef, intercept = _logistic(x_head, y_head, c=1.0)
        adapted = cls(weights=w, coef=coef, intercept=intercept)
        x_tail, y_tail = _examples(adapted, pairs, message_vecs, reply_vecs, tail, order, rng)
        logits = x_tail @ coef + intercept
        slope_intercept = _logistic(logits.reshape(-1, 1), y_tail, c=100.0)
        platt = (float(slope_intercept[0][0]), slope_intercept[1])
        if platt[0] <= 0:  # the correction did not generalise: keep the global score's order
            platt = (1.0, 0.0)
        probability = _sigmoid(platt[0] * logits + platt[1])
        threshold = _gate(probability, y_tail)
        positives, negatives = probability[y_tail == 1], probability[y_tail == 0]
        stats = {
            "adapted": True,
            "pairs": len(order),
            "calibration_pairs": len(tail),
            "auc": roc_auc(positives, negatives),
            "true_accept": float(np.mean(positives >= threshold)),
            "false_accept": float(np.mean(negatives >= threshold)),
        }
        return cls(
            weights=w,
            coef=coef,
            intercept=intercept,
            platt=platt,
            threshold=threshold,
            stats=stats,
        )

    def to_bytes(self) -> bytes:
        """The owner's correction (not the global weights, which ship with the package)."""
        payload = {
            "coef": [float(x) for x in self.coef],
            "intercept": self.intercept,
            "platt": list(self.platt),
            "threshold": self.threshold,
            "stats": self.stats,
            "version": self.weights.meta.get("version", 0),
            "weights": self.weights.fingerprint,
        }
        return json.dumps(payload).encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, weights: FitWeights | None = None) -> ReplyFit:
        """A model written by :meth:`to_bytes`, over ``weights`` (default: the shipped ones).

        Raises:
            ValueError: It was adapted over other global weights (adapt again).
        """
        payload = json.loads(data.decode())
        weights = weights or global_weights()
        if payload.get("weights") != weights.fingerprint:
            raise ValueError("adapted over other reply-fit weights")
        return cls(
            weights=weights,
            coef=np.asarray(payload["coef"], dtype=np.float64),
            intercept=float(payload["intercept"]),
            platt=(float(payload["platt"][0]), float(payload["platt"][1])),
            threshold=float(payload["threshold"]),
            stats=dict(payload["stats"]),
        )


def _examples(
    model: ReplyFit,
    pairs: Sequence[OwnerPair],
    message_vecs: Vector,
    reply_vecs: Vector,
    rows: Sequence[int],
    pool: Sequence[int],
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Design rows (or adapted logits' inputs) for each pair in ``rows``: its true reply (1) and
    :data:`NEGATIVES_PER_PAIR` of the owner's replies to other messages (0), half of them
    chronologically nearest (concurrent conversations), half anywhere."""
    xs: list[FloatArray] = []
    ys: list[float] = []
    position = {row: i for i, row in enumerate(pool)}
    answered: dict[str, list[int]] = {}
    for row in pool:
        answered.setdefault(reply_key(pairs[row].reply), []).append(row)
    for row in rows:
        pair = pairs[row]
        at = position[row]
        near = [pool[j] for j in range(max(0, at - 3), min(len(pool), at + 4)) if j != at]
        far = [pool[int(j)] for j in rng.choice(len(pool), size=min(len(pool), 8), replace=False)]
        picked: list[int] = []
        for group, want in ((near, NEGATIVES_PER_PAIR // 2), (far, NEGATIVES_PER_PAIR)):
            for other in group:
                if len(picked) >= want:
                    break
                if other != row and pairs[other].reply != pair.reply and other not in picked:
                    picked.append(other)
        candidates = [row, *picked]
        # Leave-one-out: the pair itself is not a precedent for its own reply.
        precedent = np.zeros(len(candidates))
        for k, c in enumerate(candidates):
            others = [j for j in answered[reply_key(pairs[c].reply)] if j != row]
            if others:
                sims = np.asarray(message_vecs)[others] @ np.asarray(message_vecs[row])
                precedent[k] = float(np.max(sims))
        design = model._design(
            pair.message,
            message_vecs[row],
            [pairs[c].reply for c in candidates],
            np.stack([reply_vecs[c] for c in candidates]),
            precedent,
        )
        xs.append(design)
        ys += [1.0] + [0.0] * len(picked)
    return np.vstack(xs), np.asarray(ys)


def _logistic(x: FloatArray, y: FloatArray, *, c: float) -> tuple[FloatArray, float]:
    """A class-balanced L2 logistic regression: (coefficients, intercept)."""
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        coef = np.zeros(x.shape[1])
        coef[0] = 1.0
        return coef, 0.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=500)
    model.fit(x, y)
    return np.asarray(model.coef_[0], dtype=np.float64), float(model.intercept_[0])


def _gate(probability: FloatArray, y: FloatArray) -> float:
    """The lowest calibrated fit that lets through at most :data:`TARGET_FALSE_ACCEPT` of the
    mismatched replies (and never below an even chance)."""
    negatives = np.sort(probability[y == 0])
    if not len(negatives):
        return 0.5
    k = math.floor((1 - TARGET_FALSE_ACCEPT) * len(negatives))
    level = float(negatives[min(k, len(negatives) - 1)])
    return max(0.5, min(0.95, level))


def roc_auc(
    positives: Sequence[float] | FloatArray, negatives: Sequence[float] | FloatArray
) -> float | None:
    """Probability that a positive outscores a negative (ties count half); ``None`` when a side is
    empty."""
    from sklearn.metrics import roc_auc_score

    pos = np.asarray(positives, dtype=np.float64)
    neg = np.asarray(negatives, dtype=np.float64)
    if not len(pos) or not len(neg):
        return None
    labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    return float(roc_auc_score(labels, np.concatenate([pos, neg])))
