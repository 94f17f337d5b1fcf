"""Which language a message is in, which languages the owner writes in, and when they differ.

Detection uses ``py3langid`` (langid.py's model, BSD-3-Clause, shipped inside the wheel, offline)
for scripts shared by many languages (Latin, Cyrillic, Arabic, Devanagari), and the script alone
where it names the language (kana → Japanese, Hangul → Korean, Han → Chinese, Greek, Hebrew,
Thai…). Short or mixed texts get no verdict: "ok", "lol", "merci!" or a pasted command say
nothing reliable about a language, so they are never called "not your language".

The drafter calls :func:`foreign_language` with the owner's languages (:func:`owner_languages`
over their own messages, computed once at import): when a message is reliably in a language the
owner never writes in, it says so (:func:`foreign_language_note`) instead of offering English.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

MIN_WORDS: Final = 3
"""Fewer words than this in an alphabet shared by many languages: no verdict."""
MIN_LETTERS: Final = 12
MIN_CONFIDENCE: Final = 0.9
"""py3langid's normalised probability needed for a verdict on Latin-script text."""
FOREIGN_CONFIDENCE: Final = 0.7
"""A looser verdict for "not the owner's language": the top language at least this likely and
the owner's own languages together at most ``OWNER_DOUBT``."""
OWNER_DOUBT: Final = 0.02
NOT_LANGUAGES: Final = frozenset({"zxx", "la", "und"})
"""py3langid codes that are no language a chat message is written in (no linguistic content,
Latin: "cum cum cum")."""
ALIASES: Final[dict[str, str]] = {"pcm": "en"}
"""Codes counted as another language: English-lexified Nigerian Pidgin is what py3langid calls
some terse English chat ("ok, don't come here for debian support")."""
MIN_SCRIPT_LETTERS: Final = 2
"""Letters of a script that names its language (kana, Hangul…) needed for a verdict."""
OWNER_MIN_SHARE: Final = 0.03
OWNER_MIN_COUNT: Final = 2

_NOISE = re.compile(
    r"https?://\S+|www\.\S+|\S+@\S+|@[\w.\-]+|<[^>]{1,40}>|`[^`]*`|\S*[/\\=_{}\[\]|$~#]\S*|"
    r"^\s*[\w.\-\[\]^`|{}]+\s*[:,]\s+"
)
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)

# Scripts whose presence names the language.
_SCRIPT_LANGUAGE: Final[dict[str, str]] = {
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "HANGUL": "ko",
    "CJK": "zh",
    "GREEK": "el",
    "HEBREW": "he",
    "THAI": "th",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "KHMER": "km",
    "LAO": "lo",
    "ETHIOPIC": "am",
    "SINHALA": "si",
    "TAMIL": "ta",
    "TELUGU": "te",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "GUJARATI": "gu",
    "GURMUKHI": "pa",
    "BENGALI": "bn",
    "MYANMAR": "my",
    "TIBETAN": "bo",
}
# Scripts shared by several languages: py3langid decides which, the script vouches for it.
_SHARED_SCRIPTS: Final = frozenset({"CYRILLIC", "ARABIC", "DEVANAGARI"})

NAMES: Final[dict[str, str]] = {
    "af": "Afrikaans",
    "am": "Amharic",
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "bo": "Tibetan",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "eo": "Esperanto",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "gu": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "hy": "Armenian",
    "id": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "ka": "Georgian",
    "km": "Khmer",
    "kn": "Kannada",
    "ko": "Korean",
    "lo": "Lao",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "mk": "Macedonian",
    "ml": "Malayalam",
    "mr": "Marathi",
    "ms": "Malay",
    "my": "Burmese",
    "ne": "Nepali",
    "nl": "Dutch",
    "no": "Norwegian",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "si": "Sinhala",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sq": "Albanian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def language_name(code: str) -> str:
    """The English name of an ISO 639-1 code (the code itself when unknown)."""
    return NAMES.get(code, code)


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageGuess:
    """A verdict on a text's language: ``code`` is ``None`` when the text says too little."""

    code: str | None
    confidence: float = 0.0
    script: str = ""


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


def _scripts(text: str) -> Counter[str]:
    return Counter(_script(c) for c in text if c.isalpha())


class LanguageDetector:
    """py3langid behind a lock, loaded on first use (about half a second), once per process."""

    def __init__(self) -> None:
        self._identifier: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            return self._identifier

    def _rank(self, text: str) -> dict[str, float]:
        identifier = self._load()
        with self._lock:
            ranked = identifier.rank(text)
        return {str(code): float(p) for code, p in ranked if code not in NOT_LANGUAGES}

    def _langid(self, text: str) -> tuple[str, float]:
        ranked = self._rank(text)
        code = max(ranked, key=lambda c: ranked[c])
        return code, ranked[code]

    def detect(self, text: str) -> LanguageGuess:
        """The language of ``text``, or a guess with ``code=None`` when it says too little."""
        return self._detect(text, owner=frozenset())

    def foreign(self, text: str, owner: frozenset[str]) -> str | None:
        """The language of ``text`` when reliably not one of ``owner``'s (see
        :func:`foreign_language`)."""
        if not owner:
            return None
        guess = self._detect(text, owner=owner)
        if guess.code is None or guess.code in owner:
            return None
        return guess.code

    def _detect(self, text: str, *, owner: frozenset[str]) -> LanguageGuess:
        cleaned = _NOISE.sub(" ", text[:2000])
        scripts = _scripts(cleaned)
        letters = sum(scripts.values())
        if not letters:
            return LanguageGuess(code=None)
        script, count = scripts.most_common(1)[0]
        # Japanese mixes kana with Han: any kana makes it Japanese.
        kana = scripts["HIRAGANA"] + scripts["KATAKANA"]
        if kana >= MIN_SCRIPT_LETTERS and kana + scripts["CJK"] >= 0.5 * letters:
            return LanguageGuess(code="ja", confidence=1.0, script="HIRAGANA")
        if script in _SCRIPT_LANGUAGE and count >= 0.5 * letters:
            if count < MIN_SCRIPT_LETTERS:
                return LanguageGuess(code=None, script=script)
            return LanguageGuess(code=_SCRIPT_LANGUAGE[script], confidence=1.0, script=script)
        if script in _SHARED_SCRIPTS and count >= 0.5 * letters:
            if count < 4:
                return LanguageGuess(code=None, script=script)
            code, confidence = self._langid(cleaned)
            return LanguageGuess(code=code, confidence=confidence, script=script)
        words = _WORD.findall(cleaned)
        if script != "LATIN" or len(words) < MIN_WORDS or letters < MIN_LETTERS:
            return LanguageGuess(code=None, script=script)
        ranked: dict[str, float] = {}
        for found, p in self._rank(" ".join(words)).items():
            merged = ALIASES.get(found, found)
            ranked[merged] = ranked.get(merged, 0.0) + p
        code = max(ranked, key=lambda c: ranked[c])
        confidence = ranked[code]
        if confidence >= MIN_CONFIDENCE or (
            owner
            and code not in owner
            and confidence >= FOREIGN_CONFIDENCE
            and sum(ranked.get(o, 0.0) for o in owner) <= OWNER_DOUBT
        ):
            return LanguageGuess(code=code, confidence=confidence, script=script)
        return LanguageGuess(code=None, confidence=confidence, script=script)


_default_lock = threading.Lock()
_default: list[LanguageDetector] = []


def default_detector() -> LanguageDetector:
    """The process-wide detector (its model loads on first use)."""
    with _default_lock:
        if not _default:
            _default.append(LanguageDetector())
        return _default[0]


def detect_language(text: str, *, detector: LanguageDetector | None = None) -> LanguageGuess:
    """The language of one message; see :class:`LanguageDetector`."""
    return (detector or default_detector()).detect(text)


def owner_languages(
    texts: Iterable[str], *, detector: LanguageDetector | None = None
) -> frozenset[str]:
    """The languages the owner writes in: those of at least 3% (and 2) of the owner's messages
    that have a verdict. Empty when nothing could be told (then no message is called foreign)."""
    detector = detector or default_detector()
    counts = Counter(
        guess.code for guess in (detector.detect(t) for t in texts) if guess.code is not None
    )
    total = sum(counts.values())
    return frozenset(
        code
        for code, count in counts.items()
        if count >= OWNER_MIN_COUNT and count >= OWNER_MIN_SHARE * total
    )


def foreign_language(
    text: str, owner: frozenset[str], *, detector: LanguageDetector | None = None
) -> str | None:
    """The language of ``text`` when it is reliably one the owner does not write in, else ``None``.

    Args:
        text: The incoming message.
        owner: :func:`owner_languages` of the owner's own messages; empty means unknown, and an
            unknown owner has no foreign languages.
    """
    return (detector or default_detector()).foreign(text, owner)


def foreign_language_note(code: str) -> str:
    """What drafting says instead of an English answer to a message in language ``code``."""
    name = language_name(code)
    return (
        f"This message is in {name}, and you don't write in {name} in anything I learned from, "
        "so I won't draft an answer in another language. Reply yourself, or import messages "
        f"you wrote in {name} so I can learn how you write in it."
    )
