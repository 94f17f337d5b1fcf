"""Quality over time: the measures of one ``quality`` report, the history of them, and when a
measure dropped beyond noise (pure).

A drop counts only when it is beyond the noise of the two runs: the new value is below the
previous one and their 95% intervals do not overlap (the new interval's top is under the previous
interval's bottom); a measure without an interval must drop by :data:`DROP_WITHOUT_CI`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

HISTORY_STATE = "quality-history"
MAX_RUNS = 200
DROP_WITHOUT_CI = 0.10
_FORMAT = "minime.quality-history/1"

LABELS: dict[str, str] = {
    "relevance_mrr": "reply relevance (MRR)",
    "style_fidelity": "drafts sound like you",
    "options_fit": "options that fit",
    "attribution": "attribution accuracy",
    "triage_auc": "triage ROC-AUC",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Measure:
    value: float
    ci: tuple[float, float] | None = None


def _ci(value: Any) -> tuple[float, float] | None:
    if (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(isinstance(x, (int, float)) for x in value)
    ):
        return float(value[0]), float(value[1])
    return None


def measures(report: Mapping[str, Any]) -> dict[str, Measure]:
    """The tracked measures of a :func:`core.quality.measure` report (those it measured)."""
    out: dict[str, Measure] = {}
    d = report.get("drafting")
    if isinstance(d, Mapping) and "error" not in d:
        ours = d.get("fitted") or d.get("retrieval") or {}
        if isinstance(ours.get("mrr"), (int, float)):
            out["relevance_mrr"] = Measure(value=float(ours["mrr"]), ci=_ci(ours.get("mrr_ci")))
        if isinstance(ours.get("fidelity"), (int, float)):
            out["style_fidelity"] = Measure(
                value=float(ours["fidelity"]), ci=_ci(ours.get("fidelity_ci"))
            )
        shown = ((d.get("acceptance") or {}).get("shown_options") or {}).get("share")
        if isinstance(shown, (int, float)):
            out["options_fit"] = Measure(value=float(shown))
    a = report.get("attribution")
    if isinstance(a, Mapping) and isinstance(a.get("verifier_accuracy"), (int, float)):
        out["attribution"] = Measure(
            value=float(a["verifier_accuracy"]), ci=_ci(a.get("verifier_accuracy_ci"))
        )
    t = report.get("triage")
    if isinstance(t, Mapping) and isinstance(t.get("auc"), (int, float)):
        out["triage_auc"] = Measure(value=float(t["auc"]), ci=_ci(t.get("auc_ci")))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One measurement kept in the history."""

    at: datetime
    trigger: str
    """``on demand``, ``weekly`` or ``after an import``."""
    model_version: int
    messages: int
    measures: dict[str, Measure]

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "trigger": self.trigger,
            "model_version": self.model_version,
            "messages": self.messages,
            "measures": {
                k: {"value": m.value, "ci": list(m.ci) if m.ci else None}
                for k, m in self.measures.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Run:
        return cls(
            at=datetime.fromisoformat(str(data["at"])),
            trigger=str(data.get("trigger", "on demand")),
            model_version=int(data.get("model_version", 1)),
            messages=int(data.get("messages", 0)),
            measures={
                k: Measure(value=float(m["value"]), ci=_ci(m.get("ci")))
                for k, m in dict(data.get("measures", {})).items()
            },
        )


@dataclass(slots=True, kw_only=True)
class History:
    """A persona's quality runs, oldest first, and where alerts go."""

    runs: list[Run]
    notify: str | None = None
    """``platform:user_id`` of the owner to tell about drops and scheduled results."""
    next_due: str | None = None
    next_trigger: str | None = None
    """Why the next run is scheduled: ``weekly`` or ``after an import``."""

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "format": _FORMAT,
                "notify": self.notify,
                "next_due": self.next_due,
                "next_trigger": self.next_trigger,
                "runs": [r.to_json() for r in self.runs[-MAX_RUNS:]],
            }
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> History:
        if not raw:
            return cls(runs=[])
        try:
            data = json.loads(raw)
        except ValueError:
            return cls(runs=[])
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return cls(runs=[])
        runs = []
        for item in data.get("runs", []):
            try:
                runs.append(Run.from_json(item))
            except (KeyError, TypeError, ValueError):
                continue
        return cls(
            runs=runs,
            notify=data.get("notify"),
            next_due=data.get("next_due"),
            next_trigger=data.get("next_trigger"),
        )


def dropped(previous: Measure, new: Measure) -> bool:
    """Whether ``new`` is below ``previous`` beyond the noise of both."""
    if new.value >= previous.value:
        return False
    if new.ci is not None and previous.ci is not None:
        return new.ci[1] < previous.ci[0]
    return previous.value - new.value >= DROP_WITHOUT_CI


def alerts(previous: Run | None, new: Run) -> list[str]:
    """One line per measure that dropped beyond noise since ``previous``."""
    if previous is None:
        return []
    out = []
    for key, measure in new.measures.items():
        before = previous.measures.get(key)
        if before is not None and dropped(before, measure):
            out.append(
                f"{LABELS.get(key, key)} dropped from {before.value:.2f} to {measure.value:.2f} "
                f"(beyond noise: {_interval(before)} then {_interval(measure)})"
            )
    return out


def comparison(previous: Run | None, new: Run) -> list[str]:
    """How each measure moved since the previous run (with the model versions of each)."""
    if previous is None:
        return []
    parts = []
    for key, measure in new.measures.items():
        before = previous.measures.get(key)
        if before is not None:
            parts.append(f"{LABELS.get(key, key)} {before.value:.2f} → {measure.value:.2f}")
    if not parts:
        return []
    versions = (
        f"model v{previous.model_version} → v{new.model_version}"
        if previous.model_version != new.model_version
        else f"model v{new.model_version}"
    )
    return [
        f"Since {previous.at:%Y-%m-%d %H:%M} ({versions}, {previous.messages:,} → "
        f"{new.messages:,} messages): " + "; ".join(parts) + "."
    ]


def _interval(measure: Measure) -> str:
    if measure.ci is None:
        return f"{measure.value:.2f}"
    return f"{measure.ci[0]:.2f}–{measure.ci[1]:.2f}"
