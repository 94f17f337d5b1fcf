from __future__ import annotations

import math
import random

import numpy as np
import pytest

from core.models import Message
from core.prioritising.evaluation import (
    evaluate_rows,
    fit_prior,
    most_active_senders,
    ndcg_at_k,
    owner_quality,
    roc_auc,
    summarise,
)
from core.prioritising.prior import GlobalPrior
from core.prioritising.rows import SIMPLE_FEATURES, owner_rows, received
from tests.core.prioritising.helpers import message


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


def test_received_means_named_or_present_never_answered() -> None:
    msgs = [
        message("1", "zoe", "sam: ping", minutes=0),  # names the owner
        message("2", "yan", "anyone here use zfs?", minutes=100),  # the owner is around
        message("3", "sam", "yes", minutes=102, reply_to="2"),
        message("4", "yan", "cool, samba works too", minutes=110),  # around, not answered
        message("5", "xi", "is the mirror down?", minutes=300),  # nobody named, owner away
        message("6", "bot", "the mirror is up", minutes=101),  # a bot: left out
        message("7", "xi", "sam: thanks", minutes=400, conversation="other"),
    ]
    assert received(msgs, "sam", exclude=["bot"]) == {"1", "2", "4", "7"}
    rows = owner_rows(msgs, "sam", exclude=["bot"])
    assert set(rows.ids) == {"1", "2", "4", "7"}
    assert dict(zip(rows.ids, rows.y.tolist(), strict=True))["2"] is True
    assert rows.y.sum() == 1 and rows.coverage == 1.0
    assert rows.simple.shape == (4, len(SIMPLE_FEATURES))
    assert most_active_senders(msgs, 2, exclude=["sam", "bot"]) == ["yan", "xi"]


def _channel(owner: str, seed: int, n: int = 600) -> list[Message]:
    """A busy channel: the owner answers questions put to them and whoever answers them."""
    rng = random.Random(seed)
    people = [f"p{i}" for i in range(12)]
    out: list[Message] = []
    minute = 0.0
    last_owner: str | None = None
    for i in range(n):
        sender = rng.choice(people)
        kind = rng.random()
        if kind < 0.2:
            text = f"{owner}: how do I fix the {rng.choice(['wifi', 'sound', 'grub'])}?"
        elif kind < 0.3 and last_owner is not None:
            text = "that did not work, what next?"
        else:
            text = rng.choice(["lol", "nice weather", "brb", "anyone seen the game", "ok"])
        reply_to = last_owner if kind >= 0.2 and kind < 0.3 and last_owner else None
        out.append(message(f"{seed}-{i}", sender, text, minutes=minute, reply_to=reply_to))
        if (kind < 0.3 and rng.random() < 0.85) or rng.random() < 0.03:
            last_owner = f"{seed}-r{i}"
            out.append(
                message(last_owner, owner, "try this", minutes=minute + 1, reply_to=f"{seed}-{i}")
            )
        minute += 3
    return out


def test_the_model_beats_both_baselines_on_an_owner_it_never_saw() -> None:
    prior = fit_prior([owner_rows(_channel("sam", seed), "sam") for seed in (1, 2, 3)])
    rows = owner_rows(_channel("kim", 9), "kim")
    result = evaluate_rows(rows, prior, bootstrap=200)
    assert result.auc["model"] > 0.85
    assert result.auc["model"] > result.auc["simple"]
    assert result.auc["model"] > result.auc["heuristic"]
    low, high = result.auc_ci["model"]
    assert low <= result.auc["model"] <= high
    summary = summarise([result, evaluate_rows(owner_rows(_channel("kim", 8), "kim"), prior)])
    assert summary.owners == 2
    assert summary.gain["auc_vs_simple"] > 0
    assert set(summary.as_json()) >= {"auc", "ndcg10", "gain", "gain_ci"}
    again = GlobalPrior.from_json(prior.to_json())
    assert np.array_equal(again.weights, prior.weights)


def test_owner_quality_measures_one_owner() -> None:
    prior = fit_prior([owner_rows(_channel("sam", 4), "sam")])
    result = owner_quality(_channel("kim", 5), "kim", prior=prior, bootstrap=100)
    assert result.test_rows > 0 and result.test_replies > 0
    assert set(result.auc) == {"model", "simple", "heuristic"}
    with pytest.raises(ValueError):
        owner_quality(_channel("kim", 5)[:3], "kim", prior=prior)
