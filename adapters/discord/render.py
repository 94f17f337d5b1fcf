"""Core replies → Discord message specs (content, one embed, buttons, files). Pure: no I/O.

The specs are plain dataclasses; ``adapter.py`` turns them into ``discord.Embed`` and
``discord.ui.Button``. Discord's limits are applied here: 2,000 characters of content, 4,096 of
embed description, 1,024 per field, 25 fields, five buttons per row, 100-character custom ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from core.models import Action, Button, Draft, Priority, Reply

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FIELDS_MAX = 25
BUTTONS_PER_ROW = 5
ROWS_MAX = 5
EXPIRED_NOTE = "⌛ These buttons expired. `/clone inbox` still has the draft."

ButtonStyle = Literal["primary", "secondary", "success", "danger"]
_STYLES: dict[Action, ButtonStyle] = {
    Action.SEND: "success",
    Action.EDIT: "primary",
    Action.REGENERATE: "secondary",
    Action.DISMISS: "danger",
    Action.IMPORTANT: "primary",
    Action.NOT_IMPORTANT: "secondary",
    Action.DRAFT: "success",
    Action.PUBLISH: "success",
    Action.SCHEDULE: "primary",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonSpec:
    label: str
    custom_id: str
    style: ButtonStyle
    row: int
    action: Action
    draft_id: str
    option: int = 0
    disabled: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbedSpec:
    title: str | None = None
    description: str | None = None
    color: int | None = None
    fields: tuple[FieldSpec, ...] = ()
    footer: str | None = None
    image: str | None = None
    """The name of an attached file shown inside the embed (``attachment://<name>``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageSpec:
    """One Discord message to send (always ephemeral, always with mentions disabled)."""

    content: str | None = None
    embed: EmbedSpec | None = None
    buttons: tuple[ButtonSpec, ...] = ()
    files: tuple[tuple[str, bytes], ...] = ()
    draft_id: str | None = None
    """The draft the buttons act on; the adapter keeps its options for the Edit modal."""


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MARKDOWN = re.compile(r"([\\*_`~|>#\[\]()-])")


def escape(text: str) -> str:
    """Neutralise markdown (and with it masked links) in names and quoted text."""
    return _MARKDOWN.sub(r"\\\1", text)


def custom_id(button: Button) -> str:
    """``minime:<action>:<draft id>:<option>``, parsed back by ``convert.to_action``."""
    return f"minime:{button.action.value}:{button.draft_id}:{button.option}"


def edit_modal_id(draft_id: str, option: int) -> str:
    return f"minime-edit:{draft_id}:{option}"


def meter(score: int) -> str:
    """A ten-step bar for the style score: ``▰▰▰▰▰▰▰▱▱▱ 72/100``."""
    score = min(max(score, 0), 100)
    filled = round(score / 10)
    return "▰" * filled + "▱" * (10 - filled) + f" {score}/100"


def _color(score: int) -> int:
    if score >= 70:
        return 0x57F287  # green
    if score >= 40:
        return 0xFEE75C  # yellow
    return 0xED4245  # red


def buttons(reply: Reply) -> tuple[ButtonSpec, ...]:
    """The reply's buttons, laid out five to a row (Send options first, then the rest)."""
    specs = []
    for index, button in enumerate(reply.buttons[: BUTTONS_PER_ROW * ROWS_MAX]):
        specs.append(
            ButtonSpec(
                label=clip(button.label, 80),
                custom_id=custom_id(button),
                style=_STYLES[button.action],
                row=index // BUTTONS_PER_ROW,
                action=button.action,
                draft_id=button.draft_id,
                option=button.option,
            )
        )
    if reply.draft is not None and len(specs) > BUTTONS_PER_ROW:
        # Keep Edit · Regenerate · Dismiss together on their own row under the Send options.
        sends = [s for s in specs if s.action is Action.SEND]
        rest = [s for s in specs if s.action is not Action.SEND]
        specs = [replace(s, row=0) for s in sends] + [replace(s, row=1) for s in rest]
    return tuple(specs)


def _priority_footer(priority: Priority) -> str:
    label = "needs a reply" if priority.needs_reply else "no reply needed"
    reasons = "; ".join(priority.reasons) or "nothing stands out"
    return clip(f"Priority {priority.score:.2f} · {label} — {reasons}", 2048)


def draft_embed(draft: Draft, priority: Priority | None) -> EmbedSpec:
    """The draft card: the message quoted, each option with its style meter, the triage."""
    quoted = "\n".join("> " + line for line in clip(draft.incoming.text, 600).splitlines())
    fields = []
    for number, option in enumerate(draft.options[:FIELDS_MAX], start=1):
        fits = "" if option.fit is None else f"fits {option.fit}/100 · "
        name = f"Option {number} · {fits}sounds like you {meter(option.style_score)}"
        fields.append(FieldSpec(name=clip(name, 256), value=clip(option.text, FIELD_LIMIT)))
    return EmbedSpec(
        title=clip(f"Draft reply to {draft.incoming.sender}", 256),
        description=clip(quoted, DESCRIPTION_LIMIT),
        color=_color(draft.best.style_score),
        fields=tuple(fields),
        footer=_priority_footer(priority) if priority is not None else None,
    )


def split(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Cut long text at line breaks into pieces Discord accepts (a line too long is cut too)."""
    pieces: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        while len(line) > limit:
            if current is not None:
                pieces.append(current)
                current = None
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = line if current is None else f"{current}\n{line}"
        if len(candidate) > limit:
            pieces.append(current or "")
            current = line
        else:
            current = candidate
    if current is not None or not pieces:
        pieces.append(current or "")
    return pieces


def render(reply: Reply, *, monospace: bool = False) -> list[MessageSpec]:
    """The messages that show ``reply``: a draft card with buttons, or text (split when long).

    ``monospace`` sets the text in a code block (the help screen is a table).
    """
    files: list[tuple[str, bytes]] = []
    if reply.image is not None:
        files.append((reply.image_name or "image.png", reply.image))
    if reply.file is not None:
        files.append((reply.file_name or "minime.bin", reply.file))
    specs = buttons(reply)
    if reply.draft is not None:
        return [
            MessageSpec(
                embed=draft_embed(reply.draft, reply.priority),
                buttons=specs,
                files=tuple(files),
                draft_id=reply.draft.id,
            )
        ]
    limit = CONTENT_LIMIT - 8 if monospace else CONTENT_LIMIT
    pieces = split(reply.text, limit)
    if monospace:
        pieces = [f"```\n{piece}\n```" for piece in pieces]
    messages = [MessageSpec(content=piece) for piece in pieces]
    image = reply.image_name if reply.image is not None else None
    last = messages[-1]
    messages[-1] = replace(
        last,
        buttons=specs,
        files=tuple(files),
        embed=EmbedSpec(image=image) if image else None,
        draft_id=specs[0].draft_id if specs else None,
    )
    return messages


def disabled(specs: tuple[ButtonSpec, ...]) -> tuple[ButtonSpec, ...]:
    return tuple(replace(spec, disabled=True) for spec in specs)


def disclosure(text: str, owner_name: str) -> str:
    """The approved text as the bot posts it: with a short line saying whose clone drafted it."""
    line = f"\n-# — drafted with {escape(owner_name)}'s clone"
    return clip(text, CONTENT_LIMIT - len(line)) + line


def copy_ready(text: str) -> str:
    """The approved text alone, so a long press or select-all copies exactly it."""
    return clip(text, CONTENT_LIMIT)


SEND_MODE_HINT = (
    "-# Copied, not posted: in this server I hand you the text. "
    "`/clone send-mode post` lets me post approved replies here myself, with a disclosure."
)


def posted_note(jump_url: str | None) -> str:
    return f"✓ Posted with a disclosure{f': {jump_url}' if jump_url else '.'}"


def status_line(action: Action) -> str:
    return {
        Action.SEND: "✓ Sent.",
        Action.EDIT: "✓ Edited and sent.",
        Action.DISMISS: "✗ Dismissed.",
        Action.REGENERATE: "↻ Replaced by new drafts below.",
        Action.IMPORTANT: "★ Marked important.",
        Action.NOT_IMPORTANT: "Marked not important.",
        Action.DRAFT: "Drafts below.",
        Action.PUBLISH: "Publishing…",
        Action.SCHEDULE: "Scheduled.",
    }[action]
