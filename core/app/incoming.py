"""One incoming message, one way through: caps → triage → inbox → drafting → the reply.

Also the owner's own messages on a platform, which teach (with consent) and answer what waits.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace

from core.app.context import NO_REPLIES, PAUSED, AppContext
from core.app.conversations import merge_context
from core.app.drafting import Drafting, draft_id_for
from core.app.inbox import Inbox
from core.app.models import ModelCache
from core.app.persona_identity import persona_for
from core.app.rendering import priority_line, render_draft, with_notes
from core.app.teams import Teams
from core.models import (
    CONTEXT_LIMIT,
    Account,
    CommandInvocation,
    IncomingMessage,
    Message,
    Persona,
    Priority,
    Reply,
    StoredMessage,
    UserRef,
)
from core.privacy import (
    BINARY_NOTICE,
    EMPTY_NOTICE,
    RateLimiter,
    clean_message,
    clean_text,
    learns_live,
    looks_binary,
    size_notice,
    too_long,
)

log = logging.getLogger(__name__)

SENDER_PER_MINUTE = 30
"""Sustained messages a minute triaged from one sender for one owner (bursts of ``SENDER_BURST``)."""
SENDER_BURST = 30
OWNER_PER_MINUTE = 600
"""Sustained messages a minute triaged for one owner from everyone together."""
OWNER_BURST = 200
MAX_ADMITTED = 10_000
"""Messages admitted by ``admit`` and not yet handled that are remembered (oldest go first)."""


PriorityAdjust = Callable[[IncomingMessage, Priority], Priority]
"""Moves a triage result (the owner's corrections); pure, so it may run in a worker thread."""


def _unchanged(_: IncomingMessage, priority: Priority) -> Priority:
    return priority


class Incoming:
    """Messages that reach the clone: triaged, kept waiting when they matter, drafted for."""

    def __init__(
        self,
        ctx: AppContext,
        models: ModelCache,
        inbox: Inbox,
        drafting: Drafting,
        *,
        max_message_chars: int,
        sender_limiter: RateLimiter | None,
        owner_limiter: RateLimiter | None,
        teams: Teams | None = None,
    ) -> None:
        self._ctx = ctx
        self._models = models
        self._inbox = inbox
        self._drafting = drafting
        # Caps on hostile input (issue 9): a message over ``max_message_chars`` gets a notice,
        # a sender (or everyone together) over the rate cap is dropped before any database work.
        self.max_chars = max_message_chars
        self._sender_limiter = sender_limiter or RateLimiter(
            per_minute=SENDER_PER_MINUTE, burst=SENDER_BURST
        )
        self._owner_limiter = owner_limiter or RateLimiter(
            per_minute=OWNER_PER_MINUTE, burst=OWNER_BURST
        )
        self._admitted: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._teams = teams
        self.adjust: Callable[[Account, Persona], Awaitable[PriorityAdjust]] | None = None
        """The owner's corrections applied to every triage (``core/app/values.py``)."""

    async def triage(self, incoming: IncomingMessage) -> Priority:
        """See :meth:`core.service.Clone.triage`."""
        account = await self._ctx.account(incoming.owner)
        persona = await self._ctx.active_persona(account)
        model = await self._models.get(account, persona)
        adjust = await self._adjuster(account, persona)
        return adjust(incoming, model.priority.prioritise(incoming))

    async def triage_batch(
        self, account: Account, persona: Persona, batch: Sequence[IncomingMessage]
    ) -> list[Priority]:
        """See :meth:`core.service.Clone.triage_batch`."""
        priority = (await self._models.get(account, persona)).priority
        adjust = await self._adjuster(account, persona)
        return await asyncio.to_thread(lambda: [adjust(m, priority.prioritise(m)) for m in batch])

    async def _adjuster(self, account: Account, persona: Persona) -> PriorityAdjust:
        if self.adjust is None:
            return _unchanged
        return await self.adjust(account, persona)

    def admit(self, incoming: IncomingMessage, *, explicit: bool = False) -> bool:
        """See :meth:`core.service.Clone.admit`."""
        if not self._within_rate(incoming.owner, None if explicit else incoming.message.sender):
            return False
        self._admitted[(str(incoming.owner), incoming.message.id)] = None
        while len(self._admitted) > MAX_ADMITTED:
            self._admitted.popitem(last=False)
        return True

    async def handle(
        self, incoming: IncomingMessage, *, explicit: bool = False, delivery: str | None = None
    ) -> Reply | None:
        """See :meth:`core.service.Clone.handle_incoming`."""
        text = incoming.message.text
        if too_long(text, self.max_chars):
            return Reply(text=size_notice(len(text), self.max_chars)) if explicit else None
        if looks_binary(text):  # a file's bytes: nothing to triage or answer
            return Reply(text=BINARY_NOTICE) if explicit else None
        if explicit and not text.strip():
            return Reply(text=EMPTY_NOTICE)
        admitted = self._admitted.pop((str(incoming.owner), incoming.message.id), 0) is None
        if not admitted and not self._within_rate(
            incoming.owner, None if explicit else incoming.message.sender
        ):
            return (
                Reply(text="That's a lot of messages at once; give me a minute and try again.")
                if explicit
                else None
            )
        incoming = replace(
            incoming,
            message=clean_message(incoming.message),
            sender_name=clean_text(incoming.sender_name),
            context=tuple(
                clean_message(m)
                for m in incoming.context[-CONTEXT_LIMIT:]
                if not too_long(m.text, self.max_chars) and not looks_binary(m.text)
            ),
        )
        account = await self._ctx.account(incoming.owner)
        if account.paused:
            return Reply(text=PAUSED) if explicit else None
        # The persona bound to where the message arrived (``persona use <name> here``), if any.
        place = incoming.place or incoming.message.conversation
        persona = await persona_for(self._ctx, account, incoming.owner.platform, place)
        model = await self._models.get(account, persona)
        context = incoming.context
        if not explicit:
            # What was said before in this conversation: the platform's context and what the
            # clone saw (a pasted message stands alone: the paste before it is unrelated).
            recent = self._models.recent
            context = merge_context(context, recent.before(account.id, incoming.message))
            recent.add(account.id, incoming.message)
            incoming = replace(incoming, context=context)
        priority = (await self._adjuster(account, persona))(
            incoming, model.priority.prioritise(incoming)
        )
        if not explicit:
            await self._inbox.keep_waiting(account, persona, incoming, priority)
        # An attachment-only message may wait in the inbox, but it has no text to answer.
        if not (explicit or priority.needs_reply) or not text.strip():
            return None
        draft_id = draft_id_for(account.id, delivery) if delivery else uuid.uuid4().hex
        if delivery is not None:
            earlier = await self._ctx.stores.drafts.get(account.id, draft_id)
            if earlier is not None:
                return render_draft(earlier, priority)
        result = await self._drafting.drafts(
            account, persona, incoming.message, context=context, solicited=explicit
        )
        if result.unasked is not None:
            return None  # thanks, fyi, a joke: no unsolicited draft (``draft`` still drafts it)
        if not result.options:
            return Reply(
                text="\n".join(
                    [
                        priority_line(priority),
                        *result.notes,
                        *([] if result.language else [NO_REPLIES]),
                    ]
                ),
                priority=priority,
            )
        draft = await self._drafting.keep(
            draft_id,
            account=account,
            persona=persona,
            incoming=incoming.message,
            options=result.options,
            owner=incoming.owner,
        )
        caveat = await self._drafting.best_effort(account, persona)
        if self._teams is not None:  # a team persona: its reviewers hear a draft waits
            await self._teams.draft_waiting(account.id, persona, draft)
        return with_notes(render_draft(draft, priority), [*caveat, *result.notes])

    async def draft_command(self, command: CommandInvocation, text: str) -> Reply | None:
        """``draft <message>``: a pasted or forwarded message, drafted for whatever its priority."""
        incoming = IncomingMessage(
            owner=command.user,
            message=Message(
                id=f"pasted:{uuid.uuid4().hex}",
                conversation=command.conversation or "pasted",
                thread=None,
                sender="them",
                text=text,
                sent_at=self._ctx.clock(),
            ),
            sender_name="them",
            is_direct=True,
        )
        return await self.handle(incoming, explicit=True)

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
        """See :meth:`core.service.Clone.observe_owner_message`."""
        if too_long(message.text, self.max_chars) or not self._within_rate(owner, None):
            return False
        message = clean_message(message)
        replying_to = None if replying_to is None else clean_message(replying_to)
        account = await self._ctx.stores.accounts.resolve(owner, create=False)
        if account is None or account.paused:
            return False
        await self._inbox.owner_answered(account, message)
        self._models.recent.add(account.id, message)  # the context of what comes next
        if not learns_live(account.settings, owner.platform):
            return False
        persona = await self._ctx.active_persona(account)
        items = []
        if replying_to is not None and not too_long(replying_to.text, self.max_chars):
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

        new = await self._ctx.stores.messages.add_stream(account.id, stream())
        if new:
            self._models.forget(account.id, persona.id, learned=True)
        return True
