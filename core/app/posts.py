"""Posts in the owner's voice (``post``): from the language model when configured; without one,
the owner's own closest real posts on the topic as a starting point (never stitched sentences)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.app.context import NOT_TRAINED, PAUSED, AppContext
from core.app.models import ModelCache, PersonaModel
from core.app.rendering import clip
from core.drafting import composer
from core.drafting.llm import BudgetExceeded, LLMDrafter, ModelError
from core.drafting.posts import PostPlatform, platform_named
from core.drafting.prompt import PromptContext, build_post_prompt
from core.drafting.safety import neutralise, new_nonce
from core.models import Account, Persona, Reply
from core.teams import avoided, identity_lines, mentions_topic

STARTING_POINTS = 3
"""The owner's own closest posts offered when no post is generated."""
CONFIGURE_MODEL = (
    "To have posts written in your voice, configure a language model (any OpenAI-compatible "
    "endpoint: OpenAI, Ollama, vLLM, llama.cpp server) with MINIME_LLM__BASE_URL and "
    "MINIME_LLM__MODEL."
)


def _numbering_label(numbering: str) -> str:
    return {"n/N": "1/5, 2/5…", "n/": "1/, 2/…", "none": "no numbers"}.get(numbering, numbering)


class Posts:
    """``post <x|linkedin|bluesky> <topic>``."""

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

    async def command(self, account: Account, args: tuple[str, ...], text: str) -> Reply:
        """``post <x|linkedin|bluesky> <topic>``: a post in the owner's voice (a thread on X and
        Bluesky when it is long) from the language model; without one (or when it fails), the
        owner's own closest posts on the topic as a starting point, or how to configure a model."""
        platform = platform_named(args[0]) if args else None
        topic = text.split(None, 1)[1].strip() if len(text.split(None, 1)) > 1 else ""
        if platform is None or not topic:
            return Reply(text="Usage: post <x|linkedin|bluesky> <topic>")
        if account.paused:
            return Reply(text=PAUSED)
        persona = await self._ctx.active_persona(account)
        avoid = avoided(await self._ctx.stores.identity.attributes(account.id, persona.id))
        if mentions_topic(topic, avoid) is not None:
            return Reply(
                text=f"Persona '{persona.name}' avoids {', '.join(avoid)}: no post on that."
            )
        model = await self._models.get(account, persona)
        corpus = await self._corpus(account, persona, model)
        if not corpus.posts:
            return Reply(text=f"I have no messages of yours to write from yet. {NOT_TRAINED}")
        topic_vector = (await asyncio.to_thread(self._ctx.embedder.encode, [topic]))[0]
        similar = corpus.similar(topic_vector, 6)
        notes: list[str] = []
        if self._llm is not None:
            parts = await self._generated(
                account, persona, model, topic, platform, similar, corpus, notes
            )
            if parts:
                return await self._written(model, platform, corpus, parts, len(similar))
        return self._starting_points(platform, corpus, similar, notes)

    async def _written(
        self,
        model: PersonaModel,
        platform: PostPlatform,
        corpus: composer.PostCorpus,
        parts: list[str],
        shown: int,
    ) -> Reply:
        """The generated post, part by part, with its length and style meter."""
        scores = await asyncio.to_thread(model.style.score, parts)
        header = (
            f"{platform.name} post in your voice, written by the language model, shown {shown} of "
            f"your most similar past {'replies' if corpus.from_replies else 'posts'}."
        )
        if len(parts) > 1:
            header += f" A thread of {len(parts)}, numbered your way ({_numbering_label(corpus.numbering)})."
        body = [
            f"{part}\n   [{len(part)} chars · sounds like you {score}/100]"
            for part, score in zip(parts, scores, strict=True)
        ]
        return Reply(text="\n\n".join([header, *body]))

    def _starting_points(
        self,
        platform: PostPlatform,
        corpus: composer.PostCorpus,
        similar: Sequence[tuple[str, float]],
        notes: list[str],
    ) -> Reply:
        """No generated post: the owner's own closest real posts, labelled as such, never
        sentences stitched together; or, when none is close, how to configure a model."""
        kind = "replies" if corpus.from_replies else "posts"
        close = [(post, sim) for post, sim in similar if sim >= composer.MIN_TOPIC_SIMILARITY][
            :STARTING_POINTS
        ]
        why = (
            "The language model could not write it"
            if self._llm is not None
            else "No language model is configured, so I don't write new posts"
        )
        if not close:
            return Reply(
                text="\n".join(
                    [
                        *notes,
                        f"{why}, and none of your past {kind} is close to this topic.",
                        CONFIGURE_MODEL,
                    ]
                )
            )
        lines = [
            *notes,
            f"{why}. As a starting point for your {platform.name} post, your own closest past "
            f"{kind} on this topic (real messages of yours, not a new post; edit before posting):",
        ]
        for post, sim in close:
            limit = (
                "" if len(post) <= platform.limit else f", over {platform.name}'s {platform.limit}"
            )
            lines.append(
                f"• “{clip(neutralise(post), 500)}”   [{round(100 * sim)}% alike · {len(post)} chars{limit}]"
            )
        if self._llm is None:
            lines.append(CONFIGURE_MODEL)
        return Reply(text="\n".join(lines))

    async def _generated(
        self,
        account: Account,
        persona: Persona,
        model: PersonaModel,
        topic: str,
        platform: PostPlatform,
        similar: Sequence[tuple[str, float]],
        corpus: composer.PostCorpus,
        notes: list[str],
    ) -> list[str]:
        """The language model's post in parts (``[]`` and a note for the owner when it failed)."""
        try:
            return await self._llm_post(account, persona, model, topic, platform, similar, corpus)
        except BudgetExceeded as error:
            notes.append(f"Language model skipped: {error}.")
        except ModelError as error:
            notes.append(f"The language model failed ({error}).")
        return []

    async def _llm_post(
        self,
        account: Account,
        persona: Persona,
        model: PersonaModel,
        topic: str,
        platform: PostPlatform,
        similar: Sequence[tuple[str, float]],
        corpus: composer.PostCorpus,
    ) -> list[str]:
        assert self._llm is not None
        profile = await self._models.style_profile(account, persona, model)
        context = PromptContext(
            owner=model.owner_name(persona),
            profile=profile.summary() if profile is not None and profile.messages else "",
        )
        attributes = await self._ctx.stores.identity.attributes(account.id, persona.id)
        context = replace(context, identity=tuple(identity_lines(attributes)))
        nonce = new_nonce()
        system, user = build_post_prompt(
            context,
            topic=topic,
            platform=platform.name,
            limit=platform.target if platform.threads else platform.limit,
            past_posts=[post for post, _ in similar],
            nonce=nonce,
        )
        async with self._models.spending(account):
            texts = await self._llm.generate(
                account_id=account.id,
                system=system,
                user=user,
                nonce=nonce,
                allowed_hosts=model.allowed_hosts,
                n=2,
                max_tokens=600,
            )
        texts = [t for t in texts if mentions_topic(t, avoided(attributes)) is None]
        if not texts:
            return []
        scores = await asyncio.to_thread(model.style.score, texts)
        best = max(zip(scores, texts, strict=True))[1]
        return composer.finish(best, platform, corpus.numbering)
