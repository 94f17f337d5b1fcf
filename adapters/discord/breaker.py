"""Stopping the bot when Discord keeps refusing its credentials, instead of retrying forever."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class AuthStorm(RuntimeError):
    """Discord keeps refusing the bot's credentials or permissions: stop rather than loop."""


class AuthBreaker:
    """Counts 401/403 answers; trips on any 401 or on ``limit`` 403s within ``window_s``.

    A single 403 is ordinary (a channel the bot may not post in) and is reported to the owner;
    many in a row mean the bot was removed, its token revoked or its role stripped, and carrying on
    would only burn the rate limits and risk an automatic ban of the token.
    """

    def __init__(
        self,
        *,
        limit: int = 10,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window_s = window_s
        self._clock = clock
        self._seen: deque[float] = deque()
        self.tripped: AuthStorm | None = None

    def record(self, status: int | None) -> bool:
        """Note one HTTP status; ``True`` when the bot should stop now."""
        if status == 401:
            self.tripped = AuthStorm("Discord answered 401 Unauthorized: the bot token is invalid")
            return True
        if status != 403:
            return False
        now = self._clock()
        self._seen.append(now)
        while self._seen and now - self._seen[0] > self._window_s:
            self._seen.popleft()
        if len(self._seen) >= self._limit:
            self.tripped = AuthStorm(
                f"{len(self._seen)} Discord 403 Forbidden answers within {self._window_s:.0f} s"
            )
            return True
        return False
