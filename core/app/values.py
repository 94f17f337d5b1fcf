"""Values and decisions with evidence: the statements in ``profile``, their corrections
(``profile correct``), and what the corrections change in triage and drafting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from core.app.context import NOT_TRAINED, AppContext
from core.app.drafting import DraftResult
from core.models import (
    Account,
    IncomingMessage,
    Message,
    Persona,
    PersonaId,
    Priority,
    Reply,
    StoredMessage,
)
from core.understanding import filters as filtering
from core.understanding import pictures, rhetoric
from core.understanding import values as v

CORRECT_USAGE = "Usage: profile correct <statement number> <what is true instead | wrong>"
SHOWN = 10
"""Statements shown in ``profile`` at most."""
MAX_NOTES = 5
"""Corrections told to the language model at most (the latest)."""


class Values:
    """The owner's value and decision statements, and their corrections, per persona."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    async def corrections(self, account: Account, persona_id: PersonaId) -> dict[str, v.Correction]:
        """The persona's corrections, by statement key."""
        raw = await self._ctx.derived_state(account.id, persona_id, v.CORRECTIONS_STATE)
        return v.corrections_from_bytes(raw)

    async def filters(self, account: Account, persona_id: PersonaId) -> list[filtering.Filter]:
        """The persona's filters (:mod:`core.app.filters` keeps them)."""
        raw = await self._ctx.derived_state(account.id, persona_id, filtering.FILTERS_STATE)
        return filtering.from_bytes(raw)

    async def statements(self, account: Account, persona: Persona) -> list[v.Statement]:
        """The persona's statements (read off the event loop), corrections attached."""
        history = [m async for m in self._ctx.stores.messages.iter(account.id, persona.id)]
        corrections = await self.corrections(account, persona.id)
        return await asyncio.to_thread(v.statements, history, corrections)

    async def section(self, account: Account, persona: Persona) -> tuple[list[str], bytes | None]:
        """The profile's "values and decisions" and "consistency and rhetoric" lines, and the
        values panel picture."""
        history = [m async for m in self._ctx.stores.messages.iter(account.id, persona.id)]
        corrections = await self.corrections(account, persona.id)
        found = await asyncio.to_thread(v.statements, history, corrections)
        lines: list[str] = []
        if found:
            lines.append(
                "What you value and how you decide (from your own replies; "
                "`profile correct <n> <text|wrong>` fixes one):"
            )
            for number, statement in enumerate(found[:SHOWN], start=1):
                lines.append(f"{number}. {statement.shown()}")
                lines += [f"     e.g. {quote.show()}" for quote in statement.quotes]
        lines += await asyncio.to_thread(rhetoric.lines, history)
        png = await asyncio.to_thread(pictures.values_panel, found[:SHOWN]) if found else None
        return lines, png

    async def profile(self, account: Account, base: Reply) -> Reply:
        """The style card ``base`` with the values, decisions and rhetoric added (text and
        picture)."""
        persona = await self._ctx.active_persona(account)
        if not await self._ctx.stores.messages.count(account.id, persona.id):
            return base
        lines, png = await self.section(account, persona)
        if not lines:
            return base
        image = await asyncio.to_thread(pictures.stacked, base.image, png)
        return Reply(
            text="\n".join([base.text, "", *lines]),
            image=image,
            image_name=base.image_name or ("profile.png" if image else None),
        )

    async def json_section(
        self, account: Account, persona: Persona, history: Sequence[StoredMessage]
    ) -> dict[str, object]:
        """``profile --json``'s ``statements`` (values and decisions, with quotes and
        corrections) and ``rhetoric`` (habits with counts, consistency)."""
        corrections = await self.corrections(account, persona.id)
        found = await asyncio.to_thread(v.statements, history, corrections)
        texts = [m.message.text for m in history if m.from_owner and m.message.text.strip()]
        habits = await asyncio.to_thread(rhetoric.habits, texts)
        steady = await asyncio.to_thread(rhetoric.consistency, history)
        return {
            "statements": [s.to_json() for s in found],
            "rhetoric": {
                "habits": {
                    h.name: {"count": h.count, "of": h.total, "example": h.example} for h in habits
                },
                "consistency": None
                if steady is None
                else {
                    "contacts": steady.contacts,
                    "months": steady.months,
                    "spread": steady.spread,
                    "register": steady.outlier,
                },
            },
        }

    async def correct(self, account: Account, persona: Persona, args: Sequence[str]) -> Reply:
        """``profile correct <n> <text|wrong>``: keep the owner's word on statement ``n``."""
        if len(args) < 2 or not args[0].isdigit():
            return Reply(text=CORRECT_USAGE)
        found = await self.statements(account, persona)
        if not found:
            return Reply(text=f"There are no statements to correct yet. {NOT_TRAINED}")
        number = int(args[0])
        if not 1 <= number <= min(len(found), SHOWN):
            return Reply(
                text=f"There is no statement {number}: `profile` numbers them 1 to "
                f"{min(len(found), SHOWN)}."
            )
        statement = found[number - 1]
        try:
            correction = v.correct(statement, " ".join(args[1:]), self._ctx.clock())
        except ValueError as error:
            return Reply(text=str(error))
        kept = await self.corrections(account, persona.id)
        kept[correction.key] = correction
        await self._ctx.stores.state.put(
            account.id, persona.id, v.CORRECTIONS_STATE, v.corrections_to_bytes(kept)
        )
        effect = {1: "rank such messages higher", -1: "rank such messages lower", 0: ""}[
            correction.effect if statement.subject_kind in ("sender", "topic") else 0
        ]
        uses = [f"I'll {effect}" if effect else "", "draft with it in mind"]
        return Reply(
            text=f"Noted: “{statement.text}” — "
            + ("you say it's wrong." if correction.wrong else f"you say: {correction.text}")
            + f" {' and '.join(u for u in uses if u).capitalize()}."
        )

    # ------------------------------------------------------------- used by triage and drafting

    async def adjuster(
        self, account: Account, persona: Persona
    ) -> Callable[[IncomingMessage, Priority], Priority]:
        """Moves a triage result by the owner's corrections about its sender or topic (the
        corrections are read once, here; the function is pure)."""
        corrections = list((await self.corrections(account, persona.id)).values())

        def adjust(incoming: IncomingMessage, priority: Priority) -> Priority:
            if not corrections:
                return priority
            return v.adjust(priority, incoming.message, corrections)

        return adjust

    async def prompt_notes(
        self, account: Account, persona: Persona, incoming: Message
    ) -> list[str]:
        """For the language model: what the owner corrected, and the topics they avoid (their
        own words and filters, so instructions rather than fenced data)."""
        notes = []
        for c in list((await self.corrections(account, persona.id)).values())[-MAX_NOTES:]:
            said = "is wrong" if c.wrong else f"— they say instead: {c.text}"
            notes.append(f"They corrected what their history suggested: “{c.statement}” {said}")
        for rule in filtering.avoided_topics(await self.filters(account, persona.id)):
            notes.append(f"They avoid “{rule.pattern}”: never agree to anything about it for them.")
        return notes

    async def guard(
        self, account: Account, persona: Persona, incoming: Message, result: DraftResult
    ) -> DraftResult:
        """Drafts never commit the owner to an avoided topic (a muted topic filter, or a topic
        the owner said can wait), and a "you say yes to X" the owner marked wrong puts the
        options that say yes last."""
        if not result.options:
            return result
        avoided = [
            f.pattern for f in filtering.avoided_topics(await self.filters(account, persona.id))
        ]
        corrections = (await self.corrections(account, persona.id)).values()
        avoided += [c.subject for c in corrections if c.subject_kind == "topic" and c.effect < 0]
        hit = next((t for t in avoided if v.mentions(t, incoming.text)), None)
        options = list(result.options)
        notes = list(result.notes)
        if hit is not None:
            kept = [o for o in options if not v.commits_to(o.text)]
            if len(kept) < len(options):
                notes.append(
                    f"Left out {len(options) - len(kept)} option(s) saying yes: you avoid "
                    f"“{hit}” (`filter list`, `profile`)."
                )
            options = kept
        elif v.request_kind(incoming.text) in v.declined_kinds(corrections):
            options.sort(key=v.commits_to_option)
        if options == result.options and notes == result.notes:
            return result
        return DraftResult(
            options=options,
            notes=notes,
            offered=result.offered and bool(options),
            best=result.best if result.best in options else None,
            language=result.language,
            unasked=result.unasked,
        )
