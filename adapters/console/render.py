"""Core replies → console text. Pure: no I/O."""

from __future__ import annotations

from core.models import Button, Outgoing, Reply


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
    return f"{actions}\n(type a number; '{_edit_number(buttons)} <new text>' edits)"


def _edit_number(buttons: tuple[Button, ...]) -> int:
    for number, button in enumerate(buttons, start=1):
        if button.label == "Edit":
            return number
    return 1


def render_sent(outgoing: Outgoing) -> str:
    how = "edited and sent" if outgoing.edited else "sent"
    return f"✓ {how} to {outgoing.conversation}: {outgoing.text}"
