"""What is waiting for the owner: triaged incoming messages without a reply or a decision yet. Pure.

Storage decision: the waiting list of a persona is one small JSON document in the ``StateStore``
(kind ``"inbox"``), encrypted with the account's data key like every state value, exported and
erased with the account. It is not a sample store: waiting messages never train the drafter and
never enter the message history (that needs the owner's consent, ``train on``). The list is
bounded (``MAX_ITEMS``, texts clipped to ``MAX_TEXT``) and items leave it when the owner answers,
sends or dismisses a draft, taps *not important*, or after ``IGNORE_AFTER`` without any action
(then the prioritiser learns "ignored").

Item ids are 32 hex characters derived from the account, persona and message id, so a platform
button can carry one exactly like a draft id, and a redelivered message lands on the same item.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.models import Action, Button, Draft, Message, Priority, UserRef

INBOX_STATE = "inbox"
MAX_ITEMS = 200
MAX_TEXT = 2_000
IGNORE_AFTER = timedelta(hours=48)
"""A waiting message nobody acted on for this long counts as ignored and leaves the inbox."""
MIN_SCORE = 0.35
"""Messages that need no reply are kept (as FYIs) only from this score up."""

_IDS = uuid.UUID("0b6f9a52-3c1e-4d57-9f08-7a2c5e4b1d93")
_FORMAT = "minime.inbox/1"


def item_id(account_id: str, persona_id: str, message_id: str) -> str:
    """The waiting item's id for one message: stable across redeliveries."""
    return uuid.uuid5(_IDS, f"{account_id}:{persona_id}:{message_id}").hex


def feedback_buttons(draft: Draft) -> tuple[Button, Button]:
    """*Important* · *Not important* for the message a draft answers (one-tap labels).

    Adapters add them under a triage result; a click teaches the prioritiser at once, whether
    the message waits in the inbox or was pasted (its pending draft stands in for it).
    """
    key = item_id(draft.account_id, draft.persona_id, draft.incoming.id)
    return (
        Button(label="Important", action=Action.IMPORTANT, draft_id=key),
        Button(label="Not important", action=Action.NOT_IMPORTANT, draft_id=key),
    )


def worth_keeping(priority: Priority) -> bool:
    """Whether a triaged message belongs in the inbox: it needs a reply, or it matters."""
    return priority.needs_reply or priority.score >= MIN_SCORE


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitingItem:
    """One triaged message waiting for the owner."""

    id: str
    message: Message
    owner: UserRef
    """The identity it reached (where a reminder about it goes)."""
    score: float
    needs_reply: bool
    reasons: tuple[str, ...]
    arrived_at: datetime
    is_direct: bool = False
    starred: bool = False
    """The owner tapped *important*."""
    reminded: bool = False
    """A follow-up reminder went out (it goes out once)."""

    @property
    def priority(self) -> Priority:
        return Priority(score=self.score, needs_reply=self.needs_reply, reasons=self.reasons)

    @property
    def rank(self) -> tuple[bool, float, float]:
        return (not self.starred, -self.score, self.arrived_at.timestamp())

    def to_json(self) -> dict[str, object]:
        m = self.message
        return {
            "id": self.id,
            "message": {
                "id": m.id,
                "conversation": m.conversation,
                "thread": m.thread,
                "sender": m.sender,
                "text": m.text,
                "sent_at": m.sent_at.isoformat(),
                "reply_to": m.reply_to,
            },
            "owner": [self.owner.platform, self.owner.user_id],
            "score": self.score,
            "needs_reply": self.needs_reply,
            "reasons": list(self.reasons),
            "arrived_at": self.arrived_at.isoformat(),
            "is_direct": self.is_direct,
            "starred": self.starred,
            "reminded": self.reminded,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> WaitingItem:
        m = data["message"]
        owner = data["owner"]
        assert isinstance(m, dict) and isinstance(owner, list)
        reasons = data.get("reasons") or []
        assert isinstance(reasons, list)
        return cls(
            id=str(data["id"]),
            message=Message(
                id=str(m["id"]),
                conversation=str(m["conversation"]),
                thread=None if m.get("thread") is None else str(m["thread"]),
                sender=str(m["sender"]),
                text=str(m["text"]),
                sent_at=datetime.fromisoformat(str(m["sent_at"])),
                reply_to=None if m.get("reply_to") is None else str(m["reply_to"]),
            ),
            owner=UserRef(platform=str(owner[0]), user_id=str(owner[1])),
            score=float(str(data["score"])),
            needs_reply=bool(data["needs_reply"]),
            reasons=tuple(str(r) for r in reasons),
            arrived_at=datetime.fromisoformat(str(data["arrived_at"])),
            is_direct=bool(data.get("is_direct", False)),
            starred=bool(data.get("starred", False)),
            reminded=bool(data.get("reminded", False)),
        )


class Inbox:
    """A persona's waiting items, most important first; serialised as JSON (no pickle)."""

    def __init__(self, items: Iterable[WaitingItem] = ()) -> None:
        self.items: dict[str, WaitingItem] = {item.id: item for item in items}

    def __len__(self) -> int:
        return len(self.items)

    def get(self, key: str) -> WaitingItem | None:
        return self.items.get(key)

    def put(self, item: WaitingItem) -> None:
        """Add (or refresh) an item; past ``MAX_ITEMS`` the least important old ones go."""
        message = item.message
        if len(message.text) > MAX_TEXT:
            item = replace(item, message=replace(message, text=message.text[: MAX_TEXT - 1] + "…"))
        self.items[item.id] = item
        if len(self.items) > MAX_ITEMS:
            for victim in sorted(self.items.values(), key=lambda i: i.rank)[MAX_ITEMS:]:
                del self.items[victim.id]

    def pop(self, key: str) -> WaitingItem | None:
        return self.items.pop(key, None)

    def answered_by(self, message: Message) -> list[WaitingItem]:
        """The items an owner's message answers (taken out): the one it replies to; else, in
        a thread, what waits in that thread (its root included); else, in a direct
        conversation, everything waiting there. A plain channel message answers nothing."""
        if message.reply_to is not None:
            hit = [i for i in self.items.values() if i.message.id == message.reply_to]
        elif message.thread is not None:
            hit = [
                i
                for i in self.items.values()
                if i.message.conversation == message.conversation
                and message.thread in (i.message.thread, i.message.id)
            ]
        else:
            hit = [
                i
                for i in self.items.values()
                if i.message.conversation == message.conversation and i.is_direct
            ]
        for item in hit:
            del self.items[item.id]
        return hit

    def expire(self, now: datetime, *, after: timedelta = IGNORE_AFTER) -> list[WaitingItem]:
        """Items nobody acted on for ``after`` (taken out: they were ignored)."""
        gone = [i for i in self.items.values() if now - i.arrived_at >= after and not i.starred]
        for item in gone:
            del self.items[item.id]
        return gone

    def ranked(self) -> list[WaitingItem]:
        """Starred first, then by score, oldest first among equals."""
        return sorted(self.items.values(), key=lambda i: i.rank)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {"format": _FORMAT, "items": [i.to_json() for i in self.items.values()]},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> Inbox:
        """The inbox stored by ``to_bytes``; an empty one for nothing or a foreign format."""
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except ValueError:
            return cls()
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return cls()
        return cls(WaitingItem.from_json(i) for i in data.get("items", []) if isinstance(i, dict))


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def item_line(number: int, item: WaitingItem) -> str:
    """``1. alice (0.91, needs a reply): “text” — a VIP; asks you a direct question``."""
    label = "needs a reply" if item.needs_reply else "FYI"
    star = "★ " if item.starred else ""
    reasons = "; ".join(item.reasons[:3]) or "nothing stands out"
    return (
        f"{number}. {star}{item.message.sender} ({item.score:.2f}, {label}): "
        f"“{_clip(item.message.text, 80)}” — {reasons}"
    )


def digest_text(items: list[WaitingItem], *, limit: int = 5) -> str:
    """The digest: how much is waiting, and the top items with their reasons."""
    if not items:
        return "Digest: nothing is waiting for you."
    replies = sum(i.needs_reply for i in items)
    head = f"Digest: {len(items)} waiting, {replies} need a reply. Most important first:"
    lines = [head, *(item_line(n, i) for n, i in enumerate(items[:limit], start=1))]
    if len(items) > limit:
        lines.append(f"…and {len(items) - limit} more: `inbox` lists them all.")
    return "\n".join(lines)
