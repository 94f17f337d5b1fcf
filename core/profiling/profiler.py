"""The profiler service: measures an owner's messages into a :class:`StyleProfile`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from core.engines.nlp import load_nlp
from core.profiling.features import analyse, strip_address
from core.profiling.intents import classify_intent
from core.profiling.lexicons import FUNCTION_WORD_INDEX
from core.profiling.profile import StyleProfile
from core.profiling.samples import ProfileSample
from core.profiling.stats import (
    BURST_GAP_S,
    WORDS_HIST_CAP,
    GroupStats,
    ProfileStats,
    latency_bin,
)

_BATCH = 512
_TOPIC_POS = ("NOUN", "PROPN")
# Penn Treebank tags to the universal parts of speech the formality score counts.
_PENN_TO_UPOS = {
    "NN": "NOUN", "NNS": "NOUN", "NNP": "PROPN", "NNPS": "PROPN",
    "JJ": "ADJ", "JJR": "ADJ", "JJS": "ADJ", "IN": "ADP", "RP": "ADP",
    "DT": "DET", "PDT": "DET", "WDT": "DET",
    "PRP": "PRON", "PRP$": "PRON", "WP": "PRON", "WP$": "PRON", "EX": "PRON",
    "VB": "VERB", "VBD": "VERB", "VBG": "VERB", "VBN": "VERB", "VBP": "VERB", "VBZ": "VERB",
    "MD": "AUX", "RB": "ADV", "RBR": "ADV", "RBS": "ADV", "WRB": "ADV", "UH": "INTJ",
}  # fmt: skip


_NOT_PLURAL = frozenset(
    str.split(
        "news series species lens gas bus windows always perhaps status alias chaos physics "
        "mathematics thanks analysis basis canvas atlas bias"
    )
)


def _singular(word: str) -> str:
    """A plural-stripping rule good enough to merge ``drivers``/``driver`` in topic counts."""
    if word in _NOT_PLURAL:
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


class Profiler:
    """Builds and incrementally updates style profiles.

    CPU-bound (spaCy tagging plus our own counting): call it through ``asyncio.to_thread`` from
    async code.

    Args:
        nlp_loader: Returns a spaCy ``Language``; called lazily on the first build, so
            constructing a profiler loads nothing. Pass ``lambda: None`` to skip spaCy entirely
            (then there are no topics and formality falls back to surface cues).
    """

    def __init__(self, nlp_loader: Callable[[], Any] = load_nlp) -> None:
        self._nlp_loader = nlp_loader
        self._nlp: Any = None
        self._loaded = False

    def _pipeline(self) -> Any:
        if not self._loaded:
            self._nlp = self._nlp_loader()
            self._loaded = True
        return self._nlp

    def build(self, samples: Iterable[ProfileSample]) -> StyleProfile:
        """Profile ``samples`` from scratch.

        Args:
            samples: The owner's messages (any order; they are measured oldest first).

        Returns:
            A new profile.
        """
        stats = ProfileStats()
        self._add(stats, samples)
        return StyleProfile(stats)

    def update(self, profile: StyleProfile, new_samples: Iterable[ProfileSample]) -> StyleProfile:
        """Add messages to an existing profile without re-reading the old ones.

        Args:
            profile: The profile so far (left unchanged).
            new_samples: Messages not yet in ``profile``; for exact agreement with a full build
                they should be newer than those already measured (bursts and the lexical
                diversity window continue from the last message).

        Returns:
            A new profile equal (up to the compaction of long-tailed counters) to building from all
            samples at once.
        """
        stats = profile.stats.copy()
        self._add(stats, new_samples)
        return StyleProfile(stats)

    def _docs(self, texts: Sequence[str]) -> Iterable[tuple[dict[str, int], list[str]]]:
        nlp = self._pipeline()
        if nlp is None or "tagger" not in nlp.pipe_names:
            for _ in texts:
                yield {}, []
            return
        from spacy.attrs import IS_ALPHA, IS_STOP, LOWER, TAG

        strings = nlp.vocab.strings
        # Only tok2vec + tagger run: parts of speech come from the fine-grained Penn tags through
        # our own map, and topic nouns are lemmatised by a plural rule. The attribute ruler,
        # lemmatizer and sentence segmenter cost more than half the time and add nothing here.
        disable = [name for name in nlp.pipe_names if name not in ("tok2vec", "tagger")]
        tag_pos = {strings.add(tag): pos for tag, pos in _PENN_TO_UPOS.items()}
        for doc in nlp.pipe(texts, batch_size=_BATCH, disable=disable):
            pos: dict[str, int] = {"_tokens": len(doc)}
            nouns: list[str] = []
            for tag_hash, count in doc.count_by(TAG).items():
                tag = tag_pos.get(tag_hash)
                if tag is not None:
                    pos[tag] = pos.get(tag, 0) + count
            if pos.get("NOUN") or pos.get("PROPN"):
                for tag_hash, alpha, stop, lower in doc.to_array([TAG, IS_ALPHA, IS_STOP, LOWER]):
                    if alpha and not stop and tag_pos.get(int(tag_hash)) in _TOPIC_POS:
                        word = strings[int(lower)]
                        if len(word) > 2:
                            nouns.append(_singular(word))
            yield pos, nouns

    def _add(self, stats: ProfileStats, samples: Iterable[ProfileSample]) -> None:
        ordered = sorted(samples, key=lambda s: s.sent_at)
        if not ordered:
            return
        # Addressees ("nick: ...") are not topics, so the tagger sees the body only.
        docs = self._docs([strip_address(s.text) for s in ordered])
        s = stats.sums
        for sample, (pos, nouns) in zip(ordered, docs, strict=True):
            f = analyse(sample.text)
            s["n"] += 1
            s["replies"] += int(sample.is_reply)
            s["words"] += f.words
            s["words_sq"] += f.words * f.words
            s["chars"] += f.chars
            s["sentences"] += f.sentences
            s["tokens"] += len(f.tokens)
            s["function_words"] += f.function_words
            s["commas"] += f.commas
            s["end_" + f.ending] += 1
            s["has_question"] += f.has_question
            s["has_exclaim"] += f.has_exclaim
            s["has_ellipsis"] += f.has_ellipsis
            s["letter_start"] += f.starts_with_letter
            s["lower_start"] += f.lower_start
            s["allcaps_words"] += f.allcaps_words
            s["i_total"] += f.i_total
            s["i_lower"] += f.i_lower
            s["emoji_msgs"] += bool(f.emoji)
            s["emoji_count"] += len(f.emoji)
            s["emoticon_msgs"] += bool(f.emoticons)
            s["greeting_msgs"] += f.greeting is not None
            s["sign_off_msgs"] += f.sign_off is not None
            s["slang_tokens"] += len(f.slang)
            s["slang_msgs"] += bool(f.slang)
            s["formal_markers"] += f.formal_markers
            s["link_msgs"] += f.has_link
            s["code_msgs"] += f.has_code
            s["address_msgs"] += f.addresses
            s["contractions"] += f.contractions
            s["elongated_msgs"] += f.elongated > 0
            s["digit_tokens"] += f.digit_tokens
            s["positive_tokens"] += f.positive
            s["negative_tokens"] += f.negative
            s["positive_msgs"] += f.positive > f.negative
            s["negative_msgs"] += f.negative > f.positive
            s["sentiment_sum"] += f.sentiment
            s["surface_formality_sum"] += f.surface_formality
            s["multiline_msgs"] += f.multiline

            capped = min(f.words, WORDS_HIST_CAP)
            stats.words_hist[capped] = stats.words_hist.get(capped, 0) + 1
            stats.hours[sample.sent_at.hour] += 1
            for token in f.tokens:
                index = FUNCTION_WORD_INDEX.get(token)
                if index is not None:
                    stats.function_words[index] += 1
            lowered = " " + " ".join(sample.text.lower().split()) + " "
            stats.char3.update(lowered[i : i + 3] for i in range(len(lowered) - 2))
            for tag, count in pos.items():
                stats.pos[tag] = stats.pos.get(tag, 0) + count
            stats.topics.update(nouns)
            if f.greeting:
                stats.greetings[f.greeting] += 1
            if f.sign_off:
                stats.sign_offs[f.sign_off] += 1
            stats.slang.update(f.slang)
            stats.emoticons.update(f.emoticons)
            stats.emoji.update(f.emoji)
            stats.add_tokens_to_mattr(f.tokens)

            latency = sample.latency_s
            if latency is not None:
                b = latency_bin(latency)
                stats.latency_hist[b] = stats.latency_hist.get(b, 0) + 1
            if sample.is_reply:
                intent = classify_intent(sample.text)
                if intent is not None:
                    stats.intents[intent] += 1
                    if latency is not None:
                        hist = stats.intent_latency.setdefault(intent, {})
                        hist[latency_bin(latency)] = hist.get(latency_bin(latency), 0) + 1

            t = sample.sent_at.timestamp()
            key = sample.conversation
            previous = stats.last_seen.get(key)
            if previous is not None and 0 <= t - previous <= BURST_GAP_S:
                s["continuations"] += 1
            stats.last_seen[key] = t
            stats.first_at = t if stats.first_at is None else min(stats.first_at, t)
            stats.last_at = t if stats.last_at is None else max(stats.last_at, t)

            if sample.counterpart:
                stats.contacts.setdefault(sample.counterpart, GroupStats()).add(f, latency)
            if sample.conversation:
                stats.channels.setdefault(sample.conversation, GroupStats()).add(f, None)
        stats.compact()
