"""``/clone …`` as a discord.py ``app_commands.Group``: its options, choices and descriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands

from core.commands import SPECS

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter


def _choices(command: str) -> list[app_commands.Choice[str]]:
    """The shared grammar's subcommands of ``command`` as Discord choices (one list, not two)."""
    return [app_commands.Choice(name=s, value=s) for s in SPECS[command].subcommands]


class CloneGroup(app_commands.Group):
    """``/clone …``: every command of the shared grammar, plus the Discord-only ``send-mode``.

    The parameters give Discord its options, choices and descriptions; the values are read back
    from the raw payload by ``convert.to_command`` so one pure function decides the meaning.
    """

    def __init__(self, adapter: DiscordAdapter) -> None:
        super().__init__(
            name="clone",
            description="Your clone: drafts in your voice, sent only on your click",
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=True, private_channel=True
            ),
            allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
        )
        self.adapter = adapter

    @app_commands.command(name="help", description="What the clone can do, in one screen")
    async def help(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="train", description="Import an export, the sample, or learn on/off")
    @app_commands.describe(
        file="An export: DiscordChatExporter JSON, Slack, Telegram, WhatsApp, mail, X, JSONL",
        source="The synthetic sample, the real #ubuntu example, or learning from new messages on/off",
        me="Your name or id in the export, when it does not say",
    )
    async def train(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment | None = None,
        source: Literal["sample", "example", "on", "off"] | None = None,
        me: str | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="draft", description="Draft a reply to a pasted message")
    @app_commands.describe(message="The message to answer")
    async def draft(self, interaction: discord.Interaction, message: str) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(
        name="profile", description="Your style card: how you write, what you value, how you decide"
    )
    @app_commands.describe(
        statement="Correct statement number N of your profile",
        correction="What is true instead, or: wrong",
    )
    async def profile(
        self,
        interaction: discord.Interaction,
        statement: int | None = None,
        correction: str | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="inbox", description="What is waiting, by conversation")
    @app_commands.describe(conversation="Expand one: its name, number, a sender, or muted")
    async def inbox(
        self, interaction: discord.Interaction, conversation: str | None = None
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="filter", description="Collapse or flag kinds of messages")
    @app_commands.describe(
        kind="What to match: a topic word, a sender, or a kind of message (fyi, question…)",
        pattern="The word, phrase, name or kind",
        flag="Mark matching messages instead of collapsing them",
        number="For remove: the filter's number in the list",
    )
    async def filter(
        self,
        interaction: discord.Interaction,
        action: Literal["add", "list", "remove"] = "list",
        kind: Literal["topic", "sender", "kind"] | None = None,
        pattern: str | None = None,
        flag: bool = False,
        number: int | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="models", description="Model versions; roll back to the previous")
    async def models(
        self,
        interaction: discord.Interaction,
        action: Literal["list", "rollback"] = "list",
        persona: str | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="persona", description="Several personas: work, personal, a brand")
    @app_commands.describe(
        action="What to do (help lists every action)",
        name="The persona and the rest, e.g. `work tone warm and brief` or `work here`",
    )
    @app_commands.choices(action=_choices("persona"))
    async def persona(
        self,
        interaction: discord.Interaction,
        action: str = "list",
        name: str | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="post", description="A post in your voice, to publish or schedule")
    @app_commands.describe(
        parts="A thread of this many parts (1-9)",
        persona="Which persona writes it (default: the one in use)",
        at='When Schedule puts it out: "fri 09:00", "tomorrow 8:30", "in 2h"',
        variants="Two takes in different styles of yours",
    )
    async def post(
        self,
        interaction: discord.Interaction,
        platform: Literal["x", "linkedin", "bluesky"],
        topic: str,
        parts: int | None = None,
        persona: str | None = None,
        at: str | None = None,
        variants: Literal[1, 2] | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="posts", description="Your posts: history, scheduled, export, stats")
    @app_commands.describe(query="words to find, or: scheduled · cancel <n> · export csv · stats")
    async def posts(self, interaction: discord.Interaction, query: str | None = None) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="connect", description="Connect Bluesky, X or LinkedIn to publish")
    @app_commands.describe(
        credentials="Bluesky: <handle> <app-password> · X, LinkedIn: <access-token>"
    )
    async def connect(
        self,
        interaction: discord.Interaction,
        network: Literal["bluesky", "x", "linkedin"] | None = None,
        credentials: str | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="disconnect", description="Remove a network's stored credentials")
    async def disconnect(
        self, interaction: discord.Interaction, network: Literal["bluesky", "x", "linkedin"]
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(
        name="ask",
        description='"How would I answer this?" Or: plan: 1. … 2. … (my reaction per step)',
    )
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="quality", description="How close the clone is to you")
    @app_commands.describe(
        persona="Which persona (default: the one in use)",
        history="The kept runs and their trend instead of measuring now",
    )
    async def quality(
        self, interaction: discord.Interaction, persona: str | None = None, history: bool = False
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="digest", description="A daily summary of what matters")
    @app_commands.describe(time="HH:MM [time zone], off, or followup 4h")
    async def digest(self, interaction: discord.Interaction, time: str) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="onboard", description="A few questions that teach the triage")
    @app_commands.describe(answer="e.g. vips alice, bob · hours 09:00-18:00 Europe/Paris")
    async def onboard(self, interaction: discord.Interaction, answer: str | None = None) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="privacy", description="Your data: export, erase, pause, resume")
    @app_commands.describe(confirm="Required to erase: everything goes, for good")
    async def privacy(
        self,
        interaction: discord.Interaction,
        action: Literal["export", "erase", "pause", "resume"],
        confirm: bool = False,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="link", description="Use the same clone from another platform")
    async def link(self, interaction: discord.Interaction, code: str | None = None) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(
        name="send-mode", description="In this server: post approved replies, or hand you the text"
    )
    @app_commands.describe(
        mode="post: I reply to the message with a disclosure · copy: I give you the text"
    )
    async def send_mode(
        self, interaction: discord.Interaction, mode: Literal["post", "copy"]
    ) -> None:
        await self.adapter.on_send_mode(interaction, mode)
