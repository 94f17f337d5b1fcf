"""The console adapter: the clone in a terminal, or scripted through a pipe.

It speaks the same grammar as the chat platforms and sends through the same approval path: a
"send" here is the owner's click, recorded as an approval before anything is shown as sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from adapters.console.convert import PLATFORM, Arrived, Quit, Unknown, to_input
from adapters.console.render import render, render_sent
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

BANNER = (
    "minime console — your clone drafts, you decide.\n"
    "'/clone help' lists commands; '> message' drafts a reply to a message; '/quit' leaves."
)


class ConsoleAdapter:
    """Reads lines from ``stdin`` and writes replies to ``stdout`` until EOF or ``/quit``."""

    def __init__(
        self,
        *,
        clone: Clone,
        user: str,
        out_dir: Path,
        stdin: TextIO,
        stdout: TextIO,
        interactive: bool | None = None,
        clock: Callable[[], object] = utc_now,
    ) -> None:
        self._clone = clone
        self._user = UserRef(platform=PLATFORM, user_id=user)
        self._out_dir = out_dir
        self._stdin = stdin
        self._stdout = stdout
        self._interactive = stdin.isatty() if interactive is None else interactive
        self._buttons: tuple[Button, ...] = ()

    def _say(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()

    async def _readline(self, prompt: str) -> str | None:
        if self._interactive:
            self._stdout.write(prompt)
            self._stdout.flush()
        line = await asyncio.to_thread(self._stdin.readline)
        return line if line else None

    async def run(self) -> None:
        """The read–reply loop."""
        self._say(BANNER)
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
        self._show(reply)
        return True

    async def _dispatch(
        self, item: CommandInvocation | IncomingMessage | Arrived | ActionInvocation
    ) -> None:
        if isinstance(item, Arrived):
            shown = await self._clone.handle_incoming(item.incoming)
            if shown is not None:
                self._show(shown)
            else:
                self._say("(triaged: no reply needed; `/clone inbox` lists what waits)")
        elif isinstance(item, CommandInvocation):
            for reply in await self._clone.handle_command(item):
                self._show(reply)
        elif isinstance(item, IncomingMessage):
            shown = await self._clone.handle_incoming(item, explicit=True)
            if shown is not None:
                self._show(shown)
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
            self._show(outcome.reply)

    def _show(self, reply: Reply) -> None:
        if reply.draft is not None and reply.priority is not None:
            # Under a triage result: one tap says how important the message was.
            reply = replace(reply, buttons=(*reply.buttons, *feedback_buttons(reply.draft)))
        saved: list[str] = []
        for data, name in ((reply.image, reply.image_name), (reply.file, reply.file_name)):
            if data is not None:
                self._out_dir.mkdir(parents=True, exist_ok=True)
                path = self._out_dir / (name or "attachment.bin")
                path.write_bytes(data)
                path.chmod(0o600)
                saved.append(str(path))
        if reply.buttons:
            self._buttons = reply.buttons
        self._say(render(reply, saved=saved))
