"""Core replies → console text. Pure: no I/O."""

from __future__ import annotations

from core.models import Action, Button, Outgoing, Reply


def render(reply: Reply, *, saved: list[str] | None = None) -> str:
    """The reply's text, its numbered actions, and where any picture or file was saved."""
    parts = [reply.text]
    if reply.buttons:
        parts.append(render_buttons(reply.buttons))
    for path in saved or ():
        parts.append(f"(saved {path})")
    return "\n".join(parts)


def render_buttons(buttons: tuple[Button, ...]) -> str:
    actions = "  ".join(
        f"[{number}] {button.label}" for number, button in enumerate(buttons, start=1)
    )
    edit = _edit_number(buttons)
    if edit is None:
        return f"{actions}\n(type a number)"
    return f"{actions}\n(type a number; '{edit} <new text>' edits)"


def _edit_number(buttons: tuple[Button, ...]) -> int | None:
    for number, button in enumerate(buttons, start=1):
        if button.action is Action.EDIT:
            return number
    return None


def render_sent(outgoing: Outgoing) -> str:
    """The console's "sent": to the pasted message's sender (``console:bob``), or, for a draft
    with no one to answer (``/clone draft <text>``), an approval whose text is there to copy."""
    how = "edited and sent" if outgoing.edited else "sent"
    if ":" not in outgoing.conversation:
        how = "edited and approved" if outgoing.edited else "approved"
        return f"✓ {how} (no recipient here: copy it from this line): {outgoing.text}"
    return f"✓ {how} to {outgoing.conversation}: {outgoing.text}"
