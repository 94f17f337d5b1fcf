"""Sufficient statistics of a style profile: counts, sums and histograms that add up.

Everything a :class:`~core.profiling.profile.StyleProfile` reports is derived from these, so a
profile can be updated with new messages without re-reading the old ones, and the JSON form keeps
exactly what is needed to continue. Long-tailed counters (character trigrams, topic lemmas) are
compacted to their most frequent entries, which is the only approximation.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.profiling.features import TextFeatures
from core.profiling.lexicons import FUNCTION_WORDS

MATTR_WINDOW = 50
"""Tokens per window of the moving-average type-token ratio."""
BURST_GAP_S = 90.0
"""An owner message within this many seconds of their previous one (same chat) continues a burst."""
LATENCY_BINS_PER_DECADE = 8
WORDS_HIST_CAP = 300
CHAR3_KEEP = 3000
TOPICS_KEEP = 1500
SMALL_KEEP = 200

_SCALARS = (
    "n",
    "replies",
    "words",
    "words_sq",
    "chars",
    "sentences",
    "tokens",
    "function_words",
    "commas",
    "end_period",
    "end_question",
    "end_exclaim",
    "end_ellipsis",
    "end_emoji",
    "end_none",
    "has_question",
    "has_exclaim",
    "has_ellipsis",
    "letter_start",
    "lower_start",
    "allcaps_words",
    "i_total",
    "i_lower",
    "emoji_msgs",
    "emoji_count",
    "emoticon_msgs",
    "greeting_msgs",
    "sign_off_msgs",
    "slang_tokens",
    "slang_msgs",
    "formal_markers",
    "link_msgs",
    "code_msgs",
    "address_msgs",
    "contractions",
    "elongated_msgs",
    "digit_tokens",
    "positive_tokens",
    "negative_tokens",
    "positive_msgs",
    "negative_msgs",
    "sentiment_sum",
    "surface_formality_sum",
    "multiline_msgs",
    "continuations",
    "mattr_sum",
    "mattr_windows",
)


def latency_bin(seconds: float) -> int:
    """Log-spaced bin of a latency: 0 for under a second, then 8 bins per decade."""
    if seconds < 1.0:
        return 0
    return 1 + int(math.log10(seconds) * LATENCY_BINS_PER_DECADE)


def _latency_bin_edges(index: int) -> tuple[float, float]:
    if index == 0:
        return 0.0, 1.0
    low = 10 ** ((index - 1) / LATENCY_BINS_PER_DECADE)
    high = 10 ** (index / LATENCY_BINS_PER_DECADE)
    return low, high


def latency_quantile(hist: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile of a latency histogram, interpolated geometrically within its bin."""
    total = sum(hist.values())
    if total == 0:
        return None
    target = q * total
    seen = 0.0
    for index in sorted(hist):
        count = hist[index]
        if seen + count >= target:
            low, high = _latency_bin_edges(index)
            frac = (target - seen) / count if count else 0.0
            if index == 0:
                return low + (high - low) * frac
            return float(low * (high / low) ** frac)
        seen += count
    low, high = _latency_bin_edges(max(hist))
    return high


def int_quantile(hist: Mapping[int, int], q: float) -> float:
    """The ``q`` quantile of a histogram of integers (lower median convention for even counts)."""
    total = sum(hist.values())
    if total == 0:
        return 0.0
    target = max(1.0, math.ceil(q * total))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= target:
            return float(value)
    return float(max(hist))


@dataclass(slots=True)
class GroupStats:
    """A few sums per contact or per channel: enough for a small sub-profile."""

    n: int = 0
    words: float = 0.0
    words_sq: float = 0.0
    letter_start: int = 0
    lower_start: int = 0
    end_none: int = 0
    question: int = 0
    faces: int = 0
    formality: float = 0.0
    formality_sq: float = 0.0
    latency: dict[int, int] = field(default_factory=dict)

    def add(self, f: TextFeatures, latency_s: float | None) -> None:
        self.n += 1
        self.words += f.words
        self.words_sq += f.words * f.words
        self.letter_start += int(f.starts_with_letter)
        self.lower_start += int(f.lower_start)
        self.end_none += int(f.ending in ("none", "emoji"))
        self.question += int(f.has_question)
        self.faces += int(bool(f.emoji or f.emoticons))
        formality = f.surface_formality
        self.formality += formality
        self.formality_sq += formality * formality
        if latency_s is not None:
            b = latency_bin(latency_s)
            self.latency[b] = self.latency.get(b, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "words": self.words,
            "words_sq": self.words_sq,
            "letter_start": self.letter_start,
            "lower_start": self.lower_start,
            "end_none": self.end_none,
            "question": self.question,
            "faces": self.faces,
            "formality": self.formality,
            "formality_sq": self.formality_sq,
            "latency": {str(k): v for k, v in sorted(self.latency.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GroupStats:
        return cls(
            n=int(data["n"]),
            words=float(data["words"]),
            words_sq=float(data["words_sq"]),
            letter_start=int(data["letter_start"]),
            lower_start=int(data["lower_start"]),
            end_none=int(data["end_none"]),
            question=int(data["question"]),
            faces=int(data["faces"]),
            formality=float(data["formality"]),
            formality_sq=float(data["formality_sq"]),
            latency={int(k): int(v) for k, v in data.get("latency", {}).items()},
        )


def _top(counter: Mapping[str, int], keep: int) -> dict[str, int]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
    return dict(items)


@dataclass(slots=True)
class ProfileStats:
    """Mutable accumulator behind a profile; see the module docstring."""

    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_SCALARS, 0.0))
    words_hist: dict[int, int] = field(default_factory=dict)
    latency_hist: dict[int, int] = field(default_factory=dict)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    pos: dict[str, int] = field(default_factory=dict)
    function_words: list[int] = field(default_factory=lambda: [0] * len(FUNCTION_WORDS))
    char3: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    greetings: Counter[str] = field(default_factory=Counter)
    sign_offs: Counter[str] = field(default_factory=Counter)
    slang: Counter[str] = field(default_factory=Counter)
    emoticons: Counter[str] = field(default_factory=Counter)
    emoji: Counter[str] = field(default_factory=Counter)
    intents: Counter[str] = field(default_factory=Counter)
    intent_latency: dict[str, dict[int, int]] = field(default_factory=dict)
    mattr_tail: deque[str] = field(default_factory=deque)
    contacts: dict[str, GroupStats] = field(default_factory=dict)
    channels: dict[str, GroupStats] = field(default_factory=dict)
    last_seen: dict[str, float] = field(default_factory=dict)
    first_at: float | None = None
    last_at: float | None = None

    def add_tokens_to_mattr(self, tokens: Iterable[str]) -> None:
        """Continue the moving-average type-token ratio over the owner's token stream."""
        tail = self.mattr_tail
        window: Counter[str] = Counter(tail)
        s = self.sums
        for token in tokens:
            tail.append(token)
            window[token] += 1
            if len(tail) == MATTR_WINDOW:
                s["mattr_sum"] += len(window) / MATTR_WINDOW
                s["mattr_windows"] += 1
                old = tail.popleft()
                window[old] -= 1
                if window[old] == 0:
                    del window[old]

    def compact(self) -> None:
        """Drop the long tail of open-ended counters (keeps the JSON form small)."""
        self.char3 = Counter(_top(self.char3, CHAR3_KEEP))
        self.topics = Counter(_top(self.topics, TOPICS_KEEP))
        for name in ("greetings", "sign_offs", "slang", "emoticons", "emoji"):
            counter: Counter[str] = getattr(self, name)
            if len(counter) > SMALL_KEEP:
                setattr(self, name, Counter(_top(counter, SMALL_KEEP)))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (str keys, lists and numbers only)."""
        return {
            "sums": dict(self.sums),
            "words_hist": {str(k): v for k, v in sorted(self.words_hist.items())},
            "latency_hist": {str(k): v for k, v in sorted(self.latency_hist.items())},
            "hours": list(self.hours),
            "pos": dict(sorted(self.pos.items())),
            "function_words": list(self.function_words),
            "char3": _top(self.char3, CHAR3_KEEP),
            "topics": _top(self.topics, TOPICS_KEEP),
            "greetings": _top(self.greetings, SMALL_KEEP),
            "sign_offs": _top(self.sign_offs, SMALL_KEEP),
            "slang": _top(self.slang, SMALL_KEEP),
            "emoticons": _top(self.emoticons, SMALL_KEEP),
            "emoji": _top(self.emoji, SMALL_KEEP),
            "intents": dict(sorted(self.intents.items())),
            "intent_latency": {
                intent: {str(k): v for k, v in sorted(h.items())}
                for intent, h in sorted(self.intent_latency.items())
            },
            "mattr_tail": list(self.mattr_tail),
            "contacts": {k: g.to_json() for k, g in sorted(self.contacts.items())},
            "channels": {k: g.to_json() for k, g in sorted(self.channels.items())},
            "last_seen": dict(sorted(self.last_seen.items())),
            "first_at": self.first_at,
            "last_at": self.last_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileStats:
        """Rebuild from :meth:`to_json` output.

        Raises:
            ValueError: ``data`` is not a profile state.
        """
        try:
            sums = dict.fromkeys(_SCALARS, 0.0)
            sums.update({k: float(v) for k, v in data["sums"].items()})
            function_words = [int(v) for v in data["function_words"]]
            if len(function_words) != len(FUNCTION_WORDS):
                raise ValueError("function-word counts do not match this version's word list")
            return cls(
                sums=sums,
                words_hist={int(k): int(v) for k, v in data["words_hist"].items()},
                latency_hist={int(k): int(v) for k, v in data["latency_hist"].items()},
                hours=[int(v) for v in data["hours"]],
                pos={str(k): int(v) for k, v in data["pos"].items()},
                function_words=function_words,
                char3=Counter({str(k): int(v) for k, v in data["char3"].items()}),
                topics=Counter({str(k): int(v) for k, v in data["topics"].items()}),
                greetings=Counter(data["greetings"]),
                sign_offs=Counter(data["sign_offs"]),
                slang=Counter(data["slang"]),
                emoticons=Counter(data["emoticons"]),
                emoji=Counter(data["emoji"]),
                intents=Counter(data["intents"]),
                intent_latency={
                    str(i): {int(k): int(v) for k, v in h.items()}
                    for i, h in data["intent_latency"].items()
                },
                mattr_tail=deque(str(t) for t in data["mattr_tail"]),
                contacts={str(k): GroupStats.from_json(v) for k, v in data["contacts"].items()},
                channels={str(k): GroupStats.from_json(v) for k, v in data["channels"].items()},
                last_seen={str(k): float(v) for k, v in data["last_seen"].items()},
                first_at=None if data["first_at"] is None else float(data["first_at"]),
                last_at=None if data["last_at"] is None else float(data["last_at"]),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a style profile state: {exc}") from exc

    def copy(self) -> ProfileStats:
        """An independent deep copy."""
        return ProfileStats.from_json(self.to_json())
