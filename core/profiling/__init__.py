"""Style profiling: measure how an owner writes, what they care about and how they decide.

``Profiler(nlp_loader=load_nlp).build(samples)`` gives a :class:`StyleProfile` (JSON round trip,
incremental ``update``); :meth:`StyleProfile.summary` is the readable card and :func:`render_card`
the picture. Importing this package loads no model and no plotting library.
"""

from core.profiling.card import render_card
from core.profiling.intents import INTENTS, Intent, classify_intent
from core.profiling.profile import Difference, StyleProfile
from core.profiling.profiler import Profiler
from core.profiling.samples import ProfileSample, samples_from_messages, samples_from_stored

__all__ = [
    "INTENTS",
    "Difference",
    "Intent",
    "ProfileSample",
    "Profiler",
    "StyleProfile",
    "classify_intent",
    "render_card",
    "samples_from_messages",
    "samples_from_stored",
]
