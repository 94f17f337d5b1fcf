"""What every use case shares: the stores, the embedder, the clock, the scheduler; and the
protocols of the per-persona models the wiring supplies."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.drafting.retrieval import StyleScorer
from core.models import (
    Account,
    AccountId,
    IncomingMessage,
    Persona,
    PersonaId,
    Priority,
    StoredMessage,
    UserRef,
)
from core.ports import (
    AccountStore,
    AccountVault,
    ActivityStore,
    Clock,
    DraftStore,
    Embedder,
    FeedbackStore,
    IdentityStore,
    Jobs,
    MessageStore,
    PersonaStore,
    PriorityLabelStore,
    ShareStore,
    StateStore,
    TeamStore,
    Unreadable,
    VectorStore,
)
from core.publishing import ConnectionStore, PostStore

NOT_TRAINED = "Train me first: `train --sample` or `train <export>`."
NO_REPLIES = f"I have no replies of yours to learn from yet. {NOT_TRAINED}"
PAUSED = "Your clone is paused. `privacy resume` turns it back on."


class PriorityModel(Protocol):
    """A per-persona triage model, built from the owner's history."""

    def prioritise(self, message: IncomingMessage) -> Priority: ...


@runtime_checkable
class LearningPriority(Protocol):
    """A priority model that learns online from labels and can be saved (the learned one)."""

    def prioritise(self, message: IncomingMessage) -> Priority: ...

    def learn(self, message: IncomingMessage, label: str, *, latency_s: float | None) -> None:
        """Update at once from one label (``core.prioritising.Label`` values), no retrain."""
        ...

    def dump(self) -> bytes: ...

    def load(self, data: bytes) -> bool:
        """Continue from ``dump()`` output; ``False`` (unchanged) if it is unusable."""
        ...


@runtime_checkable
class UndoablePriority(Protocol):
    """A priority model whose one-tap feedback (Important / Not important) can be taken back."""

    def undo_tap(self) -> str | None:
        """Undo the latest tap; what it was ("zed's message about invoice not important"),
        or ``None`` when there is none."""
        ...


PriorityFactory = Callable[
    [Iterable[StoredMessage], tuple[str, ...], Mapping[str, object]], PriorityModel
]
"""Builds a persona's triage model from its history, streamed once in ``sent_at`` order."""
StyleFactory = Callable[[Sequence[str]], StyleScorer]


class ProfileLike(Protocol):
    def to_json(self) -> dict[str, object]: ...


class ProfileCard(Protocol):
    """Builds the style card of a persona from its history: a summary text and a PNG."""

    def profile(self, history: Sequence[StoredMessage]) -> ProfileLike: ...

    def card(self, history: Sequence[StoredMessage]) -> tuple[str, bytes | None]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Stores:
    """Every store the clone needs, wired by ``bot/bootstrap.py``."""

    accounts: AccountStore
    personas: PersonaStore
    messages: MessageStore
    vectors: VectorStore
    drafts: DraftStore
    feedback: FeedbackStore
    state: StateStore
    vault: AccountVault
    posts: PostStore
    connections: ConnectionStore
    identity: IdentityStore
    teams: TeamStore
    shares: ShareStore
    activity: ActivityStore
    labels: PriorityLabelStore | None = None
    """Where labels for the prioritiser are kept (``None``: learned in memory only)."""


@dataclass(slots=True, kw_only=True)
class AppContext:
    """The ports every use case shares.

    Not frozen on purpose: the scheduler is built after the clone (its jobs call the clone), so
    ``jobs`` arrives later through :meth:`core.service.Clone.use_jobs`, and tests move ``clock``.
    """

    stores: Stores
    embedder: Embedder
    clock: Clock
    jobs: Jobs | None = None

    async def derived_state(
        self, account_id: AccountId, persona_id: PersonaId, kind: str
    ) -> bytes | None:
        """A persona's derived state (profile, models, inbox, budget); ``None`` when missing or
        unreadable (altered or damaged: it is quarantined by the store and rebuilt from the
        messages, rather than failing every draft of the account)."""
        try:
            return await self.stores.state.get(account_id, persona_id, kind)
        except Unreadable:
            return None

    async def account(self, user: UserRef) -> Account:
        """The account of ``user``, created on first contact."""
        account = await self.stores.accounts.resolve(user, create=True)
        assert account is not None
        return account

    async def active_persona(self, account: Account) -> Persona:
        """The persona the account uses now (its first one, or a new "default")."""
        personas = await self.stores.personas.list(account.id)
        for persona in personas:
            if persona.id == account.active_persona:
                return persona
        if personas:
            return personas[0]
        return await self.stores.personas.create(account.id, "default")
