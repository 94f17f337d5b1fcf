"""When things are due: the next digest in the owner's time zone, and unanswered follow-ups. Pure.

The owner's schedule lives in ``Account.settings["schedule"]`` (encrypted with the account):
the digest's local time and IANA time zone, and the follow-up rule (remind me when a message
scoring at least ``min_score`` waits longer than ``after``). ``bot/scheduler.py`` turns it into
APScheduler jobs; this module only answers questions about times, so it is tested with plain
datetimes (daylight-saving transitions included).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SETTINGS_KEY = "schedule"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_FOLLOWUP_SCORE = 0.6
"""A message scoring at least this is "important" for follow-up reminders."""

_TIME = re.compile(r"^(?P<h>[01]?\d|2[0-3])(?::|h|\.)?(?P<m>[0-5]\d)?$")
_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>d|h|m|min|mins|hours?|days?)", re.I)


class ScheduleError(ValueError):
    """A time, zone or duration the owner typed that cannot be understood (``str()`` is for them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """An owner's digest and follow-up preferences."""

    digest_at: time | None = None
    """Local time of the daily digest; ``None``: no digest."""
    timezone: str = DEFAULT_TIMEZONE
    followup_after: timedelta | None = None
    """Remind when an important message waits this long; ``None``: no reminders."""
    followup_score: float = DEFAULT_FOLLOWUP_SCORE
    deliver_to: str | None = None
    """``platform:user_id`` of the identity that asked (where digests and reminders go)."""

    def to_json(self) -> dict[str, object]:
        return {
            "digest_at": None if self.digest_at is None else self.digest_at.strftime("%H:%M"),
            "timezone": self.timezone,
            "followup_after_s": None
            if self.followup_after is None
            else self.followup_after.total_seconds(),
            "followup_score": self.followup_score,
            "deliver_to": self.deliver_to,
        }

    @classmethod
    def from_json(cls, data: object) -> Schedule:
        if not isinstance(data, Mapping):
            return cls()
        at = data.get("digest_at")
        after = data.get("followup_after_s")
        score = data.get("followup_score")
        zone = data.get("timezone")
        to = data.get("deliver_to")
        return cls(
            digest_at=parse_time(at) if isinstance(at, str) else None,
            timezone=zone if isinstance(zone, str) and is_timezone(zone) else DEFAULT_TIMEZONE,
            followup_after=timedelta(seconds=float(after))
            if isinstance(after, int | float)
            else None,
            followup_score=float(score)
            if isinstance(score, int | float)
            else DEFAULT_FOLLOWUP_SCORE,
            deliver_to=to if isinstance(to, str) else None,
        )


def schedule_of(settings: Mapping[str, object]) -> Schedule:
    """The owner's schedule from their account settings."""
    return Schedule.from_json(settings.get(SETTINGS_KEY))


def with_schedule(settings: Mapping[str, object], schedule: Schedule) -> dict[str, object]:
    """Account settings with ``schedule`` stored (a new dict)."""
    return {**settings, SETTINGS_KEY: schedule.to_json()}


def is_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone known to ``zoneinfo`` (``tzdata`` ships them)."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_time(text: str) -> time:
    """``08:30``, ``8:30``, ``0830``, ``8h30`` or ``8`` → ``time(8, 30)``.

    Raises:
        ScheduleError: anything else.
    """
    match = _TIME.match(text.strip())
    if match is None:
        raise ScheduleError(f"'{text}' is not a time of day; write it like 08:30.")
    return time(int(match.group("h")), int(match.group("m") or 0))


def parse_duration(text: str) -> timedelta:
    """``4h``, ``90m``, ``1d``, ``1h30m`` → a positive ``timedelta``.

    Raises:
        ScheduleError: no duration, or zero.
    """
    compact = text.strip().lower().replace(" ", "")
    total = timedelta()
    position = 0
    for match in _DURATION.finditer(compact):
        if match.start() != position:
            break
        amount = float(match.group("n"))
        unit = match.group("unit")[0]
        total += (
            timedelta(days=amount)
            if unit == "d"
            else (timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount))
        )
        position = match.end()
    if position != len(compact) or total <= timedelta():
        raise ScheduleError(f"'{text}' is not a duration; write it like 4h, 90m or 1d.")
    return total


def local_occurrence(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``at`` on ``day`` in ``zone`` as an aware UTC datetime.

    A time skipped by a spring-forward transition (02:30 when clocks jump from 02:00 to 03:00)
    happens as late as the clocks skipped (03:30); a time repeated in autumn happens the first
    time (``fold=0``), so a digest never comes twice in one night.
    """
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def next_digest(at: time, timezone: str, now: datetime) -> datetime:
    """The first digest strictly after ``now``: ``at`` local time in ``timezone``, in UTC."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    for offset in range(3):
        candidate = local_occurrence(today + timedelta(days=offset), at, zone)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a day later is always after now")  # pragma: no cover


def followup_at(arrived_at: datetime, after: timedelta) -> datetime:
    """When a reminder about a message that arrived at ``arrived_at`` falls due."""
    return arrived_at + after


def followup_due(
    *,
    arrived_at: datetime,
    score: float,
    schedule: Schedule,
    now: datetime,
    answered: bool,
    reminded: bool,
) -> bool:
    """Whether a reminder about this message should go out now (once: ``reminded`` stops it)."""
    if answered or reminded or schedule.followup_after is None:
        return False
    if score < schedule.followup_score:
        return False
    return now >= followup_at(arrived_at, schedule.followup_after)


def describe(schedule: Schedule, *, now: datetime) -> str:
    """The schedule in one or two sentences for the owner."""
    parts = []
    if schedule.digest_at is None:
        parts.append("No daily digest.")
    else:
        nxt = next_digest(schedule.digest_at, schedule.timezone, now).astimezone(
            ZoneInfo(schedule.timezone)
        )
        parts.append(
            f"Daily digest at {schedule.digest_at:%H:%M} ({schedule.timezone}); "
            f"next {nxt:%a %d %b %H:%M}."
        )
    if schedule.followup_after is None:
        parts.append("No follow-up reminders.")
    else:
        parts.append(
            f"Reminders when an important message waits more than "
            f"{format_duration(schedule.followup_after)}."
        )
    return " ".join(parts)


def format_duration(span: timedelta) -> str:
    """``4h``, ``1h30m``, ``2d``: the short form the owner types."""
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    out = "".join(
        f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if value
    )
    return out or "0m"


def schedule_update(schedule: Schedule, **changes: object) -> Schedule:
    """``dataclasses.replace`` for schedules (typed loosely for the command parser)."""
    return replace(schedule, **changes)  # type: ignore[arg-type]
