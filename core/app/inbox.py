"""Triage's memory: the waiting list of each persona, the labels that teach the prioritiser, and
the owner's Important · Not important · Draft clicks on waiting messages."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

from core import prioritising, scheduling, waiting
from core.app.context import NO_REPLIES, AppContext
from core.app.drafting import Drafting
from core.app.models import ModelCache
from core.app.rendering import clip, render_draft, waiting_buttons
from core.app.summaries import InboxView
from core.models import (
    Account,
    AccountId,
    Action,
    ActionInvocation,
    ActionOutcome,
    Button,
    DraftStatus,
    IncomingMessage,
    Message,
    Persona,
    PersonaId,
    Priority,
    PriorityLabel,
    Reply,
    UserRef,
)
from core.ports import QualityJobs
from core.understanding import summaries

INBOX_SHOWN = 10
TAP_REASON = "ranked "
"""How a reason saying what one of the owner's taps changed begins ("ranked lower because...")."""
UNDO_HINT = "Wrong tap? `inbox undo` takes it back."
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


def _listing_head(groups: list[summaries.Group]) -> str:
    count = sum(len(g.items) for g in groups)
    if not count:
        return "Nothing is waiting but what your filters collapsed:"
    where = f" in {len(groups)} conversations" if len(groups) != count else ""
    return f"{count} waiting{where}, most important first:"


class Inbox:
    """Each persona's waiting list (kept in the StateStore) and what the owner does with it."""

    def __init__(self, ctx: AppContext, models: ModelCache, drafting: Drafting) -> None:
        self._ctx = ctx
        self._models = models
        self._drafting = drafting
        self._locks: dict[tuple[AccountId, PersonaId], asyncio.Lock] = {}
        self.view: InboxView | None = None
        """Groups, summaries and filters (``core/app/summaries.py``); plain items without it."""

    def lock(self, account_id: AccountId, persona_id: PersonaId) -> asyncio.Lock:
        """Held while a persona's waiting list is read, changed and saved."""
        return self._locks.setdefault((account_id, persona_id), asyncio.Lock())

    async def load(self, account: Account, persona_id: PersonaId) -> waiting.Inbox:
        """The persona's waiting list; what waited too long without any action leaves it
        (learned as "ignored"). Call with the inbox lock held."""
        inbox = waiting.Inbox.from_bytes(
            await self._ctx.derived_state(account.id, persona_id, waiting.INBOX_STATE)
        )
        ignored = inbox.expire(self._ctx.clock())
        if ignored:
            await self.save(account, persona_id, inbox)
            for item in ignored:
                await self._label(account, persona_id, item, prioritising.Label.IGNORED)
        return inbox

    async def save(self, account: Account, persona_id: PersonaId, inbox: waiting.Inbox) -> None:
        """Keep the persona's waiting list (with the inbox lock held)."""
        await self._ctx.stores.state.put(
            account.id, persona_id, waiting.INBOX_STATE, inbox.to_bytes()
        )

    async def ranked(self, account: Account, persona_id: PersonaId) -> list[waiting.WaitingItem]:
        """What waits for the persona, most important first."""
        async with self.lock(account.id, persona_id):
            return (await self.load(account, persona_id)).ranked()

    async def waiting_items(self, user: UserRef) -> list[waiting.WaitingItem]:
        """What is waiting for ``user``'s active persona, most important first."""
        account = await self._ctx.account(user)
        persona = await self._ctx.active_persona(account)
        return await self.ranked(account, persona.id)

    async def keep_waiting(
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
            arrived_at=self._ctx.clock(),
            is_direct=incoming.is_direct,
        )
        async with self.lock(account.id, persona.id):
            inbox = await self.load(account, persona.id)
            if inbox.get(item.id) is not None:
                return inbox.get(item.id)  # a redelivery: it is waiting already
            inbox.put(item)
            await self.save(account, persona.id, inbox)
        schedule = scheduling.schedule_of(account.settings)
        jobs = self._ctx.jobs
        if (
            jobs is not None
            and schedule.followup_after is not None
            and item.score >= schedule.followup_score
        ):
            await jobs.set_followup(
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
        stores = self._ctx.stores
        if stores.labels is not None:
            await stores.labels.add(
                PriorityLabel(
                    account_id=account.id,
                    persona_id=persona_id,
                    message_id=item.message.id,
                    label=_LABEL_VALUES[label],
                    kind=label.value,
                    at=self._ctx.clock(),
                )
            )
        persona = await stores.personas.get(account.id, persona_id)
        if persona is None:
            return
        incoming = IncomingMessage(
            owner=item.owner,
            message=item.message,
            sender_name=item.message.sender,
            is_direct=item.is_direct,
        )
        await self._models.learn_priority(
            account, persona, incoming, label.value, latency_s=latency_s
        )

    async def _clear_followup(self, account_id: AccountId, item_id: str) -> None:
        if self._ctx.jobs is not None:
            await self._ctx.jobs.clear_followup(account_id, item_id)

    async def settle(
        self, account: Account, persona_id: PersonaId, message: Message, label: prioritising.Label
    ) -> None:
        """A draft's fate settles its waiting message: it leaves the inbox and teaches."""
        key = waiting.item_id(account.id, persona_id, message.id)
        async with self.lock(account.id, persona_id):
            inbox = await self.load(account, persona_id)
            item = inbox.pop(key)
            if item is not None:
                await self.save(account, persona_id, inbox)
        if item is None:
            return
        await self._clear_followup(account.id, key)
        latency = max(0.0, (self._ctx.clock() - item.message.sent_at).total_seconds())
        await self._label(
            account,
            persona_id,
            item,
            label,
            latency_s=latency if label is prioritising.Label.SENT else None,
        )

    async def owner_answered(self, account: Account, message: Message) -> None:
        """The owner wrote on a platform: what it answers leaves the inbox, learned as replied
        (with how fast). Only ids and times are learned, so this needs no ``train on``."""
        persona = await self._ctx.active_persona(account)
        async with self.lock(account.id, persona.id):
            inbox = await self.load(account, persona.id)
            answered = inbox.answered_by(message)
            if answered:
                await self.save(account, persona.id, inbox)
        for item in answered:
            await self._clear_followup(account.id, item.id)
            latency = max(0.0, (message.sent_at - item.message.sent_at).total_seconds())
            await self._label(
                account, persona.id, item, prioritising.Label.REPLIED, latency_s=latency
            )

    async def cancel_jobs(self, account_id: AccountId) -> None:
        """Remove the account's scheduled digest and reminders (before it is erased)."""
        jobs = self._ctx.jobs
        if jobs is None:
            return
        await jobs.clear_digest(account_id)
        stores = self._ctx.stores
        for persona in await stores.personas.list(account_id):
            if isinstance(jobs, QualityJobs):
                await jobs.clear_quality(account_id, persona.id)
            state = await self._ctx.derived_state(account_id, persona.id, waiting.INBOX_STATE)
            for item in waiting.Inbox.from_bytes(state).ranked():
                await jobs.clear_followup(account_id, item.id)

    async def command(self, account: Account, args: tuple[str, ...] = ()) -> Reply:
        """``inbox``: waiting messages, most important first, with reasons and buttons; then
        drafts still waiting for a decision. ``inbox undo`` takes back the latest tap."""
        persona = await self._ctx.active_persona(account)
        if args and (args[0].lower() != "undo" or len(args) > 1):
            return await self._expand(account, persona, " ".join(args))
        if args:
            undone = await self._models.undo_priority_tap(account, persona)
            if undone is None:
                return Reply(
                    text="Nothing to undo: no Important / Not important tap is remembered."
                )
            return Reply(
                text=f"Undone: you no longer mark {undone}; its effect on ranking is gone."
            )
        items = await self.ranked(account, persona.id)
        pending = await self._ctx.stores.drafts.pending(account.id)
        if not items and not pending:
            return Reply(text="Nothing is waiting for you.")
        lines: list[str] = []
        buttons: list[Button] = []
        if items and self.view is not None:
            listing = await self.view.listing(account, persona.id, items)
            shown, buttons = await self.view.lines(account, persona.id, listing, limit=INBOX_SHOWN)
            lines += [_listing_head(listing.groups), *shown]
        elif items:
            lines.append(f"{len(items)} waiting, most important first:")
            for number, item in enumerate(items[:INBOX_SHOWN], start=1):
                lines.append(waiting.item_line(number, item))
                buttons += waiting_buttons(item, number)
        if any(r.startswith(TAP_REASON) for i in items[:INBOX_SHOWN] for r in i.reasons):
            lines.append(UNDO_HINT)
        collapsed = 0
        if pending and self.view is not None:
            pending, collapsed = await self.view.visible_drafts(account, persona.id, pending)
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
                    f"{indent}{number}. {draft.incoming.sender}: {clip(draft.incoming.text, 80)}"
                )
                buttons.append(
                    Button(label=f"{send} {number}", action=Action.SEND, draft_id=draft.id)
                )
        if collapsed:
            lines.append(
                f"{collapsed} draft{'s' if collapsed != 1 else ''} for messages your filters "
                "collapsed (`inbox muted` shows the messages)."
            )
        return Reply(text="\n".join(lines), buttons=tuple(buttons))

    async def _expand(self, account: Account, persona: Persona, name: str) -> Reply:
        """``inbox <conversation>``: every waiting message of one conversation."""
        if self.view is None:
            return Reply(text="Usage: inbox [undo | <conversation>]")
        items = await self.ranked(account, persona.id)
        expanded = await self.view.expand(account, persona.id, items, name)
        if expanded is None:
            return Reply(
                text=f"Nothing waits in a conversation called '{clip(name, 40)}'. "
                "Usage: inbox [undo | <conversation>] (`inbox 2` expands the second)."
            )
        lines, buttons = expanded
        return Reply(text="\n".join(lines), buttons=tuple(buttons))

    async def find(
        self, account: Account, key: str
    ) -> tuple[PersonaId, waiting.WaitingItem] | None:
        """The waiting message with item id ``key``, in whichever persona it waits."""
        stores = self._ctx.stores
        for persona in await stores.personas.list(account.id):
            inbox = waiting.Inbox.from_bytes(
                await self._ctx.derived_state(account.id, persona.id, waiting.INBOX_STATE)
            )
            item = inbox.get(key)
            if item is not None:
                return persona.id, item
        # A message shown with drafts but not waiting (pasted, or already out of the inbox):
        # its pending draft still lets the owner say how important it was.
        for draft in await stores.drafts.pending(account.id):
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

    async def handle_action(self, action: ActionInvocation) -> ActionOutcome:
        """Important · Not important · Draft on a waiting message (by its item id)."""
        account = await self._ctx.stores.accounts.resolve(action.user, create=False)
        found = None if account is None else await self.find(account, action.draft_id)
        if account is None or found is None:
            return ActionOutcome(
                reply=Reply(text="That message isn't waiting any more (answered, or not yours).")
            )
        persona_id, item = found
        if action.action is Action.IMPORTANT:
            async with self.lock(account.id, persona_id):
                inbox = await self.load(account, persona_id)
                if inbox.get(item.id) is not None:
                    inbox.put(replace(item, starred=True))
                    await self.save(account, persona_id, inbox)
            await self._label(account, persona_id, item, prioritising.Label.IMPORTANT)
            return ActionOutcome(
                reply=Reply(
                    text=f"Noted: {item.message.sender}'s message is important. I'll rank ones like it higher."
                )
            )
        if action.action is Action.NOT_IMPORTANT:
            async with self.lock(account.id, persona_id):
                inbox = await self.load(account, persona_id)
                inbox.pop(item.id)
                await self.save(account, persona_id, inbox)
            await self._clear_followup(account.id, item.id)
            await self._label(account, persona_id, item, prioritising.Label.NOT_IMPORTANT)
            return ActionOutcome(
                reply=Reply(
                    text="Noted: not important. It left your inbox; I'll rank ones like it lower."
                    f" {UNDO_HINT}"
                )
            )
        return ActionOutcome(reply=await self._draft(account, persona_id, item, action.user))

    async def _draft(
        self, account: Account, persona_id: PersonaId, item: waiting.WaitingItem, user: UserRef
    ) -> Reply:
        """Draft on a waiting message: its one pending draft, made on the first click."""
        persona = await self._ctx.stores.personas.get(account.id, persona_id)
        if persona is None:
            return Reply(text="That persona no longer exists.")
        draft_id = uuid.uuid5(_WAITING_DRAFTS, f"{account.id}:{item.id}").hex
        earlier = await self._ctx.stores.drafts.get(account.id, draft_id)
        if earlier is not None and earlier.status is DraftStatus.PENDING:
            return render_draft(earlier, item.priority)
        if earlier is not None:
            draft_id = uuid.uuid4().hex
        options = await self._drafting.draft_options(account, persona, item.message)
        if not options:
            return Reply(text=NO_REPLIES)
        draft = await self._drafting.keep(
            draft_id,
            account=account,
            persona=persona,
            incoming=item.message,
            options=options,
            owner=user,
        )
        return render_draft(draft, item.priority)
