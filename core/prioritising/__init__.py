"""Prioritising: how much an incoming message matters to its owner, whether it needs a reply, and why.

``OwnerContext`` holds what is known about the owner (names, VIPs, who they answer and how fast);
``HeuristicPrioritiser`` scores with fixed weights (the walking skeleton, and the cold-start prior).
"""

from core.prioritising.context import (
    Answered,
    OnboardingAnswers,
    OwnerContext,
    SenderStats,
    Unanswered,
    WorkingHours,
)
from core.prioritising.heuristic import HEURISTIC_WEIGHTS, HeuristicPrioritiser

__all__ = [
    "HEURISTIC_WEIGHTS",
    "Answered",
    "HeuristicPrioritiser",
    "OnboardingAnswers",
    "OwnerContext",
    "SenderStats",
    "Unanswered",
    "WorkingHours",
]
