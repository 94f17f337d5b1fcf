"""Core replies → Telegram message text (HTML) and inline-keyboard data. Pure: no I/O.

The adapter turns :class:`Rendered` into ``send_message``/``send_photo``/``send_document`` calls
and the keyboard rows into ``InlineKeyboardMarkup``. Text from people (messages, drafts) is
escaped; only the markup written here is HTML.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from adapters.telegram.callbacks import CallbackCodec
from core.commands import COMMANDS, help_text
from core.models import Action, Button, Draft, DraftOption, Priority, Reply
from core.service import render_draft

MAX_TEXT = 4096
"""Telegram's limit on a message's text (after entity parsing)."""

BUSINESS_PREFIX = "tgb:"

EDIT_REF = re.compile(r"draft (?P<draft>[A-Za-z0-9_-]{1,40}) · option (?P<option>\d{1,2})\s*$")
"""The reference line of the Edit prompt; the owner's reply to the prompt is parsed with it."""

_ICONS = {
    Action.SEND: "✅",
    Action.EDIT: "✏️",
    Action.REGENERATE: "🔄",
    Action.DISMISS: "✖️",
    Action.IMPORTANT: "⭐",
    Action.NOT_IMPORTANT: "🔕",
    Action.DRAFT: "📝",
    Action.PUBLISH: "🚀",
    Action.SCHEDULE: "🗓",
}
_CODE = re.compile(r"`([^`\n]+)`")

# Telegram spells usage differently where the chat itself carries the input.
_USAGE = {
    "train": "train [--sample | on | off] — or just send me an export file",
    "draft": "draft <message> — or forward me the message",
}
_MENU = {
    "start": "what I can do",
    "train": "learn from an export you send me, or the sample",
    "draft": "drafts for a message you paste (or just forward it)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class InlineButton:
    """One inline-keyboard button."""

    text: str
    callback_data: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """A reply ready for the Bot API: HTML text, keyboard rows, and any picture or file."""

    text: str
    keyboard: tuple[tuple[InlineButton, ...], ...] = ()
    photo: bytes | None = None
    photo_name: str | None = None
    document: bytes | None = None
    document_name: str | None = None


def escape(text: str) -> str:
    """HTML-escape for ``parse_mode=HTML`` (quotes are left alone, as Telegram allows)."""
    return html.escape(text, quote=False)


def clip(text: str, limit: int = MAX_TEXT - 96) -> str:
    """Keep a text under Telegram's limit, leaving room for the markup around it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str) -> str:
    """Core text → HTML: escaped, with ``code`` spans as ``<code>``."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escape(clip(text)))


def meter(score: int) -> str:
    """A ten-step bar for a 0-100 style score: ``▰▰▰▰▰▰▰▰▱▱``."""
    filled = max(0, min(10, round(score / 10)))
    return "▰" * filled + "▱" * (10 - filled)


def _priority(priority: Priority) -> str:
    dot = "🔴" if priority.score >= 0.7 else "🟡" if priority.score >= 0.4 else "⚪"
    label = "needs a reply" if priority.needs_reply else "no reply needed"
    lines = [f"{dot} <b>Priority {priority.score:.2f}</b> · {label}"]
    if priority.reasons:
        lines.append("<i>" + escape(" · ".join(priority.reasons)) + "</i>")
    return "\n".join(lines)


def _option(number: int, option: DraftOption, *, numbered: bool) -> str:
    head = f"<b>{number}.</b> " if numbered else ""
    fits = "" if option.fit is None else f"fits {option.fit}/100 · "
    return (
        f"{head}{escape(clip(option.text, 1000))}\n"
        f"    {meter(option.style_score)} {fits}{option.style_score}/100 sounds like you"
        f" · {escape(option.engine)}"
    )


def render_draft_text(draft: Draft, priority: Priority | None) -> str:
    """The draft message: priority and reasons, the message, each option with its style score."""
    parts = []
    if priority is not None:
        parts.append(_priority(priority))
    where = (
        " (Telegram Business chat)"
        if draft.incoming.conversation.startswith(BUSINESS_PREFIX)
        else ""
    )
    parts.append(
        f"💬 <b>{escape(draft.incoming.sender)}</b>{where}:\n"
        f"<blockquote>{escape(clip(draft.incoming.text, 1200))}</blockquote>"
    )
    numbered = len(draft.options) > 1
    parts.append(
        "\n\n".join(
            _option(number, option, numbered=numbered)
            for number, option in enumerate(draft.options, start=1)
        )
    )
    return "\n\n".join(parts)


def keyboard(
    buttons: tuple[Button, ...], *, codec: CallbackCodec, user_id: str, now: datetime
) -> tuple[tuple[InlineButton, ...], ...]:
    """Send buttons on the first row, Edit · Regenerate · Dismiss on the second."""
    sends: list[InlineButton] = []
    others: list[InlineButton] = []
    for button in buttons:
        data = codec.encode(
            action=button.action,
            draft_id=button.draft_id,
            option=button.option,
            user_id=user_id,
            now=now,
        )
        item = InlineButton(text=f"{_ICONS[button.action]} {button.label}", callback_data=data)
        (sends if button.action is Action.SEND else others).append(item)
    rows = [sends[i : i + 3] for i in range(0, len(sends), 3)]
    rows.append(others)
    return tuple(tuple(row) for row in rows if row)


def render(reply: Reply, *, codec: CallbackCodec, user_id: str, now: datetime) -> Rendered:
    """One core reply for the owner ``user_id`` (the buttons are signed for them)."""
    if reply.draft is not None:
        text = render_draft_text(reply.draft, reply.priority)
        preface = _preface(reply)
        if preface:
            text = f"{plain(preface)}\n\n{text}"
    elif reply.text == help_text(prefix="/"):
        text = render_help()
    else:
        text = plain(reply.text)
    return Rendered(
        text=text,
        keyboard=keyboard(reply.buttons, codec=codec, user_id=user_id, now=now),
        photo=reply.image,
        photo_name=reply.image_name,
        document=reply.file,
        document_name=reply.file_name,
    )


def _preface(reply: Reply) -> str:
    """Text the core put before its standard draft text (``Couldn't post it… Try again?``)."""
    assert reply.draft is not None
    standard = render_draft(reply.draft, reply.priority).text
    if reply.text != standard and reply.text.endswith(standard):
        return reply.text[: -len(standard)].strip()
    return ""


def render_help() -> str:
    """The one-screen help, Telegram-spelled."""
    lines = [
        "<b>minime</b> — your clone. It drafts, you decide: nothing is sent without your click.",
        "",
        "<b>Forward me a message</b> (or paste one) and I'll triage it and offer drafts in your "
        "voice with Send · Edit · Regenerate · Dismiss.",
        "",
    ]
    for spec in COMMANDS:
        usage = _USAGE.get(spec.name, spec.usage)
        lines.append(f"/{escape(usage)}\n    <i>{escape(spec.summary)}</i>")
    lines += [
        "",
        "<b>Telegram Business</b>: connect me under Settings → Telegram Business → Chatbots, and "
        "I'll offer drafts here for your own chats; Send answers there on your behalf.",
    ]
    return "\n".join(lines)


def bot_commands() -> list[tuple[str, str]]:
    """``(command, description)`` pairs for ``set_my_commands`` (the menu)."""
    pairs = [("start", _MENU["start"])]
    pairs += [(spec.name, _MENU.get(spec.name, spec.summary)[:256]) for spec in COMMANDS]
    return pairs


def edit_prompt(draft_id: str, option: int, *, current: str | None = None) -> str:
    """The ForceReply prompt for Edit; its last line is what :data:`EDIT_REF` reads back.

    The current text is shown as code: one tap copies it, to change rather than retype.
    """
    lines = ["✏️ Reply to this message with your new text, and I'll send that instead."]
    if current:
        lines.append(f"Now: <code>{escape(clip(current, 1000))}</code>")
    lines.append(f"<i>draft {escape(draft_id)} · option {option + 1}</i>")
    return "\n".join(lines)


def with_note(original_html: str, note: str) -> str:
    """A handled draft message: what it said, and what became of it (no keyboard)."""
    return clip(original_html, MAX_TEXT - len(note) - 8) + "\n\n" + escape(note)


def sent_note(*, business: bool, edited: bool) -> str:
    """What became of a draft once its approved text went out."""
    how = "Edited and sent" if edited else "Sent"
    if business:
        return f"✓ {how} in the Business chat, on your behalf."
    return f"✓ Approved ({how.lower()}): it's the next message. Forward or copy it to them."
