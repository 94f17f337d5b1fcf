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
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.common import BackgroundTasks, NotSent, addressed_to, deliver
from adapters.discord.breaker import AuthBreaker, AuthStorm
from adapters.discord.cards import DraftCards
from adapters.discord.commands import CloneGroup
from adapters.discord.convert import (
    ACTION_ID,
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
    SEND_MODE_HINT,
    ButtonSpec,
    copy_ready,
    disclosure,
    posted_note,
    status_line,
)
from adapters.discord.uploads import ExportUploads, is_train, names_of
from adapters.discord.views import (
    LIVE,
    NONE,
    NOT_YOURS,
    Channel,
    DraftView,
    EditModal,
    Followup,
    Out,
)
from core.commands import CommandError, option, parse
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
from core.service import Clone

log = logging.getLogger(__name__)

STALE = (
    "These buttons have expired (or I restarted since). "
    "Open `/clone inbox` to act on the draft, or use Draft reply on the message again."
)
VIEW_TIMEOUT_S = 14 * 60.0
"""Under the 15 minutes an interaction token lives, so a timed-out view can still be edited."""
RECENT_MAX = 10_000


MAX_RATELIMIT_WAIT_S = 30.0
"""Longest 429 wait discord.py may sit out for one request; a longer one fails the request
(``discord.RateLimited``) so the owner hears it now instead of a Send hanging for an hour."""


def _refusal(error: Exception) -> str:
    if isinstance(error, discord.RateLimited):
        return f"Discord is rate-limiting the bot for another {error.retry_after:.0f} s"
    status = error.status if isinstance(error, discord.HTTPException) else None
    return "I'm not allowed to post there" if status == 403 else f"Discord said {status}"


def _status(error: BaseException) -> int | None:
    if isinstance(error, discord.RateLimited):  # a 429 whose wait was too long to sit out
        return 429
    return error.status if isinstance(error, discord.HTTPException) else None


def use_endpoints(api_base_url: str | None, gateway_url: str | None) -> Callable[[], None]:
    """Point discord.py at a REST proxy (``http://proxy/api/v10``) and gateway (``ws://…``);
    returns the undo.

    discord.py keeps both as class attributes (``Route.BASE``, as its own API-version switch
    does, and ``DiscordWebSocket.DEFAULT_GATEWAY``), so this is process-wide: one bot per process.
    Interaction callbacks and followups go through ``Route`` too. A sharded client asks the REST
    base for its gateway (``GET /gateway/bot``), so the proxy answers that.
    """
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    if api_base_url:
        Route.BASE = api_base_url.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def undo() -> None:
        Route.BASE = base
        DiscordWebSocket.DEFAULT_GATEWAY = gateway

    return undo


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
        api_base_url: str | None = None,
        gateway_url: str | None = None,
    ) -> None:
        self.clone = clone
        self._accounts = accounts
        self._deliveries = deliveries
        self._token = token
        self._dev_guild_id = dev_guild_id
        self._breaker = breaker or AuthBreaker()
        self._endpoints = (api_base_url, gateway_url)
        self._undo_endpoints: Callable[[], None] | None = None
        if client is None:
            factory = discord.AutoShardedClient if sharded else discord.Client
            client = factory(
                intents=default_intents(),
                allowed_mentions=NONE,
                max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
            )
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
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._started = False
        self._tasks = BackgroundTasks()
        self._uploads = ExportUploads(clone=clone, note=self._note)
        self.cards = DraftCards(self, note=self._note, timeout_s=view_timeout_s)
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
        self._undo_endpoints = use_endpoints(*self._endpoints)
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
        self.cards.stop()
        # A client that never logged in holds nothing (and a sharded one cannot close yet).
        if self._started and not self.client.is_closed():
            await self.client.close()
        if self._undo_endpoints is not None:
            self._undo_endpoints()
            self._undo_endpoints = None

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
        status = _status(error)
        if status is not None and self._breaker.record(status):
            log.error("stopping the Discord bot: %s", self._breaker.tripped)
            self._tasks.spawn(self.client.close())

    # ----------------------------------------------------------------- showing replies

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        """The ``Notifier`` port: a digest or reminder goes to the owner's DM with the bot."""
        if not addressed_to(to, PLATFORM, numeric_id=True):
            return False
        try:
            user = self.client.get_user(int(to.user_id)) or await self.client.fetch_user(
                int(to.user_id)
            )
            channel = user.dm_channel or await user.create_dm()
            await self.cards.show(Channel(channel), reply, owner_id=int(to.user_id))
        except discord.DiscordException as error:
            log.warning("discord: notification failed: %s", type(error).__name__)
            self._note(error)  # a storm of refused notifications stops the bot too
            return False
        return True

    # ----------------------------------------------------------------- slash commands

    async def on_command(self, interaction: discord.Interaction) -> None:
        if not await self.ack(interaction):
            return
        data: Any = interaction.data
        user = user_ref(interaction.user.id)
        name, values = subcommand(data)
        files = uploads(data)
        out = Followup(interaction)
        attachment = getattr(interaction.namespace, "file", None)
        if name == "train" and files and isinstance(attachment, discord.Attachment):
            me = values.get("me")
            await self._uploads.train(
                out,
                user,
                [attachment],
                me=str(me) if me else None,
                names=names_of(interaction.user),
            )
            return
        command = to_command(
            data,
            user=user,
            channel_id=str(interaction.channel_id) if interaction.channel_id else None,
            guild_id=str(interaction.guild_id) if interaction.guild_id else None,
        )
        await self._run_command(out, command, owner_id=interaction.user.id)

    async def _run_command(self, out: Out, command: CommandInvocation, *, owner_id: int) -> None:
        replies = await self.clone.handle_command(command)
        if not replies:
            await out.send(content="Done.")
        try:
            name = parse(f"{command.name} {command.text}" if command.name else command.text).name
        except CommandError:
            name = ""
        monospace = name == "help"  # the help screen is a table
        for reply in replies:
            await self.cards.show(
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
        await self.cards.show(Followup(interaction), reply, owner_id=interaction.user.id)

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
        out = Followup(interaction)
        if outcome.needs_text:
            await out.send(content="There is no text to send yet: use Edit to write it.")
            return
        if outcome.outgoing is not None:
            guild_id = str(interaction.guild_id) if interaction.guild_id else None
            if await self._deliver(interaction, outcome.outgoing, guild_id) and view is not None:
                await self.cards.close_draft(view, action.draft_id, status_line(action.action))
            return
        if view is not None and outcome.reply is not None:
            if outcome.reply.draft is not None or action.action is Action.DISMISS:
                line = status_line(action.action)
            else:
                line = outcome.reply.text
            await self.cards.close_draft(view, action.draft_id, line)
        if outcome.reply is not None:
            await self.cards.show(out, outcome.reply, owner_id=interaction.user.id)

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
            name = interaction.user.display_name
            done = await deliver(
                self.clone,
                outgoing,
                lambda: self._post(outgoing, name, guild_id),
                refusals=(discord.HTTPException, discord.RateLimited),
                reason=_refusal,
            )
            if isinstance(done, NotSent):
                if done.error is not None:
                    self._note(done.error)
                await interaction.followup.send(
                    f"I couldn't post it ({done.reason}). The draft is still waiting: press Send "
                    "again, or `/clone send-mode copy` to get the text instead.",
                    ephemeral=True,
                )
                return False
            await interaction.followup.send(posted_note(done.posted.jump_url), ephemeral=True)
            return True
        await deliver(
            self.clone,
            outgoing,
            lambda: interaction.followup.send(
                copy_ready(outgoing.text), ephemeral=True, allowed_mentions=NONE
            ),
        )
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
        if isinstance(item, IncomingMessage) and not self.clone.admit(item, explicit=True):
            return  # over the rate cap: dropped before the delivery is recorded
        if not await self._deliveries.first_seen(f"discord:message:{message.id}"):
            return
        out = Channel(message.channel)
        try:
            await self._dm(out, message, item)
        except discord.HTTPException as error:
            self._note(error)
            log.error("discord DM failed: %s", error.status)
        except Exception:
            log.exception("discord DM failed")
            await out.send(content="Sorry, that failed. Please try again.")

    async def _dm(
        self, out: Out, message: discord.Message, item: CommandInvocation | IncomingMessage | None
    ) -> None:
        user = user_ref(message.author.id)
        wants_train = item is None or (isinstance(item, CommandInvocation) and is_train(item.text))
        if message.attachments and wants_train:
            me = None
            if isinstance(item, CommandInvocation):
                me = option(item.text, "--me")  # --me "Your Name", --me=Name: like a shell
            await self._uploads.train(
                out, user, list(message.attachments), me=me, names=names_of(message.author)
            )
            return
        if isinstance(item, CommandInvocation):
            await self._run_command(out, item, owner_id=message.author.id)
        elif isinstance(item, IncomingMessage):
            reply = await self.clone.handle_incoming(item, explicit=True)
            if reply is not None:
                await self.cards.show(out, reply, owner_id=message.author.id)


__all__ = [
    "NOT_YOURS",
    "PLATFORM",
    "STALE",
    "AuthBreaker",
    "AuthStorm",
    "DiscordAdapter",
    "DraftView",
    "EditModal",
    "default_intents",
]
