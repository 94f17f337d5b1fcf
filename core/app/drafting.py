"""Drafting: replies in the owner's voice from their own past replies, and from a language model
when one is configured (within the token budget)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.app.context import AppContext
from core.app.models import ModelCache, PersonaModel
from core.drafting.acts import classify_act, classify_acts, needs_reply_by_act
from core.drafting.context import MAX_EXEMPLARS, conversation_query, reply_context
from core.drafting.language import foreign_language, foreign_language_note
from core.drafting.llm import BudgetExceeded, LLMDrafter, ModelError, merge_options
from core.drafting.retrieval import FittedDraft, RetrievalDrafter, tokens
from core.models import (
    Account,
    AccountId,
    Draft,
    DraftOption,
    DraftStatus,
    Message,
    Persona,
    UserRef,
)
from core.ports import Embedder, Vector
from core.teams import avoided, identity_lines, mentions_topic

FEW_REPLIES = 20
"""Below this many past replies (with the message they answer) drafts are a labelled best effort."""


def best_effort_note(replies: int) -> str:
    """What the owner is told when drafts come from very few of their past replies."""
    what = "one reply" if replies == 1 else f"{replies} replies"
    return (
        f"Best effort: I have only {what} of yours to draft from, so these may not fit. "
        "Import more of your chats (`train <export>`) for drafts that do."
    )


_DRAFT_IDS = uuid.UUID("5f0c3b7e-9d1a-4c55-8a3e-6b1f2d9e7c40")


def draft_id_for(account_id: AccountId, delivery: str) -> str:
    """The id of the draft made for one delivery: the same on every retry of it."""
    return uuid.uuid5(_DRAFT_IDS, f"{account_id}:{delivery}").hex


NOTHING_FITS = (
    "Nothing you have written before answers this message. Your closest real exchange is below "
    "as a starting point: edit it, or write your own."
)


@dataclass(frozen=True, slots=True)
class DraftResult:
    """Options for one message and notes for the owner (an engine that failed, a spent budget).

    ``offered`` is False when no candidate passed the reply-fit gate: ``options`` then holds only
    the closest real exchange's reply, labelled as such, and ``best`` the best-fitting candidate
    (what ``minime draft`` reports as the draft either way).
    """

    options: list[DraftOption]
    notes: list[str]
    offered: bool = True
    best: DraftOption | None = None
    language: str | None = None
    """The message's language when the owner does not write in it: no options, on purpose (the
    notes say so)."""
    unasked: str | None = None
    """For an unsolicited draft, the message's dialogue act when it needs no reply (thanks, fyi,
    a joke): no options, on purpose (the owner can still ask with ``draft``)."""


DraftGuard = Callable[[Account, Persona, Message, DraftResult], Awaitable[DraftResult]]
"""Looks at a drafting result before it is shown, and may leave options out or reorder them."""
PromptNotes = Callable[[Account, Persona, Message], Awaitable[list[str]]]
"""Lines about the owner for the language model's prompt (the owner's own words, not data)."""


class Drafting:
    """Candidate replies for one message, and the pending drafts that offer them."""

    def __init__(
        self,
        ctx: AppContext,
        models: ModelCache,
        *,
        drafter: RetrievalDrafter,
        llm: LLMDrafter | None,
    ) -> None:
        self._ctx = ctx
        self._models = models
        self._drafter = drafter
        self._llm = llm
        self._told_unreadable: dict[str, int] = {}
        self.prompt_notes: list[PromptNotes] = []
        """What the language model is told besides the profile (the owner's corrections)."""
        self.guards: list[DraftGuard] = []
        """Checks every result passes before it is shown (the owner's values: ``core/app/values.py``)."""

    @property
    def has_llm(self) -> bool:
        """Whether a language model is configured."""
        return self._llm is not None

    async def draft_options(
        self,
        account: Account,
        persona: Persona,
        incoming: Message,
        *,
        exclude: frozenset[str] = frozenset(),
        context: Sequence[Message] = (),
    ) -> list[DraftOption]:
        """Candidate replies in the owner's voice (see :meth:`drafts`)."""
        return (
            await self.drafts(account, persona, incoming, exclude=exclude, context=context)
        ).options

    async def drafts(
        self,
        account: Account,
        persona: Persona,
        incoming: Message,
        *,
        exclude: frozenset[str] = frozenset(),
        context: Sequence[Message] = (),
        solicited: bool = True,
    ) -> DraftResult:
        """Up to three replies in the owner's voice, and notes for the owner.

        ``context`` holds the earlier messages of the conversation (oldest first): a short
        follow-up is looked up together with them (:func:`conversation_query`), and the language
        model sees them. With ``solicited=False`` (a message that arrived, not one the owner
        asked about), a message whose dialogue act needs no reply (thanks, fyi, a joke) gets no
        options and ``unasked`` says why.

        The retrieval engine always runs (one encoder pass, exact top-k, the verifier scoring
        known reply vectors); with a language model configured its best candidates lead and the
        owner's own replies follow. A failed model or a spent token budget leaves the retrieval
        options and a note saying why; so does stored data that could not be read (it is left
        out, and said once).
        """
        result = await self._drafts(
            account, persona, incoming, exclude=exclude, context=context, solicited=solicited
        )
        if result.unasked is not None:
            return result
        topics = avoided(await self._ctx.stores.identity.attributes(account.id, persona.id))
        if topics:  # the option gate: a topic the persona avoids is never offered (issue 17)
            result = await self._avoiding(
                result, topics, account, persona, incoming, exclude=exclude, context=context
            )
        for guard in self.guards:
            result = await guard(account, persona, incoming, result)
        result.notes.extend(await self._unreadable_note(account))
        return result

    async def _avoiding(
        self,
        result: DraftResult,
        topics: Sequence[str],
        account: Account,
        persona: Persona,
        incoming: Message,
        *,
        exclude: frozenset[str],
        context: Sequence[Message],
    ) -> DraftResult:
        """``result`` without options that mention an avoided topic, refilled (twice at most)
        from candidates that do not; a note when none is left."""
        kept = [o for o in result.options if mentions_topic(o.text, topics) is None]
        dropped = frozenset(o.text for o in result.options) - {o.text for o in kept}
        for _ in range(2):
            if not dropped or len(kept) >= len(result.options):
                break
            exclude = exclude | dropped | {o.text for o in kept}
            more = await self._drafts(account, persona, incoming, exclude=exclude, context=context)
            fresh = [o for o in more.options if mentions_topic(o.text, topics) is None]
            kept += fresh[: len(result.options) - len(kept)]
            dropped = frozenset(o.text for o in more.options) - {o.text for o in fresh}
        best = result.best
        if best is not None and mentions_topic(best.text, topics) is not None:
            best = kept[0] if kept else None
        notes = list(result.notes)
        if not kept and result.options:
            notes.append(
                "Every reply I found touches a topic this persona avoids "
                f"({', '.join(topics)}); write your own."
            )
        return replace(
            result, options=kept, notes=notes, best=best, offered=result.offered and bool(kept)
        )

    async def best_effort(self, account: Account, persona: Persona) -> list[str]:
        """The caveat shown with drafts made from very few past replies (else nothing)."""
        replies = len((await self._models.get(account, persona)).index)
        return [best_effort_note(replies)] if 0 < replies < FEW_REPLIES else []

    async def _unreadable_note(self, account: Account) -> list[str]:
        """A note when more of the account's stored rows were found unreadable than said so far."""
        total = sum((await self._ctx.stores.vault.unreadable(account.id)).values())
        if total <= self._told_unreadable.get(account.id, 0):
            return []
        self._told_unreadable[account.id] = total
        items = f"{total} stored item was" if total == 1 else f"{total} stored items were"
        return [
            f"{items} unreadable (altered or damaged) and left out; the rest is intact. "
            "`privacy export` counts them by kind."
        ]

    async def _drafts(
        self,
        account: Account,
        persona: Persona,
        incoming: Message,
        *,
        exclude: frozenset[str],
        context: Sequence[Message],
        solicited: bool = True,
    ) -> DraftResult:
        model = await self._models.get(account, persona)
        foreign = await asyncio.to_thread(
            lambda: foreign_language(incoming.text, model.known_languages())
        )
        if foreign is not None:
            # An English answer to a message in a language the owner never writes in would not
            # be theirs: say so instead.
            return DraftResult(options=[], notes=[foreign_language_note(foreign)], language=foreign)
        if not len(model.index) and self._llm is None:
            return DraftResult(options=[], notes=[])

        fitted: list[FittedDraft] = []
        unasked: list[str] = []

        def retrieve() -> tuple[Vector, list[DraftOption]]:
            earlier = [m for m in context if m.text.strip()]
            vectors = self._ctx.embedder.encode([incoming.text, *(m.text for m in earlier)])
            if not solicited:
                act = classify_act(incoming.text, vectors[0])
                if not needs_reply_by_act(act):
                    unasked.append(act)
                    return vectors[0], []
            query = conversation_query(vectors[0], incoming.text, earlier, vectors[1:])
            if not len(model.index):
                return query, []
            if model.fit is not None:
                result = self._drafter.draft_fitted(
                    model.index,
                    text=incoming.text,
                    sender=incoming.sender,
                    query=query,
                    fit=model.fit,
                    style=model.style,
                    encode=(model.encoder or self._ctx.embedder).encode,
                    exclude=exclude,
                    negatives=model.negatives,
                )
                fitted.append(result)
                return query, list(result.options)
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
        if unasked:
            return DraftResult(options=[], notes=[], offered=False, unasked=unasked[0])
        notes: list[str] = []
        if self._llm is None:
            if fitted and not fitted[0].offered:
                return _nothing_fits(fitted[0])
            best = fitted[0].best if fitted else (retrieved[0] if retrieved else None)
            return DraftResult(options=retrieved, notes=notes, best=best)
        generated: list[DraftOption] = []
        try:
            generated = await self._llm_reply(
                account, persona, model, incoming, query, exclude, context, retrieved
            )
            if generated and model.fit is not None:
                gated = await asyncio.to_thread(
                    gate_generated, generated, model, incoming.text, query, self._ctx.embedder
                )
                if not gated:
                    notes.append(LLM_DID_NOT_FIT)
                generated = gated
        except BudgetExceeded as error:
            notes.append(
                f"Language model skipped: {error}. These drafts come from your own past replies."
            )
        except ModelError as error:
            notes.append(
                f"The language model failed ({error}); these drafts come from your own past replies."
            )
        if not generated and fitted and not fitted[0].offered:
            nothing = _nothing_fits(fitted[0])
            return replace(nothing, notes=[*notes, *nothing.notes])
        return DraftResult(options=merge_options(generated, retrieved), notes=notes)

    async def _llm_reply(
        self,
        account: Account,
        persona: Persona,
        model: PersonaModel,
        incoming: Message,
        query: Vector,
        exclude: frozenset[str],
        conversation: Sequence[Message],
        retrieved: Sequence[DraftOption],
    ) -> list[DraftOption]:
        assert self._llm is not None
        profile = await self._models.style_profile(account, persona, model)
        hits = model.index.nearest(query, tokens(incoming.text), k=MAX_EXEMPLARS)
        context = reply_context(
            owner=model.owner_name(persona),
            profile=profile,
            index=model.index,
            sender=incoming.sender,
            nearest=[position for _, position in hits],
            conversation=conversation,
            candidates=[(o.text, o.act) for o in retrieved],
        )
        attributes = await self._ctx.stores.identity.attributes(account.id, persona.id)
        context = replace(context, identity=tuple(identity_lines(attributes)))
        notes = [n for hook in self.prompt_notes for n in await hook(account, persona, incoming)]
        if notes:
            context = replace(context, habits=[*context.habits, *notes])
        known = [
            model.index.reply_vectors[model.index.pairs[p].reply_text]
            for _, p in hits
            if model.index.pairs[p].reply_text in model.index.reply_vectors
        ]
        encoder = model.encoder or self._ctx.embedder
        async with self._models.spending(account):
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

    async def keep(
        self,
        draft_id: str,
        *,
        account: Account,
        persona: Persona,
        incoming: Message,
        options: Sequence[DraftOption],
        owner: UserRef,
    ) -> Draft:
        """Store a new pending draft offering ``options`` for ``incoming``."""
        draft = Draft(
            id=draft_id,
            account_id=account.id,
            persona_id=persona.id,
            incoming=incoming,
            options=tuple(options),
            status=DraftStatus.PENDING,
            created_at=self._ctx.clock(),
            owner=owner,
        )
        await self._ctx.stores.drafts.create(draft)
        return draft


LLM_DID_NOT_FIT = (
    "The language model's drafts did not answer this message well enough to show; these come "
    "from your own past replies."
)


def gate_generated(
    generated: Sequence[DraftOption],
    model: PersonaModel,
    text: str,
    query: Vector,
    embedder: Embedder,
) -> list[DraftOption]:
    """The language model's options that pass the owner's reply-fit gate, as retrieval's do,
    each with its "fits" meter and dialogue act (an option that does not answer the message
    is not shown, whoever wrote it)."""
    fit = model.fit
    if fit is None or not generated:
        return list(generated)
    texts = [o.text for o in generated]
    vectors = (model.encoder or embedder).encode(texts)
    probability = fit.probabilities(
        text, query, texts, vectors, model.index.precedents(query, texts)
    )
    acts = classify_acts(texts, vectors)
    return [
        replace(option, fit=round(100 * float(p)), act=act)
        for option, p, act in zip(generated, probability, acts, strict=True)
        if fit.passes(float(p))
    ]


def _nothing_fits(result: FittedDraft) -> DraftResult:
    """No option passed the gate: the closest real exchange as a starting point, said so."""
    fallback = result.fallback
    if fallback is None:
        return DraftResult(options=[], notes=[NOTHING_FITS], offered=False, best=result.best)
    closest = result.closest
    reason = (
        f"closest real exchange: {closest.incoming_sender} wrote \u201c{_short(closest.incoming_text)}\u201d"
        if closest is not None
        else "your best match, though it does not fit well"
    )
    option = replace(fallback, reasons=(reason, *fallback.reasons))
    return DraftResult(options=[option], notes=[NOTHING_FITS], offered=False, best=result.best)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
