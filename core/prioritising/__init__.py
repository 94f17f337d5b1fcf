"""Prioritising: how much an incoming message matters to its owner, whether it needs a reply, and why.

``OwnerContext`` holds what is known about the owner (names, VIPs, who they answer and how fast);
``HeuristicPrioritiser`` scores with fixed weights (the walking skeleton, and the cold-start prior);
``Prioritiser`` is the learned per-owner model (online updates from ``Label``s, semantic closeness
through an optional ``Embedder``, JSON serialisation); ``evaluation`` measures both.
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
from core.prioritising.learned import Label, Prioritiser, SemanticMemory, to_incoming

__all__ = [
    "HEURISTIC_WEIGHTS",
    "Answered",
    "HeuristicPrioritiser",
    "Label",
    "OnboardingAnswers",
    "OwnerContext",
    "Prioritiser",
    "SemanticMemory",
    "SenderStats",
    "Unanswered",
    "WorkingHours",
    "to_incoming",
]
