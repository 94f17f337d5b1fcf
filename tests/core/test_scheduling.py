"""Pure schedule logic: digest times in the owner's zone (DST both ways), follow-up rule, parsing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.scheduling import (
    Schedule,
    ScheduleError,
    followup_due,
    format_duration,
    is_timezone,
    next_digest,
    parse_duration,
    parse_time,
    schedule_of,
    with_schedule,
)


def test_next_digest_follows_the_owners_wall_clock_across_both_transitions() -> None:
    paris = "Europe/Paris"
    # Spring forward (29 March 2026): 08:30 is 07:30 UTC before, 06:30 UTC after.
    first = next_digest(time(8, 30), paris, datetime(2026, 3, 28, 0, 0, tzinfo=UTC))
    second = next_digest(time(8, 30), paris, first)
    assert (first, second) == (
        datetime(2026, 3, 28, 7, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 6, 30, tzinfo=UTC),
    )
    # Fall back (25 October 2026): back to 07:30 UTC.
    autumn = next_digest(time(8, 30), paris, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert autumn == datetime(2026, 10, 25, 7, 30, tzinfo=UTC)
    # A wall time skipped by the jump happens once, shifted by the gap; a repeated one once.
    skipped = next_digest(time(2, 30), paris, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert skipped == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    repeated = next_digest(time(2, 30), paris, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert repeated == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert next_digest(time(2, 30), paris, repeated) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
    st.times(),
)
def test_the_next_digest_is_after_now_and_within_a_day(
    naive: datetime, zone: str, at: time
) -> None:
    now = naive.replace(tzinfo=UTC)
    nxt = next_digest(at.replace(microsecond=0, tzinfo=None), zone, now)
    assert now < nxt <= now + timedelta(hours=26)


def test_followup_fires_for_important_unanswered_messages_once() -> None:
    rule = Schedule(followup_after=timedelta(hours=4), followup_score=0.6)
    t0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

    def due(**kw: object) -> bool:
        args: dict[str, object] = {
            "arrived_at": t0,
            "score": 0.8,
            "schedule": rule,
            "now": t0 + timedelta(hours=4),
            "answered": False,
            "reminded": False,
        }
        args.update(kw)
        return followup_due(**args)  # type: ignore[arg-type]

    assert due()
    assert not due(now=t0 + timedelta(hours=3, minutes=59))
    assert not due(score=0.5)
    assert not due(answered=True)
    assert not due(reminded=True)
    assert not due(schedule=Schedule())


def test_parsing_and_settings_round_trip() -> None:
    assert parse_time("08:30") == parse_time("8h30") == parse_time("0830") == time(8, 30)
    assert parse_time("7") == time(7, 0)
    for bad in ("25:00", "8:61", "noon", ""):
        with pytest.raises(ScheduleError):
            parse_time(bad)
    assert parse_duration("4h") == timedelta(hours=4)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2d") == timedelta(days=2)
    for bad in ("0h", "soon", "4x", ""):
        with pytest.raises(ScheduleError):
            parse_duration(bad)
    assert format_duration(timedelta(hours=26, minutes=5)) == "1d2h5m"
    assert is_timezone("Europe/Paris") and not is_timezone("Mars/Olympus")
    assert not is_timezone("../../etc/passwd")

    schedule = Schedule(
        digest_at=time(8, 30),
        timezone="Europe/Paris",
        followup_after=timedelta(hours=4),
        followup_score=0.7,
        deliver_to="slack:U1",
    )
    settings = with_schedule({"vips": ["a"]}, schedule)
    assert settings["vips"] == ["a"] and schedule_of(settings) == schedule
    assert schedule_of({}) == Schedule()
    assert schedule_of({"schedule": {"timezone": "Nowhere/Land"}}).timezone == "UTC"
