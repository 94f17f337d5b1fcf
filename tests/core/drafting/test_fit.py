"""The reply-fit model: ranking, owner adaptation, calibration, the gate and serialisation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.drafting.fit import (
    FEATURES,
    FitWeights,
    OwnerPair,
    ReplyFit,
    global_weights,
    pair_features,
    roc_auc,
)
from core.engines.embedding import HashingEmbedder

EMBEDDER = HashingEmbedder(dim=128)
TOPICS = ["printer", "wifi", "sound", "disk", "kernel", "grub", "nvidia", "mouse", "screen", "usb"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def toy_weights(dim: int = 128) -> FitWeights:
    """Fit = 4 x cosine + 2 x shared words: enough structure to test the machinery."""
    w = np.zeros(len(FEATURES))
    w[FEATURES.index("shared_words")] = 2.0
    return FitWeights(
        a=np.zeros((dim, 4), dtype=np.float32),
        b=np.zeros((dim, 4), dtype=np.float32),
        alpha=4.0,
        u=np.zeros(dim, dtype=np.float32),
        w=w,
        bias=-1.0,
        feature_mean=np.zeros(len(FEATURES)),
        feature_scale=np.ones(len(FEATURES)),
        platt=(1.0, 0.0),
        threshold=0.6,
    )


def owner_pairs(n: int) -> list[OwnerPair]:
    out = []
    for k in range(n):
        topic = TOPICS[k % len(TOPICS)]
        out.append(
            OwnerPair(
                message=f"my {topic} is broken since the upgrade ({k})",
                reply=f"try reinstalling the {topic} driver, that fixed my {topic}",
                at=T0 + timedelta(minutes=k),
            )
        )
    return out


def vectors(texts: list[str]) -> np.ndarray:
    return EMBEDDER.encode(texts)


def test_the_true_reply_outscores_replies_to_other_messages() -> None:
    fit = ReplyFit.unadapted(toy_weights())
    message = "my wifi drops every few minutes"
    replies = [
        "is the wifi driver the broadcom one? wifi power saving does that",
        "grub is fine, reinstall it from a live cd",
        "lol",
        "the printer needs cups",
    ]
    p = fit.probabilities(message, vectors([message])[0], replies, vectors(replies))
    assert int(np.argmax(p)) == 0
    assert all(
        0 <= s <= 100 for s in fit.scores(message, vectors([message])[0], replies, vectors(replies))
    )


def test_search_by_fit_is_one_product_and_agrees_with_the_full_score() -> None:
    weights = toy_weights()
    fit = ReplyFit.unadapted(weights)
    replies = [f"the {t} works again" for t in TOPICS]
    matrix = vectors(replies)
    query = vectors(["my disk is full"])[0]
    top = fit.search(query, matrix, 3)
    linear = matrix @ weights.query(query)
    assert top[0] == int(np.argmax(linear)) == TOPICS.index("disk")
    assert len(top) == 3 and fit.search(query, matrix[:0], 3) == []


def test_adaptation_calibrates_discriminates_and_round_trips() -> None:
    pairs = owner_pairs(60)
    m = vectors([p.message for p in pairs])
    r = vectors([p.reply for p in pairs])
    fit = ReplyFit.adapt(pairs, m, r, weights=toy_weights(), seed=1)
    assert fit.stats["adapted"] and fit.stats["auc"] > 0.8
    assert 0.5 <= fit.threshold <= 0.95
    # Calibrated fit is a monotone map of the adapted score, and true replies read higher.
    message = "my usb is broken since the upgrade"
    candidates = [f"try reinstalling the {t} driver, that fixed my {t}" for t in TOPICS]
    vec = vectors([message])[0]
    logits = fit.logits(message, vec, candidates, vectors(candidates))
    probability = fit.probabilities(message, vec, candidates, vectors(candidates))
    assert np.all(np.diff(probability[np.argsort(logits)]) >= 0)
    assert int(np.argmax(probability)) == TOPICS.index("usb")
    assert probability[TOPICS.index("usb")] > 0.5 > float(np.median(probability))
    again = ReplyFit.from_bytes(fit.to_bytes(), weights=fit.weights)
    assert np.allclose(
        again.probabilities(message, vec, candidates, vectors(candidates)), probability
    )
    assert again.threshold == fit.threshold and again.stats == fit.stats
    # An adaptation is only read back over the weights it was learned on.
    other = replace(fit.weights, a=fit.weights.a + 0.5)
    with pytest.raises(ValueError, match="other reply-fit weights"):
        ReplyFit.from_bytes(fit.to_bytes(), weights=other)


def test_few_pairs_keep_the_global_calibration() -> None:
    pairs = owner_pairs(5)
    fit = ReplyFit.adapt(
        pairs, vectors([p.message for p in pairs]), vectors([p.reply for p in pairs]),
        weights=toy_weights(),
    )  # fmt: skip
    assert not fit.stats["adapted"] and fit.threshold == 0.6


def test_weights_round_trip_as_float16() -> None:
    weights = toy_weights()
    weights.u[:] = 0.5
    again = FitWeights.from_bytes(weights.to_bytes())
    assert again.dim == 128 and again.alpha == 4.0 and again.threshold == 0.6
    assert np.allclose(again.u, 0.5) and np.array_equal(again.w, weights.w)


def test_surface_features_read_questions_in_any_script() -> None:
    rows = pair_features("これは何ですか？", ["知らない", "なぜ？"])
    q = FEATURES.index("message_question")
    both = FEATURES.index("both_question")
    assert rows[0, q] == 1.0 and rows[0, both] == 0.0 and rows[1, both] == 1.0


def test_roc_auc() -> None:
    assert roc_auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert roc_auc([0.5], [0.5]) == 0.5
    assert roc_auc([], [0.1]) is None


def test_the_shipped_weights_load_once_from_the_package() -> None:
    weights = global_weights()
    assert weights is global_weights()
    assert weights.dim == 384 and weights.a.shape[1] >= 8
    assert "CC-BY-4.0" in weights.meta["corpus"]
    assert weights.meta["val_mrr_13"] > weights.meta["val_mrr_13_cosine_only"]


@pytest.mark.slow
def test_the_shipped_model_ranks_the_true_reply_first_with_the_real_embedder() -> None:
    from core.engines.embedding import SentenceEmbedder

    embedder = SentenceEmbedder()
    fit = ReplyFit.unadapted()
    cases = {
        "how do i check how much disk space is left?": "df -h shows free space per partition",
        "thanks a lot, that fixed it!": "you're welcome, glad it works",
        "which command lists usb devices?": "lsusb",
    }
    replies = list(cases.values())
    reply_vecs = embedder.encode(replies)
    for row, message in enumerate(cases):
        p = fit.probabilities(message, embedder.encode([message])[0], replies, reply_vecs)
        assert int(np.argmax(p)) == row, (message, p)


def test_search_over_compact_codes_finds_what_the_exact_search_finds() -> None:
    from core.drafting.fit import ReplyCodes

    rng = np.random.default_rng(3)
    weights = toy_weights()
    weights.b[:] = rng.normal(size=weights.b.shape) * 0.1
    weights.a[:] = rng.normal(size=weights.a.shape) * 0.1
    replies = rng.normal(size=(3000, 128)).astype(np.float32)
    replies /= np.linalg.norm(replies, axis=1, keepdims=True)
    fit = ReplyFit.unadapted(weights)
    codes = ReplyCodes.of(weights, replies, dims=128)  # all directions: exact up to rounding
    hits = 0
    for _ in range(20):
        query = rng.normal(size=128).astype(np.float32)
        exact = fit.search(query, replies, 10)
        compact = fit.search(query, replies, 10, codes)
        assert compact[0] == exact[0]
        hits += len(set(exact) & set(compact))
    assert hits >= 0.95 * 200
