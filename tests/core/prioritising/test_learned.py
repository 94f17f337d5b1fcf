from __future__ import annotations

import math
import random

import numpy as np
import pytest

from core.engines.embedding import HashingEmbedder
from core.models import Message
from core.prioritising import OwnerContext
from core.prioritising.evaluation import roc_auc
from core.prioritising.features import FEATURE_NAMES
from core.prioritising.heuristic import HEURISTIC_WEIGHTS
from core.prioritising.learned import Label, Prioritiser, to_incoming
from core.prioritising.model import OnlineLogit
from tests.core.prioritising.helpers import OWNER, incoming, message, stored

SENDERS = ("alice", "bob", "carol", "dave", "erin")
TOPICS = ("deploy", "lunch", "offsite", "printer", "badge", "wiki")


def synthetic_stream(n: int, seed: int) -> list[Message]:
    """sam answers alice always, and anyone asking about the deploy; nobody else."""
    rng = random.Random(seed)
    out: list[Message] = []
    minute = 0.0
    for i in range(n):
        sender = rng.choice(SENDERS)
        topic = rng.choice(TOPICS)
        text = f"sam: can you check the {topic} {rng.choice(['today', 'soon', 'later', 'now'])}?"
        out.append(message(f"m{i}", sender, text, minutes=minute))
        if sender == "alice" or topic == "deploy":
            out.append(message(f"r{i}", "sam", "on it", minutes=minute + 2, reply_to=f"m{i}"))
        minute += 180  # far apart: nothing is "in the same thread" by accident
    return out


def held_out_scores(
    p: Prioritiser, ctx: OwnerContext, test: list[Message]
) -> tuple[list[float], list[bool]]:
    answered = {m.reply_to for m in test if m.sender == "sam"}
    embedder = HashingEmbedder()
    scores, labels = [], []
    for m in test:
        if m.sender == "sam":
            continue
        vector = embedder.encode([m.text])[0]
        scores.append(p.prioritise(to_incoming(m, OWNER), ctx, vector=vector).score)
        labels.append(m.id in answered)
    return scores, labels


def test_learns_a_synthetic_preference_and_beats_the_prior() -> None:
    stream = synthetic_stream(400, seed=1)
    cut = next(i for i, m in enumerate(stream) if m.id == "m300")
    train, test = stream[:cut], stream[cut:]

    ctx = OwnerContext(owner_names=["sam"])
    learned = Prioritiser(embedder=HashingEmbedder())
    n = learned.learn_from_history([stored(m) for m in train], ctx)
    assert 295 <= n <= 300  # the last few may still be waiting for an answer

    prior_ctx = OwnerContext(owner_names=["sam"])
    for m in train:  # the prior gets the same history of reply rates, just no learning
        prior_ctx.observe(m)
    prior = Prioritiser(embedder=HashingEmbedder())

    auc_learned = roc_auc(*held_out_scores(learned, ctx, test))
    auc_prior = roc_auc(*held_out_scores(prior, prior_ctx, test))
    assert auc_learned > 0.9
    assert auc_learned > auc_prior + 0.1
    assert learned.weights["semantic"] > 0.5


def test_one_label_moves_the_score_the_right_way() -> None:
    ctx = OwnerContext(owner_names=["sam"])
    msg = incoming("1", "frank", "the quarterly numbers are in the drive")
    for label, direction in ((Label.IMPORTANT, 1), (Label.NOT_IMPORTANT, -1)):
        p = Prioritiser()
        before = p.prioritise(msg, ctx).score
        p.observe_label(msg, label, ctx)
        after = p.prioritise(msg, ctx).score
        moved = math.log(after / (1 - after)) - math.log(before / (1 - before))
        assert moved * direction > 0.3, (label, before, after)


def test_labels_use_the_features_seen_when_scored() -> None:
    ctx = OwnerContext(owner_names=["sam"])
    p = Prioritiser()
    msg = incoming("1", "frank", "sam: build is red", minutes=0)
    p.prioritise(msg, ctx)
    ctx.observe(message("2", "sam", "looking", minutes=1))  # the owner is now active
    p.observe_label(msg, Label.REPLIED, ctx, latency_s=60)
    # owner_active was 0 when the message was scored, so its weight must not have moved.
    assert p.weights["owner_active"] == 0.0
    assert p.weights["mention"] > HEURISTIC_WEIGHTS["mention"]


def test_needs_reply_is_learned_from_what_the_owner_answers() -> None:
    ctx = OwnerContext(owner_names=["sam"])
    p = Prioritiser()
    question = incoming("q", "erin", "sam: which port does the api use?")
    assert p.prioritise(question, ctx).needs_reply  # the prior mimics the rule
    for i in range(12):  # this owner never answers such questions
        p.observe_label(
            incoming(f"q{i}", "erin", f"sam: which port does service {i} use?"), Label.IGNORED, ctx
        )
    assert not p.prioritise(question, ctx).needs_reply
    assert not p.prioritise(incoming("c", "erin", "lol ok"), ctx).needs_reply


def test_round_trip_gives_identical_scores() -> None:
    stream = synthetic_stream(120, seed=2)
    ctx = OwnerContext(owner_names=["sam"])
    p = Prioritiser(embedder=HashingEmbedder())
    p.learn_from_history([stored(m) for m in stream], ctx)
    p.observe_label(incoming("x", "bob", "sam: lunch?"), Label.NOT_IMPORTANT, ctx)
    again = Prioritiser.from_bytes(p.to_bytes(), embedder=HashingEmbedder())
    probes = [
        incoming(f"p{i}", s, f"sam: about the {t}?")
        for i, (s, t) in enumerate(zip(SENDERS, TOPICS, strict=False))
    ]
    assert [p.prioritise(m, ctx) for m in probes] == [again.prioritise(m, ctx) for m in probes]
    assert again.to_bytes() == p.to_bytes()


def test_from_bytes_refuses_foreign_data() -> None:
    with pytest.raises(ValueError):
        Prioritiser.from_bytes(b'{"format": "something else"}')


def test_cold_start_is_the_heuristic() -> None:
    from core.prioritising import HeuristicPrioritiser

    ctx = OwnerContext(owner_names=["sam"], vips=["carol"])
    msgs = [
        incoming("1", "carol", "sam: can you review this by tomorrow?"),
        incoming("2", "zed", "hi all"),
    ]
    for m in msgs:
        assert Prioritiser().prioritise(m, ctx).score == pytest.approx(
            HeuristicPrioritiser().prioritise(m, ctx).score
        )


def test_online_logit_matches_a_batch_fit_closely() -> None:
    rng = np.random.default_rng(0)
    x = np.c_[np.ones(200), rng.normal(size=(200, 3))]
    y = (x @ np.array([0.2, 1.5, -1.0, 0.0]) + rng.logistic(size=200) > 0).astype(float)
    batch = OnlineLogit(np.zeros(4))
    batch.fit(x, y)
    online = OnlineLogit(np.zeros(4))
    for row, target in zip(x, y, strict=True):
        online.update(row, float(target))
    assert np.allclose(batch.mean, online.mean, atol=0.15)
    assert batch.mean[1] > 0.8 and batch.mean[2] < -0.5
    assert len(FEATURE_NAMES) == batch.dim + len(FEATURE_NAMES) - 4


def test_only_restricts_the_examples_and_counts_silence_as_ignored() -> None:
    msgs = [
        message("1", "zoe", "anyone know zfs?", minutes=0),  # not addressed, answered
        message("2", "sam", "yes", minutes=1, reply_to="1"),
        message("3", "yan", "nice weather", minutes=2),  # not addressed, never answered
        message("4", "xi", "sam: ping", minutes=3),  # addressed, never answered
        message("5", "zoe", "later", minutes=300),
    ]
    default = Prioritiser().learn_from_history(
        [stored(m) for m in msgs], OwnerContext(owner_names=["sam"])
    )
    assert default == 2  # the answer, and the addressed message left unanswered
    only = Prioritiser().learn_from_history(
        [stored(m) for m in msgs], OwnerContext(owner_names=["sam"]), only={"1", "3"}
    )
    assert only == 2  # the answer, and "nice weather" counted as ignored


def test_prioritise_many_matches_one_by_one() -> None:
    stream = synthetic_stream(60, seed=4)
    ctx = OwnerContext(owner_names=["sam"])
    p = Prioritiser(embedder=HashingEmbedder())
    p.learn_from_history([stored(m) for m in stream], ctx)
    msgs = [
        incoming(f"n{i}", s, f"sam: the {t} again?")
        for i, (s, t) in enumerate(zip(SENDERS, TOPICS, strict=False))
    ]
    assert p.prioritise_many(msgs, ctx) == [p.prioritise(m, ctx) for m in msgs]


def test_live_observe_learns_replies_and_silence() -> None:
    ctx = OwnerContext(owner_names=["sam"])
    p = Prioritiser()
    answered = incoming("1", "alice", "sam: is the release out?", minutes=0)
    left = incoming("2", "bob", "sam: is the release out?", minutes=1)
    for m in (answered, left):
        p.prioritise(m, ctx)
        p.observe(m.message, ctx)
    before = p.importance.labels
    answer = p.observe(message("3", "sam", "yes", minutes=3, reply_to="1"), ctx)
    assert answer is not None and answer.message_id == "1"
    assert p.importance.labels > before
    after_reply = p.importance.labels
    p.observe(message("4", "carol", "anyway", minutes=200), ctx)  # bob's message expires
    assert p.importance.labels > after_reply
