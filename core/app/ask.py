"""``ask``: how the owner would likely answer a question, beside the closest real exchange."""

from __future__ import annotations

import asyncio
import uuid

from core.app.context import NO_REPLIES, PAUSED, AppContext
from core.app.drafting import Drafting
from core.app.models import ModelCache
from core.app.rendering import clip
from core.drafting.retrieval import tokens
from core.models import Account, Message, Reply


class Ask:
    """``ask <question>``: the owner's likely answer, and the closest real exchange."""

    def __init__(self, ctx: AppContext, models: ModelCache, drafting: Drafting) -> None:
        self._ctx = ctx
        self._models = models
        self._drafting = drafting

    async def command(self, account: Account, question: str) -> Reply:
        """Answer ``question`` as the account's active persona would."""
        if account.paused:
            return Reply(text=PAUSED)
        persona = await self._ctx.active_persona(account)
        message = Message(
            id=f"ask:{uuid.uuid4().hex}",
            conversation="ask",
            thread=None,
            sender="them",
            text=question,
            sent_at=self._ctx.clock(),
        )
        result = await self._drafting.drafts(account, persona, message)
        model = await self._models.get(account, persona)
        if not result.options:
            return Reply(
                text="\n".join([*result.notes, *([] if result.language else [NO_REPLIES])])
            )
        best, *others = result.options
        lines = [
            *await self._drafting.best_effort(account, persona),
            *result.notes,
            f"You'd probably answer: “{best.text}”",
            f"   [{best.engine} · sounds like you {best.style_score}/100]",
        ]
        for option in others:
            lines.append(f"Or: “{option.text}”   [{option.engine} · {option.style_score}/100]")
        query = (await asyncio.to_thread(self._ctx.embedder.encode, [question]))[0]
        hits = model.index.nearest(query, tokens(question), k=1)
        if hits:
            similarity, position = hits[0]
            pair = model.index.pairs[position]
            lines.append(
                f"Closest real exchange ({round(100 * max(0.0, similarity))}% alike): "
                f"{pair.incoming_sender} wrote “{clip(pair.incoming_text, 160)}” and you "
                f"answered “{clip(pair.reply_text, 200)}” ({pair.replied_at:%Y-%m-%d})."
            )
        return Reply(text="\n".join(lines))
