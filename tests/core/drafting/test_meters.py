"""The "sounds like you" meter: calibrated on held-out owner messages, monotone, spread out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from core.drafting.meters import StyleMeter
from core.engines.embedding import HashingEmbedder
from core.verifier import StyleVerifier


class Saturated:
    """A verifier whose probabilities would all read 100 for the owner: raw value = length."""

    def decision_values(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray([10.0 + len(t) for t in texts])


def test_the_meter_is_monotone_and_spreads_the_owners_own_texts() -> None:
    owner = [("x" * n) for n in range(5, 45)]
    meter = StyleMeter.calibrate(Saturated(), owner, others=["", "a", "ab"])
    scores = meter.score(["x" * n for n in (1, 5, 15, 25, 44, 80)])
    assert scores == sorted(scores) and scores[0] == 0 and scores[-1] == 100
    assert len(set(meter.score(owner[::8]))) == len(owner[::8]), "different texts read differently"
    assert meter.auc == 1.0
    again = StyleMeter.from_bytes(meter.to_bytes(), verifier=Saturated())
    assert again.score(owner) == meter.score(owner) and again.auc == meter.auc


def test_too_few_held_out_messages_cannot_calibrate() -> None:
    with pytest.raises(ValueError):
        StyleMeter.calibrate(Saturated(), ["one", "two"])


def test_a_real_verifier_discriminates_after_calibration() -> None:
    embedder = HashingEmbedder()
    owner = [f"yo dude {w} lol!!" for w in "abcdefghijklmnopqrstuvwxyz"] * 2
    others = [f"Dear colleague, regarding {w}, kind regards." for w in "abcdefghijklmnopqrstuvwxyz"]
    verifier = StyleVerifier.fit(owner[:30], others[:20], embedder=embedder)
    meter = StyleMeter.calibrate(verifier, owner[30:], others=others[20:])
    assert meter.auc is not None and meter.auc > 0.9
    own, their = meter.score(owner[30:]), meter.score(others[20:])
    assert np.median(own) > np.median(their)
    assert 0 < np.median(own) < 100, "owner texts no longer all read 100"
