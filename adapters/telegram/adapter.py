"""The Telegram adapter: python-telegram-bot's ``Application`` and its handlers.

Every update goes through two handlers: a persisted de-duplication by ``update_id`` (group -1,
``ApplicationHandlerStop`` on a repeat, so retries and restarts do not repeat side effects), then one
dispatcher that classifies the update with :mod:`adapters.telegram.convert` and calls the core.
Requests to the Bot API pass :class:`~adapters.telegram.transport.ChatRateLimiter` (about one
message a second per chat, retries on ``RetryAfter``). Nothing here logs a payload: PTB's own
``httpx`` logger would print the token, so ``bot/logs.py`` keeps it at WARNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    ContextTypes,
    TypeHandler,
)

from adapters.common import (
    BackgroundTasks,
    DurableDeliveries,
    NotSent,
    addressed_to,
    deliver,
    not_sent,
    option_to_edit,
)
from adapters.telegram.callbacks import CallbackCodec, CallbackRefused, derive_key
from adapters.telegram.connections import BusinessConnections
from adapters.telegram.convert import (
    PLATFORM,
    BusinessIncoming,
    BusinessLink,
    Click,
    Hint,
    Upload,
    business_message,
    destination,
    to_action,
    to_business_incoming,
    to_business_link,
    to_event,
)
from adapters.telegram.render import (
    MAX_TEXT,
    InlineButton,
    bot_commands,
    clip,
    edit_prompt,
    escape,
    render,
    sent_note,
    with_note,
)
from adapters.telegram.transport import (
    ALLOWED_UPDATES,
    SECRET_HEADER,
    WEBHOOK_PATH,
    AnyApplication,
    ChatRateLimiter,
    PollingConflict,
    Webhook,
    build_application,
)
from adapters.telegram.uploads import ExportUploads
from core.models import (
    Action,
    ActionInvocation,
    CommandInvocation,
    IncomingMessage,
    Outgoing,
    Reply,
    UserRef,
    utc_now,
)
from core.models import Message as CoreMessage
from core.ports import AccountStore, Clock, DeliveryLog
from core.privacy import apply_disclosure, disclosure_for
from core.service import Clone

log = logging.getLogger(__name__)

_GUARDED: ContextVar[bool] = ContextVar("telegram_update_guarded", default=False)


_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# ----------------------------------------------------------------- the adapter


def _first_name(update: Update) -> str:
    user = update.effective_user
    return user.first_name if user is not None else "the owner"


def _markup(rows: tuple[tuple[InlineButton, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.text, callback_data=button.callback_data)
                for button in row
            ]
            for row in rows
        ]
    )


MAX_UPDATE_DEPTH = 32
"""Deepest nesting accepted in a webhook body; real updates stay under 10."""


def read_update(raw: bytes, bot: Any) -> Update | None:
    """The update in a webhook body, or ``None`` (logged without content) if it is not one."""
    size = len(raw)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        log.info("telegram: refused a webhook body that is not JSON (%d bytes)", size)
        return None
    if _depth(data) > MAX_UPDATE_DEPTH:
        log.info("telegram: refused a webhook body nested too deep (%d bytes)", size)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        log.info("telegram: refused a webhook body that is not an update (%d bytes)", size)
        return None
    try:
        update = Update.de_json(data, bot)
        missing = _missing(update)
    except Exception as error:  # PTB's reader is the schema: whatever it cannot read is malformed
        log.info("telegram: refused a malformed update (%s, %d bytes)", type(error).__name__, size)
        return None
    if missing is not None:
        log.info("telegram: refused an update without %s (%d bytes)", missing, size)
        return None
    return update


def _missing(update: Update) -> str | None:
    """A field the Bot API always sends that PTB let through absent (it does not check them)."""
    for message in (update.message, update.edited_message, update.business_message):
        if message is not None and (message.chat is None or message.date is None):
            return "a message's chat or date"
    query = update.callback_query
    if query is not None and (not query.id or query.from_user is None):
        return "a callback query's id or sender"
    connection = update.business_connection
    if connection is not None and (not connection.id or connection.user is None):
        return "a business connection's id or user"
    return None


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


class TelegramAdapter:
    """The clone in a Telegram private chat, and in the owner's Business chats when connected.

    Args:
        application: a PTB application (see :func:`build_application`), not yet initialised.
        clone: the core service.
        deliveries: persisted de-duplication of ``update_id``s.
        connections: the owners' Business connections.
        codec: signs and checks inline-button data.
        workdir: where uploaded exports are downloaded (deleted after import).
        webhook: set for webhook mode; polling otherwise.
    """

    def __init__(
        self,
        *,
        application: AnyApplication,
        clone: Clone,
        deliveries: DeliveryLog,
        connections: BusinessConnections,
        codec: CallbackCodec,
        workdir: Path,
        webhook: Webhook | None = None,
        durable: DurableDeliveries | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._app = application
        self._clone = clone
        self._deliveries = deliveries
        self._connections = connections
        self._codec = codec
        self._webhook = webhook
        self._clock = clock
        self._tasks = BackgroundTasks()
        self._durable = durable.use_tasks(self._tasks) if durable is not None else None
        self._uploads = ExportUploads(
            bot=application.bot, clone=clone, workdir=workdir, say=self._say
        )
        self._last_from_contact: OrderedDict[tuple[str, int], CoreMessage] = OrderedDict()
        application.add_handler(TypeHandler(Update, self._deduplicate), group=-1)
        application.add_handler(TypeHandler(Update, self._dispatch), group=0)
        application.add_error_handler(self._on_error)

    @property
    def application(self) -> AnyApplication:
        return self._app

    @property
    def _bot(self) -> Bot:
        bot: Bot = self._app.bot
        return bot

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Register the command menu, and the webhook when configured (the app is initialised)."""
        await self._bot.set_my_commands(
            [BotCommand(command, description) for command, description in bot_commands()]
        )
        if self._webhook is not None:
            await self._bot.set_webhook(
                self._webhook.url,
                secret_token=self._webhook.secret,
                allowed_updates=ALLOWED_UPDATES,
            )

    async def run(self) -> None:
        """Process updates (long polling, or from the webhook route) until cancelled.

        Raises:
            PollingConflict: Telegram answered ``409 Conflict`` to polling (another process polls
                with this token); polling stops at once instead of retrying forever.
        """
        app = self._app
        await app.start()
        conflict: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def polling_error(error: TelegramError) -> None:
            # Called by PTB's polling loop (not a coroutine); any other error is retried.
            if isinstance(error, Conflict):
                if not conflict.done():
                    log.error("telegram: 409 Conflict from getUpdates; stopping polling")
                    conflict.set_exception(PollingConflict())
            else:
                log.warning("telegram: polling failed (%s); retrying", type(error).__name__)

        try:
            if self._webhook is None:
                assert app.updater is not None
                await app.updater.start_polling(
                    allowed_updates=ALLOWED_UPDATES, error_callback=polling_error
                )
            await conflict  # never completes in webhook mode: runs until cancelled
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Stop polling and processing; abandon imports in flight (nothing half-written stays)."""
        app = self._app
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await self._tasks.cancel()

    async def drain(self) -> None:
        """Wait for background work (imports) to finish."""
        await self._tasks.drain()

    async def handle_webhook(self, request: web.Request) -> web.Response:
        """``POST /telegram/webhook``: check the secret in constant time, queue the update.

        A body that is not an update PTB can read (not JSON, nested too deep, ``"message": "x"``,
        a date out of range…) gets 400, is logged by the kind of error and its size only, and is
        never queued. With ``durable``, an update is stored (accepted) before its 200."""
        if self._webhook is None or not self._webhook.accepts(request.headers.get(SECRET_HEADER)):
            return web.Response(status=403)
        try:
            raw = await request.read()
        except (web.HTTPException, ValueError, OSError):
            return web.Response(status=400)
        update = read_update(raw, self._app.bot)
        if update is None:
            return web.Response(status=400)
        if self._durable is None:
            await self._app.update_queue.put(update)
            return web.Response(status=200)
        try:
            within = self._within_caps(update)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            # A field of a shape no real update has: refused like any malformed body.
            size = len(raw)
            log.info(
                "telegram: refused a malformed update (%s, %d bytes)", type(error).__name__, size
            )
            return web.Response(status=400)
        if within:
            key = self._delivery_key(update)
            if await self._durable.accept(key, raw):  # stored before Telegram hears "200"
                self._durable.start(key, partial(process_accepted, self._app, update))
        return web.Response(status=200)

    async def resume(self, key: str, payload: bytes) -> None:
        """Run an accepted update whose worker died, from its stored body."""
        if (update := read_update(payload, self._app.bot)) is not None:
            await process_accepted(self._app, update)

    # ------------------------------------------------------------- handlers

    def _delivery_key(self, update: Update) -> str:
        return f"telegram:{self._bot.id}:{update.update_id}"

    async def _deduplicate(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if _GUARDED.get():
            return
        if not self._within_caps(update):
            log.debug(
                "update %s over the rate cap: dropped before it was recorded", update.update_id
            )
            raise ApplicationHandlerStop
        key = self._delivery_key(update)
        if not await self._deliveries.first_seen(key):
            log.debug("update %s already handled", update.update_id)
            raise ApplicationHandlerStop

    def _within_caps(self, update: Update) -> bool:
        return within_caps(update, self._bot.id, self._clone, self._connections)

    async def _dispatch(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_event(update.to_dict(), bot_id=self._bot.id)
        if event is None:
            return
        if isinstance(event, Click):
            assert update.callback_query is not None
            await self._on_click(event, update.callback_query)
        elif isinstance(event, CommandInvocation):
            await self._on_command(event)
        elif isinstance(event, IncomingMessage):
            await self._on_forward(event, delivery=self._delivery_key(update))
        elif isinstance(event, ActionInvocation):
            chat_id = update.effective_chat.id if update.effective_chat else None
            await self._on_edited(event, chat_id, _first_name(update))
        elif isinstance(event, Upload):
            self._tasks.spawn(self._uploads.take(event))
        elif isinstance(event, BusinessLink):
            await self._on_business_link(event)
        elif isinstance(event, BusinessIncoming):
            await self._on_business_message(event)
        elif isinstance(event, Hint):
            await self._say(event.chat_id, event.text)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        # The type only: exception text can quote a request (and so the token or a message).
        log.error("Telegram update failed: %s", type(error).__name__)
        if not isinstance(update, Update):
            return
        with contextlib.suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(
                    "Sorry, that failed. Try again.", show_alert=True
                )
            elif update.message is not None and update.message.chat.type == "private":
                await self._say(update.message.chat.id, "Sorry, that failed. Try again.")

    # ------------------------------------------------------------- private chat

    async def _say(self, chat_id: int, text: str) -> Message:
        return await self._bot.send_message(
            chat_id, escape(clip(text)), parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
        )

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        """The ``Notifier`` port: a digest or reminder goes to the owner's private chat with
        the bot (its id is the owner's user id, once they have started the bot)."""
        if not addressed_to(to, PLATFORM, numeric_id=True):
            return False
        try:
            await self._show(int(to.user_id), reply, to)
        except TelegramError as error:
            log.warning("telegram: notification failed: %s", type(error).__name__)
            return False
        return True

    async def _show(self, chat_id: int, reply: Reply, owner: UserRef) -> None:
        rendered = render(reply, codec=self._codec, user_id=owner.user_id, now=self._clock())
        bot = self._bot
        if rendered.text.strip():  # Telegram refuses an empty message
            await bot.send_message(
                chat_id,
                rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(rendered.keyboard),
                link_preview_options=_NO_PREVIEW,
            )
        if rendered.photo is not None:
            await bot.send_photo(
                chat_id, InputFile(rendered.photo, filename=rendered.photo_name or "card.png")
            )
        if rendered.document is not None:
            await bot.send_document(
                chat_id, InputFile(rendered.document, filename=rendered.document_name or "file.bin")
            )

    async def _on_command(self, command: CommandInvocation) -> None:
        where = destination(command.conversation or "")
        assert where is not None
        for reply in await self._clone.handle_command(command):
            await self._show(where.chat_id, reply, command.user)

    async def _on_forward(self, incoming: IncomingMessage, *, delivery: str) -> None:
        where = destination(incoming.message.conversation)
        assert where is not None
        # Keyed by the update: a redelivery after a worker died mid-way shows the same draft.
        reply = await self._clone.handle_incoming(incoming, explicit=True, delivery=delivery)
        if reply is not None:
            await self._show(where.chat_id, reply, incoming.owner)

    async def _on_edited(self, action: ActionInvocation, chat_id: int | None, name: str) -> None:
        if chat_id is None:
            return
        outcome = await self._clone.handle_action(action)
        if outcome.outgoing is not None:
            await self._deliver(
                outcome.outgoing, owner=action.user, name=name, chat_id=chat_id, draft=None
            )
        elif outcome.needs_text:
            await self._say(chat_id, "That was empty: nothing sent. Press Edit again to retry.")
        elif outcome.reply is not None:
            await self._show(chat_id, outcome.reply, action.user)

    # ------------------------------------------------------------- clicks

    async def _on_click(self, click: Click, query: CallbackQuery) -> None:
        try:
            action = to_action(click, codec=self._codec, now=self._clock())
        except CallbackRefused as refusal:
            # Checked before the store is touched: a forged or stale button does nothing.
            await query.answer(str(refusal), show_alert=True)
            return
        outcome = await self._clone.handle_action(action)
        message = query.message if isinstance(query.message, Message) else None
        chat_id = click.chat_id
        if outcome.outgoing is not None and chat_id is not None:
            await query.answer("Sending…")
            await self._deliver(
                outcome.outgoing,
                owner=click.user,
                name=query.from_user.first_name,
                chat_id=chat_id,
                draft=message,
            )
            return
        if outcome.outgoing is not None:  # the draft message is gone: nowhere to confirm
            await self._clone.send_failed(outcome.outgoing, reason="the draft message is gone")
            await query.answer("That message is gone: forward the original again.", show_alert=True)
            return
        if outcome.needs_text and chat_id is not None:
            await query.answer()
            if message is not None:
                await self._close(message, "✏️ Editing: reply to the message below with your text.")
            pending = await self._clone.pending_draft(action.user, action.draft_id)
            editing = option_to_edit(pending, action.option)
            current = editing[1] if editing is not None else None
            await self._bot.send_message(
                chat_id,
                edit_prompt(action.draft_id, action.option, current=current),
                parse_mode=ParseMode.HTML,
                reply_markup=ForceReply(selective=True, input_field_placeholder="Your reply"),
            )
            return
        reply = outcome.reply
        if reply is None or message is None or action.action in (Action.SEND, Action.EDIT):
            # A refusal (someone else's, already handled): say so, change nothing.
            await query.answer(
                clip(reply.text if reply else "Nothing to do.", 190), show_alert=True
            )
            return
        await query.answer()
        if reply.buttons:
            rendered = render(
                reply, codec=self._codec, user_id=click.user.user_id, now=self._clock()
            )
            await self._bot.edit_message_text(
                rendered.text,
                chat_id=message.chat.id,
                message_id=message.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(rendered.keyboard),
                link_preview_options=_NO_PREVIEW,
            )
        else:
            await self._close(message, reply.text)

    async def _close(self, message: Message, note: str) -> None:
        """Rewrite a draft message with what became of it, and take its buttons away."""
        original = message.text_html if message.text else ""
        with contextlib.suppress(BadRequest):  # "message is not modified"
            await self._bot.edit_message_text(
                with_note(original, note),
                chat_id=message.chat.id,
                message_id=message.message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
            )

    async def _deliver(
        self,
        outgoing: Outgoing,
        *,
        owner: UserRef,
        name: str,
        chat_id: int,
        draft: Message | None,
    ) -> None:
        """Post an approved text where it belongs, exactly once, and report back to the core.

        ``name`` is the owner's first name, for the disclosure under what the bot posts.
        """
        where = destination(outgoing.conversation)
        if where is None:
            reason = "that draft came from another platform: send it from there"
            await self._failed(outgoing, reason, owner=owner, chat_id=chat_id, draft=draft)
            return
        business = where.business_connection_id
        if business is not None:
            link = await self._connections.get(owner, business)
            problem = (
                "that Business connection isn't yours, or is gone"
                if link is None
                else "your Business connection to me is switched off"
                if not link.enabled
                else "your Business connection doesn't let me reply: allow “Reply to messages” "
                "in Settings → Telegram Business → Chatbots"
                if not link.can_reply
                else None
            )
            if problem is not None:
                await self._failed(outgoing, problem, owner=owner, chat_id=chat_id, draft=draft)
                return
        text = await self._disclosed(outgoing, owner, name, bot_posts=business is not None)

        async def post() -> Message:
            # Plain text, no parse mode: exactly what the owner approved (and the disclosure).
            return await self._bot.send_message(
                where.chat_id,
                text,
                business_connection_id=business,
                link_preview_options=_NO_PREVIEW,
            )

        done = await deliver(
            self._clone,
            outgoing,
            post,
            refusals=(TelegramError,),
            reason=lambda error: f"Telegram refused it: {type(error).__name__}",
        )
        if isinstance(done, NotSent):
            await self._not_sent(done, owner=owner, chat_id=chat_id, draft=draft)
            return
        note = sent_note(business=business is not None, edited=outgoing.edited)
        if draft is not None:
            await self._close(draft, note)
        elif business is not None:
            await self._say(chat_id, note)

    async def _disclosed(
        self, outgoing: Outgoing, owner: UserRef, name: str, *, bot_posts: bool
    ) -> str:
        """The text as posted: with the disclosure the owner chose (default: a line when the
        bot posts in a Business chat, none when the owner forwards the text themselves)."""
        account = await self._clone.account(owner)
        persona = await self._clone.active_persona(account)
        mode = disclosure_for(
            account.settings, persona_id=persona.id, platform=PLATFORM, bot_posts=bot_posts
        )
        return apply_disclosure(outgoing.text, mode, owner_name=name, limit=MAX_TEXT)

    async def _failed(
        self,
        outgoing: Outgoing,
        reason: str,
        *,
        owner: UserRef,
        chat_id: int,
        draft: Message | None,
    ) -> None:
        """It cannot be posted: tell the core, which offers the draft again."""
        failed = await not_sent(self._clone, outgoing, reason)
        await self._not_sent(failed, owner=owner, chat_id=chat_id, draft=draft)

    async def _not_sent(
        self, failed: NotSent, *, owner: UserRef, chat_id: int, draft: Message | None
    ) -> None:
        """Nothing was posted: the core's fresh copy of the draft, for another click."""
        if draft is not None:
            await self._close(draft, "✗ Not sent.")
        await self._show(chat_id, failed.retry, owner)

    # ------------------------------------------------------------- Business

    async def _on_business_link(self, link: BusinessLink) -> None:
        await self._connections.save(link)
        if not link.enabled:
            text = "Your Telegram Business account is disconnected: I no longer see your chats."
        elif link.can_reply:
            text = (
                "Connected to your Telegram Business account. I'll offer drafts here for messages "
                "that need you; Send answers in that chat on your behalf, and only when you press it."
            )
        else:
            text = (
                "Connected to your Telegram Business account, read-only: I'll offer drafts here, "
                "but to let Send answer for you, allow “Reply to messages” in Settings → "
                "Telegram Business → Chatbots."
            )
        if link.enabled:
            text += (
                "\n\nDrafts need your voice: if you haven't trained me yet, send me an export of "
                "your chats as a document, or try /train --sample."
            )
        with contextlib.suppress(TelegramError):  # the owner may never have opened the bot
            await self._say(link.user_chat_id, text)

    async def _on_business_message(self, event: BusinessIncoming) -> None:
        link = self._connections.cached(event.connection_id)
        if link is None:
            connection = await self._bot.get_business_connection(event.connection_id)
            link = to_business_link(connection.to_dict())
            if link is None:
                return
            await self._connections.save(link)
        if not link.enabled:
            return
        chat = (event.connection_id, event.chat_id)
        if event.sender_id is not None and str(event.sender_id) == link.owner.user_id:
            # The owner wrote in the chat themselves: a sample of their voice, if they said so
            # (`train on`); the core checks that consent. It answers the contact's last message.
            answered = self._last_from_contact.pop(chat, None)
            await self._clone.observe_owner_message(
                link.owner,
                business_message(event, reply_to=answered.id if answered else None),
                replying_to=answered,
            )
            return
        incoming = to_business_incoming(event, owner=link.owner)
        self._last_from_contact[chat] = incoming.message
        self._last_from_contact.move_to_end(chat)
        while len(self._last_from_contact) > 1024:
            self._last_from_contact.popitem(last=False)
        reply = await self._clone.handle_incoming(incoming)
        # Only drafts: a "train me first" note for every message in every chat would be noise
        # (the connection's welcome says it once).
        if reply is not None and reply.draft is not None:
            await self._show(link.user_chat_id, reply, link.owner)


# ----------------------------------------------------------------- wiring


def within_caps(
    update: Update, bot_id: int, clone: Clone, connections: BusinessConnections
) -> bool:
    """The clone's rate caps, checked before the update is recorded (a flood writes nothing):
    forwarded messages, and contacts' messages in a connected business chat."""
    event = _readable_event(update, bot_id)
    if isinstance(event, IncomingMessage):
        return clone.admit(event, explicit=True)
    if isinstance(event, BusinessIncoming):
        link = connections.cached(event.connection_id)
        if link is None or not link.enabled:
            return True  # looked up (and capped) when handled
        if event.sender_id is not None and str(event.sender_id) == link.owner.user_id:
            return True  # the owner's own message: not triaged
        return clone.admit(to_business_incoming(event, owner=link.owner))
    return True


def _readable_event(update: Update, bot_id: int) -> object:
    """``to_event`` of an update; ``None`` for one of a shape we cannot read, which the caps let
    through: its handlers refuse it (the error handler logs it by type)."""
    try:
        return to_event(update.to_dict(), bot_id=bot_id)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


async def process_accepted(app: AnyApplication, update: Update) -> None:
    """An accepted update's work (``_deduplicate`` stands aside: the record is the claim)."""
    guarded = _GUARDED.set(True)
    try:
        await app.process_update(update)
    finally:
        _GUARDED.reset(guarded)


@asynccontextmanager
async def open_telegram(
    *,
    token: str,
    clone: Clone,
    deliveries: DeliveryLog,
    accounts: AccountStore,
    workdir: Path,
    webhook: Webhook | None = None,
    durable: DurableDeliveries | None = None,
    base_url: str | None = None,
    base_file_url: str | None = None,
    per_chat_interval: float = 1.0,
    button_ttl: timedelta = timedelta(hours=48),
    clock: Clock = utc_now,
) -> AsyncIterator[TelegramAdapter]:
    """An initialised adapter (``getMe`` answered, commands and webhook registered); shut down on
    exit, also when start-up fails half-way."""
    application = build_application(
        token,
        rate_limiter=ChatRateLimiter(per_chat_interval=per_chat_interval),
        base_url=base_url,
        base_file_url=base_file_url,
        polling=webhook is None,
    )
    adapter = TelegramAdapter(
        application=application,
        clone=clone,
        deliveries=deliveries,
        connections=BusinessConnections(accounts=accounts),
        codec=CallbackCodec(derive_key(token), ttl=button_ttl),
        workdir=workdir,
        webhook=webhook,
        durable=durable if webhook is not None else None,
        clock=clock,
    )
    async with application:
        try:
            await adapter.start()
            yield adapter
        finally:
            await adapter.stop()


__all__ = [
    "ALLOWED_UPDATES",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "ChatRateLimiter",
    "PollingConflict",
    "TelegramAdapter",
    "Webhook",
    "build_application",
    "open_telegram",
]
