"""A small rule-based classifier of what a reply does: accept, decline, defer, thank, ask for details.

It reads one short message (typically the owner's answer to a request) and returns the single
clearest intent, or ``None`` when the message does none of these things. Rules are ordered: a
decline wins over a politeness formula ("thanks, but I can't"), a deferral over an acceptance
("sure, but tomorrow"), an acceptance over a bare thank-you ("sure, thanks!").

The profiler counts these over the owner's replies (decision patterns); the drafting engine uses
the same function to find the owner's own wording for each intent.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from core.memo import memo_text

Intent = Literal["accept", "decline", "defer", "thank", "ask_details"]

INTENTS: Final[tuple[Intent, ...]] = ("accept", "decline", "defer", "thank", "ask_details")

_APOS = re.compile(r"[\u2018\u2019`´]")


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_CANT_PROBLEM = (
    r"wait|find|get|seem|see|hear|connect|install|boot|log|login|access|open|mount|figure|"
    r"believe|remember|recall|reproduce|agree|complain|stop|load|read|run|start|understand|"
    r"imagine|reach|download|update|upgrade|compile|use|tell|think|sleep|decide|stand|help it"
)
"""What follows a subject-less "can't" that reports a problem or a feeling, not a refusal."""

_DECLINE = _rx(
    r"\b(?:i|we)\s+(?:can'?t|cannot|can not|won'?t be able|will not be able|am not able|"
    r"'m not able|m not able|couldn'?t|won'?t make it|don'?t think i can)\b(?!\s+wait)",
    r"\bcan'?t make it\b",
    # Chat drops the subject: "sorry, can't today", "can't make 5pm", "ahh can't this weekend".
    # A "can't" opening the reply (or after sorry/ah/no, a comma or a dash) declines, unless it
    # reports a problem ("can't find the file") or asks ("can't you restart it?").
    r"(?:^|[,;.!\u2013\u2014-]\s*|\b(?:sorry|sry|soz|ah+|oh+|argh|nah|no|unfortunately|sadly|"
    r"afraid|tbh)\b[,.!]*\s*)(?:can'?t|cannot|can not|couldn'?t|won'?t be able to)\b"
    rf"(?!\s+(?:you|u|we|they|he|she|it|i|{_CANT_PROBLEM})\b)",
    r"\bno can do\b",
    r"\b(?:no|nope|nah),?\s+(?:thanks|thank you|thx|sorry|i can'?t|can'?t|not really|i don'?t think so)\b",
    r"^\s*(?:no|nope|nah)\s*[.!]*\s*$",
    r"\bi'?ll (?:have to )?pass\b",
    r"\b(?:have|need|got) to (?:decline|pass|say no)\b",
    r"\b(?:unfortunately|sadly|afraid)\b.*\b(?:not|can'?t|cannot|won'?t|unable|no)\b",
    r"\bnot (?:this time|for me|interested|gonna happen|going to work|possible)\b",
    r"\b(?:unable to|not able to)\b",
    r"\bcount me out\b",
    r"\b(?:decline|declining)\b",
    r"\bwon'?t (?:work|be possible) for me\b",
)

_DEFER = _rx(
    r"\b(?:let me|lemme|i'?ll|i will|need to|have to|gotta) (?:check|think|look|see|get back|confirm|ask|find out)\b",
    r"\bget back to (?:you|u)\b",
    r"\b(?:later today|later this week|later on|maybe later|a bit later|not (?:right )?now|not today)\b",
    r"\b(?:tomorrow|next week|next month|monday|tuesday|wednesday|thursday|friday|tonight)\b.*\b(?:instead|ok|okay|work|better|maybe|\?)",
    r"\b(?:can|could) (?:we|it) (?:wait|push|move|postpone|do it later|reschedule)\b",
    r"\b(?:postpone|reschedule|push (?:it|this) back|rain check|raincheck)\b",
    r"\b(?:busy|swamped) (?:right now|at the moment|today|now)\b",
    r"\bin (?:a|an) (?:bit|hour|minute|few)\b",
    r"\bnot sure yet\b",
    r"\bi'?ll (?:let you know|see|try later)\b",
)

_COMMIT = _rx(
    # A task taken on by a deadline, with or without its subject: "ty, will look by 12pm",
    # "i'll review it by 3pm" (but "let me check and get back to you by 3pm" puts it off).
    r"\b(?:i'?ll|i will|will|gonna)\s+(?:\w+\s+){0,2}?(?:look|review|do|take a look|have a look|"
    r"send|finish)\b[^?]{0,25}?\bby\b",
)

_ACCEPT = _rx(
    r"^\s*(?:yes|yep|yup|yeah|yea|ya|sure|ok|okay|k|kk|alright|absolutely|definitely|of course|"
    r"certainly|deal|done|agreed|perfect|great|sounds good|sounds great|works for me|why not)\b",
    r"\b(?:sounds (?:good|great|fine|perfect)|works for me|count me in|i'?m in|i am in|"
    r"will do|on it|no problem|no worries|happy to|glad to|i'?d love to|would love to|"
    r"let'?s do it|see you (?:there|then)|i can do (?:that|it)|can do|for sure|sgtm|"
    r"i'?ll be there|i will be there|that works|fine by me|go ahead|of course)\b",
    r"\bcan'?t wait\b",
)

_THANK = _rx(
    r"\b(?:thanks|thank you|thank u|thx|thnx|tnx|ty|tyvm|cheers|appreciate(?:d)?|"
    r"much obliged|grateful)\b",
)

_WH = r"(?:what|when|where|which|who|whom|whose|how|why)"
_ASK = _rx(
    rf"^\s*{_WH}\b.*\?\s*$",
    r"\b(?:can|could|would) (?:you|u) (?:send|share|clarify|explain|elaborate|tell me|give me|paste|show)\b",
    r"\b(?:more (?:details|info|information|context)|any details|what do you mean|what exactly|"
    r"which one|how long|how much|what time|what's the|whats the|is it|are you sure|do you mean)\b.*\?",
    r"\b(?:details|specifics|context)\s*\?",
    r"^\s*(?:and|so|but)?\s*(?:is|are|do|does|did|can|could|would|will|should|have|has)\b.*\?\s*$",
)


@memo_text()
def classify_intent(text: str) -> Intent | None:
    """The single clearest intent of a short reply.

    Args:
        text: One message, typically the owner's answer to someone's request.

    Returns:
        ``"accept"``, ``"decline"``, ``"defer"``, ``"thank"``, ``"ask_details"``, or ``None`` when
        the message does none of these (most chat messages).

    Examples:
        >>> classify_intent("sure, sounds good!")
        'accept'
        >>> classify_intent("sorry, I can't make it tonight")
        'decline'
        >>> classify_intent("let me check and get back to you")
        'defer'
    """
    lowered = _APOS.sub("'", text.strip().lower())
    if not lowered:
        return None
    if _DECLINE.search(lowered):
        return "decline"
    if _COMMIT.search(lowered):
        return "accept"
    if _DEFER.search(lowered):
        return "defer"
    if _ACCEPT.search(lowered):
        return "accept"
    if _ASK.search(lowered):
        return "ask_details"
    if _THANK.search(lowered):
        return "thank"
    return None
