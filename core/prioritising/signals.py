"""Cheap content signals read from a message's text: questions, requests, deadlines, mentions.

Everything here is a compiled regular expression over the raw text, so triage stays at tens of
thousands of messages per second; the learned model weighs these signals, it does not depend on
them being perfect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_QUESTION_START = re.compile(
    r"^\s*(?:what|what's|whats|how|why|when|where|who|whom|whose|which|can|could|would|will|"
    r"should|shall|is|are|was|were|do|does|did|have|has|any|anyone|anybody|any1|is there|"
    r"are there|may|might|wanna|want to)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:please|pls|plz|can you|could you|would you|will you|can u|could u|would u|"
    r"need you to|i need you|let me know|lmk|send me|get back to me|review|take a look|"
    r"have a look|look into|help me|help|approve|sign off|ping me|call me|remind me|"
    r"mind (?:if|checking|looking)|would you mind)\b",
    re.IGNORECASE,
)
_WEEKDAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_URGENT = re.compile(r"\b(?:asap|urgent(?:ly)?|emergency|critical|blocker|blocking)\b", re.I)
_DEADLINE = re.compile(
    r"\b(?:(?:by|before|until|due|on)\s+(?:the\s+)?(?:end of (?:the )?(?:day|week|month)|eod|eow|"
    + _WEEKDAYS
    + r"|tomorrow|tonight|today|noon|midnight|\d{1,2}(?::\d{2})?\s*(?:am|pm)?)|"
    r"deadline|due (?:date|today|tomorrow)|today|tonight|tomorrow|tmrw|tmr|eod|eow|"
    r"end of (?:the )?(?:day|week|month)|this (?:morning|afternoon|evening|week)|next week|"
    + _WEEKDAYS
    + r"|\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?)\b",
    re.IGNORECASE,
)
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_CODE = re.compile(
    r"`|\bsudo\b|\bapt(?:-get)?\s|(?:^|\s)\$\s|(?:^|\s)/(?:etc|usr|var|home|dev|boot|opt|tmp|proc|"
    r"sys|bin|lib|mnt|media)/|\s--?[a-z][\w-]*|\w+\(\)|\{|\}|;\s*$|\.(?:conf|py|sh|js|ts|json|yaml|"
    r"yml|log|cfg|ini|deb)\b",
    re.IGNORECASE,
)
_CHATTER = re.compile(
    r"^\s*(?:thanks|thank you|thank u|thx|thnx|tnx|ty|tyvm|cheers|ok|okay|k|kk|cool|nice|great|"
    r"awesome|lol|lmao|haha|hehe|heh|:\)|:-\)|:d|;\)|yes|yeah|yep|yup|no|nope|np|sure|hi|hello|"
    r"hey|yo|bye|cya|gn|good night|morning|gm|fyi|brb|afk|back|welcome|congrats|oh|ah|hmm|"
    r"indeed|right|true|agreed|\+1)\b[\s!.,:;)(]*(?:\S+[\s!.,:;)(]*){0,3}$",
    re.IGNORECASE,
)
_PROBLEM = re.compile(
    r"\b(?:error|errors|fail|fails|failed|failing|failure|broken|breaks|crash|crashes|crashed|"
    r"doesn'?t|does not|didn'?t|did not|won'?t|wont|can'?t|cannot|couldn'?t|unable|not working|"
    r"stopped working|not found|no such|denied|refused|missing|stuck|hangs|hung|freezes|frozen|"
    r"problem|issue|bug|wrong|still|same thing|nothing happens|it says|says|warning)\b",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"\b(?:thanks|thank you|thank u|thx|thnx|tnx|ty|tyvm|cheers|appreciated?)\b", re.I
)
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|you're|youre|u|ur)\b", re.IGNORECASE)
_LEADING_NICK = re.compile(r"^\s*@?([^\s:,>]{1,40})\s*[:,>]\s*\S")


@dataclass(frozen=True, slots=True)
class ContentSignals:
    """What the text alone says about a message."""

    question: bool
    request: bool
    deadline: str | None
    """The words that make it time-bound ("tomorrow", "by friday", "asap"), if any."""
    urgent: bool
    link: bool
    code: bool
    chatter: bool
    problem: bool
    """Reports something not working ("error", "doesn't", "not found", "still")."""
    thanks: bool
    second_person: bool
    leading_name: str | None
    """The name the message starts with, IRC style (``"alice: ..."``), lower-cased."""
    length: int


def read_content(text: str) -> ContentSignals:
    """Read the content signals of one message's text."""
    leading = _LEADING_NICK.match(text)
    body = text[leading.end(1) :].lstrip(" :,>") if leading else text
    deadline = _DEADLINE.search(text)
    urgent = _URGENT.search(text)
    question = "?" in text or _QUESTION_START.match(body) is not None
    return ContentSignals(
        question=question,
        request=_REQUEST.search(text) is not None,
        deadline=(urgent.group(0) if urgent else deadline.group(0) if deadline else None),
        urgent=urgent is not None,
        link=_LINK.search(text) is not None,
        code=_CODE.search(text) is not None,
        chatter=(len(text) < 60 and "?" not in text and _CHATTER.match(body) is not None),
        problem=_PROBLEM.search(text) is not None,
        thanks=_THANKS.search(text) is not None,
        second_person=_SECOND_PERSON.search(text) is not None,
        leading_name=leading.group(1).lower() if leading else None,
        length=len(text),
    )


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any of ``names`` as a whole word (with an optional ``@``)."""
    cleaned = sorted(
        {n.strip().lower().lstrip("@") for n in names if n.strip()}, key=len, reverse=True
    )
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(n) for n in cleaned)
    return re.compile(rf"(?<![\w@-])@?(?:{alternatives})(?![\w-])", re.IGNORECASE)


def topic_pattern(topics: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any topic keyword or phrase at a word start (``deploy`` ~ ``deploying``)."""
    cleaned = sorted({t.strip().lower() for t in topics if t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(t) for t in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)
