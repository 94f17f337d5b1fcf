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
    "low_priority",
    # content
    "question",
    "direct_question",
    "request",
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
    v[0] = 1.0
    v[1] = 1.0 if ctx.is_vip(message.sender, msg.sender_name) else 0.0
    v[2] = rate - overall
    if stats is not None:
        v[3] = min(1.0, math.log1p(stats.received) / math.log(21.0))
        latency = stats.mean_latency_s
        v[4] = 1.0 / (1.0 + latency / 600.0) if latency is not None else 0.0
        v[5] = min(1.0, stats.answered_owner / 3.0)
    v[6] = _decay(ctx.last_exchange.get(sender_key), at, _EXCHANGE_HALF_LIFE_S)
    v[7] = 1.0 if ctx.is_low_priority(message.sender, msg.sender_name) else 0.0
    set_ = _setter(v)
    set_("question", signals.question)
    set_("direct_question", signals.question and addressed)
    set_("request", signals.request)
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
            case "question":
                return _QUESTION
            case "direct_question":
                return _DIRECT_QUESTION
            case "request":
                return "asks you to do something"
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
        case "low_priority":
            return f"{name} can wait (your list)"
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


def explain(fv: FeatureVector, weights: FloatArray, *, limit: int = 3) -> tuple[str, ...]:
    """The 1-3 plain-word reasons behind a score: the pushes that decided it.

    A push is ``weight * value`` in log-odds; only pushes of at least 0.25 count. For a message
    that scores above even odds the upward pushes come first, largest first; for one below,
    the downward pushes (why it can wait) come first and the upward ones follow.
    """
    contributions = weights * fv.values
    z = float(contributions.sum())
    contributions[0] = 0.0
    up: list[str] = []
    for i in np.argsort(-contributions):
        if contributions[i] < _MIN_PUSH:
            break
        phrase = _phrase(FEATURE_NAMES[i], True, fv)
        if phrase is not None and phrase not in up:
            up.append(phrase)
    if _DIRECT_QUESTION in up and _QUESTION in up:
        up.remove(_QUESTION)
    down: list[str] = []
    for i in np.argsort(contributions):
        if contributions[i] > -_MIN_PUSH:
            break
        phrase = _phrase(FEATURE_NAMES[i], False, fv)
        if phrase is not None and phrase not in down:
            down.append(phrase)
    reasons = [*up, *down] if z >= 0 else [*down[:2], *up]
    return tuple(reasons[:limit]) if reasons else ("nothing in it calls for you",)
