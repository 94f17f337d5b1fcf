"""Waiting messages grouped by conversation, each group summarised in one line (pure).

``kenji, 3 messages: needs the Q3 deck by Fri``: who wrote, how many messages wait, and what they
ask. Without a model the summary is extractive: the sentence of the group that most asks
something of the owner (a request, a question, a deadline), trimmed of greetings and mentions and
turned to the owner's point of view ("can you send me X" → "asks you to send X"). With a language
model the caller may pass an abstractive line instead (:func:`summary_prompt` builds the prompt);
either way only the group's own messages are read, so a summary can hold nothing of another
conversation, persona or account.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.drafting.acts import rule_act
from core.drafting.prompt import DATA_RULE
from core.drafting.safety import fence
from core.waiting import WaitingItem

SUMMARY_WIDTH = 90
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_MENTION = re.compile(r"^(?:\s*(?:@[\w.\-]+|<@\w+>)[\s,:]*)+")
_GREETING = re.compile(
    r"^\s*(?:hi|hey|hello|hiya|yo|morning|good (?:morning|afternoon|evening)|dear \w+)\b"
    r"[^,!.?]{0,20}[,!.]\s*",
    re.IGNORECASE,
)
_ASK = re.compile(
    r"^\s*(?:hey\s+)?(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+|pls\s+|maybe\s+)?",
    re.IGNORECASE,
)
_PLEASE = re.compile(r"^\s*(?:please|pls|plz)\s+", re.IGNORECASE)
_NEED = re.compile(r"^\s*(?:i|we)\s+(?:need|want|would need)\s+", re.IGNORECASE)
_DEADLINE = re.compile(
    r"\b(?:by|before|until|due|eod|eow|asap|today|tonight|tomorrow|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|next week|deadline)\b",
    re.IGNORECASE,
)
_ACT_WEIGHT = {
    "request": 3.0,
    "invitation": 2.5,
    "open_question": 2.0,
    "yes_no_question": 2.0,
    "problem": 1.5,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """The waiting messages of one conversation, most important first."""

    conversation: str
    items: tuple[WaitingItem, ...]

    @property
    def top(self) -> WaitingItem:
        return self.items[0]

    @property
    def senders(self) -> list[str]:
        return list(dict.fromkeys(i.message.sender for i in self.items))

    @property
    def needs_reply(self) -> bool:
        return any(i.needs_reply for i in self.items)

    @property
    def score(self) -> float:
        return max(i.score for i in self.items)

    def names(self) -> str:
        """``kenji`` or ``kenji and ana`` or ``kenji, ana and 2 others``."""
        senders = self.senders
        if len(senders) == 1:
            return senders[0]
        if len(senders) == 2:
            return f"{senders[0]} and {senders[1]}"
        return f"{senders[0]}, {senders[1]} and {len(senders) - 2} other{'s' * (len(senders) > 3)}"


def group(items: Sequence[WaitingItem]) -> list[Group]:
    """``items`` (ranked) grouped by conversation, the group of the most important item first."""
    groups: dict[str, list[WaitingItem]] = {}
    for item in items:
        groups.setdefault(item.message.conversation, []).append(item)
    return [Group(conversation=c, items=tuple(members)) for c, members in groups.items()]


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _sentence_score(sentence: str) -> float:
    score = _ACT_WEIGHT.get(rule_act(sentence), 0.0)
    if _DEADLINE.search(sentence):
        score += 1.0
    if "?" in sentence:
        score += 0.5
    return score


def owners_terms(sentence: str) -> str:
    """A request turned to the owner's point of view: "can you send me X?" → "asks you to send
    me X"; "please review Y" → "asks you to review Y"; "we need Z by Fri" → "needs Z by Fri"."""
    text = _GREETING.sub("", _MENTION.sub("", sentence)).strip()
    for pattern, lead in ((_ASK, "asks you to "), (_PLEASE, "asks you to "), (_NEED, "needs ")):
        rest, hits = pattern.subn("", text, count=1)
        if hits and rest.strip():
            return lead + _theirs(rest.strip().rstrip("?!. "))
    return text


_PRONOUNS = {"me": "them", "my": "their", "mine": "theirs", "myself": "themselves"}
_FIRST_PERSON = re.compile(r"\b(me|my|mine|myself)\b", re.IGNORECASE)


def _theirs(text: str) -> str:
    """The sender's first person as the owner reads it: "send me my notes" → "send them their notes"."""
    return _FIRST_PERSON.sub(lambda m: _PRONOUNS[m.group(1).lower()], text)


def extractive(group: Group, *, width: int = SUMMARY_WIDTH) -> str:
    """The one sentence of the group that asks the most of the owner, in the owner's terms."""
    best, best_score = "", -1.0
    # Newest last in the conversation; among equals the latest sentence says what is current.
    for item in sorted(group.items, key=lambda i: i.message.sent_at):
        for sentence in _SENTENCES.split(item.message.text):
            sentence = sentence.strip()
            if not sentence:
                continue
            score = _sentence_score(sentence)
            if score >= best_score:
                best, best_score = sentence, score
    return _clip(owners_terms(best) or best, width)


def line(number: int, group: Group, summary: str) -> str:
    """``2. kenji, 3 messages (0.80, needs a reply): asks you to send the Q3 deck by Fri — …``."""
    label = "needs a reply" if group.needs_reply else "FYI"
    star = "★ " if any(i.starred for i in group.items) else ""
    reasons = "; ".join(group.top.reasons[:3]) or "nothing stands out"
    count = len(group.items)
    return (
        f"{number}. {star}{group.names()}, {count} messages ({group.score:.2f}, {label}): "
        f"{summary} — {reasons}"
    )


def summary_prompt(group: Group, owner: str, nonce: str) -> tuple[str, str]:
    """``(system, user)`` asking a language model to summarise one group in one line; the
    group's own messages only, fenced as data."""
    system = "\n".join(
        [
            f"You summarise waiting messages for {owner} in one line of at most 12 words: who "
            f"needs what from {owner}, by when. Output only that line, no preamble.",
            DATA_RULE.format(nonce=nonce),
        ]
    )
    body = "\n".join(
        f"{item.message.sender}: {_clip(item.message.text, 400)}"
        for item in sorted(group.items, key=lambda i: i.message.sent_at)
    )
    return system, fence("MESSAGES", body, nonce)


def clean_abstract(text: str, *, width: int = SUMMARY_WIDTH) -> str | None:
    """A model's one-line summary, or ``None`` when it is unusable (empty, a refusal, a list)."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    first = first.strip("\"'“”` ")
    if not first or len(first) < 4:
        return None
    return _clip(first, width)
