"""Console input lines → core models. Pure: no I/O.

- ``/clone <command>`` or ``/<command>``: a command of the shared grammar;
- ``> text`` or ``> alice: text``: an incoming message (pasted), triaged and drafted;
- ``>> alice: text``: a message *arriving* for the owner (as a chat platform would deliver it):
  triaged into the inbox, with drafts offered only when it needs a reply;
- a number, or ``send [n]`` / ``edit [n] <text>`` / ``regenerate`` / ``dismiss``: an action on the
  draft shown last;
- ``/quit``: leave;
- several lines at once that are none of the above (a paste on a terminal): one pasted message.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from core.models import (
    Action,
    ActionInvocation,
    Button,
    CommandInvocation,
    IncomingMessage,
    Message,
    UserRef,
)

PLATFORM = "local"
QUIT = frozenset({"/quit", "/exit", "/q", "quit", "exit"})
_SENDER = re.compile(r"^(?P<sender>[\w.\-]{1,32}):\s+(?P<text>.+)$", re.S)
_SENDER_ONLY = re.compile(r"^[\w.\-]{1,32}:$")
_ACTION = re.compile(
    r"^(?P<verb>send|edit|regenerate|dismiss|s|e|r|d)\b\s*(?P<n>\d+)?\s*(?P<text>.*)$", re.I | re.S
)
_VERBS = {"s": "send", "e": "edit", "r": "regenerate", "d": "dismiss"}


@dataclass(frozen=True, slots=True)
class Quit:
    """The user asked to leave."""


@dataclass(frozen=True, slots=True)
class Arrived:
    """A message arriving for the owner (``>>``), not pasted to the clone."""

    incoming: IncomingMessage


@dataclass(frozen=True, slots=True)
class Unknown:
    """A line that is none of the above; ``hint`` says what would work."""

    hint: str


ConsoleInput = (
    CommandInvocation | IncomingMessage | Arrived | ActionInvocation | Quit | Unknown | None
)


def to_input(
    line: str, *, user: UserRef, buttons: tuple[Button, ...], now: datetime
) -> ConsoleInput:
    """Interpret one line typed (or piped) into the console."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.lower() in QUIT:
        return Quit()
    if text.startswith("/"):
        return CommandInvocation(
            user=user,
            name="",
            text=text,
            conversation="console",
            is_private=True,
            local_files=True,
        )
    if "\n" in text and not text.startswith((">", "/")):
        # Several lines at once (a paste into the terminal): one message, as if after "> ".
        text = f"> {text}"
    if text.startswith(">"):
        arriving = text.startswith(">>")
        body = text[2 if arriving else 1 :].strip()
        if not body:
            return Unknown(
                hint="Type the message after '> ', e.g. '> alice: can you review my PR today?'"
            )
        if _SENDER_ONLY.match(body):
            return Unknown(
                hint=f"Type the message after '{body} ', e.g. '> {body} can you review my PR today?'"
            )
        sender, message_text = "them", body
        match = _SENDER.match(body)
        if match:
            sender, message_text = match.group("sender"), match.group("text").strip()
        message = Message(
            id=f"console:{uuid.uuid4().hex}",
            conversation=f"console:{sender}",
            thread=None,
            sender=sender,
            text=message_text,
            sent_at=now,
        )
        incoming = IncomingMessage(owner=user, message=message, sender_name=sender, is_direct=True)
        return Arrived(incoming) if arriving else incoming
    action = to_action(text, user=user, buttons=buttons)
    if action is not None:
        return action
    return Unknown(hint="Type '/clone help' for commands, or '> message' to draft a reply to it.")


def to_action(text: str, *, user: UserRef, buttons: tuple[Button, ...]) -> ActionInvocation | None:
    """A numbered action (``2``, ``2 new text`` for Edit) or a word (``send 2``, ``edit new text``)."""
    if not buttons:
        return None
    number, _, rest = text.partition(" ")
    if number.isdigit():
        position = int(number) - 1
        if not 0 <= position < len(buttons):
            return None
        button = buttons[position]
        edited = rest.strip() or None if button.action is Action.EDIT else None
        return ActionInvocation(
            user=user,
            action=button.action,
            draft_id=button.draft_id,
            option=button.option,
            edited_text=edited,
        )
    match = _ACTION.match(text)
    if not match:
        return None
    verb = _VERBS.get(match.group("verb").lower(), match.group("verb").lower())
    option = int(match.group("n")) - 1 if match.group("n") else 0
    draft_id = buttons[0].draft_id
    edited = match.group("text").strip() or None if verb == "edit" else None
    return ActionInvocation(
        user=user, action=Action(verb), draft_id=draft_id, option=max(option, 0), edited_text=edited
    )
