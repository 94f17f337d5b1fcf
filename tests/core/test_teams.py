"""The pure rules of issue 17: roles, topics to avoid, mentions, share admission."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.models import UserRef
from core.teams import (
    ANYONE,
    Role,
    Share,
    avoided,
    describe,
    identity_lines,
    mention_id,
    mentions_topic,
    on_topic,
    split_topics,
)


def test_roles_include_the_ones_below() -> None:
    assert Role.EDITOR.allows(Role.REVIEWER) and Role.REVIEWER.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.REVIEWER) and not Role.EDITOR.allows(Role.OWNER)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("We should talk about the Merger soon", "the merger"),
        ("mergers are hard", None),  # "the merger" needs both words
        ("layoffs next week?", "layoff"),
        ("the layoff's impact", "layoff"),
        ("playoffs tonight", None),  # whole words only
        ("PRICING: tbd", "pricing"),
    ],
)
def test_a_topic_matches_as_whole_words_with_plurals(text: str, found: str | None) -> None:
    assert mentions_topic(text, ["the merger", "layoff", "pricing"]) == found


def test_topics_split_and_shape_the_prompt() -> None:
    assert split_topics("Politics,  the merger; pricing\n politics") == (
        "politics",
        "the merger",
        "pricing",
    )
    attributes = {"tone": "dry", "audience": "the team", "avoid": "politics, pricing"}
    assert avoided(attributes) == ("politics", "pricing")
    assert identity_lines(attributes) == [
        "Tone: dry",
        "Audience: the team",
        "Never mention or promise anything about: politics, pricing",
    ]
    assert describe(attributes)[0] == "tone: dry"
    assert on_topic("anything", ()) and not on_topic("lunch?", ("deploys",))


@pytest.mark.parametrize(
    ("word", "found"),
    [("<@U123|ana>", "U123"), ("<@!42>", "42"), ("@ana", "ana"), ("ana", None), ("<#C1>", None)],
)
def test_mentions(word: str, found: str | None) -> None:
    assert mention_id(word) == found


def test_a_share_admits_its_asker_or_anyone_on_its_platform() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    named = Share(
        id="s", account_id="a", persona_id="p", platform="slack", asker="U1", created_at=at
    )
    anyone = Share(
        id="t", account_id="a", persona_id="p", platform="slack", asker=ANYONE, created_at=at
    )
    assert named.admits(UserRef(platform="slack", user_id="U1"))
    assert not named.admits(UserRef(platform="slack", user_id="U2"))
    assert not named.admits(UserRef(platform="discord", user_id="U1"))
    assert anyone.admits(UserRef(platform="slack", user_id="U9"))
    assert not anyone.admits(UserRef(platform="telegram", user_id="U9"))
