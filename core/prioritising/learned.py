"""The learned, per-owner prioritiser: a global prior that each owner's own behaviour reshapes.

Two online Bayesian logistic models (``OnlineLogit``) read the shared feature vector:

* **importance** ("will the owner want to see this first?") over every feature, starting at a
  ``GlobalPrior``: the shipped one learned across many owners (``load_global_prior``, what the
  app wires) or, by default, the heuristic's weights with unit precision; each label moves it
  towards the owner's own, while the features the owner stated in onboarding are held firm;
* **needs a reply** ("does this call for an answer from the owner at all?") over the content and
  addressing features only (not who sent it), starting from weights that mimic the rule "a
  question or request addressed to you, not chatter", and learned from what the owner actually
  answered or left.

Semantic closeness (``SemanticMemory``) is the cosine between a message's embedding and the centroid
of messages the owner answered, minus its cosine to the centroid of those they left: positive for
"the kind of thing I answer". It needs an ``Embedder``; without one the feature is 0 and triage
runs on the cheap features alone.

Labels (``Label``): implicit ones come from what the owner does (replied, how fast, sent a draft,
dismissed a draft, ignored the message for the waiting window) and explicit ones from one-tap
feedback (important / not important); each updates the models at once, without a retrain. A tap
is bounded, named as a reason where it moved a score, and undoable (``core.prioritising.feedback``).
"""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from core.models import IncomingMessage, Message, Priority, StoredMessage, UserRef
from core.ports import Embedder, Vector
from core.prioritising.context import Answered, OwnerContext
from core.prioritising.features import (
    FEATURE_NAMES,
    INDEX,
    FeatureVector,
    explain,
    extract,
)
from core.prioritising.feedback import Tap, TapEffect, Taps
from core.prioritising.heuristic import heuristic_weights
from core.prioritising.model import OnlineLogit
from core.prioritising.prior import GlobalPrior, heuristic_prior

NEEDS_FEATURES: tuple[str, ...] = (
    "bias",
    "question",
    "direct_question",
    "request",
    "asks_you",
    "problem",
    "deadline",
    "mention",
    "mention_start",
    "link",
    "code",
    "length",
    "chatter",
    "thanks",
    "dm",
    "reply_to_owner",
    "reply_to_other",
    "owner_in_thread",
    "addressed_other",
    "others_addressed",
)
NEEDS_PRIOR: dict[str, float] = {
    "bias": -2.5,
    "question": 0.8,
    "direct_question": 2.5,
    "request": 1.2,
    "asks_you": 1.5,
    "mention": 0.5,
    "dm": 1.0,
    "reply_to_owner": 0.5,
    "chatter": -3.0,
    "thanks": -1.0,
    "addressed_other": -1.5,
}
"""Log-odds weights that reproduce the heuristic's needs-reply rule on typical messages."""
_NEEDS_INDEX = np.array([INDEX[n] for n in NEEDS_FEATURES])
_FORMAT = "minime.prioritiser/1"
_HISTORY_USER = "history"


class Label(enum.StrEnum):
    """What the owner did with a message, as a training signal."""

    REPLIED = "replied"
    SENT = "sent"
    """Sent (possibly edited) one of the clone's drafts."""
    DISMISSED = "dismissed"
    """Dismissed the clone's draft."""
    IGNORED = "ignored"
    """Left it unanswered for the whole waiting window."""
    IMPORTANT = "important"
    NOT_IMPORTANT = "not_important"


@dataclass(frozen=True, slots=True)
class _Target:
    importance: float
    weight: float
    needs_reply: float | None
    needs_weight: float


def _target(label: Label, latency_s: float | None) -> _Target:
    match label:
        case Label.REPLIED:
            # A fast answer says more about importance than one given days later.
            weight = (
                1.0
                if latency_s is None
                else (1.5 if latency_s < 900 else 1.0 if latency_s < 7200 else 0.6)
            )
            return _Target(1.0, weight, 1.0, 1.0)
        case Label.SENT:
            return _Target(1.0, 1.0, 1.0, 1.0)
        case Label.DISMISSED:
            return _Target(0.0, 0.5, 0.0, 0.5)
        case Label.IGNORED:
            return _Target(0.0, 1.0, 0.0, 1.0)
        case Label.IMPORTANT:
            return _Target(1.0, 3.0, None, 0.0)
        case Label.NOT_IMPORTANT:
            return _Target(0.0, 3.0, None, 0.0)
    raise ValueError(label)  # pragma: no cover - exhaustive


class SemanticMemory:
    """Running centroids of what the owner answered and what they left, in embedding space."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.answered = np.zeros(dim, dtype=np.float64)
        self.left = np.zeros(dim, dtype=np.float64)
        self.answered_n = 0.0
        self.left_n = 0.0

    def add(self, vector: Vector, *, answered: bool, weight: float = 1.0) -> None:
        """Take one labelled message's embedding into its centroid."""
        v = np.asarray(vector, dtype=np.float64)
        if answered:
            self.answered += weight * v
            self.answered_n += weight
        else:
            self.left += weight * v
            self.left_n += weight

    def closeness(self, vector: Vector) -> float:
        """cos(v, answered centroid) - cos(v, left centroid); 0 until both exist."""
        na = float(np.linalg.norm(self.answered))
        nl = float(np.linalg.norm(self.left))
        if na == 0.0 or nl == 0.0:
            return 0.0
        v = np.asarray(vector, dtype=np.float64)
        nv = float(np.linalg.norm(v))
        if nv == 0.0:
            return 0.0
        return float(v @ self.answered / na - v @ self.left / nl) / nv

    def to_json(self) -> dict[str, object]:
        return {
            "dim": self.dim,
            "answered": self.answered.tolist(),
            "left": self.left.tolist(),
            "answered_n": self.answered_n,
            "left_n": self.left_n,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SemanticMemory:
        dim = data["dim"]
        memory = cls(int(dim) if isinstance(dim, int | float | str) else 0)
        memory.answered = np.asarray(data["answered"], dtype=np.float64)
        memory.left = np.asarray(data["left"], dtype=np.float64)
        memory.answered_n = float(str(data["answered_n"]))
        memory.left_n = float(str(data["left_n"]))
        return memory


@dataclass(frozen=True, slots=True)
class _Scored:
    features: FeatureVector
    vector: Vector | None


class Prioritiser:
    """Per-owner learned prioritiser with reasons, online updates and JSON serialisation.

    Args:
        embedder: for the semantic-closeness feature; ``None`` to triage without embeddings.
        prior_precision: how many "labels' worth" of confidence the global prior starts with,
            per feature (1.0: a handful of consistent labels visibly move a weight).
        remember: how many recently scored messages keep their features, so a later label
            trains on what the message looked like when it was scored.
    """

    def __init__(
        self,
        *,
        embedder: Embedder | None = None,
        prior: GlobalPrior | None = None,
        prior_precision: float = 1.0,
        remember: int = 4096,
    ) -> None:
        self.embedder = embedder
        self.prior = (
            prior if prior is not None else heuristic_prior(heuristic_weights(), prior_precision)
        )
        self.importance = OnlineLogit(self.prior.weights, self.prior.precision)
        needs_prior = np.array([NEEDS_PRIOR.get(n, 0.0) for n in NEEDS_FEATURES], dtype=np.float64)
        self.needs = OnlineLogit(needs_prior, prior_precision)
        self.memory: SemanticMemory | None = None
        self.taps = Taps()
        """One-tap feedback: what each tap changed, to explain it and to undo it."""
        self._remember = remember
        self._scored: OrderedDict[str, _Scored] = OrderedDict()

    # -- scoring ---------------------------------------------------------------------------

    def features(
        self, msg: IncomingMessage, ctx: OwnerContext, *, vector: Vector | None = None
    ) -> FeatureVector:
        """The message's features, with semantic closeness when a vector or embedder is at hand."""
        if vector is None and self.embedder is not None:
            vector = self.embedder.encode([msg.message.text])[0]
        return self._features(msg, ctx, vector)

    def _features(
        self, msg: IncomingMessage, ctx: OwnerContext, vector: Vector | None
    ) -> FeatureVector:
        semantic = 0.0
        if vector is not None and self.memory is not None:
            semantic = self.memory.closeness(vector)
        fv = extract(msg, ctx, semantic=semantic)
        self._scored[msg.message.id] = _Scored(fv, vector)
        if len(self._scored) > self._remember:
            self._scored.popitem(last=False)
        return fv

    def prioritise(
        self, msg: IncomingMessage, ctx: OwnerContext, *, vector: Vector | None = None
    ) -> Priority:
        """Score one message (0-1), judge whether it needs a reply, and say why (1-3 reasons)."""
        return self.prioritise_features(self.features(msg, ctx, vector=vector))

    def prioritise_many(self, msgs: Sequence[IncomingMessage], ctx: OwnerContext) -> list[Priority]:
        """Score a batch, encoding all texts in one embedder call."""
        vectors: Sequence[Vector | None]
        if self.embedder is not None and msgs:
            vectors = list(self.embedder.encode([m.message.text for m in msgs]))
        else:
            vectors = [None] * len(msgs)
        return [
            self.prioritise_features(self._features(m, ctx, v))
            for m, v in zip(msgs, vectors, strict=True)
        ]

    def prioritise_features(self, fv: FeatureVector) -> Priority:
        """Score already-extracted features."""
        score = float(self.importance.proba(fv.values))
        needs = float(self.needs.proba(fv.values[_NEEDS_INDEX]))
        reasons = explain(fv, self.importance.mean, center=self.prior.center)
        if len(self.taps):
            effect = self.taps.effect(fv.values)
            if effect is not None:  # the owner sees what their own tap changed
                reasons = (effect.reason, *reasons[:2])
        return Priority(score=score, needs_reply=needs >= 0.5, reasons=reasons)

    def score(self, fv: FeatureVector) -> float:
        """Just the importance score (for ranking many messages)."""
        return float(self.importance.proba(fv.values))

    @property
    def weights(self) -> dict[str, float]:
        """The current importance weights by feature name (log-odds)."""
        return dict(zip(FEATURE_NAMES, self.importance.mean.tolist(), strict=True))

    # -- learning --------------------------------------------------------------------------

    def observe_label(
        self,
        msg: IncomingMessage,
        label: Label,
        ctx: OwnerContext,
        *,
        latency_s: float | None = None,
        vector: Vector | None = None,
    ) -> None:
        """Learn from what the owner did with ``msg``, at once and without a retrain.

        The features are those the message had when it was scored (if it was scored recently),
        otherwise they are computed from ``ctx`` now.
        """
        scored = self._scored.get(msg.message.id)
        if scored is None:
            self.features(msg, ctx, vector=vector)
            scored = self._scored[msg.message.id]
        self._learn(
            scored.features,
            label,
            latency_s=latency_s,
            vector=scored.vector if scored.vector is not None else vector,
            message_id=msg.message.id,
        )

    def undo_tap(self, message_id: str) -> bool:
        """Take back the *Important* / *Not important* tap made on ``message_id``."""
        return self.taps.undo(self.importance, message_id) is not None

    def undo_last_tap(self) -> Tap | None:
        """Take back the most recent tap still remembered; returns it, or ``None``."""
        tap = self.taps.last()
        return None if tap is None else self.taps.undo(self.importance, tap.message_id)

    def tap_effect(self, fv: FeatureVector) -> TapEffect | None:
        """The earlier tap that moved this message's score the most, if any moved it noticeably."""
        return self.taps.effect(fv.values)

    def observe(
        self,
        message: Message,
        ctx: OwnerContext,
        *,
        from_owner: bool | None = None,
        is_direct: bool = False,
        ignore_after: timedelta = timedelta(hours=2),
    ) -> Answered | None:
        """Feed one live message to ``ctx`` and learn the implicit labels it settles.

        Call it for every message as it flows, after ``prioritise`` for incoming ones. When
        the owner's message answers a recently scored one, that one is learned as
        ``REPLIED`` (with its latency); scored messages addressed to the owner and still
        unanswered ``ignore_after`` later are learned as ``IGNORED``.
        """
        answer = ctx.observe(message, from_owner=from_owner, is_direct=is_direct)
        if answer is not None:
            scored = self._scored.get(answer.message_id)
            if scored is not None:
                self._learn(
                    scored.features, Label.REPLIED, latency_s=answer.latency_s, vector=scored.vector
                )
        for gone in ctx.expire(message.sent_at, after=ignore_after):
            scored = self._scored.get(gone.message_id)
            if scored is not None:
                self._learn(scored.features, Label.IGNORED, latency_s=None, vector=scored.vector)
        return answer

    def _learn(
        self,
        fv: FeatureVector,
        label: Label,
        *,
        latency_s: float | None,
        vector: Vector | None,
        message_id: str | None = None,
    ) -> None:
        target = _target(label, latency_s)
        if label in (Label.IMPORTANT, Label.NOT_IMPORTANT) and message_id is not None:
            self.taps.apply(
                self.importance,
                fv.values,
                important=label is Label.IMPORTANT,
                weight=target.weight,
                message_id=message_id,
                sender=fv.sender,
                topic=fv.topic,
            )
        else:
            self.importance.update(fv.values, target.importance, target.weight)
        if target.needs_reply is not None:
            self.needs.update(fv.values[_NEEDS_INDEX], target.needs_reply, target.needs_weight)
        if vector is not None and label in (
            Label.REPLIED,
            Label.SENT,
            Label.IGNORED,
            Label.DISMISSED,
        ):
            self._remember_vector(vector, answered=target.importance > 0.5)

    def _remember_vector(self, vector: Vector, *, answered: bool) -> None:
        if self.memory is None:
            self.memory = SemanticMemory(int(vector.shape[0]))
        self.memory.add(vector, answered=answered)

    def fit(self, examples: Sequence[tuple[FeatureVector, Label, float | None]]) -> None:
        """Absorb many labelled examples at once (``(features, label, latency_s)``).

        The same result, up to the Laplace approximation, as ``observe_label`` on each in turn,
        but one Newton solve instead of one per label.
        """
        if not examples:
            return
        x = np.stack([fv.values for fv, _, _ in examples])
        targets = [_target(label, latency) for _, label, latency in examples]
        self.importance.fit(x, [t.importance for t in targets], [t.weight for t in targets])
        needs = [(i, t) for i, t in enumerate(targets) if t.needs_reply is not None]
        if needs:
            rows = np.array([i for i, _ in needs])
            self.needs.fit(
                x[rows][:, _NEEDS_INDEX],
                [t.needs_reply or 0.0 for _, t in needs],
                [t.needs_weight for _, t in needs],
            )

    def learn_from_history(
        self,
        messages: Iterable[StoredMessage],
        ctx: OwnerContext,
        *,
        vectors: Mapping[str, Vector] | None = None,
        ignore_after: timedelta = timedelta(hours=2),
        only: Container[str] | None = None,
    ) -> int:
        """Replay the owner's history through ``ctx`` and learn from it; returns labels learned.

        Messages from others are featurised as they arrive (from what ``ctx`` knew just
        before). One becomes a positive example when the owner answers it, and a negative one
        when it was addressed to the owner and stayed unanswered for ``ignore_after``. The
        semantic memory grows as labels become known, so each message's closeness is measured
        against earlier labels only. ``ctx`` should be fresh (it ends up current).

        Args:
            messages: the history, in ``sent_at`` order.
            ctx: the owner's context, updated along the way.
            vectors: embeddings by message id (those missing get no semantic feature); by
                default the embedder, if any, encodes the messages that can become labels.
            ignore_after: how long a message may wait before it counts as ignored.
            only: learn from these message ids alone (an evaluation's candidate set); each is
                negative when unanswered for ``ignore_after``, addressed or not.
        """
        history = list(messages)
        if vectors is None and self.embedder is not None:
            vectors = self._encode_candidates(history, ctx)
        examples: list[tuple[FeatureVector, Label, float | None]] = []
        waiting: OrderedDict[str, tuple[_Scored, datetime]] = OrderedDict()
        owner = UserRef(
            platform=_HISTORY_USER, user_id=ctx.owner_names[0] if ctx.owner_names else ""
        )

        def learn(scored: _Scored, label: Label, latency: float | None) -> None:
            examples.append((scored.features, label, latency))
            if scored.vector is not None:
                self._remember_vector(scored.vector, answered=label is Label.REPLIED)

        for stored in history:
            message = stored.message
            if not stored.from_owner and (only is None or message.id in only):
                vector = vectors.get(message.id) if vectors is not None else None
                semantic = (
                    self.memory.closeness(vector) if vector is not None and self.memory else 0.0
                )
                fv = extract(to_incoming(message, owner), ctx, semantic=semantic)
                waiting[message.id] = (_Scored(fv, vector), message.sent_at)
            answer = ctx.observe(message, from_owner=stored.from_owner)
            if answer is not None and answer.message_id in waiting:
                learn(waiting.pop(answer.message_id)[0], Label.REPLIED, answer.latency_s)
            ignored = {u.message_id for u in ctx.expire(message.sent_at, after=ignore_after)}
            horizon = message.sent_at - ignore_after
            while waiting:
                message_id, (scored, sent_at) = next(iter(waiting.items()))
                if sent_at > horizon and message_id not in ignored:
                    break
                waiting.popitem(last=False)
                if only is not None or message_id in ignored:
                    learn(scored, Label.IGNORED, None)
        self.fit(examples)
        return len(examples)

    def _encode_candidates(
        self, history: Sequence[StoredMessage], ctx: OwnerContext
    ) -> dict[str, Vector]:
        """Embed the messages that can become labels: answered, or addressed to the owner."""
        assert self.embedder is not None
        owner_ids = {s.message.id for s in history if s.from_owner}
        answered = {s.message.reply_to for s in history if s.from_owner and s.message.reply_to}
        wanted = [
            s.message
            for s in history
            if not s.from_owner
            and (
                s.message.id in answered
                or s.message.reply_to in owner_ids
                or ctx.mentions_owner(s.message.text)
                or s.message.conversation in ctx.direct_conversations
            )
        ]
        if not wanted:
            return {}
        encoded = self.embedder.encode([m.text for m in wanted])
        return {m.id: encoded[i] for i, m in enumerate(wanted)}

    # -- persistence -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The learned state as JSON (coefficients and centroids; no message text, no pickle)."""
        data = {
            "format": _FORMAT,
            "features": list(FEATURE_NAMES),
            "needs_features": list(NEEDS_FEATURES),
            "importance": self.importance.to_json(),
            "needs": self.needs.to_json(),
            "memory": None if self.memory is None else self.memory.to_json(),
            "center": self.prior.center.tolist(),
            "taps": self.taps.to_json(),
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes, *, embedder: Embedder | None = None) -> Prioritiser:
        """Restore a prioritiser written by ``to_bytes`` (the embedder is wired, not stored)."""
        data = json.loads(raw)
        if data.get("format") != _FORMAT:
            raise ValueError("not a saved prioritiser")
        if (
            tuple(data["features"]) != FEATURE_NAMES
            or tuple(data["needs_features"]) != NEEDS_FEATURES
        ):
            raise ValueError("the saved prioritiser has other features; retrain it from history")
        importance = OnlineLogit.from_json(data["importance"])
        prior = GlobalPrior(
            weights=importance.prior_mean,
            precision=importance.prior_precision,
            center=np.asarray(data.get("center") or np.zeros(len(FEATURE_NAMES)), dtype=np.float64),
        )
        prioritiser = cls(embedder=embedder, prior=prior)
        prioritiser.importance = importance
        prioritiser.taps = Taps.from_json(data.get("taps"))
        prioritiser.needs = OnlineLogit.from_json(data["needs"])
        memory = data["memory"]
        prioritiser.memory = None if memory is None else SemanticMemory.from_json(memory)
        return prioritiser


def to_incoming(message: Message, owner: UserRef, *, is_direct: bool = False) -> IncomingMessage:
    """Wrap a stored message as an incoming one, for scoring history or JSONL input."""
    return IncomingMessage(
        owner=owner, message=message, sender_name=message.sender, is_direct=is_direct
    )
