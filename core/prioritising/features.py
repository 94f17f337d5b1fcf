"""The feature vector both prioritisers score, and the plain words that explain it.

Every feature is scaled to roughly [-1, 1] with 0 meaning "nothing special", so a linear model's
contribution ``weight * value`` is directly the push that feature gives a message; the reasons
shown to the owner are the largest such pushes.

Groups: *sender* (VIP, the owner's reply rate/speed/familiarity with them, reciprocity, recent
exchange, low-priority list), *content* (question, request, deadline, mention, length, link, code,
chatter, topic of interest), *context* (direct message, answers the owner, thread the owner is
in, owner active now, addressed to someone else, how many addressed, working hours) and
*semantic* (closeness to what the owner answers vs ignores; 0 without an embedder).
"""

from __future__ import annotations

import math
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
    "deadline",
    "mention",
    "mention_start",
    "topic",
    "link",
    "code",
    "length",
    "chatter",
    # context
    "dm",
    "reply_to_owner",
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
    overall = ctx.overall_reply_rate
    rate = stats.reply_rate(overall) if stats is not None else overall
    name = msg.sender_name or message.sender

    mention = msg.mentions_owner or ctx.mentions_owner(text)
    mention_start = signals.leading_name is not None and ctx.is_owner(signals.leading_name)
    reply_to_owner = ctx.is_owner_message(message.reply_to)
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
        v[6] = _decay(stats.last_exchange, at, _EXCHANGE_HALF_LIFE_S)
    v[7] = 1.0 if ctx.is_low_priority(message.sender, msg.sender_name) else 0.0
    v[8] = 1.0 if signals.question else 0.0
    v[9] = 1.0 if signals.question and addressed else 0.0
    v[10] = 1.0 if signals.request else 0.0
    v[11] = 1.0 if signals.deadline is not None else 0.0
    v[12] = 1.0 if mention else 0.0
    v[13] = 1.0 if mention_start else 0.0
    v[14] = 1.0 if topic is not None else 0.0
    v[15] = 1.0 if signals.link else 0.0
    v[16] = 1.0 if signals.code else 0.0
    v[17] = min(1.0, math.log1p(signals.length) / math.log1p(400.0))
    v[18] = 1.0 if signals.chatter else 0.0
    v[19] = 1.0 if direct else 0.0
    v[20] = 1.0 if reply_to_owner else 0.0
    v[21] = in_thread
    v[22] = _decay(ctx.owner_last_at, at, _ACTIVE_HALF_LIFE_S)
    v[23] = 1.0 if addressed_other else 0.0
    v[24] = min(1.0, max(0, msg.addressees - 1) / 4.0)
    v[25] = ctx.in_working_hours(at) - 0.5
    v[26] = semantic
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
        case "addressed_other":
            return "addressed to someone else"
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
    """The 1-3 plain-word reasons behind a score: the largest pushes, upward first.

    Upward pushes of at least 0.25 (in log-odds) are listed largest first; when none is that
    large, the largest downward push explains why the message can wait.
    """
    contributions = weights * fv.values
    contributions[0] = 0.0
    phrases: list[str] = []
    for i in np.argsort(-contributions):
        if contributions[i] < 0.25:
            break
        phrase = _phrase(FEATURE_NAMES[i], True, fv)
        if phrase is not None and phrase not in phrases:
            phrases.append(phrase)
    if _DIRECT_QUESTION in phrases and _QUESTION in phrases:
        phrases.remove(_QUESTION)
    if phrases:
        return tuple(phrases[:limit])
    for i in np.argsort(contributions):
        if contributions[i] > -0.1:
            break
        phrase = _phrase(FEATURE_NAMES[i], False, fv)
        if phrase is not None:
            return (phrase,)
    return ("nothing in it calls for you",)
