"""The owner's own wording for common intents, mined from what they actually replied.

:func:`core.profiling.classify_intent` labels each of the owner's short replies as accept, decline,
defer, thank or ask-for-details; for each intent the :class:`Phrasebook` keeps the owner's most
typical phrasings (the most frequent normalised forms, shown in the owner's most common spelling).
The drafter uses them so that, for a request, the options span different answers (yes / not now /
what exactly?) instead of three paraphrases of the nearest match.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.profiling.intents import INTENTS, Intent, classify_intent

MAX_WORDS = 12
"""Replies longer than this are too specific to reuse as a stock answer."""
PER_INTENT = 3

_NORMALISE = re.compile(r"[^\w\s']+")
# "bob: sure" or "@bob, sure" (not "sure, happy to": a bare word and a comma is no address)
_ADDRESSED = re.compile(r"^\s*(?:@[\w.\-\[\]^`|{}]+\s*[:,]|[\w.\-\[\]^`|{}]+\s*:)\s+")
_REQUEST = re.compile(
    r"\?|^\s*(?:please|pls|plz)\b|\b(?:can|could|would|will|wanna|want to|do) (?:you|u|we)\b|"
    r"\b(?:are|r) (?:you|u) (?:free|around|coming|able|up for|available|joining|in)\b|"
    r"\blet'?s\b|\bhow about\b|\bwhat about\b|\bany chance\b|\bneed (?:you|your|help)\b|"
    r"\b(?:join|review|send|check|help|call|meet)\b.*\b(?:me|us|this|it)\b",
    re.I,
)

# For a request, which answers to offer next to the most relevant one.
_SPREAD: dict[Intent | None, tuple[Intent, ...]] = {
    "accept": ("decline", "defer", "ask_details"),
    "decline": ("accept", "ask_details", "defer"),
    "defer": ("accept", "ask_details", "decline"),
    "ask_details": ("accept", "decline", "defer"),
    "thank": ("accept", "ask_details", "defer"),
    None: ("accept", "decline", "defer", "ask_details"),
}


def normalise(text: str) -> str:
    """Lower-cased words only: ``"Sure!! sounds good"`` → ``"sure sounds good"``."""
    return " ".join(_NORMALISE.sub(" ", text.lower()).split())


def is_request(text: str) -> bool:
    """Whether a message asks the owner for something (a question, an invitation, a favour)."""
    return bool(_REQUEST.search(text))


def spread_for(first: Intent | None) -> tuple[Intent, ...]:
    """The intents to offer after an option of intent ``first``, most useful first."""
    return _SPREAD.get(first, _SPREAD[None])


@dataclass(frozen=True, slots=True)
class Phrase:
    """One stock answer of the owner: the text as they write it and how often they used it."""

    text: str
    intent: Intent
    count: int


@dataclass(slots=True)
class Phrasebook:
    """Per intent, the owner's most typical short phrasings, most used first."""

    phrases: dict[Intent, list[Phrase]] = field(default_factory=dict)

    @classmethod
    def mine(cls, replies: Iterable[str], *, per_intent: int = PER_INTENT) -> Phrasebook:
        """Learn from the owner's replies (any order; duplicates count as habit).

        Replies addressed to someone (``bob: sure``) count without the address, so the phrase can
        be reused for anyone.
        """
        forms: dict[Intent, Counter[str]] = defaultdict(Counter)
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        for reply in replies:
            text = _ADDRESSED.sub("", reply).strip()
            if not text or len(text.split()) > MAX_WORDS or "http" in text or "\n" in text:
                continue
            intent = classify_intent(text)
            if intent is None:
                continue
            key = normalise(text)
            if not key:
                continue
            forms[intent][key] += 1
            spellings[key][text] += 1
        phrases: dict[Intent, list[Phrase]] = {}
        for intent in INTENTS:
            # Most used first; among equals the shorter (more generic) phrasing.
            ranked = sorted(forms[intent].items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
            phrases[intent] = [
                Phrase(text=spellings[key].most_common(1)[0][0], intent=intent, count=count)
                for key, count in ranked[:per_intent]
            ]
        return cls(phrases=phrases)

    def best(self, intent: Intent, *, avoid: Iterable[str] = ()) -> Phrase | None:
        """The owner's most typical phrase for ``intent`` not among ``avoid`` (normalised)."""
        skip = {normalise(a) for a in avoid}
        for phrase in self.phrases.get(intent, []):
            if normalise(phrase.text) not in skip:
                return phrase
        return None

    def usage(self, intent: Intent) -> int:
        """How many of the owner's replies used this intent's stock phrases."""
        return sum(p.count for p in self.phrases.get(intent, []))
