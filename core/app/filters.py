"""``filter``: the owner's mute and flag filters of the active persona (kept in the StateStore,
kind ``filters``: encrypted, exported and erased with the account)."""

from __future__ import annotations

from core.app.context import AppContext
from core.commands import split_options
from core.models import Account, Reply
from core.understanding import filters as f

USAGE = (
    "Usage: filter add <topic|sender|kind> <pattern> [--flag] | filter list | "
    "filter remove <number>"
)


class Filters:
    """``filter add | list | remove`` for the active persona."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    async def _load(self, account: Account, persona_id: str) -> list[f.Filter]:
        return f.from_bytes(await self._ctx.derived_state(account.id, persona_id, f.FILTERS_STATE))

    async def _save(self, account: Account, persona_id: str, rules: list[f.Filter]) -> None:
        await self._ctx.stores.state.put(account.id, persona_id, f.FILTERS_STATE, f.to_bytes(rules))

    async def command(self, account: Account, args: tuple[str, ...]) -> Reply:
        """``filter add <kind> <pattern> [--flag]``, ``filter list``, ``filter remove <n>``."""
        persona = await self._ctx.active_persona(account)
        verb = args[0].lower() if args else "list"
        rules = await self._load(account, persona.id)
        if verb == "list":
            if not rules:
                return Reply(
                    text="No filters yet. `filter add topic crypto` collapses messages about "
                    "crypto in your inbox and digest; `--flag` marks them instead."
                )
            lines = [f"Your filters in persona '{persona.name}':"]
            lines += [
                f"{n}. {'flag' if r.flag else 'mute'} {r.label.removesuffix(' (flag)')}"
                for n, r in enumerate(rules, start=1)
            ]
            return Reply(text="\n".join(lines))
        if verb == "remove":
            if len(args) != 2 or not args[1].isdigit():
                return Reply(text="Usage: filter remove <number> (`filter list` numbers them)")
            number = int(args[1])
            if not 1 <= number <= len(rules):
                return Reply(text=f"There is no filter {number}: you have {len(rules)}.")
            gone = rules.pop(number - 1)
            await self._save(account, persona.id, rules)
            return Reply(text=f"Removed the filter on {gone.label}.")
        if verb != "add":
            return Reply(text=USAGE)
        words, _ = split_options(args[1:], ())
        flag = "--flag" in words
        words = tuple(w for w in words if w != "--flag")
        if not words:
            return Reply(text=USAGE)
        try:
            rule = f.parse_filter(words[0], " ".join(words[1:]), flag=flag)
        except f.FilterError as error:
            return Reply(text=str(error))
        if any(
            r.kind == rule.kind and r.pattern.casefold() == rule.pattern.casefold() for r in rules
        ):
            return Reply(text=f"You already filter {rule.label}.")
        if len(rules) >= f.MAX_FILTERS:
            return Reply(text=f"You have {f.MAX_FILTERS} filters: remove one first.")
        rules.append(rule)
        await self._save(account, persona.id, rules)
        what = "marked ⚑" if flag else "collapsed, with the reason"
        draft_note = (
            " Drafts will never say yes to it for you." if rule.kind == "topic" and not flag else ""
        )
        return Reply(
            text=f"Filtering {rule.label}: matching messages are {what} in your inbox and "
            f"digest; nothing else is hidden.{draft_note}"
        )
