"""The console adapter: the clone in a terminal, or scripted through a pipe.

It speaks the same grammar as the chat platforms and sends through the same approval path: a
"send" here is the owner's click, recorded as an approval before anything is shown as sent.

On a terminal it reads through a :class:`LineReader` (``adapters.console.terminal``: line
editing, history, bracketed paste, continuation lines, completion); from a pipe it reads plain
lines and echoes each one, so scripts and tests see the same transcript as ever.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Protocol, TextIO

from adapters.console.convert import PLATFORM, Arrived, Quit, Unknown, to_input
from adapters.console.render import render, render_sent
from core.commands import CommandError, parse
from core.models import (
    ActionInvocation,
    Button,
    CommandInvocation,
    IncomingMessage,
    Reply,
    UserRef,
    utc_now,
)
from core.service import Clone
from core.waiting import feedback_buttons

log = logging.getLogger(__name__)


class LineReader(Protocol):
    """Where an interactive console reads its lines (``TerminalReader`` on a terminal)."""

    async def readline(self, prompt: str) -> str | None:
        """The next message or command (it may span lines); ``None`` when the user leaves."""
        ...

    def forget(self) -> None:
        """Drop what was typed (the history), after the owner erased their data."""
        ...

    def printing(self) -> AbstractContextManager[object]:
        """While inside, output printed while the user types goes above the prompt."""
        ...


BANNER = (
    "minime console — your clone drafts, you decide.\n"
    "'/clone help' lists commands; '> message' drafts a reply to a message; '/quit' leaves."
)
TERMINAL_HINT = (
    "Tab completes commands, ↑/↓ go through your history; paste a message of several lines "
    "whole, or end a line with \\ (or press Alt-Enter) to go on writing."
)


class AttachmentFiles(Protocol):
    """Where attachments (an export, a style-card picture) are written for an account: privately,
    and where erasing the account removes them (``bot.account_files.AccountFiles``)."""

    def write(self, account_id: str, data: bytes, *, name: str) -> Path: ...


class ConsoleAdapter:
    """Reads lines from ``stdin`` and writes replies to ``stdout`` until EOF or ``/quit``.

    Attachments go to ``files`` (per account, erased with it) when given, else to ``out_dir``.
    """

    def __init__(
        self,
        *,
        clone: Clone,
        user: str,
        out_dir: Path,
        stdin: TextIO,
        stdout: TextIO | None,
        interactive: bool | None = None,
        clock: Callable[[], object] = utc_now,
        reader: LineReader | None = None,
        files: AttachmentFiles | None = None,
    ) -> None:
        """``stdout=None`` writes to whatever ``sys.stdout`` is at the time (so a terminal
        reader can keep output above its prompt); ``reader`` reads an interactive console."""
        self._clone = clone
        self._files = files
        self._user = UserRef(platform=PLATFORM, user_id=user)
        self._out_dir = out_dir
        self._stdin = stdin
        self._stdout = stdout
        self._reader = reader
        self._interactive = (
            reader is not None or stdin.isatty() if interactive is None else interactive
        )
        self._buttons: tuple[Button, ...] = ()

    def _say(self, text: str) -> None:
        out = self._stdout or sys.stdout
        out.write(text + "\n")
        out.flush()

    async def _readline(self, prompt: str) -> str | None:
        if self._reader is not None:
            return await self._reader.readline(prompt)
        if self._interactive:
            out = self._stdout or sys.stdout
            out.write(prompt)
            out.flush()
        line = await asyncio.to_thread(self._stdin.readline)
        return line if line else None

    async def run(self) -> None:
        """The read–reply loop."""
        with self._reader.printing() if self._reader is not None else nullcontext():
            self._say(BANNER)
            if self._reader is not None:
                self._say(TERMINAL_HINT)
            await self._loop()

    async def _loop(self) -> None:
        while True:
            line = await self._readline("you> ")
            if line is None:
                return
            item = to_input(line, user=self._user, buttons=self._buttons, now=utc_now())
            if item is None:
                continue
            if isinstance(item, Quit):
                self._say("bye")
                return
            if isinstance(item, Unknown):
                self._say(item.hint)
                continue
            if not self._interactive:
                self._say(f"you> {line.strip()}")
            try:
                await self._dispatch(item)
            except Exception as error:  # one bad line must not end the session
                log.exception("console line failed")
                self._say(f"Sorry, that failed: {error}")

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        """The ``Notifier`` port: a digest or reminder for this console's user is printed."""
        if to != self._user:
            return False
        self._say("— from your clone —")
        await self._show(reply)
        return True

    async def _dispatch(
        self, item: CommandInvocation | IncomingMessage | Arrived | ActionInvocation
    ) -> None:
        if isinstance(item, Arrived):
            shown = await self._clone.handle_incoming(item.incoming)
            if shown is not None:
                await self._show(shown)
            else:
                self._say("(triaged: no reply needed; `/clone inbox` lists what waits)")
        elif isinstance(item, CommandInvocation):
            if self._reader is not None and _erases(item.text):
                self._reader.forget()  # what was typed goes with everything else
            for reply in await self._clone.handle_command(item):
                await self._show(reply)
        elif isinstance(item, IncomingMessage):
            shown = await self._clone.handle_incoming(item, explicit=True)
            if shown is not None:
                await self._show(shown)
        else:
            await self._act(item)

    async def _act(self, action: ActionInvocation) -> None:
        outcome = await self._clone.handle_action(action)
        if outcome.needs_text:
            text = await self._readline("new text> ")
            if text is None or not text.strip():
                self._say("Edit cancelled.")
                return
            if not self._interactive:
                self._say(f"new text> {text.strip()}")
            outcome = await self._clone.handle_action(
                ActionInvocation(
                    user=action.user,
                    action=action.action,
                    draft_id=action.draft_id,
                    option=action.option,
                    edited_text=text.strip(),
                )
            )
        if outcome.outgoing is not None:
            # The console has no platform to post to: showing it is the send.
            self._say(render_sent(outcome.outgoing))
            await self._clone.confirm_sent(outcome.outgoing)
            self._buttons = ()
        if outcome.reply is not None:
            await self._show(outcome.reply)

    async def _show(self, reply: Reply) -> None:
        if reply.draft is not None and reply.priority is not None:
            # Under a triage result: one tap says how important the message was.
            reply = replace(reply, buttons=(*reply.buttons, *feedback_buttons(reply.draft)))
        saved: list[str] = []
        for data, name in ((reply.image, reply.image_name), (reply.file, reply.file_name)):
            if data is None:
                continue
            if self._files is not None:
                account = await self._clone.account(self._user)
                path = await asyncio.to_thread(
                    self._files.write, account.id, data, name=name or "attachment.bin"
                )
            else:
                self._out_dir.mkdir(parents=True, exist_ok=True)
                path = self._out_dir / (name or "attachment.bin")
                path.write_bytes(data)
                path.chmod(0o600)
            saved.append(str(path))
        if reply.buttons:
            self._buttons = reply.buttons
        self._say(render(reply, saved=saved))


def _erases(text: str) -> bool:
    """Whether a command line is ``privacy erase confirm`` (the owner destroys their data)."""
    try:
        parsed = parse(text)
    except CommandError:
        return False
    return parsed.name == "privacy" and parsed.args[:2] == ("erase", "confirm")
