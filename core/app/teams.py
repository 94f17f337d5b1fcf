"""Team personas: roles other people hold on one of the owner's personas.

The owner invites by mention (someone on the same platform who has used minime there) or with a
one-time code; only the owner changes roles. A reviewer approves, edits or dismisses the
persona's drafts and publishes, schedules or dismisses its posts (each step records who clicked); a viewer sees its analytics; an editor
also changes its attributes. Removing someone takes effect at once: every click is checked
against the roles as they are now, so their old buttons stop working.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from core.app.context import AppContext
from core.app.post_cards import render_post
from core.app.rendering import render_draft
from core.models import (
    Account,
    AccountId,
    Action,
    CommandInvocation,
    Draft,
    DraftStatus,
    Persona,
    Reply,
    UserRef,
)
from core.ports import Notifier
from core.publishing import Post, PostStatus
from core.scheduling import schedule_of
from core.teams import GRANTABLE, Member, Role, label, mention_id

T = TypeVar("T", Draft, Post)

INVITE_TTL_S = 7 * 24 * 3600
"""An invitation code works once, for a week."""

_NEEDED = {
    Action.SEND: Role.REVIEWER,
    Action.EDIT: Role.REVIEWER,
    Action.DISMISS: Role.REVIEWER,
    Action.REGENERATE: Role.REVIEWER,
    Action.PUBLISH: Role.REVIEWER,
    Action.SCHEDULE: Role.REVIEWER,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A persona someone may act on: their own (``OWNER``) or one shared with them."""

    account_id: AccountId
    persona: Persona
    role: Role


def _role(word: str) -> Role | None:
    try:
        role = Role(word.lower())
    except ValueError:
        return None
    return role if role in GRANTABLE else None


class Teams:
    """``persona invite | join | role | remove | team | review``, and who may click what."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.notifier: Notifier | None = None

    async def target(
        self, account: Account, user: UserRef, name: str, needed: Role
    ) -> Target | str:
        """The persona called ``name`` that ``user`` may act on with ``needed``, or why not.

        One's own personas go by their name; a persona shared with one by ``owner/name``
        (or by its name alone when one has no persona of that name).
        """
        wanted = " ".join(name.split()).lower()
        owner_part, slash, shared_name = wanted.partition("/")
        owner_id = (mention_id(owner_part) or owner_part).lower() if slash else None
        own = await self._ctx.stores.personas.list(account.id)
        for persona in own:
            if persona.name.lower() == wanted and owner_id is None:
                return Target(account_id=account.id, persona=persona, role=Role.OWNER)
        for member in await self._ctx.stores.teams.memberships(user):
            if member.account_id == account.id:
                continue
            if owner_id is None:
                if member.persona_name.lower() != wanted:
                    continue
            elif (
                member.owner.user_id.lower() != owner_id
                or member.persona_name.lower() != shared_name
            ):
                continue
            if not member.role.allows(needed):
                return f"You are {_a(member.role)} of '{label(member)}'; that needs {needed}."
            shared = await self._ctx.stores.personas.get(member.account_id, member.persona_id)
            if shared is not None:
                return Target(account_id=member.account_id, persona=shared, role=member.role)
        return f"No persona '{name}'. You have: {', '.join(p.name for p in own)}."

    async def team_draft(
        self, user: UserRef, draft_id: str, action: Action
    ) -> tuple[Account, Draft] | str | None:
        """A draft of a team persona ``user`` may act on now: the owner's account and the
        draft; a refusal to show; ``None`` when ``user`` holds no role on its persona."""

        async def find(member: Member) -> Draft | None:
            draft = await self._ctx.stores.drafts.get(member.account_id, draft_id)
            return draft if draft is not None and draft.persona_id == member.persona_id else None

        return await self._shared(user, action, "drafts", find)

    async def team_post(
        self, user: UserRef, post_id: str, action: Action
    ) -> tuple[Account, Post] | str | None:
        """A post of a team persona ``user`` may act on now (the same role check as drafts):
        the owner's account and the post; a refusal; ``None`` when ``user`` holds no role."""

        async def find(member: Member) -> Post | None:
            post = await self._ctx.stores.posts.get(member.account_id, post_id)
            return post if post is not None and post.persona_id == member.persona_id else None

        return await self._shared(user, action, "posts", find)

    async def _shared(
        self,
        user: UserRef,
        action: Action,
        what: str,
        find: Callable[[Member], Awaitable[T | None]],
    ) -> tuple[Account, T] | str | None:
        """Who may click ``action`` on an item of a persona shared with ``user``, checked
        against the roles as they are now (a removed member finds nothing)."""
        needed = _NEEDED.get(action)
        for member in await self._ctx.stores.teams.memberships(user):
            item = await find(member)
            if item is None:
                continue
            if needed is None or not member.role.allows(needed):
                return f"As {_a(member.role)} of '{label(member)}' you can't act on its {what}."
            owner = await self._ctx.stores.accounts.get(member.account_id)
            return None if owner is None else (owner, item)
        return None

    async def invite(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona invite <name> [@someone] <role>``: a role at once, or a one-time code."""
        if len(args) not in (2, 3):
            return Reply(text=_usage("invite <name> [@someone] viewer|reviewer|editor"))
        target = await self.target(account, command.user, args[0], Role.OWNER)
        if isinstance(target, str):
            return Reply(text=_owner_only(target))
        role = _role(args[-1])
        if role is None:
            return Reply(text=f"No role '{args[-1]}'. Roles: viewer, reviewer, editor.")
        if len(args) == 2:
            code = await self._ctx.stores.teams.issue_invite(
                account.id, target.persona.id, role, owner=command.user, ttl_s=INVITE_TTL_S
            )
            return Reply(
                text=f"Invitation code for {role} of '{target.persona.name}': {code} "
                f"(works once, for 7 days). They type `persona join {code}`."
            )
        return await self._grant(account, command, target, args[1], role)

    async def role(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona role <name> @someone <role>``: only the owner changes roles."""
        if len(args) != 3:
            return Reply(text=_usage("role <name> @someone viewer|reviewer|editor"))
        target = await self.target(account, command.user, args[0], Role.OWNER)
        if isinstance(target, str):
            return Reply(text=_owner_only(target))
        role = _role(args[2])
        if role is None:
            return Reply(text=f"No role '{args[2]}'. Roles: viewer, reviewer, editor.")
        return await self._grant(account, command, target, args[1], role)

    async def _grant(
        self, account: Account, command: CommandInvocation, target: Target, who: str, role: Role
    ) -> Reply:
        user_id = mention_id(who)
        if user_id is None:
            return Reply(
                text=f"'{who}' is not a mention of someone on this workspace. Mention them "
                f"(@name), or invite with a code: `persona invite {target.persona.name} {role}`."
            )
        user = UserRef(platform=command.user.platform, user_id=user_id)
        if user == command.user:
            return Reply(text="You own this persona already.")
        if await self._ctx.stores.accounts.resolve(user, create=False) is None:
            return Reply(
                text=f"{who} is not on this workspace as far as I know (they have never used "
                f"minime here). Send them a code instead: `persona invite {target.persona.name} {role}`."
            )
        await self._ctx.stores.teams.set_role(
            account.id, target.persona.id, user, role, owner=command.user
        )
        shared = f"{command.user.user_id}/{target.persona.name}"
        await self._tell(
            user,
            f"You are now {_a(role)} of the persona '{shared}'."
            + (
                f" `persona review {shared}` shows its drafts."
                if role.allows(Role.REVIEWER)
                else ""
            ),
        )
        return Reply(text=f"{who} is now {_a(role)} of '{target.persona.name}'.")

    async def join(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona join <code>``."""
        if len(args) != 1:
            return Reply(text=_usage("join <code>"))
        member = await self._ctx.stores.teams.redeem_invite(args[0], command.user)
        if member is None:
            return Reply(text="That code is unknown, used or expired. Ask for a new one.")
        if member.account_id == account.id:
            await self._ctx.stores.teams.set_role(
                account.id, member.persona_id, command.user, None, owner=command.user
            )
            return Reply(text="That is your own persona.")
        return Reply(text=f"You are now {_a(member.role)} of the persona '{label(member)}'.")

    async def remove(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona remove <name> @someone``: at once; their pending buttons stop working."""
        if len(args) != 2:
            return Reply(text=_usage("remove <name> @someone"))
        target = await self.target(account, command.user, args[0], Role.OWNER)
        if isinstance(target, str):
            return Reply(text=_owner_only(target))
        user_id = mention_id(args[1]) or args[1]
        members = [
            m
            for m in await self._ctx.stores.teams.members(account.id)
            if m.persona_id == target.persona.id and m.user.user_id == user_id
        ]
        if not members:
            return Reply(text=f"{args[1]} holds no role on '{target.persona.name}'.")
        for member in members:
            await self._ctx.stores.teams.set_role(
                account.id, target.persona.id, member.user, None, owner=command.user
            )
            await self._tell(
                member.user, f"You no longer have a role on the persona '{target.persona.name}'."
            )
        return Reply(text=f"Removed {args[1]} from '{target.persona.name}', effective now.")

    async def team(self, account: Account, user: UserRef) -> Reply:
        """``persona team``: who holds roles on your personas, and the roles you hold."""
        stores = self._ctx.stores
        mine = await stores.teams.members(account.id)
        theirs = [m for m in await stores.teams.memberships(user) if m.account_id != account.id]
        lines = ["Your team personas:" if mine else "Nobody holds a role on your personas."]
        lines += [f"  {m.persona_name}: {m.user.user_id} ({m.role})" for m in mine]
        if theirs:
            lines.append("Shared with you:")
            lines += [f"  {label(m)} ({m.role})" for m in theirs]
        return Reply(text="\n".join(lines))

    async def shared_with_me(self, account: Account, user: UserRef) -> list[Member]:
        return [
            m for m in await self._ctx.stores.teams.memberships(user) if m.account_id != account.id
        ]

    async def review(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona review <name>``: the persona's oldest pending draft with its buttons."""
        if not args:
            return Reply(text=_usage("review <name>"))
        target = await self.target(account, command.user, " ".join(args), Role.REVIEWER)
        if isinstance(target, str):
            return Reply(text=target)
        pending = [
            d
            for d in await self._ctx.stores.drafts.pending(target.account_id)
            if d.persona_id == target.persona.id and d.status is DraftStatus.PENDING
        ]
        if not pending:
            return await self._review_post(target, " ".join(args))
        pending.sort(key=lambda d: d.created_at)
        card = render_draft(pending[0], None)
        more = f" ({len(pending) - 1} more after this one)" if len(pending) > 1 else ""
        return Reply(
            text=f"Draft of '{' '.join(args)}' for review{more}:\n{card.text}",
            buttons=card.buttons,
            draft=card.draft,
        )

    async def _review_post(self, target: Target, shown: str) -> Reply:
        """The persona's oldest post draft with its buttons, when no reply draft waits."""
        posts = [
            p
            async for p in self._ctx.stores.posts.list(target.account_id)
            if p.persona_id == target.persona.id and p.status is PostStatus.DRAFT
        ]
        owner = await self._ctx.stores.accounts.get(target.account_id)
        if not posts or owner is None:
            return Reply(text=f"No drafts of '{target.persona.name}' wait for review.")
        card = render_post(posts[-1], zone=schedule_of(owner.settings).timezone)
        more = f" ({len(posts) - 1} more after this one)" if len(posts) > 1 else ""
        return replace(card, text=f"Post of '{shown}' for review{more}:\n{card.text}")

    async def draft_waiting(self, account_id: AccountId, persona: Persona, draft: Draft) -> None:
        """Tell the persona's reviewers (and editors) that one of its drafts waits."""
        if self.notifier is None:
            return
        shared = f"{draft.owner.user_id}/{persona.name}"
        for member in await self._ctx.stores.teams.members(account_id):
            if member.persona_id == persona.id and member.role.allows(Role.REVIEWER):
                await self._tell(
                    member.user,
                    f"A draft of '{shared}' waits for review: `persona review {shared}`.",
                )

    async def _tell(self, user: UserRef, text: str) -> None:
        if self.notifier is not None:
            await self.notifier.notify(user, Reply(text=text))


def _usage(rest: str) -> str:
    return f"Usage: persona {rest}"


def _owner_only(reason: str) -> str:
    if reason.startswith("You are "):
        return reason.split(";")[0] + "; only the owner invites people or changes roles."
    return reason


def _a(role: Role) -> str:
    return f"an {role}" if role is Role.EDITOR else f"a {role}"
