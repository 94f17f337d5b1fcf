"""Clicks on a post (Publish · Edit · Regenerate · Schedule · Dismiss) by its owner or by a
reviewer (or editor) of its persona, publishing itself, and the scheduler's run of a scheduled post.

Nothing goes out without the click of the owner or of someone they made a reviewer (checked against
the roles as they are now, as for drafts; recorded as ``reviewer``; publishing with the owner's
connection): Publish and Schedule record the approval (``draft → approved``, by whom, when)
before anything reaches a network, and the scheduler only publishes a post someone scheduled. Publishing holds the post's lease (one publisher across workers),
records each part's remote id before the next part goes out, and looks a part up by its stable
key before posting it, so a retry, a redelivered click or a restart mid-thread resumes after the
last part that went out, never posting one twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.app.context import PAUSED, AppContext
from core.app.models import ModelCache
from core.app.post_cards import PART_SEPARATOR, edit_text, over_limit, platform_of, render_post
from core.app.posts import PostRequest, Posts
from core.drafting.posts import split_thread
from core.models import (
    Account,
    AccountId,
    Action,
    ActionInvocation,
    ActionOutcome,
    Draft,
    DraftOption,
    DraftStatus,
    Feedback,
    FeedbackKind,
    Message,
    Reply,
    StoredMessage,
    UserRef,
)
from core.post_times import next_slot, window_of
from core.privacy import Disclosure, apply_disclosure
from core.publishing import (
    Actor,
    Network,
    NetworkError,
    NetworkSession,
    Post,
    PostEvent,
    PostJobs,
    PostStatus,
    record_key,
)
from core.scheduling import schedule_of

if TYPE_CHECKING:
    from core.app.teams import Teams

LEASE = timedelta(minutes=10)
"""How long one publisher holds a post; a worker that died mid-thread frees it after this."""
NOT_YOURS = "That post isn't yours, or it no longer exists."
CONNECT_HOW = {
    "bluesky": "`connect bluesky <handle> <app-password>`",
    "x": "`connect x <access-token>`",
    "linkedin": "`connect linkedin <access-token>`",
}
_WHY = {
    "auth": "it refused the credentials (reconnect with {how})",
    "rate": "it is rate-limiting ({wait})",
    "server": "it failed on its side ({detail})",
    "refused": "it refused the post ({detail})",
}


def _stepped(post: Post, status: PostStatus, actor: Actor, at: datetime, note: str = "") -> Post:
    event = PostEvent(status=status, actor=actor, at=at, note=note)
    return replace(post, status=status, events=(*post.events, event))


class PostActions:
    """Clicks on posts and the publishing they lead to."""

    def __init__(
        self,
        ctx: AppContext,
        models: ModelCache,
        posts: Posts,
        *,
        networks: Mapping[str, Network],
        teams: Teams | None = None,
    ) -> None:
        self._ctx = ctx
        self._teams = teams
        self._models = models
        self._posts = posts
        self._networks = dict(networks)

    @property
    def _jobs(self) -> PostJobs | None:
        jobs = self._ctx.jobs
        return jobs if isinstance(jobs, PostJobs) else None

    async def _mine(self, user: UserRef, post_id: str) -> tuple[Account, Post] | None:
        stores = self._ctx.stores
        account = await stores.accounts.resolve(user, create=False)
        post = None if account is None else await stores.posts.get(account.id, post_id)
        return None if account is None or post is None else (account, post)

    async def _ours(
        self, user: UserRef, post_id: str, action: Action
    ) -> tuple[Account, Post, Actor] | str | None:
        """The clicker's own post (they act as its owner), else a post of a persona shared
        with them whose role allows ``action`` now (they act as its reviewer, on the owner's
        account); a refusal to show; ``None`` when it is neither."""
        found = await self._mine(user, post_id)
        if found is not None:
            return (*found, Actor.owner(user))
        shared = None if self._teams is None else await self._teams.team_post(user, post_id, action)
        return shared if not isinstance(shared, tuple) else (*shared, Actor.reviewer(user))

    async def handle(self, action: ActionInvocation) -> ActionOutcome:
        """Act on a click on a post by its owner or by a reviewer (or editor) of its persona;
        anyone else's click is refused (the id is looked up only among the clicker's posts and
        those of personas where their role allows the click now), changing nothing."""
        found = await self._ours(action.user, action.draft_id, action.action)
        if isinstance(found, str):
            return ActionOutcome(reply=Reply(text=found))
        if found is None:
            return ActionOutcome(reply=Reply(text=NOT_YOURS))
        account, post, actor = found
        if post.status in (PostStatus.PUBLISHED, PostStatus.DISMISSED):
            return ActionOutcome(
                reply=Reply(text=f"That post was already handled ({post.status.value}).")
            )
        if action.action is Action.PUBLISH:
            return ActionOutcome(reply=await self.publish(account, post, actor))
        if action.action is Action.SCHEDULE:
            return ActionOutcome(reply=await self._schedule(account, post, actor))
        if post.status is PostStatus.APPROVED and action.action is not Action.DISMISS:
            return ActionOutcome(
                reply=Reply(
                    text="It is approved and may be partly out already: Publish (it continues "
                    "where it stopped), or Dismiss.",
                    buttons=render_post(post, zone=self._zone(account)).buttons,
                )
            )
        if action.action is Action.EDIT:
            if not (action.edited_text or "").strip():
                return ActionOutcome(needs_text=True)
            return ActionOutcome(reply=await self._edit(account, post, action.edited_text or ""))
        if action.action is Action.REGENERATE:
            return ActionOutcome(reply=await self._regenerate(account, post, actor))
        return ActionOutcome(reply=await self._dismiss(account, post, actor))

    def _zone(self, account: Account) -> str:
        return schedule_of(account.settings).timezone

    async def pending(self, user: UserRef, post_id: str) -> Draft | None:
        """The post while its owner (or a reviewer of its persona) can still edit it, as a
        one-option draft (so each platform's Edit prefills it as it does a reply); else ``None``."""
        found = await self._ours(user, post_id, Action.EDIT)
        if not isinstance(found, tuple):
            return None
        _, post, _ = found
        if post.status in (PostStatus.PUBLISHED, PostStatus.DISMISSED) or post.published_parts:
            return None
        platform = platform_of(post)
        return Draft(
            id=post.id,
            account_id=post.account_id,
            persona_id=post.persona_id,
            incoming=Message(
                id=post.id,
                conversation=f"post:{post.network}",
                thread=None,
                sender=f"your {platform.name} post",
                text=post.topic,
                sent_at=post.created_at,
            ),
            options=(
                DraftOption(
                    text=edit_text(post),
                    engine=post.engine,
                    style_score=min(p.style_score for p in post.parts),
                ),
            ),
            status=DraftStatus.PENDING,
            created_at=post.created_at,
            owner=post.owner,
        )

    # ----------------------------------------------------------------- publishing

    async def publish(self, account: Account, post: Post, actor: Actor) -> Reply:
        """Approve (if still a draft) and publish the post, part by part, resumably."""
        zone = self._zone(account)
        too_long = over_limit(post)
        if too_long:
            platform = platform_of(post)
            return Reply(
                text=f"Part {', '.join(map(str, too_long))} is over {platform.name}'s "
                f"{platform.limit} characters: Edit it first. Nothing was published.",
                buttons=render_post(post, zone=zone).buttons,
            )
        if account.paused and actor.kind == "scheduler":
            return Reply(text=PAUSED)
        if post.status is PostStatus.DRAFT:
            approved = _stepped(post, PostStatus.APPROVED, actor, self._ctx.clock())
            if not await self._ctx.stores.posts.save(approved, expect=PostStatus.DRAFT):
                return Reply(text="That post changed meanwhile; look at it again with `posts`.")
            post = approved
        credentials = await self._ctx.stores.connections.get(account.id, post.network)
        network = self._networks.get(post.network)
        name = platform_of(post).name
        if credentials is None or network is None:
            why = (
                f"connect {name} first with {CONNECT_HOW[post.network]}"
                if network is not None
                else f"publishing to {name} is not set up on this server"
            )
            return render_post(
                post, zone=zone, notes=(f"Approved, not published: {why}; then Publish again.",)
            )
        now = self._ctx.clock()
        if not await self._ctx.stores.posts.claim(account.id, post.id, now=now, until=now + LEASE):
            current = await self._ctx.stores.posts.get(account.id, post.id)
            if current is not None and current.status is not post.status:
                return Reply(text=f"That post was already handled ({current.status.value}).")
            return Reply(text="That post is being published right now; nothing was done twice.")
        # What the previous holder of the lease recorded, read after taking it.
        post = await self._ctx.stores.posts.get(account.id, post.id) or post
        status = post.status
        try:
            async with network.session(credentials) as session:
                post = await self._parts(account, post, session)
        except NetworkError as error:
            # The parts that went out were recorded one by one: read them back, free the lease.
            post = await self._ctx.stores.posts.get(account.id, post.id) or post
            await self._ctx.stores.posts.save(post, expect=status, release=True)
            return render_post(post, zone=zone, notes=(self._failure(post, error),))
        except BaseException:
            current = await self._ctx.stores.posts.get(account.id, post.id)
            if current is not None:
                await self._ctx.stores.posts.save(current, expect=status, release=True)
            raise
        published = _stepped(post, PostStatus.PUBLISHED, actor, self._ctx.clock(), post.url or "")
        published = replace(published, scheduled_for=post.scheduled_for)
        await self._ctx.stores.posts.save(published, expect=status, release=True)
        await self._learn(published)
        where = "a thread of " + str(len(post.parts)) if len(post.parts) > 1 else "one post"
        return Reply(text=f"✓ Published to {name} ({where}): {published.url}")

    async def _parts(self, account: Account, post: Post, session: NetworkSession) -> Post:
        """Each part not yet out: look it up by its key, else post it; record it at once."""
        status = post.status
        persona = await self._ctx.stores.personas.get(account.id, post.persona_id)
        owner = persona.owner_names[0] if persona and persona.owner_names else "the owner"
        for index, part in enumerate(post.parts):
            if part.published is not None:
                continue
            key = record_key(post, index)
            root = post.parts[0].published
            parent = post.parts[index - 1].published if index else None
            text = part.text
            if post.disclosure and index == len(post.parts) - 1:
                text = apply_disclosure(
                    text,
                    Disclosure(post.disclosure),
                    owner_name=owner,
                    limit=platform_of(post).limit,
                )
            found = await session.find(key, text=text, parent=parent)
            out = found or await session.publish(text, key=key, parent=parent, root=root)
            parts = list(post.parts)
            parts[index] = replace(part, published=out)
            post = replace(post, parts=tuple(parts))
            await self._ctx.stores.posts.save(post, expect=status)
        return post

    def _failure(self, post: Post, error: NetworkError) -> str:
        name = platform_of(post).name
        wait = (
            f"try again in {int(error.retry_after_s)} s"
            if error.retry_after_s
            else "try again in a while"
        )
        why = _WHY[error.kind].format(how=CONNECT_HOW[post.network], wait=wait, detail=error)
        done = post.published_parts
        progress = (
            f"{done} of {len(post.parts)} parts are out; Publish continues with part {done + 1}"
            if done
            else "Nothing was published"
        )
        return f"Couldn't publish to {name}: {why}. {progress}, never posting one twice."

    async def _learn(self, post: Post) -> None:
        """A published post becomes one of the owner's posts: later posts draw on it."""
        persona = await self._ctx.stores.personas.get(post.account_id, post.persona_id)
        if persona is None:
            return
        owner = persona.owner_names[0] if persona.owner_names else "me"
        await self._feedback(post, FeedbackKind.SENT, post.text)
        sample = Message(
            id=f"post:{post.id}",
            conversation=f"post:{post.network}",
            thread=None,
            sender=owner,
            text=post.text,
            sent_at=self._ctx.clock(),
        )

        async def one() -> AsyncIterator[StoredMessage]:
            yield StoredMessage(
                message=sample, persona_id=persona.id, from_owner=True, source="feedback"
            )

        await self._ctx.stores.messages.add_stream(post.account_id, one())
        self._models.forget(post.account_id, persona.id)

    async def _feedback(self, post: Post, kind: FeedbackKind, text: str) -> None:
        await self._ctx.stores.feedback.add(
            Feedback(
                account_id=post.account_id,
                persona_id=post.persona_id,
                kind=kind,
                draft_id=post.id,
                message_id=None,
                text=text,
                at=self._ctx.clock(),
            )
        )

    async def publish_scheduled(
        self, account_id: AccountId, post_id: str
    ) -> tuple[UserRef, Reply] | None:
        """The scheduler's run: publish the post if it is still scheduled (once), and what to
        tell the owner; ``None`` when it was cancelled, dismissed or published meanwhile."""
        account = await self._ctx.stores.accounts.get(account_id)
        post = None if account is None else await self._ctx.stores.posts.get(account_id, post_id)
        if account is None or post is None or post.status is not PostStatus.SCHEDULED:
            return None
        if account.paused:
            back = _stepped(post, PostStatus.DRAFT, Actor.scheduler(), self._ctx.clock(), "paused")
            await self._ctx.stores.posts.save(back, expect=PostStatus.SCHEDULED)
            return post.owner, render_post(
                back, zone=self._zone(account), notes=(f"{PAUSED} The scheduled post waits.",)
            )
        reply = await self.publish(account, post, Actor.scheduler())
        return post.owner, replace(reply, text="Scheduled post: " + reply.text)

    # ----------------------------------------------------------------- the other clicks

    async def _schedule(self, account: Account, post: Post, actor: Actor) -> Reply:
        zone = self._zone(account)
        jobs = self._jobs
        if jobs is None:
            return Reply(
                text="No scheduler runs here (it starts with `minime run` or `minime chat`); "
                "Publish now instead?",
                buttons=render_post(post, zone=zone).buttons,
            )
        now = self._ctx.clock()
        notes: tuple[str, ...] = ()
        when = post.scheduled_for
        if when is None or when <= now:
            if when is not None:
                notes = ("The time you asked for has passed; the next slot instead.",)
            window = window_of(account.settings, post.persona_id)
            when = next_slot(window, now=now, zone=zone)
        if post.status is PostStatus.SCHEDULED:
            return render_post(post, zone=zone, notes=("Already scheduled.",))
        expect = post.status
        stepped = post
        if stepped.status is PostStatus.DRAFT:
            stepped = _stepped(stepped, PostStatus.APPROVED, actor, now)
        stepped = replace(_stepped(stepped, PostStatus.SCHEDULED, actor, now), scheduled_for=when)
        if not await self._ctx.stores.posts.save(stepped, expect=expect):
            return Reply(text="That post changed meanwhile; look at it again with `posts`.")
        await jobs.set_post(account.id, post.id, when)
        notes += ("`posts scheduled` lists scheduled posts; `posts cancel <n>` cancels one.",)
        return render_post(stepped, zone=zone, notes=notes)

    async def cancel(self, account: Account, post: Post, actor: Actor) -> bool:
        """A scheduled post back to a draft, its job removed."""
        back = replace(
            _stepped(post, PostStatus.DRAFT, actor, self._ctx.clock(), "schedule cancelled"),
            scheduled_for=None,
        )
        if not await self._ctx.stores.posts.save(back, expect=PostStatus.SCHEDULED):
            return False
        if self._jobs is not None:
            await self._jobs.clear_post(account.id, post.id)
        return True

    async def _edit(self, account: Account, post: Post, text: str) -> Reply:
        platform = platform_of(post)
        pieces = [p.strip() for p in text.split(f"\n{PART_SEPARATOR}\n")]
        pieces = [p for p in pieces if p]
        if len(pieces) == 1 and len(pieces[0]) > platform.limit and platform.threads:
            pieces = split_thread(pieces[0], limit=platform.limit)
        persona = await self._ctx.stores.personas.get(account.id, post.persona_id)
        if persona is None:
            return Reply(text=NOT_YOURS)
        model = await self._models.get(account, persona)
        scores = await asyncio.to_thread(model.style.score, pieces)
        edited = replace(
            post,
            parts=tuple(
                replace(post.parts[0], text=t, style_score=s, published=None)
                for t, s in zip(pieces, scores, strict=True)
            ),
            engine="edited",
        )
        if not await self._ctx.stores.posts.save(edited, expect=post.status):
            return Reply(text="That post changed meanwhile; look at it again with `posts`.")
        await self._feedback(post, FeedbackKind.EDITED, edited.text)
        return render_post(edited, zone=self._zone(account), notes=("Edited: I learn from it.",))

    async def _dismiss(self, account: Account, post: Post, actor: Actor) -> Reply:
        gone = _stepped(post, PostStatus.DISMISSED, actor, self._ctx.clock())
        if not await self._ctx.stores.posts.save(gone, expect=post.status):
            return Reply(text="That post changed meanwhile; look at it again with `posts`.")
        if post.status is PostStatus.SCHEDULED and self._jobs is not None:
            await self._jobs.clear_post(account.id, post.id)
        await self._feedback(post, FeedbackKind.DISMISSED, post.text)
        return Reply(text="Dismissed. I won't offer that one for this topic again.")

    async def _regenerate(self, account: Account, post: Post, actor: Actor) -> Reply:
        gone = _stepped(post, PostStatus.DISMISSED, actor, self._ctx.clock(), "regenerated")
        if not await self._ctx.stores.posts.save(gone, expect=post.status):
            return Reply(text="That post changed meanwhile; look at it again with `posts`.")
        await self._feedback(post, FeedbackKind.REGENERATED, post.text)
        persona = await self._ctx.stores.personas.get(account.id, post.persona_id)
        if persona is None:
            return Reply(text=NOT_YOURS)
        platform = platform_of(post)
        request = PostRequest(
            platform=platform,
            network=post.network,
            topic=post.topic,
            parts=len(post.parts) if len(post.parts) > 1 else None,
            persona=None,
            at=None,
            zone=None,
            variants=1,
        )
        made = await self._posts.make(
            account,
            persona,
            request,
            owner=str(post.owner),
            at=post.scheduled_for,
            zone=self._zone(account),
            exclude=await self._posts.rejected(account, persona.id) | {post.text},
        )
        if isinstance(made, list):
            made = made[0]
        if not made.buttons:
            return replace(made, text="No other take on this topic.\n" + made.text)
        return made
