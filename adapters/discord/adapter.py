"""The Discord adapter: ``/clone`` commands, "Draft reply" on any message, ephemeral drafts.

discord.py idioms live here and only here: the client and its ``CommandTree``, the ``/clone``
group, the message context menu, the draft ``View`` and the Edit ``Modal``. What an event means is
decided by the pure ``convert.py``; how a reply looks, by the pure ``render.py``.

Rules this file keeps (DESIGN.md, "Platforms"):

- every interaction is deferred (ephemeral, "thinking…") before any other work, so the 3-second
  deadline never depends on storage or the drafting model; the slow work follows as followups;
- an interaction is answered at most once (``InteractionResponse.is_done()`` guards every answer);
- the invoking user is the owner; a press acts as the presser, so the core refuses anyone else,
  and the View's ``interaction_check`` refuses them before that with "not your draft";
- nothing appears in a channel unless the owner chose "post" for that server; then the bot replies
  to the original message with a disclosure line; everything generated has mentions disabled;
- 401 ends the bot at once and a storm of 403s stops it, instead of retrying forever
  (discord.py's own 429 handling stays on).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import tempfile
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from adapters.discord.convert import (
    ACTION_ID,
    EDIT_FIELD,
    EDIT_ID,
    PLATFORM,
    SendMode,
    dm_to_input,
    is_snowflake,
    modal_text,
    send_mode,
    subcommand,
    target_message,
    to_action,
    to_command,
    to_incoming,
    uploads,
    user_ref,
    with_send_mode,
)
from adapters.discord.render import (
    EXPIRED_NOTE,
    SEND_MODE_HINT,
    ButtonSpec,
    EmbedSpec,
    MessageSpec,
    copy_ready,
    disabled,
    disclosure,
    edit_modal_id,
    posted_note,
    render,
    status_line,
)
from adapters.importers import ImportFormatError, UnknownOwner
from core.commands import CommandError, parse
from core.models import (
    Action,
    ActionInvocation,
    CommandInvocation,
    IncomingMessage,
    Outgoing,
    Reply,
    UserRef,
)
from core.ports import AccountStore, DeliveryLog
from core.service import Clone, describe_summary

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
NOT_YOURS = "That's not your draft — only the person it was drafted for can use these buttons."
STALE = (
    "These buttons have expired (or I restarted since). "
    "Open `/clone inbox` to act on the draft, or use Draft reply on the message again."
)
VIEW_TIMEOUT_S = 14 * 60.0
"""Under the 15 minutes an interaction token lives, so a timed-out view can still be edited."""
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
PROGRESS_EVERY_S = 1.5
RECENT_MAX = 10_000
LIVE = "minime_live"
"""Set on an interaction by the live view or modal that handles it (see ``on_interaction``)."""
_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


class AuthStorm(RuntimeError):
    """Discord keeps refusing the bot's credentials or permissions: stop rather than loop."""


class AuthBreaker:
    """Counts 401/403 answers; trips on any 401 or on ``limit`` 403s within ``window_s``.

    A single 403 is ordinary (a channel the bot may not post in) and is reported to the owner;
    many in a row mean the bot was removed, its token revoked or its role stripped, and carrying on
    would only burn the rate limits and risk an automatic ban of the token.
    """

    def __init__(
        self,
        *,
        limit: int = 10,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window_s = window_s
        self._clock = clock
        self._seen: deque[float] = deque()
        self.tripped: AuthStorm | None = None

    def record(self, status: int | None) -> bool:
        """Note one HTTP status; ``True`` when the bot should stop now."""
        if status == 401:
            self.tripped = AuthStorm("Discord answered 401 Unauthorized: the bot token is invalid")
            return True
        if status != 403:
            return False
        now = self._clock()
        self._seen.append(now)
        while self._seen and now - self._seen[0] > self._window_s:
            self._seen.popleft()
        if len(self._seen) >= self._limit:
            self.tripped = AuthStorm(
                f"{len(self._seen)} Discord 403 Forbidden answers within {self._window_s:.0f} s"
            )
            return True
        return False


class _Out(Protocol):
    """Where a reply goes: followups of an interaction, or a DM channel."""

    async def send(self, **kwargs: Any) -> discord.Message: ...


class _Followup:
    def __init__(self, interaction: discord.Interaction) -> None:
        self._interaction = interaction

    async def send(self, **kwargs: Any) -> discord.Message:
        return await self._interaction.followup.send(
            ephemeral=True, allowed_mentions=NONE, wait=True, **kwargs
        )


class _Channel:
    def __init__(self, channel: discord.abc.Messageable) -> None:
        self._channel = channel

    async def send(self, **kwargs: Any) -> discord.Message:
        return await self._channel.send(allowed_mentions=NONE, **kwargs)


def _embed(spec: EmbedSpec) -> discord.Embed:
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
        await self.adapter.settle(self, EXPIRED_NOTE, keep_buttons=True)

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
        source="Train on the sample persona, or start/stop learning from new messages",
        me="Your name or id in the export, when it does not say",
    )
    async def train(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment | None = None,
        source: Literal["sample", "on", "off"] | None = None,
        me: str | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="draft", description="Draft a reply to a pasted message")
    @app_commands.describe(message="The message to answer")
    async def draft(self, interaction: discord.Interaction, message: str) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="profile", description="Your style card: how you write")
    async def profile(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="inbox", description="What is waiting, most important first")
    async def inbox(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="persona", description="Several personas: work, personal, a brand")
    async def persona(
        self,
        interaction: discord.Interaction,
        action: Literal["list", "new", "use", "delete"] = "list",
        name: str | None = None,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="post", description="A post in your voice")
    async def post(
        self,
        interaction: discord.Interaction,
        platform: Literal["x", "linkedin", "bluesky"],
        topic: str,
    ) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="ask", description='"How would I answer this?"')
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        await self.adapter.on_command(interaction)

    @app_commands.command(name="quality", description="How close the clone is to you")
    async def quality(self, interaction: discord.Interaction) -> None:
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


def default_intents() -> discord.Intents:
    """No privileged intent: interactions need none, and DMs to a bot carry their content."""
    return discord.Intents(guilds=True, dm_messages=True)


class DiscordAdapter:
    """Runs the clone as a Discord bot until the gateway closes or credentials fail."""

    def __init__(
        self,
        *,
        clone: Clone,
        accounts: AccountStore,
        deliveries: DeliveryLog,
        token: str | None = None,
        dev_guild_id: int | None = None,
        sharded: bool = False,
        client: discord.Client | None = None,
        view_timeout_s: float = VIEW_TIMEOUT_S,
        breaker: AuthBreaker | None = None,
    ) -> None:
        self.clone = clone
        self._accounts = accounts
        self._deliveries = deliveries
        self._token = token
        self._dev_guild_id = dev_guild_id
        self._view_timeout_s = view_timeout_s
        self._breaker = breaker or AuthBreaker()
        if client is None:
            factory = discord.AutoShardedClient if sharded else discord.Client
            client = factory(intents=default_intents(), allowed_mentions=NONE)
        self.client = client
        self.tree = app_commands.CommandTree(client)
        self.tree.add_command(CloneGroup(self))
        self.tree.add_command(
            app_commands.ContextMenu(
                name="Draft reply",
                callback=self.on_draft_reply,
                allowed_contexts=app_commands.AppCommandContext(
                    guild=True, dm_channel=True, private_channel=True
                ),
                allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
            )
        )
        self.tree.error(self._on_tree_error)
        self._live: dict[int, DraftView] = {}
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._started = False
        self._tasks: set[asyncio.Task[Any]] = set()
        client.event(self.on_message)
        client.event(self.on_interaction)

    # ----------------------------------------------------------------- lifecycle

    async def run(self) -> None:
        """Log in, sync the commands, and hold the gateway until closed.

        Raises:
            discord.LoginFailure: the token is wrong (nothing is retried).
            AuthStorm: Discord kept answering 401/403 and the bot stopped itself.
        """
        if not self._token:
            raise discord.LoginFailure("MINIME_DISCORD__BOT_TOKEN is not set")
        self._started = True
        try:
            await self.client.login(self._token)
            await self.sync_commands()
            await self.client.connect(reconnect=True)
        finally:
            await self.close()
        if self._breaker.tripped is not None:
            raise self._breaker.tripped

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Register the commands: to the dev guild (instant) when set, else globally (≤ 1 h)."""
        if self._dev_guild_id is not None:
            guild = discord.Object(id=self._dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            return await self.tree.sync(guild=guild)
        return await self.tree.sync()

    async def close(self) -> None:
        for view in list(self._live.values()):
            view.stop()
        self._live.clear()
        # A client that never logged in holds nothing (and a sharded one cannot close yet).
        if self._started and not self.client.is_closed():
            await self.client.close()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------------- answering at most once

    async def ack(self, interaction: discord.Interaction) -> bool:
        """Defer (ephemeral "thinking…") unless already answered; ``False`` for a re-delivery.

        A gateway resume can replay an interaction into the same process: the in-memory check
        catches that before a second answer goes out, at no cost to the deadline. The persisted
        delivery log (after the defer, so storage never delays it) keeps side effects single across
        restarts, where a replayed defer is refused by Discord anyway.
        """
        if interaction.id in self._recent:
            return False
        self._recent[interaction.id] = None
        while len(self._recent) > RECENT_MAX:
            self._recent.popitem(last=False)
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        return await self._deliveries.first_seen(f"discord:interaction:{interaction.id}")

    async def say_once(self, interaction: discord.Interaction, text: str) -> None:
        """An ephemeral line: the response if none was given yet, else a followup."""
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)

    async def on_failure(self, interaction: discord.Interaction, error: BaseException) -> None:
        """Log it, count auth failures, and tell the user once, without raising again."""
        original = getattr(error, "original", error)
        self._note(original)
        log.error("discord interaction failed: %s", type(original).__name__, exc_info=original)
        if self.client.is_closed():
            return
        try:
            await self.say_once(interaction, "Sorry, that failed. Please try again.")
        except discord.HTTPException as again:
            self._note(again)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await self.on_failure(interaction, error)

    def _note(self, error: BaseException) -> None:
        if isinstance(error, discord.HTTPException) and self._breaker.record(error.status):
            log.error("stopping the Discord bot: %s", self._breaker.tripped)
            self._spawn(self.client.close())

    # ----------------------------------------------------------------- showing replies

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        """The ``Notifier`` port: a digest or reminder goes to the owner's DM with the bot."""
        if to.platform != PLATFORM or not to.user_id.isdigit():
            return False
        try:
            user = self.client.get_user(int(to.user_id)) or await self.client.fetch_user(
                int(to.user_id)
            )
            channel = user.dm_channel or await user.create_dm()
            await self.show(_Channel(channel), reply, owner_id=int(to.user_id))
        except discord.DiscordException as error:
            log.warning("discord: notification failed: %s", type(error).__name__)
            return False
        return True

    async def show(
        self, out: _Out, reply: Reply, *, owner_id: int, monospace: bool = False
    ) -> None:
        for spec in render(reply, monospace=monospace):
            await self._send_spec(out, spec, owner_id=owner_id, reply=reply)

    async def _send_spec(
        self, out: _Out, spec: MessageSpec, *, owner_id: int, reply: Reply | None = None
    ) -> discord.Message:
        kwargs: dict[str, Any] = {}
        if spec.content:
            kwargs["content"] = spec.content
        if spec.embed is not None:
            kwargs["embed"] = _embed(spec.embed)
        if spec.files:
            kwargs["files"] = [
                discord.File(io.BytesIO(data), filename=name) for name, data in spec.files
            ]
        view = None
        if spec.buttons:
            options = (
                {n: o.text for n, o in enumerate(reply.draft.options)}
                if reply is not None and reply.draft is not None
                else {}
            )
            view = DraftView(
                self,
                owner_id=owner_id,
                specs=spec.buttons,
                options=options,
                timeout=self._view_timeout_s,
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
                self, owner_id=view.owner_id, specs=disabled(view.specs), options={}, timeout=1
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
            self,
            owner_id=view.owner_id,
            specs=specs,
            options=view.options,
            timeout=self._view_timeout_s,
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

    # ----------------------------------------------------------------- slash commands

    async def on_command(self, interaction: discord.Interaction) -> None:
        if not await self.ack(interaction):
            return
        data: Any = interaction.data
        user = user_ref(interaction.user.id)
        name, values = subcommand(data)
        files = uploads(data)
        out = _Followup(interaction)
        attachment = getattr(interaction.namespace, "file", None)
        if name == "train" and files and isinstance(attachment, discord.Attachment):
            me = values.get("me")
            await self._train_upload(
                out,
                user,
                [attachment],
                me=str(me) if me else None,
                names=_names_of(interaction.user),
            )
            return
        command = to_command(
            data,
            user=user,
            channel_id=str(interaction.channel_id) if interaction.channel_id else None,
            guild_id=str(interaction.guild_id) if interaction.guild_id else None,
        )
        await self._run_command(out, command, owner_id=interaction.user.id)

    async def _run_command(self, out: _Out, command: CommandInvocation, *, owner_id: int) -> None:
        replies = await self.clone.handle_command(command)
        if not replies:
            await out.send(content="Done.")
        try:
            name = parse(f"{command.name} {command.text}" if command.name else command.text).name
        except CommandError:
            name = ""
        monospace = name == "help"  # the help screen is a table
        for reply in replies:
            await self.show(
                out, reply, owner_id=owner_id, monospace=monospace and not reply.buttons
            )

    async def on_send_mode(self, interaction: discord.Interaction, mode: SendMode) -> None:
        if not await self.ack(interaction):
            return
        if interaction.guild_id is None:
            await interaction.followup.send(
                "In DMs I always hand you the text to copy.", ephemeral=True
            )
            return
        if mode == "post" and not interaction.is_guild_integration():
            await interaction.followup.send(
                "I can only post in servers where the bot itself is installed; here I'll hand you the text.",
                ephemeral=True,
            )
            return
        user = user_ref(interaction.user.id)
        account = await self.clone.account(user)
        settings = with_send_mode(account.settings, str(interaction.guild_id), mode)
        await self._accounts.update(replace(account, settings=settings))
        text = (
            "In this server, Send now posts your approved reply as a reply to the message, "
            "with a line saying it was drafted with your clone."
            if mode == "post"
            else "In this server, Send now hands you the text to copy and send yourself."
        )
        await interaction.followup.send(text, ephemeral=True)

    async def _train_upload(
        self,
        out: _Out,
        user: UserRef,
        files: list[discord.Attachment],
        *,
        me: str | None,
        names: tuple[str, ...],
    ) -> None:
        """Download each export, import it with live progress, and say what came in."""
        for file in files:
            status = await out.send(content=f"⏬ Downloading `{file.filename}`…")
            if file.size > MAX_UPLOAD_BYTES:
                await status.edit(
                    content=f"`{file.filename}` is larger than {MAX_UPLOAD_BYTES >> 20} MB; split it or use `minime import`."
                )
                continue
            with tempfile.TemporaryDirectory(prefix="minime-discord-") as folder:
                path = Path(folder) / _safe_name(file.filename)
                await file.save(path)
                text = await self._import_with_progress(
                    status, user, path, file.filename, me, names
                )
            await status.edit(content=text)

    async def _import_with_progress(
        self,
        status: discord.Message,
        user: UserRef,
        path: Path,
        shown: str,
        me: str | None,
        names: tuple[str, ...],
    ) -> str:
        read = 0
        changed = asyncio.Event()

        def progress(count: int) -> None:
            nonlocal read
            read += count
            changed.set()

        async def ticker() -> None:
            while True:
                await changed.wait()
                changed.clear()
                try:
                    await status.edit(content=f"📥 Importing `{shown}`: {read:,} messages read…")
                except discord.HTTPException as error:
                    self._note(error)
                await asyncio.sleep(PROGRESS_EVERY_S)

        task = asyncio.create_task(ticker())
        try:
            candidates: tuple[str | None, ...] = (me,) if me else (None, *names)
            for attempt, who in enumerate(candidates):
                try:
                    summary = await self.clone.import_file(user, path, me=who, progress=progress)
                except UnknownOwner as error:
                    if attempt + 1 < len(candidates):
                        continue
                    message = str(error).replace(str(path), shown).replace("--me", "`me:`")
                    return f"I couldn't tell which sender is you. {message}"
                except ImportFormatError as error:
                    return f"I couldn't read `{shown}`: {str(error).replace(str(path), shown)}"
                return f"✓ `{shown}`: {describe_summary(summary)}"
            return f"I couldn't import `{shown}`."
        finally:
            task.cancel()

    # ----------------------------------------------------------------- "Draft reply"

    async def on_draft_reply(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        if not await self.ack(interaction):
            return
        data: Any = interaction.data
        raw = target_message(data)
        owner = user_ref(interaction.user.id)
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        incoming = to_incoming(raw, owner=owner, guild_id=guild_id) if raw is not None else None
        if incoming is None:
            await interaction.followup.send(
                "That message has no text I can reply to.", ephemeral=True
            )
            return
        reply = await self.clone.handle_incoming(incoming, explicit=True)
        if reply is None:
            await interaction.followup.send("Nothing to draft for that one.", ephemeral=True)
            return
        await self.show(_Followup(interaction), reply, owner_id=interaction.user.id)

    # ----------------------------------------------------------------- buttons and Edit

    async def on_press(
        self, interaction: discord.Interaction, spec: ButtonSpec, view: DraftView
    ) -> None:
        if spec.action is Action.EDIT:
            # A modal must be the first answer, so it cannot follow a defer: it is built from
            # what the view already holds, with no I/O before it goes out.
            modal = EditModal(
                self,
                draft_id=spec.draft_id,
                option=spec.option,
                text=view.options.get(spec.option, ""),
                view=view,
            )
            await interaction.response.send_modal(modal)
            return
        if not await self.ack(interaction):
            return
        action = to_action(spec.custom_id, user=user_ref(interaction.user.id))
        if action is not None:
            await self._act(interaction, action, view)

    async def on_edit_submitted(
        self, interaction: discord.Interaction, view: DraftView | None
    ) -> None:
        if not await self.ack(interaction):
            return
        data: Any = interaction.data
        text = modal_text(data)
        action = to_action(data["custom_id"], user=user_ref(interaction.user.id), edited_text=text)
        if action is None or not text:
            await interaction.followup.send("There was no text to send.", ephemeral=True)
            return
        await self._act(interaction, action, view)

    async def _act(
        self, interaction: discord.Interaction, action: ActionInvocation, view: DraftView | None
    ) -> None:
        outcome = await self.clone.handle_action(action)
        out = _Followup(interaction)
        if outcome.needs_text:
            await out.send(content="There is no text to send yet: use Edit to write it.")
            return
        if outcome.outgoing is not None:
            guild_id = str(interaction.guild_id) if interaction.guild_id else None
            if await self._deliver(interaction, outcome.outgoing, guild_id) and view is not None:
                await self.close_draft(view, action.draft_id, status_line(action.action))
            return
        if view is not None and outcome.reply is not None:
            if outcome.reply.draft is not None or action.action is Action.DISMISS:
                line = status_line(action.action)
            else:
                line = outcome.reply.text
            await self.close_draft(view, action.draft_id, line)
        if outcome.reply is not None:
            await self.show(out, outcome.reply, owner_id=interaction.user.id)

    async def _deliver(
        self, interaction: discord.Interaction, outgoing: Outgoing, guild_id: str | None
    ) -> bool:
        """Post the approved text (the owner chose "post" here) or hand it over to copy."""
        user = user_ref(interaction.user.id)
        account = await self.clone.account(user)
        mode = send_mode(account.settings, guild_id)
        postable = (
            mode == "post"
            and interaction.is_guild_integration()
            and is_snowflake(outgoing.conversation)
            and is_snowflake(outgoing.reply_to)
        )
        if postable:
            try:
                posted = await self._post(outgoing, interaction.user.display_name, guild_id)
            except discord.HTTPException as error:
                self._note(error)
                await self.clone.send_failed(outgoing)
                reason = (
                    "I'm not allowed to post there"
                    if error.status == 403
                    else f"Discord said {error.status}"
                )
                await interaction.followup.send(
                    f"I couldn't post it ({reason}). The draft is still waiting: press Send again, "
                    "or `/clone send-mode copy` to get the text instead.",
                    ephemeral=True,
                )
                return False
            await self.clone.confirm_sent(outgoing)
            await interaction.followup.send(posted_note(posted.jump_url), ephemeral=True)
            return True
        await interaction.followup.send(
            copy_ready(outgoing.text), ephemeral=True, allowed_mentions=NONE
        )
        await self.clone.confirm_sent(outgoing)
        if mode is None and guild_id is not None and interaction.is_guild_integration():
            await interaction.followup.send(SEND_MODE_HINT, ephemeral=True)
        return True

    async def _post(
        self, outgoing: Outgoing, owner_name: str, guild_id: str | None
    ) -> discord.Message:
        channel = self.client.get_partial_messageable(
            int(outgoing.conversation), guild_id=int(guild_id) if guild_id else None
        )
        reference = discord.MessageReference(
            message_id=int(outgoing.reply_to or 0),
            channel_id=int(outgoing.conversation),
            # If the message was deleted meanwhile, post anyway rather than fail the send.
            fail_if_not_exists=False,
        )
        return await channel.send(
            disclosure(outgoing.text, owner_name),
            reference=reference,
            allowed_mentions=NONE,
        )

    # ----------------------------------------------------------------- presses nobody holds

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Answer presses and Edit submissions whose view or modal is gone (timeout, restart).

        discord.py dispatches a press to the live view (a task) before this event (a later task),
        and the view's ``interaction_check`` marks the interaction in its first step; so an
        unmarked press here is one that nobody else will answer.
        """
        data: Any = interaction.data or {}
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        if not isinstance(custom_id, str):
            return
        await asyncio.sleep(0)
        if interaction.extras.get(LIVE):
            return
        try:
            if interaction.type is discord.InteractionType.component and ACTION_ID.match(custom_id):
                await self.say_once(interaction, STALE)
            elif interaction.type is discord.InteractionType.modal_submit and EDIT_ID.match(
                custom_id
            ):
                # The typed text is in the payload: act on it rather than lose it.
                await self.on_edit_submitted(interaction, None)
        except Exception as error:
            await self.on_failure(interaction, error)

    # ----------------------------------------------------------------- DMs: the private console

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None or message.author.bot or self.client.user is None:
            return
        payload: Any = {
            "id": str(message.id),
            "channel_id": str(message.channel.id),
            "content": message.content,
            "timestamp": message.created_at.isoformat(),
            "author": {
                "id": str(message.author.id),
                "username": message.author.name,
                "global_name": message.author.global_name,
                "bot": message.author.bot,
            },
        }
        item = dm_to_input(payload, bot_id=str(self.client.user.id))
        if item is None and not message.attachments:
            return
        if not await self._deliveries.first_seen(f"discord:message:{message.id}"):
            return
        out = _Channel(message.channel)
        try:
            await self._dm(out, message, item)
        except discord.HTTPException as error:
            self._note(error)
            log.error("discord DM failed: %s", error.status)
        except Exception:
            log.exception("discord DM failed")
            await out.send(content="Sorry, that failed. Please try again.")

    async def _dm(
        self, out: _Out, message: discord.Message, item: CommandInvocation | IncomingMessage | None
    ) -> None:
        user = user_ref(message.author.id)
        wants_train = item is None or (isinstance(item, CommandInvocation) and _is_train(item.text))
        if message.attachments and wants_train:
            me = None
            if isinstance(item, CommandInvocation):
                found = re.search(r"--me=(\S+)", item.text)
                me = found.group(1) if found else None
            await self._train_upload(
                out, user, list(message.attachments), me=me, names=_names_of(message.author)
            )
            return
        if isinstance(item, CommandInvocation):
            await self._run_command(out, item, owner_id=message.author.id)
        elif isinstance(item, IncomingMessage):
            reply = await self.clone.handle_incoming(item, explicit=True)
            if reply is not None:
                await self.show(out, reply, owner_id=message.author.id)


def _is_train(text: str) -> bool:
    words = text.lower().lstrip("/").split()
    if words[:1] == ["clone"]:
        words = words[1:]
    return words[:1] == ["train"]


def _names_of(user: discord.abc.User) -> tuple[str, ...]:
    """Who the owner might be in their own Discord export: id, user name, display name."""
    names = [str(user.id), user.name, getattr(user, "global_name", None) or ""]
    return tuple(dict.fromkeys(n for n in names if n))


def _safe_name(filename: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name)[:120]
    return cleaned or "export"


__all__ = ["PLATFORM", "AuthBreaker", "AuthStorm", "DiscordAdapter", "DraftView", "EditModal"]
