"""The Slack adapter: bolt ``AsyncApp`` listeners, signature checks, posting, files, App Home.

Every listener acknowledges at once and hands the slow work (triage, drafting, imports, posts) to
a background task it tracks; :meth:`SlackAdapter.aclose` cancels what is still running. Before the
ack, a delivery with a key (``event_id`` for events, the click's own ``action_ts`` for buttons,
``trigger_id`` for commands) is stored as accepted (``adapters.common.durable``): a retried
delivery — HTTP or Socket Mode — is turned away, even across processes, and one whose worker died
is resumed by a live one from the stored body (:meth:`SlackAdapter.resume`).

Payloads and tokens are never logged: failures are logged by exception type only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.common import (
    BackgroundTasks,
    DurableDeliveries,
    NotSent,
    addressed_to,
    deliver,
    option_to_edit,
)
from adapters.slack import convert, home, http, render
from adapters.slack.convert import Payload
from adapters.slack.files import SEND_ERRORS, DeliveryLog, SharedFiles
from adapters.slack.http import events_handler, signature_ok
from core.models import Action, CommandInvocation, IncomingMessage, Outgoing, Reply, UserRef
from core.service import Clone

log = logging.getLogger(__name__)


# ----------------------------------------------------------------- the adapter


_SORRY = "Sorry, that failed on my side. Please try again."


def _why(error: Exception) -> str:
    """Slack's reason for refusing a post, with what the owner can do about it."""
    reason = error.response.get("error") if isinstance(error, SlackApiError) else None
    hint = "invite the app to that channel" if reason == "not_in_channel" else None
    return "Slack said " + ", ".join(str(x) for x in (reason or type(error).__name__, hint) if x)


def _clicker(body: Payload) -> str | None:
    user = body.get("user")
    return user.get("id") if isinstance(user, dict) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SlackOptions:
    """How this installation behaves (from ``SlackSettings``)."""

    owner_id: str | None = None
    """The installer: app mentions are triaged for them (default: the user token's user)."""
    triage_channels: bool = False
    """Opt-in: triage messages in the owner's channels (needs the user token's events)."""
    file_hosts: tuple[str, ...] = ("files.slack.com",)
    """Hosts the bot token may be sent to when downloading a shared file."""
    max_file_bytes: int = 512 * 1024 * 1024
    progress_every_s: float = 1.0


class SlackAdapter:
    """The clone in Slack: ``/clone``, the message shortcut, buttons, the edit modal, DMs, Home.

    Args:
        app: the bolt app (its client is the bot client; listeners are added by ``register``).
        clone: the core service.
        deliveries: the persisted de-duplication log.
        bot_client: Web API client with the bot token (and the 429 retry handler).
        user_client: Web API client with the owner's user token, or ``None``.
        bot_token: sent (as a header) only to ``options.file_hosts`` to download shared files.
        session: the HTTP session for file downloads and ``response_url`` posts.
        retry_handlers: for the ``response_url`` posts.
    """

    def __init__(
        self,
        *,
        app: AsyncApp,
        clone: Clone,
        deliveries: DeliveryLog,
        bot_client: AsyncWebClient,
        user_client: AsyncWebClient | None,
        bot_token: str,
        session: aiohttp.ClientSession,
        options: SlackOptions,
        retry_handlers: list[AsyncRetryHandler] | None = None,
        socket_mode: Callable[[], Awaitable[None]] | None = None,
        durable: DurableDeliveries | None = None,
    ) -> None:
        self.app = app
        self._clone = clone
        self._deliveries = deliveries
        self._bot = bot_client
        self._user = user_client
        self._session = session
        self._options = options
        self._retry_handlers = retry_handlers or []
        self._socket_mode = socket_mode
        self._tasks = BackgroundTasks()
        self._durable = durable.use_tasks(self._tasks) if durable is not None else None
        self._stopped = asyncio.Event()
        self._files = SharedFiles(
            clone=clone,
            deliveries=deliveries,
            bot=bot_client,
            bot_token=bot_token,
            session=session,
            dm=self._dm,
            file_hosts=options.file_hosts,
            max_file_bytes=options.max_file_bytes,
            progress_every_s=options.progress_every_s,
        )
        self._ids: dict[str, str | None] = {}
        self._warned_no_owner = False

    # ------------------------------------------------------------- lifecycle

    async def run(self) -> None:
        """Until closed: Socket Mode connects here; HTTP mode is served by the shared app."""
        if self._socket_mode is not None:
            await self._socket_mode()
        await self._stopped.wait()

    @property
    def backlog(self) -> int:
        """Deliveries acknowledged whose work has not finished (the queue depth)."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait for every background task started so far (and those they start)."""
        await self._tasks.drain()

    async def aclose(self, *, grace_s: float = 5.0) -> None:
        """Stop: give running work ``grace_s`` to finish (a post half-way), then cancel it."""
        self._stopped.set()
        await self._tasks.cancel(grace_s=grace_s)

    async def _later(
        self,
        body: Payload,
        work: Callable[[], Awaitable[None]],
        *,
        apologise_to: str | None = None,
        admit: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Run ``work`` after the ack, once per delivery; if it fails, tell ``apologise_to``.
        ``admit`` (the rate caps) is asked first: a delivery it refuses is dropped before it is
        recorded (a flood writes nothing). The body is stored as accepted before this returns,
        so before the ack; a delivery being resumed runs here, at once."""
        key = convert.delivery_key(body)
        url = body.get("response_url")

        async def guarded() -> None:
            try:
                await work()
            except Exception as error:  # one bad delivery must not take the adapter down
                log.warning("slack: background work failed: %s", type(error).__name__)
                if apologise_to:
                    await self._tell(apologise_to, url, _SORRY)

        if http.resuming(key):
            await guarded()  # resumed (admitted and recorded the first time)
            return
        if key is not None and self._durable is not None:
            if admit is not None and not await admit():
                return
            if await self._durable.accept(key, json.dumps(body).encode()):
                http.started(self._durable.start(key, guarded))
            return

        async def once() -> None:
            if admit is not None and not await admit():
                return
            if key is not None and not await self._deliveries.first_seen(key):
                return
            await guarded()

        http.started(self._tasks.spawn(once()))

    async def resume(self, key: str, payload: bytes) -> None:
        """Run an accepted delivery whose worker died, from its stored body."""
        await http.redispatch(self.app, key, payload)

    # ------------------------------------------------------------- listeners

    def register(self) -> None:
        """Add the listeners to the bolt app. Each acks at once; the work runs after."""
        app = self.app

        @app.command(convert.COMMAND)
        async def on_command(ack: Any, body: Payload) -> None:
            await ack()
            await self._later(body, lambda: self._command(body), apologise_to=body.get("user_id"))

        @app.shortcut(convert.SHORTCUT_CALLBACK)
        async def on_shortcut(ack: Any, body: Payload) -> None:
            await ack()
            await self._later(body, lambda: self._shortcut(body), apologise_to=_clicker(body))

        @app.action(convert.ACTION_PATTERN)
        async def on_action(ack: Any, body: Payload) -> None:
            await ack()
            await self._later(body, lambda: self._action(body), apologise_to=_clicker(body))

        @app.action(re.compile(f"^{convert.COMMAND_ACTION}"))
        async def on_home_command(ack: Any, body: Payload) -> None:
            await ack()
            await self._later(body, lambda: self._home_command(body))

        @app.view(convert.EDIT_CALLBACK)
        async def on_edit(ack: Any, body: Payload) -> None:
            await ack()  # closes the modal
            await self._later(body, lambda: self._edit_submitted(body), apologise_to=_clicker(body))

        @app.event("app_mention")
        async def on_mention(body: Payload, context: Any) -> None:
            bot_user = context.get("bot_user_id")
            key = convert.delivery_key(body)
            await self._later(
                body,
                lambda: self._mention(body["event"], bot_user, key),
                admit=lambda: self._within_caps(body["event"], bot_user, mention=True),
            )

        @app.event("message")
        async def on_message(body: Payload, context: Any) -> None:
            bot_user = context.get("bot_user_id")
            key = convert.delivery_key(body)
            await self._later(
                body,
                lambda: self._message(body["event"], bot_user, key),
                admit=lambda: self._within_caps(body["event"], bot_user, mention=False),
            )

        @app.event("app_home_opened")
        async def on_home(body: Payload) -> None:
            event = body["event"]
            if event.get("tab") == "home" and event.get("user"):
                await self._later(
                    body, lambda: home.publish_home(self._clone, self._bot, event["user"])
                )

    async def _within_caps(
        self, event: convert.MessageEvent, bot_user: str | None, *, mention: bool
    ) -> bool:
        """The clone's rate caps for a message event, before it is recorded: the message as
        :meth:`_message` / :meth:`_mention` will hand it to the clone (commands and files are
        not capped)."""
        if not mention and event.get("channel_type") == "im":
            text = event.get("text") or ""
            if convert.shared_files(event, bot_user_id=bot_user) or convert.is_command_text(text):
                return True
            incoming = convert.to_dm_incoming(event, bot_user_id=bot_user)
            return incoming is None or self._clone.admit(incoming, explicit=True)
        owner = await self._installer()
        if owner is None:
            return True
        if mention:
            incoming = convert.to_mention_incoming(event, owner_id=owner, bot_user_id=bot_user)
        elif self._options.triage_channels and self._user is not None:
            incoming = convert.to_channel_incoming(event, owner_id=owner, bot_user_id=bot_user)
        else:
            return True
        return incoming is None or self._clone.admit(incoming)

    # ------------------------------------------------------------- identities

    async def _token_user(self, client: AsyncWebClient | None) -> str | None:
        if client is None:
            return None
        key = "user" if client is self._user else "bot"
        if key not in self._ids:
            try:
                self._ids[key] = (await client.auth_test()).get("user_id")
            except SEND_ERRORS as error:
                log.warning("slack: auth.test failed: %s", type(error).__name__)
                return None
        return self._ids[key]

    async def _installer(self) -> str | None:
        """Whose clone answers ``@minime`` mentions and channel messages."""
        return self._options.owner_id or await self._token_user(self._user)

    # ------------------------------------------------------------- showing replies

    async def _respond(self, url: str, **message: Any) -> bool:
        try:
            client = AsyncWebhookClient(
                url, session=self._session, retry_handlers=self._retry_handlers
            )
            response = await client.send(**message)
        except SEND_ERRORS as error:
            log.warning("slack: response_url post failed: %s", type(error).__name__)
            return False
        return response.status_code == 200

    async def _dm(self, user_id: str, **message: Any) -> dict[str, Any] | None:
        """A message in the app's DM with ``user_id`` (``channel=<user id>`` opens it)."""
        try:
            response = await self._bot.chat_postMessage(channel=user_id, **message)
        except SEND_ERRORS as error:
            log.warning("slack: DM failed: %s", type(error).__name__)
            return None
        return dict(response.data) if isinstance(response.data, dict) else None

    async def _tell(self, user_id: str, response_url: str | None, text: str) -> None:
        """A short private note to the user: ephemeral via ``response_url``, else a DM."""
        blocks = render.text_blocks(text)
        if not await self._ephemeral(response_url, text=text, blocks=blocks):
            await self._dm(user_id, text=text, blocks=blocks)

    async def _ephemeral(self, response_url: str | None, **message: Any) -> bool:
        """A private answer to the click or command; ``False`` if it has no ``response_url``
        or the post failed."""
        if not response_url:
            return False
        return await self._respond(
            response_url, response_type="ephemeral", replace_original=False, **message
        )

    async def _show(
        self,
        reply: Reply,
        user_id: str,
        *,
        response_url: str | None = None,
        channel: str | None = None,
        ephemeral_in: str | None = None,
    ) -> None:
        """Show a reply privately: via ``response_url``, as an ephemeral in a channel, or in the DM."""
        if reply.image is not None or reply.file is not None:
            await self._upload(reply, user_id)
            await self._ephemeral(response_url, text="Sent to our DM.")
            return
        blocks, text = render.reply_blocks(reply), render.fallback_text(reply)
        if await self._ephemeral(response_url, text=text, blocks=blocks):
            return
        if ephemeral_in:
            try:
                await self._bot.chat_postEphemeral(
                    channel=ephemeral_in, user=user_id, text=text, blocks=blocks
                )
                return
            except SEND_ERRORS as error:  # not in that channel: fall back to the DM
                log.info("slack: ephemeral failed (%s), using the DM", type(error).__name__)
        await self._dm(channel or user_id, text=text, blocks=blocks)

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        """The ``Notifier`` port: a digest or reminder goes to the owner's DM with the app."""
        if not addressed_to(to, convert.PLATFORM):
            return False
        await self._show(reply, to.user_id)
        return True

    async def _upload(self, reply: Reply, user_id: str) -> None:
        """A picture (the style card) or a file (a privacy export) goes to the owner's DM."""
        data = reply.image if reply.image is not None else reply.file
        name = (reply.image_name if reply.image is not None else reply.file_name) or "minime.bin"
        try:
            opened = await self._bot.conversations_open(users=user_id)
            channel = opened["channel"]["id"]
            await self._bot.files_upload_v2(
                channel=channel, content=data, filename=name, title=name, initial_comment=reply.text
            )
        except SEND_ERRORS as error:
            log.warning("slack: upload failed: %s", type(error).__name__)
            await self._dm(user_id, text=reply.text + "\n(I couldn't attach the file.)")

    # ------------------------------------------------------------- commands

    async def _command(self, body: Payload) -> None:
        command = convert.to_command(body)  # type: ignore[arg-type]
        url = body.get("response_url")
        if convert.is_help(command.text):
            if not url or not await self._respond(
                url,
                text=render.help_fallback(),
                blocks=render.help_blocks(),
                response_type="ephemeral",
            ):
                await self._dm(
                    command.user.user_id,
                    text=render.help_fallback(),
                    blocks=render.help_blocks(),
                )
            return
        for reply in await self._clone.handle_command(command):
            await self._show(reply, command.user.user_id, response_url=url)

    async def _run_in_dm(self, command: CommandInvocation, channel: str) -> None:
        if convert.is_help(command.text):
            await self._dm(channel, text=render.help_fallback(), blocks=render.help_blocks())
            return
        for reply in await self._clone.handle_command(command):
            await self._show(reply, command.user.user_id, channel=channel)

    async def _home_command(self, body: Payload) -> None:
        command = convert.home_command(body)
        if command is None:
            return
        for reply in await self._clone.handle_command(command):
            await self._show(reply, command.user.user_id)
        await home.publish_home(self._clone, self._bot, command.user.user_id)

    # ------------------------------------------------------------- messages

    async def _shortcut(self, body: Payload) -> None:
        incoming = convert.to_shortcut_incoming(body)
        user = (body.get("user") or {}).get("id", "")
        if incoming is None:
            await self._tell(user, body.get("response_url"), "That message has no text to answer.")
            return
        reply = await self._clone.handle_incoming(incoming, explicit=True)
        if reply is not None:
            await self._show(reply, user, ephemeral_in=incoming.message.conversation)

    async def _mention(
        self, event: convert.MessageEvent, bot_user: str | None, key: str | None = None
    ) -> None:
        owner = await self._installer()
        if owner is None:
            if not self._warned_no_owner:
                self._warned_no_owner = True
                log.warning("slack: @mention ignored: set MINIME_SLACK__OWNER_ID or a user token")
            return
        incoming = convert.to_mention_incoming(event, owner_id=owner, bot_user_id=bot_user)
        await self._offer(incoming, owner, key)

    async def _offer(
        self, incoming: IncomingMessage | None, owner: str, key: str | None = None
    ) -> None:
        """Triage a message addressed to the owner; drafts, if any, go to the owner's DM."""
        if incoming is None:
            return
        reply = await self._clone.handle_incoming(incoming, delivery=key)
        if reply is not None:
            await self._show(reply, owner)

    async def _message(
        self, event: convert.MessageEvent, bot_user: str | None, key: str | None = None
    ) -> None:
        channel = event.get("channel", "")
        if event.get("channel_type") == "im":
            user = event.get("user", "")
            files = convert.shared_files(event, bot_user_id=bot_user)
            if files:
                me = convert.me_hint(event.get("text") or "")
                await self._files.train(user, channel, files, me=me)
                return
            text = event.get("text") or ""
            if (
                user
                and user != bot_user
                and not event.get("bot_id")
                and convert.is_command_text(text)
            ):
                if event.get("subtype") in (None, ""):
                    await self._run_in_dm(convert.to_dm_command(event), channel)
                return
            incoming = convert.to_dm_incoming(event, bot_user_id=bot_user)
            if incoming is not None:
                reply = await self._clone.handle_incoming(incoming, explicit=True, delivery=key)
                if reply is not None:
                    await self._show(reply, user, channel=channel)
            return
        if not (self._options.triage_channels and self._user is not None):
            return
        owner = await self._installer()
        if owner is not None:
            incoming = convert.to_channel_incoming(event, owner_id=owner, bot_user_id=bot_user)
            await self._offer(incoming, owner, key)

    # ------------------------------------------------------------- clicks

    async def _action(self, body: Payload) -> None:
        action = convert.to_action(body)
        if action is None:
            return
        user = action.user.user_id
        url = body.get("response_url")
        from_home = (body.get("container") or {}).get("type") == "view"
        mine = await self._clone.pending_draft(action.user, action.draft_id)
        editing = option_to_edit(mine, action.option)
        if action.action is Action.EDIT and mine is not None and editing is not None:
            option, text = editing
            channel = (body.get("channel") or {}).get("id")
            metadata = convert.edit_metadata(mine.id, option, response_url=url, channel=channel)
            try:
                await self._bot.views_open(
                    trigger_id=body.get("trigger_id", ""),
                    view=render.edit_modal(text, metadata=metadata),
                )
            except SEND_ERRORS as error:
                log.warning("slack: views.open failed: %s", type(error).__name__)
                await self._tell(user, url, "I couldn't open the editor; try Edit again.")
            return
        outcome = await self._clone.handle_action(action)
        if outcome.outgoing is not None:
            await self._deliver(outcome.outgoing, user, url)
        elif outcome.reply is not None:
            replaces = mine is not None and action.action in (Action.DISMISS, Action.REGENERATE)
            if replaces and url:
                await self._respond(
                    url,
                    text=render.fallback_text(outcome.reply),
                    blocks=render.reply_blocks(outcome.reply),
                    replace_original=True,
                )
            elif outcome.reply.draft is not None or outcome.reply.buttons:
                # Regenerated drafts, drafts made on demand from the inbox (Draft), or a post's
                # card after Publish/Schedule, with the buttons it still offers.
                await self._show(outcome.reply, user, response_url=url)
            else:
                await self._tell(user, url, outcome.reply.text)
        if from_home:
            await home.publish_home(self._clone, self._bot, user)

    async def _edit_submitted(self, body: Payload) -> None:
        submitted = convert.to_edit_submission(body)
        if submitted is None:
            return
        action, url, _channel = submitted
        outcome = await self._clone.handle_action(action)
        if outcome.outgoing is not None:
            await self._deliver(outcome.outgoing, action.user.user_id, url)
        elif outcome.reply is not None and outcome.reply.buttons:
            await self._show(outcome.reply, action.user.user_id, response_url=url)
        elif outcome.reply is not None:
            await self._tell(action.user.user_id, url, outcome.reply.text)
        elif outcome.needs_text:
            await self._tell(action.user.user_id, url, "The edit was empty, so nothing was sent.")

    async def _deliver(self, outgoing: Outgoing, clicker: str, url: str | None) -> None:
        """Post an approved text once, in the original thread, then report back to the core.

        As the owner when the user token is theirs; otherwise as the bot, with a disclosure.
        """
        as_owner = self._user is not None and clicker == await self._token_user(self._user)
        client = self._user if as_owner and self._user is not None else self._bot
        text = outgoing.text if as_owner else render.bot_post_text(outgoing, clicker)

        async def post() -> object:
            return await client.chat_postMessage(
                channel=outgoing.conversation, thread_ts=outgoing.thread, text=text
            )

        done = await deliver(self._clone, outgoing, post, refusals=SEND_ERRORS, reason=_why)
        if isinstance(done, NotSent):
            retry = done.retry
            # The same draft again, with fresh buttons, in place of the one that failed.
            blocks = render.text_blocks(retry.text.splitlines()[0]) + render.reply_blocks(retry)
            if not url or not await self._respond(
                url, text=render.fallback_text(retry), blocks=blocks, replace_original=True
            ):
                await self._show(retry, clicker)
            return
        blocks = render.sent_blocks(outgoing, as_owner=as_owner)
        if url:
            await self._respond(url, text="Sent.", blocks=blocks, replace_original=True)


__all__ = ["SlackAdapter", "SlackOptions", "events_handler", "signature_ok"]
