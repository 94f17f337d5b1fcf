"""The draft card's discord.py parts: where a card goes, its buttons (a ``View``), the Edit ``Modal``.

A view or modal only hands what happens to it back to the adapter (``on_press``,
``on_edit_submitted``, ``settle``, ``on_failure``); it decides nothing itself but who may press.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import discord

from adapters.discord.convert import EDIT_FIELD
from adapters.discord.render import EXPIRED_NOTE, ButtonSpec, EmbedSpec, edit_modal_id

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

NONE = discord.AllowedMentions.none()
NOT_YOURS = "That's not your draft — only the person it was drafted for can use these buttons."
LIVE = "minime_live"
"""Set on an interaction by the live view or modal that handles it (see ``on_interaction``)."""
_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


class Out(Protocol):
    """Where a reply goes: followups of an interaction, or a DM channel."""

    async def send(self, **kwargs: Any) -> discord.Message: ...


class Followup:
    """The followups of an interaction: ephemeral, mentions off."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self._interaction = interaction

    async def send(self, **kwargs: Any) -> discord.Message:
        return await self._interaction.followup.send(
            ephemeral=True, allowed_mentions=NONE, wait=True, **kwargs
        )


class Channel:
    """A channel (a DM): mentions off."""

    def __init__(self, channel: discord.abc.Messageable) -> None:
        self._channel = channel

    async def send(self, **kwargs: Any) -> discord.Message:
        return await self._channel.send(allowed_mentions=NONE, **kwargs)


def to_embed(spec: EmbedSpec) -> discord.Embed:
    embed = discord.Embed(title=spec.title, description=spec.description, color=spec.color)
    for field in spec.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    if spec.footer:
        embed.set_footer(text=spec.footer)
    if spec.image:
        embed.set_image(url=f"attachment://{spec.image}")
    return embed


class DraftView(discord.ui.View):
    """Send · Edit · Regenerate · Dismiss under a draft, for its owner only, until it times out."""

    def __init__(
        self,
        adapter: DiscordAdapter,
        *,
        owner_id: int,
        specs: tuple[ButtonSpec, ...],
        options: dict[int, str],
        timeout: float,
    ) -> None:
        super().__init__(timeout=timeout)
        self.adapter = adapter
        self.owner_id = owner_id
        self.specs = specs
        self.options = options
        self.message: discord.Message | None = None
        for spec in specs:
            button: discord.ui.Button[DraftView] = discord.ui.Button(
                label=spec.label,
                custom_id=spec.custom_id,
                style=_STYLES[spec.style],
                row=spec.row,
                disabled=spec.disabled,
            )
            button.callback = self._callback(spec)  # type: ignore[method-assign,assignment]
            self.add_item(button)

    def _callback(self, spec: ButtonSpec) -> Callable[[discord.Interaction], Awaitable[None]]:
        async def pressed(interaction: discord.Interaction) -> None:
            await self.adapter.on_press(interaction, spec, self)

        return pressed

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        interaction.extras[LIVE] = True
        if interaction.user.id == self.owner_id:
            return True
        await self.adapter.say_once(interaction, NOT_YOURS)
        return False

    async def on_timeout(self) -> None:
        await self.adapter.cards.settle(self, EXPIRED_NOTE, keep_buttons=True)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await self.adapter.on_failure(interaction, error)


class EditModal(discord.ui.Modal):
    """The Edit dialog, prefilled with the draft option the owner is editing."""

    def __init__(
        self, adapter: DiscordAdapter, *, draft_id: str, option: int, text: str, view: DraftView
    ) -> None:
        super().__init__(
            title="Edit the reply", custom_id=edit_modal_id(draft_id, option), timeout=600
        )
        self.adapter = adapter
        self.view = view
        self.reply: discord.ui.TextInput[EditModal] = discord.ui.TextInput(
            label="Your reply",
            style=discord.TextStyle.paragraph,
            custom_id=EDIT_FIELD,
            default=text[:2000],
            max_length=2000,
            required=True,
        )
        self.add_item(self.reply)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        interaction.extras[LIVE] = True
        return True

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_edit_submitted(interaction, self.view)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await self.adapter.on_failure(interaction, error)
