"""What the owner values and how they decide, as statements with counts and real quotes (pure).

Read from the owner's own history (their messages and what they answered):

* **engagement by person and by topic**: whom and what they answer, and what they let wait,
  compared with how much they answer overall;
* **decisions by kind of request**: accept / decline / defer when asked to meet, review, do a
  task, join something social — with how fast, and the conditions they attach ("by tuesday",
  "if…", "tomorrow?");
* **differences by contact**: people the owner says yes to more (or less) than to others.

Every :class:`Statement` carries its counts ("9 of 10") and one or two real :class:`Quote` s
(message ids included), never an adjective without evidence; a statement with no quote is not
made. The owner may correct a statement (:class:`Correction`): it is kept, shown in place of the
statement, and moves triage (:func:`adjust`) and drafting (:func:`commits_to`).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from core.drafting.acts import rule_act
from core.drafting.fit import STOPWORDS
from core.models import Message, Priority, StoredMessage
from core.profiling.intents import classify_intent
from core.profiling.profile import format_duration

T = TypeVar("T")
MIN_SUPPORT = 4
"""Messages behind a statement, at least."""
GAP = 0.2
"""How far a person's or topic's answer rate must be from the owner's overall rate."""
MAX_TOPICS = 3
MAX_PEOPLE = 3
INFER_WITHIN = timedelta(hours=6)
"""An owner message without ``reply_to`` answers the message just before it in the same
conversation and thread when it came this soon after it."""
NUDGE = 0.25
"""How far a correction moves a triage score."""
CORRECTIONS_STATE = "corrections"
MAX_CORRECTION = 300
_FORMAT = "minime.corrections/1"

_WORD = re.compile(r"[a-z][a-z'\-]{3,}")
_EXTRA_STOP = frozenset(
    [
        "this",
        "that",
        "with",
        "from",
        "have",
        "what",
        "when",
        "where",
        "will",
        "would",
        "could",
        "should",
        "there",
        "their",
        "about",
        "your",
        "just",
        "like",
        "been",
        "were",
        "they",
        "them",
        "then",
        "than",
        "also",
        "into",
        "only",
        "some",
        "more",
        "much",
        "very",
        "really",
        "here",
        "anyone",
        "someone",
        "everyone",
        "anybody",
        "somebody",
        "something",
        "anything",
        "everything",
        "nothing",
        "okay",
        "sure",
        "thanks",
        "thank",
        "please",
        "yeah",
        "yes",
        "need",
        "want",
        "know",
        "think",
        "make",
        "made",
        "does",
        "done",
        "going",
        "today",
        "tomorrow",
        "still",
        "back",
        "time",
        "good",
        "great",
        "right",
        "well",
        "sounds",
        "works",
        "look",
        "looks",
        "send",
        "sent",
        "can't",
        "don't",
        "it's",
        "i'm",
        "i'll",
        "let's",
        "that's",
        "what's",
        "we're",
        "you're",
        "hey",
        "hello",
        "morning",
    ]
)
REQUEST_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "social plans",
        re.compile(
            r"\b(?:coffee|lunch|dinner|drinks?|beers?|party|movie|hang ?out|games?)\b", re.I
        ),
    ),
    (
        "meetings and calls",
        re.compile(r"\b(?:meet(?:ing)?|calls?|sync|1:1|catch ?up|standup|chat|zoom|demo)\b", re.I),
    ),
    (
        "reviews",
        re.compile(
            r"\b(?:review|look at|take a look|feedback|proofread|prs?|pull request)\b", re.I
        ),
    ),
    (
        "tasks",
        re.compile(
            r"\b(?:update|deploy|send|fix|write|prepare|finish|ship|merge|deliver|draft|run|"
            r"test|build|share|book|order|file|cover|handle)\b",
            re.I,
        ),
    ),
)
_CONDITION = re.compile(
    r"\b(?:if|as long as|provided|unless|once|after|as soon as|only if)\b|"
    r"\bby (?:mon|tue|wed|thu|fri|sat|sun|tomorrow|tonight|eod|eow|end of|next|the|\d)|"
    r"\b(?:tomorrow|later|next week|monday|tuesday|wednesday|thursday|friday)\s*\?",
    re.I,
)
_ADDRESSEE = re.compile(r"^\s*@?([\w.\-\[\]^`|{}]+)\s*[:,]\s")
_ASKING = frozenset({"request", "invitation", "yes_no_question"})
_UP = re.compile(r"\b(?:important|matters?|always|care|priority|fast|quickly|asap|answer|urgent)\b")
_DOWN = re.compile(
    r"\b(?:ignore|not important|doesn'?t matter|don'?t care|can wait|wait|never|avoid|mute|later)\b"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """A real message behind a statement (and what it answered, for a reply)."""

    message_id: str
    sender: str
    text: str
    at: datetime
    answering: str | None = None
    """The text it answered (for the owner's replies)."""

    def show(self, width: int = 110) -> str:
        said = f"“{_clip(self.text, width)}” ({self.sender}, {self.at:%Y-%m-%d})"
        if self.answering is not None:
            return f"to “{_clip(self.answering, 60)}”: {said}"
        return said

    def to_json(self) -> dict[str, object]:
        return {
            "message_id": self.message_id,
            "sender": self.sender,
            "text": self.text,
            "at": self.at.isoformat(),
            "answering": self.answering,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One thing the owner's history shows, with how much of it shows it."""

    key: str
    """Stable across runs: ``sender:kenji:+``, ``topic:invoice:-``, ``request:reviews``."""
    text: str
    support: int
    total: int
    quotes: tuple[Quote, ...]
    subject_kind: str
    """``sender``, ``topic``, ``request``, ``condition``, ``contact`` or ``style``."""
    subject: str
    direction: int = 0
    """+1: the owner engages with the subject; -1: lets it wait; 0: neither (how they decide)."""
    lean: str | None = None
    """For decisions: the intent the owner leans to (accept / decline / defer)."""
    correction: Correction | None = None

    def shown(self) -> str:
        """The statement as the owner reads it, their correction in its place when there is one."""
        if self.correction is None:
            return self.text
        if self.correction.wrong:
            return f"(you said this is wrong) {self.text}"
        return f"{self.correction.text} (your correction of: {self.text})"

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "text": self.text,
            "support": self.support,
            "total": self.total,
            "subject": [self.subject_kind, self.subject],
            "direction": self.direction,
            "lean": self.lean,
            "quotes": [q.to_json() for q in self.quotes],
            "correction": None if self.correction is None else self.correction.to_json(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Correction:
    """The owner's word on a statement: ``wrong``, or their own text."""

    key: str
    statement: str
    subject_kind: str
    subject: str
    direction: int
    lean: str | None
    wrong: bool
    text: str | None
    at: datetime

    @property
    def effect(self) -> int:
        """How the correction moves triage for its subject: +1 up, -1 down, 0 not at all."""
        if self.wrong:
            return -self.direction
        said = (self.text or "").lower()
        down, up = bool(_DOWN.search(said)), bool(_UP.search(said))
        if down == up:
            return 0
        return -1 if down else 1

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "statement": self.statement,
            "subject": [self.subject_kind, self.subject],
            "direction": self.direction,
            "lean": self.lean,
            "wrong": self.wrong,
            "text": self.text,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Correction:
        subject = data["subject"]
        assert isinstance(subject, list)
        direction = data.get("direction", 0)
        lean = data.get("lean")
        text = data.get("text")
        return cls(
            key=str(data["key"]),
            statement=str(data["statement"]),
            subject_kind=str(subject[0]),
            subject=str(subject[1]),
            direction=int(direction) if isinstance(direction, int) else 0,
            lean=None if lean is None else str(lean),
            wrong=bool(data.get("wrong")),
            text=None if text is None else str(text),
            at=datetime.fromisoformat(str(data["at"])),
        )


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


@dataclass(slots=True)
class _Reading:
    """The history read once: what came in, what the owner answered and with what."""

    incoming: list[Message] = field(default_factory=list)
    replies: dict[str, Message] = field(default_factory=dict)
    """Incoming message id → the owner's reply to it."""
    names: set[str] = field(default_factory=set)


def read(history: Sequence[StoredMessage]) -> _Reading:
    """Incoming messages and the owner's replies to them (``reply_to``, else inferred)."""
    reading = _Reading()
    by_id = {m.message.id: m for m in history}
    last: dict[tuple[str, str | None], Message] = {}
    latest: dict[tuple[str, str], Message] = {}
    for stored in sorted(history, key=lambda m: (m.message.sent_at, m.message.id)):
        message = stored.message
        where = (message.conversation, message.thread)
        if not stored.from_owner:
            reading.incoming.append(message)
            reading.names.add(message.sender.lower())
            last[where] = message
            latest[(message.conversation, message.sender.lower())] = message
            continue
        reading.names.add(message.sender.lower())
        parent_id = message.reply_to
        parent = by_id.get(parent_id) if parent_id else None
        if parent is not None and not parent.from_owner:
            reading.replies.setdefault(parent.message.id, message)
        elif parent_id is None:
            before = last.get(where)
            addressed = _ADDRESSEE.match(message.text)
            if addressed is not None:  # "kenji: try this" answers kenji, not whoever spoke last
                before = latest.get((message.conversation, addressed.group(1).lower()))
            if (
                before is not None
                and before.id not in reading.replies
                and timedelta(0) <= message.sent_at - before.sent_at <= INFER_WITHIN
            ):
                reading.replies[before.id] = message
        last.pop(where, None)
    return reading


def _reply_quote(parent: Message, reply: Message) -> Quote:
    return Quote(
        message_id=reply.id,
        sender=reply.sender,
        text=reply.text,
        at=reply.sent_at,
        answering=parent.text,
    )


def _waiting_quote(message: Message) -> Quote:
    return Quote(
        message_id=message.id, sender=message.sender, text=message.text, at=message.sent_at
    )


def _spread(messages: Sequence[T], k: int = 2) -> list[T]:
    """``k`` items from across ``messages`` (the latest and one from the middle)."""
    if len(messages) <= k:
        return list(messages)
    picked = [messages[-1], messages[len(messages) // 2]]
    return picked[:k]


def _latency(reading: _Reading, messages: Iterable[Message]) -> float | None:
    waits = [
        (reading.replies[m.id].sent_at - m.sent_at).total_seconds()
        for m in messages
        if m.id in reading.replies
    ]
    waits = [w for w in waits if w >= 0]
    return statistics.median(waits) if waits else None


def _engagement(
    reading: _Reading, kind: str, groups: Mapping[str, list[Message]], overall: float, limit: int
) -> list[Statement]:
    scored = []
    for subject, messages in groups.items():
        if len(messages) < MIN_SUPPORT:
            continue
        answered = [m for m in messages if m.id in reading.replies]
        rate = len(answered) / len(messages)
        if abs(rate - overall) >= GAP:
            weight = abs(rate - overall) * len(messages) ** 0.5  # a wide gap on much evidence
            scored.append((weight, subject, messages, answered, rate))
    out: list[Statement] = []
    ups = [s for s in sorted(scored, key=lambda s: -s[0]) if s[4] > overall][:limit]
    downs = [s for s in sorted(scored, key=lambda s: -s[0]) if s[4] < overall][:limit]
    for _, subject, messages, answered, _rate in ups:
        if not answered:
            continue
        what = f"{subject}'s messages" if kind == "sender" else f"messages about “{subject}”"
        wait = _latency(reading, answered)
        speed = f", typically within {format_duration(wait)}" if wait is not None else ""
        out.append(
            Statement(
                key=f"{kind}:{subject}:+",
                text=f"You answer {what}: {len(answered)} of {len(messages)}{speed} "
                f"(you answer {_pct(overall)} overall).",
                support=len(answered),
                total=len(messages),
                quotes=tuple(_reply_quote(m, reading.replies[m.id]) for m in _spread(answered)),
                subject_kind=kind,
                subject=subject,
                direction=1,
            )
        )
    for _, subject, messages, _answered, _rate in downs:
        left = [m for m in messages if m.id not in reading.replies]
        what = f"{subject}'s messages" if kind == "sender" else f"messages about “{subject}”"
        out.append(
            Statement(
                key=f"{kind}:{subject}:-",
                text=f"You let {what} wait: {len(left)} of {len(messages)} unanswered "
                f"(you answer {_pct(overall)} overall).",
                support=len(left),
                total=len(messages),
                quotes=tuple(_waiting_quote(m) for m in _spread(left)),
                subject_kind=kind,
                subject=subject,
                direction=-1,
            )
        )
    return out


def _keywords(text: str, names: set[str]) -> set[str]:
    return {
        w.strip("'-")
        for w in _WORD.findall(text.lower())
        if w not in STOPWORDS and w not in _EXTRA_STOP and w.strip("'-") not in names
    }


def request_kind(text: str) -> str:
    """What a request asks for: social plans, meetings and calls, reviews, tasks, or other."""
    for name, pattern in REQUEST_KINDS:
        if pattern.search(text):
            return name
    return "other requests"


def _decisions(reading: _Reading) -> list[Statement]:
    decided: dict[str, list[tuple[Message, Message, str]]] = defaultdict(list)
    for message in reading.incoming:
        reply = reading.replies.get(message.id)
        if reply is None or rule_act(message.text) not in _ASKING:
            continue
        intent = classify_intent(reply.text)
        if intent in ("accept", "decline", "defer"):
            decided[request_kind(message.text)].append((message, reply, intent))
    out: list[Statement] = []
    for kind, rows in sorted(decided.items(), key=lambda kv: -len(kv[1])):
        if len(rows) < MIN_SUPPORT:
            continue
        counts = Counter(intent for _, _, intent in rows)
        lean, n = counts.most_common(1)[0]
        wait = statistics.median(
            max(0.0, (reply.sent_at - message.sent_at).total_seconds())
            for message, reply, _ in rows
        )
        parts = ", ".join(
            f"{verb} {counts[i]}"
            for i, verb in (("accept", "yes"), ("defer", "later"), ("decline", "no"))
            if counts[i]
        )
        leaning = [r for r in rows if r[2] == lean]
        other = [r for r in rows if r[2] != lean]
        picked = _spread(leaning, 1 if other else 2) + (_spread(other, 1) if other else [])
        out.append(
            Statement(
                key=f"request:{kind}",
                text=f"Asked about {kind}, you mostly say {_VERB[lean]}: {n} of {len(rows)} "
                f"({parts}), typically within {format_duration(wait)}.",
                support=n,
                total=len(rows),
                quotes=tuple(_reply_quote(m, r) for m, r, _ in picked),
                subject_kind="request",
                subject=kind,
                lean=lean,
            )
        )
    conditioned = [
        (m, r)
        for rows in decided.values()
        for m, r, intent in rows
        if intent in ("accept", "defer") and _CONDITION.search(r.text)
    ]
    agreed = sum(1 for rows in decided.values() for *_, i in rows if i in ("accept", "defer"))
    if len(conditioned) >= 3:
        out.append(
            Statement(
                key="condition:yes",
                text=f"When you say yes or later you often attach a condition (a time, an “if”): "
                f"{len(conditioned)} of {agreed}.",
                support=len(conditioned),
                total=agreed,
                quotes=tuple(_reply_quote(m, r) for m, r in _spread(conditioned)),
                subject_kind="condition",
                subject="yes",
            )
        )
    out += _by_contact(decided)
    return out


_VERB = {"accept": "yes", "decline": "no", "defer": "later"}


def _by_contact(decided: Mapping[str, list[tuple[Message, Message, str]]]) -> list[Statement]:
    rows = [r for kind in decided.values() for r in kind]
    if len(rows) < 2 * MIN_SUPPORT:
        return []
    overall = sum(i == "accept" for *_, i in rows) / len(rows)
    by_sender: dict[str, list[tuple[Message, Message, str]]] = defaultdict(list)
    for row in rows:
        by_sender[row[0].sender].append(row)
    out = []
    for sender, mine in sorted(by_sender.items(), key=lambda kv: -len(kv[1])):
        if len(mine) < MIN_SUPPORT:
            continue
        yes = [r for r in mine if r[2] == "accept"]
        rate = len(yes) / len(mine)
        if abs(rate - overall) < 0.3:
            continue
        more = rate > overall
        shown = yes if more else [r for r in mine if r[2] != "accept"]
        out.append(
            Statement(
                key=f"contact:{sender}",
                text=f"You say yes to {sender} {'more' if more else 'less'} than to others: "
                f"{len(shown)} of {len(mine)} requests got a {'yes' if more else 'no or a later'} "
                f"({_pct(rate)} yes, vs {_pct(overall)} overall).",
                support=len(shown),
                total=len(mine),
                quotes=tuple(_reply_quote(m, r) for m, r, _ in _spread(shown)),
                subject_kind="contact",
                subject=sender,
                lean="accept" if more else "decline",
            )
        )
        if len(out) == 2:
            break
    return out


def statements(
    history: Sequence[StoredMessage], corrections: Mapping[str, Correction] | None = None
) -> list[Statement]:
    """The value and decision statements of a persona's history, each with its quotes.

    Statements without a quote are never made. ``corrections`` (by statement key) are attached
    to the statements they correct.
    """
    reading = read(history)
    if not reading.incoming:
        return []
    overall = len(reading.replies) / len(reading.incoming)
    by_sender: dict[str, list[Message]] = defaultdict(list)
    by_topic: dict[str, list[Message]] = defaultdict(list)
    for message in reading.incoming:
        by_sender[message.sender].append(message)
        for word in _keywords(message.text, reading.names):
            by_topic[word].append(message)
    # A topic that is just one person's vocabulary says something about the person, not the topic.
    by_topic = {t: ms for t, ms in by_topic.items() if len({m.sender for m in ms}) >= 2}
    found = [
        *_engagement(reading, "sender", by_sender, overall, MAX_PEOPLE),
        *_engagement(reading, "topic", by_topic, overall, MAX_TOPICS),
        *_decisions(reading),
    ]
    found = [s for s in found if s.quotes]
    corrections = corrections or {}
    return [replace(s, correction=corrections.get(s.key)) for s in found]


# ------------------------------------------------------------------------------ corrections


def correct(statement: Statement, said: str, at: datetime) -> Correction:
    """The owner's correction of ``statement``: ``wrong`` or their own words.

    Raises:
        ValueError: an empty or too long correction (``str()`` is meant for the owner).
    """
    text = " ".join(said.split())
    if not text:
        raise ValueError("Say what is true instead, or `wrong`.")
    if len(text) > MAX_CORRECTION:
        raise ValueError(f"Keep a correction under {MAX_CORRECTION} characters.")
    wrong = text.lower() in ("wrong", "false", "no", "not true")
    return Correction(
        key=statement.key,
        statement=statement.text,
        subject_kind=statement.subject_kind,
        subject=statement.subject,
        direction=statement.direction,
        lean=statement.lean,
        wrong=wrong,
        text=None if wrong else text,
        at=at,
    )


def corrections_to_bytes(corrections: Mapping[str, Correction]) -> bytes:
    return json.dumps(
        {"format": _FORMAT, "corrections": [c.to_json() for c in corrections.values()]}
    ).encode()


def corrections_from_bytes(raw: bytes | None) -> dict[str, Correction]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return {}
    out = {}
    for item in data.get("corrections", []):
        try:
            correction = Correction.from_json(item)
        except (KeyError, TypeError, ValueError, AssertionError):
            continue
        out[correction.key] = correction
    return out


def mentions(subject: str, text: str) -> bool:
    """Whether ``text`` names ``subject`` as whole words (any case)."""
    return re.search(rf"(?<!\w){re.escape(subject)}(?!\w)", text, re.IGNORECASE) is not None


def adjust(priority: Priority, message: Message, corrections: Iterable[Correction]) -> Priority:
    """``priority`` moved by the owner's corrections about its sender or its topics."""
    score, reasons = priority.score, list(priority.reasons)
    for c in corrections:
        effect = c.effect
        if not effect:
            continue
        if c.subject_kind == "sender" and c.subject.casefold() == message.sender.casefold():
            who = f"{c.subject}'s messages"
        elif c.subject_kind == "topic" and mentions(c.subject, message.text):
            who = f"“{c.subject}”"
        else:
            continue
        score = min(1.0, max(0.0, score + NUDGE * effect))
        said = "matter to you" if effect > 0 else "can wait"
        reasons.insert(0, f"you told me {who} {said}")
    if score == priority.score and reasons == list(priority.reasons):
        return priority
    return replace(priority, score=score, reasons=tuple(reasons[:4]))


def commits_to(reply: str) -> bool:
    """Whether a candidate reply says yes (commits the owner)."""
    return classify_intent(reply) == "accept"


def declined_kinds(corrections: Iterable[Correction]) -> set[str]:
    """Request kinds the owner said they do not say yes to (a "yes" statement marked wrong)."""
    return {
        c.subject
        for c in corrections
        if c.subject_kind == "request" and c.lean == "accept" and c.wrong
    }


def commits_to_option(option: object) -> bool:
    """Sort key: options that say yes after the others (``DraftOption``-like: has ``text``)."""
    return commits_to(str(getattr(option, "text", "")))
