"""Option shaping by dialogue act: which answers a draft card offers, filled with the owner's words.

:func:`shape` is pure: given the act of the incoming message (and its text), the candidate replies
ranked by fit (each with its act and intent), the owner's :class:`~core.drafting.intents.Phrasebook`
and the fit threshold, it fills the slots of :func:`~core.drafting.acts.slots_for` in order:

* each slot takes the best-fitting candidate that plays its part (an acceptance for *yes*, a
  decline or a deferral for *not now*, a statement — not the question asked back — for *answer*,
  a holding reply for *hold*, an acknowledgement after thanks…) and fits well enough; never one
  asking which of a thing the message does not mention ("which branch?" to "send me the deck"),
  nor the owner's yes or no to an invitation for a task (or the reverse);
* otherwise the owner's own stock phrase for that part, when they have one (never for *answer*:
  only a real reply answers a question; and an ask-for-details phrase only when it asks about
  what the message leaves open);
* otherwise the slot stays empty: fewer options, never a stock phrase that does not fit.

The drafter ranks, gates and scores; this decides the *kinds* of answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from core.drafting.acts import QUESTION_MARKS, Act, Slot, open_details, slots_for
from core.drafting.intents import (
    Phrasebook,
    asks_about,
    asks_unmentioned,
    holds,
    normalise,
    role_of,
    yes_no_answer,
)
from core.profiling.intents import Intent


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A reply the drafter could offer: its text, fit (higher is better), act and intent."""

    text: str
    fit: float
    act: Act | None = None
    intent: Intent | None = None
    answered: frozenset[Act] = frozenset()
    """The acts of the messages it is known to have answered (empty: unknown)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Shaped:
    """One option of the card: the slot it fills and the text filling it."""

    slot: Slot
    text: str
    fit: float | None
    """The candidate's fit; ``None`` for a stock phrase (the drafter scores it)."""
    source: Literal["candidate", "phrasebook"]
    count: int = 0
    """For a stock phrase: how often the owner wrote it."""


_ANSWERS_A_REQUEST: frozenset[Intent | None] = frozenset(
    {"accept", "decline", "defer", "ask_details"}
)
_ANSWER_SLOT = slots_for("open_question")[0]


def plays(slot: Slot, candidate: Candidate) -> bool:
    """Whether ``candidate`` plays the part of ``slot`` (by its intent, act or stock role)."""
    if slot.kind == "ask_details":
        # a question back, also after a yes ("sure - which pr?"), about what is open
        asks = candidate.intent == "ask_details" or candidate.act in slot.acts
        asks = asks or (
            any(c in candidate.text for c in QUESTION_MARKS)
            and candidate.intent not in ("decline", "defer")
        )
        return asks and bool(asks_about(candidate.text) & slot.details)
    if slot.kind == "hold":  # putting off a question, not a request ("can't today, thursday?")
        return holds(candidate.text) or role_of(candidate.text) == "hold"
    if candidate.intent is not None and candidate.intent in slot.intents:
        return True
    if slot.kind in ("acknowledge", "react", "greet") and candidate.intent in _ANSWERS_A_REQUEST:
        return False  # "sure, after lunch" acknowledges a request, not thanks or a joke
    if candidate.act is not None and candidate.act in slot.acts:
        return slot.kind != "answer" or candidate.intent not in _ANSWERS_A_REQUEST | {"thank"}
    return slot.role is not None and role_of(candidate.text) == slot.role


_ASKED_OF_YOU: frozenset[Act] = frozenset({"request", "invitation"})


def suits(candidate: Candidate, act: Act) -> bool:
    """Whether the owner's past reply suits a message of ``act``: a yes or a no to an invitation
    ("ahh can't, on call - next weekend?") is none to a task, nor "on it" to a lunch invitation."""
    was = candidate.answered & _ASKED_OF_YOU
    return act not in _ASKED_OF_YOU or not was or act in was


def echoes(reply: str, message: str) -> bool:
    """Whether a reply asks back what the question asked ("yep! what time?" to "what time is the
    standup?"): a question echoed back is no answer."""
    if not any(c in reply for c in QUESTION_MARKS):
        return False
    return bool(asks_about(reply) & asks_about(message))


def answers(candidate: Candidate, act: Act, text: str) -> bool:
    """Whether a candidate answers the question ``text`` (of ``act``): a statement or an
    instruction ("open it from a terminal"), not thanks nor a yes or no to a request, not the
    question asked back; to a yes/no question also its "yes" or "no" with the answer ("yep, it
    went out in 2.6.3")."""
    if echoes(candidate.text, text):
        return False
    if plays(_ANSWER_SLOT, candidate):
        return True
    if candidate.act == "request" and not any(c in candidate.text for c in QUESTION_MARKS):
        return candidate.intent not in _ANSWERS_A_REQUEST | {"thank"}
    return act == "yes_no_question" and yes_no_answer(candidate.text)


def shape(
    act: Act,
    text: str,
    candidates: Sequence[Candidate],
    phrasebook: Phrasebook,
    *,
    threshold: float,
    max_options: int = 3,
    avoid: Iterable[str] = (),
) -> list[Shaped]:
    """The options of a draft card for a message of ``act``, one per slot, in slot order.

    Args:
        act: The act of the incoming message.
        text: The incoming message (what it leaves open decides ask-for-details).
        candidates: Replies the drafter found, any order; the best fit is tried first.
        phrasebook: The owner's stock phrases.
        threshold: Candidates below this fit are not offered.
        max_options: At most this many options.
        avoid: Texts not to offer (shown already, dismissed).

    Returns:
        Up to ``max_options`` options; fewer when fewer slots can be filled with something that
        fits.
    """
    used = {normalise(a) for a in avoid}
    ranked = sorted(
        (c for c in candidates if c.fit >= threshold), key=lambda c: (-c.fit, len(c.text))
    )
    out: list[Shaped] = []
    leaves_open = open_details(text, tasks=act != "invitation")
    for slot in slots_for(act, text):
        if len(out) >= max_options:
            break
        if slot.kind == "ask_details":
            # "sure - which pr?" already asks which one: a second question back would repeat it.
            open_ = slot.details - {d for o in out for d in asks_about(o.text)}
            if not open_:
                continue
            slot = replace(slot, details=open_)
        # "let me check" is the hold of a question; "not now" says no or later first.
        pool = sorted(ranked, key=lambda c: holds(c.text)) if slot.kind == "not_now" else ranked
        found = next(
            (
                c
                for c in pool
                if normalise(c.text) not in used
                and suits(c, act)
                and not (act in _ASKED_OF_YOU and asks_unmentioned(c.text, text))
                and (answers(c, act, text) if slot.kind == "answer" else plays(slot, c))
            ),
            None,
        )
        if found is not None:
            out.append(Shaped(slot=slot, text=found.text, fit=found.fit, source="candidate"))
            used.add(normalise(found.text))
            continue
        if slot.kind == "answer":
            continue
        stock = phrasebook.for_slot(
            slot,
            avoid=used,
            act=act,
            leaves_open=leaves_open,
            message=text if act in _ASKED_OF_YOU else None,
        )
        if stock is not None:
            out.append(
                Shaped(slot=slot, text=stock.text, fit=None, source="phrasebook", count=stock.count)
            )
            used.add(normalise(stock.text))
    return out
