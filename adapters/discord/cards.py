"""Draft cards on Discord: sending a rendered reply with its buttons, and closing it when handled.

A card with buttons stays live (its ``DraftView`` answers presses) until its draft is handled, its
view times out, or the bot stops; closing it leaves a status line in its place.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.render import MessageSpec, disabled, render
from adapters.discord.views import DraftView, Out, to_embed
from core.models import Reply

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)


class DraftCards:
    """The cards this process has sent and still answers for.

    Args:
        host: the adapter the cards' buttons report to.
        note: counts an HTTP failure toward the auth breaker.
        timeout_s: how long a card's buttons stay live.
    """

    def __init__(
        self, host: DiscordAdapter, *, note: Callable[[BaseException], None], timeout_s: float
    ) -> None:
        self._host = host
        self._note = note
        self._timeout_s = timeout_s
        self._live: dict[int, DraftView] = {}

    def stop(self) -> None:
        """Stop every live view (the bot is closing)."""
        for view in list(self._live.values()):
            view.stop()
        self._live.clear()

    async def show(self, out: Out, reply: Reply, *, owner_id: int, monospace: bool = False) -> None:
        """Send a reply as rendered for Discord; a draft comes with its buttons, for its owner."""
        for spec in render(reply, monospace=monospace):
            await self._send(out, spec, owner_id=owner_id, reply=reply)

    async def _send(
        self, out: Out, spec: MessageSpec, *, owner_id: int, reply: Reply | None = None
    ) -> discord.Message:
        kwargs: dict[str, Any] = {}
        if spec.content:
            kwargs["content"] = spec.content
        if spec.embed is not None:
            kwargs["embed"] = to_embed(spec.embed)
        if spec.files:
            kwargs["files"] = [
                discord.File(io.BytesIO(data), filename=name) for name, data in spec.files
            ]
        view = None
        if spec.buttons:
            options = (
                {n: o.text for n, o in enumerate(reply.draft.options)}
                if reply is not None and reply.draft is not None
                else {0: reply.prefill}
                if reply is not None and reply.prefill
                else {}
            )
            view = DraftView(
                self._host,
                owner_id=owner_id,
                specs=spec.buttons,
                options=options,
                timeout=self._timeout_s,
            )
            kwargs["view"] = view
        message = await out.send(**kwargs)
        if view is not None:
            view.message = message
            self._live[message.id] = view
        return message

    async def settle(self, view: DraftView, line: str, *, keep_buttons: bool = False) -> None:
        """Close a draft card: a status line, and its buttons disabled or gone."""
        if view.message is not None:
            self._live.pop(view.message.id, None)
        view.stop()
        if view.message is None:
            return
        spent = (
            DraftView(
                self._host,
                owner_id=view.owner_id,
                specs=disabled(view.specs),
                options={},
                timeout=1,
            )
            if keep_buttons
            else None
        )
        if spent is not None:
            spent.stop()
        try:
            await view.message.edit(content=line, view=spent)
        except discord.HTTPException as error:  # the token may have lapsed: not worth more
            self._note(error)
            log.info("could not update a draft card: %s", error.status)

    async def close_draft(self, view: DraftView, draft_id: str, line: str) -> None:
        """Close the card of a handled draft; on a list of drafts (the inbox), only its buttons."""
        if view.message is None or len({spec.draft_id for spec in view.specs}) <= 1:
            await self.settle(view, line)
            return
        specs = tuple(
            replace(spec, disabled=True) if spec.draft_id == draft_id else spec
            for spec in view.specs
        )
        if all(spec.disabled for spec in specs):
            await self.settle(view, line, keep_buttons=True)
            return
        fresh = DraftView(
            self._host,
            owner_id=view.owner_id,
            specs=specs,
            options=view.options,
            timeout=self._timeout_s,
        )
        message = view.message
        self._live.pop(message.id, None)
        view.stop()
        try:
            await message.edit(view=fresh)
        except discord.HTTPException as error:
            self._note(error)
            fresh.stop()
            return
        fresh.message = message
        self._live[message.id] = fresh
