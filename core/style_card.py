"""The style card: a persona's profile as words and a picture, compared with typical writers."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from core.models import StoredMessage
from core.profiling import Profiler, StyleProfile, render_card, samples_from_stored
from core.profiling.background import background_samples


class StyleCard:
    """Builds the profile of a persona's history and renders its card (CPU work: run off-loop)."""

    def __init__(self, profiler: Profiler) -> None:
        self._profiler = profiler
        self._typical: StyleProfile | None = None
        self._lock = threading.Lock()

    def profile(self, history: Sequence[StoredMessage]) -> StyleProfile:
        """The owner's profile from their stored messages (others' resolve what was answered)."""
        return self._profiler.build(samples_from_stored(history))

    def typical(self) -> StyleProfile:
        """The profile of the shipped background writers, built once."""
        with self._lock:
            if self._typical is None:
                self._typical = self._profiler.build(background_samples())
            return self._typical

    def card(self, history: Sequence[StoredMessage]) -> tuple[str, bytes | None]:
        profile = self.profile(history)
        return profile.summary(), render_card(profile, self.typical())
