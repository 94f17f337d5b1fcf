"""How drafts and waiting messages look to the owner: platform-neutral replies with buttons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core import waiting
from core.models import Action, Button, Draft, Priority, Reply


def priority_line(priority: Priority) -> str:
    """One line on why a message ranks where it does."""
    label = "needs a reply" if priority.needs_reply else "no reply needed"
    reasons = "; ".join(priority.reasons) or "nothing stands out"
    return f"Priority {priority.score:.2f} · {label} — {reasons}"


def clip(text: str, width: int) -> str:
    """``text`` on one line, at most ``width`` characters (an ellipsis where it was cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def with_notes(reply: Reply, notes: Sequence[str]) -> Reply:
    """A reply with notes for the owner on top (an engine that failed, a spent budget)."""
    if not notes:
        return reply
    return replace(reply, text="\n".join([*notes, reply.text]))


def render_draft(draft: Draft, priority: Priority | None) -> Reply:
    """The platform-neutral reply offering a draft with Send · Edit · Regenerate · Dismiss."""
    lines = []
    if priority is not None:
        lines.append(priority_line(priority))
    lines.append(f"Drafts for {draft.incoming.sender}: “{clip(draft.incoming.text, 120)}”")
    for number, option in enumerate(draft.options, start=1):
        fits = "" if option.fit is None else f"fits {option.fit}/100 · "
        lines.append(
            f"{number}. {option.text}   "
            f"[{fits}sounds like you {option.style_score}/100 · {option.engine}]"
        )
    buttons: list[Button] = []
    for number in range(len(draft.options)):
        label = "Send" if len(draft.options) == 1 else f"Send {number + 1}"
        buttons.append(Button(label=label, action=Action.SEND, draft_id=draft.id, option=number))
    buttons += [
        Button(label="Edit", action=Action.EDIT, draft_id=draft.id),
        Button(label="Regenerate", action=Action.REGENERATE, draft_id=draft.id),
        Button(label="Dismiss", action=Action.DISMISS, draft_id=draft.id),
    ]
    return Reply(text="\n".join(lines), buttons=tuple(buttons), draft=draft, priority=priority)


def waiting_buttons(item: waiting.WaitingItem, number: int | None) -> list[Button]:
    """Draft (where a reply is needed) · Important · Not important, for one waiting message."""
    suffix = "" if number is None else f" {number}"
    buttons = []
    if item.needs_reply or number is None:
        buttons.append(Button(label=f"Draft{suffix}", action=Action.DRAFT, draft_id=item.id))
    buttons += [
        Button(label=f"Important{suffix}", action=Action.IMPORTANT, draft_id=item.id),
        Button(label=f"Not important{suffix}", action=Action.NOT_IMPORTANT, draft_id=item.id),
    ]
    return buttons
