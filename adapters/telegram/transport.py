"""How updates reach the bot and its requests leave: the webhook secret, flood control, the app.

- :class:`Webhook`: where Telegram posts updates and the secret it must present;
- :class:`ChatRateLimiter`: about one message a second per chat, retries on ``RetryAfter``;
- :func:`build_application`: the PTB ``Application`` with that limiter and no job queue;
- :class:`PollingConflict`: another process polls with the same token (``409 Conflict``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.BUSINESS_CONNECTION,
    Update.BUSINESS_MESSAGE,
]
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_SECRET = re.compile(r"^[A-Za-z0-9_-]{32,256}$")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """Where Telegram delivers updates, and the secret it must present.

    Raises:
        ValueError: the secret is shorter than 32 characters or uses characters Telegram refuses.
    """

    url: str
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        if not _SECRET.match(self.secret):
            raise ValueError(
                "the Telegram webhook secret must be 32-256 characters of A-Z, a-z, 0-9, _ and - "
                "(MINIME_TELEGRAM__WEBHOOK_SECRET)"
            )

    def accepts(self, supplied: str | None) -> bool:
        """Constant-time check of the ``X-Telegram-Bot-Api-Secret-Token`` header."""
        return hmac.compare_digest((supplied or "").encode(), self.secret.encode())


# ----------------------------------------------------------------- flood control


def _retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that ``retry_after`` becomes a timedelta; accept either.
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ChatRateLimiter(BaseRateLimiter[None]):
    """At most one message per ``per_chat_interval`` in each chat, ``overall_rate`` in all; retries
    on ``RetryAfter`` after the wait Telegram asks for.

    Sends to one chat go one at a time, in the order they were queued (a FIFO lock per chat), so
    a ``RetryAfter`` on one holds everything queued behind it for that chat: nothing is posted
    inside the wait Telegram asked for, and the retried message still goes first. Requests
    without a chat (``answerCallbackQuery``, ``getFile``) only share the overall rate.

    Args:
        per_chat_interval: seconds between two messages in one chat (Telegram: about 1).
        overall_rate: messages per second across all chats (Telegram: about 30).
        max_retries: how many ``RetryAfter`` answers to wait out before giving up.
    """

    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        overall_rate: float = 30.0,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = per_chat_interval
        self._spacing = 1.0 / overall_rate
        self._max_retries = max_retries
        self._clock = clock
        self._next_in_chat: dict[str, float] = {}
        self._next_overall = 0.0
        self._paused_until = 0.0
        self._chat_turns: dict[str, tuple[asyncio.Lock, int]] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        self._next_in_chat.clear()

    @staticmethod
    def chat_of(endpoint: str, data: dict[str, Any]) -> str | None:
        """The chat a request posts into, if it is a message (send/edit/copy/forward)."""
        chat = data.get("chat_id")
        if chat is None or endpoint == "sendChatAction":
            return None
        if endpoint.startswith(("send", "edit", "copy", "forward")):
            return str(chat)
        return None

    async def _wait_turn(self, chat: str | None) -> None:
        now = self._clock()
        if chat is not None:
            slot = max(now, self._next_in_chat.get(chat, 0.0))
            self._next_in_chat[chat] = slot + self._interval
            if len(self._next_in_chat) > 4096:
                for key, until in list(self._next_in_chat.items()):
                    if until < now:
                        del self._next_in_chat[key]
            if slot > now:
                await asyncio.sleep(slot - now)
            now = self._clock()
        turn = max(now, self._next_overall, self._paused_until)
        self._next_overall = turn + self._spacing
        if turn > now:
            await asyncio.sleep(turn - now)

    def _hold(self, chat: str | None, seconds: float) -> None:
        until = self._clock() + seconds
        if chat is None:
            self._paused_until = max(self._paused_until, until)
        else:
            self._next_in_chat[chat] = max(self._next_in_chat.get(chat, 0.0), until)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = self.chat_of(endpoint, data)
        if chat is None:
            return await self._send(None, callback, args, kwargs, endpoint)
        lock, queued = self._chat_turns.get(chat, (asyncio.Lock(), 0))
        self._chat_turns[chat] = (lock, queued + 1)
        try:
            async with lock:  # asyncio.Lock wakes its waiters first come, first served
                return await self._send(chat, callback, args, kwargs, endpoint)
        finally:
            lock, queued = self._chat_turns[chat]
            if queued <= 1:
                del self._chat_turns[chat]
            else:
                self._chat_turns[chat] = (lock, queued - 1)

    async def _send(
        self,
        chat: str | None,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        attempt = 0
        while True:
            await self._wait_turn(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                attempt += 1
                if attempt > self._max_retries:
                    raise
                wait = _retry_seconds(error) + 0.05
                log.warning("Telegram flood control: retrying %s in %.1f s", endpoint, wait)
                self._hold(chat, wait)


# ----------------------------------------------------------------- the application


class PollingConflict(RuntimeError):
    """Telegram answered ``409 Conflict`` to ``getUpdates``: another process polls with this bot
    token (or a webhook is set by another deployment). Retrying cannot fix it, so polling stops;
    the supervisor's restart policy decides the rest. ``str()`` says what to do."""

    def __init__(self) -> None:
        super().__init__(
            "Telegram refused long polling (409 Conflict): another process is polling with this "
            "bot token. Stop the other one, or run every worker behind one webhook "
            "(MINIME_TELEGRAM__WEBHOOK_URL). Polling stopped."
        )


def build_application(
    token: str,
    *,
    rate_limiter: ChatRateLimiter,
    base_url: str | None = None,
    base_file_url: str | None = None,
    polling: bool = True,
) -> AnyApplication:
    """The PTB application: our rate limiter, no job queue, an updater only for polling."""
    builder = ApplicationBuilder().token(token).rate_limiter(rate_limiter).job_queue(None)
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    if not polling:
        builder = builder.updater(None)
    return builder.build()
