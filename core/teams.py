"""Personas with an identity, shared with a team, and a clone others may ask: the domain models
and the pure rules (roles, templates, "avoid" topics, mentions). No I/O here.

A persona's *identity* is what its owner says about it (tone, audience, background, values, topics
to avoid); its *learned models* come from messages. Team members hold a :class:`Role` on one
persona of someone else's account; a :class:`Share` lets others ask that persona's clone.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.models import AccountId, PersonaId, UserRef

ATTRIBUTES: tuple[str, ...] = ("tone", "audience", "background", "values", "avoid")
"""What ``persona set <name> <attribute> <text>`` accepts, in the order ``persona show`` lists."""

MAX_ATTRIBUTE_CHARS = 500

TEMPLATES: dict[str, dict[str, str]] = {
    "professional": {
        "tone": "clear, courteous and to the point",
        "audience": "colleagues, clients and partners",
        "values": "reliability, precision, respect for people's time",
        "avoid": "politics, gossip",
    },
    "casual": {
        "tone": "relaxed, friendly, short",
        "audience": "friends and close teammates",
        "values": "warmth, honesty",
    },
    "brand": {
        "tone": "upbeat, consistent, on-message",
        "audience": "customers and the public",
        "values": "helpfulness, transparency",
        "avoid": "pricing promises, unannounced features, competitors",
    },
}
"""Starting points that set attributes only: a template never adds messages or history."""


class Role(enum.StrEnum):
    """What a team member may do with a persona, each role including the ones below it."""

    VIEWER = "viewer"
    """Sees the persona's analytics (``persona stats``)."""
    REVIEWER = "reviewer"
    """Also approves, edits or dismisses the persona's drafts."""
    EDITOR = "editor"
    """Also changes the persona's attributes."""
    OWNER = "owner"
    """The account that holds the persona: only it exports, erases, or changes roles."""

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.REVIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}
GRANTABLE: tuple[Role, ...] = (Role.VIEWER, Role.REVIEWER, Role.EDITOR)


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    """A persona bound to one place: a Slack channel, a Telegram chat or a Discord server."""

    account_id: AccountId
    platform: str
    place: str
    persona_id: PersonaId
    bound_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """Someone holding a role on a persona of another account."""

    account_id: AccountId
    """The persona owner's account."""
    persona_id: PersonaId
    persona_name: str
    owner: UserRef
    """The owner as members know them (same platform): shared personas are ``owner/name``."""
    user: UserRef
    role: Role
    added_at: datetime


ANYONE = "*"
"""The asker of a share open to anyone on the owner's platform workspace."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Share:
    """Permission for others to ask one persona's clone."""

    id: str
    account_id: AccountId
    persona_id: PersonaId
    platform: str
    asker: str
    """A user id on ``platform``, or :data:`ANYONE`."""
    topics: tuple[str, ...] = ()
    """Questions must be about one of these (empty: any topic)."""
    quota: int | None = None
    """Questions a day per asker (``None``: no limit)."""
    auto: bool = False
    """Answer at once, with the disclosure, instead of waiting for the owner's approval."""
    created_at: datetime

    def admits(self, user: UserRef) -> bool:
        """Whether ``user`` may ask under this share."""
        return user.platform == self.platform and self.asker in (ANYONE, user.user_id)


class ConsultStatus(enum.StrEnum):
    PENDING = "pending"
    """Waits for the owner's approval."""
    ANSWERED = "answered"
    """The owner approved (or edited) the answer; it went to the asker."""
    AUTO = "auto"
    """Answered at once under an auto-answer share, with the disclosure."""
    DISMISSED = "dismissed"
    NO_ANSWER = "no_answer"
    """The clone had nothing to answer from."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Consult:
    """One question someone asked the owner's clone under a share."""

    id: str
    account_id: AccountId
    persona_id: PersonaId
    share_id: str
    asker: UserRef
    question: str
    status: ConsultStatus
    asked_at: datetime
    answer: str | None = None
    draft_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftActivity:
    """What happened to one draft (for ``persona stats``): no text, only the facts."""

    draft_id: str
    persona_id: PersonaId
    status: str
    created_at: datetime
    approved_at: datetime | None = None
    approved_by: UserRef | None = None
    edited: bool = False


# ----------------------------------------------------------------- pure rules

_MENTION = re.compile(r"^<@!?([A-Za-z0-9_.-]+)(?:\|[^>]*)?>$|^@([A-Za-z0-9_.-]+)$")


def mention_id(word: str) -> str | None:
    """The user id in a mention: Slack ``<@U123|name>``, Discord ``<@123>``/``<@!123>``, or a
    plain ``@id`` (Telegram user ids, the console). ``None`` when ``word`` is not a mention."""
    match = _MENTION.match(word.strip())
    if match is None:
        return None
    return match.group(1) or match.group(2)


def split_topics(text: str) -> tuple[str, ...]:
    """``"politics, the merger; pricing"`` → ``("politics", "the merger", "pricing")``."""
    parts = re.split(r"[,;\n]+", text)
    return tuple(dict.fromkeys(" ".join(p.split()).lower() for p in parts if p.strip()))


def _pattern(topic: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in topic.split()]
    # A topic matches as whole words, with a plural or possessive ending on its last word.
    return re.compile(r"(?<!\w)" + r"\W+".join(words) + r"(?:s|es|'s)?(?!\w)", re.IGNORECASE)


def mentions_topic(text: str, topics: Iterable[str]) -> str | None:
    """The first of ``topics`` that ``text`` mentions (whole words, case-insensitive)."""
    for topic in topics:
        if topic.strip() and _pattern(topic).search(text):
            return topic
    return None


def avoided(attributes: Mapping[str, str]) -> tuple[str, ...]:
    """The topics the persona never brings up (its ``avoid`` attribute)."""
    return split_topics(attributes.get("avoid", ""))


def identity_lines(attributes: Mapping[str, str]) -> list[str]:
    """The persona's identity as lines for a language model's prompt (what the owner set)."""
    lines = []
    for key in ("tone", "audience", "background", "values"):
        if attributes.get(key):
            lines.append(f"{key.capitalize()}: {attributes[key]}")
    topics = avoided(attributes)
    if topics:
        lines.append("Never mention or promise anything about: " + ", ".join(topics))
    return lines


def describe(attributes: Mapping[str, str]) -> list[str]:
    """The attributes as ``persona show`` and the profile card list them."""
    return [f"{key}: {attributes[key]}" for key in ATTRIBUTES if attributes.get(key)]


def on_topic(question: str, topics: Sequence[str]) -> bool:
    """Whether a question is about one of a share's topics (any question when there are none)."""
    return not topics or mentions_topic(question, topics) is not None


def label(member: Member) -> str:
    """How a member names a persona shared with them: ``owner/name``."""
    return f"{member.owner.user_id}/{member.persona_name}"
