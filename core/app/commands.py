"""Commands as data: one table maps each command of the grammar to its handler.

``help`` is generated from the same table that dispatches, and a table with a listed command
but no handler (or a handler for no listed command) cannot be built. Adding a command is one
:class:`~core.commands.CommandSpec` in :data:`core.commands.COMMANDS` and one handler here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from core.app.context import AppContext
from core.commands import COMMANDS, CommandError, CommandSpec, help_text, parse
from core.models import Account, CommandInvocation, Reply
from core.privacy import BINARY_NOTICE, clean_text, looks_binary, size_notice, too_long

HELP = "help"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRequest:
    """One parsed command with the account it runs for."""

    command: CommandInvocation
    account: Account
    args: tuple[str, ...]
    text: str


Handler = Callable[[CommandRequest], Awaitable[Reply | list[Reply] | None]]
"""A command's handler: one reply, several (the takes of ``post --variants 2``), or none."""


class CommandTable:
    """Every command of the grammar with its handler; :meth:`handle` and :meth:`help` read it.

    Raises:
        ValueError: at construction, when a listed command has no handler or a handler no
            listed command (``help`` is the table's own).
    """

    def __init__(
        self,
        ctx: AppContext,
        handlers: Mapping[str, Handler],
        *,
        max_message_chars: int,
        specs: Sequence[CommandSpec] = COMMANDS,
    ) -> None:
        listed = {spec.name for spec in specs} - {HELP}
        missing = sorted(listed - set(handlers))
        unlisted = sorted(set(handlers) - listed)
        if missing or unlisted:
            raise ValueError(
                f"commands without a handler: {missing}; handlers unlisted: {unlisted}"
            )
        self._ctx = ctx
        self._max_chars = max_message_chars
        self.specs: tuple[CommandSpec, ...] = tuple(specs)
        self._handlers = dict(handlers)

    def help(self, *, prefix: str = "/clone ") -> str:
        """The one-screen help, listing exactly the commands this table dispatches."""
        return help_text(prefix=prefix, specs=self.specs)

    async def handle(self, command: CommandInvocation) -> list[Reply]:
        """Run one command of the shared grammar; errors come back as a reply, never raised."""
        if too_long(command.text, self._max_chars):
            return [Reply(text=size_notice(len(command.text), self._max_chars))]
        if looks_binary(command.text):
            return [Reply(text=BINARY_NOTICE)]
        command = replace(command, text=clean_text(command.text))
        try:
            parsed = (
                parse(f"{command.name} {command.text}".strip())
                if command.name
                else parse(command.text)
            )
        except CommandError as error:
            return [Reply(text=str(error))]
        if parsed.name == HELP:  # before the account: asking for help creates nothing
            return [Reply(text=self.help(prefix=command.command_prefix))]
        account = await self._ctx.account(command.user)
        request = CommandRequest(
            command=command, account=account, args=parsed.args, text=parsed.text
        )
        reply = await self._handlers[parsed.name](request)
        if isinstance(reply, list):
            return reply
        return [reply] if reply else []
