"""Privacy controls: pause and resume, take everything (export), destroy everything (erase),
and how posts disclose that the clone drafted them."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from core.app.consult import Consults
from core.app.context import AppContext
from core.app.inbox import Inbox
from core.app.models import ModelCache
from core.app.profile import Profiles
from core.app.teams import Teams
from core.models import Account, CommandInvocation, Reply
from core.privacy import ANY, Disclosure, disclosure_for, export_zip, with_disclosure
from core.teams import label

_DISCLOSED = {
    Disclosure.NONE: "posts carry no disclosure",
    Disclosure.LINE: "posts end with a short line saying your AI clone drafted them",
    Disclosure.SIGNATURE: "posts end with a signature saying your AI clone drafted them",
}


class Privacy:
    """``privacy export | erase | pause | resume | disclosure``."""

    def __init__(
        self,
        ctx: AppContext,
        models: ModelCache,
        inbox: Inbox,
        profiles: Profiles,
        *,
        teams: Teams | None = None,
        consults: Consults | None = None,
    ) -> None:
        self._ctx = ctx
        self._models = models
        self._inbox = inbox
        self._profiles = profiles
        self._teams = teams
        self._consults = consults

    async def export_data(self, account: Account) -> dict[str, object]:
        """Everything held for ``account`` (``AccountVault.export``), plus each persona's profile
        as the profiler measures it (what ``profile --json`` shows), under ``profiles``."""
        data = await self._ctx.stores.vault.export(account.id)
        return {**data, "profiles": await self._profiles.all_profiles(account)}

    async def command(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """Run one ``privacy`` subcommand; export and erase only in a private chat."""
        verb = args[0]
        if verb == "status":
            return await self._status(command, account)
        if verb in ("pause", "resume"):
            await self._ctx.stores.accounts.update(replace(account, paused=verb == "pause"))
            return Reply(
                text="Paused: no triage, no drafts, no learning until `privacy resume`."
                if verb == "pause"
                else "Resumed."
            )
        if verb == "disclosure":
            return await self._disclosure(command, account, args[1:])
        if not command.is_private:
            return Reply(
                text="For your safety, `privacy export` and `privacy erase` work only in a private chat with me."
            )
        if verb == "export":
            data = await self.export_data(account)
            unreadable = data.get("unreadable")
            missing = ""
            if isinstance(unreadable, dict) and unreadable:
                counts = ", ".join(f"{n} {kind}" for kind, n in unreadable.items())
                missing = (
                    f" Left out, because they could not be read (altered or damaged): {counts}."
                )
            return Reply(
                text="Everything I hold about you (`minime import` loads it back)." + missing,
                file=await asyncio.to_thread(export_zip, data),
                file_name="minime-export.zip",
            )
        if args[1:2] != ("confirm",):
            return Reply(
                text="This destroys everything I learned about you, for good. To confirm: privacy erase confirm"
            )
        await self._inbox.cancel_jobs(account.id)
        told = (
            0
            if self._consults is None
            else await self._consults.before_erase(account, command.user)
        )
        await self._ctx.stores.vault.erase(account.id)
        self._models.forget(account.id)
        askers = (
            f" The {told} people who could ask your clone were told it is gone." if told else ""
        )
        return Reply(
            text="Erased. Everything I held about you is gone, and its key destroyed." + askers
        )

    async def _disclosure(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """``privacy disclosure [none|line|signature] [platform|all]``: how posts say they were
        drafted by the clone, for the active persona (default: on this platform)."""
        persona = await self._ctx.active_persona(account)
        platform = args[1].lower() if len(args) > 1 else command.user.platform
        scope = None if platform in ("all", "everywhere", ANY) else platform
        where = "every platform" if scope is None else scope
        if not args:
            mode = disclosure_for(account.settings, persona_id=persona.id, platform=platform)
            return Reply(
                text=f"Disclosure on {platform} for persona '{persona.name}': {mode.value}. "
                "Change it with `privacy disclosure none|line|signature [platform|all]`."
            )
        try:
            mode = Disclosure(args[0].lower())
        except ValueError:
            return Reply(text="Usage: privacy disclosure none|line|signature [platform|all]")
        settings = with_disclosure(account.settings, mode, persona_id=persona.id, platform=scope)
        await self._ctx.stores.accounts.update(replace(account, settings=settings))
        return Reply(text=f"Persona '{persona.name}' on {where}: {_DISCLOSED[mode]}.")

    async def _status(self, command: CommandInvocation, account: Account) -> Reply:
        """``privacy`` (``privacy status``): what is deliberately shared across accounts."""
        stores = self._ctx.stores
        lines = [
            "Your data is yours: no other account can read it, with these exceptions you chose."
            if not account.paused
            else "Your clone is paused."
        ]
        names = {p.id: p.name for p in await stores.personas.list(account.id)}
        members = await stores.teams.members(account.id)
        lines += [
            f"  team: {m.user} is a {m.role} of '{names.get(m.persona_id, '?')}'"
            f" (sees its drafts{' and may approve them' if m.role != 'viewer' else ' stats only'})"
            for m in members
        ]
        for share in await stores.shares.shares(account.id):
            who = "anyone on " + share.platform if share.asker == "*" else share.asker
            lines.append(
                f"  ask: {who} may ask your clone '{names.get(share.persona_id, '?')}'"
                + (" (auto-answer)" if share.auto else " (you approve each answer)")
            )
        if self._teams is not None:
            lines += [
                f"  shared with you: '{label(m)}' as {m.role}"
                for m in await self._teams.shared_with_me(account, command.user)
            ]
        if len(lines) == 1:
            lines.append("  nothing is shared.")
        lines.append("`privacy export | erase | pause | resume | disclosure <mode>`")
        return Reply(text="\n".join(lines))
