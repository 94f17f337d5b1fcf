"""The clone as a service: commands, incoming messages and clicks in; replies and approved sends out.

Adapters call three entry points — :meth:`Clone.handle_command`, :meth:`Clone.handle_incoming` and
:meth:`Clone.handle_action` — with core models, and render the :class:`Reply` they get back. A send
happens only through :meth:`Clone.handle_action` with the owner's own click: it records an
``Approval`` (at most one per draft, atomically) and returns an :class:`Outgoing` for the adapter to
post, which then reports back with :meth:`Clone.confirm_sent` or :meth:`Clone.send_failed`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from core import prioritising, scheduling, waiting
from core.commands import CommandError, help_text, parse
from core.drafting import composer
from core.drafting.context import MAX_EXEMPLARS, reply_context
from core.drafting.llm import BudgetExceeded, LLMDrafter, ModelError, TokenBudget, merge_options
from core.drafting.posts import PostPlatform, platform_named
from core.drafting.prompt import PromptContext, build_post_prompt
from core.drafting.retrieval import (
    ExemplarIndex,
    Negative,
    RetrievalDrafter,
    StyleScorer,
    tokens,
)
from core.drafting.safety import hosts_in, new_nonce
from core.drafting.state import pack_state, stale, unpack_state
from core.drafting.style import (
    MIN_VERIFIER_SAMPLES,
    KnownVectors,
    SurfaceStyleScorer,
    forget_trained,
    train_style_cached,
)
from core.importing import Progress, import_messages
from core.models import (
    Account,
    AccountId,
    Action,
    ActionInvocation,
    ActionOutcome,
    Approval,
    Button,
    CommandInvocation,
    Draft,
    DraftOption,
    DraftStatus,
    Feedback,
    FeedbackKind,
    ImportSummary,
    IncomingMessage,
    Message,
    Outgoing,
    Persona,
    PersonaId,
    Priority,
    PriorityLabel,
    Reply,
    StoredMessage,
    UserRef,
    utc_now,
)
from core.ports import (
    AccountStore,
    AccountVault,
    Clock,
    DraftStore,
    Embedder,
    ExportReader,
    FeedbackStore,
    Jobs,
    MessageStore,
    PersonaStore,
    PriorityLabelStore,
    StateStore,
    Vector,
    VectorStore,
)
from core.privacy import (
    ANY,
    Disclosure,
    RateLimiter,
    RestorableExport,
    clean_message,
    clean_text,
    describe_live_learning,
    disclosure_for,
    export_zip,
    learns_live,
    size_notice,
    too_long,
    with_disclosure,
    with_live_learning,
)
from core.profiling.profile import StyleProfile
from core.verifier import StyleVerifier

log = logging.getLogger(__name__)

VERIFIER_STATE = "verifier"
PROFILE_STATE = "profile"
BUDGET_STATE = "llm-budget"
MAX_NEGATIVES = 300
"""Most recent dismissed/regenerated options remembered as negative signal."""

SENDER_PER_MINUTE = 30
"""Sustained messages a minute triaged from one sender for one owner (bursts of ``SENDER_BURST``)."""
SENDER_BURST = 30
OWNER_PER_MINUTE = 600
"""Sustained messages a minute triaged for one owner from everyone together."""
OWNER_BURST = 200


class PriorityModel(Protocol):
    """A per-persona triage model, built from the owner's history."""

    def prioritise(self, message: IncomingMessage) -> Priority: ...


PriorityFactory = Callable[
    [Sequence[StoredMessage], tuple[str, ...], Mapping[str, object]], PriorityModel
]
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
    labels: PriorityLabelStore | None = None
    """Where labels for the prioritiser are kept (``None``: learned in memory only)."""


@dataclass(slots=True)
class _PersonaModel:
    """What a persona needs in memory to triage and draft, rebuilt when its data changes."""

    index: ExemplarIndex
    style: StyleScorer
    priority: PriorityModel
    owner_names: tuple[str, ...]
    encoder: Embedder | None = None
    """The embedder with the index's reply vectors known (scoring retrieved options is free)."""
    negatives: list[Negative] = field(default_factory=list)
    """Replies the owner dismissed, with the message they were dismissed for."""
    allowed_hosts: frozenset[str] = frozenset()
    """Link hosts the owner uses: generated links to them stay clickable."""
    owner_texts: int = 0
    profile: object | None = None
    """The persona's StyleProfile, built on first LLM use (None until then)."""
    posts: composer.PostCorpus | None = None
    """The owner's own posts and sentences, for ``post`` and ``ask`` (built on first use)."""


@dataclass(frozen=True, slots=True)
class DraftResult:
    """Options for one message and notes for the owner (an engine that failed, a spent budget)."""

    options: list[DraftOption]
    notes: list[str]


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
    ) -> None:
        # Caps on hostile input (issue 9): a message over ``max_message_chars`` gets a notice,
        # a sender (or everyone together) over the rate cap is dropped before any database work.
        self._max_chars = max_message_chars
        self._sender_limiter = sender_limiter or RateLimiter(
            per_minute=SENDER_PER_MINUTE, burst=SENDER_BURST
        )
        self._owner_limiter = owner_limiter or RateLimiter(
            per_minute=OWNER_PER_MINUTE, burst=OWNER_BURST
        )
        self._stores = stores
        self._embedder = embedder
        self._drafter = drafter
        self._priority_factory = priority_factory
        self._read_export = read_export
        self._sample_path = sample_path
        self._sample_owner = sample_owner
        self._style_factory = style_factory
        # With a background (bootstrap wires the shipped writers), each persona gets a trained
        # StyleVerifier, persisted under StateStore kind "verifier"; without one, the surface scorer.
        self._verifier_background = verifier_background
        self._llm = llm
        self._llm_budget = llm_budget
        self._profile_card = profile_card
        self._clock = clock
        self._models: dict[tuple[AccountId, PersonaId], _PersonaModel] = {}
        self._jobs = jobs
        self._history_sizes: dict[tuple[AccountId, PersonaId], int] = {}
        self._training: dict[tuple[AccountId, PersonaId], asyncio.Task[None]] = {}
        self._locks: dict[tuple[AccountId, PersonaId], asyncio.Lock] = {}

    # ----------------------------------------------------------------- accounts and personas

    async def account(self, user: UserRef) -> Account:
        """The account of ``user``, created on first contact."""
        account = await self._stores.accounts.resolve(user, create=True)
        assert account is not None
        return account

    async def active_persona(self, account: Account) -> Persona:
        personas = await self._stores.personas.list(account.id)
        for persona in personas:
            if persona.id == account.active_persona:
                return persona
        if personas:
            return personas[0]
        return await self._stores.personas.create(account.id, "default")

    def forget(self, account_id: AccountId, persona_id: PersonaId | None = None) -> None:
        """Drop cached models so the next use rebuilds them from the stores."""
        for key in list(self._models):
            if key[0] == account_id and (persona_id is None or key[1] == persona_id):
                del self._models[key]
        if persona_id is None:
            forget_trained(account_id)

    async def _model(self, account: Account, persona: Persona) -> _PersonaModel:
        key = (account.id, persona.id)
        cached = self._models.get(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._models.get(key)
            if cached is None:
                cached = await self._build_model(account, persona)
                self._models[key] = cached
            return cached

    async def _build_model(self, account: Account, persona: Persona) -> _PersonaModel:
        stores = self._stores
        pairs = await stores.messages.reply_pairs(account.id, persona.id)
        ids, vectors = await stores.vectors.load(account.id, persona.id)
        row_of = {message_id: row for row, message_id in enumerate(ids)}
        # Both sides of every exemplar are embedded once and kept: the incoming side to search,
        # the reply side so that scoring and reranking retrieved options costs no encoder pass.
        wanted = {p.incoming_id: p.incoming_text for p in pairs}
        wanted.update({p.reply_id: p.reply_text for p in pairs})
        missing = sorted((mid, text) for mid, text in wanted.items() if mid not in row_of)
        if missing:
            fresh = await asyncio.to_thread(self._embedder.encode, [text for _, text in missing])
            await stores.vectors.put(account.id, persona.id, [mid for mid, _ in missing], fresh)
            ids, vectors = await stores.vectors.load(account.id, persona.id)
            row_of = {message_id: row for row, message_id in enumerate(ids)}
        rows = [row_of[p.incoming_id] for p in pairs]
        matrix = vectors[rows] if rows else vectors[:0]
        replies = vectors[[row_of[p.reply_id] for p in pairs]] if rows else None
        index = await asyncio.to_thread(ExemplarIndex.build, pairs, matrix, reply_vectors=replies)
        history = [m async for m in stores.messages.iter(account.id, persona.id)]
        owner_texts = [m.message.text for m in history if m.from_owner]
        encoder = KnownVectors(self._embedder, index.reply_vectors)
        style = await self._style(account, persona, history, encoder)
        owner_names = tuple(
            dict.fromkeys(
                (*persona.owner_names, *(m.message.sender for m in history if m.from_owner))
            )
        )
        priority = await asyncio.to_thread(
            self._priority_factory, history, owner_names, dict(account.settings)
        )
        await self._restore_priority(account, persona, priority, len(history))
        return _PersonaModel(
            index=index,
            style=style,
            priority=priority,
            owner_names=owner_names,
            encoder=encoder,
            negatives=await self._negatives(account, persona),
            allowed_hosts=hosts_in(owner_texts),
            owner_texts=len(owner_texts),
        )

    async def _style(
        self,
        account: Account,
        persona: Persona,
        history: Sequence[StoredMessage],
        encoder: Embedder,
    ) -> StyleScorer:
        """The persona's "sounds like you" scorer.

        Its trained verifier when the StateStore holds a fresh one; otherwise the surface scorer
        for now, and the verifier trains in the background (it swaps in when ready and is kept
        under kind ``verifier``). A stored verifier stays in use until the owner's texts grew by a
        quarter (:func:`core.drafting.state.stale`); then it keeps scoring while its successor
        trains. Imports and first drafts never wait for training; :meth:`settle` does.
        """
        owner_texts = [m.message.text for m in history if m.from_owner and m.message.text.strip()]
        surface = await asyncio.to_thread(self._style_factory, owner_texts)
        if self._verifier_background is None or len(owner_texts) < MIN_VERIFIER_SAMPLES:
            return surface
        stored = unpack_state(await self._stores.state.get(account.id, persona.id, VERIFIER_STATE))
        scorer: StyleScorer = surface
        if stored is not None:
            try:
                scorer = StyleVerifier.from_bytes(stored[1], embedder=encoder)
            except ValueError:
                log.warning("stored style verifier unreadable; retraining")
                stored = None
        if stored is None or stale(stored[0], len(owner_texts)):
            others = [m.message.text for m in history if not m.from_owner]
            self._train_later(account.id, persona.id, owner_texts, others, encoder)
        return scorer

    def _train_later(
        self,
        account_id: AccountId,
        persona_id: PersonaId,
        owner_texts: list[str],
        others: list[str],
        encoder: Embedder,
    ) -> None:
        key = (account_id, persona_id)
        running = self._training.get(key)
        if running is not None and not running.done():
            return
        background = self._verifier_background

        async def train() -> None:
            assert background is not None
            scorer = await asyncio.to_thread(
                train_style_cached,
                owner_texts,
                others,
                list(background()),
                embedder=encoder,
                account_id=account_id,
            )
            if not isinstance(scorer, StyleVerifier):
                return
            if await self._stores.personas.get(account_id, persona_id) is None:
                return  # erased or deleted while training
            await self._stores.state.put(
                account_id,
                persona_id,
                VERIFIER_STATE,
                pack_state(len(owner_texts), scorer.to_bytes()),
            )
            model = self._models.get(key)
            if model is not None:
                model.style = scorer

        task = asyncio.get_running_loop().create_task(train())
        self._training[key] = task
        task.add_done_callback(_log_training_failure)

    async def settle(self) -> None:
        """Wait for background training (verifiers) to finish: for one-shot CLI runs and tests."""
        while pending := [t for t in self._training.values() if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop background training (its results are dropped)."""
        for task in self._training.values():
            task.cancel()
        await asyncio.gather(*self._training.values(), return_exceptions=True)
        self._training.clear()

    async def _negatives(self, account: Account, persona: Persona) -> list[Negative]:
        """The options of drafts the owner dismissed or regenerated away, with the message each
        draft answered (the most recent :data:`MAX_NEGATIVES`)."""
        rejected = [
            f.draft_id
            for f in await self._stores.feedback.list(account.id, persona.id)
            if f.kind in (FeedbackKind.DISMISSED, FeedbackKind.REGENERATED) and f.draft_id
        ]
        shown: list[tuple[str, str]] = []
        for draft_id in list(dict.fromkeys(reversed(rejected)))[:MAX_NEGATIVES]:
            draft = await self._stores.drafts.get(account.id, draft_id)
            if draft is not None:
                shown += [(draft.incoming.text, o.text) for o in draft.options]
        if not shown:
            return []
        texts = list(dict.fromkeys(text for text, _ in shown))
        vectors = await asyncio.to_thread(self._embedder.encode, texts)
        by_text = dict(zip(texts, vectors, strict=True))
        return [Negative(query=by_text[text], text=option) for text, option in shown][
            -MAX_NEGATIVES:
        ]

    # ----------------------------------------------------------------- import

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
        source = await asyncio.to_thread(self._read_export, path, fmt)
        if isinstance(source, RestorableExport):
            # minime's own export: personas and owner flags come back exactly (no --me needed).
            return await self._restore(user, source, progress=progress)
        owner = await asyncio.to_thread(source.resolve_owner, me)
        return await self._import(
            user, source.messages(), owner=owner, fmt=source.format, progress=progress
        )

    async def import_sample(self, user: UserRef) -> ImportSummary:
        """Train on the built-in synthetic persona (a first run that is useful at once)."""
        source = await asyncio.to_thread(self._read_export, self._sample_path, "jsonl")
        return await self._import(
            user, source.messages(), owner=self._sample_owner, fmt="sample", source="sample"
        )

    async def _restore(
        self, user: UserRef, source: RestorableExport, *, progress: Progress | None = None
    ) -> ImportSummary:
        """Load a privacy export back: each persona (by name) gets its messages and owner names.

        The export is read and validated whole before anything is written; the messages then go
        in one transaction (a re-import adds nothing).
        """
        exported = await asyncio.to_thread(source.personas)
        account = await self.account(user)
        personas = {p.name.lower(): p for p in await self._stores.personas.list(account.id)}
        ids: dict[str, PersonaId] = {}
        for item in exported:
            persona = personas.get(item.name.lower())
            if persona is None:
                persona = await self._stores.personas.create(account.id, item.name)
            names = tuple(dict.fromkeys((*persona.owner_names, *item.owner_names)))
            if names != persona.owner_names:
                persona = await self._stores.personas.update(
                    account.id, replace(persona, owner_names=names)
                )
            ids[item.name] = persona.id
        iterator = await asyncio.to_thread(source.held_messages)
        tally = {"messages": 0, "owner": 0, "replies": 0}
        conversations: set[str] = set()
        times: list[datetime] = []

        async def stream() -> AsyncIterator[StoredMessage]:
            while True:
                batch = await asyncio.to_thread(lambda: list(islice(iterator, 2_000)))
                if not batch:
                    return
                for held in batch:
                    tally["messages"] += 1
                    tally["owner"] += held.from_owner
                    tally["replies"] += held.from_owner and held.message.reply_to is not None
                    conversations.add(held.message.conversation)
                    times.append(held.message.sent_at)
                    yield StoredMessage(
                        message=held.message,
                        persona_id=ids[held.persona],
                        from_owner=held.from_owner,
                        source=held.source,
                    )
                if progress is not None:
                    progress(len(batch))

        new = await self._stores.messages.add_stream(account.id, stream())
        active = source.active_persona()
        if active is not None and active in ids:
            account = await self._stores.accounts.update(
                replace(account, active_persona=ids[active])
            )
        self.forget(account.id)
        await self._model(account, await self.active_persona(account))
        return ImportSummary(
            format=source.format,
            messages=tally["messages"],
            new=new,
            owner_messages=tally["owner"],
            owner_replies=tally["replies"],
            conversations=len(conversations),
            first=min(times, default=None),
            last=max(times, default=None),
        )

    async def _import(
        self,
        user: UserRef,
        messages: object,
        *,
        owner: str,
        fmt: str,
        source: str = "import",
        progress: Progress | None = None,
    ) -> ImportSummary:
        account = await self.account(user)
        persona = await self.active_persona(account)
        summary = await import_messages(
            messages,  # type: ignore[arg-type]
            store=self._stores.messages,
            account_id=account.id,
            persona_id=persona.id,
            owner=owner,
            format_name=fmt,
            source=source,
            progress=progress,
        )
        if owner not in persona.owner_names:
            await self._stores.personas.update(
                account.id, replace(persona, owner_names=(*persona.owner_names, owner))
            )
        self.forget(account.id, persona.id)
        # Build the index now (embeddings of new exemplars), not on the first draft.
        await self._model(account, await self.active_persona(account))
        return summary

    # ----------------------------------------------------------------- incoming messages

    async def triage(self, incoming: IncomingMessage) -> Priority:
        """Score one message for its owner (no draft, nothing stored)."""
        account = await self.account(incoming.owner)
        persona = await self.active_persona(account)
        model = await self._model(account, persona)
        return model.priority.prioritise(incoming)

    async def draft_options(
        self,
        account: Account,
        persona: Persona,
        incoming: Message,
        *,
        exclude: frozenset[str] = frozenset(),
    ) -> list[DraftOption]:
        """Candidate replies in the owner's voice (see :meth:`drafts`)."""
        return (await self.drafts(account, persona, incoming, exclude=exclude)).options

    async def drafts(
        self,
        account: Account,
        persona: Persona,
        incoming: Message,
        *,
        exclude: frozenset[str] = frozenset(),
    ) -> DraftResult:
        """Up to three replies in the owner's voice, and notes for the owner.

        The retrieval engine always runs (one encoder pass, exact top-k, the verifier scoring
        known reply vectors); with a language model configured its best candidates lead and the
        owner's own replies follow. A failed model or a spent token budget leaves the retrieval
        options and a note saying why.
        """
        model = await self._model(account, persona)
        if not len(model.index) and self._llm is None:
            return DraftResult(options=[], notes=[])

        def retrieve() -> tuple[Vector, list[DraftOption]]:
            query = self._embedder.encode([incoming.text])[0]
            if not len(model.index):
                return query, []
            return query, self._drafter.draft(
                model.index,
                text=incoming.text,
                sender=incoming.sender,
                query=query,
                style=model.style,
                exclude=exclude,
                negatives=model.negatives,
            )

        query, retrieved = await asyncio.to_thread(retrieve)
        if self._llm is None:
            return DraftResult(options=retrieved, notes=[])
        notes: list[str] = []
        generated: list[DraftOption] = []
        try:
            generated = await self._llm_reply(account, persona, model, incoming, query, exclude)
        except BudgetExceeded as error:
            notes.append(
                f"Language model skipped: {error}. These drafts come from your own past replies."
            )
        except ModelError as error:
            notes.append(
                f"The language model failed ({error}); these drafts come from your own past replies."
            )
        return DraftResult(options=merge_options(generated, retrieved), notes=notes)

    async def _llm_reply(
        self,
        account: Account,
        persona: Persona,
        model: _PersonaModel,
        incoming: Message,
        query: Vector,
        exclude: frozenset[str],
    ) -> list[DraftOption]:
        assert self._llm is not None
        profile = await self._style_profile(account, persona, model)
        hits = model.index.nearest(query, tokens(incoming.text), k=MAX_EXEMPLARS)
        context = reply_context(
            owner=self._owner_name(persona, model),
            profile=profile,
            index=model.index,
            sender=incoming.sender,
            nearest=[position for _, position in hits],
        )
        known = [
            model.index.reply_vectors[model.index.pairs[p].reply_text]
            for _, p in hits
            if model.index.pairs[p].reply_text in model.index.reply_vectors
        ]
        encoder = model.encoder or self._embedder
        await self._restore_budget(account)
        try:
            return await self._llm.draft(
                account_id=account.id,
                context=context,
                incoming=incoming.text,
                sender=incoming.sender,
                query=query,
                style=model.style,
                encode=encoder.encode,
                exemplar_replies=np.stack(known) if known else None,
                allowed_hosts=model.allowed_hosts,
                exclude=exclude,
            )
        finally:
            await self._save_budget(account)

    @staticmethod
    def _owner_name(persona: Persona, model: _PersonaModel) -> str:
        names = persona.owner_names or model.owner_names
        return names[0] if names else "the owner"

    async def _budget_home(self, account: Account) -> Persona | None:
        personas = await self._stores.personas.list(account.id)
        return min(personas, key=lambda p: (p.created_at, p.id)) if personas else None

    async def _restore_budget(self, account: Account) -> None:
        """Continue today's token count from the database (restarts, other workers)."""
        if self._llm_budget is None:
            return
        home = await self._budget_home(account)
        if home is not None:
            data = await self._stores.state.get(account.id, home.id, BUDGET_STATE)
            self._llm_budget.restore(account.id, data)

    async def _save_budget(self, account: Account) -> None:
        if self._llm_budget is None:
            return
        home = await self._budget_home(account)
        if home is not None:
            await self._stores.state.put(
                account.id, home.id, BUDGET_STATE, self._llm_budget.dump(account.id)
            )

    async def _style_profile(
        self, account: Account, persona: Persona, model: _PersonaModel
    ) -> StyleProfile | None:
        """The persona's profile for prompts: from the StateStore while fresh, else rebuilt."""
        if isinstance(model.profile, StyleProfile):
            return model.profile
        if self._profile_card is None or not model.owner_texts:
            return None
        state = self._stores.state
        profile: StyleProfile | None = None
        data = await state.get(account.id, persona.id, PROFILE_STATE)
        if data:
            try:
                profile = StyleProfile.from_json(json.loads(data))
            except (ValueError, KeyError, TypeError):
                profile = None
        if profile is None or stale(profile.messages, model.owner_texts):
            history = [m async for m in self._stores.messages.iter(account.id, persona.id)]
            built = await asyncio.to_thread(self._profile_card.profile, history)
            profile = built if isinstance(built, StyleProfile) else None
            if profile is not None:
                await state.put(
                    account.id, persona.id, PROFILE_STATE, json.dumps(profile.to_json()).encode()
                )
        model.profile = profile
        return profile

    async def handle_incoming(
        self, incoming: IncomingMessage, *, explicit: bool = False, delivery: str | None = None
    ) -> Reply | None:
        """Triage a message and offer drafts when it needs a reply (always when ``explicit``).

        ``explicit`` is for messages the owner pasted or forwarded to the clone. Returns ``None``
        when the account is paused or nothing needs showing. ``delivery`` (the platform's delivery
        key) makes drafting idempotent: the draft's id derives from it, so a delivery retried after
        its first worker died mid-way shows that worker's draft again instead of making a second.

        Hostile input gets a bounded answer before any database work: a message over
        ``max_message_chars`` is left alone (a notice when ``explicit``), and beyond the rate cap
        per (owner, sender) and per owner the rest of a flood is dropped (counted, never stored).
        """
        text = incoming.message.text
        if too_long(text, self._max_chars):
            return Reply(text=size_notice(len(text), self._max_chars)) if explicit else None
        if not self._within_rate(incoming.owner, None if explicit else incoming.message.sender):
            return (
                Reply(text="That's a lot of messages at once; give me a minute and try again.")
                if explicit
                else None
            )
        incoming = replace(
            incoming,
            message=clean_message(incoming.message),
            sender_name=clean_text(incoming.sender_name),
        )
        account = await self.account(incoming.owner)
        if account.paused:
            return (
                Reply(text="Your clone is paused. `privacy resume` turns it back on.")
                if explicit
                else None
            )
        persona = await self.active_persona(account)
        model = await self._model(account, persona)
        priority = model.priority.prioritise(incoming)
        if not explicit:
            await self._keep_waiting(account, persona, incoming, priority)
        if not (explicit or priority.needs_reply):
            return None
        draft_id = draft_id_for(account.id, delivery) if delivery else uuid.uuid4().hex
        if delivery is not None:
            earlier = await self._stores.drafts.get(account.id, draft_id)
            if earlier is not None:
                return render_draft(earlier, priority)
        result = await self.drafts(account, persona, incoming.message)
        options = result.options
        if not options:
            return Reply(
                text="\n".join(
                    [
                        _priority_line(priority),
                        *result.notes,
                        "I have no replies of yours to learn from yet. Train me first: `train --sample` or `train <export>`.",
                    ]
                ),
                priority=priority,
            )
        draft = Draft(
            id=draft_id,
            account_id=account.id,
            persona_id=persona.id,
            incoming=incoming.message,
            options=tuple(options),
            status=DraftStatus.PENDING,
            created_at=self._clock(),
            owner=incoming.owner,
        )
        await self._stores.drafts.create(draft)
        return _with_notes(render_draft(draft, priority), result.notes)

    def _within_rate(self, owner: UserRef, sender: str | None) -> bool:
        """The rate caps (no I/O): per (owner, sender) and per owner; ``sender=None`` is the
        owner's own pasted messages, which only count against the owner's cap."""
        key = str(owner)
        if sender is not None and not self._sender_limiter.allow((key, sender)):
            dropped = self._sender_limiter.dropped.get((key, sender), 0)
            if dropped in (1, 100, 1_000, 10_000):
                log.warning("rate cap: %d messages from one sender dropped", dropped)
            return False
        return self._owner_limiter.allow(key)

    async def observe_owner_message(
        self, owner: UserRef, message: Message, *, replying_to: Message | None = None
    ) -> bool:
        """Learn from a message the owner sent themselves on a platform, only with consent.

        Adapters call this for each message the owner writes where the bot can see it (not the
        clone's own posts: those teach through :meth:`confirm_sent`). The message is kept as a
        live sample of the active persona only when the owner turned learning on for
        ``owner.platform`` (``train on`` there; off until then), the clone is not paused, and
        the message is within the size and rate caps. ``replying_to`` (the message it answers)
        is kept with it, so the pair becomes a drafting exemplar.

        Returns:
            Whether the message was stored.
        """
        if too_long(message.text, self._max_chars) or not self._within_rate(owner, None):
            return False
        message = clean_message(message)
        replying_to = None if replying_to is None else clean_message(replying_to)
        account = await self._stores.accounts.resolve(owner, create=False)
        if account is None or account.paused:
            return False
        await self._owner_answered(account, message)
        if not learns_live(account.settings, owner.platform):
            return False
        persona = await self.active_persona(account)
        items = []
        if replying_to is not None and not too_long(replying_to.text, self._max_chars):
            items.append(
                StoredMessage(
                    message=replying_to, persona_id=persona.id, from_owner=False, source="live"
                )
            )
        items.append(
            StoredMessage(message=message, persona_id=persona.id, from_owner=True, source="live")
        )

        async def stream() -> AsyncIterator[StoredMessage]:
            for item in items:
                yield item

        new = await self._stores.messages.add_stream(account.id, stream())
        if new:
            self.forget(account.id, persona.id)
        return True

    # ----------------------------------------------------------------- clicks

    async def handle_action(self, action: ActionInvocation) -> ActionOutcome:
        """Act on the owner's click. Clicks on someone else's draft are refused, changing nothing."""
        if action.action in (Action.IMPORTANT, Action.NOT_IMPORTANT, Action.DRAFT):
            return await self._waiting_action(action)
        account = await self._stores.accounts.resolve(action.user, create=False)
        draft = (
            None if account is None else await self._stores.drafts.get(account.id, action.draft_id)
        )
        if account is None or draft is None:
            return ActionOutcome(
                reply=Reply(text="That draft isn't yours, or it no longer exists.")
            )
        if draft.status is not DraftStatus.PENDING:
            return ActionOutcome(
                reply=Reply(text=f"That draft was already handled ({draft.status.value}).")
            )
        option = min(max(action.option, 0), len(draft.options) - 1)
        if action.action is Action.SEND or (action.action is Action.EDIT and action.edited_text):
            edited = action.action is Action.EDIT
            text = (action.edited_text or "").strip() if edited else draft.options[option].text
            if not text:
                return ActionOutcome(needs_text=True)
            approval = Approval(
                draft_id=draft.id,
                account_id=account.id,
                by=action.user,
                text=text,
                option=option,
                edited=edited,
                approved_at=self._clock(),
            )
            if not await self._stores.drafts.approve(approval):
                return ActionOutcome(reply=Reply(text="That draft was already handled."))
            outgoing = Outgoing(
                draft_id=draft.id,
                account_id=account.id,
                text=text,
                conversation=draft.incoming.conversation,
                thread=draft.incoming.thread,
                reply_to=draft.incoming.id,
                edited=edited,
            )
            return ActionOutcome(outgoing=outgoing)
        if action.action is Action.EDIT:
            return ActionOutcome(needs_text=True)
        if action.action is Action.DISMISS:
            if not await self._stores.drafts.set_status(
                account.id, draft.id, DraftStatus.REJECTED, expect=DraftStatus.PENDING
            ):
                return ActionOutcome(reply=Reply(text="That draft was already handled."))
            await self._settle(account, draft, prioritising.Label.DISMISSED)
            await self._rejected(account, draft, FeedbackKind.DISMISSED, option)
            return ActionOutcome(
                reply=Reply(text="Dismissed. I'll offer those less for messages like this one.")
            )
        # Regenerate: the shown options were not right; offer others and remember that.
        if not await self._stores.drafts.set_status(
            account.id, draft.id, DraftStatus.REJECTED, expect=DraftStatus.PENDING
        ):
            return ActionOutcome(reply=Reply(text="That draft was already handled."))
        await self._rejected(account, draft, FeedbackKind.REGENERATED, option)
        persona = await self._stores.personas.get(
            account.id, draft.persona_id
        ) or await self.active_persona(account)
        shown = frozenset(o.text for o in draft.options)
        result = await self.drafts(account, persona, draft.incoming, exclude=shown)
        if not result.options:
            return ActionOutcome(
                reply=Reply(
                    text="\n".join(
                        [
                            *result.notes,
                            "I have no other replies of yours that fit. Edit one instead?",
                        ]
                    )
                )
            )
        fresh = replace(
            draft, id=uuid.uuid4().hex, options=tuple(result.options), created_at=self._clock()
        )
        await self._stores.drafts.create(fresh)
        return ActionOutcome(reply=_with_notes(render_draft(fresh, None), result.notes))

    async def _rejected(
        self, account: Account, draft: Draft, kind: FeedbackKind, option: int
    ) -> None:
        """Dismiss/Regenerate: one decision recorded (with the option the button named); every
        option the draft showed becomes a negative signal for similar messages (at once in the
        cached model, and from the stored draft on the next build)."""
        await self._feedback(draft, kind, text=draft.options[option].text)
        model = self._models.get((account.id, draft.persona_id))
        if model is not None:
            query = (await asyncio.to_thread(self._embedder.encode, [draft.incoming.text]))[0]
            model.negatives += [Negative(query=query, text=o.text) for o in draft.options]
            del model.negatives[:-MAX_NEGATIVES]

    async def confirm_sent(self, outgoing: Outgoing) -> None:
        """The adapter posted an approved text: mark it sent and learn from it."""
        draft = await self._stores.drafts.get(outgoing.account_id, outgoing.draft_id)
        if draft is None:
            return
        status = DraftStatus.EDITED if outgoing.edited else DraftStatus.SENT
        await self._stores.drafts.set_status(
            outgoing.account_id, draft.id, status, expect=DraftStatus.APPROVED
        )
        account = await self._stores.accounts.get(outgoing.account_id)
        if account is None or account.paused:
            return  # paused: nothing more is learned, from this send either
        kind = FeedbackKind.EDITED if outgoing.edited else FeedbackKind.SENT
        await self._feedback(draft, kind, text=outgoing.text)
        await self._learn_pair(draft, outgoing.text)
        await self._settle(account, draft, prioritising.Label.SENT)

    async def pending_draft(self, user: UserRef, draft_id: str) -> Draft | None:
        """The user's own draft while it waits for a decision (to prefill an Edit); else ``None``."""
        account = await self._stores.accounts.resolve(user, create=False)
        draft = None if account is None else await self._stores.drafts.get(account.id, draft_id)
        return draft if draft is not None and draft.status is DraftStatus.PENDING else None

    async def send_failed(
        self, outgoing: Outgoing, *, reason: str = "the platform refused it"
    ) -> Reply:
        """The platform refused the post: offer the same draft again for another click.

        An approval is never reused (one per draft, ever), so the retry is a fresh pending copy.
        """
        draft = await self._stores.drafts.get(outgoing.account_id, outgoing.draft_id)
        await self._stores.drafts.set_status(
            outgoing.account_id, outgoing.draft_id, DraftStatus.EXPIRED, expect=DraftStatus.APPROVED
        )
        if draft is None:
            return Reply(text=f"Couldn't post it ({reason}).")
        fresh = replace(
            draft, id=uuid.uuid4().hex, status=DraftStatus.PENDING, created_at=self._clock()
        )
        await self._stores.drafts.create(fresh)
        shown = render_draft(fresh, None)
        return replace(shown, text=f"Couldn't post it ({reason}). Try again?\n" + shown.text)

    async def _feedback(self, draft: Draft, kind: FeedbackKind, *, text: str | None) -> None:
        await self._stores.feedback.add(
            Feedback(
                account_id=draft.account_id,
                persona_id=draft.persona_id,
                kind=kind,
                draft_id=draft.id,
                message_id=draft.incoming.id,
                text=text,
                at=self._clock(),
            )
        )

    async def _learn_pair(self, draft: Draft, text: str) -> None:
        """What the owner sent becomes an exemplar: the next similar message drafts from it."""
        persona = await self._stores.personas.get(draft.account_id, draft.persona_id)
        if persona is None:
            return
        owner = persona.owner_names[0] if persona.owner_names else "me"
        incoming = draft.incoming
        reply = Message(
            id=f"sent:{draft.id}",
            conversation=incoming.conversation,
            thread=incoming.thread,
            sender=owner,
            text=text,
            sent_at=self._clock(),
            reply_to=incoming.id,
        )

        async def both() -> object:
            yield StoredMessage(
                message=incoming, persona_id=persona.id, from_owner=False, source="feedback"
            )
            yield StoredMessage(
                message=reply, persona_id=persona.id, from_owner=True, source="feedback"
            )

        await self._stores.messages.add_stream(draft.account_id, both())  # type: ignore[arg-type]
        self.forget(draft.account_id, persona.id)

    # ----------------------------------------------------------------- inbox, labels, digests

    def use_jobs(self, jobs: Jobs | None) -> None:
        """Wire the scheduler (it is built after the clone, whose methods its jobs call)."""
        self._jobs = jobs

    def _inbox_lock(self, account_id: AccountId, persona_id: PersonaId) -> asyncio.Lock:
        return self._locks.setdefault((account_id, f"inbox:{persona_id}"), asyncio.Lock())

    async def _load_inbox(self, account: Account, persona_id: PersonaId) -> waiting.Inbox:
        """The persona's waiting list; what waited too long without any action leaves it
        (learned as "ignored"). Call with the inbox lock held."""
        inbox = waiting.Inbox.from_bytes(
            await self._stores.state.get(account.id, persona_id, waiting.INBOX_STATE)
        )
        ignored = inbox.expire(self._clock())
        if ignored:
            await self._save_inbox(account, persona_id, inbox)
            for item in ignored:
                await self._label(account, persona_id, item, prioritising.Label.IGNORED)
        return inbox

    async def _save_inbox(
        self, account: Account, persona_id: PersonaId, inbox: waiting.Inbox
    ) -> None:
        await self._stores.state.put(account.id, persona_id, waiting.INBOX_STATE, inbox.to_bytes())

    async def _keep_waiting(
        self, account: Account, persona: Persona, incoming: IncomingMessage, priority: Priority
    ) -> waiting.WaitingItem | None:
        """Put a triaged message in the inbox (if it matters) and arm its follow-up reminder."""
        if not waiting.worth_keeping(priority):
            return None
        item = waiting.WaitingItem(
            id=waiting.item_id(account.id, persona.id, incoming.message.id),
            message=incoming.message,
            owner=incoming.owner,
            score=priority.score,
            needs_reply=priority.needs_reply,
            reasons=priority.reasons,
            arrived_at=self._clock(),
            is_direct=incoming.is_direct,
        )
        async with self._inbox_lock(account.id, persona.id):
            inbox = await self._load_inbox(account, persona.id)
            if inbox.get(item.id) is not None:
                return inbox.get(item.id)  # a redelivery: it is waiting already
            inbox.put(item)
            await self._save_inbox(account, persona.id, inbox)
        schedule = scheduling.schedule_of(account.settings)
        if (
            self._jobs is not None
            and schedule.followup_after is not None
            and item.score >= schedule.followup_score
        ):
            await self._jobs.set_followup(
                account.id,
                item.id,
                scheduling.followup_at(item.arrived_at, schedule.followup_after),
            )
        return item

    async def _label(
        self,
        account: Account,
        persona_id: PersonaId,
        item: waiting.WaitingItem,
        label: prioritising.Label,
        *,
        latency_s: float | None = None,
    ) -> None:
        """Record what the owner did with a message and update their prioritiser at once."""
        if self._stores.labels is not None:
            await self._stores.labels.add(
                PriorityLabel(
                    account_id=account.id,
                    persona_id=persona_id,
                    message_id=item.message.id,
                    label=_LABEL_VALUES[label],
                    kind=label.value,
                    at=self._clock(),
                )
            )
        persona = await self._stores.personas.get(account.id, persona_id)
        if persona is None:
            return
        model = await self._model(account, persona)
        if not isinstance(model.priority, LearningPriority):
            return
        incoming = IncomingMessage(
            owner=item.owner,
            message=item.message,
            sender_name=item.message.sender,
            is_direct=item.is_direct,
        )
        model.priority.learn(incoming, label.value, latency_s=latency_s)
        await self._stores.state.put(
            account.id,
            persona_id,
            PRIORITISER_STATE,
            _pack_priority(
                self._history_sizes.get((account.id, persona_id), 0), model.priority.dump()
            ),
        )

    async def _restore_priority(
        self, account: Account, persona: Persona, priority: PriorityModel, history_size: int
    ) -> None:
        """Continue the persona's learned prioritiser from the StateStore (online labels
        included) while its history has not grown by a quarter; else keep the fresh one."""
        self._history_sizes[(account.id, persona.id)] = history_size
        if not isinstance(priority, LearningPriority):
            return
        state = self._stores.state
        stored = _unpack_priority(await state.get(account.id, persona.id, PRIORITISER_STATE))
        if (
            stored is not None
            and stored[0] <= history_size
            and history_size - stored[0] < max(50, stored[0] // 4)
            and priority.load(stored[1])
        ):
            return
        await state.put(
            account.id, persona.id, PRIORITISER_STATE, _pack_priority(history_size, priority.dump())
        )

    async def _settle(self, account: Account, draft: Draft, label: prioritising.Label) -> None:
        """A draft's fate settles its waiting message: it leaves the inbox and teaches."""
        key = waiting.item_id(account.id, draft.persona_id, draft.incoming.id)
        async with self._inbox_lock(account.id, draft.persona_id):
            inbox = await self._load_inbox(account, draft.persona_id)
            item = inbox.pop(key)
            if item is not None:
                await self._save_inbox(account, draft.persona_id, inbox)
        if item is None:
            return
        if self._jobs is not None:
            await self._jobs.clear_followup(account.id, key)
        latency = max(0.0, (self._clock() - item.message.sent_at).total_seconds())
        await self._label(
            account,
            draft.persona_id,
            item,
            label,
            latency_s=latency if label is prioritising.Label.SENT else None,
        )

    async def _owner_answered(self, account: Account, message: Message) -> None:
        """The owner wrote on a platform: what it answers leaves the inbox, learned as replied
        (with how fast). Only ids and times are learned, so this needs no ``train on``."""
        persona = await self.active_persona(account)
        async with self._inbox_lock(account.id, persona.id):
            inbox = await self._load_inbox(account, persona.id)
            answered = inbox.answered_by(message)
            if answered:
                await self._save_inbox(account, persona.id, inbox)
        for item in answered:
            if self._jobs is not None:
                await self._jobs.clear_followup(account.id, item.id)
            latency = max(0.0, (message.sent_at - item.message.sent_at).total_seconds())
            await self._label(
                account, persona.id, item, prioritising.Label.REPLIED, latency_s=latency
            )

    async def cancel_jobs(self, account_id: AccountId) -> None:
        """Remove the account's scheduled digest and reminders (before it is erased)."""
        if self._jobs is None:
            return
        await self._jobs.clear_digest(account_id)
        for persona in await self._stores.personas.list(account_id):
            state = await self._stores.state.get(account_id, persona.id, waiting.INBOX_STATE)
            for item in waiting.Inbox.from_bytes(state).ranked():
                await self._jobs.clear_followup(account_id, item.id)

    async def account_exists(self, account_id: AccountId) -> bool:
        """Whether the account still exists (a job of an erased account removes itself)."""
        return await self._stores.accounts.get(account_id) is not None

    async def waiting_items(self, user: UserRef) -> list[waiting.WaitingItem]:
        """What is waiting for ``user``'s active persona, most important first."""
        account = await self.account(user)
        persona = await self.active_persona(account)
        async with self._inbox_lock(account.id, persona.id):
            return (await self._load_inbox(account, persona.id)).ranked()

    async def _inbox(self, account: Account) -> Reply:
        """``inbox``: waiting messages, most important first, with reasons and buttons; then
        drafts still waiting for a decision."""
        persona = await self.active_persona(account)
        async with self._inbox_lock(account.id, persona.id):
            items = (await self._load_inbox(account, persona.id)).ranked()
        pending = await self._stores.drafts.pending(account.id)
        if not items and not pending:
            return Reply(text="Nothing is waiting for you.")
        lines: list[str] = []
        buttons: list[Button] = []
        if items:
            lines.append(f"{len(items)} waiting, most important first:")
            for number, item in enumerate(items[:INBOX_SHOWN], start=1):
                lines.append(waiting.item_line(number, item))
                buttons += _waiting_buttons(item, number)
        if pending:
            # Without waiting messages the drafts are the inbox (as before the waiting list).
            lines.append(
                f"{len(pending)} draft{'s' if len(pending) != 1 else ''} to decide:"
                if items
                else f"{len(pending)} waiting:"
            )
            indent, send = ("  ", "Send draft") if items else ("", "Send")
            for number, draft in enumerate(pending[:INBOX_SHOWN], start=1):
                lines.append(
                    f"{indent}{number}. {draft.incoming.sender}: {_clip(draft.incoming.text, 80)}"
                )
                buttons.append(
                    Button(label=f"{send} {number}", action=Action.SEND, draft_id=draft.id)
                )
        return Reply(text="\n".join(lines), buttons=tuple(buttons))

    async def _find_waiting(
        self, account: Account, key: str
    ) -> tuple[PersonaId, waiting.WaitingItem] | None:
        for persona in await self._stores.personas.list(account.id):
            inbox = waiting.Inbox.from_bytes(
                await self._stores.state.get(account.id, persona.id, waiting.INBOX_STATE)
            )
            item = inbox.get(key)
            if item is not None:
                return persona.id, item
        # A message shown with drafts but not waiting (pasted, or already out of the inbox):
        # its pending draft still lets the owner say how important it was.
        for draft in await self._stores.drafts.pending(account.id):
            if waiting.item_id(account.id, draft.persona_id, draft.incoming.id) == key:
                return draft.persona_id, waiting.WaitingItem(
                    id=key,
                    message=draft.incoming,
                    owner=draft.owner,
                    score=0.0,
                    needs_reply=True,
                    reasons=(),
                    arrived_at=draft.created_at,
                )
        return None

    async def _waiting_action(self, action: ActionInvocation) -> ActionOutcome:
        """Important · Not important · Draft on a waiting message (by its item id)."""
        account = await self._stores.accounts.resolve(action.user, create=False)
        found = None if account is None else await self._find_waiting(account, action.draft_id)
        if account is None or found is None:
            return ActionOutcome(
                reply=Reply(text="That message isn't waiting any more (answered, or not yours).")
            )
        persona_id, item = found
        if action.action is Action.IMPORTANT:
            async with self._inbox_lock(account.id, persona_id):
                inbox = await self._load_inbox(account, persona_id)
                if inbox.get(item.id) is not None:
                    inbox.put(replace(item, starred=True))
                    await self._save_inbox(account, persona_id, inbox)
            await self._label(account, persona_id, item, prioritising.Label.IMPORTANT)
            return ActionOutcome(
                reply=Reply(
                    text=f"Noted: {item.message.sender}'s message is important. I'll rank ones like it higher."
                )
            )
        if action.action is Action.NOT_IMPORTANT:
            async with self._inbox_lock(account.id, persona_id):
                inbox = await self._load_inbox(account, persona_id)
                inbox.pop(item.id)
                await self._save_inbox(account, persona_id, inbox)
            if self._jobs is not None:
                await self._jobs.clear_followup(account.id, item.id)
            await self._label(account, persona_id, item, prioritising.Label.NOT_IMPORTANT)
            return ActionOutcome(
                reply=Reply(
                    text="Noted: not important. It left your inbox; I'll rank ones like it lower."
                )
            )
        persona = await self._stores.personas.get(account.id, persona_id)
        if persona is None:
            return ActionOutcome(reply=Reply(text="That persona no longer exists."))
        draft_id = uuid.uuid5(_WAITING_DRAFTS, f"{account.id}:{item.id}").hex
        earlier = await self._stores.drafts.get(account.id, draft_id)
        if earlier is not None and earlier.status is DraftStatus.PENDING:
            return ActionOutcome(reply=render_draft(earlier, item.priority))
        if earlier is not None:
            draft_id = uuid.uuid4().hex
        options = await self.draft_options(account, persona, item.message)
        if not options:
            return ActionOutcome(
                reply=Reply(
                    text="I have no replies of yours to learn from yet. Train me first: `train --sample` or `train <export>`."
                )
            )
        draft = Draft(
            id=draft_id,
            account_id=account.id,
            persona_id=persona.id,
            incoming=item.message,
            options=tuple(options),
            status=DraftStatus.PENDING,
            created_at=self._clock(),
            owner=action.user,
        )
        await self._stores.drafts.create(draft)
        return ActionOutcome(reply=render_draft(draft, item.priority))

    async def digest(self, account_id: AccountId) -> tuple[UserRef, Reply] | None:
        """The scheduled digest of one account and where it goes; ``None`` when it is off,
        the account is gone or paused."""
        account = await self._stores.accounts.get(account_id)
        if account is None or account.paused:
            return None
        schedule = scheduling.schedule_of(account.settings)
        to = _user_ref(schedule.deliver_to)
        if schedule.digest_at is None or to is None:
            return None
        persona = await self.active_persona(account)
        async with self._inbox_lock(account.id, persona.id):
            items = (await self._load_inbox(account, persona.id)).ranked()
        buttons: list[Button] = []
        for number, item in enumerate(items[:DIGEST_SHOWN], start=1):
            buttons += _waiting_buttons(item, number)
        return to, Reply(
            text=waiting.digest_text(items, limit=DIGEST_SHOWN), buttons=tuple(buttons)
        )

    async def follow_up(self, account_id: AccountId, key: str) -> tuple[UserRef, Reply] | None:
        """A reminder about one waiting message, at most once; ``None`` when it was answered,
        dismissed, already reminded, below the threshold now, or reminders are off."""
        account = await self._stores.accounts.get(account_id)
        if account is None or account.paused:
            return None
        schedule = scheduling.schedule_of(account.settings)
        found = await self._find_waiting(account, key)
        if found is None:
            return None
        persona_id = found[0]
        async with self._inbox_lock(account.id, persona_id):
            inbox = await self._load_inbox(account, persona_id)
            current = inbox.get(key)
            if current is None or not scheduling.followup_due(
                arrived_at=current.arrived_at,
                score=1.0 if current.starred else current.score,
                schedule=schedule,
                now=self._clock(),
                answered=False,
                reminded=current.reminded,
            ):
                return None
            inbox.put(replace(current, reminded=True))
            await self._save_inbox(account, persona_id, inbox)
        to = _user_ref(schedule.deliver_to) or current.owner
        waited = scheduling.format_duration(self._clock() - current.arrived_at)
        text = f"Still waiting for you after {waited}:\n" + waiting.item_line(1, current)
        return to, Reply(text=text, buttons=tuple(_waiting_buttons(current, None)))

    async def _digest_command(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """``digest`` · ``digest HH:MM [zone]`` · ``digest off`` · ``digest followup <4h|off>``."""
        schedule = scheduling.schedule_of(account.settings)
        now = self._clock()
        if not args:
            return Reply(text=scheduling.describe(schedule, now=now))
        try:
            if args[0].lower() in ("followup", "follow-up", "remind"):
                if len(args) < 2:
                    return Reply(text="Usage: digest followup <4h | 90m | off> [min score 0-1]")
                if args[1].lower() == "off":
                    schedule = replace(schedule, followup_after=None)
                else:
                    score = float(args[2]) if len(args) > 2 else schedule.followup_score
                    schedule = replace(
                        schedule,
                        followup_after=scheduling.parse_duration(args[1]),
                        followup_score=min(max(score, 0.0), 1.0),
                        deliver_to=str(command.user),
                    )
            elif args[0].lower() == "off":
                schedule = replace(schedule, digest_at=None)
                if self._jobs is not None:
                    await self._jobs.clear_digest(account.id)
            else:
                at = scheduling.parse_time(args[0])
                zone = args[1] if len(args) > 1 else schedule.timezone
                if not scheduling.is_timezone(zone):
                    return Reply(
                        text=f"'{zone}' is not a time zone I know; try Europe/Paris or America/New_York."
                    )
                schedule = replace(
                    schedule, digest_at=at, timezone=zone, deliver_to=str(command.user)
                )
                if self._jobs is not None:
                    await self._jobs.set_digest(account.id, at, zone)
        except (scheduling.ScheduleError, ValueError) as error:
            return Reply(text=str(error))
        await self._stores.accounts.update(
            replace(account, settings=scheduling.with_schedule(account.settings, schedule))
        )
        await self._arm_followups(account, schedule)
        note = "" if self._jobs is not None else " (the scheduler starts with `minime run`)"
        return Reply(text=scheduling.describe(schedule, now=now) + note)

    async def _arm_followups(self, account: Account, schedule: scheduling.Schedule) -> None:
        """Reminders for what already waits, under a follow-up rule just set (or cleared)."""
        if self._jobs is None:
            return
        persona = await self.active_persona(account)
        async with self._inbox_lock(account.id, persona.id):
            items = (await self._load_inbox(account, persona.id)).ranked()
        for item in items:
            score = 1.0 if item.starred else item.score
            if schedule.followup_after is None or item.reminded or score < schedule.followup_score:
                await self._jobs.clear_followup(account.id, item.id)
            else:
                at = scheduling.followup_at(item.arrived_at, schedule.followup_after)
                await self._jobs.set_followup(account.id, item.id, max(at, self._clock()))

    async def _onboard(self, account: Account, args: tuple[str, ...]) -> Reply:
        """``onboard``: the short question flow that seeds the prioritiser's prior.

        Without arguments it asks the next unanswered question; ``onboard <topic> <answer>``
        answers one (``vips``, ``hours``, ``topics``, ``wait``, ``tz``).
        """
        settings = dict(account.settings)
        if not args:
            question = _next_question(settings)
            if question is not None:
                return Reply(text=f"{question}\n{_onboarding_summary(settings)}")
            return Reply(text="Onboarding done.\n" + _onboarding_summary(settings))
        topic, answer = args[0].lower(), " ".join(args[1:]).strip()
        if topic not in ONBOARDING_KEYS and topic not in ("tz", "followup"):
            return Reply(text="Usage: onboard [vips|hours|topics|wait|tz|followup] <answer>")
        schedule = scheduling.schedule_of(settings)
        if topic == "followup":
            try:
                after = (
                    None
                    if answer.lower() in ("off", "none", "no")
                    else scheduling.parse_duration(answer)
                )
            except scheduling.ScheduleError as error:
                return Reply(text=str(error))
            settings = scheduling.with_schedule(settings, replace(schedule, followup_after=after))
            await self._arm_followups(account, scheduling.schedule_of(settings))
        elif topic == "tz":
            if not scheduling.is_timezone(answer):
                return Reply(text=f"'{answer}' is not a time zone I know; try Europe/Paris.")
            settings = scheduling.with_schedule(settings, replace(schedule, timezone=answer))
            hours = settings.get("working_hours")
            if isinstance(hours, dict):
                settings["working_hours"] = {**hours, "timezone": answer}
        elif topic == "hours":
            try:
                start, end, zone = _parse_hours(answer, schedule.timezone)
            except scheduling.ScheduleError as error:
                return Reply(text=str(error))
            settings["working_hours"] = {"start": start, "end": end, "timezone": zone}
            settings = scheduling.with_schedule(settings, replace(schedule, timezone=zone))
        else:
            words = [w.strip() for w in answer.replace(";", ",").split(",") if w.strip()]
            if answer.lower() in ("none", "-", "no"):
                words = []
            settings[ONBOARDING_KEYS[topic]] = words
        await self._stores.accounts.update(replace(account, settings=settings))
        self.forget(account.id)  # the prior is rebuilt with the answers on next use
        question = _next_question(settings)
        if question is not None:
            return Reply(text=f"Thanks, noted.\nNext: {question}")
        return Reply(text="Thanks, noted. " + _onboarding_summary(settings))

    # ----------------------------------------------------------------- commands

    async def handle_command(self, command: CommandInvocation) -> list[Reply]:
        """Run one command of the shared grammar; errors come back as a reply, never raised."""
        if too_long(command.text, self._max_chars):
            return [Reply(text=size_notice(len(command.text), self._max_chars))]
        command = replace(command, text=clean_text(command.text))
        try:
            parsed = (
                parse(f"{command.name} {command.text}".strip())
                if command.name
                else parse(command.text)
            )
        except CommandError as error:
            return [Reply(text=str(error))]
        name, args, text = parsed.name, parsed.args, parsed.text
        if name == "help":
            return [Reply(text=help_text(prefix=command.command_prefix))]
        account = await self.account(command.user)
        if name == "train":
            return [await self._train(command, args)]
        if name == "ask":
            return [await self._ask(account, text)]
        if name == "post":
            return [await self._post(account, args, text)]
        if name == "draft":
            incoming = IncomingMessage(
                owner=command.user,
                message=Message(
                    id=f"pasted:{uuid.uuid4().hex}",
                    conversation=command.conversation or "pasted",
                    thread=None,
                    sender="them",
                    text=text,
                    sent_at=self._clock(),
                ),
                sender_name="them",
                is_direct=True,
            )
            reply = await self.handle_incoming(incoming, explicit=True)
            return [reply] if reply else []
        if name == "persona":
            return [await self._persona(account, args)]
        if name == "profile":
            return [await self._profile(account, platform=command.user.platform)]
        if name == "inbox":
            return [await self._inbox(account)]
        if name == "digest":
            return [await self._digest_command(command, account, args)]
        if name == "onboard":
            return [await self._onboard(account, args)]
        if name == "privacy":
            return [await self._privacy(command, account, args)]
        if name == "link":
            if args:
                linked = await self._stores.accounts.redeem_link_code(args[0], command.user)
                return [
                    Reply(
                        text="Linked: this identity now uses the same clone."
                        if linked
                        else "That code is unknown or expired."
                    )
                ]
            code = await self._stores.accounts.issue_link_code(account.id, ttl_s=600)
            return [
                Reply(text=f"On your other platform, send: link {code}  (valid 10 minutes, once)")
            ]
        return [Reply(text=f"'{name}' is not available in this version yet. Try 'help'.")]

    async def _ask(self, account: Account, question: str) -> Reply:
        """``ask <question>``: the owner's likely answer, and the closest real exchange."""
        if account.paused:
            return Reply(text="Your clone is paused. `privacy resume` turns it back on.")
        persona = await self.active_persona(account)
        message = Message(
            id=f"ask:{uuid.uuid4().hex}",
            conversation="ask",
            thread=None,
            sender="them",
            text=question,
            sent_at=self._clock(),
        )
        result = await self.drafts(account, persona, message)
        model = await self._model(account, persona)
        if not result.options:
            return Reply(
                text="\n".join(
                    [
                        *result.notes,
                        "I have no replies of yours to learn from yet. Train me first: `train --sample` or `train <export>`.",
                    ]
                )
            )
        best, *others = result.options
        lines = [
            *result.notes,
            f"You'd probably answer: “{best.text}”",
            f"   [{best.engine} · sounds like you {best.style_score}/100]",
        ]
        for option in others:
            lines.append(f"Or: “{option.text}”   [{option.engine} · {option.style_score}/100]")
        query = (await asyncio.to_thread(self._embedder.encode, [question]))[0]
        hits = model.index.nearest(query, tokens(question), k=1)
        if hits:
            similarity, position = hits[0]
            pair = model.index.pairs[position]
            lines.append(
                f"Closest real exchange ({round(100 * max(0.0, similarity))}% alike): "
                f"{pair.incoming_sender} wrote “{_clip(pair.incoming_text, 160)}” and you "
                f"answered “{_clip(pair.reply_text, 200)}” ({pair.replied_at:%Y-%m-%d})."
            )
        return Reply(text="\n".join(lines))

    async def _post_corpus(
        self, account: Account, persona: Persona, model: _PersonaModel
    ) -> composer.PostCorpus:
        """The owner's standalone messages with embeddings (kept in the VectorStore by id)."""
        if model.posts is not None:
            return model.posts
        history = [
            m async for m in self._stores.messages.iter(account.id, persona.id, owner_only=True)
        ]
        texts = [m.message.text for m in history]
        standalone = [m for m in history if m.message.reply_to is None and m.message.text.strip()]
        from_replies = not standalone
        chosen = (standalone or [m for m in history if m.message.text.strip()])[
            -composer.MAX_POSTS :
        ]
        ids, vectors = await self._stores.vectors.load(account.id, persona.id)
        row_of = {message_id: row for row, message_id in enumerate(ids)}
        missing = [m for m in chosen if m.message.id not in row_of]
        if missing:
            fresh = await asyncio.to_thread(
                self._embedder.encode, [m.message.text for m in missing]
            )
            await self._stores.vectors.put(
                account.id, persona.id, [m.message.id for m in missing], fresh
            )
            ids, vectors = await self._stores.vectors.load(account.id, persona.id)
            row_of = {message_id: row for row, message_id in enumerate(ids)}
        matrix = (
            vectors[[row_of[m.message.id] for m in chosen]]
            if chosen
            else np.zeros((0, self._embedder.dim), dtype=np.float32)
        )
        corpus = composer.PostCorpus.build(
            [m.message.text for m in chosen],
            matrix,
            all_owner_texts=texts,
            from_replies=from_replies,
        )
        model.posts = corpus
        return corpus

    async def _post(self, account: Account, args: tuple[str, ...], text: str) -> Reply:
        """``post <x|linkedin|bluesky> <topic>``: a post in the owner's voice (a thread on X and
        Bluesky when it is long), from the LLM when configured, else from their own sentences."""
        usage = "Usage: post <x|linkedin|bluesky> <topic>"
        platform = platform_named(args[0]) if args else None
        topic = text.split(None, 1)[1].strip() if len(text.split(None, 1)) > 1 else ""
        if platform is None or not topic:
            return Reply(text=usage)
        if account.paused:
            return Reply(text="Your clone is paused. `privacy resume` turns it back on.")
        persona = await self.active_persona(account)
        model = await self._model(account, persona)
        corpus = await self._post_corpus(account, persona, model)
        if not corpus.posts:
            return Reply(
                text="I have no messages of yours to write from yet. Train me first: `train --sample` or `train <export>`."
            )
        encoder = model.encoder or self._embedder
        topic_vector = (await asyncio.to_thread(self._embedder.encode, [topic]))[0]
        similar = corpus.similar(topic_vector, 6)
        notes: list[str] = []
        parts: list[str] = []
        how = ""
        if self._llm is not None:
            try:
                parts = await self._llm_post(
                    account, persona, model, topic, platform, similar, corpus
                )
                how = f"by the language model, shown {len(similar)} of your most similar past " + (
                    "replies" if corpus.from_replies else "posts"
                )
            except BudgetExceeded as error:
                notes.append(f"Language model skipped: {error}.")
            except ModelError as error:
                notes.append(f"The language model failed ({error}).")
        if not parts:
            composed = await asyncio.to_thread(
                composer.retrieval_post,
                corpus,
                topic_vector=topic_vector,
                platform=platform,
                encode=encoder.encode,
            )
            parts = composed.parts
            how = (
                "by the retrieval engine: stitched from your own sentences closest to the topic "
                + (
                    "(in your replies; no standalone posts imported)"
                    if corpus.from_replies
                    else "in your past posts"
                )
                + ("" if self._llm is not None else "; no language model is configured")
            )
            if composed.best_similarity < composer.MIN_TOPIC_SIMILARITY:
                notes.append("You have written little about this topic, so this is a loose fit.")
        if not parts:
            return Reply(text="\n".join([*notes, "I couldn't write that post."]))
        scores = await asyncio.to_thread(model.style.score, parts)
        header = f"{platform.name} post in your voice, written {how}."
        if len(parts) > 1:
            header += f" A thread of {len(parts)}, numbered your way ({_numbering_label(corpus.numbering)})."
        body = [
            f"{part}\n   [{len(part)} chars · sounds like you {score}/100]"
            for part, score in zip(parts, scores, strict=True)
        ]
        return Reply(text="\n\n".join(["\n".join([*notes, header]), *body]))

    async def _llm_post(
        self,
        account: Account,
        persona: Persona,
        model: _PersonaModel,
        topic: str,
        platform: PostPlatform,
        similar: Sequence[tuple[str, float]],
        corpus: composer.PostCorpus,
    ) -> list[str]:
        assert self._llm is not None
        profile = await self._style_profile(account, persona, model)
        context = PromptContext(
            owner=self._owner_name(persona, model),
            profile=profile.summary() if profile is not None and profile.messages else "",
        )
        nonce = new_nonce()
        system, user = build_post_prompt(
            context,
            topic=topic,
            platform=platform.name,
            limit=platform.target if platform.threads else platform.limit,
            past_posts=[post for post, _ in similar],
            nonce=nonce,
        )
        await self._restore_budget(account)
        try:
            texts = await self._llm.generate(
                account_id=account.id,
                system=system,
                user=user,
                nonce=nonce,
                allowed_hosts=model.allowed_hosts,
                n=2,
                max_tokens=600,
            )
        finally:
            await self._save_budget(account)
        if not texts:
            return []
        scores = await asyncio.to_thread(model.style.score, texts)
        best = max(zip(scores, texts, strict=True))[1]
        return composer.finish(best, platform, corpus.numbering)

    async def _train(self, command: CommandInvocation, args: tuple[str, ...]) -> Reply:
        account = await self.account(command.user)
        if args[:1] == ("--sample",) or args[:1] == ("sample",):
            summary = await self.import_sample(command.user)
            return Reply(
                text="Trained on the sample persona (synthetic messages of 'Sam'). "
                + describe_summary(summary)
            )
        if args[:1] in (("on",), ("off",)):
            # Consent per source: `train on` in a Slack chat is consent for Slack only.
            platform = args[1].lower() if len(args) > 1 else command.user.platform
            if platform in ("all", "everywhere", ANY):
                platform = ANY
            on = args[0] == "on"
            settings = with_live_learning(account.settings, platform, on)
            await self._stores.accounts.update(replace(account, settings=settings))
            where = "every platform" if platform == ANY else platform
            if on:
                return Reply(
                    text=f"Learning from messages you send on {where} is on: I keep them, "
                    "encrypted, as samples of your style. `train off` stops it; "
                    "`privacy pause` stops everything."
                )
            return Reply(text=f"Learning from messages you send on {where} is off.")
        named = [a for a in args if not a.startswith("--")]
        if named and not command.attachments and not command.local_files:
            return Reply(
                text="Attach the export file to the command: I can't read paths on this platform."
            )
        paths = [Path(a.path) for a in command.attachments] or [Path(a) for a in named]
        if not paths:
            return Reply(
                text="Attach an export (Slack, Telegram, Discord, WhatsApp, mail, X) or use `train --sample`."
            )
        me = next((a.split("=", 1)[1] for a in args if a.startswith("--me=")), None)
        lines = []
        for path in paths:
            try:
                summary = await self.import_file(command.user, path, me=me)
            except ValueError as error:  # the reader's one-sentence errors (format, unknown owner)
                lines.append(f"{path.name}: not imported: {error}")
                continue
            lines.append(f"{path.name}: " + describe_summary(summary))
        return Reply(text="\n".join(lines))

    async def _persona(self, account: Account, args: tuple[str, ...]) -> Reply:
        personas = self._stores.personas
        verb, rest = args[0], " ".join(args[1:]).strip()
        existing = await personas.list(account.id)
        by_name = {p.name.lower(): p for p in existing}
        if verb == "list":
            active = (await self.active_persona(account)).id
            return Reply(
                text="\n".join(("* " if p.id == active else "  ") + p.name for p in existing)
            )
        if not rest:
            return Reply(text=f"Usage: persona {verb} <name>")
        if verb == "new":
            if rest.lower() in by_name:
                return Reply(text=f"You already have a persona '{rest}'.")
            persona = await personas.create(account.id, rest)
            await self._stores.accounts.update(replace(account, active_persona=persona.id))
            return Reply(
                text=f"Created persona '{rest}' and switched to it. Train it with `train`."
            )
        target = by_name.get(rest.lower())
        if target is None:
            return Reply(
                text=f"No persona '{rest}'. You have: {', '.join(p.name for p in existing)}."
            )
        if verb == "use":
            await self._stores.accounts.update(replace(account, active_persona=target.id))
            return Reply(text=f"Now using persona '{target.name}'.")
        if len(existing) == 1:
            return Reply(text="That is your only persona; create another before deleting it.")
        await personas.delete(account.id, target.id)
        self.forget(account.id, target.id)
        if account.active_persona == target.id:
            other = next(p for p in existing if p.id != target.id)
            await self._stores.accounts.update(replace(account, active_persona=other.id))
        return Reply(text=f"Deleted persona '{target.name}' and everything it learned.")

    async def _profile(self, account: Account, *, platform: str = ANY) -> Reply:
        persona = await self.active_persona(account)
        history = [m async for m in self._stores.messages.iter(account.id, persona.id)]
        if not any(m.from_owner for m in history):
            return Reply(
                text="No messages of yours yet. Train me first: `train --sample` or `train <export>`."
            )
        if self._profile_card is None:
            return Reply(text=f"{sum(m.from_owner for m in history)} messages of yours learned.")
        text, png = await asyncio.to_thread(self._profile_card.card, history)
        sources = sorted({m.source for m in history if m.from_owner})
        text += f"\nLearned from: {', '.join(sources)} messages in persona '{persona.name}'."
        text += "\n" + describe_live_learning(
            account.settings, () if platform == ANY else (platform,)
        )
        return Reply(text=text, image=png, image_name="style-card.png" if png else None)

    async def profile_json(self, user: UserRef) -> dict[str, object]:
        """Everything the profiler measured for the user's active persona."""
        account = await self.account(user)
        persona = await self.active_persona(account)
        history = [m async for m in self._stores.messages.iter(account.id, persona.id)]
        if self._profile_card is None or not any(m.from_owner for m in history):
            return {"persona": persona.name, "messages": 0}
        profile = await asyncio.to_thread(self._profile_card.profile, history)
        return {"persona": persona.name, **profile.to_json()}

    async def export_data(self, account: Account) -> dict[str, object]:
        """Everything held for ``account`` (``AccountVault.export``), plus each persona's profile
        as the profiler measures it (what ``profile --json`` shows), under ``profiles``."""
        data = await self._stores.vault.export(account.id)
        profiles: dict[str, object] = {}
        for persona in await self._stores.personas.list(account.id):
            history = [m async for m in self._stores.messages.iter(account.id, persona.id)]
            if self._profile_card is not None and any(m.from_owner for m in history):
                profile = await asyncio.to_thread(self._profile_card.profile, history)
                profiles[persona.name] = profile.to_json()
        return {**data, "profiles": profiles}

    async def _privacy(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        verb = args[0]
        if verb in ("pause", "resume"):
            await self._stores.accounts.update(replace(account, paused=verb == "pause"))
            return Reply(
                text="Paused: no triage, no drafts, no learning until `privacy resume`."
                if verb == "pause"
                else "Resumed."
            )
        if verb == "disclosure":
            return await self._disclosure(command, account, args[1:])
        if not command.is_private:
            return Reply(
                text="For your safety, `privacy export` and `privacy erase` work only in a private chat with me."
            )
        if verb == "export":
            data = await self.export_data(account)
            return Reply(
                text="Everything I hold about you (`minime import` loads it back).",
                file=await asyncio.to_thread(export_zip, data),
                file_name="minime-export.zip",
            )
        if args[1:2] != ("confirm",):
            return Reply(
                text="This destroys everything I learned about you, for good. To confirm: privacy erase confirm"
            )
        await self.cancel_jobs(account.id)
        await self._stores.vault.erase(account.id)
        self.forget(account.id)
        return Reply(text="Erased. Everything I held about you is gone, and its key destroyed.")

    async def _disclosure(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """``privacy disclosure [none|line|signature] [platform|all]``: how posts say they were
        drafted by the clone, for the active persona (default: on this platform)."""
        persona = await self.active_persona(account)
        platform = args[1].lower() if len(args) > 1 else command.user.platform
        scope = None if platform in ("all", "everywhere", ANY) else platform
        where = "every platform" if scope is None else scope
        if not args:
            mode = disclosure_for(account.settings, persona_id=persona.id, platform=platform)
            return Reply(
                text=f"Disclosure on {platform} for persona '{persona.name}': {mode.value}. "
                "Change it with `privacy disclosure none|line|signature [platform|all]`."
            )
        try:
            mode = Disclosure(args[0].lower())
        except ValueError:
            return Reply(text="Usage: privacy disclosure none|line|signature [platform|all]")
        settings = with_disclosure(account.settings, mode, persona_id=persona.id, platform=scope)
        await self._stores.accounts.update(replace(account, settings=settings))
        said = {
            Disclosure.NONE: "posts carry no disclosure",
            Disclosure.LINE: "posts end with a short line saying your AI clone drafted them",
            Disclosure.SIGNATURE: "posts end with a signature saying your AI clone drafted them",
        }[mode]
        return Reply(text=f"Persona '{persona.name}' on {where}: {said}.")


_DRAFT_IDS = uuid.UUID("5f0c3b7e-9d1a-4c55-8a3e-6b1f2d9e7c40")


def draft_id_for(account_id: AccountId, delivery: str) -> str:
    """The id of the draft made for one delivery: the same on every retry of it."""
    return uuid.uuid5(_DRAFT_IDS, f"{account_id}:{delivery}").hex


# ----------------------------------------------------------------- inbox, labels, onboarding

PRIORITISER_STATE = "prioritiser"
INBOX_SHOWN = 10
DIGEST_SHOWN = 5
_PRIORITY_MAGIC = b"MPR1"
_WAITING_DRAFTS = uuid.UUID("9e3d2c71-5b4a-4f0e-8c6d-1a2b3c4d5e6f")
"""Namespace of the ids of drafts made from the inbox (one per waiting message)."""

_LABEL_VALUES: dict[prioritising.Label, float] = {
    prioritising.Label.REPLIED: 1.0,
    prioritising.Label.SENT: 1.0,
    prioritising.Label.IMPORTANT: 1.0,
    prioritising.Label.DISMISSED: 0.25,
    prioritising.Label.IGNORED: 0.0,
    prioritising.Label.NOT_IMPORTANT: 0.0,
}
"""How important each kind of label says the message was (the stored ``label`` value)."""


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


def _pack_priority(history_size: int, payload: bytes) -> bytes:
    return _PRIORITY_MAGIC + history_size.to_bytes(8, "big") + payload


def _unpack_priority(data: bytes | None) -> tuple[int, bytes] | None:
    if not data or not data.startswith(_PRIORITY_MAGIC) or len(data) < 12:
        return None
    return int.from_bytes(data[4:12], "big"), data[12:]


def _waiting_buttons(item: waiting.WaitingItem, number: int | None) -> list[Button]:
    """Draft (where a reply is needed) · Important · Not important, for one waiting message."""
    suffix = "" if number is None else f" {number}"
    buttons = []
    if item.needs_reply or number is None:
        buttons.append(Button(label=f"Draft{suffix}", action=Action.DRAFT, draft_id=item.id))
    buttons += [
        Button(label=f"Important{suffix}", action=Action.IMPORTANT, draft_id=item.id),
        Button(label=f"Not important{suffix}", action=Action.NOT_IMPORTANT, draft_id=item.id),
    ]
    return buttons


def _user_ref(text: str | None) -> UserRef | None:
    if not text or ":" not in text:
        return None
    platform, _, user_id = text.partition(":")
    return UserRef(platform=platform, user_id=user_id)


ONBOARDING_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("vips", "vips", "Whose messages should never wait? `onboard vips alice, bob`"),
    (
        "hours",
        "working_hours",
        "When do you work? `onboard hours 09:00-18:00 Europe/Paris`",
    ),
    ("topics", "topics", "What do you care about most? `onboard topics deploy, invoices`"),
    ("wait", "low_priority", "Whose messages can always wait? `onboard wait newsletter, ci-bot`"),
)
"""(command word, settings key, question) of the onboarding flow, in the order asked."""
ONBOARDING_KEYS = {word: key for word, key, _ in ONBOARDING_QUESTIONS}


def _next_question(settings: Mapping[str, object]) -> str | None:
    for _, key, question in ONBOARDING_QUESTIONS:
        if key not in settings:
            return question
    return None


def _onboarding_summary(settings: Mapping[str, object]) -> str:
    def listed(key: str) -> str:
        value = settings.get(key)
        return ", ".join(str(v) for v in value) if isinstance(value, list) and value else "—"

    hours = settings.get("working_hours")
    when = (
        f"{hours.get('start')}-{hours.get('end')} {hours.get('timezone')}"
        if isinstance(hours, dict)
        else "—"
    )
    return (
        f"VIPs: {listed('vips')} · hours: {when} · topics: {listed('topics')} · "
        f"can wait: {listed('low_priority')} · time zone: {scheduling.schedule_of(settings).timezone}"
        f" · reminders: {_reminders(settings)} (`onboard followup 4h`)"
    )


def _reminders(settings: Mapping[str, object]) -> str:
    after = scheduling.schedule_of(settings).followup_after
    return "off" if after is None else f"after {scheduling.format_duration(after)}"


def _parse_hours(text: str, default_zone: str) -> tuple[str, str, str]:
    """``09:00-18:00 [zone]`` → ``("09:00", "18:00", zone)``."""
    words = text.split()
    if not words or "-" not in words[0]:
        raise scheduling.ScheduleError(
            "Write your hours like 09:00-18:00, optionally with a time zone."
        )
    start, _, end = words[0].partition("-")
    zone = words[1] if len(words) > 1 else default_zone
    if not scheduling.is_timezone(zone):
        raise scheduling.ScheduleError(f"'{zone}' is not a time zone I know; try Europe/Paris.")
    return (
        scheduling.parse_time(start).strftime("%H:%M"),
        scheduling.parse_time(end).strftime("%H:%M"),
        zone,
    )


def describe_summary(summary: ImportSummary) -> str:
    """One line about an import, for people."""
    span = ""
    if summary.first and summary.last:
        span = f", {summary.first:%Y-%m-%d} to {summary.last:%Y-%m-%d}"
    return (
        f"{summary.messages} messages ({summary.new} new) in {summary.conversations} conversations{span}; "
        f"{summary.owner_messages} written by you, {summary.owner_replies} of them replies."
    )


def _log_training_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("style verifier training failed: %s", type(task.exception()).__name__)


def _numbering_label(numbering: str) -> str:
    return {"n/N": "1/5, 2/5…", "n/": "1/, 2/…", "none": "no numbers"}.get(numbering, numbering)


def _with_notes(reply: Reply, notes: Sequence[str]) -> Reply:
    """A reply with notes for the owner on top (an engine that failed, a spent budget)."""
    if not notes:
        return reply
    return replace(reply, text="\n".join([*notes, reply.text]))


def _priority_line(priority: Priority) -> str:
    label = "needs a reply" if priority.needs_reply else "no reply needed"
    reasons = "; ".join(priority.reasons) or "nothing stands out"
    return f"Priority {priority.score:.2f} · {label} — {reasons}"


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render_draft(draft: Draft, priority: Priority | None) -> Reply:
    """The platform-neutral reply offering a draft with Send · Edit · Regenerate · Dismiss."""
    lines = []
    if priority is not None:
        lines.append(_priority_line(priority))
    lines.append(f"Drafts for {draft.incoming.sender}: “{_clip(draft.incoming.text, 120)}”")
    for number, option in enumerate(draft.options, start=1):
        lines.append(
            f"{number}. {option.text}   [sounds like you {option.style_score}/100 · {option.engine}]"
        )
    buttons: list[Button] = []
    for number in range(len(draft.options)):
        label = "Send" if len(draft.options) == 1 else f"Send {number + 1}"
        buttons.append(Button(label=label, action=Action.SEND, draft_id=draft.id, option=number))
    buttons += [
        Button(label="Edit", action=Action.EDIT, draft_id=draft.id),
        Button(label="Regenerate", action=Action.REGENERATE, draft_id=draft.id),
        Button(label="Dismiss", action=Action.DISMISS, draft_id=draft.id),
    ]
    return Reply(text="\n".join(lines), buttons=tuple(buttons), draft=draft, priority=priority)
