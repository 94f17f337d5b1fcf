"""The style profile: an owner's measured writing fingerprint, derived from sufficient statistics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.profiling.lexicons import FUNCTION_WORDS
from core.profiling.stats import GroupStats, ProfileStats, int_quantile, latency_quantile

PROFILE_VERSION = 1
SUBPROFILE_MIN_MESSAGES = 20
"""A contact or channel gets its own sub-profile from this many owner messages on."""
FAST_CONTACT_MIN_REPLIES = 3
_DIFFERENCE_MIN_Z = 3.0


def _rate(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min``, ``2.5 h``, ``3 days`` — a latency for people."""
    if seconds < 60:
        return "under a minute" if seconds < 5 else f"{seconds:.0f} s"
    if seconds < 90:
        return "a minute"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        hours = seconds / 3600
        return f"{hours:.1f} h" if hours < 10 else f"{hours:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _quote_list(items: list[str]) -> str:
    quoted = [f"'{item}'" for item in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _pos_formality(pos: dict[str, int]) -> float | None:
    """Heylighen & Dewaele's F-score (0-100) from part-of-speech counts, or None without tags."""
    total = pos.get("_tokens", 0)
    tagged = sum(v for k, v in pos.items() if not k.startswith("_"))
    if total <= 0 or tagged == 0:
        return None

    def share(*tags: str) -> float:
        return 100.0 * sum(pos.get(t, 0) for t in tags) / total

    formal = share("NOUN", "PROPN", "ADJ", "ADP", "DET")
    deictic = share("PRON", "VERB", "AUX", "ADV", "INTJ")
    return (formal - deictic + 100.0) / 2.0


def _group_features(group: GroupStats, *, with_latency: bool) -> dict[str, float]:
    out = {
        "messages": float(group.n),
        "len_words_mean": _rate(group.words, group.n),
        "lowercase_start_rate": _rate(group.lower_start, group.letter_start),
        "end_none_rate": _rate(group.end_none, group.n),
        "question_rate": _rate(group.question, group.n),
        "emoji_rate": _rate(group.faces, group.n),
        "formality": 100.0 * _rate(group.formality, group.n),
    }
    if with_latency:
        median = latency_quantile(group.latency, 0.5)
        if median is not None:
            out["latency_median_s"] = median
    return out


@dataclass(frozen=True, slots=True)
class Difference:
    """How one contact or channel stands out from the owner's usual style."""

    kind: str
    """``contact`` or ``channel``."""
    name: str
    feature: str
    value: float
    overall: float
    z: float
    text: str


@dataclass(frozen=True)
class StyleProfile:
    """An owner's writing fingerprint.

    Built by :class:`~core.profiling.profiler.Profiler`; every reported number is derived from the
    sufficient statistics in :attr:`stats`, which is also what :meth:`to_json` stores for later
    incremental updates. Treat instances as immutable.

    Attributes:
        stats: The accumulated counts (do not mutate).
        features: Named measurements (rates are shares of messages in [0, 1] unless the name says
            ``per_100_words``; lengths in words; latency in seconds; formality 0-100; sentiment
            -1..1).
        contacts: Sub-profiles of contacts the owner answered at least
            ``SUBPROFILE_MIN_MESSAGES`` times.
        channels: Sub-profiles of conversations with at least that many owner messages.
        differences: The clearest ways contacts/channels differ from the overall style,
            strongest first.
    """

    stats: ProfileStats
    features: dict[str, float] = field(init=False)
    contacts: dict[str, dict[str, float]] = field(init=False)
    channels: dict[str, dict[str, float]] = field(init=False)
    differences: list[Difference] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", self._derive_features())
        contacts = {
            name: _group_features(g, with_latency=True)
            for name, g in self.stats.contacts.items()
            if g.n >= SUBPROFILE_MIN_MESSAGES
        }
        channels = {
            name: _group_features(g, with_latency=False)
            for name, g in self.stats.channels.items()
            if g.n >= SUBPROFILE_MIN_MESSAGES
        }
        object.__setattr__(self, "contacts", contacts)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "differences", self._differences())

    # ----------------------------------------------------------------------------- features

    @property
    def messages(self) -> int:
        """How many messages were measured."""
        return int(self.stats.sums["n"])

    def _derive_features(self) -> dict[str, float]:
        st = self.stats
        s = st.sums
        n = s["n"]
        words = s["words"]
        tokens = s["tokens"]
        feats: dict[str, float] = {"messages": n}
        if n == 0:
            return feats
        mean_words = words / n
        var_words = max(0.0, s["words_sq"] / n - mean_words**2)
        feats.update(
            {
                "reply_share": s["replies"] / n,
                "len_words_mean": mean_words,
                "len_words_sd": math.sqrt(var_words),
                "len_words_median": int_quantile(st.words_hist, 0.5),
                "len_words_p90": int_quantile(st.words_hist, 0.9),
                "len_chars_mean": s["chars"] / n,
                "words_per_sentence": _rate(words, s["sentences"]),
                "lexical_diversity": self._mattr(),
                "function_word_share": _rate(s["function_words"], tokens),
                "commas_per_100_words": 100 * _rate(s["commas"], words),
                "end_period_rate": s["end_period"] / n,
                "end_question_rate": s["end_question"] / n,
                "end_exclaim_rate": s["end_exclaim"] / n,
                "end_ellipsis_rate": s["end_ellipsis"] / n,
                "end_emoji_rate": s["end_emoji"] / n,
                "end_none_rate": (s["end_none"] + s["end_emoji"]) / n,
                "question_rate": s["has_question"] / n,
                "exclamation_rate": s["has_exclaim"] / n,
                "ellipsis_rate": s["has_ellipsis"] / n,
                "lowercase_start_rate": _rate(s["lower_start"], s["letter_start"]),
                "allcaps_per_100_words": 100 * _rate(s["allcaps_words"], words),
                "lowercase_i_rate": _rate(s["i_lower"], s["i_total"]),
                "emoji_rate": s["emoji_msgs"] / n,
                "emoticon_rate": s["emoticon_msgs"] / n,
                "face_rate": _rate(max(s["emoji_msgs"], s["emoticon_msgs"]), n),
                "greeting_rate": s["greeting_msgs"] / n,
                "sign_off_rate": s["sign_off_msgs"] / n,
                "slang_per_100_words": 100 * _rate(s["slang_tokens"], tokens),
                "slang_rate": s["slang_msgs"] / n,
                "contractions_per_100_words": 100 * _rate(s["contractions"], words),
                "elongation_rate": s["elongated_msgs"] / n,
                "digits_per_100_words": 100 * _rate(s["digit_tokens"], words),
                "link_rate": s["link_msgs"] / n,
                "code_rate": s["code_msgs"] / n,
                "address_rate": s["address_msgs"] / n,
                "multiline_rate": s["multiline_msgs"] / n,
                "sentiment": s["sentiment_sum"] / n,
                "positive_rate": s["positive_msgs"] / n,
                "negative_rate": s["negative_msgs"] / n,
                "burst_length": n / max(1.0, n - s["continuations"]),
                "burst_rate": s["continuations"] / n,
                "peak_hour_utc": float(max(range(24), key=lambda h: (st.hours[h], -h))),
            }
        )
        surface = s["surface_formality_sum"] / n
        f_score = _pos_formality(st.pos)
        if f_score is not None:
            feats["pos_formality"] = f_score
            feats["formality"] = 100 * (
                0.6 * surface + 0.4 * min(1.0, max(0.0, (f_score - 40.0) / 20.0))
            )
        else:
            feats["formality"] = 100 * surface
        latency = latency_quantile(st.latency_hist, 0.5)
        if latency is not None:
            feats["latency_median_s"] = latency
            feats["latency_p90_s"] = latency_quantile(st.latency_hist, 0.9) or latency
        replies = s["replies"]
        decisions = sum(st.intents.get(k, 0) for k in ("accept", "decline", "defer"))
        for intent in ("accept", "decline", "defer", "thank", "ask_details"):
            feats[f"{intent}_rate"] = _rate(st.intents.get(intent, 0), replies)
        if decisions:
            for intent in ("accept", "decline", "defer"):
                feats[f"{intent}_share_of_decisions"] = st.intents.get(intent, 0) / decisions
        return feats

    def _mattr(self) -> float:
        s = self.stats.sums
        if s["mattr_windows"] > 0:
            return s["mattr_sum"] / s["mattr_windows"]
        tail = list(self.stats.mattr_tail)
        return len(set(tail)) / len(tail) if tail else 0.0

    # ----------------------------------------------------------------------- derived views

    def function_word_profile(self, top: int = 30) -> dict[str, float]:
        """The most used function words and their share of all word tokens."""
        tokens = self.stats.sums["tokens"]
        pairs = sorted(
            zip(FUNCTION_WORDS, self.stats.function_words, strict=True), key=lambda kv: -kv[1]
        )
        return {w: _rate(c, tokens) for w, c in pairs[:top] if c > 0}

    def char_ngrams(self, top: int = 40) -> dict[str, float]:
        """The most frequent character trigrams (lower-cased, spaces as ``_``) and their shares."""
        total = sum(self.stats.char3.values())
        return {
            gram.replace(" ", "_"): _rate(count, total)
            for gram, count in self.stats.char3.most_common(top)
        }

    def topics(self, top: int = 12) -> list[tuple[str, int]]:
        """Nouns the owner writes about most (spaCy lemmas), with counts.

        Names of the people the owner answers are left out: they are addressees, not topics.
        """
        people = {name.lower() for name in self.stats.contacts}
        out = []
        for lemma, count in self.stats.topics.most_common(top + len(people)):
            if lemma not in people:
                out.append((lemma, count))
            if len(out) == top:
                break
        return out

    def fast_contacts(self, top: int = 5) -> list[tuple[str, float, int]]:
        """Contacts answered fastest: ``(name, median latency s, replies)``, quickest first."""
        rows = []
        for name, group in self.stats.contacts.items():
            n = sum(group.latency.values())
            if n >= FAST_CONTACT_MIN_REPLIES:
                median = latency_quantile(group.latency, 0.5)
                if median is not None:
                    rows.append((name, median, n))
        rows.sort(key=lambda r: (r[1], -r[2], r[0]))
        return rows[:top]

    def decision_latency(self) -> dict[str, float]:
        """Median seconds to reply, per reply intent (accept/decline/defer/…)."""
        out = {}
        for intent, hist in self.stats.intent_latency.items():
            median = latency_quantile(hist, 0.5)
            if median is not None:
                out[intent] = median
        return out

    def _differences(self) -> list[Difference]:
        s = self.stats.sums
        n = s["n"]
        if n == 0:
            return []
        overall_words = s["words"] / n
        sd_words = math.sqrt(max(1e-9, s["words_sq"] / n - overall_words**2))
        overall = {
            "lowercase_start_rate": _rate(s["lower_start"], s["letter_start"]),
            "end_none_rate": (s["end_none"] + s["end_emoji"]) / n,
            "question_rate": s["has_question"] / n,
            "emoji_rate": _rate(max(s["emoji_msgs"], s["emoticon_msgs"]), n),
        }
        overall_formality = s["surface_formality_sum"] / n
        out: list[Difference] = []
        for kind, groups in (("contact", self.stats.contacts), ("channel", self.stats.channels)):
            for name, g in groups.items():
                if g.n < SUBPROFILE_MIN_MESSAGES or g.n >= n:
                    continue
                gf = _group_features(g, with_latency=False)
                candidates: list[tuple[str, float, float, float]] = []
                mean_g = gf["len_words_mean"]
                z = (mean_g - overall_words) / (sd_words / math.sqrt(g.n))
                ratio = (mean_g + 1) / (overall_words + 1)
                if ratio >= 1.3 or ratio <= 1 / 1.3:
                    candidates.append(("len_words_mean", mean_g, overall_words, z))
                for feature, p in overall.items():
                    value = gf[feature]
                    se = math.sqrt(max(p * (1 - p), 0.01) / g.n)
                    if abs(value - p) >= 0.12:
                        candidates.append((feature, value, p, (value - p) / se))
                fg = gf["formality"] / 100
                if abs(fg - overall_formality) >= 0.08:
                    se = math.sqrt(max(overall_formality * (1 - overall_formality), 0.01) / g.n)
                    candidates.append(
                        (
                            "formality",
                            100 * fg,
                            100 * overall_formality,
                            (fg - overall_formality) / se,
                        )
                    )
                for feature, value, base, z in candidates:
                    if abs(z) >= _DIFFERENCE_MIN_Z:
                        out.append(
                            Difference(
                                kind=kind,
                                name=name,
                                feature=feature,
                                value=value,
                                overall=base,
                                z=z,
                                text=_difference_text(kind, name, feature, value, base),
                            )
                        )
        out.sort(key=lambda d: (-abs(d.z), d.name, d.feature))
        return out

    # --------------------------------------------------------------------------- summary

    def summary(self) -> str:
        """A short card in plain words: 3-6 lines, plus how one contact or channel differs.

        Returns:
            Newline-separated sentences, e.g. ``"Short messages (median 9 words, 90% under 23)…"``.
        """
        f = self.features
        n = self.messages
        if n == 0:
            return "No messages measured yet: import a chat export or send a few messages first."
        lines = [self._length_line(f)]
        lines.append(self._case_line(f))
        lines.append(self._marks_line(f))
        formulas = self._formulas_line(f)
        if formulas:
            lines.append(formulas)
        lines.append(self._tone_line(f))
        behaviour = self._behaviour_line(f)
        if behaviour:
            lines.append(behaviour)
        if self.differences:
            lines.append(self.differences[0].text)
        if n < 20:
            lines.append(f"(Based on only {_plural(n, 'message')}: rough.)")
        return "\n".join(lines)

    @staticmethod
    def _length_line(f: dict[str, float]) -> str:
        median = f["len_words_median"]
        size = "Short" if median <= 8 else "Medium-length" if median <= 20 else "Long"
        line = (
            f"{size} messages (median {median:.0f} words, 90% under {f['len_words_p90'] + 1:.0f}), "
            f"{f['words_per_sentence']:.0f} words per sentence"
        )
        if f["burst_length"] >= 1.4:
            line += f"; often several messages in a row ({f['burst_length']:.1f} per burst)"
        return line + "."

    @staticmethod
    def _case_line(f: dict[str, float]) -> str:
        parts = []
        low = f["lowercase_start_rate"]
        if low >= 0.7:
            parts.append(f"mostly lowercase ({_pct(low)} of messages start lowercase)")
        elif low >= 0.35:
            parts.append(f"often starts in lowercase ({_pct(low)})")
        else:
            parts.append(f"capitalises the first word ({_pct(1 - low)} of messages)")
        if f["lowercase_i_rate"] >= 0.5:
            parts.append("writes 'i' in lowercase")
        bare = f["end_none_rate"]
        if bare >= 0.97:
            parts.append("never ends with punctuation")
        elif bare >= 0.6:
            parts.append(f"rarely ends with punctuation ({_pct(bare)} end bare)")
        elif f["end_period_rate"] >= 0.4:
            parts.append(f"ends with a full stop ({_pct(f['end_period_rate'])})")
        else:
            parts.append(f"ends without punctuation in {_pct(bare)} of messages")
        if f["allcaps_per_100_words"] >= 1.0:
            parts.append("uses ALL CAPS for emphasis")
        if f["ellipsis_rate"] >= 0.1:
            parts.append(f"likes ellipses… ({_pct(f['ellipsis_rate'])})")
        text = ", ".join(parts)
        return text[0].upper() + text[1:] + "."

    def _marks_line(self, f: dict[str, float]) -> str:
        q, e = f["question_rate"], f["exclamation_rate"]
        parts = [
            f"Asks questions in {_pct(q)} of messages" if q >= 0.02 else "Rarely asks questions"
        ]
        parts.append(f"exclamation marks in {_pct(e)}" if e >= 0.02 else "no exclamation marks")
        faces = self.stats.emoticons + self.stats.emoji
        if f["face_rate"] >= 0.02 and faces:
            common = [face for face, _ in faces.most_common(3)]
            parts.append(
                f"emoji/emoticons in {_pct(f['face_rate'])} (mostly {_quote_list(common)})"
            )
        else:
            parts.append("almost no emoji")
        if f["code_rate"] >= 0.15 or f["link_rate"] >= 0.1:
            parts.append(
                f"commands or code in {_pct(f['code_rate'])}, links in {_pct(f['link_rate'])}"
            )
        return "; ".join(parts) + "."

    def _formulas_line(self, f: dict[str, float]) -> str | None:
        parts = []
        if f["greeting_rate"] >= 0.02 and self.stats.greetings:
            top = [g for g, _ in self.stats.greetings.most_common(2)]
            parts.append(f"opens with {_quote_list(top)} ({_pct(f['greeting_rate'])})")
        if f["sign_off_rate"] >= 0.02 and self.stats.sign_offs:
            top = [g for g, _ in self.stats.sign_offs.most_common(2)]
            parts.append(f"signs off with {_quote_list(top)} ({_pct(f['sign_off_rate'])})")
        if f["slang_rate"] >= 0.03 and self.stats.slang:
            top = [g for g, _ in self.stats.slang.most_common(4)]
            parts.append(f"uses {_quote_list(top)}")
        if not parts:
            return None
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def _tone_line(self, f: dict[str, float]) -> str:
        formality = f["formality"]
        register = "formal" if formality >= 70 else "neutral" if formality >= 55 else "informal"
        sentiment = f["sentiment"]
        tone = (
            "warm and positive"
            if sentiment >= 0.25
            else "positive"
            if sentiment >= 0.08
            else "critical"
            if sentiment <= -0.08
            else "matter-of-fact"
        )
        line = f"{register.capitalize()} register (formality {formality:.0f}/100), {tone} tone"
        topics = [t for t, _ in self.topics(5)]
        if topics:
            line += "; writes about " + ", ".join(topics)
        return line + "."

    def _behaviour_line(self, f: dict[str, float]) -> str | None:
        parts = []
        if "latency_median_s" in f:
            parts.append(f"usually replies in {format_duration(f['latency_median_s'])}")
            fast = self.fast_contacts(2)
            if fast:
                names = " and ".join(name for name, _, _ in fast)
                parts.append(f"quickest with {names}")
        intents = self.stats.intents
        decisions = sum(intents.get(k, 0) for k in ("accept", "decline", "defer"))
        if decisions >= 5:
            parts.append(
                "when asked: accepts {}, declines {}, defers {}".format(
                    _pct(intents.get("accept", 0) / decisions),
                    _pct(intents.get("decline", 0) / decisions),
                    _pct(intents.get("defer", 0) / decisions),
                )
            )
        if not parts:
            return None
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    # ------------------------------------------------------------------------- serialise

    def to_json(self) -> dict[str, Any]:
        """Everything, as JSON-ready data: readable views plus the ``state`` to update from.

        Returns:
            A dict with ``version``, ``messages``, ``features``, ``summary``, ``habits``,
            ``function_words``, ``char_ngrams``, ``values``, ``decisions``, ``contacts``,
            ``channels``, ``differences`` and ``state``.
        """
        st = self.stats
        first = datetime.fromtimestamp(st.first_at, UTC).isoformat() if st.first_at else None
        last = datetime.fromtimestamp(st.last_at, UTC).isoformat() if st.last_at else None
        return {
            "version": PROFILE_VERSION,
            "messages": self.messages,
            "first": first,
            "last": last,
            "features": dict(self.features),
            "summary": self.summary(),
            "habits": {
                "greetings": dict(st.greetings.most_common(10)),
                "sign_offs": dict(st.sign_offs.most_common(10)),
                "slang": dict(st.slang.most_common(15)),
                "emoticons": dict(st.emoticons.most_common(10)),
                "emoji": dict(st.emoji.most_common(10)),
            },
            "function_words": self.function_word_profile(),
            "char_ngrams": self.char_ngrams(),
            "values": {
                "topics": [{"lemma": t, "count": c} for t, c in self.topics(25)],
                "fast_contacts": [
                    {"contact": name, "median_latency_s": lat, "replies": k}
                    for name, lat, k in self.fast_contacts(10)
                ],
                "active_hours_utc": list(st.hours),
            },
            "decisions": {
                "counts": dict(st.intents),
                "median_latency_s": self.decision_latency(),
            },
            "contacts": self.contacts,
            "channels": self.channels,
            "differences": [
                {
                    "kind": d.kind,
                    "name": d.name,
                    "feature": d.feature,
                    "value": d.value,
                    "overall": d.overall,
                    "z": d.z,
                    "text": d.text,
                }
                for d in self.differences[:10]
            ],
            "state": st.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StyleProfile:
        """Rebuild a profile from :meth:`to_json` output (only ``state`` is read).

        Raises:
            ValueError: ``data`` is not a serialised profile of a supported version.
        """
        if not isinstance(data, dict) or "state" not in data:
            raise ValueError("not a serialised style profile (no 'state')")
        version = data.get("version")
        if version != PROFILE_VERSION:
            raise ValueError(f"unsupported style profile version {version!r}")
        return cls(ProfileStats.from_json(data["state"]))


_FEATURE_WORDS = {
    "len_words_mean": ("longer messages", "shorter messages"),
    "lowercase_start_rate": ("more lowercase starts", "more capitalised starts"),
    "end_none_rate": ("less end punctuation", "more end punctuation"),
    "question_rate": ("more questions", "fewer questions"),
    "emoji_rate": ("more emoji", "fewer emoji"),
    "formality": ("more formal", "more casual"),
}


def _difference_text(kind: str, name: str, feature: str, value: float, base: float) -> str:
    up, down = _FEATURE_WORDS[feature]
    what = up if value > base else down
    if feature == "len_words_mean":
        detail = f"{value:.0f} vs {base:.0f} words on average"
    elif feature == "formality":
        detail = f"formality {value:.0f} vs {base:.0f}"
    else:
        detail = f"{_pct(value)} vs {_pct(base)}"
    where = f"With {name}" if kind == "contact" else f"In {name}"
    return f"{where}: {what} ({detail})."
