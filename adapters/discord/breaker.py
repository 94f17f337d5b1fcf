"""Stopping the bot when Discord keeps refusing it, instead of retrying forever.

Backing off on a single ``429`` is discord.py's job: its HTTP client reads the bucket headers
(``X-RateLimit-Bucket``, ``-Remaining``, ``-Reset-After``) and ``X-RateLimit-Global``, waits
``retry_after`` and retries, and raises ``HTTPException(429)`` only when that fails. What it does
not do is stop: every such 429 counts against Discord's invalid-request limit (10,000 401/403/429
answers in 10 minutes get the bot's IP banned by Cloudflare), so a sustained storm stops the bot
as a storm of 403s does.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class AuthStorm(RuntimeError):
    """Discord keeps refusing the bot's credentials or permissions, or keeps rate-limiting it
    after discord.py's own backoff: stop rather than loop."""


class AuthBreaker:
    """Counts 401/403/429 answers; trips on any 401, on ``limit`` 403s within ``window_s``, or on
    ``limit`` 429s (each already retried by discord.py per Discord's headers) within ``window_s``.

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
        self._limited: deque[float] = deque()
        self.tripped: AuthStorm | None = None

    def record(self, status: int | None) -> bool:
        """Note one HTTP status; ``True`` when the bot should stop now."""
        if status == 401:
            self.tripped = AuthStorm("Discord answered 401 Unauthorized: the bot token is invalid")
            return True
        if status == 403:
            seen, what = self._seen, "403 Forbidden answers"
        elif status == 429:
            seen, what = self._limited, "429 Too Many Requests answers (after backing off)"
        else:
            return False
        now = self._clock()
        seen.append(now)
        while seen and now - seen[0] > self._window_s:
            seen.popleft()
        if len(seen) >= self._limit:
            self.tripped = AuthStorm(f"{len(seen)} Discord {what} within {self._window_s:.0f} s")
            return True
        return False
