"""Inline-button ``callback_data``: compact, signed, bound to the owner and dated. Pure: no I/O.

Telegram clients can send any ``callback_data`` for a message the bot sent, so a button's data is
untrusted input. Each one carries the action, the option, the draft id and the minute it was issued,
with a truncated HMAC over those and the owner's Telegram user id. A forged, altered or
someone-else's button fails the check before anything touches the store; a button older than the
time to live is answered as expired. Replays of a valid button are refused by the core, which
approves a pending draft only once.

Layout (at most 64 bytes, Telegram's limit)::

    s0:3f2a…c9:1kq7mx:Vd3kQ0pZ1aB
    │└ option (base 36)
    └ action: s(end) e(dit) r(egenerate) d(ismiss) i(mportant) n(ot important) w (draft)
              p(ublish) c (schedule)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.models import Action

MAX_BYTES = 64
"""Telegram's limit on ``callback_data``."""

_MAC_CHARS = 11
"""66 bits of HMAC-SHA256: forging one button takes ~2^65 tries against a rate-limited bot."""

_CODES: dict[Action, str] = {
    Action.SEND: "s",
    Action.EDIT: "e",
    Action.REGENERATE: "r",
    Action.DISMISS: "d",
    Action.IMPORTANT: "i",
    Action.NOT_IMPORTANT: "n",
    Action.DRAFT: "w",
    Action.PUBLISH: "p",
    Action.SCHEDULE: "c",
}
_ACTIONS = {code: action for action, code in _CODES.items()}
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_DRAFT_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_DATA = re.compile(
    r"^(?P<a>[serdinwpc])(?P<o>[0-9a-z]):(?P<draft>[A-Za-z0-9_-]{1,40}):(?P<t>[0-9a-z]{1,8}):(?P<mac>[A-Za-z0-9_-]{11})$"
)
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackClick:
    """A button's data that passed the signature check."""

    action: Action
    draft_id: str
    option: int
    issued_at: datetime


class CallbackRefused(ValueError):
    """A button that must not act; ``str()`` is what the owner is told."""


class CallbackForged(CallbackRefused):
    """Malformed, altered, or signed for another user."""


class CallbackExpired(CallbackRefused):
    """Signed correctly, but older than the time to live."""


def _base36(number: int) -> str:
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = _DIGITS[digit] + out
        if not number:
            return out


def derive_key(secret: str, *, purpose: str = "minime/telegram/callback") -> bytes:
    """A key for button signatures from a secret (the bot token, or a dedicated setting).

    Rotating the secret invalidates buttons already sent; the owner then gets fresh drafts by
    forwarding the message again.
    """
    return hmac.new(purpose.encode(), secret.encode(), hashlib.sha256).digest()


class CallbackCodec:
    """Encodes and checks button data for one bot.

    Args:
        key: from :func:`derive_key`.
        ttl: how long a button stays usable after it was sent.
    """

    def __init__(self, key: bytes, *, ttl: timedelta = timedelta(hours=48)) -> None:
        if len(key) < 16:
            raise ValueError("the callback key must be at least 16 bytes")
        self._key = key
        self._ttl = ttl

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def _mac(self, body: str, user_id: str) -> str:
        digest = hmac.new(self._key, f"{body}|{user_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_MAC_CHARS]

    def encode(
        self, *, action: Action, draft_id: str, option: int, user_id: str, now: datetime
    ) -> str:
        """The ``callback_data`` of one button, for the owner ``user_id``."""
        if not _DRAFT_ID.match(draft_id):
            raise ValueError("draft id does not fit in callback data")
        if not 0 <= option < len(_DIGITS):
            raise ValueError("option out of range")
        minutes = max(0, int((now - _EPOCH).total_seconds() // 60))
        body = f"{_CODES[action]}{_DIGITS[option]}:{draft_id}:{_base36(minutes)}"
        data = f"{body}:{self._mac(body, user_id)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError("callback data longer than Telegram allows")
        return data

    def decode(self, data: str | None, *, user_id: str, now: datetime) -> CallbackClick:
        """Check and unpack a click's data.

        Raises:
            CallbackForged: the data is malformed, altered or was signed for another user.
            CallbackExpired: the button is older than the time to live.
        """
        match = _DATA.match(data or "")
        if match is None:
            raise CallbackForged("That button isn't valid.")
        body = data[: match.start("mac") - 1] if data else ""
        if not hmac.compare_digest(self._mac(body, user_id), match.group("mac")):
            raise CallbackForged("That button isn't valid for you.")
        issued = _EPOCH + timedelta(minutes=int(match.group("t"), 36))
        if now - issued > self._ttl:
            hours = int(self._ttl.total_seconds() // 3600)
            raise CallbackExpired(
                f"This draft has expired (buttons work for {hours} hours). "
                "Forward the message again for fresh drafts."
            )
        return CallbackClick(
            action=_ACTIONS[match.group("a")],
            draft_id=match.group("draft"),
            option=_DIGITS.index(match.group("o")),
            issued_at=issued,
        )
