"""Filters: what the owner can mute or flag, and what each one matches (and nothing else)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.models import Message
from core.understanding import filters as f

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def message(text: str, sender: str = "ana", conversation: str = "dm:ana") -> Message:
    return Message(
        id=text[:10], conversation=conversation, thread=None, sender=sender, text=text, sent_at=NOW
    )


@pytest.mark.parametrize(
    ("kind", "pattern", "says"),
    [
        ("topic", "", "Say what to filter"),
        ("topic", "   ", "Say what to filter"),
        ("topic", "x" * (f.MAX_PATTERN + 1), f"at most {f.MAX_PATTERN}"),
        ("topic", "y" * 50_000, "50,000 characters"),
        ("colour", "red", "topic, a sender or a kind"),
        ("kind", "spam", "I don't know the kind 'spam'"),
        ("topic", "?!...", "at least one letter"),
    ],
)
def test_bad_filters_are_refused_with_a_clear_reason(kind: str, pattern: str, says: str) -> None:
    with pytest.raises(f.FilterError, match=says.replace("(", r"\(").replace("?", r"\?")):
        f.parse_filter(kind, pattern)


def test_a_topic_matches_whole_words_in_any_case_and_nothing_else() -> None:
    rule = f.parse_filter("topic", "crypto")
    assert rule.matches(message("anyone into CRYPTO these days?"))
    assert not rule.matches(message("cryptography lecture notes attached"))
    phrase = f.parse_filter("topic", "team   offsite")
    assert phrase.matches(message("the team\noffsite is on friday"))
    assert phrase.pattern == "team offsite"


def test_sender_and_kind_filters() -> None:
    bot = f.parse_filter("sender", "News-Bot")
    assert bot.matches(message("daily news", sender="news-bot"))
    assert not bot.matches(message("daily news", sender="ana"))
    channel = f.parse_filter("sender", "#random")
    assert channel.matches(message("lol", conversation="#random"))
    fyi = f.parse_filter("kind", "FYI")
    assert fyi.pattern == "fyi" and fyi.acts() == ("information",)
    assert fyi.matches(message("fyi the office is closed on friday"))
    assert not fyi.matches(message("can you review my PR today?"))


def test_first_match_keeps_mute_and_flag_apart_and_the_filters_round_trip() -> None:
    rules = [
        f.parse_filter("topic", "crypto"),
        f.parse_filter("sender", "zed", flag=True),
    ]
    crypto = message("crypto meetup tonight?", sender="zed")
    assert f.first_match(rules, crypto) == rules[0]
    assert f.first_match(rules, crypto, flag=True) == rules[1]
    assert f.first_match(rules, message("lunch?")) is None
    assert f.from_bytes(f.to_bytes(rules)) == rules
    assert f.from_bytes(b"{}") == [] and f.from_bytes(None) == []
    assert f.avoided_topics(rules) == [rules[0]]
