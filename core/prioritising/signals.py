"""Cheap content signals read from a message's text: questions, requests, deadlines, mentions.

Everything here is a compiled regular expression over the raw text, so triage stays at tens of
thousands of messages per second; the learned model weighs these signals, it does not depend on
them being perfect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SUBJECT = r"(?:you|u|ya|we|i|it|he|she|they|there|that|this|anyone|anybody|someone|somebody)\b"
_QUESTION_START = re.compile(
    r"^\s*(?:(?:what|what's|whats|how|why|when|where|who|whom|whose|which|can|could|would|will|"
    r"should|shall|is|are|was|were|do|does|did|have|has|any|anyone|anybody|any1|is there|"
    r"are there|may|might|wanna|want to)\b(?!['’](?:t|ve)\b)"
    # A contracted auxiliary opens a statement ("can't today", "would've been nice") unless a
    # subject follows it, as in a negative question ("can't you reboot", "didn't it work").
    r"|(?:can|won|(?:could|would|should|do|does|did|is|are|was|were|have|has)n)['’]?t\s+"
    + _SUBJECT
    + r")",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:please|pls|plz|can you|could you|would you|will you|can u|could u|would u|"
    r"need you to|i need you|let me know|lmk|send me|get back to me|take a look|"
    r"have a look|look into|help me|can (?:you|u|someone|anyone|somebody) help|approve|sign off|"
    r"ping me|call me|remind me|mind (?:if|checking|looking)|would you mind)\b"
    # Request words that are not written with ASCII letters (no \b around them).
    r"|お願い|ください|下さい|请|請|麻烦|부탁|주세요|пожалуйста|bitte\b|por favor|per favore|"
    r"s'il (?:te|vous) pla[iî]t|svp\b",
    re.IGNORECASE,
)
_QUESTION_MARKS = "?？¿؟;՞፧⁇⁈⁉"
"""ASCII, full-width (CJK), inverted (Spanish), Arabic, Greek, Armenian, Ethiopic, doubled."""
_QUESTION_MARK = re.compile("[" + re.escape(_QUESTION_MARKS) + "]")
_WEEKDAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
# A real date or time: a weekday, a relative day, a month with a day, a slash date that is a valid
# day and month, an ISO date, or a clock time. Dotted numbers alone ("16.04", "192.168.1.1",
# "2.5 GB") are versions, addresses and sizes, never dates.
_WHEN = (
    r"(?:(?:the\s+)?end of (?:the )?(?:day|week|month)|eod|eow|cob|"
    + _WEEKDAYS
    + r"|tomorrow|tmrw|tonight|today|noon|midnight|next week|this (?:morning|afternoon|evening|week)|"
    + _MONTHS
    + r"\s+"
    + _DAY
    + r"|(?:the\s+)?"
    + _DAY
    + r"(?:\s+of)?\s+"
    + _MONTHS
    + r"|(?<![\d./])(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|[12]\d|3[01])(?:/\d{2,4})?(?![\d./])|"
    r"\d{4}-\d{2}-\d{2}|(?:[01]?\d|2[0-3])(?::[0-5]\d)?\s*(?:am|pm)|(?:[01]?\d|2[0-3]):[0-5]\d)"
)
_URGENT = re.compile(r"\b(?:asap|urgent(?:ly)?|emergency|critical|blocker|blocking)\b", re.I)
_DEADLINE = re.compile(
    r"\b(?:(?:by|before|until|till|due|no later than|deadline(?: is)?)\s+(?:the\s+)?" + _WHEN + r"|"
    r"due (?:date|today|tomorrow)|deadline|(?:today|tonight|tomorrow|tmrw) (?:morning|afternoon|evening)|"
    r"end of (?:the )?(?:day|week|month)|eod|eow)\b",
    re.IGNORECASE,
)
_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
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
    """Thanks someone and asks nothing (a thank-you that also asks is a question or request)."""
    second_person: bool
    leading_name: str | None
    """The name the message starts with, IRC style (``"alice: ..."``), lower-cased."""
    length: int
    question_marks: int = 0
    """How many question marks, in any script (``?``, ``？``, ``¿``, ``؟``...)."""


def read_content(text: str) -> ContentSignals:
    """Read the content signals of one message's text.

    The signals are consistent by construction: a message that asks something or asks for
    something is never "just thanks" or chatter.
    """
    leading = _LEADING_NICK.match(text)
    body = text[leading.end(1) :].lstrip(" :,>") if leading else text
    deadline = _DEADLINE.search(text)
    urgent = _URGENT.search(text)
    marked = _QUESTION_MARK.search(text) is not None
    question = marked or _QUESTION_START.match(body) is not None
    request = _REQUEST.search(text) is not None
    asks = question or request
    return ContentSignals(
        question=question,
        request=request,
        deadline=(urgent.group(0) if urgent else deadline.group(0) if deadline else None),
        urgent=urgent is not None,
        link=_LINK.search(text) is not None,
        code=_CODE.search(text) is not None,
        chatter=(len(text) < 60 and not asks and _CHATTER.match(body) is not None),
        problem=_PROBLEM.search(text) is not None,
        thanks=not asks and _THANKS.search(text) is not None,
        second_person=_SECOND_PERSON.search(text) is not None,
        leading_name=leading.group(1).lower() if leading else None,
        # A CJK character carries about a word: counted as three, so a Japanese question is not
        # "a very short message".
        length=len(text) + 2 * len(_WIDE.findall(text)),
        question_marks=len(_QUESTION_MARK.findall(text)),
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
