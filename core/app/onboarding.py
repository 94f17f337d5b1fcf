"""Onboarding: the short question flow (``onboard``) that seeds the prioritiser's prior."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from core import scheduling
from core.app.context import AppContext
from core.app.models import ModelCache
from core.app.schedules import Schedules
from core.models import Account, Reply

ONBOARDING_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("vips", "vips", "Whose messages should never wait? `onboard vips alice, bob`"),
    (
        "hours",
        "working_hours",
        "When do you work? `onboard hours 09:00-18:00 Europe/Paris`",
    ),
    ("topics", "topics", "What do you care about most? `onboard topics deploy, invoices`"),
    ("wait", "low_priority", "Whose messages can always wait? `onboard wait newsletter, ci-bot`"),
)
"""(command word, settings key, question) of the onboarding flow, in the order asked."""
ONBOARDING_KEYS = {word: key for word, key, _ in ONBOARDING_QUESTIONS}


def _next_question(settings: Mapping[str, object]) -> str | None:
    for _, key, question in ONBOARDING_QUESTIONS:
        if key not in settings:
            return question
    return None


def _onboarding_summary(settings: Mapping[str, object]) -> str:
    def listed(key: str) -> str:
        value = settings.get(key)
        return ", ".join(str(v) for v in value) if isinstance(value, list) and value else "—"

    hours = settings.get("working_hours")
    when = (
        f"{hours.get('start')}-{hours.get('end')} {hours.get('timezone')}"
        if isinstance(hours, dict)
        else "—"
    )
    return (
        f"VIPs: {listed('vips')} · hours: {when} · topics: {listed('topics')} · "
        f"can wait: {listed('low_priority')} · time zone: {scheduling.schedule_of(settings).timezone}"
        f" · reminders: {_reminders(settings)} (`onboard followup 4h`)"
    )


def _reminders(settings: Mapping[str, object]) -> str:
    after = scheduling.schedule_of(settings).followup_after
    return "off" if after is None else f"after {scheduling.format_duration(after)}"


def _parse_hours(text: str, default_zone: str) -> tuple[str, str, str]:
    """``09:00-18:00 [zone]`` → ``("09:00", "18:00", zone)``."""
    words = text.split()
    if not words or "-" not in words[0]:
        raise scheduling.ScheduleError(
            "Write your hours like 09:00-18:00, optionally with a time zone."
        )
    start, _, end = words[0].partition("-")
    zone = words[1] if len(words) > 1 else default_zone
    if not scheduling.is_timezone(zone):
        raise scheduling.ScheduleError(f"'{zone}' is not a time zone I know; try Europe/Paris.")
    return (
        scheduling.parse_time(start).strftime("%H:%M"),
        scheduling.parse_time(end).strftime("%H:%M"),
        zone,
    )


class Onboarding:
    """``onboard``: asks the next unanswered question, or keeps one answer."""

    def __init__(self, ctx: AppContext, models: ModelCache, schedules: Schedules) -> None:
        self._ctx = ctx
        self._models = models
        self._schedules = schedules

    async def command(self, account: Account, args: tuple[str, ...]) -> Reply:
        """``onboard``: the short question flow that seeds the prioritiser's prior.

        Without arguments it asks the next unanswered question; ``onboard <topic> <answer>``
        answers one (``vips``, ``hours``, ``topics``, ``wait``, ``tz``).
        """
        settings = dict(account.settings)
        if not args:
            question = _next_question(settings)
            if question is not None:
                return Reply(text=f"{question}\n{_onboarding_summary(settings)}")
            return Reply(text="Onboarding done.\n" + _onboarding_summary(settings))
        topic, answer = args[0].lower(), " ".join(args[1:]).strip()
        if topic not in ONBOARDING_KEYS and topic not in ("tz", "followup"):
            return Reply(text="Usage: onboard [vips|hours|topics|wait|tz|followup] <answer>")
        try:
            settings = await self._answered(account, settings, topic, answer)
        except scheduling.ScheduleError as error:
            return Reply(text=str(error))
        await self._ctx.stores.accounts.update(replace(account, settings=settings))
        self._models.forget(account.id)  # the prior is rebuilt with the answers on next use
        question = _next_question(settings)
        if question is not None:
            return Reply(text=f"Thanks, noted.\nNext: {question}")
        return Reply(text="Thanks, noted. " + _onboarding_summary(settings))

    async def _answered(
        self, account: Account, settings: dict[str, object], topic: str, answer: str
    ) -> dict[str, object]:
        """The settings with one answer in them (reminders re-armed for ``followup``)."""
        schedule = scheduling.schedule_of(settings)
        if topic == "followup":
            after = (
                None
                if answer.lower() in ("off", "none", "no")
                else scheduling.parse_duration(answer)
            )
            settings = scheduling.with_schedule(settings, replace(schedule, followup_after=after))
            await self._schedules.arm_followups(account, scheduling.schedule_of(settings))
        elif topic == "tz":
            if not scheduling.is_timezone(answer):
                raise scheduling.ScheduleError(
                    f"'{answer}' is not a time zone I know; try Europe/Paris."
                )
            settings = scheduling.with_schedule(settings, replace(schedule, timezone=answer))
            hours = settings.get("working_hours")
            if isinstance(hours, dict):
                settings["working_hours"] = {**hours, "timezone": answer}
        elif topic == "hours":
            start, end, zone = _parse_hours(answer, schedule.timezone)
            settings["working_hours"] = {"start": start, "end": end, "timezone": zone}
            settings = scheduling.with_schedule(settings, replace(schedule, timezone=zone))
        else:
            words = [w.strip() for w in answer.replace(";", ",").split(",") if w.strip()]
            if answer.lower() in ("none", "-", "no"):
                words = []
            settings[ONBOARDING_KEYS[topic]] = words
        return settings
