from __future__ import annotations

from core.drafting.state import pack_state, stale, unpack_state


def test_state_round_trip_and_foreign_bytes() -> None:
    assert unpack_state(pack_state(812, b"npz")) == (812, b"npz")
    assert unpack_state(None) is None and unpack_state(b"PK\x03\x04whatever") is None


def test_retraining_waits_for_a_quarter_more_owner_messages() -> None:
    assert not stale(800, 800) and not stale(800, 850)
    assert stale(800, 1000), "a quarter more: retrain"
    assert not stale(20, 39) and stale(20, 40), "at least 20 new messages"
    assert stale(800, 700), "messages were removed: rebuild"
