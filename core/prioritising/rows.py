"""The rows a priority evaluation scores: every message an owner received, with its features.

**What "received" means in a channel.** A direct conversation delivers everything to the owner;
a channel does not record who was reading. A message from someone else counts as received by the
owner when

* it names the owner (an IRC highlight or an @-mention reaches them even when away), or
* the owner was present: they wrote in the same conversation within ``presence`` (30 minutes)
  before or after it.

Neither condition looks at whether the owner answered that message, so the set is not built
from the answers (the earlier protocol's flaw: a message that did not name the owner was in the
set *because* it was answered). Writing is the only trace of presence a log keeps; 30 minutes is
wider than 99.9 % of reply latencies in the IRC corpus, so the set holds nearly every answered
message (``OwnerRows.coverage`` says how many) and every unanswered message the owner could have
seen while they were around. Bots (``exclude``) are left out as senders: an owner lists them as
"can always wait" in onboarding.

**Label**: the owner replied to it (one of their messages has ``reply_to`` equal to its id).

**Features at arrival**: the stream is replayed in time order through a fresh ``OwnerContext``
(answer statistics included: only replies made before a message count for it), and each
received message is featurised from what was known just before it arrived: the shared
``FEATURE_NAMES`` vector, and the baseline's ``SIMPLE_FEATURES`` (the sender's past reply rate,
the position in the reply chain, question marks, length).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta

import numpy as np
import numpy.typing as npt

from core.models import Message, UserRef
from core.prioritising.context import OnboardingAnswers, OwnerContext
from core.prioritising.features import FEATURE_NAMES, extract
from core.prioritising.learned import to_incoming
from core.prioritising.signals import name_pattern, read_content

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SIMPLE_FEATURES: tuple[str, ...] = (
    "sender_reply_rate",
    "chain_depth",
    "starts_chain",
    "question_marks",
    "length",
)
"""The baseline's features: the owner's past reply rate to the sender (smoothed), the position
in the reply chain (log depth, and whether it starts one), question marks, and log length."""
_RATE_PRIOR = 2.0
_INBOX_WINDOW_S = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerRows:
    """One owner's received messages in time order, with both feature sets and the label."""

    owner: str
    ids: tuple[str, ...]
    at: FloatArray
    """Arrival times (POSIX seconds)."""
    lists: tuple[str, ...]
    """The inbox each row belongs to: its conversation and hour ("what waits when I look")."""
    x: FloatArray
    """``FEATURE_NAMES`` per row."""
    simple: FloatArray
    """``SIMPLE_FEATURES`` per row."""
    y: BoolArray
    named: BoolArray
    """The message names the owner."""
    coverage: float
    """Share of the owner's replies (to others) whose target is among the rows."""

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: slice | npt.NDArray[np.intp]) -> OwnerRows:
        """A subset of the rows (a chronological slice, or an index array)."""
        idx = np.arange(len(self.ids))[rows]
        return OwnerRows(
            owner=self.owner,
            ids=tuple(self.ids[i] for i in idx),
            at=self.at[idx],
            lists=tuple(self.lists[i] for i in idx),
            x=self.x[idx],
            simple=self.simple[idx],
            y=self.y[idx],
            named=self.named[idx],
            coverage=self.coverage,
        )


def _key(name: str) -> str:
    return name.strip().lower()


def received(
    messages: Sequence[Message],
    owner: str,
    *,
    presence: timedelta = timedelta(minutes=30),
    exclude: Sequence[str] = (),
) -> set[str]:
    """Ids of the messages ``owner`` received: naming them, or while they were present."""
    key = _key(owner)
    skip = {_key(e) for e in exclude} | {key}
    pattern = name_pattern([owner])
    spoke: dict[str, list[float]] = defaultdict(list)
    for m in messages:
        if _key(m.sender) == key:
            spoke[m.conversation].append(m.sent_at.timestamp())
    for times in spoke.values():
        times.sort()
    window = presence.total_seconds()
    out: set[str] = set()
    for m in messages:
        if _key(m.sender) in skip:
            continue
        near = spoke.get(m.conversation, [])
        t = m.sent_at.timestamp()
        i = bisect.bisect_left(near, t - window)
        present = i < len(near) and near[i] <= t + window
        if present or (pattern is not None and pattern.search(m.text) is not None):
            out.add(m.id)
    return out


def owner_stream(messages: Sequence[Message], owner: str) -> list[Message]:
    """The conversations the owner wrote in or was named in, in time order (file order on ties)."""
    key = _key(owner)
    pattern = name_pattern([owner])
    convs = {
        m.conversation
        for m in messages
        if _key(m.sender) == key or (pattern is not None and pattern.search(m.text))
    }
    mine = [(m.sent_at, i, m) for i, m in enumerate(messages) if m.conversation in convs]
    mine.sort(key=lambda t: (t[0], t[1]))
    return [m for _, _, m in mine]


def owner_rows(
    messages: Sequence[Message],
    owner: str,
    *,
    presence: timedelta = timedelta(minutes=30),
    exclude: Sequence[str] = (),
    onboarding: OnboardingAnswers | None = None,
) -> OwnerRows:
    """Replay the stream for ``owner`` and featurise every message they received.

    Args:
        messages: the whole stream (any order within a conversation is kept; sorted by time).
        owner: the sender who plays the owner.
        presence: how close to one of the owner's messages a message must be to count as seen.
        exclude: senders left out (bots).
        onboarding: the owner's stated VIPs, topics, low-priority senders, hours (if any).
    """
    key = _key(owner)
    stream = owner_stream(messages, owner)
    inbox = received(stream, owner, presence=presence, exclude=exclude)
    by_id = {m.id: m for m in stream}
    answered = {
        m.reply_to
        for m in stream
        if _key(m.sender) == key
        and m.reply_to is not None
        and m.reply_to in by_id
        and _key(by_id[m.reply_to].sender) != key
    }
    ctx = OwnerContext(owner_names=[owner])
    if onboarding is not None:
        ctx.apply_onboarding(onboarding)
    user = UserRef(platform="eval", user_id=owner)
    pattern = name_pattern([owner])
    depth: dict[str, int] = {}
    rate_seen: dict[str, int] = defaultdict(int)
    rate_answered: dict[str, int] = defaultdict(int)
    ids: list[str] = []
    at: list[float] = []
    lists: list[str] = []
    xs: list[FloatArray] = []
    simple: list[list[float]] = []
    named: list[bool] = []
    for m in stream:
        parent = m.reply_to if m.reply_to in by_id else None
        depth[m.id] = depth.get(parent, 0) + 1 if parent is not None else 0
        sender = _key(m.sender)
        from_owner = sender == key
        if from_owner and parent is not None and _key(by_id[parent].sender) != key:
            rate_answered[_key(by_id[parent].sender)] += 1
        if m.id in inbox:
            t = m.sent_at.astimezone(UTC).timestamp()
            total_seen = sum(rate_seen.values())
            overall = (sum(rate_answered.values()) + 0.1) / (total_seen + 1.0)
            rate = (rate_answered[sender] + _RATE_PRIOR * overall) / (
                rate_seen[sender] + _RATE_PRIOR
            )
            signals = read_content(m.text)
            ids.append(m.id)
            at.append(t)
            lists.append(f"{m.conversation}@{int(t // _INBOX_WINDOW_S)}")
            xs.append(extract(to_incoming(m, user), ctx).values)
            simple.append(
                [
                    rate,
                    math.log1p(min(depth[m.id], 10)),
                    1.0 if parent is None else 0.0,
                    float(min(signals.question_marks, 3)),
                    math.log1p(signals.length),
                ]
            )
            named.append(pattern is not None and pattern.search(m.text) is not None)
            rate_seen[sender] += 1
        ctx.observe(m, from_owner=from_owner)
    y = np.array([i in answered for i in ids], dtype=bool)
    replies = len(answered)
    return OwnerRows(
        owner=owner,
        ids=tuple(ids),
        at=np.array(at, dtype=np.float64),
        lists=tuple(lists),
        x=np.stack(xs) if xs else np.zeros((0, len(FEATURE_NAMES))),
        simple=np.array(simple, dtype=np.float64).reshape(-1, len(SIMPLE_FEATURES)),
        y=y,
        named=np.array(named, dtype=bool),
        coverage=float(y.sum()) / replies if replies else math.nan,
    )
