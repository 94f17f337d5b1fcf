"""Quality over time: the measures kept, and a drop only when it is beyond noise."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from core.understanding import trend as t
from core.understanding import versions

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def report(mrr: float, ci: tuple[float, float], auc: float | None = None) -> dict[str, object]:
    return {
        "data": {"messages": 500},
        "drafting": {"fitted": {"mrr": mrr, "mrr_ci": list(ci), "fidelity": 0.9}},
        "attribution": {"error": "too few writers"},
        "triage": None if auc is None else {"auc": auc, "auc_ci": [auc - 0.1, auc + 0.1]},
    }


def run(mrr: float, ci: tuple[float, float], version: int = 1) -> t.Run:
    return t.Run(
        at=T0,
        trigger="weekly",
        model_version=version,
        messages=500,
        measures=t.measures(report(mrr, ci)),
    )


def test_measures_are_read_from_a_quality_report() -> None:
    got = t.measures(report(0.45, (0.33, 0.57), auc=0.7))
    assert got["relevance_mrr"] == t.Measure(value=0.45, ci=(0.33, 0.57))
    assert got["style_fidelity"].value == 0.9 and got["style_fidelity"].ci is None
    assert got["triage_auc"].value == 0.7
    assert "attribution" not in got


def test_only_a_drop_beyond_noise_alerts() -> None:
    before = run(0.60, (0.55, 0.65))
    within = run(0.56, (0.50, 0.62))
    beyond = run(0.40, (0.35, 0.45), version=2)
    assert t.alerts(before, within) == []
    alerts = t.alerts(before, beyond)
    assert len(alerts) == 1 and alerts[0].startswith("reply relevance (MRR) dropped from 0.60")
    assert t.alerts(None, beyond) == []
    # Without intervals a measure must fall by DROP_WITHOUT_CI.
    assert not t.dropped(t.Measure(value=0.9), t.Measure(value=0.85))
    assert t.dropped(t.Measure(value=0.9), t.Measure(value=0.75))
    assert "model v1 → v2" in t.comparison(before, beyond)[0]


def test_the_history_round_trips() -> None:
    h = t.History(runs=[run(0.5, (0.4, 0.6))], notify="local:owner", next_due=T0.isoformat())
    back = t.History.from_bytes(h.to_bytes())
    assert back.runs == h.runs and back.notify == "local:owner" and back.next_due == h.next_due
    assert t.History.from_bytes(b"junk").runs == []


class LengthScorer:
    """Scores a text by its length (long texts look like the owner's), or its negative."""

    def __init__(self, sign: float) -> None:
        self.sign = sign

    def decision_values(self, texts: list[str]) -> np.ndarray:  # type: ignore[type-arg]
        return np.asarray([self.sign * len(t) for t in texts], dtype=np.float64)


def test_two_versions_are_compared_on_the_same_messages_with_intervals() -> None:
    owner = [f"a rather long message of mine number {n}" for n in range(12)]
    others = [f"short {n}" for n in range(12)]
    found = versions.compare(LengthScorer(1.0), LengthScorer(-1.0), owner, others)
    assert found is not None
    assert found.new_auc == 1.0 and found.old_auc == 0.0 and found.difference == 1.0
    assert found.difference_ci[0] <= found.difference <= found.difference_ci[1]
    assert "v3 vs v2 on the same 24 messages" in found.line(3, 2)
    assert versions.compare(LengthScorer(1.0), LengthScorer(1.0), owner[:5], others) is None
