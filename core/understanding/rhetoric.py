"""Rhetorical habits and how stable the owner's style is across contacts and time (pure).

Habits: how often the owner asks questions, hedges ("maybe", "i think"), intensifies ("really",
"so", "super"), writes lists and emphasises (``*bold*``, CAPS, "!!"), each with a real example.
Consistency: the spread of a few stylometric features (length, lowercase starts, questions,
exclamations, emoji) between the people the owner writes to and between months, and the contact
whose register differs most — what per-contact drafting would need to know.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.models import Message, StoredMessage

MIN_PER_GROUP = 15
"""Owner messages to one contact (or in one month) needed to compare it."""

_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|probably|possibly|i think|i guess|i suppose|sort of|kind of|kinda|"
    r"might|not sure|i believe|seems|afaik|iirc)\b",
    re.I,
)
_INTENSIFIER = re.compile(
    r"\b(?:very|really|so|super|totally|absolutely|extremely|incredibly|literally|definitely|"
    r"completely|hugely|way too)\b",
    re.I,
)
_LIST = re.compile(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+\S")
_EMPHASIS = re.compile(r"\*[^*\s][^*]*\*|_[^_\s][^_]*_|\b[A-Z]{4,}\b|!!")
_EMOJI = re.compile(r"[\U0001f300-\U0001faff\u2600-\u27bf]|[:;]-?[()dpDP]")

HABITS: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("questions", "asks a question", lambda t: "?" in t),
    ("hedges", "hedges (maybe, i think…)", lambda t: _HEDGE.search(t) is not None),
    (
        "intensifiers",
        "intensifies (really, so, super…)",
        lambda t: _INTENSIFIER.search(t) is not None,
    ),
    ("lists", "writes a list", lambda t: len(_LIST.findall(t)) >= 2),
    ("emphasis", "emphasises (*bold*, CAPS, !!)", lambda t: _EMPHASIS.search(t) is not None),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Habit:
    """One rhetorical habit: how many of the owner's messages show it, with an example."""

    name: str
    label: str
    count: int
    total: int
    example: str | None

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


def _features(text: str) -> dict[str, float]:
    stripped = text.strip()
    return {
        "words": float(len(stripped.split())),
        "lowercase start": float(bool(stripped[:1].islower())),
        "questions": float("?" in stripped),
        "exclamations": float("!" in stripped),
        "emoji": float(_EMOJI.search(stripped) is not None),
    }


def habits(texts: Sequence[str]) -> list[Habit]:
    """Each habit's count over ``texts`` (the owner's messages), with its latest example."""
    out = []
    for name, label, test in HABITS:
        hits = [t for t in texts if test(t)]
        example = min(hits[-1:], key=len) if hits else None
        out.append(
            Habit(name=name, label=label, count=len(hits), total=len(texts), example=example)
        )
    return out


def _register(messages: Sequence[Message]) -> dict[str, float]:
    rows = [_features(m.text) for m in messages]
    return {k: statistics.fmean(r[k] for r in rows) for k in rows[0]} if rows else {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Consistency:
    """How much the owner's style moves between contacts and months."""

    contacts: int
    months: int
    spread: dict[str, float]
    """Feature → its standard deviation between contacts (as a share of its mean for length)."""
    outlier: str | None = None
    """The contact whose register differs most, described (``kenji: shorter (4 vs 9 words)``)."""
    example: Message | None = None


def consistency(history: Sequence[StoredMessage]) -> Consistency | None:
    """The spread of the owner's style between the people they answer and between months;
    ``None`` with too few messages per contact to compare two."""
    by_id = {m.message.id: m.message for m in history}
    per_contact: dict[str, list[Message]] = defaultdict(list)
    per_month: dict[str, list[Message]] = defaultdict(list)
    for stored in history:
        if not stored.from_owner:
            continue
        message = stored.message
        per_month[f"{message.sent_at:%Y-%m}"].append(message)
        parent = by_id.get(message.reply_to or "")
        contact = parent.sender if parent is not None else None
        if contact is None and message.conversation.startswith("dm:"):
            contact = message.conversation[3:]
        if contact:
            per_contact[contact].append(message)
    contacts = {c: ms for c, ms in per_contact.items() if len(ms) >= MIN_PER_GROUP}
    months = {c: ms for c, ms in per_month.items() if len(ms) >= MIN_PER_GROUP}
    if len(contacts) < 2:
        return None
    registers = {c: _register(ms) for c, ms in contacts.items()}
    spread: dict[str, float] = {}
    for feature in next(iter(registers.values())):
        values = [r[feature] for r in registers.values()]
        sd = statistics.pstdev(values)
        mean = statistics.fmean(values)
        spread[feature] = sd / mean if feature == "words" and mean else sd
    everyone = _register([m for ms in contacts.values() for m in ms])
    outlier, gap = None, 0.0
    for contact, register in registers.items():
        ratio = register["words"] / everyone["words"] if everyone["words"] else 1.0
        distance = abs(ratio - 1.0)
        if distance > gap:
            outlier, gap = contact, distance
    described = None
    example = None
    if outlier is not None and gap >= 0.3:
        mine = registers[outlier]["words"]
        described = (
            f"to {outlier} you write {'shorter' if mine < everyone['words'] else 'longer'} "
            f"messages ({mine:.0f} vs {everyone['words']:.0f} words on average, "
            f"{len(contacts[outlier])} messages)"
        )
        example = contacts[outlier][-1]
    return Consistency(
        contacts=len(contacts),
        months=len(months),
        spread=spread,
        outlier=described,
        example=example,
    )


def lines(history: Sequence[StoredMessage]) -> list[str]:
    """The profile's "consistency and rhetoric" lines, each with its count or example."""
    texts = [m.message.text for m in history if m.from_owner and m.message.text.strip()]
    if not texts:
        return []
    out = []
    shown = [h for h in habits(texts) if h.count]
    if shown:
        out.append(
            "Rhetoric: "
            + "; ".join(
                f"{h.label} in {h.count} of {h.total} messages"
                + (f" (“{_clip(h.example, 50)}”)" if h.example else "")
                for h in shown
            )
            + "."
        )
    steady = consistency(history)
    if steady is not None:
        words = steady.spread.get("words", 0.0)
        out.append(
            f"Consistency across {steady.contacts} people you answer often: message length "
            f"varies ±{100 * words:.0f}% between them; questions ±{100 * steady.spread['questions']:.0f} "
            f"points, lowercase starts ±{100 * steady.spread['lowercase start']:.0f} points."
        )
        if steady.outlier is not None and steady.example is not None:
            out.append(
                f"Register by person: {steady.outlier}, e.g. “{_clip(steady.example.text, 60)}”."
            )
    return out


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"
