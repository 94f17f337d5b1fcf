"""Posts in the owner's voice (``post``), stored as drafts with a life.

With a language model the post is written from the persona's profile and the owner's closest
real posts; without one (or when it fails) the honest behaviour of drafting: the owner's own
closest real post on the topic, labelled as theirs, offered as the draft to edit (never
sentences stitched together), or, when nothing is close, how to configure a model.

Every post is stored (``draft``) and shown with Publish · Edit · Regenerate · Schedule ·
Dismiss (:mod:`core.app.post_cards`); the buttons are handled by :mod:`core.app.post_actions`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from core.app.context import NOT_TRAINED, PAUSED, AppContext
from core.app.models import ModelCache, PersonaModel
from core.app.post_cards import render_post
from core.app.post_stats import Preference, opener_kind, opener_preference
from core.app.rendering import clip
from core.commands import shell_words, split_options
from core.drafting import composer
from core.drafting.llm import BudgetExceeded, LLMDrafter, ModelError
from core.drafting.posts import PLATFORMS, Numbering, PostPlatform, platform_named, split_parts
from core.drafting.prompt import PromptContext, build_post_prompt
from core.drafting.safety import neutralise, new_nonce
from core.models import Account, CommandInvocation, FeedbackKind, Persona, Reply, UserRef
from core.post_times import parse_at
from core.privacy import Disclosure, disclosure_for
from core.publishing import (
    MAX_PARTS,
    Actor,
    Post,
    PostEvent,
    PostPart,
    PostStatus,
    is_post_id,
    new_post_id,
)
from core.scheduling import ScheduleError, is_timezone, schedule_of
from core.teams import avoided, identity_lines, mentions_topic

STARTING_POINTS = 3
"""The owner's own closest posts offered when no post is generated."""
MAX_TOPIC_CHARS = 300
MAX_VARIANTS = 2
CONFIGURE_MODEL = (
    "To have posts written in your voice, configure a language model (any OpenAI-compatible "
    "endpoint: OpenAI, Ollama, vLLM, llama.cpp server) with MINIME_LLM__BASE_URL and "
    "MINIME_LLM__MODEL."
)
USAGE = (
    'Usage: post <x|linkedin|bluesky> <topic> [--parts 1-9] [--persona P] [--at "fri 09:00"] '
    "[--tz Zone] [--variants 2]"
)
_OPTIONS = ("--parts", "--persona", "--at", "--tz", "--variants")


class PostRequestError(ValueError):
    """A ``post`` the owner typed that cannot be made; ``str()`` is for them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PostRequest:
    """A parsed ``post`` command."""

    platform: PostPlatform
    network: str
    topic: str
    parts: int | None
    persona: str | None
    at: str | None
    zone: str | None
    variants: int


def _number(value: str, option: str, low: int, high: int, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not low <= number <= high:
        raise PostRequestError(f"{option} takes {low} to {high} ({what}); you wrote '{value}'.")
    return number


def parse_post(text: str) -> PostRequest:
    """``x the launch --parts 3 --at "fri 09:00"`` → a :class:`PostRequest`.

    Raises:
        PostRequestError: an unknown network, no or an over-long topic, bad option values.
    """
    words, options = split_options(shell_words(text), _OPTIONS)
    if not words:
        raise PostRequestError(USAGE)
    platform = platform_named(words[0])
    if platform is None:
        raise PostRequestError(
            f"I don't post to '{clip(words[0], 30)}'. Choose x, linkedin or bluesky.\n{USAGE}"
        )
    network = next(key for key, value in PLATFORMS.items() if value is platform)
    topic = " ".join(words[1:]).strip()
    if not topic:
        raise PostRequestError(f"What should the {platform.name} post be about?\n{USAGE}")
    if len(topic) > MAX_TOPIC_CHARS:
        raise PostRequestError(
            f"That topic is {len(topic):,} characters; say what the post is about in at most "
            f"{MAX_TOPIC_CHARS} (a line or two). Nothing was made."
        )
    parts = None
    if "--parts" in options:
        parts = _number(options["--parts"], "--parts", 1, MAX_PARTS, "parts of a thread")
        if parts > 1 and not platform.threads:
            raise PostRequestError(
                f"{platform.name} doesn't thread: one post of up to {platform.limit:,} "
                "characters (--parts 1)."
            )
    variants = 1
    if "--variants" in options:
        variants = _number(options["--variants"], "--variants", 1, MAX_VARIANTS, "takes")
    return PostRequest(
        platform=platform,
        network=network,
        topic=topic,
        parts=parts,
        persona=options.get("--persona") or None,
        at=options.get("--at"),
        zone=options.get("--tz"),
        variants=variants,
    )


def fit_parts(
    text: str, platform: PostPlatform, numbering: Numbering, parts: int | None
) -> list[str]:
    """The text cut to the platform: exactly ``parts`` parts when asked and it fits, else the
    owner's usual split (a numbered thread where the platform needs one)."""
    clean = neutralise(text)
    if parts is not None:
        fitted = split_parts(clean, parts, limit=platform.limit, numbering=numbering)
        if fitted:
            return fitted
    return composer.finish(clean, platform, numbering)


@dataclass(frozen=True, slots=True, kw_only=True)
class Take:
    """One candidate post: its parts, which engine made it, its opener."""

    parts: list[str]
    engine: str
    variant: str | None = None


class Posts:
    """``post <x|linkedin|bluesky> <topic>``: a stored post in the owner's voice, on a card."""

    def __init__(self, ctx: AppContext, models: ModelCache, *, llm: LLMDrafter | None) -> None:
        self._ctx = ctx
        self._models = models
        self._llm = llm

    async def _corpus(
        self, account: Account, persona: Persona, model: PersonaModel
    ) -> composer.PostCorpus:
        """The owner's standalone messages with embeddings (kept in the VectorStore by id)."""
        if model.posts is not None:
            return model.posts
        stores, embedder = self._ctx.stores, self._ctx.embedder
        history = [m async for m in stores.messages.iter(account.id, persona.id, owner_only=True)]
        texts = [m.message.text for m in history]
        standalone = [m for m in history if m.message.reply_to is None and m.message.text.strip()]
        from_replies = not standalone
        chosen = (standalone or [m for m in history if m.message.text.strip()])[
            -composer.MAX_POSTS :
        ]
        ids, vectors = await stores.vectors.load(account.id, persona.id)
        row_of = {message_id: row for row, message_id in enumerate(ids)}
        missing = [m for m in chosen if m.message.id not in row_of]
        if missing:
            fresh = await asyncio.to_thread(embedder.encode, [m.message.text for m in missing])
            await stores.vectors.put(account.id, persona.id, [m.message.id for m in missing], fresh)
            ids, vectors = await stores.vectors.load(account.id, persona.id)
            row_of = {message_id: row for row, message_id in enumerate(ids)}
        matrix = (
            vectors[[row_of[m.message.id] for m in chosen]]
            if chosen
            else np.zeros((0, embedder.dim), dtype=np.float32)
        )
        corpus = composer.PostCorpus.build(
            [m.message.text for m in chosen],
            matrix,
            all_owner_texts=texts,
            from_replies=from_replies,
        )
        model.posts = corpus
        return corpus

    async def command(
        self, command: CommandInvocation, account: Account, text: str
    ) -> Reply | list[Reply]:
        """``post <network> <topic> [--parts N] [--persona P] [--at WHEN] [--tz Z] [--variants 2]``."""
        try:
            request = parse_post(text)
        except PostRequestError as error:
            return Reply(text=str(error))
        if account.paused:
            return Reply(text=PAUSED)
        persona = await self._persona(account, request.persona)
        if isinstance(persona, Reply):
            return persona
        avoid = avoided(await self._ctx.stores.identity.attributes(account.id, persona.id))
        if mentions_topic(request.topic, avoid) is not None:
            return Reply(
                text=f"Persona '{persona.name}' avoids {', '.join(avoid)}: no post on that."
            )
        zone = request.zone or schedule_of(account.settings).timezone
        at = None
        if not is_timezone(zone):
            return Reply(
                text=f"'{clip(zone, 40)}' is not a time zone I know; try Europe/Paris or "
                "America/New_York. Nothing was made."
            )
        if request.at is not None:
            try:
                at = parse_at(request.at, now=self._ctx.clock(), zone=zone)
            except ScheduleError as error:
                return Reply(text=f"{error} Nothing was made.")
        return await self.make(account, persona, request, owner=str(command.user), at=at, zone=zone)

    async def rejected(self, account: Account, persona_id: str) -> frozenset[str]:
        """Texts of the persona's posts the owner dismissed or regenerated: not offered again."""
        feedback = await self._ctx.stores.feedback.list(account.id, persona_id)
        return frozenset(
            f.text
            for f in feedback
            if f.text
            and f.draft_id is not None
            and is_post_id(f.draft_id)
            and f.kind in (FeedbackKind.DISMISSED, FeedbackKind.REGENERATED)
        )

    async def _persona(self, account: Account, name: str | None) -> Persona | Reply:
        if name is None:
            return await self._ctx.active_persona(account)
        personas = await self._ctx.stores.personas.list(account.id)
        for persona in personas:
            if persona.name.lower() == name.lower():
                return persona
        return Reply(
            text=f"No persona '{clip(name, 40)}'. You have: {', '.join(p.name for p in personas)}."
        )

    async def make(
        self,
        account: Account,
        persona: Persona,
        request: PostRequest,
        *,
        owner: str,
        at: datetime | None = None,
        zone: str,
        exclude: frozenset[str] = frozenset(),
    ) -> Reply | list[Reply]:
        """Write the post(s), store them as drafts and return their cards."""
        model = await self._models.get(account, persona)
        corpus = await self._corpus(account, persona, model)
        if not corpus.posts:
            return Reply(text=f"I have no messages of yours to write from yet. {NOT_TRAINED}")
        topic_vector = (await asyncio.to_thread(self._ctx.embedder.encode, [request.topic]))[0]
        exclude = exclude | await self.rejected(account, persona.id)
        similar = [(p, s) for p, s in corpus.similar(topic_vector, 8) if p not in exclude]
        notes: list[str] = []
        preference = await opener_preference(self._ctx, account, persona.id)
        takes: list[Take] = []
        if self._llm is not None:
            takes = await self._generated(
                account, persona, model, request, similar, corpus, notes, preference
            )
        if not takes:
            takes = self._own(request, corpus, similar)
            if not takes:
                return self._nothing_close(corpus, notes)
            why = (
                "The language model could not write it"
                if self._llm is not None
                else "No language model is configured, so I don't write new posts"
            )
            notes.append(
                f"{why}: this is your own closest past "
                f"{'reply' if corpus.from_replies else 'post'} on the topic, as a starting point."
            )
            if self._llm is None:
                notes.append(CONFIGURE_MODEL)
        elif preference is not None:
            notes.append(preference.note)
        return await self._stored(account, persona, model, request, takes, owner, at, zone, notes)

    async def _stored(
        self,
        account: Account,
        persona: Persona,
        model: PersonaModel,
        request: PostRequest,
        takes: list[Take],
        owner: str,
        at: datetime | None,
        zone: str,
        notes: list[str],
    ) -> Reply | list[Reply]:
        now = self._ctx.clock()
        platform_user, _, user_id = owner.partition(":")
        user = UserRef(platform=platform_user, user_id=user_id)
        group = uuid.uuid4().hex if len(takes) > 1 else None
        mode = disclosure_for(account.settings, persona_id=persona.id, platform=request.network)
        cards: list[Reply] = []
        for take in takes:
            scores = await asyncio.to_thread(model.style.score, take.parts)
            post = Post(
                id=new_post_id(),
                account_id=account.id,
                persona_id=persona.id,
                network=request.network,
                topic=request.topic,
                parts=tuple(
                    PostPart(text=text, style_score=score)
                    for text, score in zip(take.parts, scores, strict=True)
                ),
                status=PostStatus.DRAFT,
                created_at=now,
                owner=user,
                engine=take.engine,
                events=(PostEvent(status=PostStatus.DRAFT, actor=Actor.owner(user), at=now),),
                scheduled_for=at,
                variant=take.variant,
                group=group,
                disclosure=mode.value
                if take.engine == "llm" and mode is not Disclosure.NONE
                else None,
            )
            await self._ctx.stores.posts.create(post)
            cards.append(render_post(post, zone=zone, notes=tuple(notes) if not cards else ()))
        return cards[0] if len(cards) == 1 else cards

    def _own(
        self,
        request: PostRequest,
        corpus: composer.PostCorpus,
        similar: Sequence[tuple[str, float]],
    ) -> list[Take]:
        """No model: the owner's own closest real posts on the topic, as the draft to edit."""
        close = [post for post, sim in similar if sim >= composer.MIN_TOPIC_SIMILARITY]
        takes: list[Take] = []
        seen: set[str] = set()
        for post in close:
            kind = opener_kind(post)
            if request.variants > 1 and kind in seen:
                continue
            seen.add(kind)
            parts = fit_parts(post, request.platform, corpus.numbering, request.parts)
            takes.append(
                Take(parts=parts, engine="own", variant=kind if request.variants > 1 else None)
            )
            if len(takes) == request.variants:
                break
        return takes

    def _nothing_close(self, corpus: composer.PostCorpus, notes: list[str]) -> Reply:
        kind = "replies" if corpus.from_replies else "posts"
        why = (
            "The language model could not write it"
            if self._llm is not None
            else "No language model is configured, so I don't write new posts"
        )
        return Reply(
            text="\n".join(
                [
                    *notes,
                    f"{why}, and none of your past {kind} is close to this topic.",
                    CONFIGURE_MODEL,
                ]
            )
        )

    async def _generated(
        self,
        account: Account,
        persona: Persona,
        model: PersonaModel,
        request: PostRequest,
        similar: Sequence[tuple[str, float]],
        corpus: composer.PostCorpus,
        notes: list[str],
        preference: Preference | None,
    ) -> list[Take]:
        """The language model's takes (``[]`` and a note for the owner when it failed)."""
        try:
            texts = await self._llm_texts(account, persona, model, request, similar)
        except BudgetExceeded as error:
            notes.append(f"Language model skipped: {error}.")
            return []
        except ModelError as error:
            notes.append(f"The language model failed ({error}).")
            return []
        if not texts:
            return []
        scores = await asyncio.to_thread(model.style.score, texts)
        ranked = [text for _, text in sorted(zip(scores, texts, strict=True), reverse=True)]
        prefer = None if preference is None else preference.kind
        if prefer is not None:  # the owner's opener that did well first (post_stats)
            ranked.sort(key=lambda text: opener_kind(text) != prefer)
        takes: list[Take] = []
        seen: set[str] = set()
        for text in ranked:
            kind = opener_kind(text)
            if request.variants > 1 and kind in seen and len(ranked) - len(takes) > 1:
                continue
            seen.add(kind)
            parts = fit_parts(text, request.platform, corpus.numbering, request.parts)
            takes.append(
                Take(parts=parts, engine="llm", variant=kind if request.variants > 1 else None)
            )
            if len(takes) == request.variants:
                break
        return takes

    async def _llm_texts(
        self,
        account: Account,
        persona: Persona,
        model: PersonaModel,
        request: PostRequest,
        similar: Sequence[tuple[str, float]],
    ) -> list[str]:
        assert self._llm is not None
        platform = request.platform
        profile = await self._models.style_profile(account, persona, model)
        context = PromptContext(
            owner=model.owner_name(persona),
            profile=profile.summary() if profile is not None and profile.messages else "",
        )
        attributes = await self._ctx.stores.identity.attributes(account.id, persona.id)
        context = replace(context, identity=tuple(identity_lines(attributes)))
        nonce = new_nonce()
        limit = platform.target if platform.threads else platform.limit
        if request.parts is not None:
            # Room for the numbers: a thread of N parts holds a little less than N full posts.
            limit = (
                platform.limit if request.parts == 1 else int(platform.limit * request.parts * 0.85)
            )
        system, user = build_post_prompt(
            context,
            topic=request.topic,
            platform=platform.name,
            limit=limit,
            past_posts=[post for post, _ in similar[:6]],
            nonce=nonce,
        )
        if request.variants > 1:
            user += (
                "\nWrite it so it could open with a question or with a plain statement, "
                "whichever suits this owner."
            )
        async with self._models.spending(account):
            texts = await self._llm.generate(
                account_id=account.id,
                system=system,
                user=user,
                nonce=nonce,
                allowed_hosts=model.allowed_hosts,
                n=max(2, 2 * request.variants),
                max_tokens=200 * (request.parts or 3),
            )
        # A take that touches what the persona avoids is never offered.
        return [t for t in texts if mentions_topic(t, avoided(attributes)) is None]
