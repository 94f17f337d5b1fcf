"""Core replies → Block Kit. Pure: no I/O.

A draft renders as the message it answers, each option with a "sounds like you" meter, the
buttons Send · Edit · Regenerate · Dismiss (``value`` = ``draft_id:option``) and a line saying it
was drafted by AI and is visible only to the owner.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.convert import (
    COMMAND,
    COMMAND_ACTION,
    EDIT_BLOCK,
    EDIT_CALLBACK,
    EDIT_INPUT,
    encode_value,
    is_user_id,
)
from core.commands import COMMANDS
from core.models import Action, Button, Draft, Outgoing, Priority, Reply

Block = dict[str, Any]

SECTION_LIMIT = 3000
"""Slack's limit on a section's text."""
BUTTONS_PER_BLOCK = 25
DISCLOSURE = "🤖 Drafted by your minime clone from your own messages · only you can see this · nothing is sent until you click Send"


def escape(text: str) -> str:
    """Slack's three control characters, so shown text cannot become a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def who(sender: str) -> str:
    """A sender as Slack shows it: a mention for a user id, the name otherwise."""
    return f"<@{sender}>" if is_user_id(sender) else escape(sender)


def meter(score: int, *, width: int = 10) -> str:
    """``▰▰▰▰▰▰▰▱▱▱ 72/100``."""
    score = min(max(int(score), 0), 100)
    full = round(score * width / 100)
    return "▰" * full + "▱" * (width - full) + f" {score}/100"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, 2000)}]}


def _sections(text: str) -> list[Block]:
    """Long text split on line boundaries into sections Slack accepts."""
    blocks, chunk = [], ""
    for line in text.splitlines() or [""]:
        if len(chunk) + len(line) + 1 > SECTION_LIMIT - 10 and chunk:
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk.strip():
        blocks.append(_section(chunk))
    return blocks


def _action_id(button: Button, index: int) -> str:
    if button.action in (
        Action.SEND,
        Action.IMPORTANT,
        Action.NOT_IMPORTANT,
        Action.DRAFT,
        Action.PUBLISH,
        Action.SCHEDULE,
    ):
        # Several of these can share one message (the inbox): action ids must differ.
        return f"minime_{button.action.value}_{index}"
    return f"minime_{button.action.value}"


def button_element(button: Button, index: int) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(button.label, 75), "emoji": True},
        "action_id": _action_id(button, index),
        "value": encode_value(button.draft_id, button.option),
    }
    if button.action in (Action.SEND, Action.PUBLISH) and index == 0:
        element["style"] = "primary"
    if button.action is Action.DISMISS:
        element["style"] = "danger"
    return element


def _actions(buttons: tuple[Button, ...]) -> list[Block]:
    elements = [button_element(b, i) for i, b in enumerate(buttons)]
    return [
        {"type": "actions", "elements": elements[start : start + BUTTONS_PER_BLOCK]}
        for start in range(0, len(elements), BUTTONS_PER_BLOCK)
    ]


def priority_line(priority: Priority) -> str:
    label = "needs a reply" if priority.needs_reply else "no reply needed"
    reasons = "; ".join(escape(r) for r in priority.reasons) or "nothing stands out"
    return f"*Priority {priority.score:.2f}* · {label} — {reasons}"


def draft_blocks(
    draft: Draft, priority: Priority | None, buttons: tuple[Button, ...]
) -> list[Block]:
    blocks: list[Block] = []
    if priority is not None:
        blocks.append(_context(priority_line(priority)))
    quoted = "\n".join("> " + line for line in escape(clip(draft.incoming.text, 600)).splitlines())
    blocks.append(_section(f"*Reply to {who(draft.incoming.sender)}:*\n{quoted}"))
    for number, option in enumerate(draft.options, start=1):
        label = f"*{number}.* " if len(draft.options) > 1 else ""
        blocks.append(_section(label + escape(option.text)))
        fits = "" if option.fit is None else f"Fits {meter(option.fit)} · "
        blocks.append(
            _context(f"{fits}Sounds like you {meter(option.style_score)} · {escape(option.engine)}")
        )
    blocks += _actions(buttons)
    blocks.append(_context(DISCLOSURE))
    return blocks


def reply_blocks(reply: Reply) -> list[Block]:
    """Any reply of the clone as blocks: a draft richly, anything else as text and buttons."""
    if reply.draft is not None:
        return draft_blocks(reply.draft, reply.priority, reply.buttons)
    blocks = _sections(escape(reply.text))
    if reply.buttons:
        blocks += _actions(reply.buttons)
    return blocks


def fallback_text(reply: Reply) -> str:
    """The notification text that goes with the blocks."""
    if reply.draft is not None:
        return clip(f"Draft reply: {reply.draft.best.text}", 300)
    return clip(reply.text, 3000)


def help_blocks() -> list[Block]:
    """``/clone help`` as a formatted message, from the shared grammar."""
    lines = [f"• `{COMMAND} {spec.usage}` — {escape(spec.summary)}" for spec in COMMANDS]
    return [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "minime — your clone in Slack"},
        },
        _section("It drafts, you decide: *nothing is sent without your click.*"),
        _section("\n".join(lines)),
        _context(
            "Or use the message shortcut *Draft a reply with my clone* on any message, "
            "DM me a message to draft a reply to, or DM me an export file to train on."
        ),
    ]


def help_fallback() -> str:
    return f"minime help: {COMMAND} help"


def edit_modal(text: str, *, metadata: str) -> Block:
    """The Edit modal, prefilled with the draft."""
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Edit the draft"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": EDIT_BLOCK,
                "label": {"type": "plain_text", "text": "Your reply"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_INPUT,
                    "multiline": True,
                    "initial_value": clip(text, 3000),
                    "max_length": 3000,
                },
            },
            _context(
                "Sending posts this text in the original conversation; I learn from your edit."
            ),
        ],
    }


def bot_post_text(outgoing: Outgoing, owner_id: str) -> str:
    """What the bot posts when it cannot post as the owner: the text and a disclosure line."""
    return f"{outgoing.text}\n— drafted with <@{owner_id}>'s clone"


def sent_blocks(outgoing: Outgoing, *, as_owner: bool) -> list[Block]:
    how = "Edited and sent" if outgoing.edited else "Sent"
    where = f"<#{outgoing.conversation}>" if outgoing.conversation[:1] in "CG" else "the chat"
    by = "as you" if as_owner else "by the app, with a disclosure"
    return [
        _section(f"✅ {how} in {where} {by}:\n> {escape(clip(outgoing.text, 500))}"),
    ]


def text_blocks(text: str) -> list[Block]:
    return _sections(escape(text))


def _home_button(label: str, command: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": f"{COMMAND_ACTION}_{command.replace(' ', '_')}",
        "value": command,
    }


def home_view(*, profile: Reply, inbox: Reply, personas: Reply, paused: bool | None) -> Block:
    """The App Home tab: the style card, the inbox, personas and settings."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your clone"}},
        _section("*How you write*"),
        *_sections(escape(profile.text)),
    ]
    if profile.image is not None:
        blocks.append(
            _context(
                f"Your style card picture: `{COMMAND} profile` or the button below sends it to our DM."
            )
        )
    blocks += [
        {"type": "divider"},
        _section("*Inbox*"),
        *reply_blocks(inbox),
        {"type": "divider"},
        _section("*Personas* (the active one is starred)"),
        *_sections(escape(personas.text)),
        _context(f"`{COMMAND} persona new <name>` · `{COMMAND} persona use <name>`"),
        {"type": "divider"},
        _section("*Settings*"),
        {
            "type": "actions",
            "elements": [
                _home_button("Send me my style card", "profile"),
                _home_button("Learn from new messages: on", "train on"),
                _home_button("Learning: off", "train off"),
                _home_button(
                    "Resume" if paused else "Pause the clone",
                    "privacy resume" if paused else "privacy pause",
                ),
            ],
        },
        _context(DISCLOSURE),
    ]
    return {"type": "home", "blocks": blocks[:100]}


def progress_text(filename: str, count: int, *, done: bool = False) -> str:
    return f"{'Imported' if done else 'Importing'} {escape(filename)}: {count:,} messages read{'' if done else '…'}"
