"""The owner's clicks on a draft (Send · Edit · Regenerate · Dismiss), the platform's word on
an approved send, and what the clone learns from both."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

from core import prioritising
from core.app.consult import Consults
from core.app.context import AppContext
from core.app.drafting import Drafting
from core.app.inbox import Inbox
from core.app.models import ModelCache
from core.app.post_actions import PostActions
from core.app.rendering import render_draft, with_notes
from core.app.teams import Teams
from core.models import (
    Account,
    Action,
    ActionInvocation,
    ActionOutcome,
    Approval,
    Draft,
    DraftStatus,
    Feedback,
    FeedbackKind,
    IncomingMessage,
    Message,
    Outgoing,
    Persona,
    Priority,
    Reply,
    StoredMessage,
    UserRef,
)
from core.publishing import is_post_id

_HANDLED = "That draft was already handled."


class Actions:
    """Approvals and rejections of drafts. A send happens only here, on the owner's own click:
    it records an ``Approval`` (at most one per draft, atomically) and returns the
    :class:`~core.models.Outgoing` the adapter posts."""

    def __init__(
        self,
        ctx: AppContext,
        models: ModelCache,
        drafting: Drafting,
        inbox: Inbox,
        posts: PostActions,
        *,
        teams: Teams | None = None,
        consults: Consults | None = None,
    ) -> None:
        self._ctx = ctx
        self._posts = posts
        self._models = models
        self._drafting = drafting
        self._inbox = inbox
        self._teams = teams
        self._consults = consults

    async def handle_action(self, action: ActionInvocation) -> ActionOutcome:
        """Act on the owner's click. Clicks on someone else's draft are refused, changing nothing."""
        if action.action in (Action.IMPORTANT, Action.NOT_IMPORTANT, Action.DRAFT):
            return await self._inbox.handle_action(action)
        if is_post_id(action.draft_id) or action.action in (Action.PUBLISH, Action.SCHEDULE):
            return await self._posts.handle(action)
        stores = self._ctx.stores
        account = await stores.accounts.resolve(action.user, create=False)
        draft = None if account is None else await stores.drafts.get(account.id, action.draft_id)
        if draft is None and self._teams is not None:
            # A draft of a team persona: the clicker's role is checked now, on every click.
            shared = await self._teams.team_draft(action.user, action.draft_id, action.action)
            if isinstance(shared, str):
                return ActionOutcome(reply=Reply(text=shared))
            if shared is not None:
                account, draft = shared
        if account is None or draft is None:
            return ActionOutcome(
                reply=Reply(text="That draft isn't yours, or it no longer exists.")
            )
        if draft.status is not DraftStatus.PENDING:
            return ActionOutcome(
                reply=Reply(text=f"That draft was already handled ({draft.status.value}).")
            )
        option = min(max(action.option, 0), len(draft.options) - 1)
        if action.action is Action.SEND or (action.action is Action.EDIT and action.edited_text):
            return await self._approve(action, account, draft, option)
        if action.action is Action.EDIT:
            return ActionOutcome(needs_text=True)
        if not await stores.drafts.set_status(
            account.id, draft.id, DraftStatus.REJECTED, expect=DraftStatus.PENDING
        ):
            return ActionOutcome(reply=Reply(text=_HANDLED))
        if action.action is Action.DISMISS:
            await self._inbox.settle(
                account, draft.persona_id, draft.incoming, prioritising.Label.DISMISSED
            )
            await self._rejected(draft, FeedbackKind.DISMISSED, option)
            declined = (
                None
                if self._consults is None
                else await self._consults.settled(account, draft, None)
            )
            if declined is not None:
                return ActionOutcome(reply=declined)
            return ActionOutcome(
                reply=Reply(text="Dismissed. I'll offer those less for messages like this one.")
            )
        # Regenerate: the shown options were not right; offer others and remember that.
        await self._rejected(draft, FeedbackKind.REGENERATED, option)
        return ActionOutcome(reply=await self._regenerate(account, draft))

    async def _approve(
        self, action: ActionInvocation, account: Account, draft: Draft, option: int
    ) -> ActionOutcome:
        edited = action.action is Action.EDIT
        text = (action.edited_text or "").strip() if edited else draft.options[option].text
        if not text:
            return ActionOutcome(needs_text=True)
        approval = Approval(
            draft_id=draft.id,
            account_id=account.id,
            by=action.user,
            text=text,
            option=option,
            edited=edited,
            approved_at=self._ctx.clock(),
        )
        if not await self._ctx.stores.drafts.approve(approval):
            return ActionOutcome(reply=Reply(text=_HANDLED))
        answered = (
            None if self._consults is None else await self._consults.settled(account, draft, text)
        )
        if answered is not None:  # a question asked of the clone: the answer goes to the asker
            await self._inbox.settle(
                account, draft.persona_id, draft.incoming, prioritising.Label.SENT
            )
            return ActionOutcome(reply=answered)
        outgoing = Outgoing(
            draft_id=draft.id,
            account_id=account.id,
            text=text,
            conversation=draft.incoming.conversation,
            thread=draft.incoming.thread,
            reply_to=draft.incoming.id,
            edited=edited,
        )
        return ActionOutcome(outgoing=outgoing)

    async def _regenerate(self, account: Account, draft: Draft) -> Reply:
        persona = await self._ctx.stores.personas.get(
            account.id, draft.persona_id
        ) or await self._ctx.active_persona(account)
        shown = frozenset(o.text for o in draft.options)
        result = await self._drafting.drafts(account, persona, draft.incoming, exclude=shown)
        if not result.options:
            return Reply(
                text="\n".join(
                    [
                        *result.notes,
                        "I have no other replies of yours that fit. Edit one instead?",
                    ]
                )
            )
        fresh = replace(
            draft, id=uuid.uuid4().hex, options=tuple(result.options), created_at=self._ctx.clock()
        )
        await self._ctx.stores.drafts.create(fresh)
        return with_notes(
            render_draft(fresh, await self._priority(account, persona, draft)), result.notes
        )

    async def _priority(self, account: Account, persona: Persona, draft: Draft) -> Priority:
        """The triage result shown again over a regenerated card (so Important / Not important
        stay under it): the waiting message's own, else the message triaged again as one the
        owner pasted."""
        waiting_items = await self._inbox.ranked(account, draft.persona_id)
        item = next((i for i in waiting_items if i.message.id == draft.incoming.id), None)
        if item is not None:
            return item.priority
        model = await self._models.get(account, persona)
        return model.priority.prioritise(
            IncomingMessage(
                owner=draft.owner,
                message=draft.incoming,
                sender_name=draft.incoming.sender,
                is_direct=True,
            )
        )

    async def _rejected(self, draft: Draft, kind: FeedbackKind, option: int) -> None:
        """Dismiss/Regenerate: one decision recorded (with the option the button named); every
        option the draft showed becomes a negative signal for similar messages (at once in the
        cached model, and from the stored draft on the next build)."""
        await self._feedback(draft, kind, text=draft.options[option].text)
        if self._models.cached(draft.account_id, draft.persona_id) is not None:
            embedder = self._ctx.embedder
            query = (await asyncio.to_thread(embedder.encode, [draft.incoming.text]))[0]
            self._models.add_negatives(
                draft.account_id, draft.persona_id, query, [o.text for o in draft.options]
            )

    async def confirm_sent(self, outgoing: Outgoing) -> None:
        """The adapter posted an approved text: mark it sent and learn from it."""
        stores = self._ctx.stores
        draft = await stores.drafts.get(outgoing.account_id, outgoing.draft_id)
        if draft is None:
            return
        status = DraftStatus.EDITED if outgoing.edited else DraftStatus.SENT
        await stores.drafts.set_status(
            outgoing.account_id, draft.id, status, expect=DraftStatus.APPROVED
        )
        account = await stores.accounts.get(outgoing.account_id)
        if account is None or account.paused:
            return  # paused: nothing more is learned, from this send either
        kind = FeedbackKind.EDITED if outgoing.edited else FeedbackKind.SENT
        await self._feedback(draft, kind, text=outgoing.text)
        await self._learn_pair(draft, outgoing.text)
        await self._inbox.settle(account, draft.persona_id, draft.incoming, prioritising.Label.SENT)

    async def pending_draft(self, user: UserRef, draft_id: str) -> Draft | None:
        """The user's own draft while it waits for a decision (to prefill an Edit); else ``None``.
        A post id gives the post as a one-option draft (its parts between ``---`` lines)."""
        if is_post_id(draft_id):
            return await self._posts.pending(user, draft_id)
        stores = self._ctx.stores
        account = await stores.accounts.resolve(user, create=False)
        draft = None if account is None else await stores.drafts.get(account.id, draft_id)
        if draft is None and self._teams is not None:
            shared = await self._teams.team_draft(user, draft_id, Action.EDIT)
            draft = shared[1] if isinstance(shared, tuple) else None
        return draft if draft is not None and draft.status is DraftStatus.PENDING else None

    async def send_failed(
        self, outgoing: Outgoing, *, reason: str = "the platform refused it"
    ) -> Reply:
        """The platform refused the post: offer the same draft again for another click.

        An approval is never reused (one per draft, ever), so the retry is a fresh pending copy.
        """
        stores = self._ctx.stores
        draft = await stores.drafts.get(outgoing.account_id, outgoing.draft_id)
        await stores.drafts.set_status(
            outgoing.account_id, outgoing.draft_id, DraftStatus.EXPIRED, expect=DraftStatus.APPROVED
        )
        if draft is None:
            return Reply(text=f"Couldn't post it ({reason}).")
        fresh = replace(
            draft, id=uuid.uuid4().hex, status=DraftStatus.PENDING, created_at=self._ctx.clock()
        )
        await stores.drafts.create(fresh)
        shown = render_draft(fresh, None)
        return replace(shown, text=f"Couldn't post it ({reason}). Try again?\n" + shown.text)

    async def _feedback(self, draft: Draft, kind: FeedbackKind, *, text: str | None) -> None:
        await self._ctx.stores.feedback.add(
            Feedback(
                account_id=draft.account_id,
                persona_id=draft.persona_id,
                kind=kind,
                draft_id=draft.id,
                message_id=draft.incoming.id,
                text=text,
                at=self._ctx.clock(),
            )
        )

    async def _learn_pair(self, draft: Draft, text: str) -> None:
        """What the owner sent becomes an exemplar: the next similar message drafts from it."""
        persona = await self._ctx.stores.personas.get(draft.account_id, draft.persona_id)
        if persona is None:
            return
        owner = persona.owner_names[0] if persona.owner_names else "me"
        incoming = draft.incoming
        reply = Message(
            id=f"sent:{draft.id}",
            conversation=incoming.conversation,
            thread=incoming.thread,
            sender=owner,
            text=text,
            sent_at=self._ctx.clock(),
            reply_to=incoming.id,
        )

        async def both() -> AsyncIterator[StoredMessage]:
            yield StoredMessage(
                message=incoming, persona_id=persona.id, from_owner=False, source="feedback"
            )
            yield StoredMessage(
                message=reply, persona_id=persona.id, from_owner=True, source="feedback"
            )

        await self._ctx.stores.messages.add_stream(draft.account_id, both())
        self._models.forget(draft.account_id, persona.id, learned=True)
