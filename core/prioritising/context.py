"""What the prioritisers know about an owner: who they answer, how fast, where they are active.

``OwnerContext`` is built once from the owner's history (``from_history``) and kept current with
``observe`` as messages flow; both the heuristic and the learned prioritiser read it. It holds ids,
names, counts and times only, never message text, so it can be stored as derived state.

Reply credit: an owner's message answers another message when its ``reply_to`` names it; without a
``reply_to`` it answers the latest message of the person it starts with (IRC/Slack style
``alice: ...``) in the same conversation within 30 minutes, or, in a direct conversation, the
latest message there still waiting for the owner.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.models import Message, StoredMessage
from core.prioritising.signals import name_pattern, read_content, topic_pattern

_NAME_FALLBACK_WINDOW = timedelta(minutes=30)
_RATE_PRIOR_STRENGTH = 2.0
"""Pseudo-messages that shrink a sender's reply rate towards the owner's overall rate."""


@dataclass(slots=True)
class SenderStats:
    """How the owner deals with one sender (all counts since the history began)."""

    received: int = 0
    """Messages from this sender addressed to the owner, or answered by the owner."""
    answered: int = 0
    """Of those, how many the owner answered."""
    latency_total_s: float = 0.0
    answered_owner: int = 0
    """How many times this sender answered one of the owner's messages."""
    seen: int = 0
    """Every message from this sender the owner could see (addressed to them or not)."""

    def answered_share(self, prior_share: float) -> float:
        """The share of *all* this sender's messages the owner answered, shrunk to ``prior_share``."""
        return (self.answered + _RATE_PRIOR_STRENGTH * prior_share) / (
            self.seen + _RATE_PRIOR_STRENGTH
        )

    def reply_rate(self, prior_rate: float) -> float:
        """The share of this sender's messages the owner answered, shrunk towards ``prior_rate``."""
        return (self.answered + _RATE_PRIOR_STRENGTH * prior_rate) / (
            self.received + _RATE_PRIOR_STRENGTH
        )

    @property
    def mean_latency_s(self) -> float | None:
        """Mean seconds from this sender's message to the owner's answer, when there is one."""
        return self.latency_total_s / self.answered if self.answered else None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkingHours:
    """When the owner works, in their own time zone (``end`` may be past midnight)."""

    start: time = time(9, 0)
    end: time = time(18, 0)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Weekdays, Monday = 0."""
    timezone: str = "UTC"

    def contains(self, at: datetime) -> bool:
        """Whether ``at`` (aware) falls in working time."""
        local = at.astimezone(ZoneInfo(self.timezone))
        now = local.time()
        if self.start <= self.end:
            return local.weekday() in self.days and self.start <= now < self.end
        if now >= self.start:
            return local.weekday() in self.days
        return (local.weekday() - 1) % 7 in self.days and now < self.end


@dataclass(frozen=True, slots=True, kw_only=True)
class OnboardingAnswers:
    """The owner's answers to the onboarding questions; they seed the context and the prior.

    The questions (asked by the chat UI): *Whose messages should never wait?* (``vips``),
    *When do you work?* (``working_hours``), *What do you care about most?* (``topics``: words
    or short phrases such as ``"deploy"`` or ``"invoice"``), *Whose messages can always wait?*
    (``low_priority``: newsletters, bots, busy channels).
    """

    vips: tuple[str, ...] = ()
    working_hours: WorkingHours | None = None
    topics: tuple[str, ...] = ()
    low_priority: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered:
    """The owner answered ``message_id`` (from ``sender``) after ``latency_s`` seconds."""

    message_id: str
    sender: str
    latency_s: float
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Unanswered:
    """A message addressed to the owner that went unanswered for the whole waiting window."""

    message_id: str
    sender: str
    sent_at: datetime


@dataclass(slots=True)
class _Seen:
    sender: str
    conversation: str
    sent_at: datetime
    from_owner: bool
    addressed: bool
    answered: bool = False
    reply_to: str | None = None


def _key(name: str) -> str:
    return name.strip().lower().lstrip("@")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass(slots=True)
class _Bounded:
    """An insertion-ordered map that forgets its oldest entries past ``limit``."""

    limit: int
    items: OrderedDict[str, _Seen] = field(default_factory=OrderedDict)

    def put(self, key: str, value: _Seen) -> None:
        self.items[key] = value
        if len(self.items) > self.limit:
            self.items.popitem(last=False)


class OwnerContext:
    """An owner's names, preferences and history of answering, kept current message by message.

    Args:
        owner_names: every name the owner goes by (sender ids, display names, nicknames).
        vips: senders whose messages should never wait.
        topics: words or phrases the owner cares about.
        working_hours: when the owner works; ``None`` to learn active hours from history instead.
        low_priority: senders whose messages can always wait.
        max_recent: how many recent messages are remembered to credit replies.
    """

    def __init__(
        self,
        *,
        owner_names: Iterable[str],
        vips: Iterable[str] = (),
        topics: Iterable[str] = (),
        working_hours: WorkingHours | None = None,
        low_priority: Iterable[str] = (),
        max_recent: int = 50_000,
    ) -> None:
        self.owner_names: tuple[str, ...] = tuple(
            dict.fromkeys(_key(n) for n in owner_names if n.strip())
        )
        self.vips: frozenset[str] = frozenset(_key(v) for v in vips if v.strip())
        self.topics: tuple[str, ...] = tuple(
            dict.fromkeys(t.strip().lower() for t in topics if t.strip())
        )
        self.low_priority: frozenset[str] = frozenset(_key(v) for v in low_priority if v.strip())
        self.working_hours = working_hours
        self.senders: dict[str, SenderStats] = {}
        self.owner_hours: list[int] = [0] * 24
        """The owner's messages per hour of day (working-hours time zone, else UTC)."""
        self.owner_messages = 0
        self.seen = 0
        """Messages from others observed (the denominator of ``overall_answered_share``)."""
        self.received = 0
        self.answered = 0
        self.owner_last_at: datetime | None = None
        self.conversation_last: dict[str, datetime] = {}
        """When the owner last wrote in each conversation (and each thread, keyed ``conv#thread``)."""
        self.direct_conversations: set[str] = set()
        self.known_people: set[str] = set()
        self.last_exchange: dict[str, datetime] = {}
        """When the owner and each person last answered one another (live state, always kept)."""
        self.since_owner: dict[str, int] = {}
        """Messages from others in each conversation since the owner last wrote there (live)."""
        self.waiting: dict[str, datetime] = {}
        """Senders with a message addressed to the owner still unanswered, and since when (live)."""
        self._recent = _Bounded(max_recent)
        self._pending: OrderedDict[str, _Seen] = OrderedDict()
        self._last_by_sender: dict[tuple[str, str], str] = {}
        self._names_re = name_pattern(self.owner_names)
        self._topics_re = topic_pattern(self.topics)

    # -- building --------------------------------------------------------------------------

    @classmethod
    def from_history(
        cls,
        messages: Iterable[StoredMessage],
        owner_names: Iterable[str],
        *,
        vips: Iterable[str] = (),
        topics: Iterable[str] = (),
        working_hours: WorkingHours | None = None,
        onboarding: OnboardingAnswers | None = None,
    ) -> OwnerContext:
        """Replay the owner's history (in ``sent_at`` order) into a fresh context.

        ``onboarding`` answers, when given, add to ``vips``/``topics`` and set working hours.
        """
        ctx = cls(owner_names=owner_names, vips=vips, topics=topics, working_hours=working_hours)
        if onboarding is not None:
            ctx.apply_onboarding(onboarding)
        for stored in messages:
            ctx.observe(stored.message, from_owner=stored.from_owner)
        return ctx

    def apply_onboarding(self, answers: OnboardingAnswers) -> None:
        """Add the owner's onboarding answers (VIPs, topics, low-priority senders, hours)."""
        self.vips = self.vips | {_key(v) for v in answers.vips if v.strip()}
        self.low_priority = self.low_priority | {_key(v) for v in answers.low_priority if v.strip()}
        self.topics = tuple(
            dict.fromkeys((*self.topics, *(t.strip().lower() for t in answers.topics if t.strip())))
        )
        self._topics_re = topic_pattern(self.topics)
        if answers.working_hours is not None:
            self.working_hours = answers.working_hours

    # -- queries ---------------------------------------------------------------------------

    def is_owner(self, name: str) -> bool:
        """Whether ``name`` is one of the owner's names."""
        return _key(name) in self.owner_names

    def is_vip(self, *names: str) -> bool:
        """Whether any of ``names`` (sender id, display name) is on the VIP list."""
        return any(_key(n) in self.vips for n in names if n)

    def is_low_priority(self, *names: str) -> bool:
        """Whether any of ``names`` is on the owner's "can always wait" list."""
        return any(_key(n) in self.low_priority for n in names if n)

    def mentions_owner(self, text: str) -> bool:
        """Whether ``text`` names the owner by any of their names."""
        return self._names_re is not None and self._names_re.search(text) is not None

    def topic_in(self, text: str) -> str | None:
        """The first topic of interest that ``text`` mentions, if any."""
        if self._topics_re is None:
            return None
        found = self._topics_re.search(text)
        if found is None:
            return None
        word = found.group(0).lower()
        return next((t for t in self.topics if word.startswith(t)), word)

    @property
    def overall_reply_rate(self) -> float:
        """The share of messages addressed to the owner that they answered (0.5 with no history)."""
        return (self.answered + 1.0) / (self.received + 2.0)

    @property
    def overall_answered_share(self) -> float:
        """The share of all messages from others that the owner answered (smoothed)."""
        return (self.answered + 0.1) / (self.seen + 1.0)

    def owner_in_chain(self, message_id: str | None, *, hops: int = 3) -> bool:
        """Whether the owner wrote one of the ``hops`` messages up the reply chain from here."""
        for _ in range(hops):
            seen = self._recent.items.get(message_id) if message_id is not None else None
            if seen is None:
                return False
            if seen.from_owner:
                return True
            message_id = seen.reply_to
        return False

    def sender(self, name: str) -> SenderStats | None:
        """The owner's history with ``name``, if any."""
        return self.senders.get(_key(name))

    def is_owner_message(self, message_id: str | None) -> bool:
        """Whether ``message_id`` is a (recent) message written by the owner."""
        if message_id is None:
            return False
        seen = self._recent.items.get(message_id)
        return seen is not None and seen.from_owner

    def sender_of(self, message_id: str | None) -> str | None:
        """Who wrote a recent message (the owner's first name for the owner's), if known."""
        if message_id is None:
            return None
        seen = self._recent.items.get(message_id)
        return None if seen is None else seen.sender

    def owner_last_in(self, conversation: str, thread: str | None) -> datetime | None:
        """When the owner last wrote in this thread (or conversation, without a thread)."""
        if thread is not None:
            at = self.conversation_last.get(f"{conversation}#{thread}")
            if at is not None:
                return at
        return self.conversation_last.get(conversation)

    def active_share(self, at: datetime) -> float:
        """How typical this hour is for the owner: the hour's share of their busiest hour (0-1)."""
        peak = max(self.owner_hours)
        if peak == 0:
            return 0.5
        hour = self._local(at).hour
        around = (
            self.owner_hours[hour] * 2
            + self.owner_hours[(hour - 1) % 24]
            + self.owner_hours[(hour + 1) % 24]
        )
        return min(1.0, around / (4.0 * peak))

    def in_working_hours(self, at: datetime) -> float:
        """1/0 from the owner's stated working hours, else their learned active-hours share."""
        if self.working_hours is not None:
            return 1.0 if self.working_hours.contains(at) else 0.0
        return self.active_share(at)

    def addressed_to_someone_else(self, leading_name: str | None) -> bool:
        """Whether a message starting with ``leading_name`` is addressed to another known person."""
        return (
            leading_name is not None
            and leading_name not in self.owner_names
            and leading_name in self.known_people
        )

    # -- learning --------------------------------------------------------------------------

    def observe(
        self,
        message: Message,
        *,
        from_owner: bool | None = None,
        is_direct: bool = False,
        mentions_owner: bool = False,
        learn: bool = True,
    ) -> Answered | None:
        """Take one message (in time order) into account; returns the answer it makes, if any.

        Args:
            message: the message.
            from_owner: whether the owner wrote it; by default, whether its sender is one of
                the owner's names.
            is_direct: a direct message (its conversation then counts as direct).
            mentions_owner: the platform says the owner is mentioned (in addition to names).
            learn: update the owner's answering statistics; ``False`` keeps only the live state
                (who wrote where and when), as when statistics are frozen for an evaluation.
        """
        sender = _key(message.sender)
        at = _aware(message.sent_at)
        owner = self.is_owner(sender) if from_owner is None else from_owner
        if is_direct:
            self.direct_conversations.add(message.conversation)
        if owner:
            return self._observe_owner(message, at, learn=learn)
        self.known_people.add(sender)
        self.seen += 1
        if message.conversation in self.since_owner:
            self.since_owner[message.conversation] += 1
        replying_to = self._recent.items.get(message.reply_to) if message.reply_to else None
        answers_owner = replying_to is not None and replying_to.from_owner
        addressed = (
            is_direct
            or message.conversation in self.direct_conversations
            or mentions_owner
            or answers_owner
            or self.mentions_owner(message.text)
        )
        seen = _Seen(sender, message.conversation, at, False, addressed, reply_to=message.reply_to)
        self._recent.put(message.id, seen)
        self._last_by_sender[(message.conversation, sender)] = message.id
        if len(self._last_by_sender) > self._recent.limit:
            self._last_by_sender.clear()
        if learn:
            self.senders.setdefault(sender, SenderStats()).seen += 1
        if answers_owner:
            self.last_exchange[sender] = at
            if learn:
                self.senders.setdefault(sender, SenderStats()).answered_owner += 1
        if addressed:
            self.waiting.setdefault(sender, at)
            if learn:
                self.senders.setdefault(sender, SenderStats()).received += 1
                self.received += 1
            self._pending[message.id] = seen
            if len(self._pending) > self._recent.limit:
                self._pending.popitem(last=False)
        return None

    def _observe_owner(self, message: Message, at: datetime, *, learn: bool) -> Answered | None:
        self.owner_messages += 1
        self.owner_hours[self._local(at).hour] += 1
        self.owner_last_at = at
        self.conversation_last[message.conversation] = at
        self.since_owner[message.conversation] = 0
        if message.thread is not None:
            self.conversation_last[f"{message.conversation}#{message.thread}"] = at
        self._recent.put(
            message.id,
            _Seen(
                self.owner_names[0] if self.owner_names else "",
                message.conversation,
                at,
                True,
                False,
                reply_to=message.reply_to,
            ),
        )
        target_id = self._answered_id(message, at)
        if target_id is None:
            return None
        target = self._recent.items[target_id]
        target.answered = True
        self._pending.pop(target_id, None)
        latency = max(0.0, (at - target.sent_at).total_seconds())
        self.last_exchange[target.sender] = at
        self.waiting.pop(target.sender, None)
        if learn:
            stats = self.senders.setdefault(target.sender, SenderStats())
            if not target.addressed:
                # Answered without being addressed: it was for the owner after all.
                stats.received += 1
                self.received += 1
            stats.answered += 1
            stats.latency_total_s += latency
            self.answered += 1
        return Answered(message_id=target_id, sender=target.sender, latency_s=latency, at=at)

    def _answered_id(self, message: Message, at: datetime) -> str | None:
        if message.reply_to is not None:
            target = self._recent.items.get(message.reply_to)
            if target is not None and not target.from_owner and not target.answered:
                return message.reply_to
            return None
        leading = read_content(message.text).leading_name
        if leading is not None and leading in self.known_people:
            candidate = self._last_by_sender.get((message.conversation, leading))
            seen = self._recent.items.get(candidate) if candidate else None
            if (
                seen is not None
                and not seen.answered
                and at - seen.sent_at <= _NAME_FALLBACK_WINDOW
            ):
                return candidate
            return None
        if message.conversation in self.direct_conversations:
            for pending_id in reversed(self._pending):
                if self._pending[pending_id].conversation == message.conversation:
                    return pending_id
        return None

    def expire(self, now: datetime, *, after: timedelta) -> list[Unanswered]:
        """Messages addressed to the owner still unanswered ``after`` their arrival (once each)."""
        expired: list[Unanswered] = []
        cutoff = _aware(now) - after
        while self._pending:
            message_id, seen = next(iter(self._pending.items()))
            if seen.sent_at > cutoff:
                break
            self._pending.popitem(last=False)
            if self.waiting.get(seen.sender) == seen.sent_at:
                del self.waiting[seen.sender]
            expired.append(
                Unanswered(message_id=message_id, sender=seen.sender, sent_at=seen.sent_at)
            )
        return expired

    def _local(self, at: datetime) -> datetime:
        if self.working_hours is not None:
            return _aware(at).astimezone(ZoneInfo(self.working_hours.timezone))
        return _aware(at).astimezone(UTC)

    # -- persistence -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """JSON of the context (names, lists, counts, times and recent ids; never message text)."""
        hours = self.working_hours
        data: dict[str, object] = {
            "version": 2,
            "owner_names": list(self.owner_names),
            "vips": sorted(self.vips),
            "topics": list(self.topics),
            "low_priority": sorted(self.low_priority),
            "working_hours": None
            if hours is None
            else {
                "start": hours.start.isoformat(),
                "end": hours.end.isoformat(),
                "days": list(hours.days),
                "timezone": hours.timezone,
            },
            "max_recent": self._recent.limit,
            "senders": {
                name: [s.received, s.answered, s.latency_total_s, s.answered_owner, s.seen]
                for name, s in self.senders.items()
            },
            "owner_hours": self.owner_hours,
            "owner_messages": self.owner_messages,
            "seen": self.seen,
            "received": self.received,
            "answered": self.answered,
            "owner_last_at": _iso(self.owner_last_at),
            "conversation_last": {k: v.isoformat() for k, v in self.conversation_last.items()},
            "direct_conversations": sorted(self.direct_conversations),
            "known_people": sorted(self.known_people),
            "last_exchange": {k: v.isoformat() for k, v in self.last_exchange.items()},
            "since_owner": self.since_owner,
            "waiting": {k: v.isoformat() for k, v in self.waiting.items()},
            "recent": [
                [
                    k,
                    s.sender,
                    s.conversation,
                    s.sent_at.isoformat(),
                    s.from_owner,
                    s.addressed,
                    s.answered,
                    s.reply_to,
                ]
                for k, s in self._recent.items.items()
            ],
            "pending": list(self._pending),
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> OwnerContext:
        """Restore a context written by ``to_bytes``."""
        data = json.loads(raw)
        if data.get("version") != 2:
            raise ValueError("unknown owner-context format")
        wh = data["working_hours"]
        ctx = cls(
            owner_names=data["owner_names"],
            vips=data["vips"],
            topics=data["topics"],
            low_priority=data["low_priority"],
            working_hours=None
            if wh is None
            else WorkingHours(
                start=time.fromisoformat(wh["start"]),
                end=time.fromisoformat(wh["end"]),
                days=tuple(wh["days"]),
                timezone=wh["timezone"],
            ),
            max_recent=int(data["max_recent"]),
        )
        for name, (received, answered, latency, answered_owner, *seen) in data["senders"].items():
            ctx.senders[name] = SenderStats(
                received=received,
                answered=answered,
                latency_total_s=latency,
                answered_owner=answered_owner,
                seen=seen[0] if seen else 0,
            )
        ctx.last_exchange = {k: datetime.fromisoformat(v) for k, v in data["last_exchange"].items()}
        ctx.owner_hours = [int(h) for h in data["owner_hours"]]
        ctx.owner_messages = int(data["owner_messages"])
        ctx.seen = int(data.get("seen", 0))
        ctx.since_owner = {k: int(v) for k, v in data.get("since_owner", {}).items()}
        ctx.waiting = {k: datetime.fromisoformat(v) for k, v in data.get("waiting", {}).items()}
        ctx.received = int(data["received"])
        ctx.answered = int(data["answered"])
        ctx.owner_last_at = _parse(data["owner_last_at"])
        ctx.conversation_last = {
            k: datetime.fromisoformat(v) for k, v in data["conversation_last"].items()
        }
        ctx.direct_conversations = set(data["direct_conversations"])
        ctx.known_people = set(data["known_people"])
        for key, sender, conversation, sent_at, from_owner, addressed, answered, *up in data[
            "recent"
        ]:
            seen = _Seen(
                sender,
                conversation,
                datetime.fromisoformat(sent_at),
                from_owner,
                addressed,
                answered,
                reply_to=up[0] if up else None,
            )
            ctx._recent.put(key, seen)
            if not from_owner:
                ctx._last_by_sender[(conversation, sender)] = key
        for key in data["pending"]:
            if key in ctx._recent.items:
                ctx._pending[key] = ctx._recent.items[key]
        return ctx


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _parse(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw is not None else None
