"""The owner's filters: kinds of content to collapse (mute) or mark (flag) in the inbox and digest.

A filter is ``(kind, pattern)``:

* ``topic``: a word or phrase, matched as whole words in the message, any case ("crypto",
  "team offsite");
* ``sender``: who wrote it (the sender's name, any case) or the conversation it came in
  ("newsletter-bot", "#random");
* ``kind``: what the message does, as a dialogue act (:data:`core.drafting.acts.ACTS`, with a few
  plain-word aliases: ``fyi``, ``question``, ``invite``, ``thanks``, ``joke``).

Muted messages are collapsed (listed in one line with the reason), never dropped; flagged ones are
marked. Nothing else is hidden. Patterns are bounded (:data:`MAX_PATTERN`) and plain text, never
regular expressions supplied by the user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from core.drafting.acts import ACTS, rule_act
from core.models import Message

FilterKind = Literal["topic", "sender", "kind"]
KINDS: Final[tuple[FilterKind, ...]] = ("topic", "sender", "kind")
MAX_PATTERN = 80
"""Longest pattern accepted (characters)."""
MAX_FILTERS = 50
"""Filters per persona, at most."""
FILTERS_STATE = "filters"
_FORMAT = "minime.filters/1"

KIND_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "fyi": ("information",),
    "info": ("information",),
    "question": ("yes_no_question", "open_question"),
    "questions": ("yes_no_question", "open_question"),
    "invite": ("invitation",),
    "invites": ("invitation",),
    "requests": ("request",),
    "thank": ("thanks",),
    "joke": ("opinion",),
    "jokes": ("opinion",),
    "complaint": ("problem",),
    "greetings": ("greeting",),
}


class FilterError(ValueError):
    """A filter the owner typed that cannot be kept; ``str()`` is meant for the owner."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Filter:
    """One filter of a persona."""

    kind: FilterKind
    pattern: str
    flag: bool = False
    """Mark matching messages instead of collapsing them."""

    @property
    def label(self) -> str:
        """How the owner sees it: ``topic "crypto"``."""
        return f'{self.kind} "{self.pattern}"' + (" (flag)" if self.flag else "")

    def acts(self) -> tuple[str, ...]:
        """For a ``kind`` filter, the dialogue acts it stands for."""
        return KIND_ALIASES.get(self.pattern, (self.pattern,))

    def matches(self, message: Message, act: str | None = None) -> bool:
        """Whether ``message`` is of this kind (``act``: its dialogue act, when known)."""
        if self.kind == "sender":
            wanted = self.pattern.casefold()
            return wanted in (message.sender.casefold(), message.conversation.casefold())
        if self.kind == "topic":
            return _phrase(self.pattern).search(message.text) is not None
        return (act or rule_act(message.text)) in self.acts()


def _phrase(pattern: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in pattern.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def parse_filter(kind: str, pattern: str, *, flag: bool = False) -> Filter:
    """A filter from what the owner typed.

    Raises:
        FilterError: an unknown kind, an empty or too long pattern, or an unknown message kind.
    """
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise FilterError(f"A filter is on a topic, a sender or a kind, not '{kind[:20]}'.")
    text = " ".join(pattern.split())
    if not text:
        raise FilterError(f"Say what to filter: `filter add {kind} <pattern>`.")
    if len(text) > MAX_PATTERN:
        raise FilterError(
            f"That pattern is {len(text):,} characters; a filter takes at most {MAX_PATTERN}. "
            "Use a word or a short phrase."
        )
    if not any(ch.isalnum() for ch in text):
        raise FilterError("A filter needs at least one letter or digit to match.")
    if kind == "kind":
        text = text.lower()
        if text not in ACTS and text not in KIND_ALIASES:
            known = ", ".join(sorted({*ACTS, *KIND_ALIASES}))
            raise FilterError(f"I don't know the kind '{text[:30]}'. Kinds: {known}.")
    return Filter(kind=kind, pattern=text, flag=flag)


def first_match(
    filters: Sequence[Filter], message: Message, *, flag: bool = False
) -> Filter | None:
    """The first mute (or, with ``flag``, flag) filter that ``message`` matches."""
    act: str | None = None
    for f in filters:
        if f.flag != flag:
            continue
        if f.kind == "kind" and act is None:
            act = rule_act(message.text)
        if f.matches(message, act):
            return f
    return None


def avoided_topics(filters: Iterable[Filter]) -> list[Filter]:
    """The muted topics: drafts never commit the owner to them."""
    return [f for f in filters if f.kind == "topic" and not f.flag]


def to_bytes(filters: Sequence[Filter]) -> bytes:
    return json.dumps(
        {
            "format": _FORMAT,
            "filters": [{"kind": f.kind, "pattern": f.pattern, "flag": f.flag} for f in filters],
        }
    ).encode()


def from_bytes(raw: bytes | None) -> list[Filter]:
    """The filters kept by :func:`to_bytes`; none for nothing or a foreign format."""
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return []
    out = []
    for item in data.get("filters", []):
        try:
            out.append(
                parse_filter(
                    str(item["kind"]), str(item["pattern"]), flag=bool(item.get("flag", False))
                )
            )
        except (FilterError, KeyError, TypeError):
            continue
    return out
