"""The clone as a service: commands, incoming messages and clicks in; replies and approved sends out.

Adapters call three entry points — :meth:`Clone.handle_command`, :meth:`Clone.handle_incoming` and
:meth:`Clone.handle_action` — with core models, and render the :class:`Reply` they get back. A send
happens only through :meth:`Clone.handle_action` with the owner's own click: it records an
``Approval`` (at most one per draft, atomically) and returns an :class:`Outgoing` for the adapter to
post, which then reports back with :meth:`Clone.confirm_sent` or :meth:`Clone.send_failed`.

:class:`Clone` is a facade: each call goes to one use case under ``core/app/`` and comes back once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from core import waiting
from core.app.context import (
    AppContext,
    LearningPriority,
    PriorityFactory,
    PriorityModel,
    ProfileCard,
    Stores,
    StyleFactory,
)
from core.app.drafting import DraftResult, draft_id_for
from core.app.incoming import SENDER_BURST
from core.app.models import PRIORITISER_STATE, ModelCache
from core.app.rendering import render_draft
from core.app.training import describe_summary
from core.app.use_cases import UseCases, Wiring
from core.drafting.llm import LLMDrafter, TokenBudget
from core.drafting.retrieval import RetrievalDrafter
from core.drafting.style import SurfaceStyleScorer
from core.importing import Progress
from core.models import (
    Account,
    AccountId,
    ActionInvocation,
    ActionOutcome,
    CommandInvocation,
    Draft,
    DraftOption,
    ImportSummary,
    IncomingMessage,
    Message,
    Outgoing,
    Persona,
    Priority,
    Reply,
    UserRef,
    utc_now,
)
from core.ports import Clock, Embedder, ExportReader, Jobs, Notifier
from core.privacy import RateLimiter
from core.publishing import Network

__all__ = [
    "PRIORITISER_STATE",
    "SENDER_BURST",
    "Clone",
    "DraftResult",
    "LearningPriority",
    "PriorityModel",
    "Stores",
    "describe_summary",
    "draft_id_for",
    "render_draft",
]


class Clone:
    """The platform-free application service behind every adapter."""

    def __init__(
        self,
        *,
        stores: Stores,
        embedder: Embedder,
        drafter: RetrievalDrafter,
        priority_factory: PriorityFactory,
        read_export: ExportReader,
        sample_path: Path,
        sample_owner: str,
        style_factory: StyleFactory = SurfaceStyleScorer.fit,
        verifier_background: Callable[[], Sequence[str]] | None = None,
        llm: LLMDrafter | None = None,
        llm_budget: TokenBudget | None = None,
        profile_card: ProfileCard | None = None,
        clock: Clock = utc_now,
        max_message_chars: int = 20_000,
        sender_limiter: RateLimiter | None = None,
        jobs: Jobs | None = None,
        owner_limiter: RateLimiter | None = None,
        example_path: Path | None = None,
        example_owner: str | None = None,
        quality_writers: Callable[[], Sequence[Message]] | None = None,
        networks: Mapping[str, Network] | None = None,
    ) -> None:
        self.ctx = AppContext(stores=stores, embedder=embedder, clock=clock, jobs=jobs)
        """The ports every use case shares (``ctx.clock`` is the clone's "now")."""
        self.app = UseCases(
            self.ctx,
            Wiring(
                drafter=drafter,
                priority_factory=priority_factory,
                read_export=read_export,
                sample_path=sample_path,
                sample_owner=sample_owner,
                example_path=example_path,
                example_owner=example_owner,
                style_factory=style_factory,
                verifier_background=verifier_background,
                llm=llm,
                llm_budget=llm_budget,
                profile_card=profile_card,
                max_message_chars=max_message_chars,
                sender_limiter=sender_limiter,
                owner_limiter=owner_limiter,
                quality_writers=quality_writers,
                networks=networks or {},
            ),
        )

    @property
    def models(self) -> ModelCache:
        """The per-persona model cache (built lazily, dropped when a persona's data changes)."""
        return self.app.models

    async def account(self, user: UserRef) -> Account:
        """The account of ``user``, created on first contact."""
        return await self.ctx.account(user)

    async def active_persona(self, account: Account) -> Persona:
        """The persona ``account`` uses now."""
        return await self.ctx.active_persona(account)

    async def account_exists(self, account_id: AccountId) -> bool:
        """Whether the account still exists (a job of an erased account removes itself)."""
        return await self.ctx.stores.accounts.get(account_id) is not None

    # ----------------------------------------------------------------- messages and commands

    async def handle_incoming(
        self, incoming: IncomingMessage, *, explicit: bool = False, delivery: str | None = None
    ) -> Reply | None:
        """Triage a message and offer drafts when it needs a reply (always when ``explicit``,
        for messages the owner pasted or forwarded). ``None`` when paused or nothing needs
        showing. ``delivery`` (the platform's delivery key) makes drafting idempotent: a retried
        delivery shows the first worker's draft again instead of making a second.

        Hostile input gets a bounded answer before any database work: a message over
        ``max_message_chars`` is left alone (a notice when ``explicit``), and beyond the rate cap
        per (owner, sender) and per owner the rest of a flood is dropped (counted, never stored).
        """
        return await self.app.incoming.handle(incoming, explicit=explicit, delivery=delivery)

    def admit(self, incoming: IncomingMessage, *, explicit: bool = False) -> bool:
        """Whether a message is within the rate caps of :meth:`handle_incoming` (pass the same
        ``explicit``), for adapters to check *before* they record the platform delivery, so a
        flood writes nothing. Spends the message's token (not counted again later). No I/O."""
        return self.app.incoming.admit(incoming, explicit=explicit)

    async def observe_owner_message(
        self, owner: UserRef, message: Message, *, replying_to: Message | None = None
    ) -> bool:
        """Learn from a message the owner sent themselves on a platform, only with consent.

        Adapters call this for each message the owner writes where the bot can see it (not the
        clone's own posts: those teach through :meth:`confirm_sent`). The message is kept as a
        live sample of the active persona only when the owner turned learning on for
        ``owner.platform`` (``train on`` there; off until then), the clone is not paused, and
        the message is within the size and rate caps. ``replying_to`` (the message it answers)
        is kept with it, so the pair becomes a drafting exemplar. What it answers leaves the
        inbox either way.

        Returns:
            Whether the message was stored.
        """
        return await self.app.incoming.observe_owner_message(
            owner, message, replying_to=replying_to
        )

    async def handle_command(self, command: CommandInvocation) -> list[Reply]:
        """Run one command of the shared grammar; errors come back as a reply, never raised."""
        return await self.app.commands.handle(command)

    async def triage(self, incoming: IncomingMessage) -> Priority:
        """Score one message for its owner (no draft, nothing stored)."""
        return await self.app.incoming.triage(incoming)

    async def triage_batch(
        self, account: Account, persona: Persona, batch: Sequence[IncomingMessage]
    ) -> list[Priority]:
        """Score many messages for one persona, its models looked up once, off the event loop."""
        return await self.app.incoming.triage_batch(account, persona, batch)

    async def draft_options(
        self,
        account: Account,
        persona: Persona,
        incoming: Message,
        *,
        exclude: frozenset[str] = frozenset(),
    ) -> list[DraftOption]:
        """Candidate replies in the owner's voice (see :meth:`core.app.drafting.Drafting.drafts`)."""
        return await self.app.drafting.draft_options(account, persona, incoming, exclude=exclude)

    # ----------------------------------------------------------------- clicks and sends

    async def handle_action(self, action: ActionInvocation) -> ActionOutcome:
        """Act on the owner's click. Clicks on someone else's draft are refused, changing nothing."""
        return await self.app.actions.handle_action(action)

    async def confirm_sent(self, outgoing: Outgoing) -> None:
        """The adapter posted an approved text: mark it sent and learn from it."""
        await self.app.actions.confirm_sent(outgoing)

    async def send_failed(
        self, outgoing: Outgoing, *, reason: str = "the platform refused it"
    ) -> Reply:
        """The platform refused the post: offer the same draft again for another click."""
        return await self.app.actions.send_failed(outgoing, reason=reason)

    async def pending_draft(self, user: UserRef, draft_id: str) -> Draft | None:
        """The user's own draft while it waits for a decision (to prefill an Edit); else ``None``."""
        return await self.app.actions.pending_draft(user, draft_id)

    # ----------------------------------------------------------------- training and data

    async def import_file(
        self,
        user: UserRef,
        path: Path,
        *,
        fmt: str = "auto",
        me: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import an export for the user's active persona (all or nothing) and refresh its models.

        Raises the reader's errors (bad format, unknown owner) with nothing written.
        """
        return await self.app.training.import_file(user, path, fmt=fmt, me=me, progress=progress)

    async def import_sample(self, user: UserRef) -> ImportSummary:
        """Train on the built-in synthetic persona (a first run that is useful at once)."""
        return await self.app.training.import_sample(user)

    async def profile_json(self, user: UserRef) -> dict[str, object]:
        """Everything the profiler measured for the user's active persona."""
        return await self.app.profiles.profile_json(user)

    async def export_data(self, account: Account) -> dict[str, object]:
        """Everything held for ``account``, with each persona's measured profile."""
        return await self.app.privacy.export_data(account)

    # ----------------------------------------------------------------- scheduled work

    def use_notifier(self, notifier: Notifier | None) -> None:
        """Where results of slow commands (``quality`` on a big history) go when they are done."""
        self.app.use_notifier(notifier)

    def use_jobs(self, jobs: Jobs | None) -> None:
        """Wire the scheduler (it is built after the clone, whose methods its jobs call)."""
        self.ctx.jobs = jobs

    async def digest(self, account_id: AccountId) -> tuple[UserRef, Reply] | None:
        """The scheduled digest of one account and where it goes (``None``: off, gone, paused)."""
        return await self.app.schedules.digest(account_id)

    async def follow_up(self, account_id: AccountId, key: str) -> tuple[UserRef, Reply] | None:
        """A reminder about one waiting message, at most once (``None`` when not due)."""
        return await self.app.schedules.follow_up(account_id, key)

    async def cancel_jobs(self, account_id: AccountId) -> None:
        """Remove the account's scheduled digest and reminders (before it is erased)."""
        await self.app.inbox.cancel_jobs(account_id)

    async def waiting_items(self, user: UserRef) -> list[waiting.WaitingItem]:
        """What is waiting for ``user``'s active persona, most important first."""
        return await self.app.inbox.waiting_items(user)

    # ----------------------------------------------------------------- lifecycle

    async def warm(self, owners: Sequence[UserRef] = ()) -> list[Persona]:
        """Load the encoder, then each owner's active persona, before the first draft needs
        them (:meth:`core.app.models.ModelCache.warm`); returns the personas loaded."""
        return await self.models.warm(owners)

    async def settle(self) -> None:
        """Wait for background training (verifiers) to finish: for one-shot CLI runs and tests."""
        await self.models.settle()
        await self.app.quality.settle()

    async def aclose(self) -> None:
        """Stop background training (its results are dropped)."""
        await self.models.aclose()
