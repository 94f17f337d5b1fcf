"""``quality``: how close the clone is to the owner, measured on the persona's own held-out data.

The measurement is :func:`core.quality.measure` (the same as ``minime eval``'s), run off the event
loop. A big history is measured in the background when the clone can message the owner later (a
notifier is wired): the command answers "measuring…" at once and the result follows as a second
message. Without a notifier (the CLI, tests) it is measured before answering.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from core import quality
from core.app.context import NOT_TRAINED, PAUSED, AppContext
from core.models import Account, CommandInvocation, Message, Persona, Reply, StoredMessage, UserRef
from core.ports import Notifier

log = logging.getLogger(__name__)

BACKGROUND_FROM = 1500
"""Histories of at least this many messages are measured in the background (when possible)."""

ExtraWriters = Callable[[], Sequence[Message]]
AfterQuality = Callable[[Account, Persona, dict[str, Any], Reply, UserRef], Awaitable[Reply]]
"""Told of each on-demand report and its reply; returns the reply to show."""


def owner_messages(history: Sequence[StoredMessage]) -> tuple[list[Message], str | None]:
    """The history with every message of the owner under one sender name (their most used)."""
    names = Counter(m.message.sender for m in history if m.from_owner)
    if not names:
        return [m.message for m in history], None
    owner = names.most_common(1)[0][0]
    messages = [
        replace(m.message, sender=owner) if m.from_owner else m.message
        for m in history
        if m.from_owner or m.message.sender != owner
    ]
    return messages, owner


class Quality:
    """``quality [persona]`` in chat and ``minime quality --user U [--persona P]``."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        extra_writers: ExtraWriters | None = None,
        options: quality.QualityOptions | None = None,
    ) -> None:
        self._ctx = ctx
        self._extra_writers = extra_writers
        self._options = options or quality.QualityOptions()
        self._notifier: Notifier | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.after: AfterQuality | None = None
        """Keeps each run and adds its trend (``core/app/quality_history.py``)."""

    def use_notifier(self, notifier: Notifier | None) -> None:
        """Where results measured in the background go (wired after the adapters start)."""
        self._notifier = notifier

    async def persona_named(self, account: Account, name: str | None) -> Persona | None:
        """The persona called ``name`` (any case), or the active one when ``name`` is empty."""
        if not name:
            return await self._ctx.active_persona(account)
        for persona in await self._ctx.stores.personas.list(account.id):
            if persona.name.lower() == name.lower():
                return persona
        return None

    async def report(
        self,
        account: Account,
        persona: Persona,
        *,
        progress: quality.ProgressLine | None = None,
    ) -> dict[str, Any]:
        """The :func:`core.quality.measure` report of one persona (``persona`` added)."""
        history = [m async for m in self._ctx.stores.messages.iter(account.id, persona.id)]
        messages, owner = owner_messages(history)
        extra = self._extra_writers() if self._extra_writers is not None else ()
        result = await asyncio.to_thread(
            quality.measure,
            messages,
            owner or "(you)",
            embedder=self._ctx.embedder,
            extra_writers=extra,
            options=self._options,
            progress=progress,
        )
        return {"persona": persona.name, **result}

    async def command(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """``quality [persona]``: the report as text with its picture."""
        if account.paused:
            return Reply(text=PAUSED)
        name = " ".join(args).strip()
        persona = await self.persona_named(account, name)
        if persona is None:
            return Reply(text=f"No persona called '{name}'. `persona list` shows yours.")
        count = await self._ctx.stores.messages.count(account.id, persona.id)
        if count == 0:
            return Reply(text=f"Nothing to measure yet in persona '{persona.name}'. {NOT_TRAINED}")
        if count >= BACKGROUND_FROM and self._notifier is not None:
            task = asyncio.get_running_loop().create_task(
                self._measure_later(command.user, account, persona)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return Reply(
                text=f"Measuring persona '{persona.name}' on {count:,} messages (a minute or "
                "two): I'll send the result here when it's done."
            )
        return await self._rendered(command.user, account, persona)

    async def _rendered(self, user: UserRef, account: Account, persona: Persona) -> Reply:
        report = await self.report(account, persona)
        reply = self.render(report)
        if self.after is not None:
            reply = await self.after(account, persona, report, reply, user)
        return reply

    async def _measure_later(self, user: UserRef, account: Account, persona: Persona) -> None:
        try:
            reply = await self._rendered(user, account, persona)
        except Exception:
            log.exception("quality: the measurement failed")
            reply = Reply(text="Sorry: measuring the quality failed. Try again later.")
        if self._notifier is not None:
            await self._notifier.notify(user, reply)

    async def settle(self) -> None:
        """Wait for measurements running in the background (tests, one-shot runs)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @staticmethod
    def render(report: dict[str, Any]) -> Reply:
        """The report as a chat reply: the summary and the picture."""
        png = quality.picture(report)
        text = f"Persona '{report['persona']}'. " + quality.summary(report)
        return Reply(text=text, image=png, image_name="quality.png" if png else None)
