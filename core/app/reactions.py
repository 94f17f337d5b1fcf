"""``ask`` with a plan, a piece of copy or steps: the owner's likely reaction to each step.

Each step is read against the owner's decision patterns (how they answer that kind of request,
:mod:`core.understanding.values`), their values (topics they engage with or let wait, their
corrections, their muted topics) and their closest real reactions (what they answered to the most
similar messages). With a language model, each step also gets a one-line likely reaction from the
model, grounded in those real reactions; without one, the closest real reactions only, labelled as
such. A single question goes to the ordinary ``ask``.
"""

from __future__ import annotations

import asyncio
import logging

from core.app.ask import Ask
from core.app.context import NO_REPLIES, PAUSED, AppContext
from core.app.models import ModelCache, PersonaModel, one_completion
from core.app.rendering import clip
from core.app.values import Values
from core.drafting.exemplars import tokens
from core.drafting.llm import LLMDrafter
from core.drafting.prompt import DATA_RULE
from core.drafting.safety import fence, new_nonce
from core.models import Account, Persona, Reply
from core.understanding import filters as filtering
from core.understanding import plans
from core.understanding import values as v

log = logging.getLogger(__name__)
MIN_ALIKE = 0.15
"""Real reactions less alike than this are not offered as the closest."""


class Reactions:
    """``ask <plan | copy | steps>``: a likely reaction per step, grounded in real ones."""

    def __init__(
        self,
        ctx: AppContext,
        models: ModelCache,
        ask: Ask,
        values: Values,
        *,
        llm: LLMDrafter | None,
    ) -> None:
        self._ctx = ctx
        self._models = models
        self._ask = ask
        self._values = values
        self._llm = llm

    async def command(self, account: Account, text: str) -> Reply:
        """A plan gets a reaction per step; anything else is an ordinary ``ask``."""
        if not plans.looks_like_plan(text):
            return await self._ask.command(account, text)
        if account.paused:
            return Reply(text=PAUSED)
        found = plans.steps(text)
        if not found:
            return Reply(text="I found no steps in that plan: put one step per line.")
        persona = await self._ctx.active_persona(account)
        model = await self._models.get(account, persona)
        if not len(model.index):
            return Reply(text=NO_REPLIES)
        statements = await self._values.statements(account, persona)
        avoided = [
            f.pattern
            for f in filtering.avoided_topics(await self._values.filters(account, persona.id))
        ]
        shown = found[: plans.MAX_STEPS]
        lines = [
            f"How you'd likely react, step by step ({len(shown)} step(s)"
            + (f"; the first {plans.MAX_STEPS} of {len(found)}" if len(found) > len(shown) else "")
            + "):"
        ]
        vectors = await asyncio.to_thread(self._ctx.embedder.encode, shown)
        for number, (step, vector) in enumerate(zip(shown, vectors, strict=True), start=1):
            lines.append(f"{number}. “{clip(step, 100)}”")
            lines += [f"   {note}" for note in _patterns(step, statements, avoided)]
            hits = [
                (alike, p)
                for alike, p in model.index.nearest(vector, tokens(step), k=2, distinct=True)
                if alike >= MIN_ALIKE
            ]
            reactions = [
                f"{model.index.pairs[p].incoming_sender} wrote “{clip(model.index.pairs[p].incoming_text, 80)}” "
                f"and you answered “{clip(model.index.pairs[p].reply_text, 120)}” "
                f"({round(100 * alike)}% alike)"
                for alike, p in hits
            ]
            guess = await self._likely(account, persona, model, step, hits) if hits else None
            if guess is not None:
                lines.append(
                    f"   Likely reaction (language model, from the real ones below): “{guess}”"
                )
            label = (
                "Closest real reaction"
                if self._llm is not None
                else "Closest real reaction (no model: real reactions only)"
            )
            lines += [f"   {label}: {r}" for r in reactions] or [
                "   No real reaction of yours is close to this step."
            ]
        return Reply(text="\n".join(lines))

    async def _likely(
        self,
        account: Account,
        persona: Persona,
        model: PersonaModel,
        step: str,
        hits: list[tuple[float, int]],
    ) -> str | None:
        if self._llm is None:
            return None
        owner = model.owner_name(persona)
        nonce = new_nonce()
        system = "\n".join(
            [
                f"You predict how {owner} would react to one step of a plan, in one short line "
                f"in {owner}'s own words, judging from how {owner} really reacted to similar "
                "messages. Output only that line.",
                DATA_RULE.format(nonce=nonce),
            ]
        )
        examples = "\n".join(
            f"{model.index.pairs[p].incoming_sender}: {model.index.pairs[p].incoming_text}\n"
            f"{owner}: {model.index.pairs[p].reply_text}"
            for _, p in hits
        )
        user = fence("REAL REACTIONS", examples, nonce) + "\n" + fence("STEP", step, nonce)
        text = await one_completion(
            self._models,
            self._llm,
            account,
            model,
            system=system,
            user=user,
            nonce=nonce,
            max_tokens=80,
            purpose="ask",
        )
        return clip(text, 160) if text else None


def _patterns(step: str, statements: list[v.Statement], avoided: list[str]) -> list[str]:
    """What the owner's decision patterns and values say about one step."""
    notes = []
    kind = v.request_kind(step)
    for s in statements:
        if (s.subject_kind == "request" and s.subject == kind) or (
            s.subject_kind in ("topic", "sender") and v.mentions(s.subject, step)
        ):
            notes.append(f"Your pattern: {s.shown()}")
    for topic in avoided:
        if v.mentions(topic, step):
            notes.append(f"You avoid “{topic}” (your filter): expect a no.")
    return notes[:3]
