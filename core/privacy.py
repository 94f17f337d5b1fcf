"""Privacy rules: consent per source, AI disclosure, caps on hostile input, and restoring an export.

Everything here is pure and platform-free; the :class:`~core.service.Clone` applies it and the
platform adapters call :func:`disclosure_for` and :func:`apply_disclosure` when they post.

Account settings (``Account.settings``, encrypted at rest) hold the owner's choices::

    {"learn_live": {"slack": true},                       # consent, per platform
     "disclosure": {"*/*": "line", "<persona id>/discord": "signature"}}

Consent: learning from messages the owner sends live (not from imports) is off until the owner
turns it on for that platform (``train on`` in a chat there). Disclosure: when the bot posts an
approved reply (as itself, or as the owner through a user token or a business connection) a
short line says it was drafted by the owner's AI clone, unless the owner chose otherwise for that
persona and platform.
"""

from __future__ import annotations

import enum
import io
import json
import time
import unicodedata
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal, Protocol, runtime_checkable

from core.models import Message

LEARN_LIVE = "learn_live"
DISCLOSURE = "disclosure"
ANY = "*"
"""Wildcard for "every platform" / "every persona" in settings keys."""

EXPORT_FORMAT = "minime-export"
EXPORT_MEMBER = "minime-export.json"
"""The one JSON document inside an export zip (``minime import`` reads it back)."""


# ----------------------------------------------------------------------------- consent per source


def live_learning(settings: Mapping[str, object]) -> dict[str, bool]:
    """Consent to learn from live messages, by platform (``"*"``: every platform).

    An older boolean ``learn_live`` (from ``train on`` before consent was per platform) counts as
    a choice for every platform.
    """
    value = settings.get(LEARN_LIVE)
    if isinstance(value, bool):
        return {ANY: value}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items() if isinstance(v, bool)}
    return {}


def learns_live(settings: Mapping[str, object], platform: str) -> bool:
    """Whether the owner consented to learning from what they send on ``platform`` (default off)."""
    consent = live_learning(settings)
    if platform in consent:
        return consent[platform]
    return consent.get(ANY, False)


def with_live_learning(
    settings: Mapping[str, object], platform: str, on: bool
) -> dict[str, object]:
    """``settings`` with consent for ``platform`` (``"*"`` for all, which resets each) set."""
    consent = live_learning(settings)
    if platform == ANY:
        consent = {ANY: on}
    else:
        consent[platform] = on
    return {**settings, LEARN_LIVE: consent}


def describe_live_learning(settings: Mapping[str, object], platforms: tuple[str, ...]) -> str:
    """One line for the profile card: where the clone learns from what the owner sends."""
    consent = live_learning(settings)
    named = sorted({*platforms, *(p for p in consent if p != ANY)})
    on = [p for p in named if learns_live(settings, p)]
    off = [p for p in named if not learns_live(settings, p)]
    everywhere = consent.get(ANY, False)
    if not on and not everywhere:
        return "Learning from messages you send: off everywhere (`train on` in a chat turns it on there)."
    parts = []
    if on:
        parts.append("on for " + ", ".join(on))
    if off:
        parts.append("off for " + ", ".join(off))
    rest = "on" if everywhere else "off"
    if not parts:
        return f"Learning from messages you send: {rest} everywhere."
    return f"Learning from messages you send: {'; '.join(parts)}; {rest} elsewhere."


# ----------------------------------------------------------------------------- AI disclosure


class Disclosure(enum.StrEnum):
    """How a post drafted by the clone says so."""

    NONE = "none"
    LINE = "line"
    """A short line under the text."""
    SIGNATURE = "signature"
    """A signature block, like an e-mail's."""


def _key(persona_id: str | None, platform: str | None) -> str:
    return f"{persona_id or ANY}/{platform or ANY}"


def disclosure_for(
    settings: Mapping[str, object],
    *,
    persona_id: str,
    platform: str,
    bot_posts: bool = True,
) -> Disclosure:
    """The disclosure to add when an approved reply is posted.

    Adapters call this when they post an :class:`~core.models.Outgoing` (they know the platform
    and whether they post it themselves) and then :func:`apply_disclosure`::

        mode = disclosure_for(account.settings, persona_id=draft.persona_id,
                              platform="slack", bot_posts=True)
        text = apply_disclosure(outgoing.text, mode, owner_name="Ana", limit=40_000)

    Args:
        settings: the account's settings.
        persona_id: the persona the draft was written in.
        platform: where it is posted (``"slack"``, ``"telegram"``, ``"discord"``, ...).
        bot_posts: ``True`` when the bot posts the text (as itself, or as the owner through a
            user token or a business connection); ``False`` when it only hands the owner the text
            to send themselves.

    Returns:
        The owner's choice for this persona and platform (most specific first: persona and
        platform, persona on any platform, any persona on the platform, everywhere); without one,
        ``LINE`` where the bot posts and ``NONE`` where the owner sends the text themselves.
    """
    chosen = settings.get(DISCLOSURE)
    if isinstance(chosen, Mapping):
        for key in (
            _key(persona_id, platform),
            _key(persona_id, None),
            _key(None, platform),
            _key(None, None),
        ):
            value = chosen.get(key)
            if isinstance(value, str) and value in Disclosure.__members__.values():
                return Disclosure(value)
    return Disclosure.LINE if bot_posts else Disclosure.NONE


def with_disclosure(
    settings: Mapping[str, object],
    mode: Disclosure,
    *,
    persona_id: str | None,
    platform: str | None,
) -> dict[str, object]:
    """``settings`` with ``mode`` chosen for a persona and platform (``None``: any)."""
    current = settings.get(DISCLOSURE)
    chosen = dict(current) if isinstance(current, Mapping) else {}
    chosen[_key(persona_id, platform)] = mode.value
    return {**settings, DISCLOSURE: chosen}


def apply_disclosure(
    text: str, mode: Disclosure, *, owner_name: str, limit: int | None = None
) -> str:
    """The text as posted: with the disclosure line or signature, within ``limit`` characters.

    The text is clipped (with an ellipsis) rather than the disclosure, so a long reply never
    loses it.
    """
    name = " ".join(owner_name.split()) or "the owner"
    if mode is Disclosure.LINE:
        suffix = f"\n— drafted by {name}'s AI clone, approved by {name}"
    elif mode is Disclosure.SIGNATURE:
        suffix = f"\n\n-- \n{name}\n(drafted with {name}'s AI clone, minime)"
    else:
        suffix = ""
    if limit is not None and len(text) + len(suffix) > limit:
        room = max(limit - len(suffix) - 1, 0)
        text = text[:room] + "…"
    return text + suffix


# ----------------------------------------------------------------------------- caps


class RateLimiter:
    """Token buckets per key (an owner and a sender): a flood is cut off, others are unaffected.

    Each key may spend ``burst`` messages at once and then ``per_minute`` a minute. Deciding is
    one dictionary lookup and some arithmetic (no I/O), so a flood of 10,000 messages a minute
    costs microseconds each. Memory is bounded: at most ``max_keys`` buckets are kept (the least
    recently used go first; a forgotten bucket comes back full, which only errs on the side of
    letting a message through).

    Args:
        per_minute: sustained messages a minute per key.
        burst: how many may arrive at once.
        max_keys: buckets kept.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a rate limit needs per_minute > 0 and burst >= 1")
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()
        self.dropped: dict[Hashable, int] = {}
        """Messages refused per key while its bucket is kept (for an aggregate notice)."""

    def allow(self, key: Hashable) -> bool:
        """Spend one token of ``key``'s bucket; ``False`` (and counted) when it is empty."""
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        else:
            self.dropped[key] = self.dropped.get(key, 0) + 1
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            old, _ = self._buckets.popitem(last=False)
            self.dropped.pop(old, None)
        return allowed


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced: JSON payloads may carry them (``"\\ud800"``), and
    they cannot be encoded, encrypted or stored."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def clean_message(message: Message) -> Message:
    """``message`` with every text field passed through :func:`clean_text`."""
    fields = (message.id, message.conversation, message.thread, message.sender, message.text)
    cleaned = tuple(None if f is None else clean_text(f) for f in fields)
    reply_to = None if message.reply_to is None else clean_text(message.reply_to)
    if cleaned == fields and reply_to == message.reply_to:
        return message
    return replace(
        message,
        id=cleaned[0] or "",
        conversation=cleaned[1] or "",
        thread=cleaned[2],
        sender=cleaned[3] or "",
        text=cleaned[4] or "",
        reply_to=reply_to,
    )


def too_long(text: str, max_chars: int) -> bool:
    """Whether a message is over the size cap (``settings.max_message_chars``)."""
    return len(text) > max_chars


BINARY_SHARE = 0.1
"""Above this share of control or replacement characters, a text is binary data, not a message."""
BINARY_NOTICE = (
    "That looks like binary data (the bytes of a file), not the text of a message, so I left it "
    "alone. Paste the message's text?"
)
EMPTY_NOTICE = "That message has no text to answer. Paste or forward one with words in it."


def looks_binary(text: str) -> bool:
    """Whether ``text`` reads as binary data rather than a message: a NUL, or more than
    :data:`BINARY_SHARE` control characters (other than line breaks and tabs) or U+FFFD (what
    undecodable bytes become)."""
    if not text:
        return False
    if "\x00" in text:
        return True
    odd = sum(
        1 for c in text if c == "\ufffd" or (c not in "\n\r\t" and unicodedata.category(c) == "Cc")
    )
    return odd > BINARY_SHARE * len(text)


def size_notice(length: int, max_chars: int) -> str:
    """The reply to a message over the size cap: what happened, without quoting it."""
    return (
        f"That message is {length:,} characters long; I read messages of up to {max_chars:,} "
        "characters, so I left it alone. Paste a shorter part?"
    )


# ----------------------------------------------------------------------------- export and restore


def export_zip(data: Mapping[str, object]) -> bytes:
    """A privacy export (``AccountVault.export``) as the zip ``minime import`` reads back."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(EXPORT_MEMBER, json.dumps(data, ensure_ascii=False, indent=1))
    return buffer.getvalue()


MessageSource = Literal["import", "live", "sample", "feedback"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportedPersona:
    """A persona as an export names it."""

    name: str
    owner_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportedMessage:
    """A held message as an export carries it: whose persona, and whether the owner wrote it."""

    persona: str
    message: Message
    from_owner: bool
    source: MessageSource = "import"


@runtime_checkable
class RestorableExport(Protocol):
    """An export that restores itself exactly (minime's own): personas and owner flags included.

    ``Clone.import_file`` restores such a source instead of importing it as a chat export, so
    ``--me`` is not needed: each message keeps its persona, sender and ``from_owner`` flag.
    """

    format: str

    def personas(self) -> list[ExportedPersona]:
        """The personas, in export order; raises the reader's error on a malformed export."""
        ...

    def active_persona(self) -> str | None: ...

    def held_messages(self) -> Iterator[ExportedMessage]:
        """Every message (already validated by :meth:`personas`)."""
        ...
