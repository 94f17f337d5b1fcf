"""Ask my clone: the owner lets others ask one persona's clone, on terms the owner sets.

``persona share ask <persona> with @someone|anyone-in-workspace [topics …] [quota N/day] [auto]``
opens it; the asker types ``ask @owner <question>``. The answer is drafted from that persona
only, on the allowed topics, never touching what the persona avoids. By default it waits for the
owner's approval (a draft in the owner's inbox, with Send · Edit · Dismiss); with ``auto`` it goes
out at once with a disclosure saying nobody reviewed it. Every question is metered per asker
(``persona shares`` shows the counts) and the owner can revoke at any time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time

from core.app.context import AppContext
from core.app.drafting import Drafting
from core.app.inbox import Inbox
from core.app.persona_identity import by_name
from core.app.rendering import render_draft
from core.models import (
    Account,
    CommandInvocation,
    Draft,
    DraftStatus,
    IncomingMessage,
    Message,
    Priority,
    Reply,
    UserRef,
)
from core.ports import Notifier
from core.teams import ANYONE, Consult, ConsultStatus, Share, mention_id, on_topic, split_topics

CONSULT_PREFIX = "consult:"
"""The conversation of a consult's draft: its approved text goes to the asker, not a channel."""
ANYONE_WORDS = frozenset({"anyone-in-workspace", "anyone", "everyone"})
SHARE_USAGE = (
    "Usage: persona share ask <persona> with @someone|anyone-in-workspace "
    "[topics <a, b>] [quota <N>/day] [auto]"
)
UNAVAILABLE = "Nobody by that name lets you ask their clone."


def disclosure(owner: str, *, reviewed: bool) -> str:
    """The line every consult answer carries."""
    if reviewed:
        return f"— answered by {owner}'s AI clone (minime), approved by {owner}."
    return f"— answered automatically by {owner}'s AI clone (minime); {owner} has not reviewed it."


def _day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


def _parse_terms(words: Sequence[str]) -> tuple[tuple[str, ...], int | None, bool] | str:
    """``topics a, b quota 5/day auto`` → topics, quota, auto; or what is wrong."""
    topics: list[str] = []
    quota: int | None = None
    auto = False
    mode = ""
    for word in words:
        low = word.lower()
        if low in ("topics", "topic", "about"):
            mode = "topics"
        elif low == "quota":
            mode = "quota"
        elif low in ("auto", "auto-answer"):
            auto, mode = True, ""
        elif mode == "quota":
            number = low.removesuffix("/day").removesuffix("/d")
            if not number.isdigit() or not 0 < int(number) <= 10_000:
                return f"Quota '{word}' is not a number of questions a day (e.g. quota 5/day)."
            quota, mode = int(number), ""
        elif mode == "topics":
            topics.append(word)
        else:
            return f"I don't understand '{word}'. {SHARE_USAGE}"
    return split_topics(" ".join(topics).replace(" and ", ", ")) if topics else (), quota, auto


class Consults:
    """Shares of a persona's clone, the questions others ask it, and their answers."""

    def __init__(self, ctx: AppContext, drafting: Drafting, inbox: Inbox) -> None:
        self._ctx = ctx
        self._drafting = drafting
        self._inbox = inbox
        self.notifier: Notifier | None = None

    # ----------------------------------------------------------------- the owner

    async def share(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona share ask <persona> with <who> [terms]``."""
        if len(args) < 4 or args[0].lower() != "ask" or args[2].lower() != "with":
            return Reply(text=SHARE_USAGE)
        persona = by_name(await self._ctx.stores.personas.list(account.id), args[1])
        if persona is None:
            return Reply(
                text=f"No persona '{args[1]}' to share (was it deleted?). `persona list` shows yours."
            )
        who = args[3]
        if who.lower() in ANYONE_WORDS:
            asker = ANYONE
        else:
            found = mention_id(who)
            if found is None:
                return Reply(text=f"'{who}' is not a mention. {SHARE_USAGE}")
            asker = found
        terms = _parse_terms(args[4:])
        if isinstance(terms, str):
            return Reply(text=terms)
        topics, quota, auto = terms
        share = Share(
            id=uuid.uuid4().hex,
            account_id=account.id,
            persona_id=persona.id,
            platform=command.user.platform,
            asker=asker,
            topics=topics,
            quota=quota,
            auto=auto,
            created_at=self._ctx.clock(),
        )
        await self._ctx.stores.shares.put(share)
        whom = "anyone on this workspace" if asker == ANYONE else who
        terms_text = [
            f"topics: {', '.join(topics)}" if topics else "any topic",
            f"{quota} questions a day each" if quota else "no daily limit",
            "answers go out at once with a disclosure"
            if auto
            else "every answer waits for your approval",
        ]
        return Reply(
            text=f"{whom} may now ask your clone '{persona.name}' ({'; '.join(terms_text)}). "
            f"They type `{command.command_prefix}ask @{command.user.user_id} <question>`. "
            f"`persona shares` shows the usage; `persona unshare {persona.name}` revokes."
        )

    async def unshare(self, account: Account, args: Sequence[str]) -> Reply:
        """``persona unshare <persona> [@someone|anyone]``: revoked at once."""
        if not args:
            return Reply(text="Usage: persona unshare <persona> [@someone|anyone-in-workspace]")
        persona = by_name(await self._ctx.stores.personas.list(account.id), args[0])
        if persona is None:
            return Reply(text=f"No persona '{args[0]}'.")
        who = args[1] if len(args) > 1 else None
        asker = None if who is None else ANYONE if who.lower() in ANYONE_WORDS else mention_id(who)
        shares = [
            s
            for s in await self._ctx.stores.shares.shares(account.id)
            if s.persona_id == persona.id and (asker is None or s.asker == asker)
        ]
        if not shares:
            return Reply(
                text=f"'{persona.name}' is not shared{'' if who is None else ' with ' + who}."
            )
        removed = await self._ctx.stores.shares.revoke(account.id, [s.id for s in shares])
        return Reply(
            text=f"Revoked {removed} share(s) of '{persona.name}': nobody can ask it under them now."
        )

    async def shares_reply(self, account: Account) -> Reply:
        """``persona shares``: every share with its terms, and questions per asker (metering)."""
        stores = self._ctx.stores
        shares = await stores.shares.shares(account.id)
        if not shares:
            return Reply(
                text="You share no clone. `persona share ask <persona> with @someone` does."
            )
        names = {p.id: p.name for p in await stores.personas.list(account.id)}
        consults = await stores.shares.consults(account.id)
        today = _day_start(self._ctx.clock())
        lines = ["Who may ask your clone:"]
        for share in shares:
            who = (
                "anyone on " + share.platform
                if share.asker == ANYONE
                else f"{share.platform}:{share.asker}"
            )
            terms = ", ".join(share.topics) or "any topic"
            quota = f"{share.quota}/day" if share.quota else "no limit"
            mode = "auto-answer" if share.auto else "you approve"
            lines.append(f"  {names.get(share.persona_id, '?')} → {who} ({terms}; {quota}; {mode})")
        per: dict[str, list[Consult]] = {}
        for consult in consults:
            per.setdefault(str(consult.asker), []).append(consult)
        if per:
            lines.append("Questions asked (today / all time / waiting for you):")
            for asker, asked in per.items():
                now = sum(c.asked_at >= today for c in asked)
                waiting = sum(c.status is ConsultStatus.PENDING for c in asked)
                lines.append(f"  {asker}: {now} / {len(asked)} / {waiting}")
        return Reply(text="\n".join(lines))

    # ----------------------------------------------------------------- the asker

    async def ask(self, asker: UserRef, owner_word: str, question: str) -> Reply:
        """``ask @owner <question>``: the owner's clone answers, if the owner allows it."""
        question = question.strip()
        owner_id = mention_id(owner_word)
        if owner_id is None or not question:
            return Reply(
                text="Usage: ask @someone <question> (someone who shares their clone with you)"
            )
        stores = self._ctx.stores
        owner_ref = UserRef(platform=asker.platform, user_id=owner_id)
        owner = await stores.accounts.resolve(owner_ref, create=False)
        if owner is None or owner_ref == asker:
            return Reply(text=UNAVAILABLE)
        shares = [s for s in await stores.shares.shares(owner.id) if s.admits(asker)]
        if not shares or owner.paused:
            return Reply(text=UNAVAILABLE)
        shares.sort(key=lambda s: s.asker == ANYONE)  # a share named for the asker wins
        share = shares[0]
        if not on_topic(question, share.topics):
            return Reply(text=f"{owner_id}'s clone answers only about: {', '.join(share.topics)}.")
        now = self._ctx.clock()
        if share.quota is not None:
            asked = [
                c
                for c in await stores.shares.consults(owner.id, since=_day_start(now))
                if c.asker == asker and c.persona_id == share.persona_id
            ]
            if len(asked) >= share.quota:
                return Reply(
                    text=f"You have asked {owner_id}'s clone {len(asked)} questions today, "
                    f"the most they allow ({share.quota}/day). Try again tomorrow."
                )
        persona = await stores.personas.get(owner.id, share.persona_id)
        if persona is None:
            return Reply(text=UNAVAILABLE)
        consult = Consult(
            id=uuid.uuid4().hex,
            account_id=owner.id,
            persona_id=persona.id,
            share_id=share.id,
            asker=asker,
            question=question,
            status=ConsultStatus.PENDING,
            asked_at=now,
        )
        message = Message(
            id=f"{CONSULT_PREFIX}{consult.id}",
            conversation=f"{CONSULT_PREFIX}{consult.id}",
            thread=None,
            sender=str(asker),
            text=question,
            sent_at=now,
        )
        result = await self._drafting.drafts(owner, persona, message)
        if not result.options or not result.offered:
            await stores.shares.record(replace(consult, status=ConsultStatus.NO_ANSWER))
            return Reply(text=f"{owner_id}'s clone has nothing to answer that from.")
        if share.auto:
            answer = result.options[0].text
            await stores.shares.record(replace(consult, status=ConsultStatus.AUTO, answer=answer))
            return Reply(text=f"{answer}\n{disclosure(owner_id, reviewed=False)}")
        draft = await self._drafting.keep(
            uuid.uuid4().hex,
            account=owner,
            persona=persona,
            incoming=message,
            options=result.options,
            owner=owner_ref,
        )
        await stores.shares.record(replace(consult, draft_id=draft.id))
        priority = Priority(
            score=0.8, needs_reply=True, reasons=(f"{asker.user_id} asks your clone",)
        )
        await self._inbox.keep_waiting(
            owner,
            persona,
            IncomingMessage(
                owner=owner_ref, message=message, sender_name=str(asker), is_direct=True
            ),
            priority,
        )
        # A line first, then the card: every platform shows the card as a draft of its own.
        await self._tell(
            owner_ref,
            Reply(text=f"{asker.user_id} asked your clone '{persona.name}': “{question}”"),
        )
        await self._tell(owner_ref, render_draft(draft, priority))
        return Reply(
            text=f"Asked. {owner_id} approves answers before they reach you; it will come here."
        )

    # ----------------------------------------------------------------- outcomes

    async def settled(self, account: Account, draft: Draft, text: str | None) -> Reply | None:
        """A consult draft was approved (``text``) or dismissed (``None``): tell the asker.

        Returns the reply for whoever clicked, or ``None`` when ``draft`` is no consult.
        """
        if not draft.incoming.conversation.startswith(CONSULT_PREFIX):
            return None
        consult_id = draft.incoming.conversation[len(CONSULT_PREFIX) :]
        stores = self._ctx.stores
        consult = next(
            (c for c in await stores.shares.consults(account.id) if c.id == consult_id), None
        )
        if consult is None:
            return Reply(text="That question is no longer there.")
        owner = draft.owner.user_id
        if text is None:
            await stores.shares.record(replace(consult, status=ConsultStatus.DISMISSED))
            await self._tell(
                consult.asker, Reply(text=f"{owner} chose not to answer “{consult.question}”.")
            )
            return Reply(text=f"Dismissed; {consult.asker.user_id} is told you won't answer.")
        await stores.shares.record(replace(consult, status=ConsultStatus.ANSWERED, answer=text))
        await stores.drafts.set_status(
            account.id, draft.id, DraftStatus.SENT, expect=DraftStatus.APPROVED
        )
        delivered = await self._tell(
            consult.asker,
            Reply(
                text=f"{owner}'s clone on “{consult.question}”:\n{text}\n{disclosure(owner, reviewed=True)}"
            ),
        )
        return Reply(
            text=f"Sent your clone's answer to {consult.asker.user_id}."
            if delivered
            else f"Approved; {consult.asker.user_id} gets it when I can reach them."
        )

    async def before_erase(self, account: Account, owner: UserRef) -> int:
        """The owner erases everything: tell each asker the clone is no longer available."""
        stores = self._ctx.stores
        askers = {c.asker for c in await stores.shares.consults(account.id)}
        for share in await stores.shares.shares(account.id):
            if share.asker != ANYONE:
                askers.add(UserRef(platform=share.platform, user_id=share.asker))
        for asker in askers:
            await self._tell(
                asker, Reply(text=f"{owner.user_id}'s clone is no longer available to ask.")
            )
        return len(askers)

    async def _tell(self, user: UserRef, reply: Reply) -> bool:
        if self.notifier is None:
            return False
        return await self.notifier.notify(user, reply)
