"""When a post goes out: ``--at "fri 09:00"`` in the owner's zone, and per-persona posting
windows (``mon-fri 08:00-18:00``). Pure: plain datetimes in, aware UTC datetimes out.

Windows live in ``Account.settings["post_windows"]`` by persona id (encrypted with the
account); the owner's time zone is the one ``digest``/``onboard tz`` set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.scheduling import ScheduleError, is_timezone, local_occurrence, parse_time

SETTINGS_KEY = "post_windows"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    **{d: i for i, d in enumerate(DAYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
LEAD = timedelta(minutes=5)
"""The earliest a Schedule click without a time puts a post: a few minutes from now."""
HORIZON = timedelta(days=366)
"""A post cannot be scheduled further ahead than this."""
_IN = re.compile(r"^in\s+(?P<n>\d{1,4})\s*(?P<unit>m|min|mins|minutes?|h|hours?|d|days?)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """When a persona posts: on these weekdays (0 = Monday), between these local times."""

    days: frozenset[int]
    start: time
    end: time

    def describe(self) -> str:
        return f"{describe_days(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"

    def to_json(self) -> dict[str, object]:
        return {
            "days": sorted(self.days),
            "start": f"{self.start:%H:%M}",
            "end": f"{self.end:%H:%M}",
        }

    @classmethod
    def from_json(cls, data: object) -> Window | None:
        if not isinstance(data, Mapping):
            return None
        try:
            days = frozenset(int(d) for d in data["days"] if 0 <= int(d) <= 6)
            return cls(days=days, start=parse_time(data["start"]), end=parse_time(data["end"]))
        except (KeyError, TypeError, ValueError):
            return None


def describe_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) == 7:
        return "every day"
    if len(ordered) > 1 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAYS[ordered[0]]}-{DAYS[ordered[-1]]}"
    return ",".join(DAYS[d] for d in ordered)


def parse_days(text: str) -> frozenset[int]:
    """``mon-fri``, ``mon,wed,fri``, ``sat`` or ``daily`` → weekday numbers.

    Raises:
        ScheduleError: a day it does not know.
    """
    lowered = text.strip().lower()
    if lowered in ("daily", "everyday", "every-day", "all"):
        return frozenset(range(7))
    days: set[int] = set()
    for piece in lowered.split(","):
        first, _, last = piece.partition("-")
        if first not in _DAY_NAMES or (last and last not in _DAY_NAMES):
            raise ScheduleError(f"'{text}' is not a set of days; write it like mon-fri or sat,sun.")
        a, b = _DAY_NAMES[first], _DAY_NAMES[last or first]
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


def parse_window(days: str, hours: str) -> Window:
    """``mon-fri`` and ``08:00-18:00`` → a :class:`Window`.

    Raises:
        ScheduleError: bad days or hours, or an empty span of hours.
    """
    start_text, dash, end_text = hours.partition("-")
    if not dash:
        raise ScheduleError(f"'{hours}' is not a span of hours; write it like 08:00-18:00.")
    start, end = parse_time(start_text), parse_time(end_text)
    if end <= start:
        raise ScheduleError("The window must end after it starts (08:00-18:00).")
    return Window(days=parse_days(days), start=start, end=end)


def window_of(settings: Mapping[str, object], persona_id: str) -> Window | None:
    """The persona's posting window, if the owner set one."""
    windows = settings.get(SETTINGS_KEY)
    return Window.from_json(windows.get(persona_id)) if isinstance(windows, Mapping) else None


def with_window(
    settings: Mapping[str, object], persona_id: str, window: Window | None
) -> dict[str, object]:
    """``settings`` with the persona's window set (or removed with ``None``)."""
    current = settings.get(SETTINGS_KEY)
    windows: dict[str, object] = dict(current) if isinstance(current, Mapping) else {}
    if window is None:
        windows.pop(persona_id, None)
    else:
        windows[persona_id] = window.to_json()
    return {**settings, SETTINGS_KEY: windows}


def _quarter_up(moment: datetime) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    return moment + timedelta(minutes=(-moment.minute) % 15)


def next_slot(window: Window | None, *, now: datetime, zone: str) -> datetime:
    """The first quarter hour at least :data:`LEAD` from now inside ``window`` (any time when
    there is none), as aware UTC."""
    earliest = _quarter_up(now + LEAD).astimezone(UTC)
    if window is None or not window.days:
        return earliest
    tz = ZoneInfo(zone)
    local = earliest.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in window.days:
            continue
        opens = local_occurrence(day, window.start, tz)
        closes = local_occurrence(day, window.end, tz)
        candidate = max(opens, earliest)
        if candidate < closes:
            return candidate.astimezone(UTC)
    return earliest


def in_window(window: Window | None, moment: datetime, zone: str) -> bool:
    if window is None:
        return True
    local = moment.astimezone(ZoneInfo(zone))
    return local.weekday() in window.days and window.start <= local.time() < window.end


def parse_at(text: str, *, now: datetime, zone: str) -> datetime:
    """``fri 09:00``, ``tomorrow 9``, ``09:30`` (the next one), ``2026-12-10 14:30`` or
    ``in 2h``, in ``zone`` → aware UTC.

    Raises:
        ScheduleError: an unknown zone, a time it cannot read, or one in the past.
    """
    if not is_timezone(zone):
        raise ScheduleError(
            f"'{zone}' is not a time zone I know; try Europe/Paris or America/New_York."
        )
    tz = ZoneInfo(zone)
    words = text.strip().lower().split()
    if not words:
        raise ScheduleError('When? Write it like --at "fri 09:00".')
    relative = _IN.match(" ".join(words))
    if relative:
        n, unit = int(relative.group("n")), relative.group("unit")[0]
        span = {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]
        return _checked(now + span, now=now)
    local_now = now.astimezone(tz)
    day: date | None = None
    if words[0] in ("today", "tomorrow") or words[0] in _DAY_NAMES or _DATE.match(words[0]):
        head, words = words[0], words[1:]
        if head == "today":
            day = local_now.date()
        elif head == "tomorrow":
            day = local_now.date() + timedelta(days=1)
        elif head in _DAY_NAMES:
            ahead = (_DAY_NAMES[head] - local_now.weekday()) % 7
            day = local_now.date() + timedelta(days=ahead)
        else:
            try:
                day = date.fromisoformat(head)
            except ValueError as error:
                raise ScheduleError(f"'{head}' is not a date; write it like 2026-12-10.") from error
    if len(words) != 1:
        raise ScheduleError(
            f'\'{text}\' is not a time I can read; write it like "fri 09:00", "tomorrow 8:30", '
            '"2026-12-10 14:30" or "in 2h".'
        )
    spoken = words[0]
    at = parse_time(spoken[:-2] if spoken.endswith(("am", "pm")) else spoken)
    if spoken.endswith("pm") and at.hour < 12:
        at = at.replace(hour=at.hour + 12)
    if day is None:
        day = local_now.date()
        if local_occurrence(day, at, tz) <= now:
            day += timedelta(days=1)
    elif (
        local_occurrence(day, at, tz) <= now and _DAY_NAMES.get(text.split()[0].lower()) is not None
    ):
        day += timedelta(days=7)  # "fri 09:00" on a Friday afternoon: next Friday
    return _checked(local_occurrence(day, at, tz).astimezone(UTC), now=now)


def _checked(moment: datetime, *, now: datetime) -> datetime:
    if moment <= now:
        raise ScheduleError("That time has already passed; pick one in the future.")
    if moment - now > HORIZON:
        raise ScheduleError("That is more than a year away; pick a nearer time.")
    return moment.astimezone(UTC)
