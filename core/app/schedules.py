"""Schedules: the daily digest, follow-up reminders on waiting messages, and ``digest``."""

from __future__ import annotations

from dataclasses import replace

from core import scheduling, waiting
from core.app.context import AppContext
from core.app.inbox import Inbox
from core.app.rendering import waiting_buttons
from core.models import Account, AccountId, Button, CommandInvocation, Reply, UserRef

DIGEST_SHOWN = 5


def _user_ref(text: str | None) -> UserRef | None:
    if not text or ":" not in text:
        return None
    platform, _, user_id = text.partition(":")
    return UserRef(platform=platform, user_id=user_id)


class Schedules:
    """What the scheduler's jobs ask for, and the owner's settings for them."""

    def __init__(self, ctx: AppContext, inbox: Inbox) -> None:
        self._ctx = ctx
        self._inbox = inbox

    async def digest(self, account_id: AccountId) -> tuple[UserRef, Reply] | None:
        """The scheduled digest of one account and where it goes; ``None`` when it is off,
        the account is gone or paused."""
        account = await self._ctx.stores.accounts.get(account_id)
        if account is None or account.paused:
            return None
        schedule = scheduling.schedule_of(account.settings)
        to = _user_ref(schedule.deliver_to)
        if schedule.digest_at is None or to is None:
            return None
        persona = await self._ctx.active_persona(account)
        items = await self._inbox.ranked(account, persona.id)
        view = self._inbox.view
        if view is not None and items:
            listing = await view.listing(account, persona.id, items)
            lines, shown = await view.lines(account, persona.id, listing, limit=DIGEST_SHOWN)
            replies = sum(i.needs_reply for g in listing.groups for i in g.items)
            waiting_now = sum(len(g.items) for g in listing.groups)
            head = (
                f"Digest: {waiting_now} waiting in {len(listing.groups)} conversations, "
                f"{replies} need a reply. Most important first:"
                if listing.groups
                else "Digest: nothing is waiting but what your filters collapsed."
            )
            return to, Reply(text="\n".join([head, *lines]), buttons=tuple(shown))
        buttons: list[Button] = []
        for number, item in enumerate(items[:DIGEST_SHOWN], start=1):
            buttons += waiting_buttons(item, number)
        return to, Reply(
            text=waiting.digest_text(items, limit=DIGEST_SHOWN), buttons=tuple(buttons)
        )

    async def follow_up(self, account_id: AccountId, key: str) -> tuple[UserRef, Reply] | None:
        """A reminder about one waiting message, at most once; ``None`` when it was answered,
        dismissed, already reminded, below the threshold now, or reminders are off."""
        account = await self._ctx.stores.accounts.get(account_id)
        if account is None or account.paused:
            return None
        schedule = scheduling.schedule_of(account.settings)
        found = await self._inbox.find(account, key)
        if found is None:
            return None
        persona_id = found[0]
        async with self._inbox.lock(account.id, persona_id):
            inbox = await self._inbox.load(account, persona_id)
            current = inbox.get(key)
            if current is None or not scheduling.followup_due(
                arrived_at=current.arrived_at,
                score=1.0 if current.starred else current.score,
                schedule=schedule,
                now=self._ctx.clock(),
                answered=False,
                reminded=current.reminded,
            ):
                return None
            inbox.put(replace(current, reminded=True))
            await self._inbox.save(account, persona_id, inbox)
        to = _user_ref(schedule.deliver_to) or current.owner
        waited = scheduling.format_duration(self._ctx.clock() - current.arrived_at)
        text = f"Still waiting for you after {waited}:\n" + waiting.item_line(1, current)
        return to, Reply(text=text, buttons=tuple(waiting_buttons(current, None)))

    async def command(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """``digest`` · ``digest HH:MM [zone]`` · ``digest off`` · ``digest followup <4h|off>``."""
        schedule = scheduling.schedule_of(account.settings)
        now = self._ctx.clock()
        if not args:
            return Reply(text=scheduling.describe(schedule, now=now))
        try:
            changed = await self._changed(command, account, schedule, args)
        except (scheduling.ScheduleError, ValueError) as error:
            return Reply(text=str(error))
        if isinstance(changed, Reply):
            return changed
        await self._ctx.stores.accounts.update(
            replace(account, settings=scheduling.with_schedule(account.settings, changed))
        )
        await self.arm_followups(account, changed)
        note = "" if self._ctx.jobs is not None else " (the scheduler starts with `minime run`)"
        return Reply(text=scheduling.describe(changed, now=now) + note)

    async def _changed(
        self,
        command: CommandInvocation,
        account: Account,
        schedule: scheduling.Schedule,
        args: tuple[str, ...],
    ) -> scheduling.Schedule | Reply:
        """The schedule ``digest <args>`` asks for (the digest job moved already), or a reply."""
        jobs = self._ctx.jobs
        if args[0].lower() in ("followup", "follow-up", "remind"):
            if len(args) < 2:
                return Reply(text="Usage: digest followup <4h | 90m | off> [min score 0-1]")
            if args[1].lower() == "off":
                return replace(schedule, followup_after=None)
            score = float(args[2]) if len(args) > 2 else schedule.followup_score
            return replace(
                schedule,
                followup_after=scheduling.parse_duration(args[1]),
                followup_score=min(max(score, 0.0), 1.0),
                deliver_to=str(command.user),
            )
        if args[0].lower() == "off":
            if jobs is not None:
                await jobs.clear_digest(account.id)
            return replace(schedule, digest_at=None)
        at = scheduling.parse_time(args[0])
        zone = args[1] if len(args) > 1 else schedule.timezone
        if not scheduling.is_timezone(zone):
            return Reply(
                text=f"'{zone}' is not a time zone I know; try Europe/Paris or America/New_York."
            )
        if jobs is not None:
            await jobs.set_digest(account.id, at, zone)
        return replace(schedule, digest_at=at, timezone=zone, deliver_to=str(command.user))

    async def arm_followups(self, account: Account, schedule: scheduling.Schedule) -> None:
        """Reminders for what already waits, under a follow-up rule just set (or cleared)."""
        jobs = self._ctx.jobs
        if jobs is None:
            return
        persona = await self._ctx.active_persona(account)
        for item in await self._inbox.ranked(account, persona.id):
            score = 1.0 if item.starred else item.score
            if schedule.followup_after is None or item.reminded or score < schedule.followup_score:
                await jobs.clear_followup(account.id, item.id)
            else:
                at = scheduling.followup_at(item.arrived_at, schedule.followup_after)
                await jobs.set_followup(account.id, item.id, max(at, self._ctx.clock()))
