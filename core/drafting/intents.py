"""The owner's own wording for common intents and acts, mined from what they actually replied.

:func:`core.profiling.classify_intent` labels each of the owner's short replies as accept, decline,
defer, thank or ask-for-details; for each intent the :class:`Phrasebook` keeps the owner's most
typical phrasings (the most frequent normalised forms, shown in the owner's most common spelling).
The drafter uses them so that, for a request, the options span different answers (yes / not now /
what exactly?) instead of three paraphrases of the nearest match.

Beside the intents it keeps the owner's wording per *role* an answer plays for a dialogue act
(:mod:`core.drafting.acts`): how they acknowledge thanks ("np!", "anytime"), how they react to a
joke or an opinion ("haha true"), how they hold off a question they cannot answer yet ("let me
check"), how they greet. :meth:`Phrasebook.for_slot` answers a :class:`~core.drafting.acts.Slot`
with the owner's phrase for it, and an ask-for-details phrase only when it asks about something the
message leaves open ("where?" for lunch without a place, never for a code review).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from core.drafting.acts import QUESTION_MARKS, Act, Detail, Slot, bounded, rule_act
from core.profiling.intents import INTENTS, Intent, classify_intent

MAX_WORDS = 12
"""Replies longer than this are too specific to reuse as a stock answer."""
PER_INTENT = 3
ANSWERED_SAMPLE = 20
"""Messages per stock phrase whose act is read to learn what the phrase answers."""

_NORMALISE = re.compile(r"[^\w\s']+")
# "bob: sure" or "@bob, sure" (not "sure, happy to": a bare word and a comma is no address)
_ADDRESSED = re.compile(r"^\s*(?:@[\w.\-\[\]^`|{}]+\s*[:,]|[\w.\-\[\]^`|{}]+\s*:)\s+")
_REQUEST = re.compile(
    # A question mark of any script (full-width ？, ¿, ؟…) asks something.
    f"[{QUESTION_MARKS}]|"
    r"^\s*(?:please|pls|plz)\b|\b(?:can|could|would|will|wanna|want to|do) (?:you|u|we)\b|"
    r"\b(?:are|r) (?:you|u) (?:free|around|coming|able|up for|available|joining|in)\b|"
    r"\blet'?s\b|\bhow about\b|\bwhat about\b|\bany chance\b|\bneed (?:you|your|help)\b|"
    r"\b(?:join|review|send|check|help|call|meet)\b.{0,80}?\b(?:me|us|this|it)\b",
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


Role = Literal["acknowledge", "react", "hold", "greet"]
ROLES: Final[tuple[Role, ...]] = ("acknowledge", "react", "hold", "greet")
REACTION_WORDS: Final = 6
"""A reaction or acknowledgement longer than this is an answer of its own, not a stock phrase."""

_HOLD = re.compile(
    r"\b(?:let me|lemme|i'?ll|i will|will|gonna|going to)\s+(?:\w+\s+)?(?:check|look|see|find out|"
    r"get back|ask|think|dig|investigate|have a look|take a look|confirm)\b|\bget back to (?:you|u)\b|"
    r"\b(?:checking|looking into it|on it, will report)\b|\b(?:give me|gimme) (?:a|one) "
    r"(?:sec|second|minute|min|moment)\b|^\W*(?:one sec|one moment|hang on|hold on)\b",
    re.I,
)
_ACKNOWLEDGE = re.compile(
    r"^\W*(?:np|no problem|no prob|no probs|no worries|nw|anytime|any time|you'?re welcome|"
    r"your welcome|yw|sure thing|my pleasure|glad (?:to|i could) help|happy to help|of course|"
    r"don'?t mention it|all good|no sweat|de nada)\b",
    re.I,
)
_REACT = re.compile(
    r"^\W*(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|heh|xd|omg|wow|nice|cool|awesome|great|true|"
    r"indeed|exactly|totally|right|ikr|same|oof|ouch|yikes|damn|wild|crazy|insane|love it|"
    r"so true|ha+)\b|^[\W_]*[\U0001f300-\U0001faff\u2600-\u27bf]+[\W_]*$",
    re.I,
)
_ASKS_ABOUT: Final[tuple[tuple[Detail, re.Pattern[str]], ...]] = (
    ("place", re.compile(r"\bwhere\b|\bwhich (?:room|place|office)\b", re.I)),
    ("time", re.compile(r"\bwhen\b|\bwhat time\b|\bby when\b|\bwhich day\b|\bhow long\b", re.I)),
    ("which", re.compile(r"\bwhich\b|\blink\b|\bwhat (?:pr|doc|file|branch|ticket)\b", re.I)),
    (
        "what",
        re.compile(
            r"\bwhat\b|\bdetails?\b|\bmore (?:info|context)\b|\bhow (?:so|come)\b|\bmean\b|"
            r"\berror\b|\bexactly\b",
            re.I,
        ),
    ),
)


def asks_about(text: str) -> frozenset[Detail]:
    """What a question back asks for: ``where?`` → place, ``which pr?`` → which, ``when?`` → time,
    ``what exactly?`` → what. A bare "details?" asks for what."""
    found = {detail for detail, pattern in _ASKS_ABOUT if pattern.search(text)}
    return frozenset(found)


def role_of(reply: str, incoming: str | None = None) -> Role | None:
    """The role a short reply of the owner plays, if it is a stock one.

    By its own words ("let me check" holds, "np" acknowledges, "haha" reacts, "hey!" greets) or,
    given what it answered, by that: a short non-question after thanks or an apology acknowledges,
    after an opinion or a joke reacts.
    """
    text = bounded(reply).strip()
    words = text.split()
    if not words or len(words) > MAX_WORDS:
        return None
    if holds(text):
        return "hold"
    asks = any(c in text for c in QUESTION_MARKS)
    if len(words) <= REACTION_WORDS and not asks:
        if _ACKNOWLEDGE.search(text):
            return "acknowledge"
        if rule_act(text) == "greeting" and len(words) <= 4:
            return "greet"
        if incoming is not None:
            before = rule_act(incoming)
            # After thanks, a short reply acknowledges only if it is itself a backchannel
            # ("np", "anytime", "glad it helped"), not more help ("uninstall network-manager").
            if before in ("thanks", "apology") and rule_act(text) in _ACKNOWLEDGING:
                return "acknowledge"
            if before == "opinion" and rule_act(text) in ("opinion", "acknowledgement"):
                return None if answers_request(text) else "react"
            if before == "greeting" and rule_act(text) == "greeting":
                return "greet"
        if _REACT.search(text) and not answers_request(text):
            return "react"
    return None


def _asks_beyond(text: str, leaves_open: frozenset[Detail]) -> bool:
    """Whether a reply asks back about something the message does not leave open."""
    about = asks_about(text)
    return any(c in text for c in QUESTION_MARKS) and bool(about) and not about & leaves_open


def _answers_instead(text: str, role: Role) -> bool:
    """Whether a phrase mined for ``role`` rather says yes, no or later to a request ("ty! on
    it" after an answer): not the owner's way to acknowledge thanks or an apology, nor to react.
    ("no worries" acknowledges by its own words, whatever else it may mean.)"""
    if role not in ("acknowledge", "react") or not answers_request(text):
        return False
    own = _ACKNOWLEDGE if role == "acknowledge" else _REACT
    return not own.search(text)


_ACKNOWLEDGING: Final = frozenset({"acknowledgement", "thanks", "opinion", "greeting", "apology"})
"""Acts of a reply that can acknowledge thanks or an apology."""


def answers_request(text: str) -> bool:
    """Whether a reply accepts, declines, defers or asks about a request ("cool, works for me"):
    then it is no reaction to a joke, however it starts."""
    return classify_intent(text) in ("accept", "decline", "defer", "ask_details")


_THANKS_FIRST = re.compile(
    r"^\W*(?:thanks|thank you|thank u|thx|ty|tyvm|tysm|cheers|appreciate(?:d| it))\b", re.I
)
_COMMITS_BY = re.compile(
    r"\b(?:will|i'?ll|gonna)\s+(?:\w+\s+){0,2}?(?:look|review|do|take a look|have a look|send|"
    r"finish)\b[^?]{0,25}?\bby\b",
    re.I,
)
"""A task taken on with a deadline ("will look by 12pm"): a yes to a request, not a hold."""


def holds(text: str) -> bool:
    """Whether a reply puts off answering to find out ("let me check"): the hold of a question,
    not the "not now" of a request. A reply opening with thanks answers something else ("ty,
    will look by 10am" takes on a task); a task taken on by a deadline is no hold either."""
    return (
        bool(_HOLD.search(text)) and not _THANKS_FIRST.search(text) and not _COMMITS_BY.search(text)
    )


_WORDS = re.compile(r"\w+")
_YES_NO_FIRST = re.compile(
    r"^\W*(?:yes|yep|yup|yeah|yea|ya|sure|nope|no|nah|correct|right)\b\W*", re.I
)


def yes_no_answer(text: str) -> bool:
    """Whether a reply answers a yes/no question with its "yes" or "no" and the answer ("yep, it
    went out in 2.6.3"), not a yes that takes something on ("yep, can do by 1pm") nor one asking
    back ("yep! what time?"). A bare "yes" is no answer of the owner's but a guess at the facts."""
    opener = _YES_NO_FIRST.match(text)
    if opener is None or any(c in text for c in QUESTION_MARKS):
        return False
    rest = text[opener.end() :]
    return len(_WORDS.findall(rest)) >= 2 and (
        classify_intent(rest) is None and not _COMMITS_BY.search(rest)
    )


_ASKED_THING = re.compile(
    r"\bwhich\s+(?!(?:time|day|date|one|ones|is|are|was|were|do|does|did|you|u|of|i|we|they|"
    r"it|the|a|an|to|way)\b)([a-z][\w-]*)",
    re.I,
)
_IMPLIED_BY: Final[dict[str, tuple[str, ...]]] = {
    "pr": ("pull request", "merge request", "mr", "patch", "#"),
    "branch": ("pr", "pull request", "merge request", "mr", "commit", "merge", "#"),
    "env": ("environment", "staging", "prod", "production", "deploy", "ship", "release"),
    "doc": ("document", "design", "spec"),
    "ticket": ("issue", "task", "bug", "estimate", "#"),
}
"""A thing asked about that the message may name otherwise or imply ("which branch?" for a PR,
"which env?" for a deploy)."""


def asks_unmentioned(reply: str, message: str) -> bool:
    """Whether a reply asks *which* of a thing the message never mentions: "which branch is it
    on?" to "can you send me the deck?" (a question back about a request or an invitation fits
    only what they ask for; "which version?" to a problem is another matter: see the callers)."""
    if not any(c in reply for c in QUESTION_MARKS):
        return False
    lowered = message.lower()
    for match in _ASKED_THING.finditer(reply):
        noun = match.group(1).lower()
        stem = noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun
        names = (stem, *_IMPLIED_BY.get(stem, ()))
        if not any(re.search(rf"(?<!\w){re.escape(name)}", lowered) for name in names):
            return True
    return False


def normalise(text: str) -> str:
    """Lower-cased words only: ``"Sure!! sounds good"`` → ``"sure sounds good"``."""
    return " ".join(_NORMALISE.sub(" ", text.lower()).split())


def is_request(text: str) -> bool:
    """Whether a message asks the owner for something (a question, an invitation, a favour)."""
    return bool(_REQUEST.search(bounded(text)))


def spread_for(first: Intent | None) -> tuple[Intent, ...]:
    """The intents to offer after an option of intent ``first``, most useful first."""
    return _SPREAD.get(first, _SPREAD[None])


@dataclass(frozen=True, slots=True)
class Phrase:
    """One stock answer of the owner: the text as they write it and how often they used it."""

    text: str
    intent: Intent
    count: int
    answers: tuple[Act, ...] = ()
    """The acts of the messages it answered, most frequent first: "on it" answers requests,
    "see you there" invitations, "ty! on it" an answer to the owner's own question. Empty when
    unknown (no pairs)."""

    def suits(self, act: Act | None) -> bool:
        """Whether the owner would use this phrase for a message of ``act``: they did before,
        or nothing is known of what it answered."""
        return act is None or not self.answers or act in self.answers


@dataclass(frozen=True, slots=True)
class RolePhrase:
    """One stock phrase of the owner for a role (acknowledge, react, hold, greet)."""

    text: str
    role: Role
    count: int


@dataclass(frozen=True, slots=True)
class StockPhrase:
    """The owner's phrase that fills a slot: its text, what it does, how often they wrote it."""

    text: str
    role: str
    """An intent (``accept``, ``decline``, ``defer``, ``ask_details``…) or a :data:`Role`."""
    count: int


def _ranked(forms: Counter[str], limit: int) -> list[tuple[str, int]]:
    # Most used first; among equals the shorter (more generic) phrasing.
    return sorted(forms.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[:limit]


def _kept(
    forms: Counter[str], answered: dict[str, Counter[Act]], limit: int
) -> list[tuple[str, int]]:
    """The ``limit`` most used phrasings, and beside them the most used one for each kind of
    message they answered (a "yes" to an invitation is kept even when "on it" to tasks is more
    frequent), most used first."""
    kept = _ranked(forms, limit)
    keys = {key for key, _ in kept}
    for act in sorted({a for key in forms for a in answered.get(key, ())}):
        used = Counter({k: n for k, n in forms.items() if act in answered.get(k, ())})
        # ... and the most used that asks nothing back: "yep, which branch is it on?" is a yes
        # only where a branch is in question; "yep, on it after this meeting" is one anywhere.
        plain = Counter({k: n for k, n in used.items() if not asks_about(k)})
        for best in (_ranked(used, 1), _ranked(plain, 1)):
            if best and best[0][0] not in keys:
                kept.append(best[0])
                keys.add(best[0][0])
    return sorted(kept, key=lambda kv: (-kv[1], len(kv[0]), kv[0]))


@dataclass(slots=True)
class Phrasebook:
    """Per intent and per role, the owner's most typical short phrasings, most used first."""

    phrases: dict[Intent, list[Phrase]] = field(default_factory=dict)
    roles: dict[Role, list[RolePhrase]] = field(default_factory=dict)

    @classmethod
    def mine(
        cls,
        replies: Iterable[str],
        *,
        per_intent: int = PER_INTENT,
        pairs: Iterable[tuple[str, str]] = (),
    ) -> Phrasebook:
        """Learn from the owner's replies (any order; duplicates count as habit).

        Replies addressed to someone (``bob: sure``) count without the address, so the phrase can
        be reused for anyone.

        Args:
            replies: The owner's replies (texts).
            per_intent: Phrases kept per intent and per role.
            pairs: ``(incoming, reply)`` pairs, when known: a reply's role can then also be read
                from what it answered ("haha true" after a joke reacts). Their replies count
                for the roles only; pass them in ``replies`` too for the intents.
        """
        pairs = list(pairs)
        forms: dict[Intent, Counter[str]] = defaultdict(Counter)
        answered: dict[str, Counter[Act]] = defaultdict(Counter)
        role_forms: dict[Role, Counter[str]] = defaultdict(Counter)
        spellings: dict[str, Counter[str]] = defaultdict(Counter)

        def usable(reply: str) -> str | None:
            text = _ADDRESSED.sub("", reply).strip()
            if not text or len(text.split()) > MAX_WORDS or "http" in text or "\n" in text:
                return None
            return text if normalise(text) or not text.isascii() else None

        for reply in replies:
            text = usable(reply)
            if text is None:
                continue
            key = normalise(text) or text
            intent = classify_intent(text)
            role = role_of(text)
            if intent is not None:
                forms[intent][key] += 1
            if role is not None and not pairs:
                role_forms[role][key] += 1
            if intent is not None or role is not None:
                spellings[key][text] += 1
        # What each candidate phrase answered: read from a bounded sample (the acts of its
        # first messages), for the phrasings that could be kept.
        intent_keys = {key for counter in forms.values() for key, _ in _ranked(counter, 25)}
        for incoming, reply in pairs:
            text = usable(reply)
            if text is None:
                continue
            key = normalise(text) or text
            if key in intent_keys and answered[key].total() < ANSWERED_SAMPLE:
                answered[key][rule_act(incoming)] += 1
            role = role_of(text, incoming)
            if role is None:
                continue
            role_forms[role][key] += 1
            spellings[key][text] += 1
        phrases: dict[Intent, list[Phrase]] = {
            intent: [
                Phrase(
                    text=spellings[key].most_common(1)[0][0],
                    intent=intent,
                    count=count,
                    answers=tuple(act for act, _ in answered[key].most_common()),
                )
                for key, count in _kept(forms[intent], answered, per_intent)
            ]
            for intent in INTENTS
        }
        roles: dict[Role, list[RolePhrase]] = {
            role: [
                RolePhrase(text=spellings[key].most_common(1)[0][0], role=role, count=count)
                for key, count in _ranked(role_forms[role], per_intent)
            ]
            for role in ROLES
        }
        return cls(phrases=phrases, roles=roles)

    def for_slot(
        self,
        slot: Slot,
        *,
        avoid: Iterable[str] = (),
        act: Act | None = None,
        leaves_open: frozenset[Detail] | None = None,
        message: str | None = None,
    ) -> StockPhrase | None:
        """The owner's own phrase for a slot of :func:`core.drafting.acts.slots_for`, or ``None``.

        ``yes`` / ``not now`` use the intents (the more used of decline and defer for not now);
        ``ask_details`` only a question asking about one of ``slot.details`` (nothing when the
        message leaves nothing open); ``acknowledge`` / ``react`` / ``hold`` / ``greet`` the
        owner's wording for that role. ``answer`` has no stock phrase: only a real reply fits.
        With ``act`` (of the incoming message), a phrase the owner only ever used for another
        kind of message is not used ("on it" accepts a task, not a lunch invitation); with
        ``leaves_open`` (what the message leaves open), a "yes" or "not now" that also asks
        something asks only about that ("yep, which branch?" is no yes to "send the Q3 numbers
        by Friday"); with ``message``, no phrase asks which of a thing it never mentions
        ("which env?" to "can you send me the deck?").
        """
        skip = {normalise(a) for a in avoid}
        if message is not None:
            skip |= {
                normalise(p.text)
                for phrases in self.phrases.values()
                for p in phrases
                if asks_unmentioned(p.text, message)
            }
        if slot.kind == "ask_details":
            if not slot.details:
                return None
            for phrase in self.phrases.get("ask_details", []):
                if normalise(phrase.text) in skip or not phrase.suits(act):
                    continue
                if asks_about(phrase.text) & slot.details:
                    return StockPhrase(text=phrase.text, role="ask_details", count=phrase.count)
            return None
        if slot.kind in ("acknowledge", "react", "hold", "greet"):
            role: Role = slot.kind
            for found in self.roles.get(role, []):
                if normalise(found.text) not in skip and not _answers_instead(found.text, role):
                    return StockPhrase(text=found.text, role=role, count=found.count)
            if role == "hold":
                defer = self.best("defer", avoid=avoid)
                if defer is not None and holds(defer.text):
                    return StockPhrase(text=defer.text, role="hold", count=defer.count)
            return None
        ranked = [
            phrase
            for intent in sorted(slot.intents, key=lambda i: -self.usage(i))
            for phrase in self.phrases.get(intent, [])
            if normalise(phrase.text) not in skip
            and phrase.suits(act)
            and not (leaves_open is not None and _asks_beyond(phrase.text, leaves_open))
        ]
        if slot.kind == "not_now":
            # "let me check" is the hold of a question; "not now" says no or later first.
            ranked.sort(key=lambda phrase: holds(phrase.text))
        if ranked:
            return StockPhrase(text=ranked[0].text, role=ranked[0].intent, count=ranked[0].count)
        return None

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
