"""Surface features of one message, measured with regular expressions (no model needed).

The profiler sums these over many messages; the verifier uses the per-message vector
(:func:`stylometric_vector`) as one of its feature blocks, so both see the same habits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from core.profiling.lexicons import (
    ACRONYMS,
    EMOJI_RE,
    EMOTICON_RE,
    FORMAL_MARKERS,
    FUNCTION_WORD_INDEX,
    GREETINGS,
    NEGATIVE,
    POSITIVE,
    SIGN_OFFS,
    SLANG,
)

WORD_RE = re.compile(r"[A-Za-z][A-Za-z']*")
# "nick: ..." (IRC, Slack) or "@nick ..."; "word, ..." is too common in prose to count.
_ADDRESS_RE = re.compile(r"^\s*(?:@[\w.\-]{1,32}[:,]?|[\w\-\[\]\\^|`{}.]{1,32}:)\s+")
_MENTION_RE = re.compile(r"(?:^|\s)@\w+")
_SENTENCE_END_RE = re.compile(r"[.!?\u2026]+(?=\s+|$)|\n+")
_LINK_RE = re.compile(r"https?://|\bwww\.\w", re.IGNORECASE)
_CODE_RE = re.compile(
    r"`|^\s*[$#] |\b(?:sudo|apt-get|apt|dpkg|grep|cat|echo|pip|git|chmod|chown|mount|ls|cd)\s+[-\w/.~]"
    r"|(?:^|\s)/(?:etc|usr|var|home|dev|boot|opt|tmp|proc|lib)/|(?:^|\s)--?[a-z][\w-]+"
    r"|\w+\(\)|[{};]\s*$|\w+\.(?:py|sh|conf|cfg|list|deb|txt|log|js|json)\b"
)
_CONTRACTION_RE = re.compile(r"[A-Za-z]+'(?:s|t|re|ve|ll|d|m)\b", re.IGNORECASE)
_ELONGATED_RE = re.compile(r"([A-Za-z])\1{2,}")
_DIGIT_RE = re.compile(r"\d")
_I_RE = re.compile(r"(?<![\w'])([iI])(?=$|[\s',.!?;:])(?!\.\w)")
_SIGNATURE_RE = re.compile(r"^\s*(?:--|\u2014|~|-)\s*(\S.{0,24})$")
_TRAIL_STRIP = " \t\r\n\"')]}*_"

GREETING_SET = frozenset(GREETINGS)
SIGN_OFF_SET = frozenset(SIGN_OFFS)


@dataclass(slots=True)
class TextFeatures:
    """What one message shows about its writer's habits (counts, not rates)."""

    words: int = 0
    chars: int = 0
    sentences: int = 0
    tokens: list[str] = field(default_factory=list)
    """Lower-cased word tokens (letters and apostrophes)."""
    function_words: int = 0
    commas: int = 0
    ending: str = "none"
    """How the message ends: ``period``, ``question``, ``exclaim``, ``ellipsis``, ``emoji`` or ``none``."""
    has_question: bool = False
    has_exclaim: bool = False
    has_ellipsis: bool = False
    starts_with_letter: bool = False
    lower_start: bool = False
    allcaps_words: int = 0
    i_total: int = 0
    i_lower: int = 0
    emoji: list[str] = field(default_factory=list)
    emoticons: list[str] = field(default_factory=list)
    greeting: str | None = None
    sign_off: str | None = None
    slang: list[str] = field(default_factory=list)
    formal_markers: int = 0
    has_link: bool = False
    has_code: bool = False
    addresses: bool = False
    """Starts by addressing someone (``nick: …``) or mentions ``@someone``."""
    contractions: int = 0
    elongated: int = 0
    digit_tokens: int = 0
    positive: int = 0
    negative: int = 0
    multiline: bool = False

    @property
    def sentiment(self) -> float:
        """Tone of the message in [-1, 1] from the small lexicon (0 when neutral)."""
        total = self.positive + self.negative
        return 0.0 if total == 0 else (self.positive - self.negative) / total

    @property
    def surface_formality(self) -> float:
        """A 0-1 formality guess from surface cues alone (capitals, punctuation, no slang)."""
        cues = [
            1.0 if not self.starts_with_letter or not self.lower_start else 0.0,
            1.0 if self.ending in ("period", "question", "exclaim") else 0.0,
            0.0 if self.slang else 1.0,
        ]
        if self.i_total:
            cues.append(0.0 if self.i_lower else 1.0)
        return sum(cues) / len(cues)


def _strip_address(text: str) -> tuple[str, bool]:
    match = _ADDRESS_RE.match(text)
    if match and " " not in match.group(0).strip():
        return text[match.end() :], True
    return text, False


def strip_address(text: str) -> str:
    """The message without a leading ``nick:``/``@nick,`` addressing its recipient."""
    return _strip_address(text)[0]


def _ending(text: str, emoji_or_emoticon_end: bool) -> str:
    stripped = text.rstrip(_TRAIL_STRIP)
    if emoji_or_emoticon_end:
        return "emoji"
    if not stripped:
        return "none"
    if stripped.endswith(("...", "\u2026")):
        return "ellipsis"
    last = stripped[-1]
    if last == "?":
        return "question"
    if last == "!":
        return "exclaim"
    if last == ".":
        return "period"
    return "none"


def _greeting(tokens: list[str]) -> str | None:
    if not tokens:
        return None
    if len(tokens) >= 2 and f"{tokens[0]} {tokens[1]}" in GREETING_SET:
        return f"{tokens[0]} {tokens[1]}"
    if tokens[0] in GREETING_SET:
        return tokens[0]
    return None


def _sign_off(text: str, tokens: list[str]) -> str | None:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1]
    signature = _SIGNATURE_RE.match(last)
    if signature and len(last.split()) <= 4 and len(lines) >= 1 and len(tokens) > 2:
        return "-- " + signature.group(1).strip()
    if len(lines) >= 2:
        # "Cheers,\nAnna": the formula is on the line before a short name line.
        for line in (lines[-1], lines[-2]):
            phrase = line.lower().strip(" ,.!-")
            if phrase in SIGN_OFF_SET:
                return phrase
        return None
    if len(tokens) < 4:
        return None
    # One-line messages: a formula after the last comma or full stop ("see you then, cheers").
    tail = re.split(r"[,.!;]\s+", last.lower())[-1].strip(" ,.!-")
    if tail in SIGN_OFF_SET and tail != last.lower().strip(" ,.!-"):
        return tail
    return None


def analyse(text: str) -> TextFeatures:
    """Measure one message.

    Args:
        text: The message as written.

    Returns:
        Counts and flags of the habits the profile tracks.
    """
    f = TextFeatures()
    f.chars = len(text)
    f.words = len(text.split())
    body, f.addresses = _strip_address(text)
    if not f.addresses and _MENTION_RE.search(text):
        f.addresses = True
    tokens = [t.lower().strip("'") for t in WORD_RE.findall(body)]
    tokens = [t for t in tokens if t]
    f.tokens = tokens
    f.sentences = max(1, len(_SENTENCE_END_RE.findall(body.strip()))) if body.strip() else 0
    stripped = body.strip()
    if stripped:
        first = stripped[0]
        f.starts_with_letter = first.isalpha()
        f.lower_start = first.isalpha() and first.islower()
    f.commas = body.count(",")
    f.has_question = "?" in body
    f.has_exclaim = "!" in body
    f.has_ellipsis = "..." in body or "\u2026" in body
    f.emoji = EMOJI_RE.findall(body)
    f.emoticons = EMOTICON_RE.findall(body)
    tail = stripped.rstrip(_TRAIL_STRIP)
    ends_with_face = bool(tail) and (
        bool(EMOJI_RE.match(tail[-1]))
        or any(tail.endswith(e) for e in f.emoticons)
        or tail.endswith("\ufe0f")
    )
    f.ending = _ending(stripped, ends_with_face)
    fw = 0
    slang = []
    formal = positive = negative = 0
    for token in tokens:
        if token in FUNCTION_WORD_INDEX:
            fw += 1
        if token in SLANG:
            slang.append(token)
        if token in FORMAL_MARKERS:
            formal += 1
        if token in POSITIVE:
            positive += 1
        elif token in NEGATIVE:
            negative += 1
    f.function_words = fw
    f.slang = slang
    f.formal_markers = formal
    f.positive = positive
    f.negative = negative
    for raw in body.split():
        word = raw.strip(".,!?;:()\"'")
        if len(word) >= 2 and word.isalpha() and word.isupper() and word not in ACRONYMS:
            f.allcaps_words += 1
        if _DIGIT_RE.search(raw):
            f.digit_tokens += 1
    for match in _I_RE.finditer(body):
        f.i_total += 1
        if match.group(1) == "i":
            f.i_lower += 1
    f.greeting = _greeting(tokens)
    f.sign_off = _sign_off(body, tokens)
    f.has_link = bool(_LINK_RE.search(body))
    f.has_code = bool(_CODE_RE.search(body))
    f.contractions = len(_CONTRACTION_RE.findall(body))
    f.elongated = len(_ELONGATED_RE.findall(body))
    f.multiline = "\n" in text.strip()
    return f


STYLOMETRIC_NAMES: tuple[str, ...] = (
    "log_words",
    "log_chars",
    "chars_per_word",
    "words_per_sentence",
    "function_word_share",
    "commas_per_word",
    "end_period",
    "end_question",
    "end_exclaim",
    "end_ellipsis",
    "end_emoji",
    "end_none",
    "has_question",
    "has_exclaim",
    "lower_start",
    "upper_start",
    "allcaps_share",
    "i_lower",
    "i_upper",
    "emoji_or_emoticon",
    "greeting",
    "sign_off",
    "slang_share",
    "formal_markers",
    "has_link",
    "has_code",
    "addresses",
    "contraction_share",
    "elongated",
    "digit_share",
    "sentiment",
    "multiline",
)


def stylometric_vector(f: TextFeatures) -> list[float]:
    """The per-message numeric view of :class:`TextFeatures`, in ``STYLOMETRIC_NAMES`` order."""
    words = max(1, f.words)
    ntok = max(1, len(f.tokens))
    return [
        math.log1p(f.words),
        math.log1p(f.chars),
        f.chars / words,
        f.words / max(1, f.sentences),
        f.function_words / ntok,
        f.commas / words,
        float(f.ending == "period"),
        float(f.ending == "question"),
        float(f.ending == "exclaim"),
        float(f.ending == "ellipsis"),
        float(f.ending == "emoji"),
        float(f.ending == "none"),
        float(f.has_question),
        float(f.has_exclaim),
        float(f.lower_start),
        float(f.starts_with_letter and not f.lower_start),
        f.allcaps_words / words,
        float(f.i_lower > 0),
        float(f.i_total > f.i_lower),
        float(bool(f.emoji or f.emoticons)),
        float(f.greeting is not None),
        float(f.sign_off is not None),
        len(f.slang) / ntok,
        float(f.formal_markers > 0),
        float(f.has_link),
        float(f.has_code),
        float(f.addresses),
        f.contractions / words,
        float(f.elongated > 0),
        f.digit_tokens / words,
        f.sentiment,
        float(f.multiline),
    ]
