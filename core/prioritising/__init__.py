"""Prioritising: how much an incoming message matters to its owner, whether it needs a reply, and why.

``OwnerContext`` holds what is known about the owner (names, VIPs, who they answer and how fast);
``HeuristicPrioritiser`` scores with fixed weights (the walking skeleton); ``Prioritiser`` is the
learned per-owner model: the shipped ``GlobalPrior`` (``load_global_prior``, learned across many
owners of a public chat corpus) adapted online from the owner's ``Label``s, with bounded and
undoable one-tap feedback (``feedback``), semantic closeness through an optional ``Embedder``,
and JSON serialisation. ``rows`` and ``evaluation`` measure it against a global simple-feature
logistic regression and the heuristic, per owner, on every message the owner received.
"""

from core.prioritising.context import (
    Answered,
    OnboardingAnswers,
    OwnerContext,
    SenderStats,
    Unanswered,
    WorkingHours,
)
from core.prioritising.feedback import TapEffect
from core.prioritising.heuristic import HEURISTIC_WEIGHTS, HeuristicPrioritiser
from core.prioritising.learned import Label, Prioritiser, SemanticMemory, to_incoming
from core.prioritising.prior import GlobalPrior, load_global_prior

__all__ = [
    "HEURISTIC_WEIGHTS",
    "Answered",
    "GlobalPrior",
    "HeuristicPrioritiser",
    "Label",
    "OnboardingAnswers",
    "OwnerContext",
    "Prioritiser",
    "SemanticMemory",
    "SenderStats",
    "TapEffect",
    "Unanswered",
    "WorkingHours",
    "load_global_prior",
    "to_incoming",
]
