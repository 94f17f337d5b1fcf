"""Core domain models: frozen, platform-free, timezone-aware.

Every adapter turns its platform's payloads into these and every store returns these; nothing in
``core/`` sees an ORM row or an SDK object.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

AccountId = str
PersonaId = str
DraftId = str


def utc_now() -> datetime:
    """The default clock: an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRef:
    """A person on one platform: ``UserRef(platform="slack", user_id="U123")``."""

    platform: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """One owner. Platform identities link to it; personas hang off it."""

    id: AccountId
    created_at: datetime
    active_persona: PersonaId | None = None
    paused: bool = False
    settings: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Persona:
    """A voice of an account (work, personal, a brand), with its own samples and profile."""

    id: PersonaId
    account_id: AccountId
    name: str
    created_at: datetime
    owner_names: tuple[str, ...] = ()
    """Sender names that are the owner in this persona's imported conversations."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A canonical chat message, the unit of import and of the draft/triage JSONL.

    ``id`` is unique within one import source; ``reply_to`` names the ``id`` this one answers.
    """

    id: str
    conversation: str
    thread: str | None
    sender: str
    text: str
    sent_at: datetime
    reply_to: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    """A message held for a persona, with whether its sender is the owner."""

    message: Message
    persona_id: PersonaId
    from_owner: bool
    source: Literal["import", "live", "sample", "feedback"] = "import"


CONTEXT_LIMIT = 5
"""Earlier messages of a conversation that inform a draft, at most."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingMessage:
    """A message that reached the owner on a platform (or was pasted/forwarded to the clone)."""

    owner: UserRef
    message: Message
    sender_name: str
    is_direct: bool = False
    mentions_owner: bool = False
    addressees: int = 1
    """How many people the message is addressed to (1 for a DM)."""
    context: tuple[Message, ...] = ()
    """Earlier messages of the same conversation or thread, oldest first, most recent last (at
    most :data:`CONTEXT_LIMIT`), as the platform gave them; the core adds what it has seen."""
    place: str | None = None
    """Where a persona may be bound (``persona use <name> here``) when that is not the
    conversation: a Discord server. ``None``: the message's conversation."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file handed to a command (an export to train on), already fetched by the adapter."""

    filename: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvocation:
    """A parsed ``/clone <name> <args>`` from any platform."""

    user: UserRef
    name: str
    args: tuple[str, ...] = ()
    text: str = ""
    """The argument text as typed (for ``draft``/``ask``/``post``, which take free text)."""
    attachments: tuple[Attachment, ...] = ()
    conversation: str | None = None
    is_private: bool = True
    command_prefix: str = "/clone "
    """How this platform spells commands in help text (``/`` on Telegram)."""
    local_files: bool = False
    """Whether file paths in the arguments name files the user may read (the console only:
    on a chat platform a path would name a file on the server)."""
    place: str | None = None
    """Where ``persona use <name> here`` binds when that is not ``conversation``: a Discord
    server."""


class Action(enum.StrEnum):
    """What an owner can do with a draft, a post, or a message waiting in the inbox.

    On a post (its id starts with ``p``: :func:`core.publishing.is_post_id`) ``EDIT``,
    ``REGENERATE`` and ``DISMISS`` act on the post, and ``PUBLISH``/``SCHEDULE`` are its own.

    For ``IMPORTANT``, ``NOT_IMPORTANT`` and ``DRAFT`` the button's ``draft_id`` names the waiting
    message (an inbox item id, 32 hex characters like a draft id), not a draft.
    """

    SEND = "send"
    EDIT = "edit"
    REGENERATE = "regenerate"
    DISMISS = "dismiss"
    IMPORTANT = "important"
    """One-tap feedback: this message mattered."""
    NOT_IMPORTANT = "not_important"
    """One-tap feedback: this message could have waited."""
    DRAFT = "draft"
    """Make drafts for a waiting message now (from the inbox or a digest)."""
    PUBLISH = "publish"
    """Publish a post to its network now (the button's ``draft_id`` names the post)."""
    SCHEDULE = "schedule"
    """Schedule a post for its persona's next posting slot (or the time it was asked for)."""


WAITING_ACTIONS = frozenset({Action.IMPORTANT, Action.NOT_IMPORTANT, Action.DRAFT})
"""Actions whose button names a waiting message rather than a draft."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionInvocation:
    """A click on a draft's button (or the console's numbered action)."""

    user: UserRef
    action: Action
    draft_id: DraftId
    option: int = 0
    edited_text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Button:
    """A button under a reply; ``value`` is opaque to the platform (``draft_id:option``)."""

    label: str
    action: Action
    draft_id: DraftId
    option: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """What the clone says back: text, buttons and an optional PNG, rendered by each adapter."""

    text: str
    buttons: tuple[Button, ...] = ()
    image: bytes | None = None
    image_name: str | None = None
    file: bytes | None = None
    """A document to hand over (a privacy export), never shown inline."""
    file_name: str | None = None
    private: bool = True
    draft: Draft | None = None
    """The draft the buttons act on, for adapters that render it richly (a score meter)."""
    priority: Priority | None = None
    prefill: str | None = None
    """What Edit starts from when the reply is not a draft (a post: its parts as one text)."""


class DraftStatus(enum.StrEnum):
    """Life of a draft: only ``pending`` can be approved, and only once."""

    PENDING = "pending"
    APPROVED = "approved"
    SENT = "sent"
    EDITED = "edited"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftOption:
    """One candidate reply."""

    text: str
    engine: str
    style_score: int
    """0-100: how much it sounds like the owner."""
    reasons: tuple[str, ...] = ()
    source_id: str | None = None
    """The stored message this option reuses, when the retrieval engine made it."""
    fit: int | None = None
    """0-100: how well it answers the message (calibrated reply fit); ``None`` when not measured."""
    act: str | None = None
    """What the option does (accept, decline, thank, …), when known."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """Candidate replies to one incoming message, waiting for the owner's decision."""

    id: DraftId
    account_id: AccountId
    persona_id: PersonaId
    incoming: Message
    options: tuple[DraftOption, ...]
    status: DraftStatus
    created_at: datetime
    owner: UserRef
    """The identity that may act on it: clicks by anyone else are refused."""

    @property
    def best(self) -> DraftOption:
        return self.options[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """The owner's own click that allows exactly one send of ``text``."""

    draft_id: DraftId
    account_id: AccountId
    by: UserRef
    text: str
    option: int
    edited: bool
    approved_at: datetime


class FeedbackKind(enum.StrEnum):
    """What an owner's decision teaches."""

    SENT = "sent"
    EDITED = "edited"
    DISMISSED = "dismissed"
    REGENERATED = "regenerated"
    IMPORTANT = "important"
    NOT_IMPORTANT = "not_important"


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    """One recorded decision, kept to learn from."""

    account_id: AccountId
    persona_id: PersonaId
    kind: FeedbackKind
    draft_id: DraftId | None
    message_id: str | None
    text: str | None
    """The sent or edited text, when there is one."""
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Priority:
    """How much a message matters to its owner, and why."""

    score: float
    needs_reply: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityLabel:
    """A training label for the prioritiser: what the owner did with one incoming message.

    ``label`` is 1.0 for important (answered, sent a draft, tapped *important*) down to 0.0
    (ignored, dismissed, tapped *not important*); ``kind`` says which (``core.prioritising.Label``
    values).
    """

    account_id: AccountId
    persona_id: PersonaId
    message_id: str
    label: float
    kind: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyPair:
    """An incoming message and what the owner actually answered: the drafting exemplar."""

    persona_id: PersonaId
    incoming_id: str
    incoming_text: str
    incoming_sender: str
    reply_id: str
    reply_text: str
    replied_at: datetime
    latency_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportSummary:
    """What an import did (``import --json`` prints exactly these fields)."""

    format: str
    messages: int
    new: int
    owner_messages: int
    owner_replies: int
    conversations: int
    first: datetime | None
    last: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "messages": self.messages,
            "new": self.new,
            "owner_messages": self.owner_messages,
            "owner_replies": self.owner_replies,
            "conversations": self.conversations,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """An approved text for the adapter to post; it reports back with ``Clone.confirm_sent``."""

    draft_id: DraftId
    account_id: AccountId
    text: str
    conversation: str
    thread: str | None
    reply_to: str | None
    edited: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionOutcome:
    """What a click leads to: something to show, something to post, or a request for text."""

    reply: Reply | None = None
    outgoing: Outgoing | None = None
    needs_text: bool = False
    """``True`` for Edit without text: the adapter asks for it (a modal, a reply prompt)."""
