"""Personas: several voices per owner (work, personal, a brand), each with its own data."""

from __future__ import annotations

from dataclasses import replace

from core.app.context import AppContext
from core.app.models import ModelCache
from core.app.persona_extras import PersonaExtras
from core.models import Account, CommandInvocation, Reply


class Personas:
    """``persona list | new <name> | use <name> | delete <name>``."""

    def __init__(self, ctx: AppContext, models: ModelCache, extras: PersonaExtras) -> None:
        self._ctx = ctx
        self._models = models
        self.extras = extras

    async def command(
        self, account: Account, args: tuple[str, ...], command: CommandInvocation
    ) -> Reply:
        """Run one ``persona`` subcommand for ``account``."""
        personas = self._ctx.stores.personas
        accounts = self._ctx.stores.accounts
        verb, rest = args[0], " ".join(args[1:]).strip()
        if self.extras.handles(verb, args):  # identity, places, teams, shares, stats (issue 17)
            return await self.extras.command(account, command, verb, args[1:])
        existing = await personas.list(account.id)
        by_name = {p.name.lower(): p for p in existing}
        if verb == "list":
            active = (await self._ctx.active_persona(account)).id
            return Reply(
                text="\n".join(
                    [
                        *(("* " if p.id == active else "  ") + p.name for p in existing),
                        *await self.extras.list_lines(account, command.user),
                    ]
                )
            )
        if not rest:
            return Reply(text=f"Usage: persona {verb} <name>")
        if verb == "new":
            if rest.lower() in by_name:
                return Reply(text=f"You already have a persona '{rest}'.")
            persona = await personas.create(account.id, rest)
            await accounts.update(replace(account, active_persona=persona.id))
            return Reply(
                text=f"Created persona '{rest}' and switched to it. Train it with `train`."
            )
        target = by_name.get(rest.lower())
        if target is None:
            return Reply(
                text=f"No persona '{rest}'. You have: {', '.join(p.name for p in existing)}."
            )
        if verb == "use":
            await accounts.update(replace(account, active_persona=target.id))
            return Reply(text=f"Now using persona '{target.name}'.")
        if len(existing) == 1:
            return Reply(text="That is your only persona; create another before deleting it.")
        await personas.delete(account.id, target.id)
        self._models.forget(account.id, target.id)
        if account.active_persona == target.id:
            other = next(p for p in existing if p.id != target.id)
            await accounts.update(replace(account, active_persona=other.id))
        return Reply(text=f"Deleted persona '{target.name}' and everything it learned.")
