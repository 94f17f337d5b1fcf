"""When posts go out (pure): ``--at`` in the owner's zone, posting windows, the next slot."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from core.post_times import (
    Window,
    in_window,
    next_slot,
    parse_at,
    parse_days,
    parse_window,
    window_of,
    with_window,
)
from core.publishing import record_key
from core.scheduling import ScheduleError

# Friday 27 March 2026, 15:00 UTC (16:00 in Paris, winter time; the clocks change on Sunday).
NOW = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("sat 09:00", "Europe/Paris", datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
        ("mon 09:00", "Europe/Paris", datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),  # summer time
        ("fri 09:00", "UTC", datetime(2026, 4, 3, 9, 0, tzinfo=UTC)),  # today's has passed
        ("fri 18:00", "UTC", datetime(2026, 3, 27, 18, 0, tzinfo=UTC)),
        ("tomorrow 8:30", "America/New_York", datetime(2026, 3, 28, 12, 30, tzinfo=UTC)),
        ("09:30", "UTC", datetime(2026, 3, 28, 9, 30, tzinfo=UTC)),  # the next 09:30
        ("9pm", "UTC", datetime(2026, 3, 27, 21, 0, tzinfo=UTC)),
        ("2026-12-10 14:30", "Europe/Paris", datetime(2026, 12, 10, 13, 30, tzinfo=UTC)),
        ("in 2h", "UTC", datetime(2026, 3, 27, 17, 0, tzinfo=UTC)),
        ("in 90 minutes", "UTC", datetime(2026, 3, 27, 16, 30, tzinfo=UTC)),
    ],
)
def test_at_is_read_in_the_owners_zone(text: str, zone: str, expected: datetime) -> None:
    assert parse_at(text, now=NOW, zone=zone) == expected


@pytest.mark.parametrize(
    ("text", "zone", "said"),
    [
        ("2020-01-01 09:00", "UTC", "already passed"),
        ("today 08:00", "UTC", "already passed"),
        ("fri 09:00", "Mars/Phobos", "'Mars/Phobos' is not a time zone"),
        ("someday", "UTC", "'someday' is not a time of day"),
        ("next week sometime", "UTC", "is not a time I can read"),
        ("2026-13-40 09:00", "UTC", "is not a date"),
        ("in 400 days", "UTC", "more than a year away"),
        ("", "UTC", "When?"),
    ],
)
def test_bad_times_say_why(text: str, zone: str, said: str) -> None:
    with pytest.raises(ScheduleError, match=said):
        parse_at(text, now=NOW, zone=zone)


def test_days_and_windows() -> None:
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    assert parse_days("sat,sun") == frozenset({5, 6})
    assert parse_days("daily") == frozenset(range(7))
    with pytest.raises(ScheduleError):
        parse_days("funday")
    window = parse_window("mon-fri", "08:00-18:00")
    assert window == Window(days=frozenset(range(5)), start=time(8), end=time(18))
    assert window.describe() == "mon-fri 08:00-18:00"
    with pytest.raises(ScheduleError):
        parse_window("mon-fri", "18:00-08:00")
    settings = with_window({"other": 1}, "p1", window)
    assert window_of(settings, "p1") == window and window_of(settings, "p2") is None
    assert window_of(with_window(settings, "p1", None), "p1") is None


def test_the_next_slot_is_inside_the_window_in_the_owners_zone() -> None:
    window = parse_window("mon-fri", "08:00-18:00")
    # Friday 16:00 Paris is inside: the next quarter hour at least 5 minutes away.
    assert next_slot(window, now=NOW, zone="Europe/Paris") == datetime(
        2026, 3, 27, 15, 15, tzinfo=UTC
    )
    # Friday 17:58 Paris: too late today; Monday 08:00 Paris (summer time by then).
    late = datetime(2026, 3, 27, 16, 58, tzinfo=UTC)
    assert next_slot(window, now=late, zone="Europe/Paris") == datetime(
        2026, 3, 30, 6, 0, tzinfo=UTC
    )
    assert in_window(window, datetime(2026, 3, 30, 6, 0, tzinfo=UTC), "Europe/Paris")
    assert not in_window(window, datetime(2026, 3, 28, 10, 0, tzinfo=UTC), "Europe/Paris")
    assert next_slot(None, now=NOW, zone="UTC") == datetime(2026, 3, 27, 15, 15, tzinfo=UTC)


def test_record_keys_are_stable_distinct_tids() -> None:
    from core.models import Account
    from tests.storage.test_posts_store import a_post  # a post with fixed times

    account = Account(id="a" * 32, created_at=NOW)
    post = a_post(account, "p" * 32)
    keys = [record_key(post, i) for i in range(9)]
    assert keys == [record_key(post, i) for i in range(9)]  # the same on every retry
    assert len(set(keys)) == 9 and all(len(k) == 13 for k in keys)
    assert all(k[0] in "234567abcdefghij" for k in keys)  # a TID's top bit is 0
    assert keys == sorted(keys)  # TIDs sort by time: the thread's order
