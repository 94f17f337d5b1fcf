"""The feature vector both prioritisers score, and the plain words that explain it.

Every feature is scaled to roughly [-1, 1] with 0 meaning "nothing special", so a linear model's
contribution ``weight * value`` is directly the push that feature gives a message; the reasons
shown to the owner are the largest such pushes.

Groups: *sender* (VIP, the owner's reply rate/speed/familiarity with them, reciprocity, a live
exchange with them, low-priority list), *content* (question, request, reports a problem, deadline,
mention, name at the start, topic of interest, link, code, length, chatter, thanks), *context*
(direct message, answers the owner, answers someone else, thread the owner is in, owner active
now, addressed to someone else, how many addressed, working hours) and *semantic* (closeness to
what the owner answers vs leaves, ``SemanticMemory``; 0 without an embedder).

Live vs learned: "owner active", "thread the owner is in" and "a live exchange" come from the
last few minutes of the stream; reply rate, speed, reciprocity and the semantic centroids are
statistics of the owner's history (``OwnerContext.observe(learn=...)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from core.models import IncomingMessage
from core.prioritising.context import OwnerContext
from core.prioritising.signals import ContentSignals, read_content

FloatArray = npt.NDArray[np.float64]

FEATURE_NAMES: tuple[str, ...] = (
    "bias",
    # sender
    "vip",
    "sender_rate",
    "sender_history",
    "reply_speed",
    "reciprocity",
    "sender_recent",
    "sender_share",
    "sender_waiting",
    "low_priority",
    # content
    "question",
    "question_marks",
    "direct_question",
    "request",
    "asks_you",
    "problem",
    "deadline",
    "mention",
    "mention_start",
    "topic",
    "link",
    "code",
    "length",
    "chatter",
    "thanks",
    # context
    "dm",
    "reply_to_owner",
    "reply_to_other",
    "owner_in_chain",
    "starts_chain",
    "after_owner",
    "owner_in_thread",
    "owner_active",
    "addressed_other",
    "others_addressed",
    "in_hours",
    # semantic
    "semantic",
)
INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}

_QUESTION = "asks a question"
_DIRECT_QUESTION = "asks you a direct question"
_ASKS_YOU = "asks you something"
_MIN_PUSH = 0.25
_SEMANTIC_SCALE = 5.0
"""Cosine differences spread about ±0.15; scaled to the spread of the binary features."""
_THREAD_HALF_LIFE_S = 15 * 60.0
_ACTIVE_HALF_LIFE_S = 20 * 60.0
_EXCHANGE_HALF_LIFE_S = 30 * 60.0


@dataclass(frozen=True, slots=True)
class FeatureVector:
    """One message's features with what is needed to phrase its reasons."""

    values: FloatArray
    sender: str
    """How to call the sender in a reason (display name, else id)."""
    reply_rate: float
    """The owner's (shrunk) reply rate to this sender."""
    topic: str | None
    signals: ContentSignals
    addressed: bool
    """Directly addressed to the owner: DM, mention, an answer to the owner, or their thread."""


def _decay(since: datetime | None, at: datetime, half_life_s: float) -> float:
    if since is None:
        return 0.0
    elapsed = max(0.0, (at - since).total_seconds())
    return math.exp(-elapsed * math.log(2) / half_life_s)


def _setter(v: FloatArray) -> Callable[[str, bool], None]:
    def set_(name: str, on: bool) -> None:
        v[INDEX[name]] = 1.0 if on else 0.0

    return set_


def extract(msg: IncomingMessage, ctx: OwnerContext, *, semantic: float = 0.0) -> FeatureVector:
    """Compute the features of ``msg`` from what ``ctx`` knows *before* it arrived.

    Args:
        msg: the incoming message.
        ctx: the owner's context (not modified).
        semantic: closeness to what the owner answers, from ``SemanticMemory`` (0 when unknown).
    """
    message = msg.message
    at = (
        message.sent_at
        if message.sent_at.tzinfo is not None
        else message.sent_at.replace(tzinfo=UTC)
    )
    text = message.text
    signals = read_content(text)
    stats = ctx.sender(message.sender)
    sender_key = message.sender.strip().lower().lstrip("@")
    overall = ctx.overall_reply_rate
    rate = stats.reply_rate(overall) if stats is not None else overall
    name = msg.sender_name or message.sender

    mention = msg.mentions_owner or ctx.mentions_owner(text)
    mention_start = signals.leading_name is not None and ctx.is_owner(signals.leading_name)
    reply_to_owner = ctx.is_owner_message(message.reply_to)
    target = None if reply_to_owner else ctx.sender_of(message.reply_to)
    reply_to_other = target is not None and target != sender_key
    in_thread = _decay(
        ctx.owner_last_in(message.conversation, message.thread), at, _THREAD_HALF_LIFE_S
    )
    direct = msg.is_direct or message.conversation in ctx.direct_conversations
    addressed_other = not mention and ctx.addressed_to_someone_else(signals.leading_name)
    addressed = direct or mention or reply_to_owner or (in_thread >= 0.5 and not addressed_other)
    topic = ctx.topic_in(text)

    v = np.zeros(len(FEATURE_NAMES), dtype=np.float64)
    v[INDEX["bias"]] = 1.0
    set_ = _setter(v)
    set_("vip", ctx.is_vip(message.sender, msg.sender_name))
    v[INDEX["sender_rate"]] = rate - overall
    if stats is not None:
        v[INDEX["sender_history"]] = min(1.0, math.log1p(stats.received) / math.log(21.0))
        latency = stats.mean_latency_s
        v[INDEX["reply_speed"]] = 1.0 / (1.0 + latency / 600.0) if latency is not None else 0.0
        v[INDEX["reciprocity"]] = min(1.0, stats.answered_owner / 3.0)
        share = ctx.overall_answered_share
        v[INDEX["sender_share"]] = stats.answered_share(share) - share
    v[INDEX["sender_recent"]] = _decay(ctx.last_exchange.get(sender_key), at, _EXCHANGE_HALF_LIFE_S)
    v[INDEX["sender_waiting"]] = _decay(ctx.waiting.get(sender_key), at, _EXCHANGE_HALF_LIFE_S)
    set_("low_priority", ctx.is_low_priority(message.sender, msg.sender_name))
    set_("question", signals.question)
    v[INDEX["question_marks"]] = min(1.0, signals.question_marks / 3.0)
    set_("direct_question", signals.question and addressed)
    set_("request", signals.request)
    set_(
        "asks_you",
        (signals.question or signals.request)
        and (signals.second_person or signals.request)
        and not addressed_other
        and not signals.chatter,
    )
    set_("problem", signals.problem)
    set_("deadline", signals.deadline is not None)
    set_("mention", mention)
    set_("mention_start", mention_start)
    set_("topic", topic is not None)
    set_("link", signals.link)
    set_("code", signals.code)
    v[INDEX["length"]] = min(1.0, math.log1p(signals.length) / math.log1p(400.0))
    set_("chatter", signals.chatter)
    set_("thanks", signals.thanks)
    set_("dm", direct)
    set_("reply_to_owner", reply_to_owner)
    set_("reply_to_other", reply_to_other)
    set_("owner_in_chain", not reply_to_owner and ctx.owner_in_chain(message.reply_to))
    set_("starts_chain", message.reply_to is None)
    since = ctx.since_owner.get(message.conversation)
    v[INDEX["after_owner"]] = 0.0 if since is None else 0.5**since
    v[INDEX["owner_in_thread"]] = in_thread
    v[INDEX["owner_active"]] = _decay(ctx.owner_last_at, at, _ACTIVE_HALF_LIFE_S)
    set_("addressed_other", addressed_other)
    v[INDEX["others_addressed"]] = min(1.0, max(0, msg.addressees - 1) / 4.0)
    v[INDEX["in_hours"]] = ctx.in_working_hours(at) - 0.5
    v[INDEX["semantic"]] = _SEMANTIC_SCALE * semantic
    return FeatureVector(
        values=v, sender=name, reply_rate=rate, topic=topic, signals=signals, addressed=addressed
    )


def _phrase(feature: str, positive: bool, fv: FeatureVector) -> str | None:
    name = fv.sender
    s = fv.signals
    if positive:
        match feature:
            case "vip":
                return "a VIP"
            case "sender_rate":
                return f"you answer {name} {round(100 * fv.reply_rate)}% of the time"
            case "sender_history":
                return f"you often hear from {name}"
            case "reply_speed":
                return f"you usually answer {name} quickly"
            case "reciprocity":
                return f"{name} has answered you before"
            case "sender_recent":
                return f"you were just talking with {name}"
            case "sender_share":
                return f"you often answer {name}"
            case "sender_waiting":
                return f"{name} is still waiting for your answer"
            case "owner_in_chain":
                return "continues a conversation you are in"
            case "starts_chain":
                return "starts a new conversation"
            case "after_owner":
                return "right after you spoke"
            case "question":
                return _DIRECT_QUESTION if fv.addressed else _QUESTION
            case "direct_question":
                return _DIRECT_QUESTION
            case "request":
                return "asks you to do something"
            case "asks_you":
                return _ASKS_YOU if not s.request else "asks you to do something"
            case "problem":
                return "reports a problem"
            case "deadline":
                if s.urgent:
                    return f"says it is urgent ({s.deadline})"
                return f"mentions a deadline {s.deadline}" if s.deadline else "mentions a deadline"
            case "mention":
                return "mentions you"
            case "mention_start":
                return "addressed to you by name"
            case "topic":
                return f"about {fv.topic}, which you care about"
            case "link":
                return "has a link"
            case "code":
                return "has code or commands"
            case "length":
                return "a substantial message"
            case "dm":
                return "a direct message"
            case "reply_to_owner":
                return "answers your message"
            case "owner_in_thread":
                return "in a thread you are in"
            case "owner_active":
                return "arrived while you were active"
            case "in_hours":
                return "during your working hours"
            case "semantic":
                return "like messages you usually answer"
        return None
    match feature:
        case "sender_rate":
            return f"you answer {name} only {round(100 * fv.reply_rate)}% of the time"
        case "sender_share":
            return f"you rarely answer {name}"
        case "low_priority":
            return f"{name} can wait (your list)"
        case "question" if not (s.question or s.request):
            return "asks nothing"
        case "owner_active" | "owner_in_thread" | "after_owner" if not fv.addressed:
            return "you are not in this conversation"
        case "chatter":
            return "looks like chatter"
        case "thanks":
            return "just says thanks"
        case "addressed_other":
            return "addressed to someone else"
        case "reply_to_other":
            return "part of someone else's conversation"
        case "others_addressed":
            return "sent to many people"
        case "in_hours":
            return "outside your working hours"
        case "length":
            return "a very short message"
        case "semantic":
            return "unlike what you usually answer"
    return None


_CONFLICTS: tuple[frozenset[str], ...] = (
    frozenset({"just says thanks", "asks you to do something"}),
    frozenset({"just says thanks", _ASKS_YOU}),
    frozenset({"looks like chatter", _ASKS_YOU}),
    frozenset({"asks nothing", _ASKS_YOU}),
    frozenset({"just says thanks", _QUESTION}),
    frozenset({"just says thanks", _DIRECT_QUESTION}),
    frozenset({"looks like chatter", "asks you to do something"}),
    frozenset({"looks like chatter", _QUESTION}),
    frozenset({"looks like chatter", _DIRECT_QUESTION}),
    frozenset({"asks nothing", "asks you to do something"}),
    frozenset({"asks nothing", _QUESTION}),
    frozenset({"asks nothing", _DIRECT_QUESTION}),
    frozenset({"addressed to someone else", "mentions you"}),
    frozenset({"addressed to someone else", "addressed to you by name"}),
    frozenset({"addressed to someone else", "a direct message"}),
    frozenset({"addressed to someone else", "answers your message"}),
    frozenset({"a very short message", "a substantial message"}),
    frozenset({"you are not in this conversation", "in a thread you are in"}),
    frozenset({"you are not in this conversation", "answers your message"}),
    frozenset({"you are not in this conversation", "continues a conversation you are in"}),
    frozenset({"you are not in this conversation", "right after you spoke"}),
    frozenset({"you are not in this conversation", "arrived while you were active"}),
)
"""Reasons that must never be shown together (the signals already exclude most of them; this
guards the phrasing, whatever the weights)."""


_ANSWER_RATE = ("you answer ", "you often answer ", "you rarely answer ")
"""Reasons about how often the owner answers the sender: only the strongest is shown."""


def _conflicts(reason: str, chosen: list[str]) -> bool:
    return any(frozenset({reason, other}) in _CONFLICTS for other in chosen) or (
        reason.startswith(_ANSWER_RATE) and any(c.startswith(_ANSWER_RATE) for c in chosen)
    )


def explain(
    fv: FeatureVector, weights: FloatArray, *, center: FloatArray | None = None, limit: int = 3
) -> tuple[str, ...]:
    """The 1-3 plain-word reasons behind a score: the pushes that decided it.

    A push is ``weight * (value - center)`` in log-odds: how much the feature moves this message
    away from a typical one (``center``: the mean feature values the prior was fitted on; 0 for
    the heuristic). Only pushes of at least 0.25 count. The pushes in the direction of the score
    (upward for a message above even odds, downward below) come first, largest first, then the
    largest opposite ones; a reason that contradicts one already chosen is skipped, so "just
    says thanks" never stands beside "asks you to do something".
    """
    values = fv.values if center is None else fv.values - center
    contributions = weights * values
    z = float(weights @ fv.values)
    contributions[0] = 0.0
    up = _phrases(fv, contributions, positive=True)
    if _DIRECT_QUESTION in up:
        up = [r for r in up if r not in (_QUESTION, _ASKS_YOU)]
    down = _phrases(fv, contributions, positive=False)
    ordered = [*up, *down] if z >= 0 else [*down, *up]
    reasons: list[str] = []
    for reason in ordered:
        if reason not in reasons and not _conflicts(reason, reasons):
            reasons.append(reason)
    return tuple(reasons[:limit]) if reasons else ("nothing in it calls for you",)


def _phrases(fv: FeatureVector, contributions: FloatArray, *, positive: bool) -> list[str]:
    """Phrases of the pushes in one direction, largest first."""
    out: list[str] = []
    order = np.argsort(-contributions if positive else contributions)
    for i in order:
        push = contributions[i] if positive else -contributions[i]
        if push < _MIN_PUSH:
            break
        phrase = _phrase(FEATURE_NAMES[i], positive, fv)
        if phrase is not None and phrase not in out:
            out.append(phrase)
    return out
