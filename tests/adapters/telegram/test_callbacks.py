"""Signed inline-button data: round trip, tampering, other users, expiry, Telegram's 64 bytes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.telegram.callbacks import (
    MAX_BYTES,
    CallbackCodec,
    CallbackExpired,
    CallbackForged,
    derive_key,
)
from core.models import Action

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CODEC = CallbackCodec(derive_key("7000000001:AAFakeTokenForTests_abcdefghijklmnopqrstu"))


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("option", [0, 2, 35])
def test_round_trip_within_64_bytes(action: Action, option: int) -> None:
    draft_id = uuid.uuid4().hex
    data = CODEC.encode(action=action, draft_id=draft_id, option=option, user_id="1000001", now=NOW)
    assert len(data.encode()) <= MAX_BYTES
    click = CODEC.decode(data, user_id="1000001", now=NOW + timedelta(minutes=5))
    assert (click.action, click.draft_id, click.option) == (action, draft_id, option)
    assert NOW - timedelta(minutes=1) <= click.issued_at <= NOW


def test_another_user_or_key_cannot_use_the_button() -> None:
    data = CODEC.encode(action=Action.SEND, draft_id="abc", option=0, user_id="1", now=NOW)
    with pytest.raises(CallbackForged):
        CODEC.decode(data, user_id="2", now=NOW)
    other = CallbackCodec(derive_key("another bot token"))
    with pytest.raises(CallbackForged):
        other.decode(data, user_id="1", now=NOW)


def test_every_changed_character_is_refused() -> None:
    data = CODEC.encode(action=Action.SEND, draft_id="d" * 32, option=1, user_id="1", now=NOW)
    for position, char in enumerate(data):
        for replacement in {"0", "s", "A", "z", "_"} - {char}:
            tampered = data[:position] + replacement + data[position + 1 :]
            with pytest.raises(CallbackForged):
                CODEC.decode(tampered, user_id="1", now=NOW)


def test_old_buttons_expire_with_a_clear_message() -> None:
    data = CODEC.encode(action=Action.SEND, draft_id="abc", option=0, user_id="1", now=NOW)
    CODEC.decode(data, user_id="1", now=NOW + timedelta(hours=47))
    with pytest.raises(CallbackExpired, match="expired"):
        CODEC.decode(data, user_id="1", now=NOW + timedelta(hours=49))


def test_what_cannot_be_encoded_is_refused_up_front() -> None:
    with pytest.raises(ValueError):
        CODEC.encode(action=Action.SEND, draft_id="a:b", option=0, user_id="1", now=NOW)
    with pytest.raises(ValueError):
        CODEC.encode(action=Action.SEND, draft_id="x" * 41, option=0, user_id="1", now=NOW)
    with pytest.raises(ValueError):
        CallbackCodec(b"short")


@given(st.text(max_size=80) | st.none())
def test_arbitrary_data_is_only_ever_refused(data: str | None) -> None:
    with pytest.raises(CallbackForged):
        CODEC.decode(data, user_id="1", now=NOW)
