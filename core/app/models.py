"""The per-persona model cache: what a persona needs in memory to triage and draft.

One :class:`ModelCache` owns every model the clone keeps per (account, persona): the exemplar
index, the style scorer (and the verifier training in the background), the prioritiser (restored
from and saved to the StateStore), the negatives, the style profile for prompts and the LLM
token budget. Its lifecycle: :meth:`ModelCache.get` builds on first use, :meth:`ModelCache.forget`
drops what changed, :meth:`ModelCache.settle` waits for background training, :meth:`ModelCache.aclose`
stops it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from core.app.context import (
    AppContext,
    LearningPriority,
    PriorityFactory,
    PriorityModel,
    ProfileCard,
    StyleFactory,
    UndoablePriority,
)
from core.app.conversations import RecentMessages
from core.app.history import OwnerHistory, Text, owner_history, replay
from core.app.indexes import GraphSaver, build_index
from core.drafting import composer
from core.drafting.fit import FitWeights, ReplyFit, global_weights
from core.drafting.language import owner_languages
from core.drafting.llm import LLMDrafter, ModelError, TokenBudget
from core.drafting.meters import StyleMeter
from core.drafting.retrieval import ExemplarIndex, Negative, StyleScorer, fit_for
from core.drafting.safety import hosts_in
from core.drafting.state import pack_state, stale, unpack_state
from core.drafting.style import (
    MAX_VERIFIER_OTHERS,
    MAX_VERIFIER_OWNER,
    MIN_VERIFIER_SAMPLES,
    KnownVectors,
    forget_trained,
    train_style_cached,
)
from core.engines.embedding import precomputed
from core.models import (
    Account,
    AccountId,
    FeedbackKind,
    IncomingMessage,
    Persona,
    PersonaId,
    UserRef,
)
from core.ports import Embedder, Vector
from core.profiling.profile import StyleProfile
from core.verifier import StyleVerifier

log = logging.getLogger(__name__)
LANGUAGE_SAMPLE = 2000
"""The owner's latest messages read to tell the languages they write in (about a second)."""

VERIFIER_STATE = "verifier"
PROFILE_STATE = "profile"
BUDGET_STATE = "llm-budget"
PRIORITISER_STATE = "prioritiser"
FIT_STATE = "reply-fit"
METER_SAMPLE = 1000
"""Owner replies the style meter is placed among (evenly spread over their history)."""
MAX_NEGATIVES = 300
"""Most recent dismissed/regenerated options remembered as negative signal."""
_PRIORITY_MAGIC = b"MPR1"

Key = tuple[AccountId, PersonaId]


@dataclass(slots=True)
class PersonaModel:
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
    languages: frozenset[str] | None = None
    """The languages the owner writes in (from their latest messages); empty when unknown,
    ``None`` until :meth:`known_languages` tells them."""
    language_sample: tuple[str, ...] = ()
    """The owner's latest messages, kept until their languages are told."""
    profile: object | None = None
    """The persona's StyleProfile, built on first LLM use (None until then)."""
    posts: composer.PostCorpus | None = None
    """The owner's own posts and sentences, for ``post`` and ``ask`` (built on first use)."""
    fit: ReplyFit | None = None
    """The reply-fit model adapted to the owner (None: the embedder does not match the shipped
    weights, and drafting falls back to similar-message retrieval)."""

    def known_languages(self) -> frozenset[str]:
        """The languages the owner writes in, told on first use (about a second: the detector's
        model loads then, not while an import trains; :meth:`ModelCache.warm` asks early)."""
        if self.languages is None:
            self.languages = owner_languages(self.language_sample)
            self.language_sample = ()
        return self.languages

    def owner_name(self, persona: Persona) -> str:
        """How prompts name the owner."""
        names = persona.owner_names or self.owner_names
        return names[0] if names else "the owner"


def _pack_priority(history_size: int, payload: bytes) -> bytes:
    return _PRIORITY_MAGIC + history_size.to_bytes(8, "big") + payload


def _unpack_priority(data: bytes | None) -> tuple[int, bytes] | None:
    if not data or not data.startswith(_PRIORITY_MAGIC) or len(data) < 12:
        return None
    return int.from_bytes(data[4:12], "big"), data[12:]


def _log_training_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("style verifier training failed: %s", type(task.exception()).__name__)


def _log_styling_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("scoring the owner's replies failed: %s", type(task.exception()).__name__)


def metered(verifier: StyleVerifier, index: ExemplarIndex) -> StyleScorer:
    """The verifier as the "sounds like you" meter: its raw value placed among the owner's own
    replies (their vectors are known), so the options of a card read different values; the raw
    verifier when there are too few replies to place it among."""
    replies = list(dict.fromkeys(p.reply_text for p in index.pairs if p.reply_text.strip()))
    if len(replies) > METER_SAMPLE:
        step = len(replies) / METER_SAMPLE
        replies = [replies[int(k * step)] for k in range(METER_SAMPLE)]
    try:
        return StyleMeter.calibrate(verifier, replies)
    except ValueError:
        return verifier


class ModelCache:
    """Every persona's models, built once from the stores and kept until their data changes."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        priority_factory: PriorityFactory,
        style_factory: StyleFactory,
        verifier_background: Callable[[], Sequence[str]] | None,
        llm_budget: TokenBudget | None,
        profile_card: ProfileCard | None,
        fit_weights: Callable[[], FitWeights] | None = None,
    ) -> None:
        self._ctx = ctx
        self._fit_weights = fit_weights or global_weights
        self._priority_factory = priority_factory
        self._style_factory = style_factory
        # With a background (bootstrap wires the shipped writers), each persona gets a trained
        # StyleVerifier, persisted under StateStore kind "verifier"; without one, the surface scorer.
        self._verifier_background = verifier_background
        self._llm_budget = llm_budget
        self._profile_card = profile_card
        self._models: dict[Key, PersonaModel] = {}
        self._previous: dict[Key, ExemplarIndex] = {}
        """Indexes of personas forgotten for new messages: the rebuild extends them in place
        when only new pairs came (a graph over 100k+ pairs takes minutes to build again)."""
        self._history_sizes: dict[Key, int] = {}
        self.training: dict[Key, asyncio.Task[None]] = {}
        """Background verifier training per persona (one at a time each)."""
        self.styling: dict[Key, asyncio.Task[None]] = {}
        """Background scoring of each persona's distinct replies by its current style scorer
        (:meth:`ExemplarIndex.follow_style`: drafts then look the scores up)."""
        self._locks: dict[Key, asyncio.Lock] = {}
        self._trained_styles: dict[Key, StyleScorer] = {}
        """Verifiers whose training ended before their persona's model was built."""
        self.recent = RecentMessages()
        """The last messages seen per conversation (the context of drafts; memory only)."""
        self.graphs = GraphSaver(ctx)
        """Saves the personas' search graphs once built (a restart reads them back)."""

    # ----------------------------------------------------------------- lifecycle

    def built(self) -> list[Key]:
        """The (account, persona) pairs whose models are in memory."""
        return list(self._models)

    def cached(self, account_id: AccountId, persona_id: PersonaId) -> PersonaModel | None:
        """The persona's models if they are built (never builds)."""
        return self._models.get((account_id, persona_id))

    async def get(self, account: Account, persona: Persona) -> PersonaModel:
        """The persona's models, built from the stores on first use (once, under a lock)."""
        key = (account.id, persona.id)
        cached = self._models.get(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._models.get(key)
            if cached is None:
                cached = await self._build(account, persona)
                fresh = self._trained_styles.pop(key, None)
                if fresh is not None:
                    cached.style = fresh
                self._models[key] = cached
                self._follow_style(key, cached)
            return cached

    def _follow_style(self, key: Key, model: PersonaModel) -> None:
        """Score the persona's distinct replies with its style scorer in the background (again
        if the scorer was swapped meanwhile); drafts score by themselves until then."""

        async def follow() -> None:
            while True:
                style = model.style
                await asyncio.to_thread(model.index.follow_style, style)
                if model.style is style:
                    return

        task = asyncio.get_running_loop().create_task(follow())
        self.styling[key] = task
        task.add_done_callback(_log_styling_failure)

    def forget(
        self, account_id: AccountId, persona_id: PersonaId | None = None, *, learned: bool = False
    ) -> None:
        """Drop cached models so the next use rebuilds them from the stores.

        ``learned``: the persona only gained new messages (the owner's live replies), so its
        exemplar index is kept aside and extended in place by the rebuild when the stored pairs
        still start with the ones it holds; anything else (an import, an erase, a deletion)
        drops it with the rest.
        """
        for key in {*self._models, *self._trained_styles, *self._previous}:
            if key[0] == account_id and (persona_id is None or key[1] == persona_id):
                model = self._models.pop(key, None)
                self._trained_styles.pop(key, None)
                self._previous.pop(key, None)
                self.graphs.cancel(key)
                if model is not None and learned and persona_id is not None:
                    self._previous[key] = model.index
        if persona_id is None:
            forget_trained(account_id)
            self.recent.forget(account_id)

    async def warm(self, owners: Sequence[UserRef] = ()) -> list[Persona]:
        """Load what the first draft would otherwise wait for, before it arrives.

        The encoder first (its model file and libraries load in a worker thread, off the event
        loop), then the active persona of each of ``owners`` that has an account (none is
        created): its exemplar index, style scorer and prioritiser. Meant to run in the
        background once the process is ready, so the first draft after a restart costs what
        the tenth does. Returns the personas it loaded.
        """
        await asyncio.to_thread(self._ctx.embedder.encode, ["warm up"])
        loaded = []
        for owner in owners:
            account = await self._ctx.stores.accounts.resolve(owner, create=False)
            if account is None:
                continue
            persona = await self._ctx.active_persona(account)
            model = await self.get(account, persona)
            await asyncio.to_thread(model.known_languages)
            loaded.append(persona)
        return loaded

    async def settle(self) -> None:
        """Wait for background training (verifiers) to finish: for one-shot CLI runs and tests."""
        while pending := [
            t for t in (*self.training.values(), *self.styling.values()) if not t.done()
        ]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop background training (its results are dropped)."""
        tasks = [*self.training.values(), *self.styling.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.training.clear()
        self.styling.clear()
        await self.graphs.aclose()

    # ----------------------------------------------------------------- building

    async def _build(self, account: Account, persona: Persona) -> PersonaModel:
        stores = self._ctx.stores
        previous = self._previous.pop((account.id, persona.id), None)
        index = await build_index(self._ctx, account, persona, previous)
        self.graphs.watch((account.id, persona.id), index)
        # The history is streamed, never held whole: the owner's messages are read once, and
        # every message is replayed page by page into the prioritiser (core.app.history).
        owner = await owner_history(stores.messages, account.id, persona.id)
        owner_texts = [t.text for t in owner.texts]
        encoder = KnownVectors(self._ctx.embedder, index.reply_vectors)
        owner_names = tuple(dict.fromkeys((*persona.owner_names, *owner.names)))
        settings = dict(account.settings)
        replayed = await replay(
            stores.messages,
            account.id,
            persona.id,
            lambda history: self._priority_factory(history, owner_names, settings),
            sample=MAX_VERIFIER_OTHERS,
        )
        style = await self._style(account, persona, owner, replayed.others, encoder, index)
        priority = replayed.result
        await self._restore_priority(account, persona, priority, replayed.size)
        return PersonaModel(
            index=index,
            style=style,
            priority=priority,
            owner_names=owner_names,
            encoder=encoder,
            negatives=await self._negatives(account, persona),
            allowed_hosts=hosts_in(owner_texts),
            owner_texts=len(owner_texts),
            fit=await self._fit(account, persona, index),
            language_sample=tuple(owner_texts[-LANGUAGE_SAMPLE:]),
        )

    async def _fit(
        self, account: Account, persona: Persona, index: ExemplarIndex
    ) -> ReplyFit | None:
        """The owner-adapted reply-fit model: from the StateStore (kind ``reply-fit``) while the
        exemplars have not grown by a quarter, else adapted now (seconds) and stored."""
        try:
            weights = await asyncio.to_thread(self._fit_weights)
        except (OSError, ValueError, KeyError):
            log.warning("reply-fit weights unreadable; drafting by similar messages only")
            return None
        if weights.dim != self._ctx.embedder.dim or not len(index):
            return None
        state = self._ctx.stores.state
        stored = unpack_state(await state.get(account.id, persona.id, FIT_STATE))
        if stored is not None and not stale(stored[0], len(index)):
            try:
                return ReplyFit.from_bytes(stored[1], weights=weights)
            except (ValueError, KeyError):
                log.warning("stored reply-fit model unreadable; adapting again")
        fit = await asyncio.to_thread(fit_for, index, weights)
        await state.put(account.id, persona.id, FIT_STATE, pack_state(len(index), fit.to_bytes()))
        return fit

    async def _style(
        self,
        account: Account,
        persona: Persona,
        owner: OwnerHistory,
        others: list[Text],
        encoder: Embedder,
        index: ExemplarIndex,
    ) -> StyleScorer:
        """The persona's "sounds like you" scorer.

        Its trained verifier when the StateStore holds a fresh one; otherwise the surface scorer
        for now, and the verifier trains in the background (it swaps in when ready and is kept
        under kind ``verifier``). A stored verifier stays in use until the owner's texts grew by a
        quarter (:func:`core.drafting.state.stale`); then it keeps scoring while its successor
        trains. Imports and first drafts never wait for training; :meth:`settle` does.
        ``others`` is a sample of other senders' messages (the verifier's negatives).
        """
        owned = [t for t in owner.texts if t.text.strip()]
        owner_texts = [t.text for t in owned]
        surface = await asyncio.to_thread(self._style_factory, owner_texts)
        if self._verifier_background is None or len(owner_texts) < MIN_VERIFIER_SAMPLES:
            return surface
        stored = unpack_state(await self._ctx.derived_state(account.id, persona.id, VERIFIER_STATE))
        scorer: StyleScorer = surface
        if stored is not None:
            try:
                # Unpickling imports scikit-learn the first time: off the event loop.
                verifier = await asyncio.to_thread(
                    StyleVerifier.from_bytes, stored[1], embedder=encoder
                )
                scorer = await asyncio.to_thread(metered, verifier, index)
            except ValueError:
                log.warning("stored style verifier unreadable; retraining")
                stored = None
        if stored is None or stale(stored[0], len(owner_texts)):
            self._train_later((account.id, persona.id), owned, others, encoder, index)
        return scorer

    def _train_later(
        self,
        key: Key,
        owner: list[Text],
        others: list[Text],
        encoder: Embedder,
        index: ExemplarIndex,
    ) -> None:
        running = self.training.get(key)
        if running is not None and not running.done():
            return
        background = self._verifier_background
        stores = self._ctx.stores
        embedder = self._ctx.embedder
        account_id, persona_id = key
        newest = owner[-MAX_VERIFIER_OWNER:]

        async def train() -> None:
            assert background is not None
            # Every text embedded once: the owner's and the sampled others' vectors come from
            # the vector store when an earlier build embedded them (else they are embedded now
            # and kept there), the owner's replies from the index, the shipped background's
            # from the vectors precomputed beside the encoder's model.
            texts = list(background())
            known = await self._training_vectors(account_id, persona_id, newest + others, encoder)
            shipped = await asyncio.to_thread(precomputed, embedder, "background", texts)
            known.update(zip(texts, shipped, strict=True))
            trained = await asyncio.to_thread(
                train_style_cached,
                [t.text for t in newest],
                [t.text for t in others],
                texts,
                embedder=KnownVectors(encoder, known, remember=0),
                account_id=account_id,
            )
            if not isinstance(trained, StyleVerifier):
                return
            if await stores.personas.get(account_id, persona_id) is None:
                return  # erased or deleted while training
            data = trained.to_bytes()
            await stores.state.put(
                account_id, persona_id, VERIFIER_STATE, pack_state(len(owner), data)
            )
            # It scores with the persona's encoder (the training vectors are not kept).
            scorer = StyleVerifier.from_bytes(data, embedder=encoder)
            styled = await asyncio.to_thread(metered, scorer, index)
            # The replies' scores by the new meter are ready before it swaps in (drafts look
            # them up for this very scorer; the old one's are never read for it).
            await asyncio.to_thread(index.follow_style, styled)
            model = self._models.get(key)
            if model is not None:
                model.style = styled
            else:  # finished while the model was still being built: get() swaps it in
                self._trained_styles[key] = styled

        task = asyncio.get_running_loop().create_task(train())
        self.training[key] = task
        task.add_done_callback(_log_training_failure)

    async def _training_vectors(
        self, account_id: AccountId, persona_id: PersonaId, items: list[Text], encoder: Embedder
    ) -> dict[str, Vector]:
        """Vectors of ``items`` by text: stored ones read back, the rest embedded in one call
        and stored (by message id) for the next training."""
        vectors = self._ctx.stores.vectors
        by_id = {t.id: t.text for t in items}
        found_ids, found = await vectors.get(account_id, persona_id, list(by_id))
        known = {by_id[i]: found[row] for row, i in enumerate(found_ids)}
        missing = [i for i in by_id if by_id[i] not in known]
        if missing:
            fresh = await asyncio.to_thread(encoder.encode, [by_id[i] for i in missing])
            if await self._ctx.stores.personas.get(account_id, persona_id) is not None:
                await vectors.put(account_id, persona_id, missing, fresh)
            known.update(zip((by_id[i] for i in missing), fresh, strict=True))
        return known

    async def _negatives(self, account: Account, persona: Persona) -> list[Negative]:
        """The options of drafts the owner dismissed or regenerated away, with the message each
        draft answered (the most recent :data:`MAX_NEGATIVES`)."""
        stores = self._ctx.stores
        rejected = [
            f.draft_id
            for f in await stores.feedback.list(account.id, persona.id)
            if f.kind in (FeedbackKind.DISMISSED, FeedbackKind.REGENERATED) and f.draft_id
        ]
        shown: list[tuple[str, str]] = []
        for draft_id in list(dict.fromkeys(reversed(rejected)))[:MAX_NEGATIVES]:
            draft = await stores.drafts.get(account.id, draft_id)
            if draft is not None:
                shown += [(draft.incoming.text, o.text) for o in draft.options]
        if not shown:
            return []
        texts = list(dict.fromkeys(text for text, _ in shown))
        vectors = await asyncio.to_thread(self._ctx.embedder.encode, texts)
        by_text = dict(zip(texts, vectors, strict=True))
        return [Negative(query=by_text[text], text=option) for text, option in shown][
            -MAX_NEGATIVES:
        ]

    def add_negatives(
        self, account_id: AccountId, persona_id: PersonaId, query: Vector, texts: Sequence[str]
    ) -> None:
        """Options the owner just rejected count at once in the cached model (if built)."""
        model = self._models.get((account_id, persona_id))
        if model is not None:
            model.negatives += [Negative(query=query, text=text) for text in texts]
            del model.negatives[:-MAX_NEGATIVES]

    # ----------------------------------------------------------------- the prioritiser

    async def _restore_priority(
        self, account: Account, persona: Persona, priority: PriorityModel, history_size: int
    ) -> None:
        """Continue the persona's learned prioritiser from the StateStore (online labels
        included) while its history has not grown by a quarter; else keep the fresh one."""
        self._history_sizes[(account.id, persona.id)] = history_size
        if not isinstance(priority, LearningPriority):
            return
        state = self._ctx.stores.state
        stored = _unpack_priority(
            await self._ctx.derived_state(account.id, persona.id, PRIORITISER_STATE)
        )
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

    async def learn_priority(
        self,
        account: Account,
        persona: Persona,
        incoming: IncomingMessage,
        label: str,
        *,
        latency_s: float | None,
    ) -> None:
        """Teach the persona's prioritiser one label at once and save it (if it learns)."""
        model = await self.get(account, persona)
        if not isinstance(model.priority, LearningPriority):
            return
        model.priority.learn(incoming, label, latency_s=latency_s)
        size = self._history_sizes.get((account.id, persona.id), 0)
        await self._ctx.stores.state.put(
            account.id, persona.id, PRIORITISER_STATE, _pack_priority(size, model.priority.dump())
        )

    async def undo_priority_tap(self, account: Account, persona: Persona) -> str | None:
        """Take back the owner's latest one-tap feedback and save the model; what it was, or
        ``None`` when there is nothing to undo."""
        model = await self.get(account, persona)
        priority = model.priority
        if not isinstance(priority, UndoablePriority) or not isinstance(priority, LearningPriority):
            return None
        undone = priority.undo_tap()
        if undone is not None:
            size = self._history_sizes.get((account.id, persona.id), 0)
            await self._ctx.stores.state.put(
                account.id, persona.id, PRIORITISER_STATE, _pack_priority(size, priority.dump())
            )
        return undone

    # ----------------------------------------------------------------- for the language model

    async def style_profile(
        self, account: Account, persona: Persona, model: PersonaModel
    ) -> StyleProfile | None:
        """The persona's profile for prompts: from the StateStore while fresh, else rebuilt."""
        if isinstance(model.profile, StyleProfile):
            return model.profile
        if self._profile_card is None or not model.owner_texts:
            return None
        stores = self._ctx.stores
        profile: StyleProfile | None = None
        data = await self._ctx.derived_state(account.id, persona.id, PROFILE_STATE)
        if data:
            try:
                profile = StyleProfile.from_json(json.loads(data))
            except (ValueError, KeyError, TypeError):
                profile = None
        if profile is None or stale(profile.messages, model.owner_texts):
            history = [m async for m in stores.messages.iter(account.id, persona.id)]
            built = await asyncio.to_thread(self._profile_card.profile, history)
            profile = built if isinstance(built, StyleProfile) else None
            if profile is not None:
                await stores.state.put(
                    account.id, persona.id, PROFILE_STATE, json.dumps(profile.to_json()).encode()
                )
        model.profile = profile
        return profile

    @asynccontextmanager
    async def spending(self, account: Account) -> AsyncIterator[None]:
        """Around a language model call: today's token count continues from the database
        (restarts, other workers) and is saved back, even when the call fails."""
        await self._restore_budget(account)
        try:
            yield
        finally:
            await self._save_budget(account)

    async def _budget_home(self, account: Account) -> Persona | None:
        personas = await self._ctx.stores.personas.list(account.id)
        return min(personas, key=lambda p: (p.created_at, p.id)) if personas else None

    async def _restore_budget(self, account: Account) -> None:
        if self._llm_budget is None:
            return
        home = await self._budget_home(account)
        if home is not None:
            data = await self._ctx.derived_state(account.id, home.id, BUDGET_STATE)
            self._llm_budget.restore(account.id, data)

    async def _save_budget(self, account: Account) -> None:
        if self._llm_budget is None:
            return
        home = await self._budget_home(account)
        if home is not None:
            await self._ctx.stores.state.put(
                account.id, home.id, BUDGET_STATE, self._llm_budget.dump(account.id)
            )


async def one_completion(
    models: ModelCache,
    llm: LLMDrafter,
    account: Account,
    model: PersonaModel,
    *,
    system: str,
    user: str,
    nonce: str,
    max_tokens: int,
    purpose: str,
) -> str | None:
    """One short completion under the account's daily token budget, or ``None`` when the model
    fails or answers nothing (logged with ``purpose``, never with the text)."""
    try:
        async with models.spending(account):
            texts = await llm.generate(
                account_id=account.id,
                system=system,
                user=user,
                nonce=nonce,
                allowed_hosts=model.allowed_hosts,
                n=1,
                max_tokens=max_tokens,
            )
    except ModelError as error:
        log.info("%s: the language model failed (%s)", purpose, error)
        return None
    return texts[0] if texts else None
