from __future__ import annotations

import pytest

from core.drafting.language import (
    LanguageDetector,
    detect_language,
    foreign_language,
    foreign_language_note,
    language_name,
    owner_languages,
)

ENGLISH_OWNER = [
    "sure, I'll send the numbers tomorrow morning",
    "can't make it today, sorry - maybe next week?",
    "thanks, that fixed the build for me",
    "let me check with the team and get back to you",
    "ok",
    "lol",
]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("明日の会議に参加できますか？", "ja"),
        ("谢谢你的帮助", "zh"),
        ("안녕하세요, 내일 회의에 오시나요?", "ko"),
        ("Kannst du mir bitte den Bericht bis Freitag schicken?", "de"),
        ("Je ne sais pas pourquoi ça ne marche pas", "fr"),
        ("Привет, ты придёшь завтра на встречу?", "ru"),
        ("Can you send me the report by Friday afternoon?", "en"),
    ],
)
def test_detects_the_language_of_real_sentences(text: str, code: str) -> None:
    assert detect_language(text).code == code


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "lol",
        "merci!",
        "hola",
        "👍",
        "",
        "   ",
        "sudo apt-get install nvidia-current",
        "16.04",
    ],
)
def test_short_or_code_like_texts_get_no_verdict(text: str) -> None:
    assert detect_language(text).code is None


def test_owner_languages_come_from_their_own_messages() -> None:
    assert owner_languages(ENGLISH_OWNER) == frozenset({"en"})
    bilingual = [
        *ENGLISH_OWNER,
        "claro, te lo mando mañana por la mañana",
        "no puedo hoy, lo siento mucho",
    ]
    assert owner_languages(bilingual) == frozenset({"en", "es"})
    assert owner_languages([]) == frozenset()
    assert owner_languages(["ok", "k"]) == frozenset()


def test_a_message_in_a_language_the_owner_does_not_write_is_foreign() -> None:
    owner = owner_languages(ENGLISH_OWNER)
    assert foreign_language("明日の会議に参加できますか？", owner) == "ja"
    assert foreign_language("¿Dónde está la reunión de mañana?", owner) == "es"
    assert foreign_language("can you review my PR today?", owner) is None
    # Too short to tell, or mixed with English: never "not your language".
    assert foreign_language("ok", owner) is None
    assert foreign_language("merci!", owner) is None
    assert foreign_language("Hola, can you send the report?", owner) is None
    # An owner we know nothing about has no foreign languages.
    assert foreign_language("明日の会議に参加できますか？", frozenset()) is None
    # An owner who writes Japanese gets Japanese messages drafted.
    assert foreign_language("明日の会議に参加できますか？", frozenset({"en", "ja"})) is None


def test_the_note_names_the_language() -> None:
    note = foreign_language_note("ja")
    assert "Japanese" in note
    assert language_name("xx") == "xx"


def test_detector_is_loaded_once_and_handles_huge_and_binary_input() -> None:
    detector = LanguageDetector()
    assert detector.detect("\x00\x01\x02\ufffd" * 100).code is None
    assert detector.detect("word " * 5000).code in (None, "en")
    assert detector._load() is detector._load()
