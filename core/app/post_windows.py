"""``persona schedule <name> mon-fri 08:00-18:00``: when a persona's scheduled posts go out.

A Schedule click without a time puts the post at the persona's next open slot (in the owner's
time zone, from ``digest``/``onboard tz``); without a window, at the next quarter hour.
"""

from __future__ import annotations

from dataclasses import replace

from core.app.context import AppContext
from core.app.post_cards import local_time
from core.app.rendering import clip
from core.models import Account, Reply
from core.post_times import next_slot, parse_window, window_of, with_window
from core.scheduling import ScheduleError, schedule_of

USAGE = "Usage: persona schedule <name> <mon-fri> <08:00-18:00> | persona schedule <name> off"


class PostWindows:
    """``persona schedule``: show, set or clear a persona's posting window."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    async def command(self, account: Account, args: tuple[str, ...]) -> Reply:
        """``args`` are the words after ``persona schedule``."""
        if not args:
            return Reply(text=USAGE)
        personas = await self._ctx.stores.personas.list(account.id)
        persona = next((p for p in personas if p.name.lower() == args[0].lower()), None)
        if persona is None:
            return Reply(
                text=f"No persona '{clip(args[0], 40)}'. You have: "
                f"{', '.join(p.name for p in personas)}."
            )
        zone = schedule_of(account.settings).timezone
        rest = args[1:]
        if not rest:
            window = window_of(account.settings, persona.id)
            shown = window.describe() if window else "any time (no window set)"
            return Reply(text=f"'{persona.name}' posts {shown}, in {zone}.\n{USAGE}")
        if len(rest) == 1 and rest[0].lower() == "off":
            settings = with_window(account.settings, persona.id, None)
            await self._ctx.stores.accounts.update(replace(account, settings=settings))
            return Reply(text=f"'{persona.name}' has no posting window now: any time.")
        if len(rest) != 2:
            return Reply(text=USAGE)
        try:
            window = parse_window(rest[0], rest[1])
        except ScheduleError as error:
            return Reply(text=f"{error}\n{USAGE}")
        settings = with_window(account.settings, persona.id, window)
        await self._ctx.stores.accounts.update(replace(account, settings=settings))
        slot = next_slot(window, now=self._ctx.clock(), zone=zone)
        return Reply(
            text=f"'{persona.name}' posts {window.describe()} ({zone}). Scheduled posts go out "
            f"at the next open slot: now {local_time(slot, zone)}."
        )
