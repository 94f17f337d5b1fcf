from __future__ import annotations

import math

import pytest

from core.engines.embedding import HashingEmbedder
from core.prioritising.evaluation import (
    candidates,
    evaluate,
    most_active_senders,
    ndcg_at_k,
    roc_auc,
)
from tests.core.prioritising.helpers import message
from tests.core.prioritising.test_learned import synthetic_stream


def test_auc_by_hand() -> None:
    # positives 0.9, 0.7; negatives 0.8, 0.6: pairs won 0.9>0.8, 0.9>0.6, 0.7>0.6 → 3/4
    assert roc_auc([0.9, 0.8, 0.7, 0.6], [True, False, True, False]) == 0.75
    # positives 0.5, 0.2; negative 0.5: a tie (1/2) and a loss → 0.25
    assert roc_auc([0.5, 0.5, 0.2], [True, False, True]) == 0.25
    assert math.isnan(roc_auc([0.1, 0.2], [True, True]))


def test_ndcg_by_hand() -> None:
    # gains 0,1,1 at ranks 1..3: DCG = 1/log2(3) + 1/log2(4); ideal = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([0.9, 0.8, 0.7], [False, True, True]) == pytest.approx(expected)
    assert expected == pytest.approx(0.6934, abs=1e-4)
    # a tie between a positive and a negative: each rank earns 1/2 → (0.5 + 0.5/log2(3)) / 1
    assert ndcg_at_k([0.5, 0.5], [True, False]) == pytest.approx(0.5 + 0.5 / math.log2(3))
    # the only positive ranked 11th is outside the top 10
    scores = [1.0 - i / 20 for i in range(12)]
    labels = [i == 10 for i in range(12)]
    assert ndcg_at_k(scores, labels, k=10) == 0.0
    assert math.isnan(ndcg_at_k([0.3], [False]))


def test_candidates_are_addressed_or_answered() -> None:
    msgs = [
        message("1", "zoe", "sam: ping", minutes=0),  # addressed, unanswered
        message("2", "yan", "anyone here use zfs?", minutes=1),  # answered without address
        message("3", "sam", "yes", minutes=2, reply_to="2"),
        message("4", "yan", "cool, samba works too", minutes=3),  # "samba" is not "sam"
        message("5", "sam", "and another thing", minutes=4, reply_to="3"),  # self-continuation
    ]
    assert candidates(msgs, "sam") == {"1": False, "2": True}
    assert most_active_senders(msgs, 1, exclude=["sam"]) == ["yan"]


def test_evaluate_on_a_synthetic_owner() -> None:
    stream = synthetic_stream(250, seed=3)
    report = evaluate(stream, ["sam"], embedder=HashingEmbedder())
    (result,) = report.owners
    assert result.test_candidates == 50
    assert result.auc_learned > 0.85
    assert result.auc_learned > result.auc_heuristic
    assert report.as_json()["mean"] == report.mean
