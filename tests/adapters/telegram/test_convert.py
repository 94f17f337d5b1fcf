"""Recorded Bot API updates → core models (pure: no PTB, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.telegram.convert import (
    BusinessIncoming,
    BusinessLink,
    Click,
    Destination,
    Hint,
    Upload,
    business_conversation,
    destination,
    private_conversation,
    to_business_incoming,
    to_event,
)
from adapters.telegram.render import edit_prompt
from core.models import Action, ActionInvocation, CommandInvocation, IncomingMessage
from tests.adapters.telegram.conftest import BOB_CHAT, CONNECTION, OWNER, OWNER_ID, payload

BOT_ID = 7000000001


def event(name: str) -> object:
    return to_event(payload(name), bot_id=BOT_ID)


def test_a_forward_from_a_user_is_their_message_to_the_owner() -> None:
    incoming = event("forward_user.json")
    assert isinstance(incoming, IncomingMessage)
    assert incoming.owner == OWNER
    assert incoming.sender_name == "Bob Tanaka" == incoming.message.sender
    assert incoming.message.text == "can you review my PR today?"
    assert incoming.message.conversation == private_conversation(OWNER_ID)
    assert incoming.message.sent_at == datetime.fromtimestamp(1763715400, UTC)
    assert incoming.is_direct and incoming.addressees == 1


@pytest.mark.parametrize(
    ("name", "sender", "direct"),
    [
        ("forward_hidden_user.json", "Dana K.", True),
        ("forward_channel.json", "Priya (Launch Updates)", False),
        ("pasted_text.json", "them", True),
    ],
)
def test_other_origins(name: str, sender: str, direct: bool) -> None:
    incoming = event(name)
    assert isinstance(incoming, IncomingMessage)
    assert incoming.sender_name == sender and incoming.is_direct is direct


def test_commands_keep_the_telegram_spelling_for_the_core_to_parse() -> None:
    command = event("command_draft.json")
    assert isinstance(command, CommandInvocation)
    assert (command.name, command.text) == ("", "/draft can you review my PR today?")
    assert command.command_prefix == "/" and command.is_private
    assert destination(command.conversation or "") == Destination(chat_id=OWNER_ID)


def test_train_never_takes_a_server_path_from_chat() -> None:
    hint = event("command_train_path.json")
    assert isinstance(hint, Hint) and "as a document" in hint.text
    sample = event("command_train_sample.json")
    assert isinstance(sample, CommandInvocation) and sample.text == "/train --sample"
    for text in ("/train on", "/train off telegram", "/train on all", "/train --me=Alice"):
        update = payload("command_train_sample.json")
        update["message"]["text"] = text
        assert isinstance(to_event(update, bot_id=BOT_ID), CommandInvocation), text
    for text in ("/train result.json", "/train ../data/minime.db --me=x"):
        update = payload("command_train_sample.json")
        update["message"]["text"] = text
        assert isinstance(to_event(update, bot_id=BOT_ID), Hint), text


def test_documents_are_uploads_with_the_caption_naming_the_owner() -> None:
    upload = event("document_export.json")
    assert isinstance(upload, Upload)
    assert (upload.file_name, upload.me, upload.chat_id) == ("result.json", None, OWNER_ID)
    named = event("document_with_me.json")
    assert isinstance(named, Upload) and named.me == "Alice Moreau"


@pytest.mark.parametrize(
    "name",
    ["group_message.json", "edited_message.json", "deleted_business_messages.json"],
)
def test_what_the_clone_ignores(name: str) -> None:
    assert event(name) is None


@pytest.mark.parametrize("name", ["sticker.json", "forward_photo_no_caption.json"])
def test_messages_without_text_get_a_hint(name: str) -> None:
    assert isinstance(event(name), Hint)


def test_a_reply_to_the_edit_prompt_is_the_edited_text() -> None:
    update = payload("edit_reply.json")
    prompt = edit_prompt("0123abcd" * 4, 1, current="sure - which pr?")
    # Telegram hands back the prompt's text without the markup.
    update["message"]["reply_to_message"]["text"] = (
        prompt.replace("<i>", "").replace("</i>", "").replace("<code>", "").replace("</code>", "")
    )
    action = to_event(update, bot_id=BOT_ID)
    assert action == ActionInvocation(
        user=OWNER,
        action=Action.EDIT,
        draft_id="0123abcd" * 4,
        option=1,
        edited_text="sure, send it over and I'll look after lunch",
    )
    # The same reply to someone else's message is just pasted text.
    update["message"]["reply_to_message"]["from"] = {"id": 5, "is_bot": False, "first_name": "X"}
    assert isinstance(to_event(update, bot_id=BOT_ID), IncomingMessage)


def test_a_click_carries_its_untrusted_data() -> None:
    update = payload("callback_query.json")
    click = to_event(update, bot_id=BOT_ID)
    assert isinstance(click, Click)
    assert (click.user, click.data, click.chat_id) == (OWNER, "placeholder", OWNER_ID)


@pytest.mark.parametrize(
    ("name", "can_reply", "enabled"),
    [
        ("business_connection.json", True, True),
        ("business_connection_readonly.json", False, True),
        ("business_connection_legacy.json", True, True),
        ("business_connection_disabled.json", True, False),
    ],
)
def test_business_connections(name: str, can_reply: bool, enabled: bool) -> None:
    link = event(name)
    assert isinstance(link, BusinessLink)
    assert (link.connection_id, link.owner, link.user_chat_id) == (CONNECTION, OWNER, OWNER_ID)
    assert (link.can_reply, link.enabled) == (can_reply, enabled)
    assert BusinessLink.from_json(link.as_json()) == link


def test_a_business_message_is_addressed_to_the_connection_owner() -> None:
    message = event("business_message.json")
    assert isinstance(message, BusinessIncoming)
    assert (message.sender_id, message.sender_name) == (BOB_CHAT, "Bob Tanaka")
    incoming = to_business_incoming(message, owner=OWNER)
    assert incoming.owner == OWNER and incoming.is_direct
    conversation = incoming.message.conversation
    assert conversation == business_conversation(CONNECTION, BOB_CHAT)
    assert destination(conversation) == Destination(
        chat_id=BOB_CHAT, business_connection_id=CONNECTION
    )


def test_messages_the_bot_sent_for_the_owner_are_ignored() -> None:
    assert event("business_message_by_bot.json") is None
    # The owner's own message comes through; the adapter drops it knowing the owner.
    own = event("business_message_from_owner.json")
    assert isinstance(own, BusinessIncoming) and own.sender_id == OWNER_ID


@pytest.mark.parametrize("conversation", ["C024BE91L", "tg:abc", "tgb:", "tgb:x:y", ""])
def test_foreign_or_broken_conversations_have_no_destination(conversation: str) -> None:
    assert destination(conversation) is None


@pytest.mark.parametrize(
    "caption",
    [
        '/train --me "Alice Moreau"',
        "/train --me 'Alice Moreau'",
        "/train --me “Alice Moreau”",
        "--me=Alice Moreau",
        "--me Alice Moreau",
    ],
)
def test_the_caption_names_the_owner_quoted_or_to_the_end(caption: str) -> None:
    update = payload("document_with_me.json")
    update["message"]["caption"] = caption
    upload = to_event(update, bot_id=BOT_ID)
    assert isinstance(upload, Upload) and upload.me == "Alice Moreau"


def test_a_business_reply_carries_the_quoted_message_as_its_context() -> None:
    message = event("business_reply.json")
    assert isinstance(message, BusinessIncoming)
    incoming = to_business_incoming(message, owner=OWNER)
    [earlier] = incoming.context
    assert earlier.text == "can you look at the API docs PR before friday?"
    assert earlier.sender == "Bob Tanaka"
    assert earlier.conversation == incoming.message.conversation
    assert incoming.message.reply_to == earlier.id and earlier.sent_at < incoming.message.sent_at
    # Without a quote there is no context.
    plain = event("business_message.json")
    assert isinstance(plain, BusinessIncoming)
    assert to_business_incoming(plain, owner=OWNER).context == ()
