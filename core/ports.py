"""Seams between the platform-free core and everything it needs from outside.

Each port is a small ``typing.Protocol``; implementations live in ``storage/`` (stores),
``core/engines`` (models, loaded lazily) and tests (``InMemory*``/``Fake*``), and only
``bot/bootstrap.py`` wires them together. Every store call on owned data takes the
``AccountId`` first: there is no way to ask a store for another account's rows by accident.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from core.models import (
    Account,
    AccountId,
    Approval,
    Draft,
    DraftId,
    DraftStatus,
    Feedback,
    Message,
    Persona,
    PersonaId,
    PriorityLabel,
    Reply,
    ReplyPair,
    StoredMessage,
    UserRef,
)
from core.teams import Binding, Consult, DraftActivity, Member, Role, Share

Vector = npt.NDArray[np.float32]


class Unreadable(Exception):
    """A stored value that fails authentication (altered or damaged), raised by a read of that
    one value; reads of many values leave such rows out (``AccountVault.unreadable`` counts them).
    Derived state that is unreadable is treated as missing and rebuilt."""


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class Embedder(Protocol):
    """Sentence embeddings; CPU-bound, so callers run it off the event loop."""

    dim: int

    def encode(self, texts: Sequence[str]) -> Vector:
        """Return one L2-normalised row per text (shape ``(len(texts), dim)``)."""
        ...


@runtime_checkable
class Precomputing(Protocol):
    """An embedder that keeps the vectors of fixed texts (shipped data) computed once per model."""

    def precomputed(self, name: str, texts: Sequence[str]) -> Vector:
        """The vectors of ``texts`` (rows in order), the same as ``encode`` would give."""
        ...


class VectorIndex(Protocol):
    """Nearest neighbours over unit vectors, by row number (``core.drafting.index`` has the
    exact numpy one, sized for 100k rows per persona; an ANN library can stand in for more)."""

    dim: int

    def __len__(self) -> int: ...

    def add(self, vectors: Vector) -> int:
        """Append rows (one per vector); return the row number of the first."""
        ...

    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """The ``k`` rows most cosine-similar to ``query`` as ``(row, similarity)``, best first."""
        ...

    def similarity(self, query: Vector, rows: Sequence[int]) -> list[float]:
        """Cosine similarity of ``query`` with the given rows (to blend in other signals)."""
        ...


class LanguageModel(Protocol):
    """Any chat-completion model; it has no tools and cannot send anything."""

    async def complete(
        self, system: str, user: str, *, n: int, max_tokens: int, account_id: AccountId
    ) -> list[str]:
        """Return up to ``n`` completions of one prompt."""
        ...


class ImportSource(Protocol):
    """A parsed export file: which format, who the owner is, and its messages (streamed)."""

    format: str

    def resolve_owner(self, me: str | None) -> str:
        """The sender string of the owner, from ``--me`` (name, user name or id) or the export."""
        ...

    def messages(self) -> Iterator[Message]: ...


class ExportReader(Protocol):
    """Opens an export file in any supported format (``fmt="auto"`` sniffs it)."""

    def __call__(self, path: Path, fmt: str = "auto") -> ImportSource: ...


class AccountStore(Protocol):
    """Owners and the platform identities linked to them."""

    async def resolve(self, user: UserRef, *, create: bool) -> Account | None:
        """The account that ``user`` belongs to; created (with a default persona) if asked."""
        ...

    async def get(self, account_id: AccountId) -> Account | None: ...

    async def update(self, account: Account) -> Account:
        """Store paused/active persona/settings of ``account``."""
        ...

    async def issue_link_code(self, account_id: AccountId, *, ttl_s: int) -> str:
        """A one-time code that links another identity to this account."""
        ...

    async def redeem_link_code(self, code: str, user: UserRef) -> Account | None:
        """Link ``user`` to the code's account; ``None`` if the code is unknown, used or expired."""
        ...


class PersonaStore(Protocol):
    """The voices of one account."""

    async def list(self, account_id: AccountId) -> list[Persona]: ...

    async def get(self, account_id: AccountId, persona_id: PersonaId) -> Persona | None: ...

    async def create(self, account_id: AccountId, name: str) -> Persona: ...

    async def update(self, account_id: AccountId, persona: Persona) -> Persona: ...

    async def delete(self, account_id: AccountId, persona_id: PersonaId) -> bool: ...


class MessageStore(Protocol):
    """Messages held for a persona, encrypted at rest by the implementation."""

    async def add_stream(
        self, account_id: AccountId, messages: AsyncIterator[StoredMessage]
    ) -> int:
        """Add every message in one transaction; return how many were new.

        If the iterator raises, nothing is written and the error propagates. Messages whose
        ``(persona, id)`` is already stored are skipped.
        """
        ...

    def iter(
        self,
        account_id: AccountId,
        persona_id: PersonaId,
        *,
        owner_only: bool = False,
        before: datetime | None = None,
    ) -> AsyncIterator[StoredMessage]:
        """Messages in ``sent_at`` order."""
        ...

    async def get(
        self, account_id: AccountId, persona_id: PersonaId, ids: Sequence[str]
    ) -> list[StoredMessage]: ...

    async def reply_pairs(self, account_id: AccountId, persona_id: PersonaId) -> list[ReplyPair]:
        """Every (incoming, owner's reply) pair of the persona, oldest first."""
        ...

    async def count(self, account_id: AccountId, persona_id: PersonaId) -> int: ...


class VectorStore(Protocol):
    """Embeddings of a persona's exemplars (by message id), encrypted at rest."""

    async def put(
        self, account_id: AccountId, persona_id: PersonaId, ids: Sequence[str], vectors: Vector
    ) -> None: ...

    async def load(self, account_id: AccountId, persona_id: PersonaId) -> tuple[list[str], Vector]:
        """All stored ids and their vectors (rows in the same order)."""
        ...

    async def get(
        self, account_id: AccountId, persona_id: PersonaId, ids: Sequence[str]
    ) -> tuple[list[str], Vector]:
        """The stored vectors among ``ids``: the ids found and their vectors (rows in order)."""
        ...


class DraftStore(Protocol):
    """Drafts and the approvals that let exactly one of them go out."""

    async def create(self, draft: Draft) -> None: ...

    async def get(self, account_id: AccountId, draft_id: DraftId) -> Draft | None: ...

    async def approve(self, approval: Approval) -> bool:
        """Record the approval and move the draft pending → approved, atomically.

        Returns ``False`` (and changes nothing) if the draft is not pending: a second click,
        a concurrent worker or a replayed callback can never approve twice.
        """
        ...

    async def set_status(
        self, account_id: AccountId, draft_id: DraftId, status: DraftStatus, *, expect: DraftStatus
    ) -> bool:
        """Compare-and-set the status; ``False`` if it was not ``expect``."""
        ...

    async def pending(self, account_id: AccountId) -> list[Draft]: ...


class FeedbackStore(Protocol):
    """The owner's decisions, kept to learn from."""

    async def add(self, feedback: Feedback) -> None: ...

    async def list(self, account_id: AccountId, persona_id: PersonaId) -> list[Feedback]: ...


class DeliveryLog(Protocol):
    """Persisted de-duplication of platform deliveries (retries, replays, restarts)."""

    async def first_seen(self, key: str, *, account_id: AccountId | None = None) -> bool:
        """``True`` exactly once per key, across processes and restarts.

        ``account_id`` (when known) lets erasure remove the account's records too.
        """
        ...


class PriorityLabelStore(Protocol):
    """What the owner did with incoming messages, as labels for the prioritiser (no text)."""

    async def add(self, label: PriorityLabel) -> None: ...

    async def list(
        self, account_id: AccountId, persona_id: PersonaId, *, since: datetime | None = None
    ) -> list[PriorityLabel]:
        """The persona's labels, oldest first (those at or after ``since`` when given)."""
        ...


class Notifier(Protocol):
    """Delivers something the clone says unprompted (a digest, a reminder) to the owner privately.

    Adapters deliver to the owner's private chat with the bot; the console prints.
    """

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        """Deliver ``reply`` to ``to``; ``False`` when this notifier cannot reach that identity."""
        ...


class Jobs(Protocol):
    """Scheduled work per account, persisted (``bot/scheduler.py``): job state holds ids only."""

    async def set_digest(self, account_id: AccountId, at: time, timezone: str) -> None:
        """(Re)schedule the account's daily digest at local time ``at`` in ``timezone``."""
        ...

    async def clear_digest(self, account_id: AccountId) -> None: ...

    async def set_followup(self, account_id: AccountId, item_id: str, at: datetime) -> None:
        """A one-off reminder check for one waiting message at ``at`` (fires at most once)."""
        ...

    async def clear_followup(self, account_id: AccountId, item_id: str) -> None: ...


@runtime_checkable
class QualityJobs(Protocol):
    """Scheduled quality runs, one job per persona (``bot/scheduler.py``; ids only). A scheduler
    may offer it beside :class:`Jobs`; without it, quality runs only on demand."""

    async def set_quality(self, account_id: AccountId, persona_id: PersonaId, at: datetime) -> None:
        """(Re)schedule the persona's next quality run at ``at``."""
        ...

    async def clear_quality(self, account_id: AccountId, persona_id: PersonaId) -> None: ...


class StateStore(Protocol):
    """Small derived state per persona, by kind: ``profile``, ``verifier``, ``prioritiser``.

    Values are opaque bytes (callers serialise, JSON preferred); encrypted at rest.
    """

    async def get(
        self, account_id: AccountId, persona_id: PersonaId, kind: str
    ) -> bytes | None: ...

    async def put(
        self, account_id: AccountId, persona_id: PersonaId, kind: str, value: bytes
    ) -> None: ...


class AccountVault(Protocol):
    """Whole-account operations: take everything away, or destroy it."""

    async def export(self, account_id: AccountId) -> dict[str, object]: ...

    async def erase(self, account_id: AccountId) -> None:
        """Delete every row of the account and destroy its data key."""
        ...

    async def unreadable(self, account_id: AccountId) -> dict[str, int]:
        """Stored rows of the account found unreadable (altered or damaged) and left out of
        every read, by kind; empty when there are none."""
        ...


class IdentityStore(Protocol):
    """A persona's identity (what its owner says about it) and where it is bound."""

    async def attributes(self, account_id: AccountId, persona_id: PersonaId) -> dict[str, str]:
        """The persona's attributes (tone, audience, …); empty when none are set."""
        ...

    async def set_attributes(
        self, account_id: AccountId, persona_id: PersonaId, attributes: Mapping[str, str]
    ) -> None:
        """Replace the persona's attributes (an empty value removes one)."""
        ...

    async def bind(
        self, account_id: AccountId, platform: str, place: str, persona_id: PersonaId | None
    ) -> None:
        """Bind a persona to a place on a platform (``None``: unbind)."""
        ...

    async def bindings(self, account_id: AccountId) -> list[Binding]:
        """Every binding of the account's personas, oldest first."""
        ...


class TeamStore(Protocol):
    """Roles that other people hold on an account's personas, and one-time invitations."""

    async def set_role(
        self,
        account_id: AccountId,
        persona_id: PersonaId,
        user: UserRef,
        role: Role | None,
        *,
        owner: UserRef,
    ) -> None:
        """Give ``user`` a role on the persona (``None``: remove them), at once; ``owner`` is how
        the persona's owner is known on ``user``'s platform."""
        ...

    async def members(self, account_id: AccountId) -> list[Member]:
        """Everyone holding a role on one of the account's personas."""
        ...

    async def memberships(self, user: UserRef) -> list[Member]:
        """The roles ``user`` holds on other accounts' personas (the membership is the key)."""
        ...

    async def issue_invite(
        self,
        account_id: AccountId,
        persona_id: PersonaId,
        role: Role,
        *,
        owner: UserRef,
        ttl_s: int,
    ) -> str:
        """A one-time code that gives whoever redeems it ``role`` on the persona."""
        ...

    async def redeem_invite(self, code: str, user: UserRef) -> Member | None:
        """Give ``user`` the code's role (once, before it expires); ``None`` if unusable."""
        ...


class ShareStore(Protocol):
    """Who may ask a persona's clone, and the questions they asked (the metering)."""

    async def put(self, share: Share) -> None:
        """Store ``share``, replacing the persona's share for the same asker."""
        ...

    async def shares(self, account_id: AccountId) -> list[Share]:
        """The account's shares, oldest first."""
        ...

    async def revoke(self, account_id: AccountId, share_ids: Sequence[str]) -> int:
        """Remove shares at once; how many were removed."""
        ...

    async def record(self, consult: Consult) -> None:
        """Store a question (or its new status and answer)."""
        ...

    async def consults(
        self, account_id: AccountId, *, since: datetime | None = None
    ) -> list[Consult]:
        """Questions asked of the account's clone, oldest first (at or after ``since``)."""
        ...


class ActivityStore(Protocol):
    """What happened to the drafts of an account, for per-persona analytics."""

    async def activity(self, account_id: AccountId) -> list[DraftActivity]:
        """Every draft's persona, status, times and approver, oldest first (no text)."""
        ...
