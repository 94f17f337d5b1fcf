from __future__ import annotations

from datetime import UTC, datetime

from adapters.console.convert import Quit, Unknown, to_input
from adapters.console.render import render
from core.models import (
    Action,
    ActionInvocation,
    Button,
    CommandInvocation,
    IncomingMessage,
    Reply,
    UserRef,
)

ME = UserRef(platform="local", user_id="me")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
BUTTONS = (
    Button(label="Send 1", action=Action.SEND, draft_id="d1", option=0),
    Button(label="Send 2", action=Action.SEND, draft_id="d1", option=1),
    Button(label="Edit", action=Action.EDIT, draft_id="d1"),
    Button(label="Regenerate", action=Action.REGENERATE, draft_id="d1"),
    Button(label="Dismiss", action=Action.DISMISS, draft_id="d1"),
)


def conv(line: str, buttons: tuple[Button, ...] = ()) -> object:
    return to_input(line, user=ME, buttons=buttons, now=NOW)


def test_commands_messages_and_quit() -> None:
    command = conv("/clone train --sample")
    assert isinstance(command, CommandInvocation) and command.text == "/clone train --sample"
    incoming = conv("> alice: can you review my PR today?")
    assert isinstance(incoming, IncomingMessage)
    assert (incoming.message.sender, incoming.message.text) == (
        "alice",
        "can you review my PR today?",
    )
    anonymous = conv("> can you review my PR today?")
    assert isinstance(anonymous, IncomingMessage) and anonymous.message.sender == "them"
    assert isinstance(conv("/quit"), Quit)
    assert conv("   ") is None
    assert isinstance(conv("hello?"), Unknown)
    assert isinstance(conv(">"), Unknown)


def test_numbered_and_worded_actions_map_to_the_shown_buttons() -> None:
    assert conv("2", BUTTONS) == ActionInvocation(
        user=ME, action=Action.SEND, draft_id="d1", option=1
    )
    edit = conv("3 sure, after lunch", BUTTONS)
    assert isinstance(edit, ActionInvocation)
    assert (edit.action, edit.edited_text) == (Action.EDIT, "sure, after lunch")
    assert conv("send 2", BUTTONS) == ActionInvocation(
        user=ME, action=Action.SEND, draft_id="d1", option=1
    )
    assert isinstance(conv("dismiss", BUTTONS), ActionInvocation)
    assert isinstance(conv("9", BUTTONS), Unknown)
    assert isinstance(conv("1"), Unknown), "no draft shown: a number is not an action"


def test_render_numbers_the_actions() -> None:
    text = render(Reply(text="Drafts", buttons=BUTTONS))
    assert "[1] Send 1" in text and "[5] Dismiss" in text and "'3 <new text>' edits" in text


def test_a_sender_without_a_message_asks_for_the_message() -> None:
    for line in ("> bob:", ">> bob:", ">  kim.lee:  "):
        hint = conv(line)
        assert isinstance(hint, Unknown), line
        assert "Type the message after" in hint.hint
    assert isinstance(conv("> note: see below"), IncomingMessage)


def test_sent_names_the_recipient_or_says_there_is_none() -> None:
    from adapters.console.render import render_sent
    from core.models import Outgoing

    def outgoing(conversation: str, *, edited: bool = False) -> Outgoing:
        return Outgoing(
            draft_id="d1", account_id="a1", text="yep", conversation=conversation,
            thread=None, reply_to=None, edited=edited,
        )  # fmt: skip

    assert render_sent(outgoing("console:bob")) == "✓ sent to console:bob: yep"
    assert render_sent(outgoing("console:bob", edited=True)).startswith("✓ edited and sent to")
    bare = render_sent(outgoing("console"))
    assert (
        "sent to console" not in bare and bare.startswith("✓ approved") and "no recipient" in bare
    )
